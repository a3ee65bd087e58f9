namespace Theory.Cli

open System
open System.Text.Json.Nodes
open Theory.Core.Io

/// Writing results: one JSON object on stdout (with the library version), or plain key = value lines.
module Output =
    /// Prints the object as JSON (with --json) or as aligned `key = value` lines.
    let emit (asJson: bool) (fields: (string * JsonNode) list) =
        let o = Json.Object fields
        if asJson then Console.Out.WriteLine(Json.Serialize o)
        else
            for kv in o do
                let v = if isNull kv.Value then "null" else kv.Value.ToJsonString()
                Console.Out.WriteLine(sprintf "%-22s %s" kv.Key v)

    /// A progress line on stderr through the run's reporter (never mixed into the result on stdout; silenced by --quiet).
    let progress (msg: string) = Progress.message msg

    /// A warning on stderr through the run's reporter (shown even with --quiet).
    let warning (msg: string) = Progress.warning msg

    let num name (x: float) = name, Json.Number(name, x)
    let int name (x: int) = name, Json.Int(int64 x)
    let str name (s: string) = name, Json.String s
    let nums name (xs: float seq) = name, Json.Numbers(name, xs)
    /// A number or null where unmeasured (see Json.Measured).
    let measured name (x: float) = name, Json.Measured x
    /// Numbers with null where unmeasured.
    let measureds name (xs: float seq) = name, Json.MeasuredArray xs
    let bool name (b: bool) = name, Json.Bool b
    let obj name (fields: (string * JsonNode) list) = name, (Json.Nested fields :> JsonNode)
    let objs name (items: (string * JsonNode) list seq) =
        let arr = JsonArray()
        for it in items do arr.Add(Json.Nested it :> JsonNode)
        name, (arr :> JsonNode)
    let strs name (xs: string seq) =
        let arr = JsonArray()
        for x in xs do arr.Add(Json.String x)
        name, (arr :> JsonNode)

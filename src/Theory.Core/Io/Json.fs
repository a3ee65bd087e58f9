namespace Theory.Core.Io

open System
open System.Text.Json
open System.Text.Json.Nodes
open Theory.Core

/// Builds the one-object JSON outputs of the CLI and the paper-checks. Every object carries the library version.
/// Non-finite numbers are refused (an output never contains NaN): building one raises InvalidOperationException
/// naming the field, so a bug surfaces as an error instead of a silent NaN.
[<AbstractClass; Sealed>]
type Json private () =
    static let options = JsonSerializerOptions(WriteIndented = true)

    /// A JSON number; raises on NaN/±∞ naming the field.
    static member Number(field: string, x: float) : JsonNode =
        if not (Double.IsFinite x) then
            raise (InvalidOperationException(sprintf "non-finite value %g in output field '%s'" x field))
        JsonValue.Create(x)

    /// A JSON array of numbers; raises on a non-finite entry.
    static member Numbers(field: string, xs: float seq) : JsonNode =
        let arr = JsonArray()
        xs |> Seq.iteri (fun i x -> arr.Add(Json.Number(sprintf "%s[%d]" field i, x)))
        arr

    /// A measured number, or null where the quantity is unmeasured (documented per field: e.g. a relaxation time with
    /// nothing moving, a growth rate that was not computed). The explicit "unmeasured" representation of the outputs;
    /// NaN never appears.
    static member Measured(x: float) : JsonNode =
        if Double.IsFinite x then JsonValue.Create(x) else null

    /// An array of measured numbers (null entries where unmeasured).
    static member MeasuredArray(xs: float seq) : JsonNode =
        let arr = JsonArray()
        for x in xs do arr.Add(Json.Measured x)
        arr

    /// A JSON string.
    static member String(s: string) : JsonNode = JsonValue.Create(s)
    /// A JSON integer.
    static member Int(n: int64) : JsonNode = JsonValue.Create(n)
    /// A JSON boolean.
    static member Bool(b: bool) : JsonNode = JsonValue.Create(b)

    /// A nested object from (key, node) pairs, in order, without the version stamp (the enclosing object carries it).
    static member Nested(fields: (string * JsonNode) seq) : JsonObject =
        let o = JsonObject()
        for (k, v) in fields do
            o.[k] <- v
        o

    /// An object from (key, node) pairs, in order, with "version" and "denseBackend" (the DenseKernels backend that
    /// ran the large products: "managed" or "openblas", which decides the last bits) appended when absent.
    static member Object(fields: (string * JsonNode) seq) : JsonObject =
        let o = Json.Nested fields
        if not (o.ContainsKey "version") then o.["version"] <- JsonValue.Create(LibraryInfo.Version)
        if not (o.ContainsKey "denseBackend") then o.["denseBackend"] <- JsonValue.Create(Numerics.DenseKernels.Backend.ToString().ToLowerInvariant())
        o

    /// Indented JSON text.
    static member Serialize(node: JsonNode) = node.ToJsonString(options)

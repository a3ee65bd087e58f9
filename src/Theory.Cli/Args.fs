namespace Theory.Cli

open System
open System.Globalization
open Theory.Core

/// A command-line usage error (unknown option, missing value, unparsable number). Exit code 2.
exception UsageError of string

/// Parsed `--key value` options and `--flag` switches of one command. Every option a command reads is marked used;
/// `Finish` rejects the rest, so a misspelt option is an error, never silently ignored.
type Args(tokens: string list, flagNames: Set<string>) =
    let values = Collections.Generic.Dictionary<string, string>()
    let flags = Collections.Generic.HashSet<string>()
    let used = Collections.Generic.HashSet<string>()
    do
        let rec go ts =
            match ts with
            | [] -> ()
            | (t: string) :: rest when t.StartsWith "--" ->
                let key = t.Substring 2
                if key = "" then raise (UsageError "empty option '--'")
                if flagNames.Contains key then
                    flags.Add key |> ignore
                    go rest
                else
                    match rest with
                    | v :: rest' when not (v.StartsWith "--") || (v.Length > 2 && (Char.IsDigit v.[2] || v.[2] = '.')) ->
                        if values.ContainsKey key then raise (UsageError(sprintf "option --%s given twice" key))
                        values.[key] <- v
                        go rest'
                    | _ -> raise (UsageError(sprintf "option --%s needs a value" key))
            | t :: _ -> raise (UsageError(sprintf "unexpected argument '%s'" t))
        go tokens

    /// True when the switch was given.
    member _.Flag(name: string) =
        used.Add name |> ignore
        flags.Contains name

    /// The raw string of an option, if given.
    member _.TryString(name: string) =
        used.Add name |> ignore
        match values.TryGetValue name with
        | true, v -> Some v
        | _ -> None

    member this.String(name: string, fallback: string) = defaultArg (this.TryString name) fallback

    member this.RequireString(name: string) =
        match this.TryString name with
        | Some v -> v
        | None -> raise (UsageError(sprintf "missing required option --%s" name))

    member this.TryFloat(name: string) =
        this.TryString name
        |> Option.map (fun v ->
            match Double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture) with
            | true, x -> x
            | _ -> raise (UsageError(sprintf "option --%s: '%s' is not a number" name v)))

    member this.Float(name: string, fallback: float) = defaultArg (this.TryFloat name) fallback

    member this.RequireFloat(name: string) =
        match this.TryFloat name with
        | Some v -> v
        | None -> raise (UsageError(sprintf "missing required option --%s" name))

    member this.TryInt(name: string) =
        this.TryString name
        |> Option.map (fun v ->
            match Int64.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture) with
            | true, x when x >= int64 Int32.MinValue && x <= int64 Int32.MaxValue -> int x
            | _ -> raise (UsageError(sprintf "option --%s: '%s' is not an integer" name v)))

    member this.Int(name: string, fallback: int) = defaultArg (this.TryInt name) fallback

    member this.RequireInt(name: string) =
        match this.TryInt name with
        | Some v -> v
        | None -> raise (UsageError(sprintf "missing required option --%s" name))

    /// A comma-separated list of numbers ("1,0,0,1").
    member this.TryFloatList(name: string) =
        this.TryString name
        |> Option.map (fun v ->
            v.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
            |> Array.map (fun s ->
                match Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture) with
                | true, x -> x
                | _ -> raise (UsageError(sprintf "option --%s: '%s' is not a number" name s))))

    /// A range "start:stop:step" (inclusive, tolerant to rounding) or a single number.
    member this.TryRange(name: string) =
        this.TryString name
        |> Option.map (fun v ->
            let parse (s: string) =
                match Double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture) with
                | true, x -> x
                | _ -> raise (UsageError(sprintf "option --%s: '%s' is not a number or start:stop:step" name v))
            match v.Split ':' with
            | [| x |] -> [| parse x |]
            | [| a; b; s |] ->
                let a, b, s = parse a, parse b, parse s
                if not (s > 0.0) || b < a then
                    raise (UsageError(sprintf "option --%s: range %s needs start <= stop and step > 0" name v))
                let n = int (Math.Floor((b - a) / s + 1e-9))
                Array.init (n + 1) (fun i -> a + float i * s)
            | _ -> raise (UsageError(sprintf "option --%s: '%s' is not a number or start:stop:step" name v)))

    /// Rejects options the command did not read.
    member _.Finish() =
        let unknown =
            Seq.append values.Keys flags |> Seq.filter (fun k -> not (used.Contains k)) |> Seq.toList
        match unknown with
        | [] -> ()
        | ks -> raise (UsageError(sprintf "unknown option(s): %s" (ks |> List.map (fun k -> "--" + k) |> String.concat ", ")))

namespace Theory.Cli

open System
open System.CommandLine
open System.CommandLine.Parsing
open System.Globalization

/// A command-line usage error found after parsing (an option given outside its context, a missing option that is
/// required only in some cases, an unknown name in a list). Exit code 2.
exception UsageError of string

/// System.CommandLine's typed option (named apart from F#'s `Option`, so command files need not open System.CommandLine).
type Opt<'T> = System.CommandLine.Option<'T>

/// Declaring commands and their options on System.CommandLine: one small helper per option type. Parsing, `--help`,
/// unknown-option errors and shell completion are System.CommandLine's; the helpers only convert a token to the option's
/// type (numbers in the invariant culture, lists, ranges) and turn a bad token into a parse error that names the option.
/// Descriptions give the allowed range; System.CommandLine appends `[default: …]` where a default is declared.
module Cli =
    let private invariant = CultureInfo.InvariantCulture

    let private tryFloat (s: string) =
        match Double.TryParse(s, NumberStyles.Float, invariant) with
        | true, x -> Some x
        | _ -> None

    /// An option of one token converted by `convert` (Error reason: a parse error "option --x: 'tok' is <reason>").
    let private typed (cmd: Command) (name: string) (description: string) (convert: string -> Result<'T, string>) =
        let o = Option<'T>(name, Description = description, Arity = ArgumentArity.ExactlyOne)
        o.CustomParser <-
            Func<ArgumentResult, 'T>(fun r ->
                if r.Tokens.Count = 0 then Unchecked.defaultof<'T>
                else
                    let token = r.Tokens.[r.Tokens.Count - 1].Value
                    match convert token with
                    | Ok v -> v
                    | Error reason ->
                        r.AddError(sprintf "option %s: '%s' is %s" name token reason)
                        Unchecked.defaultof<'T>)
        cmd.Options.Add o
        o

    let private withDefault (value: 'T) (o: Option<'T>) =
        o.DefaultValueFactory <- Func<ArgumentResult, 'T>(fun _ -> value)
        o

    let private required (o: Option<'T>) =
        o.Required <- true
        o

    let private number (s: string) = match tryFloat s with Some x -> Ok x | None -> Error "not a number"

    let private integer (s: string) =
        match Int64.TryParse(s, NumberStyles.Integer, invariant) with
        | true, x when x >= int64 Int32.MinValue && x <= int64 Int32.MaxValue -> Ok(int x)
        | _ -> Error "not an integer"

    /// "1,0,0,1": a comma-separated list of numbers.
    let private numberList (s: string) =
        let parts = s.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        let xs = parts |> Array.choose tryFloat
        if xs.Length = parts.Length then Ok xs else Error "not a comma-separated list of numbers"

    /// "start:stop:step" (inclusive, tolerant to rounding) or a single number.
    let private numberRange (s: string) =
        match s.Split ':' |> Array.map tryFloat with
        | [| Some x |] -> Ok [| x |]
        | [| Some a; Some b; Some step |] ->
            if not (step > 0.0) || b < a then Error "a range that needs start <= stop and step > 0"
            else
                let n = int (Math.Floor((b - a) / step + 1e-9))
                Ok(Array.init (n + 1) (fun i -> a + float i * step))
        | _ -> Error "not a number or start:stop:step"

    // ---- commands -----------------------------------------------------------------------------------------------

    /// A command with its action (the exit code it returns).
    let command (name: string) (description: string) (action: Command -> (ParseResult -> int)) =
        let cmd = Command(name, description)
        let run = action cmd
        cmd.SetAction(Func<ParseResult, int> run)
        cmd

    /// A command that only groups subcommands.
    let group (name: string) (description: string) (subcommands: Command list) =
        let cmd = Command(name, description)
        for s in subcommands do cmd.Subcommands.Add s
        cmd

    // ---- options, one helper per type ---------------------------------------------------------------------------

    /// --name X (a number; `fallback` when absent).
    let float cmd name (fallback: float) description : Option<float> = typed cmd name description number |> withDefault fallback
    /// --name X (a number, required).
    let requiredFloat cmd name description : Option<float> = typed cmd name description number |> required
    /// --name X (a number; None when absent, for defaults that depend on other options).
    let optionalFloat cmd name description : Option<float option> = typed cmd name description (number >> Result.map Some)

    /// --name N (an integer; `fallback` when absent).
    let int cmd name (fallback: int) description : Option<int> = typed cmd name description integer |> withDefault fallback
    /// --name N (an integer, required).
    let requiredInt cmd name description : Option<int> = typed cmd name description integer |> required
    /// --name N (an integer; None when absent).
    let optionalInt cmd name description : Option<int option> = typed cmd name description (integer >> Result.map Some)

    /// --name TEXT (`fallback` when absent).
    let string cmd name (fallback: string) description : Option<string> = typed cmd name description Ok |> withDefault fallback
    /// --name TEXT (required).
    let requiredString cmd name description : Option<string> = typed cmd name description Ok |> required
    /// --name TEXT (None when absent).
    let optionalString cmd name description : Option<string option> = typed cmd name description (Some >> Ok)

    /// --name (a switch).
    let flag (cmd: Command) (name: string) (description: string) : Option<bool> =
        let o = Option<bool>(name, Description = description)
        cmd.Options.Add o
        o

    /// --json: the result as one JSON object on stdout (progress stays on stderr).
    let json (cmd: Command) = flag cmd "--json" "print the result as one JSON object on stdout (nothing else goes to stdout)"

    let private oneOf (cmd: Command) (name: string) (allowed: string list) (description: string) =
        let convert (s: string) =
            match allowed |> List.tryFind (fun a -> String.Equals(a, s, StringComparison.OrdinalIgnoreCase)) with
            | Some a -> Ok a
            | None -> Error(sprintf "not allowed; allowed: %s" (String.concat ", " allowed))
        let o = typed cmd name description convert
        o.CompletionSources.Add(Func<Completions.CompletionContext, Collections.Generic.IEnumerable<string>>(fun _ -> Seq.ofList allowed))
        o

    /// Shell completion for an option's value: the words `values ()` gives.
    let suggest (o: Option) (values: unit -> string seq) =
        o.CompletionSources.Add(Func<Completions.CompletionContext, Collections.Generic.IEnumerable<string>>(fun _ -> values ()))

    /// --name WORD, one of `allowed` (case-insensitive; the value is the allowed spelling; `fallback` when absent).
    /// Help shows the allowed words as `--name <a|b|c>`; shell completion suggests them.
    let choice cmd name (fallback: string) allowed description : Option<string> = oneOf cmd name allowed description |> withDefault fallback
    /// --name WORD, one of `allowed` (required).
    let requiredChoice cmd name allowed description : Option<string> = oneOf cmd name allowed description |> required

    /// --name X1,X2,… (numbers; None when absent).
    let floatList cmd name description : Opt<float[] option> = typed cmd name description (numberList >> Result.map Some)
    /// --name X1,X2,… (numbers, required).
    let requiredFloatList cmd name description : Opt<float[]> = typed cmd name description numberList |> required

    /// --name A:B:STEP or a single number (None when absent).
    let range cmd name description : Opt<float[] option> =
        let o = typed cmd name description (numberRange >> Result.map Some)
        o.HelpName <- "A:B:STEP"
        o

    /// --name A:B:STEP or a single number (required).
    let requiredRange cmd name description : Opt<float[]> =
        let o = typed cmd name description numberRange |> required
        o.HelpName <- "A:B:STEP"
        o

    /// --name A:B:STEP, a single number or X1,X2,… (required).
    let requiredRangeOrList cmd name description : Opt<float[]> =
        let o = typed cmd name description (fun s -> if s.Contains ',' then numberList s else numberRange s) |> required
        o.HelpName <- "A:B:STEP|X1,X2,.."
        o

    // ---- context-dependent checks, after parsing --------------------------------------------------------------------

    /// True when the option was given on the command line (not just defaulted).
    let given (r: ParseResult) (o: Option) =
        match r.GetResult o with
        | null -> false
        | res -> not res.Implicit

    /// Rejects options given where they do not apply (usage error naming them and the context).
    let onlyWith (r: ParseResult) (context: string) (options: Option list) =
        match options |> List.filter (given r) with
        | [] -> ()
        | [ o ] -> raise (UsageError(sprintf "option %s applies only %s" o.Name context))
        | os -> raise (UsageError(sprintf "options %s apply only %s" (os |> List.map (fun o -> o.Name) |> String.concat ", ") context))

    /// The value of an option that is required in this context only.
    let need (r: ParseResult) (context: string) (o: Option<'T option>) : 'T =
        match r.GetValue o with
        | Some v -> v
        | None -> raise (UsageError(sprintf "missing required option %s %s" o.Name context))

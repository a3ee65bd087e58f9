module Theory.Cli.Program

open System
open System.CommandLine
open System.CommandLine.Help
open System.CommandLine.Invocation
open Theory.Core
open Theory.Cli.Commands

let private description =
    """theory — mean-field theory of recurrent neural circuits, computable and checkable.

Every command takes --json for one JSON object on stdout; 'theory COMMAND --help' lists a command's options with their
defaults and allowed ranges. Progress goes to stderr: bars on a terminal, timestamped lines otherwise (THEORY_PROGRESS=
live|plain|none overrides the choice); --quiet silences it. Exit codes: 0 success, 1 internal error, 2 bad input / no
solution, 3 solver did not converge."""

/// --quiet: no progress on stderr (warnings and errors still go there). Global: every command takes it.
let quietOption =
    System.CommandLine.Option<bool>("--quiet", "-q", Description = "no progress on stderr (warnings and errors only)", Recursive = true)

/// "theory dmft saddle": the command path of a parse result, for messages.
let private commandPath (r: ParseResult) =
    let rec names (c: Parsing.SymbolResult) =
        match c with
        | :? Parsing.CommandResult as cr when not (isNull cr.Parent) -> names cr.Parent @ [ cr.Command.Name ]
        | _ -> []
    String.concat " " ("theory" :: names r.CommandResult)

/// One line naming what is wrong with the command line (unknown or missing option, bad value, missing subcommand).
let private parseErrorMessage (r: ParseResult) =
    let cmd = r.CommandResult.Command
    let path = commandPath r
    if isNull cmd.Action && cmd.Subcommands.Count > 0 then
        let subs = cmd.Subcommands |> Seq.map (fun c -> c.Name) |> String.concat ", "
        match Seq.tryHead r.UnmatchedTokens with
        | Some t when not (t.StartsWith "-") -> sprintf "%s: unknown subcommand '%s'; expected a subcommand: %s" path t subs
        | _ -> sprintf "%s: expected a subcommand: %s" path subs
    else
        let errors = r.Errors |> Seq.map (fun e -> e.Message.TrimEnd('.')) |> Seq.distinct |> String.concat "; "
        sprintf "%s (see '%s --help')" errors path

/// The exit code of a failure and its one-line message: the single place where failures become exit codes.
/// 2: usage errors, parameters out of their domain, no solution; 3: a solver did not converge; 1: anything else.
let exitCodeOf (e: exn) =
    match e with
    | UsageError msg -> 2, msg
    | :? ParameterOutOfDomainException as e -> 2, e.Message
    | :? NoSolutionException as e -> 2, e.Message
    | :? NotConvergedException as e -> 3, e.Message
    | :? ArgumentException as e -> 2, e.Message
    | e -> 1, sprintf "internal error: %O" e

/// The command tree: one line per command family, defined in Commands/*.fs.
let rec rootCommand () =
    let root = RootCommand(description)
    root.Options.Add quietOption
    for c in
        [ PaperChecksCommand.command ()
          Scs.command ()
          Cli.group "simulate" "simulations: a random rate network, the trained-network phase diagram"
              [ Scs.simulateRateCommand (); Scs.tailScanCommand (); PhaseDiagram.command () ]
          ClosedLoopCommand.command ()
          Regularities.command ()
          Regularities.meanFieldCommand ()
          Cli.group "dmft" "the learned-network DMFT (Clark et al. 2026)"
              [ Dmft.command (); DmftNonlinear.phaseBoundaryCommand (); DmftNonlinear.saddleCommand (); DmftNonlinear.finiteSizeCommand ()
                DmftStructure.distributionsCommand (); DmftStructure.driftCommand ()
                DmftSpectrum.outliersCommand (); DmftSpectrum.ckaCommand ()
                DmftMultiCondition.command () ]
          Train.command ()
          Sweep.command { Parse = parse; Run = runCaptured } ] do
        root.Subcommands.Add c
    // `theory` alone prints the help, as `theory --help` does
    root.SetAction(Func<ParseResult, int>(fun r -> HelpAction().Invoke r))
    root

/// Parses a command line on a fresh command tree.
and parse (argv: string[]) = (rootCommand ()).Parse argv

/// Runs a command line in-process with stdout captured (a sweep unit): its exit code, stdout and error line.
and runCaptured (argv: string[]) : Sweep.UnitOutcome =
    let parsed = parse argv
    match parsed.Action with
    | :? ParseErrorAction -> { Code = 2; Stdout = ""; Error = parseErrorMessage parsed }
    | _ ->
        use out = new IO.StringWriter()
        let old = Console.Out
        Console.SetOut out
        try
            try
                let code = parsed.Invoke(InvocationConfiguration(EnableDefaultExceptionHandler = false, Output = out, Error = Console.Error))
                { Code = code; Stdout = out.ToString(); Error = "" }
            with e ->
                let code, msg = exitCodeOf e
                { Code = code; Stdout = out.ToString(); Error = msg }
        finally
            Console.SetOut old

[<EntryPoint>]
let main argv =
    let argv = if argv = [| "help" |] then [| "--help" |] else argv
    let parsed = (rootCommand ()).Parse argv
    match parsed.Action with
    | :? ParseErrorAction ->
        eprintfn "error: %s" (parseErrorMessage parsed)
        2
    | _ ->
        // the progress reporter of this run, chosen once: bars on a terminal, plain lines otherwise, nothing with --quiet
        let reporter = Progress.create (Progress.detectMode (parsed.GetValue quietOption)) Console.Error |> Progress.install
        use _ = Console.CancelKeyPress.Subscribe(fun _ -> reporter.Close())
        try
            try
                // a bad THEORY_BLAS is bad input: exit 2 before any work, not a failure when the first output is written
                Theory.Core.Numerics.DenseKernels.Backend |> ignore
                parsed.Invoke(InvocationConfiguration(EnableDefaultExceptionHandler = false, Output = Console.Out, Error = Console.Error))
            finally
                reporter.Close()
        with e ->
            let code, msg = exitCodeOf e
            eprintfn "error: %s" msg
            code

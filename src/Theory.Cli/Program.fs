module Theory.Cli.Program

open System
open Theory.Core
open Theory.Cli.Commands

let usage =
    """theory — mean-field theory of recurrent neural circuits, computable and checkable.

Usage: theory <command> [options]   (every command takes --json for one JSON object on stdout)

  paper-checks --out DIR [--only NAME] [--quick] [--seed K] [--list]
                                   reproduce the papers' claims: DIR/report.md, results.json, PNG figures
  scs --g G [--json] [--tau-max T --points P --csv FILE]
                                   SCS (1988) stationary DMFT: Δ0, λ_max, correlation time, Δ(τ), C_φ(τ)
  simulate rate --n N --g G --seed K [--t T] [--dt DT] [--json]
                                   simulate a random rate network: variance, Lyapunov exponent
  dmft phase-boundary --g G|A:B:STEP [--samples S] [--seed K] [--dt DT] [--csv FILE] [--json]
                                   learned-network DMFT: critical gamma*(g) (chaos -> limit cycle), with its error

Exit codes: 0 success, 1 internal error, 2 bad input / no solution, 3 solver did not converge."""

/// The flag switches every command may use (all other --options take a value).
let flagNames = Set.ofList [ "json"; "quick"; "list"; "resume"; "help" ]

let dispatch (argv: string list) : int =
    let args rest = Args(rest, flagNames)
    match argv with
    | [] | [ "--help" ] | [ "help" ] | [ "-h" ] ->
        Console.Out.WriteLine usage
        0
    | "paper-checks" :: rest -> PaperChecksCommand.run (args rest)
    | "dmft" :: "phase-boundary" :: rest -> DmftNonlinear.run (args rest)
    // command dispatch: one line per command family, defined in Commands/*.fs
    | cmd :: _ -> raise (UsageError(sprintf "unknown command '%s' (run 'theory --help')" cmd))

[<EntryPoint>]
let main argv =
    try
        dispatch (List.ofArray argv)
    with
    | UsageError msg ->
        eprintfn "error: %s" msg
        2
    | :? ParameterOutOfDomainException as e ->
        eprintfn "error: %s" e.Message
        2
    | :? NoSolutionException as e ->
        eprintfn "error: %s" e.Message
        2
    | :? NotConvergedException as e ->
        eprintfn "error: %s" e.Message
        3
    | :? ArgumentException as e ->
        eprintfn "error: %s" e.Message
        2

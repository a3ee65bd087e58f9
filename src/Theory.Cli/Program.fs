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
  dmft linear-spectrum --g G --gamma Γ --omega W --ratio R [--fixed-u] [--json]
  dmft linear-spectrum --g G --gamma Γ --target peaked --omega0 W0 --width S [--csv FILE]
                                   trained linear network power spectrum C(ω)/Cᴵ(ω) (Clark et al. 2026)
  train --task peaked-spectrum|sine-period --n N --g G --gamma Γ [--protocol langevin|gd|adam] --seed K --out DIR
        [--steps S] [--lr η0] [--langevin-step h] [--fixed-u] [--extend STEPS] [--json]
                                   train a μP rate network; DIR gets weights.bin, summary.json and CSVs

Exit codes: 0 success, 1 internal error, 2 bad input / no solution, 3 solver did not converge."""

/// The flag switches every command may use (all other --options take a value).
let flagNames = Set.ofList [ "json"; "quick"; "list"; "resume"; "help"; "fixed-u" ]

let dispatch (argv: string list) : int =
    let args rest = Args(rest, flagNames)
    match argv with
    | [] | [ "--help" ] | [ "help" ] | [ "-h" ] ->
        Console.Out.WriteLine usage
        0
    | "paper-checks" :: rest -> PaperChecksCommand.run (args rest)
    // command dispatch: one line per command family, defined in Commands/*.fs
    | "dmft" :: "linear-spectrum" :: rest -> Dmft.linearSpectrum (args rest)
    | "train" :: rest -> Train.run (args rest)
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

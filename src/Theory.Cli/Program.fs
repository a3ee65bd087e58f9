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
  simulate rate --n N --g G --seed K [--t T] [--dt DT] [--transient T0] [--stepper rk4|euler]
                [--phi tanh|identity] [--noise SIGMA] [--json]
                                   simulate a random rate network: variance, Lyapunov exponent
  closed-loop feedback --k1 K1 --k2 K2 [--dt 1] [--json]
                                   static gain u = k'x on the double integrator: eigenvalues, radius, region
  closed-loop cubic --szm A --szu B --svm C --svu D [--json]
                                   rank-one closed loop (Ger & Barak 2025): cubic, roots, Eq. 11/12
  closed-loop lqr [--q 1,0,0,1] --r R [--dt 1] [--horizon T] [--json]
                                   DARE gain K (u = -Kx), Riccati matrix, residual
  closed-loop train --mode closed|open [--model rank1|nonlinear] [--epochs 1000] [--seed 1] [--out DIR]
                    [--n 100] [--lr 0.01] [--optimizer sgd|adam] [--batch 100] [--clip 1] [--beta B]
                    [--steps 50] [--open-variant noise|plant] [--teacher-epochs E] [--diag-every 1] [--json]
                                   train the RNN controller by BPTT: summary JSON + per-epoch CSV
  regularities matrix --w W [--n 50 --d 1 --b 0 --h 0 --r 0 --m 0 --block-size 10 --f 0.2 --seed 1 --csv FILE]
                                   Metzner et al. 2025 weight matrix: D, B, H, R, spectral radius, predicted spectrum
  regularities measures --w W [matrix options] [--transient 1000 --steps 1000 --lag2 2]
                                   free-run F, C(1), N, Lyapunov exponent, regime; sequence-task accuracy A
  regularities phase-diagram --setting standard|hopfield|dale|modular|custom --out DIR [--n 50 --b-range a:b:s
                             --w-range a:b:s --ensemble 10 --seed 1 --quick] (custom: --h/--r/--m --block-size --f)
                                   CSV + PNG heatmaps of N, F, C(1), A with mean-field boundaries
  regularities scan --param h|r|m --out FILE.csv [--w 0.3 --balances 0,0.2 --values a:b:s --ensemble 10]
  regularities benchmark --task mc|narma10 [--w 0.1 --n 50 --input-sd 0.3 --seed 1]
                                   memory capacity / NARMA10 NRMSE
  meanfield regime --b B --w W [--n 50 --d 1 --bias-sd 0.01]
                                   mean-field regime, M, Q, Lyapunov exponent of the discrete tanh network
  meanfield boundaries [--n 50 --d 1 --b-range a:b:s --w-range a:b:s --tol 1e-4 --csv FILE]
  meanfield spectrum --w W [--n 50 --d 1 --b 0 --r 0]     elliptic law + outlier
  dmft linear-spectrum --g G --gamma Γ --omega W --ratio R [--fixed-u] [--json]
  dmft linear-spectrum --g G --gamma Γ --target peaked --omega0 W0 --width S [--csv FILE]
                                   trained linear network power spectrum C(ω)/Cᴵ(ω) (Clark et al. 2026)
  train --task peaked-spectrum|sine-period --n N --g G --gamma Γ [--protocol langevin|gd|adam] --seed K --out DIR
        [--steps S] [--lr η0] [--langevin-step h] [--fixed-u] [--extend STEPS] [--json]
                                   train a μP rate network; DIR gets weights.bin, summary.json and CSVs
  dmft phase-boundary --g G|A:B:STEP [--criterion dmft|two-replica|persistence|posterior|realised] [--seeds 3]
                      [--samples 4000] [--neurons 1000] [--sweeps 150] [--realisations 8] [--bisections 2] [--seed K]
                      [--dt 0.2] [--noise 0.01] [--csv FILE] [--json]
                                   critical gamma*(g) (chaos -> limit cycle) with its error and ensemble label:
                                   dmft (N = inf, default), posterior (N), realised (N)
  dmft saddle --g G --gamma Γ [--samples 4000] [--seed K] [--with-extension] [--json]
                                   one N = inf saddle point: summaries, convergence diagnostics (exit 3 if not converged)
  dmft finite-size --g G[,G2..] [--neurons 250,500,1000,2000] [--compare-dmft] [--json]
                                   posterior gamma*(g; N), fits in 1/N and 1/sqrt(N), N -> inf vs the DMFT
  simulate phase-diagram --g A:B:STEP --gamma A:B:STEP --out DIR [--n 200] [--seeds 8] [--seed 1] [--resume]
                         [--protocol adam|gd|langevin] [--steps 300] [--lr 0.05] [--dt 0.1] [--bootstrap 1000] [--json]
                                   trained tanh networks on one sine period: fraction ordered after T, simulated
                                   gamma*(g) with bootstrap errors; DIR gets CSVs and phase-diagram.png (resumable)

Exit codes: 0 success, 1 internal error, 2 bad input / no solution, 3 solver did not converge."""

/// The flag switches every command may use (all other --options take a value).
let flagNames = Set.ofList [ "json"; "quick"; "list"; "resume"; "help"; "fixed-u"; "with-extension"; "compare-dmft" ]

let dispatch (argv: string list) : int =
    let args rest = Args(rest, flagNames)
    match argv with
    | [] | [ "--help" ] | [ "help" ] | [ "-h" ] ->
        Console.Out.WriteLine usage
        0
    // command dispatch: one line per command family, defined in Commands/*.fs
    | "paper-checks" :: rest -> PaperChecksCommand.run (args rest)
    | "scs" :: rest -> Scs.run (args rest)
    | "simulate" :: "rate" :: rest -> Scs.simulateRate (args rest)
    | "simulate" :: "phase-diagram" :: rest -> PhaseDiagram.run (args rest)
    | "closed-loop" :: rest -> ClosedLoopCommand.run args rest
    | "dmft" :: "phase-boundary" :: rest -> DmftNonlinear.run (args rest)
    | "dmft" :: "saddle" :: rest -> DmftNonlinear.saddle (args rest)
    | "dmft" :: "finite-size" :: rest -> DmftNonlinear.finiteSize (args rest)
    | "regularities" :: rest -> Regularities.run rest args
    | "meanfield" :: rest -> Regularities.runMeanField rest args
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

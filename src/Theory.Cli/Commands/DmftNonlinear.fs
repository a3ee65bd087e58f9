/// theory dmft phase-boundary: the DMFT phase boundary γ⋆(g) of the learned-network theory (Clark et al. 2026,
/// Fig. 3; research note dmft-learned.md §5, §6.4–6.5).
module Theory.Cli.Commands.DmftNonlinear

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

let private usageText =
    "theory dmft phase-boundary --g G|A:B:STEP [--samples S] [--seed K] [--dt DT] [--period T] [--iterations I] " +
    "[--gamma-step S] [--gamma-max X] [--bisections B] [--criterion posterior|realised|two-replica] [--neurons N] [--realisations R] [--noise SIGMA] [--sweeps W] " +
    "[--tolerance L] [--replicates R] [--csv FILE] [--json]"

/// A JSON array with null for non-finite entries (documented per field where used).
let private numsOrNull name (xs: float seq) =
    let arr = System.Text.Json.Nodes.JsonArray()
    for x in xs do arr.Add(if Double.IsFinite x then System.Text.Json.Nodes.JsonValue.Create x :> System.Text.Json.Nodes.JsonNode else null)
    name, (arr :> System.Text.Json.Nodes.JsonNode)

/// theory dmft phase-boundary --g 1.5 [--samples S] [--seed K] --json; --g 1:3:0.25 --csv FILE for the curve.
let run (args: Args) =
    let gs =
        match args.TryRange "g" with
        | Some v -> v
        | None -> raise (UsageError("missing required option --g; usage: " + usageText))
    let samples = args.Int("samples", 4000)
    let seed = args.Int("seed", 1)
    let dt = args.Float("dt", 0.2)
    let period = args.Float("period", SinusoidTask.Default.Period)
    let iterations = args.Int("iterations", TiltedSolverOptions.Default.MaxIterations)
    let gammaStep = args.Float("gamma-step", PhaseBoundaryOptions.Default.GammaStep)
    let gammaMax = args.Float("gamma-max", PhaseBoundaryOptions.Default.GammaMax)
    let bisections = args.Int("bisections", PhaseBoundaryOptions.Default.Bisections)
    let tol = args.Float("tolerance", PhaseBoundaryOptions.Default.LyapunovTolerance)
    let replicates = args.Int("replicates", PhaseBoundaryOptions.Default.Replicates)
    let criterion =
        match args.String("criterion", "posterior") with
        | "posterior" -> Posterior
        | "realised" | "realized" -> RealisedNetworks
        | "two-replica" -> TwoReplica
        | other -> raise (UsageError(sprintf "--criterion must be 'posterior', 'realised' or 'two-replica' (got '%s'); usage: %s" other usageText))
    let neurons = args.Int("neurons", (if criterion = Posterior then FinitePosteriorOptions.Default.Neurons else RealisationOptions.Default.Neurons))
    let noise = args.Float("noise", FinitePosteriorOptions.Default.ProcessNoise)
    let sweeps = args.Int("sweeps", FinitePosteriorOptions.Default.Sweeps)
    let realisations = args.Int("realisations", PhaseBoundaryOptions.Default.Realisations)
    let csv = args.TryString "csv"
    let asJson = args.Flag "json"
    args.Finish()
    // Domain checks (exit 2): g ≥ 0 (and > 0 for the solver), γ grid ≥ 0, Δt < T with ≥ 10 points per period,
    // samples ≥ the documented minimum.
    for g in gs do Validate.Positive("g", g) |> ignore
    Validate.Positive("gamma-step", gammaStep) |> ignore
    Validate.NonNegative("gamma-max", gammaMax) |> ignore
    TiltedProblems.ValidateGrid(period, dt)
    Validate.AtLeast("samples", samples, TiltedSolverOptions.MinimumChains) |> ignore
    Validate.AtLeast("iterations", iterations, 1) |> ignore
    Validate.AtLeast("bisections", bisections, 0) |> ignore
    Validate.AtLeast("replicates", replicates, 1) |> ignore
    Validate.AtLeast("realisations", realisations, 1) |> ignore
    Validate.Positive("noise", noise) |> ignore
    Validate.AtLeast("sweeps", sweeps, 1) |> ignore
    let options =
        { PhaseBoundaryOptions.Default with
            Task = { SinusoidTask.Default with Dt = dt; Period = period }
            Solver = { TiltedSolverOptions.Default with Chains = samples; Seed = int64 seed; MaxIterations = iterations
                                                        MinIterations = min iterations TiltedSolverOptions.Default.MinIterations }
            Chaos = { ChaosOptions.Default with Seed = int64 seed; Extension = 4.0 * period; Memory = period }
            GammaStep = gammaStep; GammaMax = gammaMax; Bisections = bisections; LyapunovTolerance = tol
            Replicates = replicates; Criterion = criterion; Realisations = realisations
            Realisation = { RealisationOptions.Default with Neurons = neurons; Seed = int64 seed }
            Posterior = { FinitePosteriorOptions.Default with Neurons = neurons; ProcessNoise = noise; Sweeps = sweeps; Seed = int64 seed } }
    let criterionText =
        match criterion with
        | TwoReplica -> "two-replica growth rate lambda <= tolerance (reconstructed, note 5b)"
        | RealisedNetworks -> "realised networks: ordered fraction >= 1/2 (weights conditioned on tilted window paths; reconstructed)"
        | Posterior -> "finite-N posterior networks: ordered fraction >= 1/2 of independent samplers (exact path-space posterior with process noise; reconstructed)"
    let meta =
        [ Output.num "dt" dt; Output.num "period" period; Output.int "seed" seed; Output.str "criterion" criterionText ]
        @ (if criterion = Posterior then [] else [ Output.int "samples" samples ])
        @ (match criterion with
           | TwoReplica -> [ Output.num "lyapunovTolerance" tol; Output.int "replicates" replicates ]
           | RealisedNetworks -> [ Output.int "neurons" neurons; Output.int "realisations" realisations ]
           | Posterior -> [ Output.int "neurons" neurons; Output.int "realisations" realisations; Output.num "noise" noise
                            Output.int "sweeps" sweeps ])
    if gs.Length = 1 && csv.IsNone then
        let g = gs.[0]
        let r = TiltedPhaseBoundary.LocateOrThrow(g, options)
        let pts = r.Points |> List.sortBy (fun p -> p.Gamma)
        Output.emit asJson
            ([ Output.num "g" g; Output.num "gammaStar" r.GammaStar; Output.num "gammaStarError" r.GammaStarError
               Output.int "iterations" r.Iterations; Output.num "bracketLow" (fst r.Bracket); Output.num "bracketHigh" (snd r.Bracket)
               Output.nums "scanGamma" (pts |> List.map (fun p -> p.Gamma))
               Output.nums "scanLyapunov" (pts |> List.map (fun p -> p.Lyapunov))
               Output.nums "scanLyapunovError" (pts |> List.map (fun p -> p.LyapunovError))
               Output.strs "warnings" r.Warnings ]
             @ (if criterion <> TwoReplica then [ Output.nums "scanOrderedFraction" (pts |> List.map (fun p -> p.OrderedFraction)) ] else [])
             @ (if criterion = Posterior then
                    // Annealing-lag diagnostics per point; null where unmeasured (γ = 0, nothing moved significantly)
                    // or, for the relaxation time, unbounded (linear drift: unrelaxed ratio ≈ 1/3).
                    [ numsOrNull "scanUnrelaxedRatio" (pts |> List.map (fun p -> p.Relaxation.UnrelaxedRatio))
                      numsOrNull "scanRelaxationTime" (pts |> List.map (fun p -> p.Relaxation.RelaxationTime))
                      numsOrNull "scanDriftZ" (pts |> List.map (fun p -> p.Relaxation.DriftZ)) ]
                else [])
             @ meta)
        0
    else
        Output.progress (sprintf "dmft phase-boundary: %d values of g, run concurrently" gs.Length)
        let rows =
            Array.map2 (fun g res ->
                match res with
                | Ok (r: PhaseBoundaryResult) ->
                    Output.progress (sprintf "  g = %g: gamma* = %.4g +- %.2g" g r.GammaStar r.GammaStarError)
                    for w in r.Warnings do Output.progress (sprintf "  g = %g: warning: %s" g w)
                    g, Some r, ""
                | Error (f: SolverFailure) ->
                    Output.progress (sprintf "  g = %g: %s" g (f.ToString()))
                    g, None, f.Reason) gs (TiltedPhaseBoundary.Curve(gs, options))
        match csv with
        | Some path ->
            Csv.Write(path, [ "command", "dmft phase-boundary"; "dt", string dt; "period", string period; "samples", string samples
                              "seed", string seed; "lyapunovTolerance", string tol; "neurons", string neurons
                              "realisations", string realisations; "noise", string noise; "sweeps", string sweeps
                              "criterion", criterionText + "; status 0 = no gammaStar (see stderr); warnings = number printed on stderr (e.g. annealing lag)" ],
                      [| "g"; "gammaStar"; "gammaStarError"; "iterations"; "status"; "warnings" |],
                      rows |> Array.map (fun (g, r, _) ->
                          match r with
                          | Some r -> [| g; r.GammaStar; r.GammaStarError; float r.Iterations; 1.0; float r.Warnings.Length |]
                          | None -> [| g; nan; nan; 0.0; 0.0; 0.0 |]))
        | None -> ()
        let ok = rows |> Array.choose (fun (_, r, _) -> r)
        Output.emit asJson
            ([ Output.nums "g" (ok |> Array.map (fun r -> r.G)); Output.nums "gammaStar" (ok |> Array.map (fun r -> r.GammaStar))
               Output.nums "gammaStarError" (ok |> Array.map (fun r -> r.GammaStarError))
               Output.nums "iterations" (ok |> Array.map (fun r -> float r.Iterations))
               Output.nums "failedG" (rows |> Array.choose (fun (g, r, _) -> if r.IsNone then Some g else None)) ] @ meta)
        0

/// theory dmft phase-boundary | saddle | finite-size: the phase boundary γ⋆(g) of the learned-network theory (Clark
/// et al. 2026, Fig. 3; research note dmft-learned.md §3, §5, §6.4–6.5) for every ensemble, the N = ∞ saddle point, and
/// the finite-size scaling of the exact posterior against the N = ∞ theory. Every γ⋆ carries its ensemble.
module Theory.Cli.Commands.DmftNonlinear

open System
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

/// The shared task/solver/criterion options of the dmft commands.
type private Common =
    { Samples: Opt<int>; Seed: Opt<int>; Dt: Opt<float>; Period: Opt<float>; Noise: Opt<float>
      Iterations: Opt<int>; Step: Opt<float>; NewtonWindow: Opt<int>; NewtonTolerance: Opt<float>; MaxRelaxation: Opt<int>; MinIterations: Opt<int>
      /// The γ scan (phase-boundary, finite-size; None for saddle, which solves one γ).
      GammaStep: Opt<float> option; GammaMax: Opt<float> option; Bisections: Opt<int> option
      Tolerance: Opt<float>; Persistence: Opt<float>; Seeds: Opt<int>; Extension: Opt<float option>
      /// None where the command has its own --neurons (finite-size: a list) or has no networks (saddle).
      Neurons: Opt<int option> option
      /// The finite-N samplers and networks (None for saddle).
      Sweeps: Opt<int> option; Realisations: Opt<int> option; NoBiasCheck: Opt<bool> }

/// Which dmft command declares the shared options: each declares only the options it reads, so none is accepted and
/// silently ignored.
type private CommonUse =
    | PhaseBoundaryUse
    | SaddleUse
    | FiniteSizeUse

/// Declares the shared options on a command (descriptions give the defaults and allowed ranges).
let private declareCommon (cmd: System.CommandLine.Command) (usage: CommonUse) =
    let solver, pb, task = TiltedSolverOptions.Default, PhaseBoundaryOptions.Default, SinusoidTask.Default
    let scans = usage <> SaddleUse
    let declareIf (b: bool) (f: unit -> 'T) = if b then Some(f ()) else None
    { Samples = Cli.int cmd "--samples" solver.Chains (sprintf "particles of the N = inf saddle point; allowed: >= %d" TiltedSolverOptions.MinimumChains)
      Seed = Cli.int cmd "--seed" 1 "random seed"
      Dt = Cli.float cmd "--dt" 0.2 "time step of the task; allowed: > 0, < period, period/dt >= 10"
      Period = Cli.float cmd "--period" task.Period "period T of the target sinusoid; allowed: > 0"
      Noise = Cli.float cmd "--noise" task.ProcessNoise "process noise σ; allowed: > 0"
      Iterations = Cli.int cmd "--iterations" solver.MaxIterations (sprintf "most solver iterations; allowed: >= %d" (solver.Window + solver.AverageIterations))
      Step = Cli.float cmd "--step" solver.Step "solver step; allowed: [0.0001, 1]"
      NewtonWindow = Cli.int cmd "--newton-window" solver.NewtonWindow "iterations averaged before each slow-mode Newton jump of the N = inf solver; 0 = off; allowed: 0 or >= 8"
      NewtonTolerance = Cli.float cmd "--newton-tolerance" solver.NewtonTolerance "relative GMRES residual at which a Newton jump's linear solve stops; allowed: [1e-6, 0.9]"
      MaxRelaxation = Cli.int cmd "--max-relaxation" solver.MaxRelaxation (sprintf "iterations at the target γ after which an N = inf solve still relaxing is averaged and returned with a lag warning; allowed: >= %d (2 windows)" (2 * solver.Window))
      MinIterations = Cli.int cmd "--min-iterations" solver.MinIterations "iterations at the target γ before an N = inf solve's first stationarity test (a long run at its fixed point); allowed: >= 1, <= --max-relaxation"
      GammaStep = declareIf scans (fun () -> Cli.float cmd "--gamma-step" pb.GammaStep "step of the γ scan; allowed: > 0")
      GammaMax = declareIf scans (fun () -> Cli.float cmd "--gamma-max" pb.GammaMax "largest γ of the scan; allowed: >= 0")
      Bisections = declareIf scans (fun () -> Cli.int cmd "--bisections" pb.Bisections "bisections of the γ* bracket; allowed: >= 0")
      Tolerance = Cli.float cmd "--tolerance" pb.LyapunovTolerance ("two-replica growth-rate tolerance for 'ordered'" + (if usage = SaddleUse then " (with --with-extension)" else ""))
      Persistence = Cli.float cmd "--persistence" pb.PersistenceThreshold ("persistence threshold for 'ordered'" + (if usage = SaddleUse then " (with --with-extension)" else ""))
      Seeds =
        if usage = SaddleUse then
            Cli.int cmd "--seeds" 1 "independent solves (seeds --seed, --seed + 1, ..., run concurrently); with 2 or more the summaries are their means and each error is the larger of the seed spread's and the window errors' (near the transition the window errors alone understate it); allowed: >= 1"
        else Cli.int cmd "--seeds" pb.Seeds "independent seeds per γ* (N = inf criteria); allowed: >= 1"
      Extension = Cli.optionalFloat cmd "--extension" ("length of the free-running extension; default 4·period; allowed: > 0" + (if usage = SaddleUse then " (with --with-extension)" else ""))
      Neurons =
        declareIf (usage = PhaseBoundaryUse) (fun () ->
            let p, q = FinitePosteriorOptions.Default.Neurons, RealisationOptions.Default.Neurons
            let defaults = if p = q then sprintf "default %d" p else sprintf "default %d (posterior) or %d (realised)" p q
            Cli.optionalInt cmd "--neurons" (sprintf "network size N (posterior, realised); %s; allowed: >= 2·period/dt" defaults))
      Sweeps = declareIf scans (fun () -> Cli.int cmd "--sweeps" FinitePosteriorOptions.Default.Sweeps "posterior sampler sweeps; allowed: >= 1")
      Realisations = declareIf scans (fun () -> Cli.int cmd "--realisations" pb.Realisations "networks realised per γ (realised), independent samplers (posterior); allowed: >= 1")
      NoBiasCheck = Cli.flag cmd "--no-bias-check" "skip the Richardson check of the N = inf results' O(1/S) bias (by default the solves are repeated with S/2 particles under their own seeds and the bias and the bias-corrected values are reported beside each value); with the check: --samples >= 200" }

/// The shared options' values (validated: exit 2 with the allowed range).
let private commonOptions (r: System.CommandLine.ParseResult) (c: Common) (criterion: GammaStarCriterion) =
    let samples = r.GetValue c.Samples
    let seed = r.GetValue c.Seed
    let dt = r.GetValue c.Dt
    let period = r.GetValue c.Period
    let noise = r.GetValue c.Noise
    let iterations = r.GetValue c.Iterations
    let step = r.GetValue c.Step
    let newtonWindow = r.GetValue c.NewtonWindow
    let newtonTolerance = r.GetValue c.NewtonTolerance
    let maxRelaxation = r.GetValue c.MaxRelaxation
    let minIterations = r.GetValue c.MinIterations
    let valueOr (fallback: 'T) (o: Opt<'T> option) = match o with Some o -> r.GetValue o | None -> fallback
    let gammaStep = c.GammaStep |> valueOr PhaseBoundaryOptions.Default.GammaStep
    let gammaMax = c.GammaMax |> valueOr PhaseBoundaryOptions.Default.GammaMax
    let bisections = c.Bisections |> valueOr PhaseBoundaryOptions.Default.Bisections
    let tol = r.GetValue c.Tolerance
    let persistence = r.GetValue c.Persistence
    let seeds = r.GetValue c.Seeds
    let extension = r.GetValue c.Extension |> Option.defaultValue (4.0 * period)
    let defaultNeurons = if criterion = Posterior then FinitePosteriorOptions.Default.Neurons else RealisationOptions.Default.Neurons
    let neurons = c.Neurons |> Option.bind r.GetValue |> Option.defaultValue defaultNeurons
    let sweeps = c.Sweeps |> valueOr FinitePosteriorOptions.Default.Sweeps
    let realisations = c.Realisations |> valueOr PhaseBoundaryOptions.Default.Realisations
    let biasCheck = not (r.GetValue c.NoBiasCheck)
    // Domain checks (exit 2): γ grid ≥ 0, Δt < T with ≥ 10 points per period (n ≥ 10), samples ≥ the minimum.
    Validate.Positive("gamma-step", gammaStep) |> ignore
    Validate.NonNegative("gamma-max", gammaMax) |> ignore
    TiltedProblems.ValidateGrid(period, dt)
    Validate.AtLeast("samples", samples, TiltedSolverOptions.MinimumChains) |> ignore
    Validate.AtLeast("iterations", iterations, TiltedSolverOptions.Default.Window + TiltedSolverOptions.Default.AverageIterations) |> ignore
    Validate.InRange("step", step, 1e-4, 1.0) |> ignore
    if newtonWindow <> 0 && newtonWindow < 8 then
        raise (ParameterOutOfDomainException("newton-window", string newtonWindow, "0 (no Newton jumps) or an integer >= 8"))
    Validate.InRange("newton-tolerance", newtonTolerance, 1e-6, 0.9) |> ignore
    Validate.AtLeast("max-relaxation", maxRelaxation, 2 * TiltedSolverOptions.Default.Window) |> ignore
    Validate.AtLeast("min-iterations", minIterations, 1) |> ignore
    if minIterations > maxRelaxation then
        raise (ParameterOutOfDomainException("min-iterations", string minIterations, sprintf "an integer from 1 to --max-relaxation (%d)" maxRelaxation))
    Validate.AtLeast("bisections", bisections, 0) |> ignore
    Validate.AtLeast("seeds", seeds, 1) |> ignore
    Validate.AtLeast("realisations", realisations, 1) |> ignore
    Validate.Positive("noise", noise) |> ignore
    Validate.AtLeast("sweeps", sweeps, 1) |> ignore
    Validate.Positive("extension", extension) |> ignore
    Validate.AtLeast("neurons", neurons, 2 * int (Math.Floor(period / dt + 1e-9))) |> ignore
    let options =
        { PhaseBoundaryOptions.Default with
            Task = { SinusoidTask.Default with Dt = dt; Period = period; ProcessNoise = noise }
            Solver = { TiltedSolverOptions.Default with Chains = samples; Seed = int64 seed; MaxIterations = iterations; Step = step; NewtonWindow = newtonWindow; NewtonTolerance = newtonTolerance; MaxRelaxation = maxRelaxation
                                                        MinIterations = minIterations
                                                        MinStep = min step TiltedSolverOptions.Default.MinStep }
            Chaos = { ChaosOptions.Default with Seed = int64 seed; Extension = extension }
            GammaStep = gammaStep; GammaMax = gammaMax; Bisections = bisections; LyapunovTolerance = tol
            PersistenceThreshold = persistence; Seeds = seeds; Criterion = criterion; Realisations = realisations
            Realisation = { RealisationOptions.Default with Neurons = neurons; Seed = int64 seed }
            Posterior = { FinitePosteriorOptions.Default with Neurons = neurons; ProcessNoise = noise; Sweeps = sweeps; Seed = int64 seed }
            BiasCheck = biasCheck }
    options

/// An option as the untyped System.CommandLine option.
let private opt (o: Opt<'T>) = o :> System.CommandLine.Option
/// A command's option where it declares it (an empty list where it does not).
let private some (o: Opt<'T> option) = o |> Option.map opt |> Option.toList

/// The shared options a run does not read, rejected (exit 2, naming them) instead of silently ignored. nInfinity: the
/// N = ∞ solver runs (its particles, iterations, steps, Newton jumps, bias check); extension: the extension criteria are
/// evaluated (tolerance, persistence, extension length); networks: finite-N networks are realised (N, realisations);
/// posterior: the posterior sampler runs (sweeps); seeds: --seeds is read.
let private rejectUnread (r: System.CommandLine.ParseResult) (c: Common) (context: string) (nInfinity: bool) (extension: bool)
                         (networks: bool) (posterior: bool) (seeds: bool) =
    let unread =
        [ if not nInfinity then
              yield! [ opt c.Samples; opt c.Iterations; opt c.Step; opt c.NewtonWindow; opt c.NewtonTolerance; opt c.MaxRelaxation
                       opt c.MinIterations; opt c.NoBiasCheck ]
          if not extension then yield! [ opt c.Tolerance; opt c.Persistence; opt c.Extension ]
          if not networks then yield! (some c.Neurons @ some c.Realisations)
          if not posterior then yield! some c.Sweeps
          if not seeds then yield opt c.Seeds ]
    Cli.onlyWith r context unread

/// Every shared option (a run that reads none of them: finite-size --from).
let private allCommon (c: Common) : System.CommandLine.Option list =
    [ opt c.Samples; opt c.Seed; opt c.Dt; opt c.Period; opt c.Noise; opt c.Iterations; opt c.Step; opt c.NewtonWindow
      opt c.NewtonTolerance; opt c.MaxRelaxation; opt c.MinIterations; opt c.Tolerance; opt c.Persistence; opt c.Seeds
      opt c.Extension; opt c.NoBiasCheck ]
    @ some c.GammaStep @ some c.GammaMax @ some c.Bisections @ some c.Neurons @ some c.Sweeps @ some c.Realisations

/// The JSON object of an ensemble label.
let ensembleJson (e: GammaStarEnsemble) : JsonNode =
    Json.Nested [ "kind", Json.String e.Kind
                  "neurons", (match e.Neurons with Some n -> Json.Int(int64 n) | None -> null)
                  "label", Json.String e.Label ] :> JsonNode

let private criterionText (c: GammaStarCriterion) =
    match c with
    | TwoReplica -> "two-replica growth rate of the N = inf DMFT extension <= tolerance (note 5b; reconstructed)"
    | Persistence -> "persistence of the free-running N = inf DMFT output >= threshold (note 5a; reconstructed)"
    | RealisedNetworks -> "networks realised from the N = inf saddle point: ordered fraction >= 1/2 (reconstructed)"
    | Posterior -> "finite-N posterior networks: ordered fraction >= 1/2 of independent samplers (exact path-space posterior with process noise; reconstructed)"

let private criterionName (c: GammaStarCriterion) =
    match c with TwoReplica -> "two-replica" | Persistence -> "persistence" | RealisedNetworks -> "realised" | Posterior -> "posterior"

/// A Richardson (finite-S bias) estimate as JSON fields.
let richardsonFields (e: Numerics.RichardsonEstimate) =
    [ Output.int "samples" e.Samples; Output.num "value" e.Value; Output.measured "error" e.Error
      Output.int "halfSamples" e.HalfSamples; Output.num "halfValue" e.HalfValue; Output.measured "halfError" e.HalfError
      Output.num "bias" e.Bias; Output.measured "biasError" e.BiasError; Output.measured "biasSigmas" e.BiasSigmas
      Output.bool "biasResolved" e.Significant
      Output.num "extrapolated" e.Extrapolated; Output.measured "extrapolatedError" e.ExtrapolatedError ]

/// One γ⋆ as JSON fields: the value, its ensemble, criterion, per-seed values, bracket, scan and warnings.
let resultFields (r: PhaseBoundaryResult) : (string * JsonNode) list =
    let pts = r.Points |> List.sortBy (fun p -> p.Gamma)
    [ Output.num "g" r.G; Output.num "gammaStar" r.GammaStar; Output.num "gammaStarError" r.GammaStarError
      "ensemble", ensembleJson r.Ensemble
      Output.str "criterion" (criterionName r.Criterion)
      Output.objs "perSeed" (r.PerSeed |> List.map (fun (s, v, e) -> [ Output.int "seed" (int s); Output.num "gammaStar" v; Output.num "bracketError" e ]))
      Output.int "iterations" r.Iterations
      Output.measured "bracketLow" (fst r.Bracket); Output.measured "bracketHigh" (snd r.Bracket)
      // scan: one entry per evaluation (all seeds); null = unmeasured (e.g. the ordered fraction of an N = inf criterion)
      Output.nums "scanGamma" (pts |> List.map (fun p -> p.Gamma))
      Output.nums "scanSeed" (pts |> List.map (fun p -> float p.Seed))
      Output.measureds "scanLyapunov" (pts |> List.map (fun p -> p.Lyapunov))
      Output.measureds "scanLyapunovError" (pts |> List.map (fun p -> p.LyapunovError))
      Output.measureds "scanLyapunovBias" (pts |> List.map (fun p -> p.LyapunovBias))
      Output.measureds "scanPersistence" (pts |> List.map (fun p -> p.Persistence))
      Output.measureds "scanPersistenceError" (pts |> List.map (fun p -> p.PersistenceError))
      Output.measureds "scanOrderedFraction" (pts |> List.map (fun p -> p.OrderedFraction))
      Output.measureds "scanStabilityMargin" (pts |> List.map (fun p -> p.StabilityMargin))
      Output.measureds "scanUnrelaxedRatio" (pts |> List.map (fun p -> p.Relaxation.UnrelaxedRatio))
      Output.measureds "scanRelaxationTime" (pts |> List.map (fun p -> p.Relaxation.RelaxationTime))
      Output.measureds "scanDriftZ" (pts |> List.map (fun p -> p.Relaxation.DriftZ))
      Output.strs "warnings" r.Warnings
      (match r.FiniteSampleBias with
       | Some b ->
           Output.obj "finiteSampleBias"
               (richardsonFields b.Estimate @ [ Output.nums "halfSeeds" (b.HalfSeeds |> List.map float); Output.int "halfIterations" b.HalfIterations ])
       | None -> "finiteSampleBias", null) ]

let private meta (o: PhaseBoundaryOptions) =
    [ Output.num "dt" o.Task.Dt; Output.num "period" o.Task.Period; Output.num "noise" o.Task.ProcessNoise
      Output.int "seed" (int o.Solver.Seed); Output.int "samples" o.Solver.Chains; Output.int "seeds" o.Seeds
      Output.num "lyapunovTolerance" o.LyapunovTolerance; Output.num "persistenceThreshold" o.PersistenceThreshold
      Output.num "extension" o.Chaos.Extension; Output.int "neurons" (if o.Criterion = Posterior then o.Posterior.Neurons else o.Realisation.Neurons)
      Output.int "sweeps" o.Posterior.Sweeps; Output.int "realisations" o.Realisations; Output.num "gammaStep" o.GammaStep
      Output.num "gammaMax" o.GammaMax; Output.int "bisections" o.Bisections; Output.bool "biasCheck" o.BiasCheck
      // the N = inf solver's options that the CLI sets (the others are TiltedSolverOptions.Default); nested, since a
      // solve's diagnostics have their own "iterations" and "step"
      Output.obj "solver" [ Output.num "step" o.Solver.Step; Output.int "maxIterations" o.Solver.MaxIterations; Output.int "newtonWindow" o.Solver.NewtonWindow
                            Output.num "newtonTolerance" o.Solver.NewtonTolerance
                            Output.int "minIterations" o.Solver.MinIterations; Output.int "maxRelaxation" o.Solver.MaxRelaxation ] ]

/// One evaluated (seed, γ) point of a γ⋆ search as a progress line: per-γ progress inside one g.
let pointLine (prefix: string) (pt: PhaseBoundaryPoint) =
    let value (v: float) = if Double.IsFinite v then sprintf "%.3g" v else "-"
    if Double.IsFinite pt.OrderedFraction then
        sprintf "%s gamma = %.4g: ordered fraction %s +- %s, lambda %s" prefix pt.Gamma (value pt.OrderedFraction) (value pt.OrderedFractionError) (value pt.Lyapunov)
    else
        sprintf "%s seed %d, gamma = %.4g: lambda %s +- %s, persistence %s (%d iterations)" prefix pt.Seed pt.Gamma (value pt.Lyapunov)
            (value pt.LyapunovError) (value pt.Persistence) pt.Iterations

/// The γ⋆ results of one g under the requested criteria (dmft = both N = ∞ criteria from one set of continuations);
/// every evaluated γ is reported as it is done (a count of unknown total per g, and a line).
let private locate (g: float) (criteria: GammaStarCriterion list) (o: PhaseBoundaryOptions) =
    use points = Progress.start (sprintf "g = %g: gamma points" g) 0
    let observe = Action<PhaseBoundaryPoint>(fun pt ->
        points.Advance 1
        Output.progress (pointLine (sprintf "  g = %g," g) pt))
    let rs =
        match criteria with
        | [ TwoReplica; Persistence ] ->
            match TiltedPhaseBoundary.LocateDmft(g, o, observe) with
            | Ok rs -> rs
            | Error f -> criteria |> List.map (fun c -> c, Error f)
        | [ c ] -> [ c, TiltedPhaseBoundary.Locate(g, { o with Criterion = c }, observe) ]
        | _ -> failwith "unreachable"
    points.Done()
    rs

/// theory dmft phase-boundary --g 1.5 [--criterion dmft] --json; --g 1:3:0.25 --csv FILE for the curve.
let private run (gs: float[]) (criteria: GammaStarCriterion list) (o: PhaseBoundaryOptions) (csv: string option) (keepFailures: bool) (asJson: bool) =
    for g in gs do Validate.Positive("g", g) |> ignore
    Output.progress (sprintf "dmft phase-boundary: %d value(s) of g, criteria %s" gs.Length (criteria |> List.map criterionName |> String.concat ", "))
    // Each g is an independent job (a sweep shards them); here they run concurrently.
    let jobs =
        use progress = Progress.start "dmft phase-boundary: g values" gs.Length
        let jobs =
            gs |> Concurrent.map (fun g ->
                let r = locate g criteria o
                progress.Advance 1
                g, r)
        progress.Done()
        jobs
    for (g, rs) in jobs do
        for (c, r) in rs do
            match r with
            | Ok r ->
                Output.progress (sprintf "  g = %g, %s: gamma* = %.4g +- %.2g [%s]" g (criterionName c) r.GammaStar r.GammaStarError r.Ensemble.Label)
                match r.FiniteSampleBias with
                | Some b -> Output.progress (sprintf "  g = %g, %s: finite-S bias %s" g (criterionName c) (b.Estimate.ToString()))
                | None -> ()
                for w in r.Warnings do Output.warning (sprintf "g = %g, %s: %s" g (criterionName c) w)
            | Error f -> Output.progress (sprintf "  g = %g, %s: %s" g (criterionName c) (f.ToString()))
    match csv with
    | Some path ->
        let rows =
            [| for (g, rs) in jobs do
                 for (c, r) in rs do
                     match r with
                     | Ok r ->
                         let b = r.FiniteSampleBias |> Option.map (fun b -> b.Estimate)
                         let col f = b |> Option.map f |> Option.defaultValue nan
                         yield [| g; r.GammaStar; r.GammaStarError; float (List.findIndex ((=) c) criteria); float r.Iterations; 1.0; float r.Warnings.Length
                                  col (fun e -> e.Bias); col (fun e -> e.BiasError); col (fun e -> e.Extrapolated); col (fun e -> e.ExtrapolatedError) |]
                     | Error _ -> yield [| g; nan; nan; float (List.findIndex ((=) c) criteria); 0.0; 0.0; 0.0; nan; nan; nan; nan |] |]
        Csv.WriteMeasured(path, [ "command", "dmft phase-boundary"; "dt", string o.Task.Dt; "period", string o.Task.Period
                                  "noise", string o.Task.ProcessNoise; "samples", string o.Solver.Chains; "seed", string o.Solver.Seed
                                  "seeds", string o.Seeds; "lyapunovTolerance", string o.LyapunovTolerance
                                  "persistenceThreshold", string o.PersistenceThreshold; "neurons", string o.Posterior.Neurons
                                  "realisations", string o.Realisations; "sweeps", string o.Posterior.Sweeps
                                  "step", string o.Solver.Step; "maxIterations", string o.Solver.MaxIterations; "newtonWindow", string o.Solver.NewtonWindow; "newtonTolerance", string o.Solver.NewtonTolerance
                                  "minIterations", string o.Solver.MinIterations; "maxRelaxation", string o.Solver.MaxRelaxation
                                  "criterion", (criteria |> List.mapi (fun i c -> sprintf "%d = %s: %s [ensemble %s]" i (criterionName c) (criterionText c)
                                                                                          ({ o with Criterion = c }.Ensemble.Label)) |> String.concat "; ")
                                  "status", "1 = gamma* found, 0 = none (reason on stderr); warnings = number printed on stderr"
                                  "biasCheck", (if o.BiasCheck then sprintf "Richardson against S/2 = %d (gammaStarBias = estimated O(1/S) bias of gammaStar, gammaStarCorrected = gammaStar - bias; empty = not estimated)" (o.Solver.Chains / 2) else "off (--no-bias-check)") ],
                          [| "g"; "gammaStar"; "gammaStarError"; "criterion"; "iterations"; "status"; "warnings"
                             "gammaStarBias"; "gammaStarBiasError"; "gammaStarCorrected"; "gammaStarCorrectedError" |], rows)
    | None -> ()
    let results = jobs |> Array.collect (fun (_, rs) -> rs |> List.choose (fun (_, r) -> match r with Ok r -> Some r | Error _ -> None) |> Array.ofList)
    let failures = jobs |> Array.collect (fun (g, rs) -> rs |> List.choose (fun (c, r) -> match r with Error f -> Some(g, c, f) | Ok _ -> None) |> Array.ofList)
    if results.Length = 0 && csv.IsNone && not keepFailures then
        // Nothing located: the first failure decides the exit code (no chaotic phase / no solution → 2, otherwise 3).
        let (_, _, f) = failures.[0]
        if f.Reason.StartsWith "no chaotic phase" then raise (NoSolutionException f.Reason) else raise (NotConvergedException f)
    Output.emit asJson
        ([ Output.objs "results" (results |> Array.map resultFields)
           Output.objs "failures" (failures |> Array.map (fun (g, c, f) ->
               [ Output.num "g" g; Output.str "criterion" (criterionName c); Output.str "reason" f.Reason
                 Output.int "iterations" f.Iterations; Output.measured "residual" f.Residual ]))
           Output.strs "criteria" (criteria |> List.map criterionText) ] @ meta o)
    0

/// The JSON fields of one solve's convergence diagnostics (dmft saddle).
let private diagnosticsFields (d: TiltedDiagnostics) =
    [ Output.int "iterations" d.Iterations; Output.int "temperingIterations" d.TemperingIterations
      Output.num "cResidual" d.CResidual; Output.num "cNoiseFloor" d.CNoiseFloor; Output.num "kResidual" d.KResidual; Output.num "kNoiseFloor" d.KNoiseFloor
      Output.num "effectiveSampleSize" d.EffectiveSampleSize; Output.num "minimumEffectiveSampleSize" d.MinimumEffectiveSampleSize
      Output.int "resamplings" d.Resamplings; Output.num "proposalsPerUpdate" d.ProposalsPerUpdate; Output.num "step" d.Step
      Output.int "stepReductions" d.StepReductions; Output.num "snisBias" d.SnisBias; Output.num "driftZ" d.DriftZ
      Output.measured "relaxationTime" d.RelaxationTime; Output.int "newtonJumps" d.NewtonJumps ]

/// theory dmft saddle --g G --gamma Γ [--samples S] [--seed K] [--seeds k] [--with-extension] --json: one N = ∞ saddle
/// point (tempered from γ = 0) with its convergence diagnostics, or k concurrent replicas with their means and seed-spread
/// errors (SaddleReplicas); --with-extension adds the extension criteria (λ̂, persistence).
let private saddle (g: float) (gamma: float) (extend: bool) (o: PhaseBoundaryOptions) (asJson: bool) =
    Validate.Positive("g", g) |> ignore
    Validate.NonNegative("gamma", gamma) |> ignore
    let p = TiltedProblems.Sinusoid(g, gamma, o.Task)
    if not (p.X0Variance > 0.0) then
        raise (NoSolutionException(sprintf "no chaotic phase at g = %g: Delta0(g) = 0 for g <= 1, the default x(0) law is degenerate" g))
    // before the solve, so a bad --samples does not cost one
    if o.BiasCheck then SaddleBias.RequireSamples o.Solver.Chains
    let replicas = o.Seeds
    Output.progress (sprintf "dmft saddle: g = %g, gamma = %g, %d particles%s" g gamma o.Solver.Chains
                         (if replicas > 1 then sprintf ", %d seeds (%d to %d)" replicas o.Solver.Seed (o.Solver.Seed + int64 replicas - 1L) else ""))
    // one solve (or k concurrent replicas) with no count of its own: a task of unknown size (elapsed time on a terminal)
    let solved =
        use progress = Progress.start "dmft saddle" 0
        let s = SaddleReplicas.Solve(p, o.Solver, replicas)
        progress.Done()
        s
    match solved with
    | Error f ->
        Output.progress (sprintf "error: %A: %s (ESS %.0f, stability margin %s)" f.Kind f.Failure.Reason f.EffectiveSampleSize
                             (if Double.IsFinite f.StabilityMargin then sprintf "%.3g" f.StabilityMargin else "unmeasured"))
        raise (NotConvergedException { f.Failure with Reason = sprintf "%A: %s" f.Kind f.Failure.Reason })
    | Ok rep ->
        let single = replicas = 1
        let stat name (w: WindowStat) = Output.obj name [ Output.num "mean" w.Mean; Output.measured "standardError" w.StandardError ]
        // one solve's midpoint kurtosis (averaged over its averaging phase, jackknife error); null without particles
        let kurtosisOf (s: TiltedSolution) =
            match SaddleReplicas.MidWindowKurtosis s with
            | Some k ->
                Output.obj CloudKurtosis.SummaryName
                    [ Output.num "mean" k.Value; Output.measured "standardError" k.StandardError; Output.int "step" k.Step
                      Output.num "time" (float k.Step * s.Problem.Dt); Output.int "particles" k.Particles; Output.int "groups" k.Groups
                      Output.int "iterations" k.Iterations; Output.num "biasCorrection" k.BiasCorrection ]
            | None -> CloudKurtosis.SummaryName, null
        let replicaStat name (s: ReplicaStat) =
            Output.obj name [ Output.num "mean" s.Mean; Output.measured "standardError" s.StandardError; Output.measured "seedError" s.SeedError
                              Output.measured "windowError" s.WindowError; Output.measured "understatement" s.Understatement; Output.nums "values" s.Values ]
        let ext =
            if extend then
                let xs = rep.Solutions |> List.map (fun s -> TiltedChaos.Extend(s, { o.Chaos with Seed = s.Diagnostics.Seed })) // as the phase boundary's seeds
                let extFields (x: ChaosResult) =
                    [ Output.num "lyapunov" x.Lyapunov; Output.num "lyapunovError" x.LyapunovError; Output.num "lyapunovBias" x.LyapunovBias
                      Output.num "lyapunovRaw" x.LyapunovRaw; Output.num "persistence" x.Persistence; Output.num "persistenceError" x.PersistenceError
                      Output.num "persistenceBias" x.PersistenceBias; Output.int "clampedVariances" x.ClampedVariances ]
                let orderedFields (lyap: float) (pers: float) =
                    [ Output.bool "ordered (two-replica)" (lyap <= o.LyapunovTolerance)
                      Output.bool "ordered (persistence)" (pers >= o.PersistenceThreshold) ]
                match xs with
                | [ x ] -> [ Output.obj "extended" (extFields x @ orderedFields x.Lyapunov x.Persistence) ]
                | _ ->
                    // the replicas' mean with the same error rule as the summaries (seed spread or jackknife errors; an
                    // unmeasured jackknife error counts as 0, the seed spread then stands alone); null where a replica's
                    // value is unmeasured
                    let statOf (value: ChaosResult -> float) (error: ChaosResult -> float) =
                        let vs = xs |> List.map value |> Array.ofList
                        if Array.forall Double.IsFinite vs then
                            Some(SaddleReplicas.Stat(vs, xs |> List.map (fun x -> let e = error x in if Double.IsFinite e && e > 0.0 then e else 0.0) |> Array.ofList))
                        else None
                    let l = statOf (fun x -> x.Lyapunov) (fun x -> x.LyapunovError)
                    let q = statOf (fun x -> x.Persistence) (fun x -> x.PersistenceError)
                    let fields name (st: ReplicaStat option) =
                        [ Output.measured name (st |> Option.map (fun s -> s.Mean) |> Option.defaultValue nan)
                          Output.measured (name + "Error") (st |> Option.map (fun s -> s.StandardError) |> Option.defaultValue nan)
                          Output.measured (name + "SeedError") (st |> Option.map (fun s -> s.SeedError) |> Option.defaultValue nan) ]
                    [ Output.obj "extended"
                        (fields "lyapunov" l @ fields "persistence" q
                         @ (match l, q with
                            | Some l, Some q -> orderedFields l.Mean q.Mean
                            | _ -> [])
                         @ [ Output.objs "perSeed" (List.zip rep.Seeds xs |> List.map (fun (sd, x) -> Output.int "seed" (int sd) :: extFields x)) ]) ]
            else []
        // The Richardson check of the O(1/S) bias: cold partner solves at S/2 (two, or one per seed; SaddleBias.CheckReplicas).
        let bias, biasWarnings =
            if not o.BiasCheck then
                None, [ "finite-S bias not estimated (--no-bias-check): the summaries carry an O(1/S) bias (about +2% in mean C_kk at S = 4000 near the transition, docs/dmft-nonlinear.md)" ]
            else
                Output.progress (sprintf "dmft saddle: finite-S bias check, %d solves with %d particles" (max 2 replicas) (o.Solver.Chains / 2))
                let checkedBias =
                    use progress = Progress.start "dmft saddle: bias check" 0
                    let c = SaddleBias.CheckReplicas(rep, o.Solver)
                    progress.Done()
                    c
                match checkedBias with
                | Ok c ->
                    for (name, e) in c.Summaries do Output.progress (sprintf "  %s: %s" name (e.ToString()))
                    Some c, c.Warnings
                | Error f -> None, [ sprintf "finite-S bias not estimated: an S/2 partner solve failed (%A: %s)" f.Kind f.Failure.Reason ]
        // a single solve's warnings as they were; replicas' are prefixed with their seed, after the spread warnings
        let solveWarnings = if single then (List.head rep.Solutions).Diagnostics.Warnings else rep.Warnings
        // One seed: the top-level errors are the solve's window errors. The bias check's S/2 partners measure a seed
        // spread (SaddleBias.Check: the S value's error is the larger of the two), so where it exceeds the window error
        // twofold that is said; without the check, that the window errors are a lower bound near the transition.
        let singleNote =
            if not single then []
            else
                match bias with
                | Some c ->
                    // the one solve's own error of each summary (window errors; the kurtosis's jackknife error)
                    let own = rep.Summaries |> List.map (fun (name, st) -> name, st.WindowError) |> Map.ofList
                    [ for (name, e) in c.Summaries do
                        let w = own.[name]
                        if w > 0.0 && e.Error > SaddleReplicas.UnderstatementWarning * w then
                            yield sprintf "the %s of %s (+- %.2g) understates the seed spread of the S/2 partners (+- %.2g, %.1fx): finiteSampleBias.%s.error is the larger; --seeds 2 or more measures the spread at S"
                                      (if name = CloudKurtosis.SummaryName then "jackknife standard error" else "window standard error") name w e.Error (e.Error / w) name ]
                | None when not o.BiasCheck ->
                    [ "one seed: the standard errors are the solve's window errors, which near the transition understate its seed-to-seed spread (--seeds 2 or more measures it; docs/dmft-nonlinear.md, Known limitations)" ]
                | None -> []
        let warnings = solveWarnings @ biasWarnings @ singleNote
        for w in warnings do Output.warning w
        let biasJson =
            match bias with
            | Some c ->
                Output.obj "finiteSampleBias"
                    ([ for (name, e) in c.Summaries -> Output.obj name (richardsonFields e) ]
                     @ [ Output.nums "halfSeeds" (c.HalfSeeds |> List.map float); Output.int "halfIterations" c.HalfIterations ])
            | None -> "finiteSampleBias", null
        let summaries, diagnostics =
            if single then
                let s = List.head rep.Solutions
                let d = s.Diagnostics
                [ stat "meanActivity" d.MeanActivity; stat "targetAlignment" d.TargetAlignment; stat "halfWindowCorrelation" d.HalfWindowCorrelation
                  kurtosisOf s ],
                diagnosticsFields d @ [ Output.strs "warnings" warnings; Output.measured "stabilityMargin" d.StabilityMargin ]
            else
                [ for (name, st) in rep.Summaries -> replicaStat name st ],
                [ Output.int "iterations" rep.Iterations; Output.strs "warnings" warnings
                  Output.objs "perSeed"
                      (rep.Solutions |> List.map (fun s ->
                          let d = s.Diagnostics
                          [ Output.int "seed" (int d.Seed); stat "meanActivity" d.MeanActivity; stat "targetAlignment" d.TargetAlignment
                            stat "halfWindowCorrelation" d.HalfWindowCorrelation; kurtosisOf s ]
                          @ diagnosticsFields d @ [ Output.strs "warnings" d.Warnings; Output.measured "stabilityMargin" d.StabilityMargin ])) ]
        // the run's parameters: only those a saddle point reads
        let unreadBySaddle = set ([ "neurons"; "sweeps"; "realisations"; "gammaStep"; "gammaMax"; "bisections" ]
                                  @ (if extend then [] else [ "lyapunovTolerance"; "persistenceThreshold"; "extension" ]))
        Output.emit asJson
            ([ Output.num "g" g; Output.num "gamma" gamma; "ensemble", ensembleJson Dmft ]
             @ summaries @ diagnostics @ [ biasJson ] @ ext
             @ (meta o |> List.filter (fun (k, _) -> not (unreadBySaddle.Contains k))))
        0

/// One finite-size fit as JSON fields (`dmft finite-size`, computed or --from).
let private fitJson (f: FiniteSizeFit) =
    [ Output.str "form" f.Form.Label; Output.num "intercept" f.Intercept; Output.num "interceptError" f.InterceptError
      Output.num "slope" f.Slope; Output.num "slopeError" f.SlopeError; Output.num "chiSquare" f.ChiSquare
      Output.int "degreesOfFreedom" f.DegreesOfFreedom; Output.measured "pValue" f.PValue ]

/// The N → ∞ check against the theory as a JSON field (`dmft finite-size`, computed or --from).
let private comparisonJsonNamed (name: string) (cmp: TheoryAgreement) =
    Output.obj name [ Output.num "difference" cmp.Difference; Output.num "combinedError" cmp.CombinedError
                      Output.num "sigmas" cmp.Sigmas; Output.bool "agree" cmp.Agree
                      Output.str "verdict" (if cmp.Agree then "PASS" else "FAIL") ]
let private comparisonJson (cmp: TheoryAgreement) = comparisonJsonNamed "comparison" cmp

/// theory dmft finite-size --g G[,G2,..] [--neurons 250,500,1000,2000] [--compare-dmft] --json: γ⋆ of the exact
/// posterior at each N, fits in 1/N and 1/√N, the N → ∞ extrapolation and (with --compare-dmft) its agreement with
/// the N = ∞ theory (two-replica criterion) within 2σ.
let private finiteSize (gs: float[]) (neurons: int[]) (compare: bool) (o: PhaseBoundaryOptions) (asJson: bool) =
    for g in gs do Validate.Positive("g", g) |> ignore
    if (Array.distinct neurons).Length < 2 then raise (ParameterOutOfDomainException("neurons", "one value", "at least two distinct values of N"))
    let n = int (Math.Floor(o.Task.Period / o.Task.Dt + 1e-9))
    for nn in neurons do Validate.AtLeast("neurons", nn, 2 * n) |> ignore
    use progress = Progress.start "dmft finite-size: g values" gs.Length
    let perG =
        gs |> Array.map (fun g ->
            Output.progress (sprintf "dmft finite-size: g = %g, posterior at N = %s" g (neurons |> Array.map string |> String.concat ", "))
            use points = Progress.start (sprintf "g = %g: posterior gamma points" g) 0
            let located =
                FiniteSizeScaling.PosteriorGammaStars(g, neurons, o, Action<int, PhaseBoundaryPoint>(fun nn pt ->
                    points.Advance 1
                    Output.progress (pointLine (sprintf "  g = %g, N = %d," g nn) pt)))
            points.Done()
            let pts =
                located |> Array.choose (fun (nn, r) ->
                    match r with
                    | Ok r -> Some { Neurons = nn; GammaStar = r.GammaStar; GammaStarError = max 1e-6 r.GammaStarError }
                    | Error f ->
                        Output.progress (sprintf "  g = %g, N = %d: %s" g nn f.Reason)
                        None) |> List.ofArray
            let analysis = if pts.Length >= 2 then Some(FiniteSizeScaling.Analyse(g, "posterior", pts)) else None
            let dmft =
                if compare then
                    let observe = Action<PhaseBoundaryPoint>(fun pt -> Output.progress (pointLine (sprintf "  g = %g, dmft," g) pt))
                    match TiltedPhaseBoundary.LocateDmft(g, { o with Criterion = TwoReplica }, observe) with
                    | Ok rs -> rs |> List.tryPick (fun (c, r) -> match c, r with TwoReplica, Ok r -> Some r | _ -> None)
                    | Error _ -> None
                else None
            progress.Advance 1
            g, located, analysis, dmft)
    progress.Done()
    let items =
        perG |> Array.map (fun (g, located, analysis, dmft) ->
            [ Output.num "g" g
              Output.objs "posterior" (located |> Array.choose (fun (_, r) -> match r with Ok r -> Some(resultFields r) | Error _ -> None))
              Output.objs "failures" (located |> Array.choose (fun (nn, r) -> match r with Error f -> Some [ Output.int "neurons" nn; Output.str "reason" f.Reason ] | Ok _ -> None)) ]
            @ (match analysis with
               | Some a ->
                   [ Output.objs "fits" (a.Fits |> List.map fitJson)
                     Output.str "preferredForm" a.Preferred.Form.Label
                     Output.num "extrapolated" a.Extrapolated; Output.num "extrapolatedError" a.ExtrapolatedError
                     "extrapolatedEnsemble", ensembleJson a.Ensemble ]
               | None -> [])
            @ (match analysis, dmft with
               | Some a, Some d ->
                   let cmp = FiniteSizeScaling.Compare(d.GammaStar, d.GammaStarError, a.Extrapolated, a.ExtrapolatedError, 2.0)
                   [ Output.obj "dmft" (resultFields d)
                     comparisonJson cmp ]
               | _ -> []))
    // the list of N last: meta's single "neurons" (the default network size) would otherwise replace it
    Output.emit asJson ([ Output.objs "results" items ] @ meta o @ [ Output.nums "neurons" (neurons |> Array.map float) ])
    0

/// Every γ⋆ result object (fields g, gammaStar, gammaStarError and an ensemble with its kind) in a JSON file: the
/// output of `dmft phase-boundary --json` or `dmft finite-size --json`, or a sweep's result.json or merged.json (of a
/// merged file only its "result", not the per-unit copies). Objects inside a result are not searched again.
let gammaStarsIn (file: string) : System.Text.Json.Nodes.JsonObject list =
    let bad why = raise (UsageError(sprintf "%s: %s" file why))
    if not (IO.File.Exists file) then bad "not found"
    let root =
        try System.Text.Json.Nodes.JsonNode.Parse(IO.File.ReadAllText file)
        with :? Text.Json.JsonException as e -> bad (sprintf "not JSON (%s)" e.Message)
    let root =
        match root with
        | :? System.Text.Json.Nodes.JsonObject as o when (match o.["format"] with :? System.Text.Json.Nodes.JsonValue as v -> v.ToString() = "theory-sweep-merged/1" | _ -> false) -> o.["result"]
        | r -> r
    let isResult (o: System.Text.Json.Nodes.JsonObject) =
        o.ContainsKey "g" && o.ContainsKey "gammaStar" && o.ContainsKey "gammaStarError"
        && (match o.["ensemble"] with :? System.Text.Json.Nodes.JsonObject as e -> e.ContainsKey "kind" | _ -> false)
    let rec walk (n: System.Text.Json.Nodes.JsonNode) : System.Text.Json.Nodes.JsonObject list =
        match n with
        | :? System.Text.Json.Nodes.JsonObject as o when isResult o -> [ o ]
        | :? System.Text.Json.Nodes.JsonObject as o -> o |> Seq.toList |> List.collect (fun kv -> if isNull kv.Value then [] else walk kv.Value)
        | :? System.Text.Json.Nodes.JsonArray as a -> a |> Seq.toList |> List.collect (fun x -> if isNull x then [] else walk x)
        | _ -> []
    if isNull root then [] else walk root

/// theory dmft finite-size --from FILE[,FILE2] [--dmft-from FILE] [--g G,..] --json: the finite-size fits of γ⋆ results
/// already computed (e.g. a sharded sweep of `dmft phase-boundary --criterion posterior` over --g,--neurons), for every
/// finite-N ensemble kind they hold (posterior, realised, trained), and their N → ∞ limits against the dmft γ⋆ (the
/// two-replica criterion) of the same g when --dmft-from (or the same files) holds one (the first file's). Where they hold
/// the dmft γ⋆ of a g at two or more particle numbers S (each file's "samples"), also its S → ∞ extrapolation in 1/S
/// and the comparison of the N → ∞ limit with it (the solver's finite-S bias; JSON dmftExtrapolatedInSamples).
/// The two figures of `dmft finite-size --from ... --png DIR`: DIR/finite-size-scaling.png (γ⋆ against 1/N per g and
/// ensemble kind, the preferred fit curve, its N → ∞ intercept and the dmft γ⋆ at 1/N = 0, all with error bars) and
/// DIR/gamma-star-curve.png (γ⋆(g) of every ensemble found: dmft criteria, each finite N, the extrapolation).
let private finiteSizeFigures (dir: string) (finite: ((string * float) * (int * float * float) list) list)
                              (dmft: (string * float * float * float) list) (dmftInSamples: (float * float * float) list) =
    IO.Directory.CreateDirectory dir |> ignore
    // The legend goes outside the data, on the right: with several ensembles and g values it would cover points.
    let withLegend (plt: ScottPlot.Plot) (file: string) (w: int) (h: int) =
        plt.ShowLegend(ScottPlot.Edge.Right) |> ignore
        plt.SavePng(IO.Path.Combine(dir, file), w, h) |> ignore
    // A marker shape per ensemble family: circles for the posterior, triangles for trained networks, diamonds otherwise.
    let shapeOf (kind: string) =
        match kind with
        | "posterior" -> ScottPlot.MarkerShape.FilledCircle
        | "hmc" -> ScottPlot.MarkerShape.OpenCircle
        | "adam" | "gd" | "langevin" -> ScottPlot.MarkerShape.FilledTriangleUp
        | _ -> ScottPlot.MarkerShape.FilledDiamond
    do
        use plt = new ScottPlot.Plot()
        // a distinct colour per (ensemble, g) series and its fit; the dmft square once per g, in black
        let palette = ScottPlot.Palettes.Category20()
        let mutable next = 0
        let xMaxAll = finite |> List.collect (fun (_, pts) -> pts |> List.map (fun (n, _, _) -> 1.0 / float n)) |> List.fold max 0.0
        let dmftDrawn = Collections.Generic.HashSet<float>()
        let dmftInfDrawn = Collections.Generic.HashSet<float>()
        for (kind, g), pts in finite do
            let pts = pts |> List.sortBy (fun (n, _, _) -> n) |> Array.ofList
            if pts.Length >= 2 then
                let points = pts |> Array.map (fun (n, v, e) -> { Neurons = n; GammaStar = v; GammaStarError = max 1e-6 e }) |> List.ofArray
                let a = FiniteSizeScaling.Analyse(g, kind, points)
                let xs = pts |> Array.map (fun (n, _, _) -> 1.0 / float n)
                let c = palette.GetColor next
                next <- next + 1
                Theory.PaperChecks.Plots.styledPointsWithErrors plt xs (pts |> Array.map (fun (_, v, _) -> v)) (pts |> Array.map (fun (_, _, e) -> e)) (sprintf "%s, g = %g" kind g) c (shapeOf kind) |> ignore
                let xMax = Array.max xs
                let us = Array.init 41 (fun i -> xMax * float i / 40.0)
                let f = a.Preferred
                let curve = us |> Array.map (fun u -> f.Intercept + f.Slope * (match f.Form with InverseN -> u | InverseSqrtN -> Math.Sqrt u))
                let l = Theory.PaperChecks.Plots.line plt us curve (sprintf "  fit in %s, N -> inf %.3g +- %.2g" f.Form.Label a.Extrapolated a.ExtrapolatedError)
                l.Color <- c
                let eb = plt.Add.ErrorBar([| 0.0 |], [| a.Extrapolated |], [| a.ExtrapolatedError |])
                eb.Color <- c
                match dmft |> List.tryFind (fun (crit, gg, _, _) -> gg = g && crit = "two-replica") with
                | Some(_, _, v, e) when dmftDrawn.Add g ->
                    Theory.PaperChecks.Plots.styledPointsWithErrors plt [| -0.02 * xMaxAll |] [| v |] [| e |] (sprintf "dmft (N = inf, two-replica), g = %g" g)
                                                                  ScottPlot.Colors.Black ScottPlot.MarkerShape.FilledSquare |> ignore
                | _ -> ()
                match dmftInSamples |> List.tryFind (fun (gg, _, _) -> gg = g) with
                | Some(_, v, e) when dmftInfDrawn.Add g ->
                    Theory.PaperChecks.Plots.styledPointsWithErrors plt [| -0.04 * xMaxAll |] [| v |] [| e |] (sprintf "dmft extrapolated S -> inf, g = %g" g)
                                                                  ScottPlot.Colors.Black ScottPlot.MarkerShape.OpenSquare |> ignore
                | _ -> ()
        Theory.PaperChecks.Plots.labels plt "gamma* against 1/N, fits to N -> inf (squares at 1/N = 0: the dmft; open: its S -> inf limit)" "1/N" "gamma*"
        withLegend plt "finite-size-scaling.png" 1300 750
    do
        use plt = new ScottPlot.Plot()
        // A distinct colour per series (Category10 repeats after 10) and a marker shape per ensemble family.
        let palette = ScottPlot.Palettes.Category20()
        let mutable next = 0
        let series (pts: (float * float * float)[]) (label: string) (offset: float) (shape: ScottPlot.MarkerShape) =
            if pts.Length > 0 then
                let pts = pts |> Array.sortBy (fun (g, _, _) -> g)
                let c = palette.GetColor next
                next <- next + 1
                Theory.PaperChecks.Plots.styledPointsWithErrors plt (pts |> Array.map (fun (g, _, _) -> g + offset)) (pts |> Array.map (fun (_, v, _) -> v)) (pts |> Array.map (fun (_, _, e) -> e)) label c shape |> ignore
        for crit in dmft |> List.map (fun (c, _, _, _) -> c) |> List.distinct do
            series (dmft |> List.filter (fun (c, _, _, _) -> c = crit) |> List.map (fun (_, g, v, e) -> g, v, e) |> Array.ofList) (sprintf "dmft (N = inf), %s" crit) 0.0 ScottPlot.MarkerShape.FilledSquare
        series (Array.ofList dmftInSamples) "dmft (N = inf), two-replica, extrapolated S -> inf" -0.02 ScottPlot.MarkerShape.OpenSquare
        let byKindN =
            finite |> List.collect (fun ((kind, g), pts) -> pts |> List.map (fun (n, v, e) -> (kind, n), (g, v, e)))
            |> List.groupBy fst |> List.sortBy fst
        byKindN |> List.iteri (fun j ((kind, n), xs) ->
            series (xs |> List.map snd |> Array.ofList) (sprintf "%s (N = %d)" kind n) (0.01 * float (j + 1)) (shapeOf kind))
        let extrap =
            finite |> List.choose (fun ((kind, g), pts) ->
                if pts.Length < 2 then None
                else
                    let a = FiniteSizeScaling.Analyse(g, kind, pts |> List.map (fun (n, v, e) -> { Neurons = n; GammaStar = v; GammaStarError = max 1e-6 e }))
                    Some(kind, (g, a.Extrapolated, a.ExtrapolatedError)))
            |> List.groupBy fst
        for kind, xs in extrap do series (xs |> List.map snd |> Array.ofList) (sprintf "%s extrapolated N -> inf" kind) -0.01 ScottPlot.MarkerShape.FilledDiamond
        Theory.PaperChecks.Plots.labels plt "Phase boundary gamma*(g) by ensemble (points offset slightly in g)" "g" "gamma*"
        withLegend plt "gamma-star-curve.png" 1250 700

let private finiteSizeFrom (files: string[]) (dmftFiles: string[]) (gs: float[] option) (png: string option) (asJson: bool) =
    let num (o: System.Text.Json.Nodes.JsonObject) (k: string) =
        match o.[k] with
        | :? System.Text.Json.Nodes.JsonValue as v ->
            match v.TryGetValue<float>() with
            | true, x when Double.IsFinite x -> x
            | _ -> nan
        | _ -> nan
    let kindOf (o: System.Text.Json.Nodes.JsonObject) = o.["ensemble"].["kind"].GetValue<string>()
    let neuronsOf (o: System.Text.Json.Nodes.JsonObject) =
        match o.["ensemble"].["neurons"] with
        | :? System.Text.Json.Nodes.JsonValue as v -> (match v.TryGetValue<int>() with | true, n -> Some n | _ -> None)
        | _ -> None
    let found = files |> Array.toList |> List.collect (fun f -> gammaStarsIn f |> List.map (fun o -> f, o))
    let dmftFound = if dmftFiles.Length = 0 then found else dmftFiles |> Array.toList |> List.collect (fun f -> gammaStarsIn f |> List.map (fun o -> f, o))
    if found.IsEmpty then raise (UsageError(sprintf "dmft finite-size --from: no gamma* results in %s" (String.concat ", " files)))
    let keep g = match gs with Some gs -> Array.contains g gs | None -> true
    // finite-N results: (kind, g) -> points
    let finite =
        found |> List.choose (fun (f, o) ->
            match neuronsOf o with
            | Some n when keep (num o "g") && Double.IsFinite(num o "gammaStar") -> Some((kindOf o, num o "g"), (f, n, o))
            | _ -> None)
        |> List.groupBy fst |> List.map (fun (k, xs) -> k, List.map snd xs) |> List.sortBy fst
    if finite.IsEmpty then raise (UsageError(sprintf "dmft finite-size --from: no finite-N gamma* results%s in %s" (match gs with Some _ -> " at the given --g" | None -> "") (String.concat ", " files)))
    let twoReplicaDmft g (o: System.Text.Json.Nodes.JsonObject) =
        kindOf o = "dmft" && num o "g" = g && (match o.["criterion"] with :? System.Text.Json.Nodes.JsonValue as v -> v.ToString() = "two-replica" | _ -> true)
        && Double.IsFinite(num o "gammaStar")
    let dmftAt g = dmftFound |> List.tryPick (fun (_, o) -> if twoReplicaDmft g o then Some o else None)
    // The particle number S of a dmft result: its document's top-level "samples" (none in a sweep's merged file). The
    // dmft two-replica γ⋆ of a g over distinct S are extrapolated to S → ∞ where there are two S or more (the solver's
    // O(1/S) bias; FiniteSizeScaling.ExtrapolateInSamples).
    let samplesOf (o: System.Text.Json.Nodes.JsonObject) =
        match o.Root with
        | :? System.Text.Json.Nodes.JsonObject as root ->
            match root.["samples"] with
            | :? System.Text.Json.Nodes.JsonValue as v -> (match v.TryGetValue<int>() with | true, n -> Some n | _ -> None)
            | _ -> None
        | _ -> None
    // Results of one g and S from several files (runs with other seeds) pool their per-seed γ⋆ exactly as one run with
    // all the seeds would (TiltedPhaseBoundary.PoolSeeds); with a seed in two files, or without per-seed values, the
    // first file's result is used (and said).
    let perSeedOf (o: System.Text.Json.Nodes.JsonObject) =
        match o.["perSeed"] with
        | :? System.Text.Json.Nodes.JsonArray as a ->
            a |> Seq.map (fun p -> p.["seed"].GetValue<int64>(), p.["gammaStar"].GetValue<float>(), p.["bracketError"].GetValue<float>()) |> List.ofSeq
        | _ -> []
    let dmftOverSamples g =
        dmftFound
        |> List.choose (fun (_, o) -> match samplesOf o with Some n when twoReplicaDmft g o -> Some(n, o) | _ -> None)
        |> List.groupBy fst
        |> List.map (fun (n, xs) ->
            let objs = xs |> List.map snd
            let seeds = objs |> List.collect perSeedOf
            let poolable =
                objs.Length > 1 && objs |> List.forall (fun o -> not (perSeedOf o).IsEmpty)
                && (seeds |> List.map (fun (sd, _, _) -> sd) |> List.distinct).Length = seeds.Length
            if poolable then
                let v, e = TiltedPhaseBoundary.PoolSeeds(seeds |> List.map (fun (_, v, _) -> v) |> Array.ofList, seeds |> List.map (fun (_, _, e) -> e) |> Array.ofList)
                n, v, max 1e-6 e, seeds.Length
            else
                if objs.Length > 1 then
                    Output.warning (sprintf "dmft at g = %g, S = %d: %d results share a seed or lack per-seed values; the first file's is used" g n objs.Length)
                let o = objs.Head
                n, num o "gammaStar", max 1e-6 (num o "gammaStarError"), (perSeedOf o).Length)
        |> List.sortBy (fun (n, _, _, _) -> n)
    // its extrapolation to S → ∞ where the files hold two S or more (once per g: the JSON and the figures share it)
    let dmftInSamplesAt =
        let cache = Collections.Generic.Dictionary<float, ((int * float * float * int) list * FiniteSizeFit) option>()
        fun g ->
            match cache.TryGetValue g with
            | true, r -> r
            | _ ->
                let r =
                    match dmftOverSamples g with
                    | pts when pts.Length >= 2 ->
                        Some(pts, FiniteSizeScaling.ExtrapolateInSamples(pts |> List.map (fun (n, _, _, _) -> n) |> Array.ofList,
                                                                         pts |> List.map (fun (_, v, _, _) -> v) |> Array.ofList,
                                                                         pts |> List.map (fun (_, _, e, _) -> e) |> Array.ofList))
                    | _ -> None
                cache.[g] <- r
                r
    let items =
        finite |> List.map (fun ((kind, g), pts) ->
            let ns = pts |> List.map (fun (_, n, _) -> n)
            match ns |> List.countBy id |> List.tryFind (fun (_, c) -> c > 1) with
            | Some(n, _) -> raise (UsageError(sprintf "dmft finite-size --from: two %s gamma* results at g = %g, N = %d (%s)" kind g n (pts |> List.map (fun (f, _, _) -> f) |> List.distinct |> String.concat ", ")))
            | None -> ()
            let points = pts |> List.map (fun (_, n, o) -> { Neurons = n; GammaStar = num o "gammaStar"; GammaStarError = max 1e-6 (num o "gammaStarError") }) |> List.sortBy (fun p -> p.Neurons)
            let pointsJson = Output.objs "points" (points |> List.map (fun p -> [ Output.int "neurons" p.Neurons; Output.num "gammaStar" p.GammaStar; Output.num "gammaStarError" p.GammaStarError ]))
            if ns.Length < 2 then
                Output.warning (sprintf "%s, g = %g: gamma* at one N only (%d): no fit (it needs two N at least)" kind g ns.Head)
                [ Output.num "g" g; Output.str "source" kind; pointsJson; Output.str "fit" "none: gamma* at one N only" ]
            else
            let a = FiniteSizeScaling.Analyse(g, kind, points)
            Output.progress (sprintf "  %s, g = %g: N = %s -> gamma*(inf) = %.4g +- %.2g (%s)" kind g (ns |> List.sort |> List.map string |> String.concat ", ") a.Extrapolated a.ExtrapolatedError a.Preferred.Form.Label)
            [ Output.num "g" g; Output.str "source" kind; pointsJson
              Output.objs "fits" (a.Fits |> List.map fitJson)
              Output.str "preferredForm" a.Preferred.Form.Label
              Output.num "extrapolated" a.Extrapolated; Output.num "extrapolatedError" a.ExtrapolatedError
              "extrapolatedEnsemble", ensembleJson a.Ensemble ]
            @ (match dmftAt g with
               | Some d ->
                   let cmp = FiniteSizeScaling.Compare(num d "gammaStar", max 0.0 (num d "gammaStarError"), a.Extrapolated, a.ExtrapolatedError, 2.0)
                   Output.progress (sprintf "    vs dmft (N = inf) %.4g +- %.2g: %.1f sigma -> %s" (num d "gammaStar") (num d "gammaStarError") (abs cmp.Difference / cmp.CombinedError) (if cmp.Agree then "agree" else "DISAGREE"))
                   [ "dmft", (d.DeepClone())
                     comparisonJson cmp ]
               | None -> [ Output.str "dmft" "none in the files: no comparison" ])
            @ (match dmftInSamplesAt g with
               | Some(pts, f) ->
                   let cmp = FiniteSizeScaling.Compare(f.Intercept, f.InterceptError, a.Extrapolated, a.ExtrapolatedError, 2.0)
                   Output.progress (sprintf "    vs dmft extrapolated S -> inf (S = %s) %.4g +- %.2g: %.1f sigma -> %s"
                                        (pts |> List.map (fun (n, _, _, k) -> sprintf "%d (%d seeds)" n k) |> String.concat ", ") f.Intercept f.InterceptError
                                        (abs cmp.Difference / cmp.CombinedError) (if cmp.Agree then "agree" else "DISAGREE"))
                   [ Output.obj "dmftExtrapolatedInSamples"
                         ([ Output.objs "points" (pts |> List.map (fun (n, v, e, k) -> [ Output.int "samples" n; Output.num "gammaStar" v; Output.num "gammaStarError" e; Output.int "seeds" k ]))
                            Output.str "form" "1/S" ]
                          @ (fitJson f |> List.filter (fun (k, _) -> k <> "form")))
                     comparisonJsonNamed "comparisonWithDmftExtrapolatedInSamples" cmp ]
               | None -> []))
    match png with
    | Some dir ->
        let dmftAll =
            dmftFound |> List.choose (fun (_, o) ->
                if kindOf o = "dmft" && keep (num o "g") && Double.IsFinite(num o "gammaStar") then
                    let crit = match o.["criterion"] with :? System.Text.Json.Nodes.JsonValue as v -> v.ToString() | _ -> "two-replica"
                    Some(crit, num o "g", num o "gammaStar", max 0.0 (num o "gammaStarError"))
                else None) |> List.distinctBy (fun (crit, g, _, _) -> crit, g) // the first file's where several S hold a g
        let dmftInf =
            dmftFound |> List.map (fun (_, o) -> num o "g") |> List.distinct |> List.filter keep |> List.sort
            |> List.choose (fun g -> dmftInSamplesAt g |> Option.map (fun (_, f) -> g, f.Intercept, f.InterceptError))
        finiteSizeFigures dir (finite |> List.map (fun (k, pts) -> k, pts |> List.map (fun (_, n, o) -> n, num o "gammaStar", max 0.0 (num o "gammaStarError")))) dmftAll dmftInf
        Output.progress (sprintf "figures: %s, %s" (IO.Path.Combine(dir, "finite-size-scaling.png")) (IO.Path.Combine(dir, "gamma-star-curve.png")))
    | None -> ()
    Output.emit asJson ([ Output.objs "results" items; Output.strs "from" (List.ofArray files); Output.strs "dmftFrom" (List.ofArray dmftFiles) ]
                        @ (match png with Some d -> [ Output.str "figures" d ] | None -> []))
    0

let private criteria =
    [ "dmft", [ TwoReplica; Persistence ]; "two-replica", [ TwoReplica ]; "persistence", [ Persistence ]; "posterior", [ Posterior ]
      "realised", [ RealisedNetworks ]; "realized", [ RealisedNetworks ] ]

/// `theory dmft phase-boundary`.
let phaseBoundaryCommand () =
    Cli.command "phase-boundary" "critical γ*(g) (chaos -> limit cycle) with its error and ensemble label: dmft (N = inf, default), posterior (N), realised (N)" (fun cmd ->
        let g = Cli.requiredRange cmd "--g" "coupling gain g, or a range A:B:STEP of g values; allowed: > 0"
        let criterion = Cli.choice cmd "--criterion" "dmft" (List.map fst criteria) "γ* criterion (dmft = two-replica and persistence of the N = inf theory)"
        let common = declareCommon cmd PhaseBoundaryUse
        let csv = Cli.optionalString cmd "--csv" "write one row per g and criterion to this CSV file (default: none)"
        let keep = Cli.flag cmd "--keep-failures" "exit 0 listing the failures even when no γ* is located (a sweep's units; default: exit 2 or 3 then)"
        let json = Cli.json cmd
        fun r ->
            let cs = criteria |> List.find (fun (k, _) -> k = r.GetValue criterion) |> snd
            let dmft = cs |> List.forall (fun c -> c = TwoReplica || c = Persistence)
            let posterior = cs = [ Posterior ]
            rejectUnread r common (sprintf "with another --criterion (--criterion %s does not read it)" (r.GetValue criterion))
                (not posterior) dmft (not dmft) posterior (not posterior)
            run (r.GetValue g) cs (commonOptions r common (List.head cs)) (r.GetValue csv) (r.GetValue keep) (r.GetValue json))

/// `theory dmft saddle`.
let saddleCommand () =
    Cli.command "saddle" "one N = inf saddle point: summaries, convergence diagnostics (exit 3 if not converged)" (fun cmd ->
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: > 1 (a chaotic phase)"
        let gamma = Cli.requiredFloat cmd "--gamma" "feature-learning strength γ; allowed: >= 0"
        let extend = Cli.flag cmd "--with-extension" "add the extension criteria (λ, persistence)"
        let common = declareCommon cmd SaddleUse
        let json = Cli.json cmd
        fun r ->
            rejectUnread r common "with --with-extension" true (r.GetValue extend) false false true
            saddle (r.GetValue g) (r.GetValue gamma) (r.GetValue extend) (commonOptions r common TwoReplica) (r.GetValue json))

/// `theory dmft finite-size`.
let finiteSizeCommand () =
    Cli.command "finite-size" "posterior γ*(g; N), fits in 1/N and 1/sqrt(N), N -> inf vs the DMFT" (fun cmd ->
        let g = Cli.floatList cmd "--g" "coupling gain g, or a comma-separated list G1,G2,..; allowed: > 0 (required without --from; with --from: only these g)"
        let neurons = Cli.floatList cmd "--neurons" "network sizes N1,N2,..; default 250,500,1000,2000; allowed: at least two distinct integers >= 2·period/dt"
        let compare = Cli.flag cmd "--compare-dmft" "compare the N -> inf extrapolation with the N = inf theory (two-replica) within 2σ"
        let from = Cli.optionalString cmd "--from" "fit gamma* results already computed, FILE[,FILE2,..]: `dmft phase-boundary --json` outputs or sweep result.json/merged.json (e.g. a sweep over --g,--neurons); nothing is recomputed"
        let dmftFrom = Cli.optionalString cmd "--dmft-from" "with --from: the dmft (N = inf) gamma* to compare with, FILE[,FILE2,..] (default: the --from files); files at two or more --samples S are also extrapolated to S -> inf"
        let png = Cli.optionalString cmd "--png" "with --from: write DIR/finite-size-scaling.png (gamma* vs 1/N, fits, N -> inf, dmft at 1/N = 0) and DIR/gamma-star-curve.png (gamma*(g) of every ensemble)"
        let common = declareCommon cmd FiniteSizeUse
        let json = Cli.json cmd
        fun r ->
          let files (o: Opt<string option>) = r.GetValue o |> Option.map (fun s -> s.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)) |> Option.defaultValue [||]
          match r.GetValue from with
          | Some _ ->
            Cli.onlyWith r "without --from (the results are read, not computed)" ([ neurons :> System.CommandLine.Option; compare ] @ allCommon common)
            finiteSizeFrom (files from) (files dmftFrom) (r.GetValue g) (r.GetValue png) (r.GetValue json)
          | None ->
            Cli.onlyWith r "with --from" [ dmftFrom; png ]
            let g = Cli.need r "(or --from FILE)" g
            rejectUnread r common "with --compare-dmft (the N = inf two-replica search)" (r.GetValue compare) (r.GetValue compare) true true (r.GetValue compare)
            let neurons =
                match r.GetValue neurons with
                | None -> [| 250; 500; 1000; 2000 |]
                | Some v -> v |> Array.map (fun x -> if x <> Math.Round x || x < 1.0 then raise (ParameterOutOfDomainException("neurons", string x, "positive integers")) else int x)
            finiteSize g neurons (r.GetValue compare) (commonOptions r common Posterior) (r.GetValue json))

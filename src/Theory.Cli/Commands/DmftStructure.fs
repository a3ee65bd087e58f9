/// theory dmft distributions | drift: the tilted single-neuron distributions of the learned-network DMFT against finite-N
/// posterior networks, and representational drift under the posterior dynamics (Clark et al. 2026; research note
/// dmft-learned.md §3.2, §3.5; docs/dmft-structure.md).
module Theory.Cli.Commands.DmftStructure

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

let private est name (e: SeedEstimate) =
    Output.obj name [ Output.measured "mean" e.Mean; Output.measured "standardError" e.StandardError; Output.int "seeds" e.Seeds ]

let private estOpt name (e: SeedEstimate option) =
    match e with
    | Some e -> est name e
    | None -> name, null

let private variableJson (v: VariableSummary) =
    [ est "excessKurtosisAtTime" v.KurtosisAtTime; est "excessKurtosisPooled" v.KurtosisPooled; est "varianceAtTime" v.VarianceAtTime
      Output.measureds "excessKurtosisByTime" (v.KurtosisByTime |> Array.map (fun e -> e.Mean))
      Output.measureds "excessKurtosisByTimeError" (v.KurtosisByTime |> Array.map (fun e -> e.StandardError))
      estOpt "w1AtTime" v.W1AtTime; estOpt "ksAtTime" v.KsAtTime; estOpt "w1Pooled" v.W1Pooled; estOpt "ksPooled" v.KsPooled
      Output.measured "w1FloorAtTime" v.W1FloorAtTime; Output.measured "ksFloorAtTime" v.KsFloorAtTime ]

/// theory dmft distributions [--g 1.5] [--gammas 0,0.5,1,1.5] [--neurons 250,1000] … [--json] [--csv FILE]
let private distributions (o: TiltedDistributionOptions) (asJson: bool) (csv: string option) =
    Output.progress (sprintf "dmft distributions: g = %g, gamma = %s, N = inf (%d x %d particles) vs posterior N = %s"
                         o.G (o.Gammas |> Array.map string |> String.concat ",") o.DmftSeeds o.Solver.Chains
                         (o.Neurons |> Array.map string |> String.concat ","))
    let res =
        use progress = Progress.start "dmft distributions" 0
        let r = TiltedDistributions.Run(o, Action<string>(Output.progress))
        progress.Done()
        r
    for ens in res.Ensembles do
        for e in ens do
            let p = e.Preactivation
            Output.progress (sprintf "  gamma = %g, %s%s: kurtosis(x(t*)) = %.3f +- %.3f%s" e.Gamma e.Ensemble
                                 (match e.Neurons with Some n -> sprintf " N = %d" n | None -> "") p.KurtosisAtTime.Mean p.KurtosisAtTime.StandardError
                                 (match p.W1AtTime with Some w -> sprintf ", W1 = %.4f +- %.4f (floor %.4f)" w.Mean w.StandardError p.W1FloorAtTime | None -> ""))
    match csv with
    | Some path ->
        let opt (e: SeedEstimate option) = match e with Some e -> [| e.Mean; e.StandardError |] | None -> [| nan; nan |]
        let rows =
            [| for ens in res.Ensembles do
                 for e in ens do
                     for vi, v in [ 0, e.Preactivation; 1, e.Rate ] ->
                         Array.concat
                             [ [| e.Gamma; (match e.Neurons with Some n -> float n | None -> nan); (if e.Ensemble = "dmft" then 0.0 else 1.0); float vi
                                  v.KurtosisAtTime.Mean; v.KurtosisAtTime.StandardError; v.KurtosisPooled.Mean; v.KurtosisPooled.StandardError |]
                               opt v.W1AtTime; opt v.KsAtTime; opt v.W1Pooled; opt v.KsPooled; [| v.W1FloorAtTime; v.KsFloorAtTime |] ] |]
        Csv.WriteMeasured(path, [ "command", "dmft distributions"; "g", string o.G; "dt", string o.Task.Dt; "period", string o.Task.Period
                                  "noise", string o.Task.ProcessNoise; "samples", string o.Solver.Chains; "dmftSeeds", string o.DmftSeeds
                                  "posteriorSeeds", string o.PosteriorSeeds; "sweeps", string o.Sweeps; "time", string (float res.ReferenceStep * o.Task.Dt)
                                  "seed", string o.Seed; "ensemble", "0 = dmft (N = inf, neurons empty), 1 = posterior"; "variable", "0 = preactivation x, 1 = rate tanh(x)" ],
                          [| "gamma"; "neurons"; "ensemble"; "variable"; "kurtosisAtTime"; "kurtosisAtTimeError"; "kurtosisPooled"; "kurtosisPooledError"
                             "w1AtTime"; "w1AtTimeError"; "ksAtTime"; "ksAtTimeError"; "w1Pooled"; "w1PooledError"; "ksPooled"; "ksPooledError"; "w1Floor"; "ksFloor" |], rows)
    | None -> ()
    Output.emit asJson
        [ Output.num "g" o.G; Output.nums "gammas" o.Gammas; Output.num "time" (float res.ReferenceStep * o.Task.Dt)
          Output.objs "ensembles"
              [ for ens in res.Ensembles do
                  for e in ens ->
                      [ Output.num "gamma" e.Gamma; Output.str "ensemble" e.Ensemble
                        (match e.Neurons with Some n -> Output.int "neurons" n | None -> Output.str "neurons" "inf")
                        Output.int "seeds" e.Seeds
                        Output.obj "preactivation" (variableJson e.Preactivation); Output.obj "rate" (variableJson e.Rate) ] ]
          Output.nums "solverIterations" res.SolverIterations
          Output.num "dt" o.Task.Dt; Output.num "period" o.Task.Period; Output.num "noise" o.Task.ProcessNoise
          Output.int "samples" o.Solver.Chains; Output.int "dmftSeeds" o.DmftSeeds; Output.nums "neurons" (o.Neurons |> Array.map float)
          Output.int "posteriorSeeds" o.PosteriorSeeds; Output.int "sweeps" o.Sweeps; Output.num "annealStep" o.AnnealStep
          Output.int "bins" o.Bins; Output.int "seed" (int o.Seed); Output.num "seconds" res.Seconds ]
    0

/// theory dmft drift [--g 1.5] [--gammas 0,0.5,1,1.5] [--neurons 500] [--chains 4] … [--json] [--csv FILE]
let private drift (o: DriftOptions) (asJson: bool) (csv: string option) =
    Output.progress (sprintf "dmft drift: g = %g, gamma = %s, N = %d, %d chains, %d states every %d sweeps"
                         o.G (o.Gammas |> Array.map string |> String.concat ",") o.Neurons o.Chains o.Snapshots o.Interval)
    let res =
        use progress = Progress.start "dmft drift" 0
        let r = RepresentationalDrift.Run(o, Action<string>(Output.progress))
        progress.Done()
        r
    for c in res.Curves do
        let l = c.Lags.Length - 1
        Output.progress (sprintf "  gamma = %g: rho1(%d) = %.3f, rho2(%d) = %.3f (floor %.3f), kernel distance %.3f (independent %.3f), drift time %.1f sweeps, output error %.3g"
                             c.Gamma c.Lags.[l] c.SignedOverlap.[l].Mean c.Lags.[l] c.SquaredOverlap.[l].Mean c.SquaredOverlapFloor.Mean
                             c.KernelDistance.[l].Mean c.IndependentKernelDistance c.DriftTime.Mean c.OutputErrorLast.Mean)
    match csv with
    | Some path ->
        let rows =
            [| for c in res.Curves do
                 for i in 0 .. c.Lags.Length - 1 ->
                     [| c.Gamma; float c.Lags.[i]; c.SignedOverlap.[i].Mean; c.SignedOverlap.[i].StandardError; c.SquaredOverlap.[i].Mean
                        c.SquaredOverlap.[i].StandardError; c.TuningCorrelation.[i].Mean; c.TuningCorrelation.[i].StandardError
                        c.KernelDistance.[i].Mean; c.KernelDistance.[i].StandardError; c.SquaredOverlapFloor.Mean; c.IndependentKernelDistance |] |]
        Csv.WriteMeasured(path, [ "command", "dmft drift"; "g", string o.G; "dt", string o.Task.Dt; "period", string o.Task.Period
                                  "noise", string o.Task.ProcessNoise; "neurons", string o.Neurons; "chains", string o.Chains
                                  "sweeps", string o.Sweeps; "interval", string o.Interval; "snapshots", string o.Snapshots; "seed", string o.Seed ],
                          [| "gamma"; "lag"; "signedOverlap"; "signedOverlapError"; "squaredOverlap"; "squaredOverlapError"; "tuningCorrelation"
                             "tuningCorrelationError"; "kernelDistance"; "kernelDistanceError"; "squaredOverlapFloor"; "independentKernelDistance" |], rows)
    | None -> ()
    let ests name (es: SeedEstimate[]) =
        [ Output.measureds name (es |> Array.map (fun e -> e.Mean)); Output.measureds (name + "Error") (es |> Array.map (fun e -> e.StandardError)) ]
    Output.emit asJson
        [ Output.num "g" o.G; Output.nums "gammas" o.Gammas
          Output.objs "curves"
              [ for c in res.Curves ->
                  [ Output.num "gamma" c.Gamma; Output.nums "lags" (c.Lags |> Array.map float) ]
                  @ ests "signedOverlap" c.SignedOverlap @ ests "squaredOverlap" c.SquaredOverlap
                  @ ests "tuningCorrelation" c.TuningCorrelation @ ests "kernelDistance" c.KernelDistance
                  @ [ est "squaredOverlapFloor" c.SquaredOverlapFloor; Output.measured "independentKernelDistance" c.IndependentKernelDistance
                      est "driftTime" c.DriftTime; est "outputErrorFirst" c.OutputErrorFirst; est "outputErrorLast" c.OutputErrorLast
                      est "activityFirst" c.ActivityFirst; est "activityLast" c.ActivityLast ] ]
          Output.num "dt" o.Task.Dt; Output.num "period" o.Task.Period; Output.num "noise" o.Task.ProcessNoise
          Output.int "neurons" o.Neurons; Output.int "chains" o.Chains; Output.int "sweeps" o.Sweeps; Output.num "annealStep" o.AnnealStep
          Output.int "snapshots" o.Snapshots; Output.int "interval" o.Interval; Output.bool "realise" o.Realise
          Output.int "seed" (int o.Seed); Output.num "seconds" res.Seconds ]
    0

let private ints (name: string) (xs: float[]) =
    xs |> Array.map (fun x -> if x <> Math.Round x || x < 1.0 || x > 1e7 then raise (ParameterOutOfDomainException(name, string x, "positive integers")) else int x)

/// `theory dmft distributions`.
let distributionsCommand () =
    Cli.command "distributions" "tilted single-neuron distributions: N = inf measure vs finite-N posterior networks (kurtosis, W1, KS)" (fun cmd ->
        let d = TiltedDistributionOptions.Default
        let g = Cli.float cmd "--g" d.G "coupling gain g; allowed: > 1 (a chaotic phase)"
        let gammas = Cli.floatList cmd "--gammas" "ascending γ values; default 0,0.5,1,1.5; allowed: >= 0"
        let dt = Cli.float cmd "--dt" d.Task.Dt "time step; allowed: > 0, period/dt >= 10"
        let period = Cli.float cmd "--period" d.Task.Period "period T of the target sinusoid; allowed: > 0"
        let noise = Cli.float cmd "--noise" d.Task.ProcessNoise "process noise σ; allowed: > 0"
        let samples = Cli.int cmd "--samples" d.Solver.Chains (sprintf "particles per N = inf solve; allowed: >= %d" TiltedSolverOptions.MinimumChains)
        let dmftSeeds = Cli.int cmd "--dmft-seeds" d.DmftSeeds "independent N = inf solves; allowed: >= 2"
        let neurons = Cli.floatList cmd "--neurons" "posterior network sizes; default 250,1000; allowed: integers >= 2·period/dt"
        let postSeeds = Cli.int cmd "--posterior-seeds" d.PosteriorSeeds "posterior samplers per N; allowed: >= 2"
        let sweeps = Cli.int cmd "--sweeps" d.Sweeps "posterior sweeps per annealing stage; allowed: >= 1"
        let step = Cli.float cmd "--anneal-step" d.AnnealStep "largest γ step of the posterior anneal; allowed: > 0"
        let time = Cli.optionalFloat cmd "--time" "reference time t* of the single-time distribution; default period/4; allowed: [0, period]"
        let bins = Cli.int cmd "--bins" d.Bins "histogram bins; allowed: >= 2"
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let csv = Cli.optionalString cmd "--csv" "write one row per γ, ensemble and variable to this CSV file (default: none)"
        let json = Cli.json cmd
        fun r ->
            let p = r.GetValue period
            let o =
                { d with
                    G = r.GetValue g
                    Gammas = r.GetValue gammas |> Option.defaultValue d.Gammas
                    Task = { d.Task with Dt = r.GetValue dt; Period = p; ProcessNoise = r.GetValue noise }
                    Solver = { d.Solver with Chains = r.GetValue samples }
                    DmftSeeds = r.GetValue dmftSeeds
                    Neurons = r.GetValue neurons |> Option.map (ints "neurons") |> Option.defaultValue d.Neurons
                    PosteriorSeeds = r.GetValue postSeeds; Sweeps = r.GetValue sweeps; AnnealStep = r.GetValue step
                    Time = r.GetValue time |> Option.defaultValue (p / 4.0); Bins = r.GetValue bins; Seed = int64 (r.GetValue seed) }
            if not (o.G > 1.0) then raise (ParameterOutOfDomainException("g", string o.G, "> 1 (the default x(0) law N(0, Delta0(g)) is degenerate for g <= 1)"))
            TiltedDistributions.Validate o
            distributions o (r.GetValue json) (r.GetValue csv))

/// `theory dmft drift`.
let driftCommand () =
    Cli.command "drift" "representational drift under the posterior dynamics: single-neuron overlaps vs population kernel over chain time" (fun cmd ->
        let d = DriftOptions.Default
        let g = Cli.float cmd "--g" d.G "coupling gain g; allowed: > 1 (a chaotic phase)"
        let gammas = Cli.floatList cmd "--gammas" "ascending γ values; default 0,0.5,1,1.5; allowed: >= 0"
        let dt = Cli.float cmd "--dt" d.Task.Dt "time step; allowed: > 0, period/dt >= 10"
        let period = Cli.float cmd "--period" d.Task.Period "period T of the target sinusoid; allowed: > 0"
        let noise = Cli.float cmd "--noise" d.Task.ProcessNoise "process noise σ; allowed: > 0"
        let neurons = Cli.int cmd "--neurons" d.Neurons "network size N; allowed: >= 2·period/dt"
        let chains = Cli.int cmd "--chains" d.Chains "independent chains (error bars); allowed: >= 1"
        let sweeps = Cli.int cmd "--sweeps" d.Sweeps "sweeps per annealing stage and burn-in; allowed: >= 1"
        let step = Cli.float cmd "--anneal-step" d.AnnealStep "largest γ step of the anneal; allowed: > 0"
        let snapshots = Cli.int cmd "--snapshots" d.Snapshots "chain states recorded per γ; allowed: >= 2"
        let interval = Cli.int cmd "--interval" d.Interval "sweeps between recorded states; allowed: >= 1"
        let noRealise = Cli.flag cmd "--no-realise" "skip the realised networks' output error"
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let csv = Cli.optionalString cmd "--csv" "write one row per γ and lag to this CSV file (default: none)"
        let json = Cli.json cmd
        fun r ->
            let o =
                { d with
                    G = r.GetValue g
                    Gammas = r.GetValue gammas |> Option.defaultValue d.Gammas
                    Task = { d.Task with Dt = r.GetValue dt; Period = r.GetValue period; ProcessNoise = r.GetValue noise }
                    Neurons = r.GetValue neurons; Chains = r.GetValue chains; Sweeps = r.GetValue sweeps; AnnealStep = r.GetValue step
                    Snapshots = r.GetValue snapshots; Interval = r.GetValue interval; Realise = not (r.GetValue noRealise)
                    Seed = int64 (r.GetValue seed) }
            if not (o.G > 1.0) then raise (ParameterOutOfDomainException("g", string o.G, "> 1 (the default x(0) law N(0, Delta0(g)) is degenerate for g <= 1)"))
            RepresentationalDrift.Validate o
            drift o (r.GetValue json) (r.GetValue csv))

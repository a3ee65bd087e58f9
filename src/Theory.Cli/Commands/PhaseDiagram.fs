/// `theory simulate phase-diagram`: the simulated γ⋆(g) of Clark et al. 2026, Fig. 3 (research note §5c): train tanh
/// networks on one sine period over a (g, γ) grid × seeds, run them autonomously past T, classify, summarise.
module Theory.Cli.Commands.PhaseDiagram

open System
open System.IO
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io
open Theory.Simulation.Training
open Theory.Simulation.PhaseDiagram
open Theory.Cli

let private usageText =
    "theory simulate phase-diagram --g A:B:STEP|G1,G2,.. --gamma A:B:STEP|X1,X2,.. --out DIR [--n 200] [--seeds 8] [--seed 1] [--resume] " +
    "[--protocol adam|gd|langevin] [--steps 300] [--lr 0.05] [--dt 0.1] [--period 10] [--transient-periods 10] " +
    "[--measure-periods 100] [--lyapunov-sigmas 3] [--lyapunov-floor 0.005] [--rho-tol 0.9] [--bootstrap 1000] [--threads -1] [--json]"

let private parseProtocol (s: string) =
    match s.ToLowerInvariant() with
    | "langevin" -> TrainingProtocol.Langevin
    | "gd" -> TrainingProtocol.GradientDescent
    | "adam" -> TrainingProtocol.Adam
    | other -> raise (UsageError(sprintf "--protocol: unknown protocol '%s' (adam, gd, langevin)" other))

let private numOrNull (x: float) : JsonNode = if Double.IsFinite x then JsonValue.Create x :> JsonNode else null

/// Writes phase-summary.csv, gamma-star-sim.csv and phase-diagram.png for a finished sweep; returns (cells, stars).
let writeOutputs (out: string) (results: PhaseProbeResult[]) (meta: (string * string) list) (bootstrap: int) (seed: int64)
                 (dmftStars: (float * float * float) list) =
    let cells = PhaseDiagramAnalysis.Summarise results
    let stars = PhaseDiagramAnalysis.GammaStars(results, bootstrap, seed)
    let file name = Path.Combine(out, name)
    Csv.WriteMeasured(
        file "phase-summary.csv", meta @ [ "f", "fraction of seeds on a limit cycle with period ~T; fError binomial" ],
        [| "g"; "gamma"; "seeds"; "limitCycle"; "chaotic"; "fixedPoint"; "otherOrdered"; "f"; "fError"; "meanLyapunov"; "meanLagCorrelation"; "medianFitError" |],
        cells |> Seq.map (fun c ->
            [| c.G; c.Gamma; float c.Seeds; float c.LimitCycle; float c.Chaotic; float c.FixedPoint; float c.OtherOrdered
               c.Fraction; c.FractionError; c.MeanLyapunov; c.MeanLagCorrelation; c.MedianFitError |]))
    Csv.WriteMeasured(
        file "gamma-star-sim.csv",
        meta @ [ "gammaStar", "first upward crossing of f = 1/2, linear in gamma; status -1 at/below the first gamma, 0 inside, 1 not reached (empty cell)"
                 "bootstrap", sprintf "%d resamples of the seeds (shared across gamma), seed %d" bootstrap seed ],
        [| "g"; "gammaStar"; "status"; "stdErr"; "p16"; "p84"; "bootstrapCrossingFraction"; "band10"; "band90" |],
        stars |> Seq.map (fun s -> [| s.G; s.GammaStar; float s.Status; s.StdErr; s.Lower; s.Upper; s.BootstrapCrossingFraction; s.BandLow; s.BandHigh |]))
    let simStars = stars |> Array.filter (fun s -> s.Status = 0) |> Array.map (fun s -> s.G, s.GammaStar, s.StdErr) |> List.ofArray
    Theory.PaperChecks.Dmft.PhaseDiagramFigures.heatmap cells simStars dmftStars "Trained tanh networks: fraction ordered after T" (file "phase-diagram.png")
    cells, stars

/// theory simulate phase-diagram --g 1:3:0.5 --gamma 0:3:0.25 --n 300 --seeds 8 --out DIR [--resume]
let run (args: Args) =
    let req name =
        let parsed =
            match args.TryString name with
            | Some v when v.Contains ',' -> args.TryFloatList name
            | _ -> args.TryRange name
        match parsed with
        | Some v -> v
        | None -> raise (UsageError(sprintf "missing required option --%s; usage: %s" name usageText))
    let gs = req "g"
    let gammas = req "gamma"
    let out =
        match args.TryString "out" with
        | Some o -> o
        | None -> raise (UsageError("missing required option --out; usage: " + usageText))
    let d = PhaseProbeOptions()
    let n = args.Int("n", d.N)
    let seeds = args.Int("seeds", 8)
    let seed = args.Int("seed", 1)
    let resume = args.Flag "resume"
    let protocol = parseProtocol (args.String("protocol", "adam"))
    let steps = args.Int("steps", d.TrainingSteps)
    let lr = args.Float("lr", d.LearningRate)
    let dt = args.Float("dt", d.Dt)
    let period = args.Float("period", d.Period)
    let transient = args.Int("transient-periods", d.TransientPeriods)
    let measure = args.Int("measure-periods", d.MeasurePeriods)
    let sigmas = args.Float("lyapunov-sigmas", d.LyapunovSigmas)
    let floor = args.Float("lyapunov-floor", d.LyapunovFloor)
    let rho = args.Float("rho-tol", d.RhoTolerance)
    let h = args.Float("langevin-step", d.LangevinStep)
    let bootstrap = args.Int("bootstrap", 1000)
    let threads = args.Int("threads", -1)
    let asJson = args.Flag "json"
    args.Finish()
    Validate.AtLeast("bootstrap", bootstrap, 0) |> ignore
    let probe =
        PhaseProbeOptions(
            N = n, Period = period, Dt = dt, Protocol = protocol, TrainingSteps = steps, LearningRate = lr, LangevinStep = h,
            TransientPeriods = transient, MeasurePeriods = measure, LyapunovSigmas = sigmas, LyapunovFloor = floor, RhoTolerance = rho)
    let spec =
        PhaseSweepSpec(Gs = gs, Gammas = gammas, Seeds = seeds, BaseSeed = int64 seed, Probe = probe, MaxDegreeOfParallelism = threads)
    spec.Validate() |> ignore // exit 2 with the parameter name before any work
    Directory.CreateDirectory out |> ignore
    let csv = Path.Combine(out, "phase-diagram.csv")
    if not resume && File.Exists csv then
        Output.progress (sprintf "note: %s exists and is overwritten (use --resume to continue it)" csv)
    let sw = Diagnostics.Stopwatch.StartNew()
    let results = PhaseSweep.Run(spec, csv, resume, Action<string>(Output.progress))
    let meta =
        [ "command", "simulate phase-diagram"; "seeds", string seeds; "baseSeed", string seed ]
        @ (probe.Describe() |> Seq.map (fun struct (k, v) -> k, v) |> List.ofSeq)
    let _, stars = writeOutputs out results meta bootstrap (int64 seed) []
    let perSeed = results |> Array.averageBy (fun r -> r.Seconds)
    Output.progress (sprintf "phase-diagram: %d probes in %.1f s wall (mean %.2f s per probe on one thread)" results.Length sw.Elapsed.TotalSeconds perSeed)
    let starArr = JsonArray()
    for s in stars do
        let o = JsonObject()
        o.["g"] <- JsonValue.Create s.G
        o.["gammaStar"] <- numOrNull s.GammaStar
        o.["status"] <- JsonValue.Create s.Status
        o.["stdErr"] <- numOrNull s.StdErr
        o.["band10"] <- numOrNull s.BandLow
        o.["band90"] <- numOrNull s.BandHigh
        starArr.Add o
    Output.emit asJson
        [ Output.str "command" "simulate phase-diagram"
          Output.str "version" LibraryInfo.Version
          Output.nums "g" gs
          Output.nums "gamma" gammas
          Output.int "n" n
          Output.int "seeds" seeds
          Output.int "seed" seed
          Output.str "protocol" (string protocol)
          Output.int "steps" steps
          Output.num "dt" dt
          Output.num "period" period
          Output.int "probes" results.Length
          Output.num "secondsPerProbe" perSeed
          "gammaStarSim", (starArr :> JsonNode)
          Output.str "out" out ]
    0

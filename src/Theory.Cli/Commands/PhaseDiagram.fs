/// `theory simulate phase-diagram`: the simulated γ⋆(g) of Clark et al. 2026, Fig. 3 (research note §5c): train tanh
/// networks on one sine period over a (g, γ) grid × seeds, run them autonomously past T, classify, summarise.
module Theory.Cli.Commands.PhaseDiagram

open System
open System.IO
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Simulation.Training
open Theory.Simulation.PhaseDiagram
open Theory.Cli

let private protocols =
    [ "adam", TrainingProtocol.Adam; "gd", TrainingProtocol.GradientDescent; "langevin", TrainingProtocol.Langevin ]

let private numOrNull (x: float) : JsonNode = if Double.IsFinite x then JsonValue.Create x :> JsonNode else null

/// The ensemble of the trained networks (protocol, N, training steps, learning rate) from the probe's description
/// (the keys of PhaseProbeOptions.Describe: protocol, n, trainingSteps, learningRate), e.g. "adam (N = 200, 300 steps,
/// lr 0.05)"; None when a key is missing.
let trainedEnsemble (probe: (string * string) list) : GammaStarEnsemble option =
    let get k = probe |> List.tryPick (fun (kk, v) -> if kk = k then Some v else None)
    let inv = Globalization.CultureInfo.InvariantCulture
    match get "protocol", get "n", get "trainingSteps", get "learningRate" with
    | Some p, Some n, Some s, Some lr ->
        match Enum.TryParse<TrainingProtocol> p with
        | true, protocol -> Some(TrainedNetworks(PhaseProbeOptions.ProtocolKind protocol, Int32.Parse(n, inv), Int32.Parse(s, inv), Double.Parse(lr, inv)))
        | _ -> None
    | _ -> None

/// Writes phase-summary.csv, gamma-star-sim.csv (headed by the ensemble label of the trained networks) and
/// phase-diagram.png for a finished sweep; returns (cells, stars, ensemble).
let writeOutputs (out: string) (results: PhaseProbeResult[]) (meta: (string * string) list) (bootstrap: int) (seed: int64)
                 (dmftStars: (float * float * float) list) =
    let cells = PhaseDiagramAnalysis.Summarise results
    let stars = PhaseDiagramAnalysis.GammaStars(results, bootstrap, seed)
    let ensemble = trainedEnsemble meta
    let ensembleMeta =
        match ensemble with
        | Some e -> [ "ensemble", e.Label; "ensembleKind", e.Kind; "neurons", string e.Neurons.Value ]
        | None -> [ "ensemble", "trained networks (protocol, N, steps or learning rate missing from the probe description)" ]
    let file name = Path.Combine(out, name)
    Csv.WriteMeasured(
        file "phase-summary.csv", meta @ [ "f", "fraction of seeds on a limit cycle with period ~T; fError binomial" ],
        [| "g"; "gamma"; "seeds"; "limitCycle"; "chaotic"; "fixedPoint"; "otherOrdered"; "f"; "fError"; "meanLyapunov"; "meanLagCorrelation"; "medianFitError" |],
        cells |> Seq.map (fun c ->
            [| c.G; c.Gamma; float c.Seeds; float c.LimitCycle; float c.Chaotic; float c.FixedPoint; float c.OtherOrdered
               c.Fraction; c.FractionError; c.MeanLyapunov; c.MeanLagCorrelation; c.MedianFitError |]))
    Csv.WriteMeasured(
        file "gamma-star-sim.csv",
        meta @ ensembleMeta
        @ [ "gammaStar", "first upward crossing of f = 1/2, linear in gamma; status -1 at/below the first gamma, 0 inside, 1 not reached (empty cell)"
            "bootstrap", sprintf "%d resamples of the seeds (shared across gamma), seed %d" bootstrap seed ],
        [| "g"; "gammaStar"; "status"; "stdErr"; "p16"; "p84"; "bootstrapCrossingFraction"; "band10"; "band90" |],
        stars |> Seq.map (fun s -> [| s.G; s.GammaStar; float s.Status; s.StdErr; s.Lower; s.Upper; s.BootstrapCrossingFraction; s.BandLow; s.BandHigh |]))
    let simStars = stars |> Array.filter (fun s -> s.Status = 0) |> Array.map (fun s -> s.G, s.GammaStar, s.StdErr) |> List.ofArray
    Theory.PaperChecks.Dmft.PhaseDiagramFigures.heatmap cells simStars dmftStars "Trained tanh networks: fraction ordered after T" (file "phase-diagram.png")
    cells, stars, ensemble

let private run gs gammas (out: string) n seeds seed resume protocol steps lr dt period transient measure sigmas floor rho h
                (bootstrap: int) threads asJson =
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
    // the sweep says "phase-diagram: N tasks, D already done, P to run" once, then "  [k/P] g = …" per probe
    let results =
        let bar = ref (None: IProgressTask option)
        let report (msg: string) =
            Output.progress msg
            match bar.Value, Progress.countIn msg with
            | None, _ when msg.StartsWith "phase-diagram:" ->
                let toRun = Text.RegularExpressions.Regex.Match(msg, @"(\d+) to run")
                bar.Value <- Some(Progress.start "phase-diagram: probes" (if toRun.Success then int toRun.Groups.[1].Value else 0))
            | Some b, Some(k, _) when msg.TrimStart().StartsWith "[" -> b.Set k
            | _ -> ()
        try
            let r = PhaseSweep.Run(spec, csv, resume, Action<string>(report))
            bar.Value |> Option.iter (fun b -> b.Done())
            r
        finally
            bar.Value |> Option.iter (fun b -> b.Dispose())
    let meta =
        [ "command", "simulate phase-diagram"; "seeds", string seeds; "baseSeed", string seed ]
        @ (probe.Describe() |> Seq.map (fun struct (k, v) -> k, v) |> List.ofSeq)
    let _, stars, ensemble = writeOutputs out results meta bootstrap (int64 seed) []
    let perSeed = results |> Array.averageBy (fun r -> r.Seconds)
    Output.progress (sprintf "phase-diagram: %d probes in %.1f s wall (mean %.2f s per probe on one thread)" results.Length sw.Elapsed.TotalSeconds perSeed)
    let starArr = JsonArray()
    for s in stars do
        let o = JsonObject()
        o.["g"] <- JsonValue.Create s.G
        o.["gammaStar"] <- numOrNull s.GammaStar
        o.["status"] <- JsonValue.Create s.Status
        o.["stdErr"] <- numOrNull s.StdErr
        // the fields every γ⋆ result carries (`dmft finite-size --from` reads them): its error and its ensemble
        o.["gammaStarError"] <- numOrNull s.StdErr
        ensemble |> Option.iter (fun e -> o.["ensemble"] <- Theory.Cli.Commands.DmftNonlinear.ensembleJson e)
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
          Output.int "bootstrap" bootstrap
          Output.str "protocol" (string protocol)
          Output.int "steps" steps
          Output.num "dt" dt
          Output.num "period" period
          Output.int "probes" results.Length
          Output.num "secondsPerProbe" perSeed
          "gammaStarSim", (starArr :> JsonNode)
          Output.str "out" out ]
    0

/// The combined outputs of a sharded `simulate phase-diagram` sweep (one unit per g, each with its own --out folder):
/// the units' probe CSVs (their headers must agree: same probe options and version) merged into
/// DIR/phase-diagram.csv, and phase-summary.csv, gamma-star-sim.csv and phase-diagram.png computed from all probes, as
/// the single-process run writes them (the γ⋆ bootstrap is seeded per g, so the values are the same). Returns the files.
let mergeUnits (dir: string) (units: (string * JsonObject) list) : string list =
    let field (o: JsonObject) (k: string) =
        match o.[k] with
        | null -> raise (UsageError(sprintf "sweep merge: a unit result has no field '%s' (written by another version?)" k))
        | v -> v
    let read (unitDir: string) =
        let file = Path.Combine(unitDir, "phase-diagram.csv")
        if not (File.Exists file) then raise (UsageError(sprintf "sweep merge: %s: missing (the unit's probe CSV)" file))
        let struct (meta, rows) = PhaseSweep.Read file
        file, meta, rows
    let parts = units |> List.map (fun (unitDir, o) -> read unitDir, o)
    let ((file0, meta0, _), o0) = List.head parts
    for ((file, meta, _), o) in parts do
        if meta <> meta0 then raise (UsageError(sprintf "sweep merge: %s: its header differs from %s (other probe options or version)" file file0))
        for k in [ "seed"; "seeds"; "bootstrap" ] do
            if (field o k).ToJsonString() <> (field o0 k).ToJsonString() then
                raise (UsageError(sprintf "sweep merge: %s: %s differs from the first unit's" file k))
    let rows = parts |> List.collect (fun ((_, _, r: PhaseProbeResult[]), _) -> List.ofArray r) |> List.sortBy (fun r -> r.G, r.Gamma, r.Seed) |> Array.ofList
    let dupes = rows |> Array.countBy (fun r -> r.G, r.Gamma, r.Seed) |> Array.filter (fun (_, c) -> c > 1)
    if dupes.Length > 0 then
        let (g, gm, sd), _ = dupes.[0]
        raise (UsageError(sprintf "sweep merge: probe g = %g, gamma = %g, seed %d appears in more than one unit" g gm sd))
    Directory.CreateDirectory dir |> ignore
    let csv = Path.Combine(dir, "phase-diagram.csv")
    PhaseSweep.WriteCsv(csv, meta0, rows)
    let seed = (field o0 "seed").GetValue<int>()
    let probe =
        meta0 |> Array.choose (fun l ->
            if l.StartsWith "# probe." then
                let kv = l.Substring(8)
                let i = kv.IndexOf '='
                if i > 0 then Some(kv.Substring(0, i), kv.Substring(i + 1)) else None
            else None) |> List.ofArray
    let meta = [ "command", "simulate phase-diagram"; "seeds", string ((field o0 "seeds").GetValue<int>()); "baseSeed", string seed ] @ probe
    writeOutputs dir rows meta ((field o0 "bootstrap").GetValue<int>()) (int64 seed) [] |> ignore
    [ csv; Path.Combine(dir, "phase-summary.csv"); Path.Combine(dir, "gamma-star-sim.csv"); Path.Combine(dir, "phase-diagram.png") ]

/// theory simulate phase-diagram --g 1:3:0.5 --gamma 0:3:0.25 --n 300 --seeds 8 --out DIR [--resume]
let command () =
    Cli.command "phase-diagram" "trained tanh networks on one sine period: fraction ordered after T, simulated γ*(g) with bootstrap errors; DIR gets CSVs and phase-diagram.png (resumable)" (fun cmd ->
        let d = PhaseProbeOptions()
        let gs = Cli.requiredRangeOrList cmd "--g" "coupling gains g: A:B:STEP or G1,G2,..; allowed: >= 0, strictly increasing"
        let gammas = Cli.requiredRangeOrList cmd "--gamma" "feature-learning strengths γ: A:B:STEP or X1,X2,..; allowed: >= 0, strictly increasing"
        let out = Cli.requiredString cmd "--out" "output folder DIR"
        let n = Cli.int cmd "--n" d.N "number of neurons N; allowed: >= 2"
        let seeds = Cli.int cmd "--seeds" 8 "seeds (networks) per (g, γ); allowed: >= 1"
        let seed = Cli.int cmd "--seed" 1 "base random seed"
        let resume = Cli.flag cmd "--resume" "continue DIR/phase-diagram.csv, skipping the probes already done"
        let protocol = Cli.choice cmd "--protocol" "adam" (List.map fst protocols) "training protocol"
        let steps = Cli.int cmd "--steps" d.TrainingSteps "training steps; allowed: >= 1"
        let lr = Cli.float cmd "--lr" d.LearningRate "learning rate; allowed: > 0"
        let dt = Cli.float cmd "--dt" d.Dt "time step; allowed: > 0, < period, period/dt >= 10"
        let period = Cli.float cmd "--period" d.Period "period T of the target sine; allowed: > 0"
        let transient = Cli.int cmd "--transient-periods" d.TransientPeriods "autonomous periods discarded after T; allowed: >= 1"
        let measure = Cli.int cmd "--measure-periods" d.MeasurePeriods "autonomous periods measured; allowed: >= 2"
        let sigmas = Cli.float cmd "--lyapunov-sigmas" d.LyapunovSigmas "λ tolerance in standard errors; allowed: >= 0"
        let floor = Cli.float cmd "--lyapunov-floor" d.LyapunovFloor "smallest λ tolerance; allowed: >= 0"
        let rho = Cli.float cmd "--rho-tol" d.RhoTolerance "lag-T correlation for 'limit cycle'; allowed: [-1, 1]"
        let h = Cli.float cmd "--langevin-step" d.LangevinStep "Langevin step (langevin); allowed: > 0"
        let bootstrap = Cli.int cmd "--bootstrap" 1000 "bootstrap resamples of the seeds; allowed: >= 0"
        let threads = Cli.int cmd "--threads" -1 "parallel probes (-1 = all cores)"
        let json = Cli.json cmd
        fun r ->
            run (r.GetValue gs) (r.GetValue gammas) (r.GetValue out) (r.GetValue n) (r.GetValue seeds) (r.GetValue seed) (r.GetValue resume)
                (protocols |> List.find (fun (k, _) -> k = r.GetValue protocol) |> snd) (r.GetValue steps) (r.GetValue lr) (r.GetValue dt)
                (r.GetValue period) (r.GetValue transient) (r.GetValue measure) (r.GetValue sigmas) (r.GetValue floor) (r.GetValue rho)
                (r.GetValue h) (r.GetValue bootstrap) (r.GetValue threads) (r.GetValue json))

/// `theory regularities …` and `theory meanfield …` (Metzner et al. 2025, issue 3).
module Theory.Cli.Commands.Regularities

open System
open System.IO
open Theory.Core
open Theory.Core.MeanField
open Theory.Core.RandomMatrix
open Theory.Cli
open Theory.Simulation.Reservoir
open Theory.PaperChecks.Regularities

type private ParseResult = System.CommandLine.ParseResult

let private weakScaling (s: string) =
    match s with
    | "sqrt" -> WeakBlockScaling.Sqrt
    | "linear" -> WeakBlockScaling.Linear
    | s -> raise (ParameterOutOfDomainException("weak-scaling", s, "sqrt or linear"))

/// The regularity controls of a weight matrix (h, r, m and the modular blocks).
type private RegularityOptions =
    { H: Opt<float>; R: Opt<float>; M: Opt<float>; BlockSize: Opt<int>; F: Opt<float>; WeakScaling: Opt<string> }
    member o.All: System.CommandLine.Option list = [ o.H; o.R; o.M; o.BlockSize; o.F; o.WeakScaling ]

let private declareRegularities cmd =
    { H = Cli.float cmd "--h" 0.0 "homogeneity h (Dale: fraction of sign-uniform columns); allowed: [0, 1]"
      R = Cli.float cmd "--r" 0.0 "reciprocity r (Hopfield-like symmetry); allowed: [0, 1]"
      M = Cli.float cmd "--m" 0.0 "modularity m; allowed: [0, 1]; at most one of h, r, m > 0"
      BlockSize = Cli.int cmd "--block-size" 10 "block size of the modular matrix; allowed: >= 1, divides n when m > 0"
      F = Cli.float cmd "--f" 0.2 "probability of a strong block; allowed: [0, 1], > 0 when m > 0"
      WeakScaling = Cli.choice cmd "--weak-scaling" "sqrt" [ "sqrt"; "linear" ] "scaling of the weak blocks" }

/// The matrix controls shared by the commands (defaults: the paper's N = 50, d = 1, no regularity).
type private SpecOptions =
    { N: Opt<int>; W: Opt<float>; D: Opt<float>; B: Opt<float>; Regularities: RegularityOptions }

let private declareSpec cmd (defaultW: float option) =
    let wText = "width w of the weights |g|, g ~ N(0, w²); allowed: >= 0"
    { N = Cli.int cmd "--n" 50 "number of neurons N; allowed: >= 1"
      W = (match defaultW with Some dw -> Cli.float cmd "--w" dw wText | None -> Cli.requiredFloat cmd "--w" wText)
      D = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
      B = Cli.float cmd "--b" 0.0 "balance b; allowed: [-1, 1]"
      Regularities = declareRegularities cmd }

let private readSpec (r: ParseResult) (s: SpecOptions) =
    let g = s.Regularities
    WeightMatrixSpec(
        N = r.GetValue s.N, Width = r.GetValue s.W, Density = r.GetValue s.D, Balance = r.GetValue s.B,
        Homogeneity = r.GetValue g.H, Reciprocity = r.GetValue g.R, Modularity = r.GetValue g.M,
        BlockSize = r.GetValue g.BlockSize, StrongProbability = r.GetValue g.F, WeakScaling = weakScaling (r.GetValue g.WeakScaling))

let private specFields (s: WeightMatrixSpec) =
    [ Output.int "n" s.N; Output.num "w" s.Width; Output.num "d" s.Density; Output.num "b" s.Balance
      Output.num "h" s.Homogeneity; Output.num "r" s.Reciprocity; Output.num "m" s.Modularity
      Output.int "blockSize" s.BlockSize; Output.num "f" s.StrongProbability ]

let private matrix (spec: WeightMatrixSpec) (seed: int) (csv: string option) (asJson: bool) =
    let spec = spec.Validated()
    let m = WeightMatrixGenerator.Generate(spec, int64 seed)
    let st = StructureStatistics.Of m
    let ev = m.Eigenvalues()
    let rho = ev |> Array.map (fun c -> c.Magnitude) |> Array.max
    let predicted =
        if spec.Modularity > 0.0 then
            let s = CouplingStatistics.Modular(spec.BlockSize, m.StrongBlockMatrix(), spec.Width, spec.Balance, spec.Modularity, (spec.WeakScaling = WeakBlockScaling.Sqrt))
            [ Output.num "predictedBulkRadius" (VarianceProfile.BulkRadius s) ]
        elif spec.Homogeneity > 0.0 then
            // Dale: the variance-profile disc is a lower bound only (non-normal column-sign mean, research note A3)
            let s = CouplingStatistics.DaleExpected(spec.N, spec.Width, spec.Density, spec.Balance, spec.Homogeneity)
            [ Output.num "predictedBulkRadiusLowerBound" (VarianceProfile.BulkRadius s) ]
        else
            let p = EllipticLaw.ForRegularities(spec.N, spec.Width, spec.Density, spec.Balance, spec.Reciprocity)
            [ Output.num "predictedSemiAxisReal" p.SemiAxisReal; Output.num "predictedSemiAxisImag" p.SemiAxisImag
              Output.num "predictedSpectralRadius" p.SpectralRadius ]
            @ (match p.Outlier with Some o -> [ Output.num "predictedOutlier" o ] | None -> [])
    match csv with
    | Some path ->
        let meta = [ "seed", string seed ] @ [ for (k, v) in specFields spec -> k, v.ToJsonString() ]
        Theory.Core.Io.Csv.Write(path, meta, Array.init spec.N (fun j -> sprintf "c%d" j), Seq.init spec.N (fun i -> Array.init spec.N (fun j -> m.[i, j])))
    | None -> ()
    Output.emit asJson
        (specFields spec
         @ [ Output.int "seed" seed
             Output.num "density" st.Density; Output.num "balance" st.Balance; Output.num "homogeneity" st.Homogeneity
             Output.num "reciprocity" st.Reciprocity; Output.num "balanceCorrectedHomogeneity" st.BalanceCorrectedHomogeneity
             Output.num "spectralRadius" rho ]
         @ (if spec.Modularity > 0.0 then [ Output.num "strongFraction" m.StrongFraction; Output.num "weakFraction" m.WeakFraction; Output.num "empiricalModularity" (m.EmpiricalModularity()) ] else [])
         @ predicted)
    0

/// The free-run and task measurement controls.
type private MeasureControls = { Transient: Opt<int>; Steps: Opt<int>; Lag2: Opt<int>; BiasSd: Opt<float> }

let private declareMeasure cmd =
    { Transient = Cli.int cmd "--transient" 1000 "discarded free-run steps; allowed: >= 0"
      Steps = Cli.int cmd "--steps" 1000 "measured steps; allowed: >= 1"
      Lag2 = Cli.int cmd "--lag2" 2 "second lag of the correlation C(lag2); allowed: >= 1"
      BiasSd = Cli.float cmd "--bias-sd" 0.01 "standard deviation of the neuron biases; allowed: >= 0" }

let private measureOptions (r: ParseResult) (m: MeasureControls) =
    MeasureOptions(
        Transient = r.GetValue m.Transient, Steps = r.GetValue m.Steps, SecondLag = r.GetValue m.Lag2,
        BiasSd = r.GetValue m.BiasSd, Lyapunov = true, Task = true)

let private measures (spec: WeightMatrixSpec) (seed: int) (o: MeasureOptions) (asJson: bool) =
    let spec = spec.Validated()
    let r = Sweeps.Measure(spec, o, int64 seed)
    Output.emit asJson
        (specFields spec
         @ [ Output.int "seed" seed; Output.int "transient" o.Transient; Output.int "steps" o.Steps
             Output.num "fluctuation" r.Fluctuation; Output.num "correlation1" r.Correlation1
             Output.num (sprintf "correlation%d" o.SecondLag) r.Correlation2; Output.num "nonlinearity" r.Nonlinearity
             Output.num "lyapunov" r.Lyapunov; Output.str "regime" (RegimeNames.name r.Regime); Output.num "accuracy" r.Accuracy
             Output.num "drivenFluctuation" r.DrivenFluctuation; Output.num "drivenCorrelation1" r.DrivenCorrelation1
             Output.num "drivenNonlinearity" r.DrivenNonlinearity ])
    0

/// A range option's values rounded to 12 decimals, or the fallback when absent.
let private grid (xs: float[] option) (fallback: float[]) =
    match xs with
    | None -> fallback
    | Some xs -> xs |> Array.map (fun x -> Math.Round(x, 12))

/// Which mean-field boundaries apply to a setting (a custom matrix: by its regularity).
let private boundaryFamily (setting: string) (custom: WeightMatrixSpec option) =
    match custom with
    | None -> setting
    | Some c when c.Homogeneity > 0.0 -> "dale"
    | Some c when c.Reciprocity > 0.0 -> "hopfield"
    | Some c when c.Modularity > 0.0 -> "modular"
    | Some _ -> "standard"

let private phaseDiagram (setting: string) (out: string) (n: int) (d: float) (quick: bool) (bRange: float[] option) (wRange: float[] option)
                          (ensemble: int option) (seed: int) (o: MeasureOptions) (custom: WeightMatrixSpec option) (asJson: bool) =
    // integer-indexed grids: a float range -0.6 .. 0.2 .. 0.6 stops at 0.4 (rounding), against the documented 0.6
    let bs = grid bRange (if quick then Array.init 7 (fun i -> Math.Round(-0.6 + 0.2 * float i, 12)) else Array.init 21 (fun i -> Math.Round(-1.0 + 0.1 * float i, 12)))
    let ws = grid wRange (if quick then [| 0.05; 0.15; 0.25; 0.35; 0.45 |] else Array.init 13 (fun i -> Math.Round(0.05 * float i, 12)) |> Array.map (fun w -> max w 0.01))
    let ensemble = ensemble |> Option.defaultValue (if quick then 2 else 10)
    let spec = (match custom with Some c -> c | None -> RegularitiesFigures.settingSpec setting n d).Validated()
    let family = boundaryFamily setting custom
    Directory.CreateDirectory out |> ignore
    let sweep =
        use progress = Progress.start (sprintf "phase-diagram %s: networks" setting) (bs.Length * ws.Length * ensemble)
        let sweep = Sweeps.PhaseDiagram(spec, bs, ws, ensemble, o, int64 seed, -1, (fun doneCount _ -> progress.Set doneCount))
        progress.Done()
        sweep
    let csv = Path.Combine(out, sprintf "phase-%s.csv" setting)
    sweep.WriteCsv csv
    let curves = RegularitiesFigures.boundaries family spec bs ws (int64 seed)
    let pngs =
        [ for (q, label, lo, hi) in RegularitiesFigures.fig3Quantities do
            let file = Path.Combine(out, sprintf "phase-%s-%s.png" setting q)
            RegularitiesFigures.heatmap sweep q (sprintf "%s: %s" setting label) curves lo hi file
            yield file ]
    Output.emit asJson
        ([ Output.str "setting" setting; Output.int "n" n; Output.num "d" d; Output.int "ensemble" ensemble; Output.int "seed" seed
           Output.nums "b" bs; Output.nums "w" ws; Output.str "csv" csv ]
         @ [ "png", Theory.Core.Io.Json.Object([ for (i, p) in List.indexed pngs -> string i, Theory.Core.Io.Json.String p ]) :> Text.Json.Nodes.JsonNode ])
    0

/// The combined outputs of a sharded `regularities phase-diagram` sweep (one unit per --b-range, each with its own --out
/// folder): the units' CSVs (same metadata and header: same matrix, measures, ensemble and seed) merged row by row into
/// DIR/phase-SETTING.csv, sorted by (b, w) as the single-process run writes it, and the heatmaps with the mean-field
/// boundaries drawn from the merged grid (the matrix spec read back from the CSV metadata). Returns the files.
let mergePhaseDiagramUnits (dir: string) (units: (string * Text.Json.Nodes.JsonObject) list) : string list =
    let bad (msg: string) = raise (UsageError(sprintf "sweep merge: %s" msg))
    let settingOf (o: Text.Json.Nodes.JsonObject) =
        match o.["setting"] with
        | null -> bad "a unit result has no field 'setting' (written by another version?)"
        | v -> v.GetValue<string>()
    let setting = settingOf (snd (List.head units))
    let read (unitDir: string, o) =
        if settingOf o <> setting then bad (sprintf "%s: setting %s, the first unit's is %s" unitDir (settingOf o) setting)
        let file = Path.Combine(unitDir, sprintf "phase-%s.csv" setting)
        if not (File.Exists file) then bad (sprintf "%s: missing (the unit's CSV)" file)
        let lines = File.ReadAllLines file
        let meta = lines |> Array.takeWhile (fun l -> l.StartsWith "#")
        let rest = lines |> Array.skip meta.Length |> Array.filter (fun l -> l <> "")
        if rest.Length = 0 then bad (sprintf "%s: no header line" file)
        file, meta, rest.[0], rest.[1..]
    let parts = units |> List.map read
    let file0, meta0, header0, _ = List.head parts
    for (file, meta, header, _) in parts do
        if meta <> meta0 || header <> header0 then bad (sprintf "%s: its metadata or header differs from %s (another matrix, measure options, ensemble or seed)" file file0)
    let columns = header0.Split ','
    let parse (file: string) (line: string) =
        let f = line.Split ','
        if f.Length <> columns.Length then bad (sprintf "%s: a row with %d cells, the header has %d" file f.Length columns.Length)
        f |> Array.map (fun x ->
            if x = "" then nan
            else
                match Double.TryParse(x, Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture) with
                | true, v -> v
                | _ -> bad (sprintf "%s: '%s' is not a number" file x))
    let rows =
        parts |> List.collect (fun (file, _, _, rs) -> rs |> Array.map (fun l -> l, parse file l) |> List.ofArray)
        |> List.sortBy (fun (_, v) -> v.[0], v.[1]) |> Array.ofList
    let bs = rows |> Array.map (fun (_, v) -> v.[0]) |> Array.distinct |> Array.sort
    let ws = rows |> Array.map (fun (_, v) -> v.[1]) |> Array.distinct |> Array.sort
    if rows.Length <> bs.Length * ws.Length then
        bad (sprintf "the units' rows do not form one (b, w) grid: %d rows for %d b values x %d w values (overlapping or ragged --b-range/--w-range?)" rows.Length bs.Length ws.Length)
    Directory.CreateDirectory dir |> ignore
    let csv = Path.Combine(dir, sprintf "phase-%s.csv" setting)
    File.WriteAllLines(csv, Array.concat [ meta0; [| header0 |]; rows |> Array.map fst ])
    // the matrix spec from the metadata (# key=value), for the mean-field boundaries
    let metaValue (key: string) =
        match meta0 |> Array.tryPick (fun l -> if l.StartsWith(sprintf "# %s=" key) then Some(l.Substring(key.Length + 3)) else None) with
        | Some v -> v
        | None -> bad (sprintf "%s: no '%s' in the metadata" file0 key)
    let num key = Double.Parse(metaValue key, Globalization.CultureInfo.InvariantCulture)
    let spec =
        WeightMatrixSpec(N = int (num "N"), Density = num "d", Homogeneity = num "h", Reciprocity = num "r", Modularity = num "m",
                         BlockSize = int (num "blockSize"), StrongProbability = num "f",
                         WeakScaling = (match metaValue "weakScaling" with "Linear" -> WeakBlockScaling.Linear | _ -> WeakBlockScaling.Sqrt))
    let family = boundaryFamily setting (if setting = "custom" then Some spec else None)
    let curves = RegularitiesFigures.boundaries family spec bs ws (int64 (num "seed"))
    let index = dict [ for (i, b) in Array.indexed bs do for (j, w) in Array.indexed ws -> (b, w), (i, j) ]
    let pngs =
        [ for (q, label, lo, hi) in RegularitiesFigures.fig3Quantities do
            let col = Array.IndexOf(columns, q + "_mean")
            if col < 0 then bad (sprintf "%s: no column %s_mean" file0 q)
            let map = Array2D.create bs.Length ws.Length nan
            for (_, v) in rows do
                let i, j = index.[(v.[0], v.[1])]
                map.[i, j] <- v.[col]
            let file = Path.Combine(dir, sprintf "phase-%s-%s.png" setting q)
            RegularitiesFigures.heatmapOf bs ws map (sprintf "%s: %s" setting label) curves lo hi file
            yield file ]
    csv :: pngs

let private scan (param: string) (spec: WeightMatrixSpec) (values: float[] option) (balances: float[] option) (ensemble: int) (seed: int) (out: string)
                  (o: MeasureOptions) (asJson: bool) =
    let spec = spec.Validated()
    let values = grid values [| 0.0; 0.25; 0.5; 0.75; 1.0 |]
    let balances = balances |> Option.defaultValue [| 0.0; 0.2 |]
    let sweep =
        use progress = Progress.start (sprintf "scan %s: networks" param) (values.Length * balances.Length * ensemble)
        let sweep = Sweeps.Scan(spec, param, values, balances, ensemble, o, int64 seed, -1, (fun doneCount _ -> progress.Set doneCount))
        progress.Done()
        sweep
    let dir = Path.GetDirectoryName(Path.GetFullPath out)
    Directory.CreateDirectory dir |> ignore
    sweep.WriteCsv out
    let meanOf q = [ for i in 0 .. values.Length - 1 do for j in 0 .. balances.Length - 1 -> (sweep.At(i, j)).MeanOf q ]
    Output.emit asJson
        [ Output.str "param" param; Output.nums "values" values; Output.nums "balances" balances; Output.int "seed" seed
          Output.nums "accuracy" (meanOf "A"); Output.nums "fluctuation" (meanOf "F"); Output.nums "nonlinearity" (meanOf "N")
          Output.str "csv" out ]
    0

let private benchmark (task: string) (spec: WeightMatrixSpec) (seed: int) (o: BenchmarkOptions) (asJson: bool) =
    let spec = spec.Validated()
    let m = WeightMatrixGenerator.Generate(spec, int64 seed)
    let res =
        match task with
        | "mc" ->
            let r = ReservoirBenchmarks.MemoryCapacity(m, o, int64 seed + 1L)
            [ Output.num "memoryCapacity" r.Capacity; Output.nums "perDelay" r.PerDelay ]
        | "narma10" ->
            let r = ReservoirBenchmarks.Narma10Task(m, o, int64 seed + 1L)
            [ Output.num "nrmse" r.Nrmse; Output.num "rmse" r.Rmse; Output.num "targetSd" r.TargetSd ]
        | t -> raise (ParameterOutOfDomainException("task", t, "mc or narma10"))
    Output.emit asJson (specFields spec @ [ Output.str "task" task; Output.int "seed" seed; Output.num "inputSd" o.InputSd ] @ res)
    0

let private mfOptions (biasSd: float) =
    { MeanFieldOptions.Default with BiasVariance = Validate.NonNegative("bias-sd", biasSd) * biasSd }

let private regime (b: float) (w: float) (n: int) (d: float) (o: MeanFieldOptions) (asJson: bool) =
    let r = DiscreteMeanField.Regime(b, w, n, d, o)
    Output.emit asJson
        [ Output.num "b" b; Output.num "w" w; Output.int "n" n; Output.num "d" d; Output.num "biasVariance" o.BiasVariance
          Output.str "regime" (RegimeNames.name r.Regime); Output.num "mean" r.Mean; Output.num "secondMoment" r.SecondMoment
          Output.num "lyapunov" r.Lyapunov; Output.int "period" r.Period; Output.num "couplingMean" r.CouplingMean
          Output.num "couplingVariance" r.CouplingVariance; Output.num "bulkRadius" r.BulkRadius; Output.num "outlier" r.Outlier
          Output.num "quiescentBoundaryW" (DiscreteMeanField.QuiescentBoundary(b, n, d))
          Output.int "iterations" r.Convergence.Iterations; Output.num "residual" r.Convergence.Residual; "converged", Theory.Core.Io.Json.Bool r.Converged ]
    0

let private boundariesCmd (n: int) (d: float) (bRange: float[] option) (wRange: float[] option) (tol: float) (csv: string option) (o: MeanFieldOptions) (asJson: bool) =
    let bs = grid bRange (Array.init 21 (fun i -> Math.Round(-1.0 + 0.1 * float i, 12)))
    let ws = grid wRange (Array.init 12 (fun i -> Math.Round(0.05 * float (i + 1), 12)))
    let curves = PhaseBoundaries.Homogeneous(n, d, bs, ws, tol, o)
    let name (c: BoundaryCurve) = sprintf "%s|%s" (RegimeNames.name (fst c.Between)) (RegimeNames.name (snd c.Between))
    match csv with
    | Some path ->
        let rows = [ for (k, c) in List.indexed curves do for i in 0 .. c.B.Length - 1 -> [| float k; c.B.[i]; c.W.[i] |] ]
        let meta = [ "n", string n; "d", string d; "tol", string tol ] @ [ for (k, c) in List.indexed curves -> sprintf "curve%d" k, name c ]
        Theory.Core.Io.Csv.Write(path, meta, [| "curve"; "b"; "w" |], rows)
    | None -> ()
    Output.emit asJson
        ([ Output.int "n" n; Output.num "d" d; Output.num "tol" tol ]
         @ [ "curves",
             (Text.Json.Nodes.JsonArray(
                 [| for c in curves ->
                     Theory.Core.Io.Json.Object([ "between", Theory.Core.Io.Json.String(name c); "b", Theory.Core.Io.Json.Numbers("b", c.B); "w", Theory.Core.Io.Json.Numbers("w", c.W) ]) :> Text.Json.Nodes.JsonNode |]) :> Text.Json.Nodes.JsonNode) ]
         @ [ Output.nums "quiescentBoundaryB" bs; Output.nums "quiescentBoundaryW" (PhaseBoundaries.QuiescentCurve(n, d, bs) |> Array.map (fun x -> if Double.IsFinite x then x else -1.0)) ])
    0

let private spectrum (n: int) (w: float) (d: float) (b: float) (r: float) (asJson: bool) =
    let p = EllipticLaw.ForRegularities(n, w, d, b, r)
    Output.emit asJson
        ([ Output.int "n" n; Output.num "w" w; Output.num "d" d; Output.num "b" b; Output.num "r" r
           Output.num "semiAxisReal" p.SemiAxisReal; Output.num "semiAxisImag" p.SemiAxisImag; Output.num "spectralRadius" p.SpectralRadius ]
         @ (match p.Outlier with Some o -> [ Output.num "outlier" o ] | None -> []))
    0

let private daleOscillation (n: int) (w: float) (d: float) (b: float) (h: float) (nPlus: int option) (samples: int) (terms: int)
                            (seed: int) (o: MeanFieldOptions) (asJson: bool) =
    let opts = { DaleOscillationOptions.Default with Samples = samples; Terms = terms; MeanField = o }
    let r, mode =
        match nPlus with
        | Some k -> DaleOscillation.Predict(n, k, w, d, b, h, opts, int64 seed), "realised"
        | None -> DaleOscillation.PredictEnsemble(n, w, d, b, h, opts, int64 seed), "ensemble"
    Output.emit asJson
        [ Output.int "n" n; Output.num "w" w; Output.num "d" d; Output.num "b" b; Output.num "h" h; Output.int "seed" seed
          Output.str "nPlusMode" mode; Output.int "nPlus" r.RankOne.NPlus; Output.int "samples" r.Samples; Output.int "terms" terms
          Output.num "biasVariance" o.BiasVariance
          Output.num "meanEigenvalue" r.RankOne.MeanEigenvalue; Output.num "kappa" r.RankOne.Kappa; Output.num "bulkRadius" r.RankOne.BulkRadius
          Output.measured "flipThreshold" (defaultArg r.Threshold.Nonlinear nan); Output.num "linearFlip" r.Threshold.Linear
          Output.num "probability" r.Probability; Output.num "probabilityError" r.ProbabilityError
          Output.num "realFraction" r.RealFraction; Output.num "noOutlierFraction" r.NoOutlierFraction
          Output.str "regime" (if r.Oscillatory then "oscillatory" else "not-oscillatory")
          Output.str "closureRegime" (RegimeNames.name r.ClosureRegime) ]
    0

/// `theory regularities matrix|measures|phase-diagram|scan|benchmark`.
let command () =
    Cli.group "regularities" "weight-matrix regularities and reservoir dynamics (Metzner et al. 2025)" [
        Cli.command "matrix" "Metzner et al. 2025 weight matrix: D, B, H, R, spectral radius, predicted spectrum" (fun cmd ->
            let spec = declareSpec cmd None
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let csv = Cli.optionalString cmd "--csv" "write the matrix to this CSV file (default: none)"
            let json = Cli.json cmd
            fun r -> matrix (readSpec r spec) (r.GetValue seed) (r.GetValue csv) (r.GetValue json))
        Cli.command "measures" "free-run F, C(1), N, Lyapunov exponent, regime; sequence-task accuracy A" (fun cmd ->
            let spec = declareSpec cmd None
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let m = declareMeasure cmd
            let json = Cli.json cmd
            fun r -> measures (readSpec r spec) (r.GetValue seed) (measureOptions r m) (r.GetValue json))
        Cli.command "phase-diagram" "CSV + PNG heatmaps of N, F, C(1), A over (b, w) with mean-field boundaries" (fun cmd ->
            let setting = Cli.choice cmd "--setting" "standard" [ "standard"; "hopfield"; "dale"; "modular"; "custom" ] "regularity setting (custom: --h/--r/--m, --block-size, --f, --weak-scaling)"
            let out = Cli.requiredString cmd "--out" "output folder DIR"
            let n = Cli.int cmd "--n" 50 "number of neurons N; allowed: >= 1"
            let d = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
            let quick = Cli.flag cmd "--quick" "a coarse grid and 2 networks per cell"
            let bRange = Cli.range cmd "--b-range" "balances b; default -1:1:0.1 (--quick: -0.6:0.6:0.2); allowed: [-1, 1]"
            let wRange = Cli.range cmd "--w-range" "widths w; default 0.01, 0.05:0.6:0.05 (--quick: 0.05:0.45:0.1); allowed: >= 0"
            let ensemble = Cli.optionalInt cmd "--ensemble" "networks per (b, w); default 10 (--quick: 2); allowed: >= 1"
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let m = declareMeasure cmd
            let g = declareRegularities cmd
            let json = Cli.json cmd
            fun r ->
                let setting = r.GetValue setting
                let custom =
                    if setting = "custom" then
                        Some(WeightMatrixSpec(N = r.GetValue n, Density = r.GetValue d, Homogeneity = r.GetValue g.H, Reciprocity = r.GetValue g.R,
                                              Modularity = r.GetValue g.M, BlockSize = r.GetValue g.BlockSize, StrongProbability = r.GetValue g.F,
                                              WeakScaling = weakScaling (r.GetValue g.WeakScaling)))
                    else
                        Cli.onlyWith r "with --setting custom" g.All
                        None
                phaseDiagram setting (r.GetValue out) (r.GetValue n) (r.GetValue d) (r.GetValue quick) (r.GetValue bRange) (r.GetValue wRange)
                             (r.GetValue ensemble) (r.GetValue seed) (measureOptions r m) custom (r.GetValue json))
        Cli.command "scan" "sweep one regularity h, r or m at fixed balances: CSV of A, F, N" (fun cmd ->
            let param = Cli.requiredChoice cmd "--param" [ "h"; "r"; "m" ] "regularity swept"
            let spec = declareSpec cmd (Some 0.3)
            let values = Cli.range cmd "--values" "values of the swept regularity; default 0:1:0.25; allowed: [0, 1]"
            let balances = Cli.floatList cmd "--balances" "balances b1,b2,..; default 0,0.2; allowed: [-1, 1]"
            let ensemble = Cli.int cmd "--ensemble" 10 "networks per point; allowed: >= 1"
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let out = Cli.requiredString cmd "--out" "output CSV file"
            let m = declareMeasure cmd
            let json = Cli.json cmd
            fun r ->
                scan (r.GetValue param) (readSpec r spec) (r.GetValue values) (r.GetValue balances) (r.GetValue ensemble) (r.GetValue seed)
                     (r.GetValue out) (measureOptions r m) (r.GetValue json))
        Cli.command "benchmark" "memory capacity / NARMA10 NRMSE" (fun cmd ->
            let task = Cli.requiredChoice cmd "--task" [ "mc"; "narma10" ] "benchmark"
            let spec = declareSpec cmd (Some 0.1)
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let inputSd = Cli.float cmd "--input-sd" 0.3 "standard deviation of the input; allowed: > 0"
            let washout = Cli.int cmd "--washout" 200 "discarded steps; allowed: >= 0"
            let train = Cli.int cmd "--train" 2000 "training steps; allowed: >= 1"
            let test = Cli.int cmd "--test" 1000 "test steps; allowed: >= 1"
            let maxDelay = Cli.int cmd "--max-delay" 0 "largest delay of the memory capacity (0 = 2N)"
            let json = Cli.json cmd
            fun r ->
                let o = BenchmarkOptions(InputSd = r.GetValue inputSd, Washout = r.GetValue washout, Train = r.GetValue train, Test = r.GetValue test,
                                         MaxDelay = r.GetValue maxDelay)
                benchmark (r.GetValue task) (readSpec r spec) (r.GetValue seed) o (r.GetValue json)) ]

/// `theory meanfield regime|boundaries|spectrum|dale-oscillation`.
let meanFieldCommand () =
    let biasSd cmd = Cli.float cmd "--bias-sd" 0.01 "standard deviation of the neuron biases; allowed: >= 0"
    Cli.group "meanfield" "mean-field theory of the discrete tanh network (Metzner et al. 2025)" [
        Cli.command "regime" "mean-field regime, M, Q, Lyapunov exponent of the discrete tanh network" (fun cmd ->
            let b = Cli.requiredFloat cmd "--b" "balance b; allowed: [-1, 1]"
            let w = Cli.requiredFloat cmd "--w" "width w; allowed: >= 0"
            let n = Cli.int cmd "--n" 50 "number of neurons N; allowed: >= 1"
            let d = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
            let bias = biasSd cmd
            let json = Cli.json cmd
            fun r -> regime (r.GetValue b) (r.GetValue w) (r.GetValue n) (r.GetValue d) (mfOptions (r.GetValue bias)) (r.GetValue json))
        Cli.command "boundaries" "mean-field phase boundaries over (b, w)" (fun cmd ->
            let n = Cli.int cmd "--n" 50 "number of neurons N; allowed: >= 1"
            let d = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
            let bRange = Cli.range cmd "--b-range" "balances b; default -1:1:0.1; allowed: [-1, 1]"
            let wRange = Cli.range cmd "--w-range" "widths w; default 0.05:0.6:0.05; allowed: >= 0"
            let tol = Cli.float cmd "--tol" 1e-4 "tolerance of the boundary search; allowed: > 0"
            let csv = Cli.optionalString cmd "--csv" "write the boundary curves to this CSV file (default: none)"
            let bias = biasSd cmd
            let json = Cli.json cmd
            fun r ->
                boundariesCmd (r.GetValue n) (r.GetValue d) (r.GetValue bRange) (r.GetValue wRange) (r.GetValue tol) (r.GetValue csv)
                              (mfOptions (r.GetValue bias)) (r.GetValue json))
        Cli.command "spectrum" "elliptic law + outlier" (fun cmd ->
            let n = Cli.int cmd "--n" 50 "number of neurons N; allowed: >= 1"
            let w = Cli.requiredFloat cmd "--w" "width w; allowed: >= 0"
            let d = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
            let b = Cli.float cmd "--b" 0.0 "balance b; allowed: [-1, 1]"
            let rr = Cli.float cmd "--r" 0.0 "reciprocity r; allowed: [0, 1]"
            let json = Cli.json cmd
            fun r -> spectrum (r.GetValue n) (r.GetValue w) (r.GetValue d) (r.GetValue b) (r.GetValue rr) (r.GetValue json))
        Cli.command "dale-oscillation" "Dale networks: probability of the synchronised period-2 state (outlier-extended mean field)" (fun cmd ->
            let n = Cli.int cmd "--n" 400 "number of neurons N; allowed: >= 1"
            let w = Cli.requiredFloat cmd "--w" "width w; allowed: >= 0"
            let d = Cli.float cmd "--d" 1.0 "density d; allowed: [0, 1]"
            let b = Cli.float cmd "--b" 0.0 "balance b; allowed: [-1, 1]"
            let h = Cli.float cmd "--h" 1.0 "Dale homogeneity h; allowed: [0, 1]"
            let nPlus = Cli.optionalInt cmd "--nplus" "realised number of positive columns n+; allowed: 0..n (default: n+ ~ Binomial(n, (1+b)/2) in the Monte Carlo)"
            let samples = Cli.int cmd "--samples" 400 "Monte Carlo draws of the outlier; allowed: >= 1"
            let terms = Cli.int cmd "--terms" 24 "terms K of the outlier series; allowed: >= 1"
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let bias = biasSd cmd
            let json = Cli.json cmd
            fun r ->
                daleOscillation (r.GetValue n) (r.GetValue w) (r.GetValue d) (r.GetValue b) (r.GetValue h) (r.GetValue nPlus) (r.GetValue samples)
                                (r.GetValue terms) (r.GetValue seed) (mfOptions (r.GetValue bias)) (r.GetValue json)) ]

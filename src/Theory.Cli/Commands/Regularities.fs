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

let private weakScaling (a: Args) =
    match a.String("weak-scaling", "sqrt") with
    | "sqrt" -> WeakBlockScaling.Sqrt
    | "linear" -> WeakBlockScaling.Linear
    | s -> raise (ParameterOutOfDomainException("weak-scaling", s, "sqrt or linear"))

/// The matrix controls shared by the commands (defaults: the paper's N = 50, d = 1, no regularity).
let private readSpec (a: Args) (defaultW: float option) =
    let w =
        match defaultW with
        | Some dw -> a.Float("w", dw)
        | None -> a.RequireFloat "w"
    WeightMatrixSpec(
        N = a.Int("n", 50), Width = w, Density = a.Float("d", 1.0), Balance = a.Float("b", 0.0),
        Homogeneity = a.Float("h", 0.0), Reciprocity = a.Float("r", 0.0), Modularity = a.Float("m", 0.0),
        BlockSize = a.Int("block-size", 10), StrongProbability = a.Float("f", 0.2), WeakScaling = weakScaling a)

let private specFields (s: WeightMatrixSpec) =
    [ Output.int "n" s.N; Output.num "w" s.Width; Output.num "d" s.Density; Output.num "b" s.Balance
      Output.num "h" s.Homogeneity; Output.num "r" s.Reciprocity; Output.num "m" s.Modularity
      Output.int "blockSize" s.BlockSize; Output.num "f" s.StrongProbability ]

let private matrix (a: Args) =
    let asJson = a.Flag "json"
    let spec = (readSpec a None).Validated()
    let seed = a.Int("seed", 1)
    let csv = a.TryString "csv"
    a.Finish()
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

let private measureOptions (a: Args) =
    MeasureOptions(
        Transient = a.Int("transient", 1000), Steps = a.Int("steps", 1000), SecondLag = a.Int("lag2", 2),
        BiasSd = a.Float("bias-sd", 0.01), Lyapunov = true, Task = true)

let private measures (a: Args) =
    let asJson = a.Flag "json"
    let spec = (readSpec a None).Validated()
    let seed = a.Int("seed", 1)
    let o = measureOptions a
    a.Finish()
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

let private grid (a: Args) (name: string) (fallback: float[]) =
    match a.TryRange name with
    | Some xs -> xs |> Array.map (fun x -> Math.Round(x, 12))
    | None -> fallback

let private phaseDiagram (a: Args) =
    let asJson = a.Flag "json"
    let setting = a.String("setting", "standard")
    let out = a.RequireString "out"
    let n = a.Int("n", 50)
    let d = a.Float("d", 1.0)
    let quick = a.Flag "quick"
    let bs = grid a "b-range" (if quick then [| -0.6 .. 0.2 .. 0.6 |] |> Array.map (fun x -> Math.Round(x, 12)) else Array.init 21 (fun i -> Math.Round(-1.0 + 0.1 * float i, 12)))
    let ws = grid a "w-range" (if quick then [| 0.05; 0.15; 0.25; 0.35; 0.45 |] else Array.init 13 (fun i -> Math.Round(0.05 * float i, 12)) |> Array.map (fun w -> max w 0.01))
    let ensemble = a.Int("ensemble", (if quick then 2 else 10))
    let seed = a.Int("seed", 1)
    let o = measureOptions a
    // --setting custom: any regularity setting from --h/--r/--m (--block-size, --f, --weak-scaling)
    let custom =
        if setting = "custom" then
            Some(WeightMatrixSpec(N = n, Density = d, Homogeneity = a.Float("h", 0.0), Reciprocity = a.Float("r", 0.0), Modularity = a.Float("m", 0.0),
                                  BlockSize = a.Int("block-size", 10), StrongProbability = a.Float("f", 0.2), WeakScaling = weakScaling a))
        else None
    a.Finish()
    let spec = (match custom with Some c -> c | None -> RegularitiesFigures.settingSpec setting n d).Validated()
    // which mean-field boundaries apply
    let family =
        match custom with
        | None -> setting
        | Some c when c.Homogeneity > 0.0 -> "dale"
        | Some c when c.Reciprocity > 0.0 -> "hopfield"
        | Some c when c.Modularity > 0.0 -> "modular"
        | Some _ -> "standard"
    Directory.CreateDirectory out |> ignore
    let sweep =
        Sweeps.PhaseDiagram(spec, bs, ws, ensemble, o, int64 seed, -1,
            (fun doneCount total -> if doneCount % 50 = 0 || doneCount = total then Output.progress (sprintf "phase-diagram %s: %d/%d networks" setting doneCount total)))
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

let private scan (a: Args) =
    let asJson = a.Flag "json"
    let param = a.RequireString "param"
    let spec = (readSpec a (Some 0.3)).Validated()
    let values = grid a "values" [| 0.0; 0.25; 0.5; 0.75; 1.0 |]
    let balances = (a.TryFloatList "balances") |> Option.defaultValue [| 0.0; 0.2 |]
    let ensemble = a.Int("ensemble", 10)
    let seed = a.Int("seed", 1)
    let out = a.RequireString "out"
    let o = measureOptions a
    a.Finish()
    let sweep = Sweeps.Scan(spec, param, values, balances, ensemble, o, int64 seed)
    let dir = Path.GetDirectoryName(Path.GetFullPath out)
    Directory.CreateDirectory dir |> ignore
    sweep.WriteCsv out
    let meanOf q = [ for i in 0 .. values.Length - 1 do for j in 0 .. balances.Length - 1 -> (sweep.At(i, j)).MeanOf q ]
    Output.emit asJson
        [ Output.str "param" param; Output.nums "values" values; Output.nums "balances" balances; Output.int "seed" seed
          Output.nums "accuracy" (meanOf "A"); Output.nums "fluctuation" (meanOf "F"); Output.nums "nonlinearity" (meanOf "N")
          Output.str "csv" out ]
    0

let private benchmark (a: Args) =
    let asJson = a.Flag "json"
    let task = a.RequireString "task"
    let spec = (readSpec a (Some 0.1)).Validated()
    let seed = a.Int("seed", 1)
    let o = BenchmarkOptions(InputSd = a.Float("input-sd", 0.3), Washout = a.Int("washout", 200), Train = a.Int("train", 2000), Test = a.Int("test", 1000), MaxDelay = a.Int("max-delay", 0))
    a.Finish()
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

/// theory regularities matrix|measures|phase-diagram|scan|benchmark …
let run (rest: string list) (args: string list -> Args) =
    match rest with
    | "matrix" :: r -> matrix (args r)
    | "measures" :: r -> measures (args r)
    | "phase-diagram" :: r -> phaseDiagram (args r)
    | "scan" :: r -> scan (args r)
    | "benchmark" :: r -> benchmark (args r)
    | s :: _ -> raise (UsageError(sprintf "unknown subcommand 'regularities %s' (matrix, measures, phase-diagram, scan, benchmark)" s))
    | [] -> raise (UsageError "regularities needs a subcommand: matrix, measures, phase-diagram, scan, benchmark")

let private mfOptions (a: Args) =
    { MeanFieldOptions.Default with BiasVariance = (let s = a.Float("bias-sd", 0.01) in Validate.NonNegative("bias-sd", s) * s) }

let private regime (a: Args) =
    let asJson = a.Flag "json"
    let b = a.RequireFloat "b"
    let w = a.RequireFloat "w"
    let n = a.Int("n", 50)
    let d = a.Float("d", 1.0)
    let o = mfOptions a
    a.Finish()
    let r = DiscreteMeanField.Regime(b, w, n, d, o)
    Output.emit asJson
        [ Output.num "b" b; Output.num "w" w; Output.int "n" n; Output.num "d" d; Output.num "biasVariance" o.BiasVariance
          Output.str "regime" (RegimeNames.name r.Regime); Output.num "mean" r.Mean; Output.num "secondMoment" r.SecondMoment
          Output.num "lyapunov" r.Lyapunov; Output.int "period" r.Period; Output.num "couplingMean" r.CouplingMean
          Output.num "couplingVariance" r.CouplingVariance; Output.num "bulkRadius" r.BulkRadius; Output.num "outlier" r.Outlier
          Output.num "quiescentBoundaryW" (DiscreteMeanField.QuiescentBoundary(b, n, d))
          Output.int "iterations" r.Convergence.Iterations; Output.num "residual" r.Convergence.Residual; "converged", Theory.Core.Io.Json.Bool r.Converged ]
    0

let private boundariesCmd (a: Args) =
    let asJson = a.Flag "json"
    let n = a.Int("n", 50)
    let d = a.Float("d", 1.0)
    let bs = grid a "b-range" (Array.init 21 (fun i -> Math.Round(-1.0 + 0.1 * float i, 12)))
    let ws = grid a "w-range" (Array.init 12 (fun i -> Math.Round(0.05 * float (i + 1), 12)))
    let tol = a.Float("tol", 1e-4)
    let csv = a.TryString "csv"
    let o = mfOptions a
    a.Finish()
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

let private spectrum (a: Args) =
    let asJson = a.Flag "json"
    let n = a.Int("n", 50)
    let w = a.RequireFloat "w"
    let d = a.Float("d", 1.0)
    let b = a.Float("b", 0.0)
    let r = a.Float("r", 0.0)
    a.Finish()
    let p = EllipticLaw.ForRegularities(n, w, d, b, r)
    Output.emit asJson
        ([ Output.int "n" n; Output.num "w" w; Output.num "d" d; Output.num "b" b; Output.num "r" r
           Output.num "semiAxisReal" p.SemiAxisReal; Output.num "semiAxisImag" p.SemiAxisImag; Output.num "spectralRadius" p.SpectralRadius ]
         @ (match p.Outlier with Some o -> [ Output.num "outlier" o ] | None -> []))
    0

/// theory meanfield regime|boundaries|spectrum …
let runMeanField (rest: string list) (args: string list -> Args) =
    match rest with
    | "regime" :: r -> regime (args r)
    | "boundaries" :: r -> boundariesCmd (args r)
    | "spectrum" :: r -> spectrum (args r)
    | s :: _ -> raise (UsageError(sprintf "unknown subcommand 'meanfield %s' (regime, boundaries, spectrum)" s))
    | [] -> raise (UsageError "meanfield needs a subcommand: regime, boundaries, spectrum")

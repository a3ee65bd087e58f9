/// theory dmft multi-condition: the learned-network DMFT of a multi-condition task (several reach conditions, several
/// outputs) on the joint (condition, time) index (Clark et al. 2026, reaching task; docs/dmft-multi-condition.md).
module Theory.Cli.Commands.DmftMultiCondition

open System
open System.Globalization
open System.IO
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

/// Reads condition series from a CSV file: a header `condition,step,i0[,i1..],y0[,y1..]` (input channels named i*,
/// outputs y*), one row per (condition, step), steps 0,1,.. in order within each condition, conditions 0,1,.. in order.
let readSeries (path: string) : ConditionSeries[] =
    if not (File.Exists path) then raise (ParameterOutOfDomainException("series", path, "an existing CSV file"))
    let lines = File.ReadAllLines path |> Array.filter (fun l -> l.Trim() <> "" && not (l.StartsWith "#"))
    if lines.Length = 0 then raise (ParameterOutOfDomainException("series", "empty file", "a header condition,step,i0..,y0.. and at least one row"))
    let header = lines.[0].Split(',') |> Array.map (fun s -> s.Trim())
    if header.Length < 4 || header.[0] <> "condition" || header.[1] <> "step" then
        raise (ParameterOutOfDomainException("series header", lines.[0], "condition,step,i0[,i1..],y0[,y1..]"))
    let ins = header |> Array.indexed |> Array.filter (fun (_, h) -> h.StartsWith "i") |> Array.map fst
    let outs = header |> Array.indexed |> Array.filter (fun (_, h) -> h.StartsWith "y") |> Array.map fst
    if outs.Length = 0 then raise (ParameterOutOfDomainException("series", "no output column", "at least one y* column (empty targets)"))
    let parse (row: int) (s: string) =
        match Double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture) with
        | true, v -> v
        | _ -> raise (ParameterOutOfDomainException(sprintf "series row %d" row, s, "numbers"))
    let rows = lines.[1..] |> Array.mapi (fun i l -> l.Split(',') |> Array.map (parse (i + 2)))
    if rows.Length = 0 then raise (ParameterOutOfDomainException("series", "no rows", "at least one row per condition and step (empty targets)"))
    rows |> Array.iteri (fun i r ->
        if r.Length <> header.Length then raise (ParameterOutOfDomainException(sprintf "series row %d" (i + 2), sprintf "%d columns" r.Length, sprintf "%d columns" header.Length)))
    let byCond = rows |> Array.groupBy (fun r -> int r.[0]) |> Array.sortBy fst
    byCond |> Array.mapi (fun ci (c, rs) ->
        if c <> ci then raise (ParameterOutOfDomainException("series condition", string c, sprintf "conditions numbered 0,1,.. (expected %d)" ci))
        rs |> Array.iteri (fun k r ->
            if int r.[1] <> k then raise (ParameterOutOfDomainException(sprintf "series step of condition %d" c, string r.[1], sprintf "steps 0,1,.. in order (expected %d)" k)))
        { Inputs = rs |> Array.map (fun r -> ins |> Array.map (fun j -> r.[j]))
          Targets = rs |> Array.map (fun r -> outs |> Array.map (fun j -> r.[j])) })

let private run (conditions: int) (seriesPath: string option) (g: float) (gamma: float) (dt: float) (steps: int) (noise: float)
                (samples: int) (seed: int) (iterations: int) (linear: bool) (csv: string option) (asJson: bool) (gammaStep: float) (cue: string) =
    Validate.Positive("g", g) |> ignore
    Validate.NonNegative("gamma", gamma) |> ignore
    Validate.Positive("gamma-step", gammaStep) |> ignore
    let cue =
        match cue with
        | "onehot" -> OneHot
        | "direction" -> Direction
        | other -> raise (ParameterOutOfDomainException("cue", other, "onehot or direction"))
    Validate.NonNegative("noise", noise) |> ignore
    Validate.AtLeast("samples", samples, TiltedSolverOptions.MinimumChains) |> ignore
    Validate.AtLeast("iterations", iterations, TiltedSolverOptions.Default.Window + TiltedSolverOptions.Default.AverageIterations) |> ignore
    let phi = if linear then Identity else Tanh
    let mp =
        match seriesPath with
        | Some path -> MultiConditions.Build(phi, g, gamma, dt, readSeries path, 1.0, noise)
        | None ->
            if conditions < 1 then raise (ParameterOutOfDomainException("conditions", string conditions, ">= 1 (no condition: empty targets)"))
            let task = { ReachTask.Default with Conditions = conditions; Dt = dt; Steps = steps; Cue = cue }
            MultiConditions.Reach(phi, g, gamma, task, noise)
    let options =
        { TiltedSolverOptions.Default with
            Chains = samples; Seed = int64 seed; MaxIterations = iterations
            Expectation = (if linear then ExactGaussian else MonteCarlo) }
    // Continuation γ_k = min(γ, k·step): a cold solve of a strong tilt can stall (MultiConditions.SolveContinued).
    let path =
        if gamma <= gammaStep then [| gamma |]
        else Array.append (Array.init (int (Math.Ceiling(gamma / gammaStep - 1e-9)) - 1 |> max 0) (fun k -> float (k + 1) * gammaStep)) [| gamma |]
    Output.progress (sprintf "dmft multi-condition: %d conditions x %d steps (%d joint points), g = %g, gamma = %g (continuation %s)" mp.Conditions mp.Steps mp.JointPoints g gamma
                         (String.Join(" -> ", path |> Array.map (sprintf "%g"))))
    let solved =
        use progress = Progress.start "dmft multi-condition" 0
        let rs = MultiConditions.SolveContinued(mp, path, options)
        progress.Done()
        match rs |> Array.tryFind (fun (_, r) -> Result.isError r) with
        | Some(gm, Error f) when gm < gamma ->
            Error { f with Failure = { f.Failure with Reason = sprintf "at the continuation step gamma = %g: %s" gm f.Failure.Reason } }
        | _ -> snd (Array.last rs)
    match solved with
    | Error f -> raise (NotConvergedException { f.Failure with Reason = sprintf "%A: %s" f.Kind f.Failure.Reason })
    | Ok s ->
        let d = s.Diagnostics
        let sel = MultiConditions.Selectivity(mp, s.C, 1)
        let _, c0 = MultiConditions.ZeroGammaKernel({ mp.Problem with Gamma = 0.0 }, 48)
        let sel0 = MultiConditions.Selectivity(mp, c0, 1)
        let selT = MultiConditions.TimeResolvedSelectivity(mp, s.C, 1)
        let selT0 = MultiConditions.TimeResolvedSelectivity(mp, c0, 1)
        match csv with
        | Some path ->
            let n = mp.JointPoints
            let cond m = float (m / (mp.Steps - 1))
            let step m = float (m % (mp.Steps - 1) + 1)
            let rows = [| for i in 0 .. n - 1 do for j in 0 .. n - 1 -> [| cond i; step i; cond j; step j; s.C.[i, j]; c0.[i, j] |] |]
            Csv.Write(path, [ "command", "dmft multi-condition"; "g", string g; "gamma", string gamma; "conditions", string mp.Conditions
                              "steps", string mp.Steps; "dt", string dt; "noise", string noise; "samples", string samples; "seed", string seed
                              "phi", (if linear then "identity" else "tanh")
                              "columns", "joint kernel C((c,k),(c',k')) at gamma and at gamma = 0 (k = 1..n-1; x(0) = 0 is not a joint point)" ],
                      [| "condition"; "step"; "condition2"; "step2"; "C"; "C_gamma0" |], rows)
        | None -> ()
        Output.emit asJson
            [ Output.num "g" g; Output.num "gamma" gamma; Output.int "conditions" mp.Conditions; Output.int "steps" mp.Steps
              Output.int "outputs" mp.Outputs; Output.int "inputs" mp.Inputs; Output.int "jointPoints" mp.JointPoints; Output.num "dt" dt
              Output.num "noise" noise; Output.str "phi" (if linear then "identity" else "tanh")
              Output.str "task" (match seriesPath with Some p -> p | None -> "reach (ReachTask defaults)")
              Output.str "cue" (match cue with OneHot -> "onehot" | Direction -> "direction"); Output.nums "continuation" path
              Output.num "selectivity" sel; Output.num "selectivityGamma0" sel0
              Output.num "timeResolvedSelectivity" selT; Output.num "timeResolvedSelectivityGamma0" selT0
              Output.measured "meanActivity" d.MeanActivity.Mean; Output.measured "targetAlignment" d.TargetAlignment.Mean
              Output.int "iterations" d.Iterations; Output.num "cResidual" d.CResidual; Output.measured "cNoiseFloor" d.CNoiseFloor
              Output.num "kResidual" d.KResidual; Output.measured "effectiveSampleSize" d.EffectiveSampleSize; Output.num "snisBias" d.SnisBias
              Output.int "samples" samples; Output.int "seed" seed ]
        0

/// `theory dmft multi-condition`.
let command () =
    Cli.command "multi-condition" "N = inf saddle point of a multi-condition task (reach conditions x time joint index): kernel, selectivity" (fun cmd ->
        let conditions = Cli.int cmd "--conditions" 4 "number of reach conditions C (reach task); allowed: >= 1"
        let series = Cli.optionalString cmd "--series" "CSV of condition series instead of the reach task: header condition,step,i0[,i1..],y0[,y1..]"
        let g = Cli.float cmd "--g" 1.5 "coupling gain g; allowed: > 0"
        let gamma = Cli.float cmd "--gamma" 0.5 "feature-learning strength γ; allowed: >= 0"
        let dt = Cli.float cmd "--dt" ReachTask.Default.Dt "time step; allowed: > 0"
        let steps = Cli.int cmd "--steps" ReachTask.Default.Steps "grid points per condition (reach task); allowed: >= 2"
        let noise = Cli.float cmd "--noise" 0.1 "process noise σ (trained white input regularising the kernel); allowed: >= 0"
        let samples = Cli.int cmd "--samples" 1000 (sprintf "particles; allowed: >= %d" TiltedSolverOptions.MinimumChains)
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let iterations = Cli.int cmd "--iterations" TiltedSolverOptions.Default.MaxIterations "most solver iterations"
        let linear = Cli.flag cmd "--linear" "φ = identity with exact Gaussian expectations"
        let csv = Cli.optionalString cmd "--csv" "write the joint kernel (at γ and at γ = 0) to this CSV file"
        let gammaStep = Cli.float cmd "--gamma-step" 0.5 "continuation step: solve at step, 2 step, .. then gamma, each warm-started from the last; allowed: > 0"
        let cue = Cli.string cmd "--cue" "onehot" "reach task cue: onehot (channel c for condition c) or direction (A cos, A sin of the reach angle)"
        let json = Cli.json cmd
        fun r ->
            run (r.GetValue conditions) (r.GetValue series) (r.GetValue g) (r.GetValue gamma) (r.GetValue dt) (r.GetValue steps) (r.GetValue noise)
                (r.GetValue samples) (r.GetValue seed) (r.GetValue iterations) (r.GetValue linear) (r.GetValue csv) (r.GetValue json)
                (r.GetValue gammaStep) (r.GetValue cue))

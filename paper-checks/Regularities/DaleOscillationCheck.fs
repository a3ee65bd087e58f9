/// Dale h = 1 (and h = 0.5) networks of Metzner et al. (2025): does the outlier-extended Dale mean field
/// (<see cref="Theory.Core.MeanField.DaleOscillation"/>) predict the synchronised (global period-2) oscillation regime
/// over the (b, w) plane, and does it do better than the column-sign closure (<see cref="CouplingStatistics.Dale"/>)?
module Theory.PaperChecks.Regularities.DaleOscillationCheck

open System
open ScottPlot
open Theory.Core
open Theory.Core.Io
open Theory.Core.MeanField
open Theory.Core.Numerics
open Theory.PaperChecks
open Theory.Simulation.Reservoir

let private claim s m p = { Statement = s; Measured = m; Pass = p }

/// One (b, w) cell: simulated fraction of period-2 networks and the predictions.
type Cell =
    { B: float
      W: float
      Networks: int
      /// Fraction of networks classified Oscillatory by DynamicalMeasures.Classify.
      SimFraction: float
      /// New theory: mean over the networks of P(osc | realised n⁺), and the ensemble P (n⁺ binomial).
      NewRealised: float
      NewEnsemble: float
      NewEnsembleError: float
      /// Old column-sign closure: fraction of networks whose realised-n⁺ closure is oscillatory; 0/1 at the expected n⁺.
      OldRealised: float
      OldExpected: float
      /// Per-network scores summed over the cell's networks (y = 1 for a period-2 network): Σ (P_realised − y)² of the
      /// new theory, and the numbers of wrong labels of the new theory (P > 1/2) and of the old closure (realised n⁺).
      BrierNew: float
      WrongNew: int
      WrongOld: int }

/// Simulates and predicts one grid. Network k of every cell uses Sweeps.MemberSeed(seed, k) (as the phase diagrams);
/// the Monte Carlo of the prediction for network k uses the same member seed (stream 0), the ensemble prediction
/// the cell's seed (stream 1).
let evaluate (n: int) (h: float) (bs: float[]) (ws: float[]) (ens: int) (steps: int * int) (o: DaleOscillationOptions) (seed: int64) (tick: unit -> unit) =
    let transient, kept = steps
    let thresholds = Collections.Concurrent.ConcurrentDictionary<float * float, DaleFlipThreshold>()
    let cellsIdx = [| for i in 0 .. bs.Length - 1 do for j in 0 .. ws.Length - 1 -> i, j |]
    cellsIdx
    |> Array.Parallel.map (fun (i, j) ->
        let b, w = bs.[i], ws.[j]
        let nExp = DaleOscillation.ExpectedNPlus(n, b)
        let r = (DaleOutliers.RankOne(n, nExp, w, 1.0, b, h)).BulkRadius
        // the threshold depends on (N, r) only: cached by r rounded to 1e-9 (h = 1: one per w row)
        let thr = thresholds.GetOrAdd((Math.Round(r, 9), 0.0), fun _ -> DaleOscillation.Threshold(n, r, o))
        let members =
            Array.init ens (fun k ->
                let ms = Sweeps.MemberSeed(seed, k)
                let spec = WeightMatrixSpec(N = n, Width = w, Balance = b, Homogeneity = h).Validated()
                let m = WeightMatrixGenerator.Generate(spec, ms)
                let nPlus = m.ColumnSigns |> Array.filter (fun t -> t > 0) |> Array.length
                let rng = Rng.ForStream(ms, 1L)
                let net = DiscreteNetwork.Create(m, NetworkOptions(BiasSd = Math.Sqrt o.MeanField.BiasVariance), rng)
                let run = net.RunFree(net.InitialState(rng), transient, kept, false)
                let osc = DynamicalMeasures.Classify(run.States, n, run.Lyapunov) = Regime.Oscillatory
                let p = DaleOscillation.Predict(n, nPlus, w, 1.0, b, h, thr, o, ms)
                tick ()
                osc, p.Probability, p.ClosureRegime = Regime.Oscillatory)
        let frac f = float (members |> Array.filter f |> Array.length) / float ens
        let e = DaleOscillation.PredictEnsemble(n, w, 1.0, b, h, o, seed + int64 (1000 * i + j))
        let oldExp = (BlockMeanField.Classify(CouplingStatistics.DaleExpected(n, w, 1.0, b, h), o.MeanField)).Regime = Regime.Oscillatory
        { B = b; W = w; Networks = ens
          SimFraction = frac (fun (s, _, _) -> s)
          NewRealised = members |> Array.averageBy (fun (_, p, _) -> p)
          NewEnsemble = e.Probability
          NewEnsembleError = e.ProbabilityError
          OldRealised = frac (fun (_, _, c) -> c)
          OldExpected = (if oldExp then 1.0 else 0.0)
          BrierNew = members |> Array.sumBy (fun (s, p, _) -> (p - (if s then 1.0 else 0.0)) ** 2.0)
          WrongNew = members |> Array.filter (fun (s, p, _) -> (p > 0.5) <> s) |> Array.length
          WrongOld = members |> Array.filter (fun (s, _, c) -> c <> s) |> Array.length })

/// Agreement of the majority labels (fraction > 1/2) of a predictor with the simulation, with the binomial s.e.
let agreement (cells: Cell[]) (pred: Cell -> float) =
    let k = cells |> Array.filter (fun c -> (pred c > 0.5) = (c.SimFraction > 0.5)) |> Array.length
    let p = float k / float cells.Length
    p, Math.Sqrt(p * (1.0 - p) / float cells.Length), k

/// Calibration: fraction of cells where |f_sim − p| ≤ 2·√(p(1 − p)/n_ens + se_p²) + 1/(2 n_ens) (two binomial s.e. of
/// the simulated fraction if p is right, the Monte Carlo s.e. of p, and a continuity correction).
let calibrated (cells: Cell[]) (pred: Cell -> float) (predErr: Cell -> float) =
    let ok (c: Cell) =
        let p = pred c
        let se = Math.Sqrt(p * (1.0 - p) / float c.Networks + (predErr c) ** 2.0)
        abs (c.SimFraction - p) <= 2.0 * se + 0.5 / float c.Networks
    float (cells |> Array.filter ok |> Array.length) / float cells.Length

/// Expected label agreement if the predicted probability p were exact: the simulated label is "oscillatory" when
/// more than half of the n networks oscillate, P(Bin(n, p) > n/2); it agrees with the prediction (p > 1/2) with that
/// probability, otherwise with its complement. Mean over the cells and the binomial s.e. of the measured agreement.
let expectedAgreement (cells: Cell[]) (pred: Cell -> float) =
    let tail (n: int) (p: float) =
        let mutable acc = 0.0
        let mutable binom = 1.0 // C(n, k)
        for k in 0 .. n do
            if k > 0 then binom <- binom * float (n - k + 1) / float k
            if 2 * k > n then acc <- acc + binom * (p ** float k) * ((1.0 - p) ** float (n - k))
        acc
    cells |> Array.averageBy (fun c -> let p = pred c in let q = tail c.Networks p in if p > 0.5 then q else 1.0 - q)

let private mae (cells: Cell[]) (pred: Cell -> float) = cells |> Array.averageBy (fun c -> abs (c.SimFraction - pred c))

/// Heatmap of the simulated oscillating fraction with the new (P = 1/2, interpolated along b per w row) and old
/// (closure at the expected n⁺, bisected along b) boundaries.
let private figure (cells: Cell[]) (bs: float[]) (ws: float[]) (n: int) (h: float) (o: DaleOscillationOptions) (title: string) (path: string) =
    let plt = new Plot()
    let db = (bs.[bs.Length - 1] - bs.[0]) / float (bs.Length - 1)
    let dw = (ws.[ws.Length - 1] - ws.[0]) / float (ws.Length - 1)
    let cmap = ScottPlot.Colormaps.Viridis()
    for c in cells do
        let rect = plt.Add.Rectangle(c.B - db / 2.0, c.B + db / 2.0, c.W - dw / 2.0, c.W + dw / 2.0)
        rect.FillColor <- cmap.GetColor(c.SimFraction)
        rect.LineWidth <- 0.0f
    let newPts = Collections.Generic.List<float * float>()
    let oldPts = Collections.Generic.List<float * float>()
    for w in ws do
        let row = cells |> Array.filter (fun c -> c.W = w) |> Array.sortBy (fun c -> c.B)
        for k in 0 .. row.Length - 2 do
            let p1, p2 = row.[k].NewEnsemble - 0.5, row.[k + 1].NewEnsemble - 0.5
            if p1 * p2 < 0.0 then newPts.Add(row.[k].B + (row.[k + 1].B - row.[k].B) * p1 / (p1 - p2), w)
        let oldOsc b = (BlockMeanField.Classify(CouplingStatistics.DaleExpected(n, w, 1.0, b, h), o.MeanField)).Regime = Regime.Oscillatory
        for k in 0 .. row.Length - 2 do
            let o1, o2 = oldOsc row.[k].B, oldOsc row.[k + 1].B
            if o1 <> o2 then
                let mutable lo, hi = row.[k].B, row.[k + 1].B
                for _ in 1 .. 30 do
                    let mid = 0.5 * (lo + hi)
                    if oldOsc mid = o1 then lo <- mid else hi <- mid
                oldPts.Add(0.5 * (lo + hi), w)
    let line (pts: Collections.Generic.List<float * float>) (col: Color) (label: string) =
        if pts.Count > 0 then
            let s = plt.Add.Scatter(pts |> Seq.map fst |> Seq.toArray, pts |> Seq.map snd |> Seq.toArray)
            s.LineWidth <- 2.0f
            s.MarkerSize <- 7.0f
            s.Color <- col
            s.LegendText <- label
    line newPts Colors.White "new: P(osc) = 1/2 (ensemble)"
    line oldPts Colors.Red "old closure (expected n⁺)"
    plt.ShowLegend() |> ignore
    plt.Title(title)
    plt.XLabel("balance b")
    plt.YLabel("width w")
    plt.Axes.SetLimits(bs.[0] - db / 2.0, bs.[bs.Length - 1] + db / 2.0, ws.[0] - dw / 2.0, ws.[ws.Length - 1] + dw / 2.0)
    plt.SavePng(path, 640, 520) |> ignore

/// Grid in scaled units: b = β/√N, β ∈ [−3, 3], w = g/√N (the transition band and the bulk edge scale as 1/√N).
let grid (n: int) (quick: bool) =
    let sq = Math.Sqrt(float n)
    let betas = if quick then Array.init 9 (fun i -> -3.0 + 0.75 * float i) else Array.init 13 (fun i -> -3.0 + 0.5 * float i)
    let gs = if quick then [| 0.5; 1.5; 2.5; 3.5 |] else Array.init 8 (fun i -> 0.5 + 0.5 * float i)
    betas |> Array.map (fun x -> Math.Round(x / sq, 12)), gs |> Array.map (fun g -> Math.Round(g / sq, 12))

let run (ctx: CheckContext) : CheckResult =
    let seed = int64 ctx.Seed
    let o = { DaleOscillationOptions.Default with Samples = (if ctx.Quick then 200 else 400) }
    let ens = if ctx.Quick then 8 else 10
    let steps = if ctx.Quick then 600, 100 else 1000, 200
    let runs = if ctx.Quick then [ 100, 1.0 ] else [ 100, 1.0; 400, 1.0; 400, 0.5 ]
    let results =
        [ for (n, h) in runs ->
            let bs, ws = grid n ctx.Quick
            ctx.Progress (sprintf "  dale-oscillation: N = %d, h = %g (%d × %d cells × %d networks)" n h bs.Length ws.Length ens)
            use counter = ctx.Count(sprintf "dale-oscillation N=%d h=%g networks" n h, bs.Length * ws.Length * ens)
            let cells = evaluate n h bs ws ens steps o (seed + int64 n) (fun () -> counter.Tick())
            counter.Done()
            (n, h), (bs, ws, cells) ]
    let figures =
        [ for ((n, h), (bs, ws, cells)) in results do
            let file = sprintf "reg-dale-oscillation-N%d-h%g.png" n h
            figure cells bs ws n h o (sprintf "Dale h = %g, N = %d: fraction of period-2 networks" h n) (ctx.File file)
            yield { File = file; Caption = sprintf "N = %d, h = %g: simulated fraction of synchronised period-2 networks over (b, w); white: new mean field P = 1/2; red: column-sign closure at the expected n⁺" n h } ]
    let pct (p: float, se: float, _) = sprintf "%.1f ± %.1f%%" (100.0 * p) (100.0 * se)
    let claims =
        [ for ((n, h), (_, _, cells)) in results do
            let aNewE = agreement cells (fun c -> c.NewEnsemble)
            let aNewR = agreement cells (fun c -> c.NewRealised)
            let aOldE = agreement cells (fun c -> c.OldExpected)
            let aOldR = agreement cells (fun c -> c.OldRealised)
            let expNew = expectedAgreement cells (fun c -> c.NewEnsemble)
            let calNew = calibrated cells (fun c -> c.NewEnsemble) (fun c -> c.NewEnsembleError)
            let calOld = calibrated cells (fun c -> c.OldExpected) (fun _ -> 0.0)
            let (a, ae, _) = aNewE
            let nets = cells |> Array.sumBy (fun c -> c.Networks)
            let brier = (cells |> Array.sumBy (fun c -> c.BrierNew)) / float nets
            let wrongNew = float (cells |> Array.sumBy (fun c -> c.WrongNew)) / float nets
            let wrongOld = float (cells |> Array.sumBy (fun c -> c.WrongOld)) / float nets
            // threshold X = the agreement a perfect probability would reach with this many networks per cell (cells with
            // P ≈ 1/2 are coin flips), minus 2 binomial s.e. over the cells: ≈ 94% − 2 × 2.3–4.6%
            yield claim (sprintf "N = %d, h = %g: the extended mean field predicts the synchronised-oscillation label (majority of networks) as well as an exact probability would: agreement ≥ its expectation under the theory − 2 s.e." n h)
                        (sprintf "new (ensemble n⁺) %s, threshold %.1f%% (expected %.1f%%); new (realised n⁺) %s; old closure: expected n⁺ %s, realised n⁺ %s; %d cells" (pct aNewE) (100.0 * (expNew - 2.0 * ae)) (100.0 * expNew) (pct aNewR) (pct aOldE) (pct aOldR) cells.Length)
                        (a >= expNew - 2.0 * ae)
            yield claim (sprintf "N = %d, h = %g: the predicted probability is calibrated: |f_sim − P| within 2 binomial s.e. on ≥ 85%% of the cells, where the 0/1 closure at the expected n⁺ is not" n h)
                        (sprintf "new %.0f%%, old (expected n⁺) %.0f%%; mean |f_sim − P|: new %.3f, new realised %.3f, old expected %.3f, old realised %.3f; per network (%d): Brier(new, realised n⁺) %.3f, wrong labels new %.3f, old closure %.3f" (100.0 * calNew) (100.0 * calOld) (mae cells (fun c -> c.NewEnsemble)) (mae cells (fun c -> c.NewRealised)) (mae cells (fun c -> c.OldExpected)) (mae cells (fun c -> c.OldRealised)) nets brier wrongNew wrongOld)
                        (calNew >= 0.85 && calNew > calOld)
            yield claim (sprintf "N = %d, h = %g: per network at the realised n⁺, the new probability scores better than the old closure's 0/1 label (Brier score < the closure's error rate)" n h)
                        (sprintf "Brier %.3f vs error rate %.3f over %d networks (new P > 1/2 wrong on %.3f)" brier wrongOld nets wrongNew)
                        (brier < wrongOld) ]
    for ((n, h), (_, _, cells)) in results do
        let rows = [ for c in cells -> [| c.B; c.W; c.SimFraction; c.NewEnsemble; c.NewEnsembleError; c.NewRealised; c.OldExpected; c.OldRealised |] ]
        Csv.Write(ctx.File(sprintf "reg-dale-oscillation-N%d-h%g.csv" n h), [ "n", string n; "h", string h; "networks", string ens; "seed", string seed ],
                  [| "b"; "w"; "sim_fraction"; "new_ensemble"; "new_ensemble_se"; "new_realised"; "old_expected"; "old_realised" |], rows)
    let numbers =
        [ for ((n, h), (_, _, cells)) in results do
            let key s = sprintf "%s_N%d_h%g" s n h
            let (a, ae, _) = agreement cells (fun c -> c.NewEnsemble)
            let (b, be, _) = agreement cells (fun c -> c.OldExpected)
            let (ar, _, _) = agreement cells (fun c -> c.NewRealised)
            let (br, _, _) = agreement cells (fun c -> c.OldRealised)
            yield key "agreementNew", Json.Number(key "agreementNew", a)
            yield key "agreementNewSe", Json.Number(key "agreementNewSe", ae)
            yield key "agreementNewRealised", Json.Number(key "agreementNewRealised", ar)
            yield key "agreementOld", Json.Number(key "agreementOld", b)
            yield key "agreementOldSe", Json.Number(key "agreementOldSe", be)
            yield key "agreementOldRealised", Json.Number(key "agreementOldRealised", br)
            yield key "calibratedNew", Json.Number(key "calibratedNew", calibrated cells (fun c -> c.NewEnsemble) (fun c -> c.NewEnsembleError))
            yield key "maeNew", Json.Number(key "maeNew", mae cells (fun c -> c.NewEnsemble))
            yield key "maeOld", Json.Number(key "maeOld", mae cells (fun c -> c.OldExpected))
            let nets = float (cells |> Array.sumBy (fun c -> c.Networks))
            yield key "brierNewRealised", Json.Number(key "brierNewRealised", (cells |> Array.sumBy (fun c -> c.BrierNew)) / nets)
            yield key "wrongNewRealised", Json.Number(key "wrongNewRealised", float (cells |> Array.sumBy (fun c -> c.WrongNew)) / nets)
            yield key "wrongOldRealised", Json.Number(key "wrongOldRealised", float (cells |> Array.sumBy (fun c -> c.WrongOld)) / nets)
            yield key "expectedAgreementNew", Json.Number(key "expectedAgreementNew", expectedAgreement cells (fun c -> c.NewEnsemble)) ]
    { Name = "regularities-dale-oscillation"
      Paper = "Metzner, Schilling, Maier & Krauss 2025"
      Title = "Dale networks: synchronised period-2 regime, outlier-extended mean field vs column-sign closure vs simulation"
      Parameters =
        [ "runs (N, h)", (runs |> List.map (fun (n, h) -> sprintf "(%d, %g)" n h) |> String.concat ", ")
          "grid", (if ctx.Quick then "b√N ∈ −3..3 (9), w√N ∈ 0.5..3.5 (4)" else "b√N ∈ −3..3 (13), w√N ∈ 0.5..4 (8)")
          "networks per cell", string ens; "transient/steps", sprintf "%d/%d" (fst steps) (snd steps)
          "Monte Carlo draws", string o.Samples; "outlier terms K", string o.Terms; "seed", string seed; "d", "1"; "σ_β", "0.01" ]
      Claims = claims
      Figures = figures
      Numbers = numbers
      Notes =
        [ "The synchronised oscillation of Dale networks is set by the leading outlier of W, which is not self-averaging (the rank-one column mean is non-normal, |u||1| = κ√N): the theory predicts the probability that a network oscillates, not the label of one network. Labels of cells with P ≈ 1/2 are decided by ensemble noise (10 networks: s.e. 0.16), which caps the attainable label agreement."
          "Grid in scaled units (b√N, w√N) because the transition band in b and the bulk edge in w scale as 1/√N; d = 1."
          "Cost: quick N = 100, 9 × 4 cells × 8 networks, 600 + 100 steps (≈ 12 s of CPU time; 40–60 s wall on the shared machine under load); full N = 100 and 400 (h = 1) and N = 400 (h = 0.5), 13 × 8 cells × 10 networks, 1000 + 200 steps (≈ 5 min of CPU time)." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "regularities-dale-oscillation"; Paper = "Metzner, Schilling, Maier & Krauss 2025"; Title = "Dale networks: synchronised-oscillation regime, extended mean field vs simulation"; Run = run }

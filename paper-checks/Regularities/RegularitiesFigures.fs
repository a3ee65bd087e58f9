/// Shared settings and figures of the Metzner et al. (2025) checks and the `theory regularities phase-diagram` command.
module Theory.PaperChecks.Regularities.RegularitiesFigures

open System
open ScottPlot
open Theory.Core
open Theory.Core.MeanField
open Theory.Simulation.Reservoir

/// The four settings of the paper's Fig. 3. "Strong" values h = 1, r = 1, m = 0.8 (M = 10, f = 0.2) are
/// [reconstructed] (research note A8); N and d as given.
let settingSpec (setting: string) (n: int) (d: float) : WeightMatrixSpec =
    match setting with
    | "standard" -> WeightMatrixSpec(N = n, Density = d)
    | "hopfield" -> WeightMatrixSpec(N = n, Density = d, Reciprocity = 1.0)
    | "dale" -> WeightMatrixSpec(N = n, Density = d, Homogeneity = 1.0)
    | "modular" -> WeightMatrixSpec(N = n, Density = d, Modularity = 0.8, BlockSize = 10, StrongProbability = 0.2)
    | s -> raise (ParameterOutOfDomainException("setting", s, "standard, hopfield, dale or modular"))

/// Mean-field boundary curves for a setting (drawn on the heatmaps):
/// standard → homogeneous mean field; dale → the column-sign (two-population) mean field with the expected number of
/// positive columns; modular → the block mean field on the block labels of the ensemble's first matrix (seeded);
/// hopfield → the elliptic-law quiescent boundary only (the i.i.d. mean field does not apply to symmetric couplings).
let boundaries (setting: string) (spec: WeightMatrixSpec) (bs: float[]) (ws: float[]) (seed: int64) : BoundaryCurve list =
    let o = MeanFieldOptions.Default
    let n = spec.N
    let bsC = Array.init 21 (fun i -> bs.[0] + (bs.[bs.Length - 1] - bs.[0]) * float i / 20.0)
    let wsC = Array.init 13 (fun i -> max 1e-4 (ws.[0] + (ws.[ws.Length - 1] - ws.[0]) * float i / 12.0))
    let tol = (ws.[ws.Length - 1] - ws.[0]) / 400.0
    match setting with
    | "hopfield" ->
        let wq = bs |> Array.map (fun b ->
            let p = Theory.Core.RandomMatrix.EllipticLaw.ForRegularities(n, 1.0, spec.Density, b, spec.Reciprocity)
            // the spectrum scales with w: the quiescent state loses stability where the largest real extent reaches 1
            let reach = max p.SemiAxisReal (match p.Outlier with Some x -> abs x | None -> 0.0)
            1.0 / reach)
        [ { Between = (Regime.Quiescent, Regime.Chaotic); B = bs; W = wq } ]
    | "dale" ->
        let f = Func<float, float, Regime>(fun b w -> (DiscreteMeanField.OfStructure(CouplingStatistics.DaleExpected(n, w, spec.Density, b, spec.Homogeneity), o)).Regime)
        PhaseBoundaries.Trace(f, bsC, wsC, tol)
    | "modular" ->
        let labels = (WeightMatrixGenerator.Generate(spec.Validated(), Sweeps.MemberSeed(seed, 0))).StrongBlockMatrix()
        let f = Func<float, float, Regime>(fun b w -> (DiscreteMeanField.OfStructure(CouplingStatistics.Modular(spec.BlockSize, labels, w, b, spec.Modularity, spec.WeakScaling = WeakBlockScaling.Sqrt), o)).Regime)
        PhaseBoundaries.Trace(f, bsC, wsC, tol)
    | _ -> PhaseBoundaries.Homogeneous(n, spec.Density, bsC, wsC, tol, o)

/// Heatmap of one quantity over (b, w) with the boundary points on top; b horizontal, w vertical (paper's axes).
/// Cells are centred on the grid values and sized by the mean spacing, so grids should be uniform.
let rec heatmap (sweep: SweepResult) (quantity: string) (title: string) (curves: BoundaryCurve list) (lo: float) (hi: float) (path: string) =
    heatmapOf sweep.Xs sweep.Ys (sweep.Map quantity) title curves lo hi path

/// The heatmap of a map over the (b, w) grid (map.[ib, iw]), e.g. read back from the CSVs of a sharded sweep.
and heatmapOf (bs: float[]) (ws: float[]) (map: float[,]) (title: string) (curves: BoundaryCurve list) (lo: float) (hi: float) (path: string) =
    let nb, nw = bs.Length, ws.Length
    // row 0 is drawn at the top
    let z = Array2D.init nw nb (fun r c -> map.[c, nw - 1 - r])
    let plt = new Plot()
    let hm = plt.Add.Heatmap(z)
    hm.Colormap <- ScottPlot.Colormaps.Viridis()
    hm.ManualRange <- Nullable(ScottPlot.Range(lo, hi))
    let db = if nb > 1 then (bs.[nb - 1] - bs.[0]) / float (nb - 1) else 0.1
    let dw = if nw > 1 then (ws.[nw - 1] - ws.[0]) / float (nw - 1) else 0.05
    hm.Extent <- Nullable(CoordinateRect(bs.[0] - db / 2.0, bs.[nb - 1] + db / 2.0, ws.[0] - dw / 2.0, ws.[nw - 1] + dw / 2.0))
    // the bitmap heatmap maps pixel centres to the extent edges (edge cells drawn half-width), so the cells are drawn
    // as exact rectangles centred on the grid points; the invisible heatmap only feeds the colour bar
    hm.Opacity <- 0.0
    let cmap = ScottPlot.Colormaps.Viridis()
    for c in 0 .. nb - 1 do
        for r in 0 .. nw - 1 do
            let v = map.[c, r]
            let frac = if hi > lo then max 0.0 (min 1.0 ((v - lo) / (hi - lo))) else 0.5
            let rect = plt.Add.Rectangle(bs.[c] - db / 2.0, bs.[c] + db / 2.0, ws.[r] - dw / 2.0, ws.[r] + dw / 2.0)
            rect.FillColor <- cmap.GetColor frac
            rect.LineWidth <- 0.0f
    plt.Add.ColorBar(hm, Edge.Right) |> ignore
    for c in curves do
        let inside = Array.zip c.B c.W |> Array.filter (fun (_, w) -> w >= ws.[0] - dw / 2.0 && w <= ws.[nw - 1] + dw / 2.0 && Double.IsFinite w)
        if inside.Length > 0 then
            let s = plt.Add.Scatter(Array.map fst inside, Array.map snd inside)
            s.LineWidth <- 0.0f
            s.MarkerSize <- 4.0f
            s.Color <- Colors.White
    plt.Title(title)
    plt.XLabel("balance b")
    plt.YLabel("width w")
    plt.Axes.SetLimits(bs.[0] - db / 2.0, bs.[nb - 1] + db / 2.0, ws.[0] - dw / 2.0, ws.[nw - 1] + dw / 2.0)
    plt.SavePng(path, 640, 520) |> ignore

/// The quantities of the paper's Fig. 3 (free run N, F, C(1); task accuracy A) with their colour ranges.
let fig3Quantities = [ "N", "nonlinearity N", 0.0, 1.0; "F", "fluctuation F", 0.0, 1.0; "C1", "correlation C(1)", -1.0, 1.0; "A", "accuracy A", 0.0, 1.0 ]

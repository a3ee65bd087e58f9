/// Figures of the simulated phase diagram (Clark et al. 2026, Fig. 3): heatmap of the ordered fraction f(g, γ) with
/// γ⋆ curves on top. Shared by `theory simulate phase-diagram` and the paper-check `sim-phase-diagram`.
module Theory.PaperChecks.Dmft.PhaseDiagramFigures

open System
open ScottPlot
open Theory.Simulation.PhaseDiagram

/// Cell edges of a sorted grid: midpoints between neighbours, the ends extended by half the adjacent spacing (a single
/// value gets a cell of width `def`).
let private edges (xs: float[]) (def: float) =
    let n = xs.Length
    if n = 1 then [| xs.[0] - def / 2.0; xs.[0] + def / 2.0 |]
    else
        Array.init (n + 1) (fun i ->
            if i = 0 then xs.[0] - (xs.[1] - xs.[0]) / 2.0
            elif i = n then xs.[n - 1] + (xs.[n - 1] - xs.[n - 2]) / 2.0
            else 0.5 * (xs.[i - 1] + xs.[i]))

/// Heatmap of f over g (horizontal) and γ (vertical); each cell spans the midpoints to its neighbours (non-uniform
/// grids allowed). simStars: (g, γ⋆, error) of the simulation; dmftStars: (g, γ⋆, error) of the DMFT.
let heatmap (cells: PhaseCell[]) (simStars: (float * float * float) list) (dmftStars: (float * float * float) list) (title: string) (path: string) =
    let gs = cells |> Array.map (fun c -> c.G) |> Array.distinct |> Array.sort
    let gms = cells |> Array.map (fun c -> c.Gamma) |> Array.distinct |> Array.sort
    let ng, nm = gs.Length, gms.Length
    let lookup = cells |> Array.map (fun c -> (c.G, c.Gamma), c.Fraction) |> dict
    let value g gm = match lookup.TryGetValue((g, gm)) with | true, v -> v | _ -> nan
    let eg = edges gs 0.5
    let em = edges gms 0.25
    use plt = new Plot()
    let z = Array2D.init nm ng (fun r c -> value gs.[c] gms.[nm - 1 - r])
    let hm = plt.Add.Heatmap(z)
    hm.Colormap <- Colormaps.Viridis()
    hm.ManualRange <- Nullable(Range(0.0, 1.0))
    hm.Extent <- Nullable(CoordinateRect(eg.[0], eg.[ng], em.[0], em.[nm]))
    hm.Opacity <- 0.0
    let cmap = Colormaps.Viridis()
    for c in 0 .. ng - 1 do
        for r in 0 .. nm - 1 do
            let v = value gs.[c] gms.[r]
            let rect = plt.Add.Rectangle(eg.[c], eg.[c + 1], em.[r], em.[r + 1])
            rect.FillColor <- (if Double.IsFinite v then cmap.GetColor(max 0.0 (min 1.0 v)) else Colors.Gray)
            rect.LineWidth <- 0.0f
    let cb = plt.Add.ColorBar(hm, Edge.Right)
    cb.Label <- "fraction of seeds on a limit cycle (period ~T)"
    let overlay (stars: (float * float * float) list) (color: Color) (label: string) =
        let pts = stars |> List.filter (fun (_, s, _) -> Double.IsFinite s) |> Array.ofList
        if pts.Length > 0 then
            let xs = pts |> Array.map (fun (g, _, _) -> g)
            let ys = pts |> Array.map (fun (_, s, _) -> s)
            let es = pts |> Array.map (fun (_, _, e) -> if Double.IsFinite e then e else 0.0)
            let s = plt.Add.Scatter(xs, ys)
            s.Color <- color
            s.MarkerSize <- 9.0f
            s.LineWidth <- 2.0f
            s.LegendText <- label
            let eb = plt.Add.ErrorBar(xs, ys, es)
            eb.Color <- color
    overlay simStars Colors.White "simulation gamma*(g) (f = 1/2, bootstrap s.d.)"
    overlay dmftStars Colors.Red "DMFT gamma*(g)"
    plt.Title(title)
    plt.XLabel("g")
    plt.YLabel("gamma")
    plt.Axes.SetLimits(eg.[0], eg.[ng], em.[0], em.[nm])
    if not (simStars.IsEmpty && dmftStars.IsEmpty) then plt.ShowLegend() |> ignore
    plt.SavePng(path, 720, 560) |> ignore

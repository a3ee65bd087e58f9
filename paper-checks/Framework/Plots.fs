namespace Theory.PaperChecks

open ScottPlot

/// Small helpers over ScottPlot 5 for headless PNG figures.
module Plots =
    /// A line (theory curve) with a legend label.
    let line (plt: Plot) (xs: float[]) (ys: float[]) (label: string) =
        let s = plt.Add.Scatter(xs, ys)
        s.MarkerSize <- 0.0f
        s.LineWidth <- 2.0f
        s.LegendText <- label
        s

    /// Markers only (simulation points) with a legend label.
    let points (plt: Plot) (xs: float[]) (ys: float[]) (label: string) =
        let s = plt.Add.Scatter(xs, ys)
        s.LineWidth <- 0.0f
        s.MarkerSize <- 8.0f
        s.LegendText <- label
        s

    /// Markers with vertical error bars.
    let pointsWithErrors (plt: Plot) (xs: float[]) (ys: float[]) (errs: float[]) (label: string) =
        let s = points plt xs ys label
        let eb = plt.Add.ErrorBar(xs, ys, errs)
        eb.Color <- s.Color
        s

    /// Markers with vertical error bars, both in the given colour, with the given marker shape.
    let styledPointsWithErrors (plt: Plot) (xs: float[]) (ys: float[]) (errs: float[]) (label: string) (color: Color) (shape: MarkerShape) =
        let s = points plt xs ys label
        s.Color <- color
        s.MarkerShape <- shape
        let eb = plt.Add.ErrorBar(xs, ys, errs)
        eb.Color <- color
        s

    /// Title and axis labels.
    let labels (plt: Plot) (title: string) (x: string) (y: string) =
        plt.Title(title)
        plt.XLabel(x)
        plt.YLabel(y)

    /// Saves a PNG (width × height pixels) and returns the file name for the report.
    let save (plt: Plot) (ctx: CheckContext) (name: string) (width: int) (height: int) =
        plt.ShowLegend() |> ignore
        plt.SavePng(ctx.File name, width, height) |> ignore
        name

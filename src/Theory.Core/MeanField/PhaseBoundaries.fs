namespace Theory.Core.MeanField

open System
open Theory.Core

/// One phase boundary: the points (b, w) where the mean-field regime changes between two regimes.
type BoundaryCurve =
    { /// The two regimes separated (ordered by their enum value).
      Between: Regime * Regime
      /// Points on the boundary, sorted by b then w.
      B: float[]
      W: float[] }

/// Phase boundaries of a regime classifier as curves in the (b, w) plane. The boundaries are located by scanning
/// each b column along w and each w row along b on a grid and bisecting every label change to a tolerance, so the
/// result works for any classifier (homogeneous, Dale, modular mean field).
[<AbstractClass; Sealed>]
type PhaseBoundaries private () =

    static member private Bisect(f: float -> Regime, lo: float, hi: float, rlo: Regime, tol: float) =
        let mutable lo = lo
        let mutable hi = hi
        while hi - lo > tol do
            let mid = 0.5 * (lo + hi)
            if f mid = rlo then lo <- mid else hi <- mid
        0.5 * (lo + hi), f hi

    /// Boundary curves of <paramref name="classify"/> (b → w → regime) over the grid bs × ws, refined by bisection
    /// to <paramref name="tolerance"/> (in the scanned coordinate).
    static member Trace(classify: Func<float, float, Regime>, bs: float[], ws: float[], tolerance: float) : BoundaryCurve list =
        Validate.Positive("tolerance", tolerance) |> ignore
        if bs.Length < 2 || ws.Length < 2 then invalidArg "bs" "need at least two grid values in b and in w"
        let pts = Collections.Generic.Dictionary<Regime * Regime, Collections.Generic.List<float * float>>()
        let add (r1: Regime) (r2: Regime) (p: float * float) =
            let key = if r1 <= r2 then (r1, r2) else (r2, r1)
            match pts.TryGetValue key with
            | true, l -> l.Add p
            | _ ->
                let l = Collections.Generic.List()
                l.Add p
                pts.[key] <- l
        let grid = Array2D.init bs.Length ws.Length (fun i j -> classify.Invoke(bs.[i], ws.[j]))
        // along w in each b column
        for i in 0 .. bs.Length - 1 do
            for j in 0 .. ws.Length - 2 do
                let r1 = grid.[i, j]
                let r2 = grid.[i, j + 1]
                if r1 <> r2 then
                    let f w = classify.Invoke(bs.[i], w)
                    let wm, rhi = PhaseBoundaries.Bisect(f, ws.[j], ws.[j + 1], r1, tolerance)
                    add r1 rhi (bs.[i], wm)
        // along b in each w row
        for j in 0 .. ws.Length - 1 do
            for i in 0 .. bs.Length - 2 do
                let r1 = grid.[i, j]
                let r2 = grid.[i + 1, j]
                if r1 <> r2 then
                    let f b = classify.Invoke(b, ws.[j])
                    let bm, rhi = PhaseBoundaries.Bisect(f, bs.[i], bs.[i + 1], r1, tolerance)
                    add r1 rhi (bm, ws.[j])
        [ for kv in pts do
            let sorted = kv.Value |> Seq.sortBy id |> Seq.toArray
            if fst kv.Key <> snd kv.Key then
                yield { Between = kv.Key; B = sorted |> Array.map fst; W = sorted |> Array.map snd } ]
        |> List.sortBy (fun c -> c.Between)

    /// Boundaries of the homogeneous mean field (pure matrix) at (N, d).
    static member Homogeneous(n: int, d: float, bs: float[], ws: float[], tolerance: float, options: MeanFieldOptions) =
        Validate.PositiveInt("N", n) |> ignore
        Validate.InRange("d", d, 0.0, 1.0) |> ignore
        PhaseBoundaries.Trace(Func<float, float, Regime>(fun b w -> (DiscreteMeanField.Regime(b, w, n, d, options)).Regime), bs, ws, tolerance)

    /// The closed-form quiescent boundary w_c(b) sampled at bs (see <see cref="DiscreteMeanField.QuiescentBoundary"/>).
    static member QuiescentCurve(n: int, d: float, bs: float[]) =
        bs |> Array.map (fun b -> DiscreteMeanField.QuiescentBoundary(b, n, d))

    /// A grid point is interior when every grid neighbour within one step (in b, in w and diagonally) has the
    /// same regime label as the point itself.
    static member Interior(labels: Regime[,]) =
        let nb = Array2D.length1 labels
        let nw = Array2D.length2 labels
        Array2D.init nb nw (fun i j ->
            let r = labels.[i, j]
            let mutable ok = true
            for di in -1 .. 1 do
                for dj in -1 .. 1 do
                    let ii = i + di
                    let jj = j + dj
                    if ii >= 0 && ii < nb && jj >= 0 && jj < nw && labels.[ii, jj] <> r then ok <- false
            ok)

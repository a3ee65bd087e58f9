namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Stopping statistics of the N = ∞ saddle-point iteration (<see cref="TiltedSolver"/>): the summaries tracked per
/// iteration, their autocorrelation-corrected standard errors, the drift between windows and the relaxation time.
[<AbstractClass; Sealed>]
type internal TiltedStopping private () =

    /// Summaries of an iterate C: mean activity tr C/n, target alignment Σ_a y*_aᵀC⁻¹y*_a, half-window correlation.
    static member internal Summaries(problem: TiltedProblem, c: float[]) =
        let n = problem.Points
        let act = (Seq.init n (fun k -> c.[k * n + k]) |> Seq.sum) / float n
        let align =
            match TiltFields.factor c n with
            | Some(_, ci, _) ->
                problem.Targets |> Array.sumBy (fun y ->
                    let a = Array.zeroCreate n
                    SmallDense.matVec ci y a n
                    SmallDense.dot y 0 a 0 n)
            | None -> nan
        let h = n / 2
        let half = if h >= 1 && n - h >= 1 then Seq.init (n - h) (fun k -> c.[k * n + k + h]) |> Seq.average else 0.0
        [| act; align; half |]

    /// Mean, s.d. and autocorrelation-corrected standard error of a series (AR(1): var·(1+ρ)/(1−ρ)/m).
    static member internal SeriesStat(xs: float[]) : WindowStat =
        let m = xs.Length
        if m = 0 then { Mean = nan; Sd = nan; StandardError = nan }
        else
            let mu = Array.average xs
            let var = if m > 1 then (xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (m - 1) else 0.0
            let rho =
                if m > 2 && var > 0.0 then
                    let c1 = Seq.init (m - 1) (fun i -> (xs.[i] - mu) * (xs.[i + 1] - mu)) |> Seq.sum
                    max 0.0 (min 0.99 (c1 / float (m - 1) / var))
                else 0.0
            { Mean = mu; Sd = Math.Sqrt var; StandardError = Math.Sqrt(var * (1.0 + rho) / (1.0 - rho) / float m) }

    /// Largest drift between the halves of a window of summary rows, in (autocorrelation-corrected) standard errors.
    static member internal DriftZ(rows: float[][]) =
        let w = rows.Length
        if w < 8 then infinity
        else
            let h = w / 2
            [ 0 .. rows.[0].Length - 1 ]
            |> List.map (fun j ->
                let a = TiltedStopping.SeriesStat(rows.[.. h - 1] |> Array.map (fun r -> r.[j]))
                let b = TiltedStopping.SeriesStat(rows.[h ..] |> Array.map (fun r -> r.[j]))
                let se = Math.Sqrt(a.StandardError ** 2.0 + b.StandardError ** 2.0)
                let d = abs (b.Mean - a.Mean)
                if se > 0.0 then d / se elif d = 0.0 then 0.0 else infinity)
            |> List.max

    /// The largest relaxation time (iterations) of summary traces (rows: iterations since the target was reached;
    /// columns: summaries) under the exponential model m(t) = m∞ − A·e^(−t/τ): from the quarter means q1…q4 the ratio
    /// (q4 − q3)/(q4 − q1) is inverted exactly (StageRelaxation.TimeOfRatio). Summaries whose change q4 − q1 is within
    /// 3 standard errors (autocorrelation-corrected, last quarter) did not move and count as relaxed (τ = 0); +∞ when
    /// a summary still drifts linearly.
    static member internal RelaxationTimeOf(rows: float[][]) =
        let L = rows.Length
        if L < 16 then infinity
        else
            let q = L / 4
            [ 0 .. rows.[0].Length - 1 ]
            |> List.map (fun j ->
                let col = rows |> Array.map (fun r -> r.[j])
                let qm k = Array.average col.[k * q .. (k + 1) * q - 1]
                let q1, q3, q4 = qm 0, qm 2, qm 3
                let se = (TiltedStopping.SeriesStat col.[3 * q ..]).StandardError
                if abs (q4 - q1) <= 3.0 * Math.Sqrt 2.0 * se then 0.0
                else StageRelaxation.TimeOfRatio((q4 - q3) / (q4 - q1), 4 * q))
            |> List.max

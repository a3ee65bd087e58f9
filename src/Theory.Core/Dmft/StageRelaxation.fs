namespace Theory.Core.Dmft

open System
open Theory.Core

/// How far independent posterior samplers were from equilibrium at the end of one γ value of an anneal
/// (docs/dmft-nonlinear.md, "Annealing lag"). After a step in γ the window summaries relax towards the new posterior;
/// if their relaxation time τ (in sweeps) is not small against the S sweeps spent at each γ, the states lag behind
/// the posterior: they are more chaotic than it, so γ⋆ comes out too high. Measured from the quarter means q1…q4 of
/// the stage's per-sweep summaries (mean activity, target alignment, half-window correlation;
/// <see cref="FinitePosteriorSample"/>.Trace) averaged over the samplers.
type StageRelaxation =
    { /// (q4 − q3)/(q4 − q1), averaged over the summaries whose change q4 − q1 over the stage is significant (at least
      /// 3 standard errors over the samplers); NaN when none is (nothing measurable moved). Under exponential
      /// relaxation it grows from 0 (τ ≪ S) to 1/3 (τ ≫ S: the summaries still drift linearly).
      UnrelaxedRatio: float
      /// τ in sweeps implied by UnrelaxedRatio under exponential relaxation m(t) = m∞ − A·e^(−t/τ) (inverted exactly
      /// on the quarter means); +∞ when the ratio is at or above the linear-drift limit, 0 when it is ≤ 0, NaN when
      /// the ratio is.
      RelaxationTime: float
      /// Largest |q4 − q2| over the summaries in units of its standard error over the samplers: the significance of
      /// the drift in the second half of the stage (NaN with fewer than 2 samplers).
      DriftZ: float
      /// Sweeps in the stage (S).
      Sweeps: int }

    /// Relaxation that cannot be measured (γ = 0 start, fewer than 8 sweeps or fewer than 2 samplers).
    static member Unmeasured(sweeps: int) = { UnrelaxedRatio = nan; RelaxationTime = nan; DriftZ = nan; Sweeps = sweeps }

    /// The ratio (q4 − q3)/(q4 − q1) of the quarter means of e^(−t/τ), t = 1 … S (sweeps of one stage, S divisible
    /// into four quarters of ⌊S/4⌋): the exponential model behind RelaxationTime.
    static member ModelRatio(tau: float, sweeps: int) =
        Validate.Positive("tau", tau) |> ignore
        Validate.AtLeast("sweeps", sweeps, 8) |> ignore
        let q = sweeps / 4
        let mean k =
            let mutable s = 0.0
            for t in k * q + 1 .. (k + 1) * q do s <- s + Math.Exp(-float t / tau)
            s / float q
        let e1, e3, e4 = mean 0, mean 2, mean 3
        (e3 - e4) / (e1 - e4)

    /// The relaxation time (sweeps) whose ModelRatio is `ratio` (bisection in ln τ over [S/1000, 1000·S]).
    static member TimeOfRatio(ratio: float, sweeps: int) =
        if Double.IsNaN ratio then nan
        elif ratio <= 0.0 then 0.0
        else
            let s = float sweeps
            let lo0, hi0 = s / 1000.0, 1000.0 * s
            if ratio >= StageRelaxation.ModelRatio(hi0, sweeps) then Double.PositiveInfinity
            elif ratio <= StageRelaxation.ModelRatio(lo0, sweeps) then lo0
            else
                let mutable lo, hi = Math.Log lo0, Math.Log hi0
                for _ in 1 .. 60 do
                    let mid = 0.5 * (lo + hi)
                    if StageRelaxation.ModelRatio(Math.Exp mid, sweeps) < ratio then lo <- mid else hi <- mid
                Math.Exp(0.5 * (lo + hi))

    /// The relaxation of one stage from its traces: traces.[r].[s] is sampler r's summary row after sweep s + 1 of the
    /// stage ([| activity; alignment; half-window correlation; … |], as FinitePosteriorSample.Trace). All samplers
    /// must have the same number of sweeps.
    static member OfTraces(traces: float[][][]) : StageRelaxation =
        if isNull traces || traces.Length = 0 then raise (ParameterOutOfDomainException("traces", "[]", "at least one sampler's trace"))
        let S = traces.[0].Length
        for t in traces do
            if isNull t || t.Length <> S then raise (ParameterOutOfDomainException("traces", "different lengths", "the same number of sweeps per sampler"))
            for row in t do
                if isNull row || row.Length < 3 then
                    raise (ParameterOutOfDomainException("traces", "a row with fewer than 3 summaries", "rows [| activity; alignment; half-window correlation; ... |]"))
        let R = traces.Length
        if S < 8 || R < 2 then StageRelaxation.Unmeasured S
        else
            let q = S / 4
            let quarter (t: float[][]) j k = (Seq.init q (fun i -> t.[k * q + i].[j]) |> Seq.sum) / float q
            let meanSe (xs: float[]) =
                let m = Array.average xs
                m, Math.Sqrt((xs |> Array.sumBy (fun v -> (v - m) ** 2.0)) / float (R - 1) / float R)
            let summaries = [ 0; 1; 2 ]
            let ratios =
                summaries |> List.choose (fun j ->
                    let tot, totSe = traces |> Array.map (fun t -> quarter t j 3 - quarter t j 0) |> meanSe
                    let late, _ = traces |> Array.map (fun t -> quarter t j 3 - quarter t j 2) |> meanSe
                    if abs tot >= 3.0 * totSe && tot <> 0.0 then Some(late / tot) else None)
            let drift =
                summaries |> List.map (fun j ->
                    let d, se = traces |> Array.map (fun t -> quarter t j 3 - quarter t j 1) |> meanSe
                    if se > 0.0 then abs d / se elif d = 0.0 then 0.0 else Double.PositiveInfinity)
                |> List.max
            let ratio = if ratios.IsEmpty then nan else List.average ratios
            { UnrelaxedRatio = ratio; RelaxationTime = StageRelaxation.TimeOfRatio(ratio, S); DriftZ = drift; Sweeps = S }

    /// Steady-state lag in γ of an anneal that steps γ by `gammaStep` every `Sweeps` sweeps with this relaxation time:
    /// the state relaxes by e^(−S/τ) per stage, so it trails the posterior by gammaStep·e^(−S/τ)/(1 − e^(−S/τ)).
    member r.SteadyStateLag(gammaStep: float) =
        Validate.NonNegative("gammaStep", gammaStep) |> ignore
        if Double.IsNaN r.RelaxationTime then nan
        elif Double.IsPositiveInfinity r.RelaxationTime then Double.PositiveInfinity
        elif r.RelaxationTime = 0.0 then 0.0
        else
            let a = Math.Exp(-float r.Sweeps / r.RelaxationTime)
            gammaStep * a / (1.0 - a)

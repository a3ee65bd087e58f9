namespace Theory.Core.MeanField

open System
open Theory.Core
open Theory.Core.Numerics

/// Settings of the Dale synchronised-oscillation prediction. Every field is a documented default.
type DaleOscillationOptions =
    { /// Monte Carlo draws of the outlier fluctuation per prediction (default 400: s.e. of a probability ≤ 0.025).
      Samples: int
      /// Fluctuation terms K of the truncated outlier series (default 24; the series converges as (r/|λ|)^K, so outliers
      /// with |λ| ≥ 1.2 r are resolved to better than 1% [reconstructed truncation]).
      Terms: int
      /// Tolerance of the bisection for the flip threshold λ* (default 1e-4).
      ThresholdTolerance: float
      /// Options of the effective (M, Q) map (biases, quadrature, iteration limits).
      MeanField: MeanFieldOptions }
    /// The defaults listed above with <see cref="MeanFieldOptions.Default"/>.
    static member Default =
        { Samples = 400; Terms = 24; ThresholdTolerance = 1e-4; MeanField = MeanFieldOptions.Default }

/// Flip threshold of the effective population map at bulk radius r.
type DaleFlipThreshold =
    { BulkRadius: float
      /// λ*: the effective map M' = ⟨tanh(λ M + √(r² Q + σ_β²) z)⟩ has an oscillatory attractor (period 2 with mean-field
      /// Lyapunov exponent ≤ 0, <see cref="BlockMeanField.Classify"/>) for real λ < λ*; None when no λ ≥ −Limit does.
      Nonlinear: float option
      /// Linear flip point −1/⟨sech²⟩ of the M = 0 attractor of the map (the Jacobian eigenvalue ∂M'/∂M = λ⟨sech²⟩
      /// crosses −1); −1 in the quiescent state.
      Linear: float
      /// Bisection steps (each one iteration of the map to its attractor).
      Iterations: int }

/// Prediction of the synchronised-oscillation regime at one (N, n⁺, w, d, b, h).
type DaleOscillationResult =
    { RankOne: DaleRankOne
      Threshold: DaleFlipThreshold
      /// Probability that the leading outlier is real and below λ* (so that the network settles in the global period-2
      /// state), Monte Carlo estimate over the outlier fluctuation (and over n⁺ for the ensemble prediction).
      Probability: float
      /// Binomial standard error √(p(1 − p)/S) of the estimate.
      ProbabilityError: float
      /// Fraction of draws with a real leading outlier (any sign) and with no outlier at all.
      RealFraction: float
      NoOutlierFraction: float
      Samples: int
      /// Predicted regime label: oscillatory iff Probability > 1/2 (the majority of networks).
      Oscillatory: bool
      /// Regime of the old column-sign closure (<see cref="CouplingStatistics.Dale"/> through the block mean field) at n⁺.
      ClosureRegime: Regime }

/// Dale mean field extended by the non-self-averaging outlier (derived here; docs/regularities.md, "Dale outliers
/// and the synchronised oscillation"). The global mode of the Dale network is the leading outlier λ_o of W (random,
/// <see cref="DaleOutliers"/>); projecting the dynamics on it gives the effective homogeneous map
///   M(t+1) = ⟨tanh(λ_o M(t) + √(r² Q(t) + σ_β²) z)⟩,  Q(t+1) = ⟨tanh²(…)⟩,
/// i.e. the block mean field with K = 1, N μ = λ_o and N σ² = r² (for the pure matrix λ_o = N μ and this is the
/// old theory). The synchronised (global period-2) oscillation needs a real outlier below the flip threshold λ*
/// of this map; its probability over the outlier fluctuation predicts the simulated regime.
[<AbstractClass; Sealed>]
type DaleOscillation private () =

    static member private CheckOptions(o: DaleOscillationOptions) =
        Validate.PositiveInt("samples", o.Samples) |> ignore
        Validate.PositiveInt("terms", o.Terms) |> ignore
        Validate.Positive("thresholdTolerance", o.ThresholdTolerance) |> ignore

    /// The effective K = 1 structure with mean eigenvalue λ and bulk radius r (N μ = λ, N σ² = r²) for N neurons.
    static member EffectiveStructure(n: int, lambda: float, r: float) : BlockStructure =
        Validate.PositiveInt("N", n) |> ignore
        Validate.Finite("lambda", lambda) |> ignore
        Validate.NonNegative("r", r) |> ignore
        { Sizes = [| n |]; Mean = Array2D.create 1 1 (lambda / float n); Variance = Array2D.create 1 1 (r * r / float n) }

    /// Regime of the effective map at a real outlier λ.
    static member EffectiveRegime(n: int, lambda: float, r: float, o: MeanFieldOptions) : MeanFieldRegime =
        BlockMeanField.Classify(DaleOscillation.EffectiveStructure(n, lambda, r), o)

    /// Linear flip point −1/⟨sech²(√(r² Q* + σ_β²) z)⟩ at the M = 0 attractor Q* of the map (β̄ = 0 assumed; the bias
    /// mean shifts it, so this is only reported).
    static member LinearFlip(n: int, r: float, o: MeanFieldOptions) =
        let att = BlockMeanField.Iterate(DaleOscillation.EffectiveStructure(n, 0.0, r), o)
        let x = att.Orbit.[att.Orbit.Length - 1]
        let struct (_, _, s2, _) = BlockMeanField.Moments(o.Rule, o.BiasMean, r * r * x.Q.[0] + o.BiasVariance)
        -1.0 / s2

    /// Flip threshold λ* by bisection on the regime of the effective map between λ = −1 + 10⁻⁶ (never oscillatory: the mean
    /// mode is linearly stable) and λ = −limit, limit = 4 (1 + r) + 2 (oscillatory when the global mode dominates).
    static member Threshold(n: int, r: float, o: DaleOscillationOptions) : DaleFlipThreshold =
        DaleOscillation.CheckOptions o
        Validate.NonNegative("r", r) |> ignore
        let osc l = (DaleOscillation.EffectiveRegime(n, l, r, o.MeanField)).Regime = Regime.Oscillatory
        let limit = 4.0 * (1.0 + r) + 2.0
        let lin = DaleOscillation.LinearFlip(n, r, o.MeanField)
        if not (osc -limit) then { BulkRadius = r; Nonlinear = None; Linear = lin; Iterations = 1 }
        else
            let mutable lo = -limit // oscillatory
            // just above −1 the mean mode is linearly stable (at exactly −1 the marginal multiplier −1 lets the
            // iteration creep into a slow period 2), so the bracket starts at −1 + 1e−6
            let mutable hi = -1.0 + 1e-6
            let mutable it = 1
            if osc hi then raise (NoSolutionException "effective map oscillatory at λ = −1: the flip threshold is not bracketed")
            while hi - lo > o.ThresholdTolerance do
                let mid = 0.5 * (lo + hi)
                it <- it + 1
                if osc mid then lo <- mid else hi <- mid
            { BulkRadius = r; Nonlinear = Some(0.5 * (lo + hi)); Linear = lin; Iterations = it }

    /// Monte Carlo probability that a draw of the leading outlier is real and below λ*; <paramref name="drawNPlus"/>
    /// gives the n⁺ of each draw (fixed for the realised/expected prediction, binomial for the ensemble).
    static member private Estimate(rankOne: int -> DaleRankOne, drawNPlus: Rng -> int, threshold: DaleFlipThreshold, o: DaleOscillationOptions, rng: Rng) =
        let mutable osc = 0
        let mutable real = 0
        let mutable none = 0
        for _ in 1 .. o.Samples do
            let r1 = rankOne (drawNPlus rng)
            match DaleOutliers.SampleLeading(r1, o.Terms, rng) with
            | None -> none <- none + 1
            | Some z ->
                if DaleOutliers.IsReal z then
                    real <- real + 1
                    match threshold.Nonlinear with
                    | Some ls when z.Real < ls -> osc <- osc + 1
                    | _ -> ()
        let s = float o.Samples
        let p = float osc / s
        p, Math.Sqrt(p * (1.0 - p) / s), float real / s, float none / s

    /// Prediction at a given n⁺ (realised or expected) with a precomputed threshold (it depends on (N, r) only; for
    /// h = 1 r does not depend on n⁺). Draws from Rng.ForStream(seed, 0).
    static member Predict(n: int, nPlus: int, w: float, d: float, b: float, h: float, threshold: DaleFlipThreshold, o: DaleOscillationOptions, seed: int64) =
        DaleOscillation.CheckOptions o
        let s = CouplingStatistics.Dale(n, nPlus, w, d, b, h)
        let r1 = DaleOutliers.RankOne s
        let rng = Rng.ForStream(seed, 0L)
        let p, pe, rf, nf = DaleOscillation.Estimate((fun _ -> r1), (fun _ -> nPlus), threshold, o, rng)
        { RankOne = r1
          Threshold = threshold
          Probability = p
          ProbabilityError = pe
          RealFraction = rf
          NoOutlierFraction = nf
          Samples = o.Samples
          Oscillatory = p > 0.5
          ClosureRegime = (BlockMeanField.Classify(s, o.MeanField)).Regime }

    /// Prediction at a given n⁺, computing the threshold at this point's bulk radius.
    static member Predict(n: int, nPlus: int, w: float, d: float, b: float, h: float, o: DaleOscillationOptions, seed: int64) =
        let r1 = DaleOutliers.RankOne(n, nPlus, w, d, b, h)
        DaleOscillation.Predict(n, nPlus, w, d, b, h, DaleOscillation.Threshold(n, r1.BulkRadius, o), o, seed)

    /// Expected number of positive columns round(N (1 + b)/2) (as <see cref="CouplingStatistics.DaleExpected"/>).
    static member ExpectedNPlus(n: int, b: float) =
        Validate.PositiveInt("N", n) |> ignore
        Validate.InRange("b", b, -1.0, 1.0) |> ignore
        int (Math.Round(float n * (1.0 + b) / 2.0))

    /// Ensemble prediction: n⁺ ~ Binomial(N, (1 + b)/2) drawn with every outlier draw (the column signs are drawn
    /// for every column whatever h), threshold at the expected n⁺'s bulk radius. ClosureRegime is the old theory at
    /// the expected n⁺. Draws from Rng.ForStream(seed, 1).
    static member PredictEnsemble(n: int, w: float, d: float, b: float, h: float, o: DaleOscillationOptions, seed: int64) =
        DaleOscillation.CheckOptions o
        let nExp = DaleOscillation.ExpectedNPlus(n, b)
        let sExp = CouplingStatistics.Dale(n, nExp, w, d, b, h)
        let r1Exp = DaleOutliers.RankOne sExp
        let thr = DaleOscillation.Threshold(n, r1Exp.BulkRadius, o)
        let cache = Collections.Generic.Dictionary<int, DaleRankOne>()
        let rankOne k =
            match cache.TryGetValue k with
            | true, v -> v
            | _ ->
                let v = DaleOutliers.RankOne(n, k, w, d, b, h)
                cache.[k] <- v
                v
        let pPlus = (1.0 + b) / 2.0
        let draw (rng: Rng) =
            let mutable k = 0
            for _ in 1 .. n do if rng.NextDouble() < pPlus then k <- k + 1
            k
        let rng = Rng.ForStream(seed, 1L)
        let p, pe, rf, nf = DaleOscillation.Estimate(rankOne, draw, thr, o, rng)
        { RankOne = r1Exp
          Threshold = thr
          Probability = p
          ProbabilityError = pe
          RealFraction = rf
          NoOutlierFraction = nf
          Samples = o.Samples
          Oscillatory = p > 0.5
          ClosureRegime = (BlockMeanField.Classify(sExp, o.MeanField)).Regime }

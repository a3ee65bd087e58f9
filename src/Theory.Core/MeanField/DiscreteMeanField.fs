namespace Theory.Core.MeanField

open System
open Theory.Core
open Theory.Core.Numerics

/// Result of the homogeneous (i.i.d.-coupling) mean-field classification of one (b, w, N, d) point.
type RegimeResult =
    { Regime: Regime
      /// Population mean M on the attractor (for a period-2 orbit: the value at the later step).
      Mean: float
      /// Second moment Q on the attractor (same convention).
      SecondMoment: float
      /// Mean-field maximal Lyapunov exponent ½ ln(N σ² ⟨sech⁴⟩) (orbit-averaged).
      Lyapunov: float
      /// Element mean μ and variance σ² of the couplings (for K > 1: averages over the matrix).
      CouplingMean: float
      CouplingVariance: float
      /// Bulk radius √(N σ²) and outlier N μ of the spectrum.
      BulkRadius: float
      Outlier: float
      Period: int
      Convergence: ConvergenceInfo
      Converged: bool }

/// The homogeneous mean-field theory of the paper's network with i.i.d. couplings of mean μ = d b w √(2/π) and
/// variance σ² = d w² (1 − d b² 2/π) (derived from the pure matrix of Metzner et al. 2025, §2.5):
///   M(t+1) = ⟨tanh(N μ M(t) + β̄ + √(N σ² Q(t) + σ_β²) z)⟩,  Q(t+1) = ⟨tanh²(…)⟩.
/// Includes the independent root-finding solutions used to check the iteration.
[<AbstractClass; Sealed>]
type DiscreteMeanField private () =

    /// The regime of (b, w, N, d) with default options (see <see cref="MeanFieldOptions.Default"/>).
    static member Regime(b: float, w: float, n: int, d: float) = DiscreteMeanField.Regime(b, w, n, d, MeanFieldOptions.Default)

    /// The regime of (b, w, N, d).
    static member Regime(b: float, w: float, n: int, d: float, options: MeanFieldOptions) : RegimeResult =
        let s = CouplingStatistics.Pure(n, w, d, b)
        DiscreteMeanField.OfStructure(s, options)

    /// Classification of any block structure, summarised by the population-size-weighted mean and second moment.
    static member OfStructure(s: BlockStructure, options: MeanFieldOptions) : RegimeResult =
        let r = BlockMeanField.Classify(s, options)
        let last = r.Attractor.Orbit.[r.Attractor.Orbit.Length - 1]
        let n = float s.N
        let wavg (xs: float[]) = Array.fold2 (fun acc x (nb: int) -> acc + float nb * x) 0.0 xs s.Sizes / n
        // matrix-average element mean and variance: Σ_ab n_a n_b x_ab / N²
        let avg (x: float[,]) =
            let mutable acc = 0.0
            for a in 0 .. s.K - 1 do
                for b in 0 .. s.K - 1 do
                    acc <- acc + float s.Sizes.[a] * float s.Sizes.[b] * x.[a, b]
            acc / (n * n)
        { Regime = r.Regime
          Mean = wavg last.M
          SecondMoment = wavg last.Q
          Lyapunov = r.Attractor.Lyapunov
          CouplingMean = avg s.Mean
          CouplingVariance = avg s.Variance
          BulkRadius = r.BulkRadius
          Outlier = (if s.K = 1 then n * s.Mean.[0, 0] else r.MeanEigenvalue)
          Period = (if r.Attractor.Kind = AttractorKind.Period2 then 2 else 1)
          Convergence = r.Attractor.Convergence
          Converged = r.Attractor.Converged }

    /// Independent solution (Brent root finding, no iteration of the map) of the b = 0-type fixed point with M = 0:
    /// Q = ⟨tanh²(√(g² Q + σ_β²) z)⟩ with g² = N σ², on (qLow, 1]. Error when no root is bracketed (g ≤ 1, β → 0).
    static member ZeroMeanFixedPoint(g2: float, biasVariance: float, rule: GaussianRule) : Result<RootResult, SolverFailure> =
        Validate.NonNegative("g2", g2) |> ignore
        Validate.NonNegative("biasVariance", biasVariance) |> ignore
        let f (q: float) =
            let struct (_, t2, _, _) = BlockMeanField.Moments(rule, 0.0, g2 * q + biasVariance)
            t2 - q
        RootFinding.Brent(Func<float, float>(f), 1e-6, 1.0)

    /// Independent solution of the noise-free mean dynamics M' = tanh(a·M) (σ² = 0, β = 0): for a > 1 the positive
    /// fixed point M = tanh(a M); for a < −1 the period-2 amplitude M with −M = tanh(a M) (i.e. M = tanh(|a| M)).
    static member NoiseFreeAmplitude(a: float) : Result<RootResult, SolverFailure> =
        Validate.Finite("a", a) |> ignore
        if abs a <= 1.0 then
            Error { Solver = "Brent"; Iterations = 0; Residual = Double.PositiveInfinity; Reason = "|a| <= 1: only the trivial solution M = 0" }
        else
            let aa = abs a
            RootFinding.Brent(Func<float, float>(fun m -> Math.Tanh(aa * m) - m), 1e-9, 1.0)

    /// The quiescent (linear-stability) boundary of the pure matrix in closed form:
    /// w_c(b) = 1 / max(√(d N (1 − d b² 2/π)), N d |b| √(2/π)) — the "Mt Fuji" shape (research note A3).
    static member QuiescentBoundary(b: float, n: int, d: float) =
        Validate.InRange("b", b, -1.0, 1.0) |> ignore
        Validate.PositiveInt("N", n) |> ignore
        Validate.InRange("d", d, 0.0, 1.0) |> ignore
        if d = 0.0 then Double.PositiveInfinity
        else
            let bulk = Math.Sqrt(d * float n * (1.0 - d * b * b * 2.0 / Math.PI))
            let outlier = float n * d * abs b * Math.Sqrt(2.0 / Math.PI)
            1.0 / max bulk outlier

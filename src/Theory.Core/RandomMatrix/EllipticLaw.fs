namespace Theory.Core.RandomMatrix

open System
open Theory.Core

/// Predicted eigenvalue support of an N×N random matrix with i.i.d. pairs (W_ij, W_ji): element mean μ, variance
/// σ², and pair correlation τ = corr(W_ij, W_ji).
type SpectrumPrediction =
    { /// Real semi-axis of the bulk ellipse, √(Nσ²)(1 + τ) (elliptic law, Sommers et al. 1988).
      SemiAxisReal: float
      /// Imaginary semi-axis, √(Nσ²)(1 − τ).
      SemiAxisImag: float
      /// Outlier created by the mean coupling (rank-one term μ·11ᵀ with eigenvalue θ = Nμ): θ + τ·Nσ²/θ when
      /// |θ| > √(Nσ²), otherwise None (it is swallowed by the bulk).
      Outlier: float option
      /// Predicted spectral radius max(semi-axis, |outlier|).
      SpectralRadius: float }

/// The elliptic law and the mean-coupling outlier (Sommers, Crisanti, Sompolinsky & Stein 1988; outlier of a
/// rank-one perturbation of an elliptic matrix: O'Rourke & Renfrew 2014). For Hopfield reciprocity r of Metzner et
/// al. (2025), τ = r (W_ji := W_ij with probability r, derived in the research note A3).
[<AbstractClass; Sealed>]
type EllipticLaw private () =

    /// The prediction for (N, μ, σ², τ).
    static member Predict(n: int, mean: float, variance: float, tau: float) : SpectrumPrediction =
        Validate.PositiveInt("N", n) |> ignore
        Validate.Finite("mean", mean) |> ignore
        Validate.NonNegative("variance", variance) |> ignore
        Validate.InRange("tau", tau, -1.0, 1.0) |> ignore
        let r = Math.Sqrt(float n * variance)
        let theta = float n * mean
        let outlier =
            if abs theta > r && theta <> 0.0 then Some(theta + tau * r * r / theta) else None
        let a = r * (1.0 + tau)
        let b = r * (1.0 - tau)
        { SemiAxisReal = a
          SemiAxisImag = b
          Outlier = outlier
          SpectralRadius = max (max a b) (match outlier with Some o -> abs o | None -> 0.0) }

    /// Prediction for the paper's pure/Hopfield matrix with (w, d, b, r): μ = d b w √(2/π), σ² = d w² (1 − d b² 2/π), τ = r.
    static member ForRegularities(n: int, w: float, d: float, b: float, r: float) =
        Validate.InRange("r", r, 0.0, 1.0) |> ignore
        let mu = Theory.Core.MeanField.CouplingStatistics.PureMean(w, d, b)
        let v = Theory.Core.MeanField.CouplingStatistics.PureVariance(w, d, b)
        EllipticLaw.Predict(n, mu, v, r)

    /// Scaled ellipse distance (x/a)² + (y/b)² of an eigenvalue x + iy (≤ 1 inside). A degenerate axis (0) counts
    /// |y| ≤ 1e-9·a as on the axis.
    static member EllipseDistance(p: SpectrumPrediction, re: float, im: float) =
        let a = p.SemiAxisReal
        let b = p.SemiAxisImag
        if a <= 0.0 then Double.PositiveInfinity
        elif b <= 1e-12 * a then (if abs im <= 1e-9 * a then (re / a) ** 2.0 else Double.PositiveInfinity)
        else (re / a) ** 2.0 + (im / b) ** 2.0

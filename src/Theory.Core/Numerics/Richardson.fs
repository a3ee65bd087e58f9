namespace Theory.Core.Numerics

open System
open Theory.Core

/// A Monte Carlo estimate whose bias falls as 1/S in the sample size S (self-normalised importance sampling, the fixed
/// point of a noisy nonlinear map, a ratio of averages), checked by Richardson extrapolation against the same estimator
/// at a smaller size S' < S: with x(S) = x∞ + b/S + noise, the bias of x(S) is
/// b/S = r·(x(S') − x(S)), r = S'/(S − S') (r = 1 at S' = S/2), and x∞ ≈ x(S) − b/S = (1 + r)·x(S) − r·x(S').
/// The errors treat the two runs as independent (they use disjoint random streams); the O(1/S²) remainder is not
/// included. docs/dmft-nonlinear.md, "Finite-S bias".
type RichardsonEstimate =
    { /// The larger size S and the estimate there with its standard error.
      Samples: int
      Value: float
      Error: float
      /// The smaller size S' and the estimate there with its standard error.
      HalfSamples: int
      HalfValue: float
      HalfError: float
      /// The estimated bias of Value, b/S = r·(x(S') − x(S)), and its standard error r·√(e² + e'²).
      Bias: float
      BiasError: float
      /// The bias-corrected value x(S) − b/S and its standard error √((1 + r)²e² + r²e'²).
      Extrapolated: float
      ExtrapolatedError: float }
    /// |Bias| in units of its standard error (+∞ for a non-zero bias with zero error, 0 for zero bias).
    member e.BiasSigmas =
        if e.BiasError > 0.0 then abs e.Bias / e.BiasError
        elif e.Bias = 0.0 then 0.0
        else Double.PositiveInfinity
    /// The bias is resolved: |Bias| &gt; 2 BiasError.
    member e.Significant = e.BiasSigmas > 2.0
    /// The Richardson estimate from the estimator at S (value, error) and at S' &lt; S (halfValue, halfError).
    /// Raises ParameterOutOfDomainException unless 0 &lt; S' &lt; S, the values are finite and the errors finite and ≥ 0.
    static member Of(samples: int, value: float, error: float, halfSamples: int, halfValue: float, halfError: float) =
        Validate.AtLeast("halfSamples", halfSamples, 1) |> ignore
        if samples <= halfSamples then
            raise (ParameterOutOfDomainException("samples", string samples, sprintf "> halfSamples = %d (the smaller size is the Richardson partner)" halfSamples))
        Validate.Finite("value", value) |> ignore
        Validate.Finite("halfValue", halfValue) |> ignore
        Validate.NonNegative("error", error) |> ignore
        Validate.NonNegative("halfError", halfError) |> ignore
        let r = float halfSamples / float (samples - halfSamples)
        let bias = r * (halfValue - value)
        { Samples = samples; Value = value; Error = error; HalfSamples = halfSamples; HalfValue = halfValue; HalfError = halfError
          Bias = bias; BiasError = r * Math.Sqrt(error * error + halfError * halfError)
          Extrapolated = value - bias
          ExtrapolatedError = Math.Sqrt((1.0 + r) * (1.0 + r) * error * error + r * r * halfError * halfError) }
    /// The warning a resolved bias gets (None when unresolved): "finite-S bias of QUANTITY resolved: …", with the
    /// bias, its significance and the bias-corrected value.
    member e.ResolvedWarning(quantity: string) =
        if e.Significant then
            Some(sprintf "finite-S bias of %s resolved: %.3g +- %.2g (%.1f sigma) at S = %d; bias-corrected %.4g +- %.2g"
                     quantity e.Bias e.BiasError e.BiasSigmas e.Samples e.Extrapolated e.ExtrapolatedError)
        else None
    override e.ToString() =
        sprintf "%.4g +- %.2g at S = %d; bias %.2g +- %.2g (%.1f sigma, from S = %d: %.4g +- %.2g); extrapolated %.4g +- %.2g"
            e.Value e.Error e.Samples e.Bias e.BiasError e.BiasSigmas e.HalfSamples e.HalfValue e.HalfError e.Extrapolated e.ExtrapolatedError

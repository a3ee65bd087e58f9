namespace Theory.Core.Dmft

open System
open Theory.Core

/// The finite-size form of an N → ∞ extrapolation: γ⋆(N) = γ⋆(∞) + b·x(N).
type FiniteSizeForm =
    /// x = 1/N (the O(1/N) corrections of mean-field Gibbs measures).
    | InverseN
    /// x = 1/√N (O(N^{-1/2}) fluctuations of the order parameter).
    | InverseSqrtN
    member f.Label = match f with InverseN -> "1/N" | InverseSqrtN -> "1/sqrt(N)"
    /// x(N).
    member f.Of(neurons: int) = match f with InverseN -> 1.0 / float neurons | InverseSqrtN -> 1.0 / Math.Sqrt(float neurons)

/// γ⋆ of one finite-N ensemble.
type FiniteSizePoint =
    { Neurons: int
      GammaStar: float
      GammaStarError: float }

/// A weighted least-squares fit γ⋆ = a + b·x(N).
type FiniteSizeFit =
    { Form: FiniteSizeForm
      /// a = the N → ∞ value, and its standard error (inflated by √(χ²/dof) when that exceeds 1).
      Intercept: float
      InterceptError: float
      Slope: float
      SlopeError: float
      ChiSquare: float
      DegreesOfFreedom: int
      /// P(χ² ≥ observed) for the fit's degrees of freedom (NaN with none).
      PValue: float }

/// Both fits of one g and the preferred extrapolation.
type FiniteSizeAnalysis =
    { G: float
      Points: FiniteSizePoint list
      Fits: FiniteSizeFit list
      /// The fit with the smaller χ² (the better description of the points).
      Preferred: FiniteSizeFit
      /// γ⋆(∞) and its error from the preferred fit.
      Extrapolated: float
      ExtrapolatedError: float
      /// The label of the extrapolated value: Extrapolated(source, form).
      Ensemble: GammaStarEnsemble }

/// The check of the N → ∞ limit against the theory (issue: "agree within their combined 2σ").
type TheoryAgreement =
    { Theory: float
      TheoryError: float
      Extrapolated: float
      ExtrapolatedError: float
      /// Extrapolated − theory, the combined σ = √(σ_t² + σ_e²), and |difference| ≤ sigmas·σ.
      Difference: float
      CombinedError: float
      Sigmas: float
      Agree: bool }

/// Finite-size scaling of γ⋆ over N (docs/dmft-nonlinear.md, "Finite-size scaling"): weighted least-squares fits in 1/N
/// and in 1/√N, the extrapolation to N = ∞ and its comparison with the DMFT.
[<AbstractClass; Sealed>]
type FiniteSizeScaling private () =

    /// Weighted least squares of γ⋆ on x(N) with weights 1/σ²; errors from the normal equations, inflated by
    /// √(χ²/dof) when the scatter exceeds the stated errors.
    static member Fit(points: FiniteSizePoint list, form: FiniteSizeForm) : FiniteSizeFit =
        let pts = Array.ofList points
        if pts.Length < 2 then raise (ParameterOutOfDomainException("points", string pts.Length, "at least two values of N"))
        for p in pts do
            Validate.AtLeast("neurons", p.Neurons, 1) |> ignore
            Validate.Finite("gammaStar", p.GammaStar) |> ignore
            Validate.Positive("gammaStarError", p.GammaStarError) |> ignore
        if (pts |> Array.map (fun p -> p.Neurons) |> Array.distinct).Length < 2 then
            raise (ParameterOutOfDomainException("neurons", "one value", "at least two distinct values of N"))
        let x = pts |> Array.map (fun p -> form.Of p.Neurons)
        let y = pts |> Array.map (fun p -> p.GammaStar)
        let w = pts |> Array.map (fun p -> 1.0 / (p.GammaStarError * p.GammaStarError))
        let sw = Array.sum w
        let sx = Array.fold2 (fun a wi xi -> a + wi * xi) 0.0 w x
        let sy = Array.fold2 (fun a wi yi -> a + wi * yi) 0.0 w y
        let sxx = Array.fold2 (fun a wi xi -> a + wi * xi * xi) 0.0 w x
        let sxy = Seq.init pts.Length (fun i -> w.[i] * x.[i] * y.[i]) |> Seq.sum
        let det = sw * sxx - sx * sx
        let b = (sw * sxy - sx * sy) / det
        let a = (sxx * sy - sx * sxy) / det
        let chi2 = Seq.init pts.Length (fun i -> w.[i] * (y.[i] - a - b * x.[i]) ** 2.0) |> Seq.sum
        let dof = pts.Length - 2
        let inflate = if dof > 0 then max 1.0 (Math.Sqrt(chi2 / float dof)) else 1.0
        let pValue = if dof > 0 then 1.0 - MathNet.Numerics.Distributions.ChiSquared.CDF(float dof, chi2) else nan
        { Form = form; Intercept = a; InterceptError = inflate * Math.Sqrt(sxx / det); Slope = b; SlopeError = inflate * Math.Sqrt(sw / det)
          ChiSquare = chi2; DegreesOfFreedom = dof; PValue = pValue }

    /// Both fits and the preferred extrapolation (smaller χ²; with two points both fit exactly and 1/N is preferred).
    static member Analyse(g: float, source: string, points: FiniteSizePoint list) : FiniteSizeAnalysis =
        let fits = [ FiniteSizeScaling.Fit(points, InverseN); FiniteSizeScaling.Fit(points, InverseSqrtN) ]
        let best = fits |> List.minBy (fun f -> f.ChiSquare + (match f.Form with InverseN -> 0.0 | InverseSqrtN -> 1e-12))
        { G = g; Points = points; Fits = fits; Preferred = best; Extrapolated = best.Intercept; ExtrapolatedError = best.InterceptError
          Ensemble = Extrapolated(source, best.Form.Label) }

    /// The S → ∞ limit of the N = ∞ solver's γ⋆ over its particle number S (docs/dmft-nonlinear.md, "Finite-S bias": the
    /// fixed point of the noisy saddle-point map is off by O(a/S)): the weighted least-squares fit γ⋆(S) = γ⋆(∞) + b/S
    /// over γ⋆ at two or more distinct S (Fit with x = 1/S; its Form reads InverseN, N standing for S). With two S it is
    /// the Richardson estimate of `SaddleBias`; with three or more, χ² tests the 1/S law.
    static member ExtrapolateInSamples(samples: int[], gammaStars: float[], errors: float[]) : FiniteSizeFit =
        if samples.Length <> gammaStars.Length || samples.Length <> errors.Length then
            raise (ParameterOutOfDomainException("samples", sprintf "%d, %d and %d values" samples.Length gammaStars.Length errors.Length, "one gamma* and one error per particle number S"))
        for sCount in samples do Validate.AtLeast("samples", sCount, 1) |> ignore
        if (Array.distinct samples).Length < 2 then
            raise (ParameterOutOfDomainException("samples", sprintf "%A" samples, "at least two distinct particle numbers S"))
        FiniteSizeScaling.Fit([ for i in 0 .. samples.Length - 1 -> { Neurons = samples.[i]; GammaStar = gammaStars.[i]; GammaStarError = errors.[i] } ], InverseN)

    /// Compares the N = ∞ theory with an extrapolation: agreement iff |difference| ≤ sigmas·√(σ_t² + σ_e²).
    static member Compare(theory: float, theoryError: float, extrapolated: float, extrapolatedError: float, sigmas: float) : TheoryAgreement =
        Validate.Finite("theory", theory) |> ignore
        Validate.NonNegative("theoryError", theoryError) |> ignore
        Validate.Finite("extrapolated", extrapolated) |> ignore
        Validate.NonNegative("extrapolatedError", extrapolatedError) |> ignore
        Validate.Positive("sigmas", sigmas) |> ignore
        let d = extrapolated - theory
        let s = Math.Sqrt(theoryError * theoryError + extrapolatedError * extrapolatedError)
        { Theory = theory; TheoryError = theoryError; Extrapolated = extrapolated; ExtrapolatedError = extrapolatedError
          Difference = d; CombinedError = s; Sigmas = sigmas; Agree = abs d <= sigmas * s }

    /// γ⋆ of the exact finite-N posterior at every N of the list (options.Posterior.Neurons replaced), the Ns
    /// concurrently; failures are returned in their slots.
    static member PosteriorGammaStars(g: float, neurons: int[], options: PhaseBoundaryOptions) : (int * Result<PhaseBoundaryResult, SolverFailure>)[] =
        FiniteSizeScaling.PosteriorGammaStars(g, neurons, options, null)

    /// PosteriorGammaStars with an observer of every evaluated point, with its N (thread-safe; see TiltedPhaseBoundary.Locate).
    static member PosteriorGammaStars(g: float, neurons: int[], options: PhaseBoundaryOptions, onPoint: Action<int, PhaseBoundaryPoint>)
        : (int * Result<PhaseBoundaryResult, SolverFailure>)[] =
        if isNull neurons || neurons.Length = 0 then raise (ParameterOutOfDomainException("neurons", "[]", "at least one N"))
        for nn in neurons do Validate.AtLeast("neurons", nn, 1) |> ignore
        neurons
        |> Concurrent.map (fun nn ->
            let observe = if isNull onPoint then null else Action<PhaseBoundaryPoint>(fun pt -> onPoint.Invoke(nn, pt))
            nn, TiltedPhaseBoundary.Locate(g, { options with Criterion = Posterior; Posterior = { options.Posterior with Neurons = nn } }, observe))

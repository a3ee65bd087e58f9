namespace Theory.Core.MeanField

open System
open System.Numerics
open Theory.Core
open Theory.Core.Numerics

/// Rank-one-plus-bulk decomposition of the Dale coupling matrix of Metzner et al. (2025), §2.5 (research note A3):
/// W = 1·uᵀ + J with column means u_j = d·w·√(2/π)·(h·τ_j + (1 − h)·b) (τ_j the Dale sign of sender column j) and
/// J_ij = W_ij − u_j independent, zero mean, column variance d·w² − u_j² [derived from the construction].
type DaleRankOne =
    { /// Number of neurons N.
      N: int
      /// Number of positive (τ = +1) columns n⁺.
      NPlus: int
      /// Eigenvalue of the rank-one mean part, a₀ = uᵀ1 = n⁺ μ_E + n⁻ μ_I (the old column-sign closure's outlier).
      MeanEigenvalue: float
      /// κ = |u| = √(n⁺ μ_E² + n⁻ μ_I²): the scale of the non-self-averaging outlier fluctuation (O(1) at w ∝ 1/√N).
      Kappa: float
      /// Bulk radius r = √(n⁺ σ²_E + n⁻ σ²_I) = √(N d w² − κ²) of J (circular law).
      BulkRadius: float }

/// Outliers of the Dale matrix beyond the column-sign mean field (derived here; see docs/regularities.md,
/// "Dale outliers and the synchronised oscillation"). An eigenvalue λ of W = 1·uᵀ + J outside the bulk of J solves
///   1 = uᵀ(λ − J)⁻¹1 = a₀/λ + Σ_{k≥1} uᵀJᵏ1 / λ^{k+1}.
/// The column mean uᵀ1 = a₀ is small when n⁺ ≈ n⁻, but |u|·|1| = κ√N is large (a non-normal rank-one term), so the
/// random terms uᵀJᵏ1 are O(1): to leading order in N they are independent Gaussians with variance κ² r^{2k}
/// (sum over the N^{k+1} paths of an i.i.d. matrix with element variance r²/N) [derived; Gaussian universality
/// and the independence of different k are the leading-order assumptions]. The outlier equation is therefore
///   λ = a₀ + κ Σ_{k=1}^{K} g_k r^k / λ^k,  g_k ~ N(0, 1) i.i.d.,
/// i.e. the roots of the random polynomial λ^{K+1} − a₀ λ^K − κ Σ_k g_k r^k λ^{K−k}; the realised outlier is not
/// self-averaging, and the old mean field keeps only its mean a₀.
[<AbstractClass; Sealed>]
type DaleOutliers private () =

    /// Decomposition from a two-sender-population structure (<see cref="CouplingStatistics.Dale"/>: Sizes = [n⁺; n⁻],
    /// column means μ_E, μ_I and variances σ²_E, σ²_I in row 0).
    static member RankOne(s: BlockStructure) : DaleRankOne =
        if s.K <> 2 then invalidArg "s" "a Dale structure has two sender populations (K = 2)"
        let nE = float s.Sizes.[0]
        let nI = float s.Sizes.[1]
        let mE, mI = s.Mean.[0, 0], s.Mean.[0, 1]
        let vE, vI = s.Variance.[0, 0], s.Variance.[0, 1]
        { N = s.N
          NPlus = s.Sizes.[0]
          MeanEigenvalue = nE * mE + nI * mI
          Kappa = Math.Sqrt(nE * mE * mE + nI * mI * mI)
          BulkRadius = Math.Sqrt(max 0.0 (nE * vE + nI * vI)) }

    /// Decomposition at (N, n⁺, w, d, b, h) (validated by <see cref="CouplingStatistics.Dale"/>).
    static member RankOne(n: int, nPlus: int, w: float, d: float, b: float, h: float) =
        DaleOutliers.RankOne(CouplingStatistics.Dale(n, nPlus, w, d, b, h))

    /// The outlier function Z(λ) = a₀/λ + κ Σ_k g_k r^k / λ^{k+1} for given Gaussians g (outliers solve Z(λ) = 1).
    static member OutlierFunction(r1: DaleRankOne, g: float[], lambda: Complex) : Complex =
        if lambda = Complex.Zero then invalidArg "lambda" "λ = 0 is not allowed (Z has a pole there)"
        let mutable z = Complex(r1.MeanEigenvalue, 0.0) / lambda
        let mutable p = Complex.One / lambda // r^k / λ^{k+1} built up
        for k in 1 .. g.Length do
            p <- p * (r1.BulkRadius / lambda)
            z <- z + r1.Kappa * g.[k - 1] * p
        z

    /// Roots of the truncated outlier polynomial λ^{K+1} − a₀ λ^K − κ Σ_{k=1}^{K} g_k r^k λ^{K−k} (K = g.Length),
    /// from the eigenvalues of its companion matrix, sorted by decreasing modulus.
    static member Roots(r1: DaleRankOne, g: float[]) : Complex[] =
        let k = g.Length
        if k < 1 then invalidArg "g" "need at least one fluctuation term"
        // monic polynomial: λ^{K+1} + c_K λ^K + … + c_0, c_K = −a₀, c_{K−k} = −κ g_k r^k
        let coef = Array.zeroCreate (k + 1)
        coef.[k] <- -r1.MeanEigenvalue
        let mutable rk = 1.0
        for j in 1 .. k do
            rk <- rk * r1.BulkRadius
            coef.[k - j] <- -r1.Kappa * g.[j - 1] * rk
        let m = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(k + 1, k + 1)
        for i in 1 .. k do m.[i, i - 1] <- 1.0
        for j in 0 .. k do m.[0, j] <- -coef.[k - j]
        m.Evd().EigenValues.ToArray() |> Array.sortByDescending (fun z -> z.Magnitude)

    /// The leading outlier of one draw of the fluctuation terms (K = <paramref name="terms"/> Gaussians from rng):
    /// the largest-modulus root, or None when it lies inside the bulk (|λ| ≤ r: no outlier).
    static member SampleLeading(r1: DaleRankOne, terms: int, rng: Rng) : Complex option =
        Validate.PositiveInt("terms", terms) |> ignore
        let g = Array.init terms (fun _ -> rng.NextGaussian())
        let z = (DaleOutliers.Roots(r1, g)).[0]
        if z.Magnitude > r1.BulkRadius then Some z else None

    /// True when a root is real to rounding (|Im λ| ≤ 1e−9 (1 + |λ|)): the companion eigenvalues of a real
    /// polynomial come in exact conjugate pairs or as reals up to rounding.
    static member IsReal(z: Complex) = abs z.Imaginary <= 1e-9 * (1.0 + z.Magnitude)

namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open MathNet.Numerics.LinearAlgebra
open Theory.Core

/// Effective static gains of a trained controller (Ger &amp; Barak 2025, Eq. 6 and App. C.9), in the u = kᵀx convention.
module GainRecovery =
    let private solveK (xhat: Complex[]) (zh: Complex) =
        // kᵀ [Re x̂, Im x̂] = [Re zᵀĥ, Im zᵀĥ]
        let x = array2D [ [ xhat.[0].Real; xhat.[0].Imaginary ]; [ xhat.[1].Real; xhat.[1].Imaginary ] ]
        let det = x.[0, 0] * x.[1, 1] - x.[0, 1] * x.[1, 0]
        if abs det < 1e-14 * (xhat.[0].Magnitude * xhat.[1].Magnitude + 1e-300) then
            raise (NoSolutionException "the environment part of the eigenvector pair is degenerate: gain recovery is undefined")
        let hr, hi = zh.Real, zh.Imaginary
        // k = h X⁻¹ (row vector)
        let k1 = (hr * x.[1, 1] - hi * x.[1, 0]) / det
        let k2 = (-hr * x.[0, 1] + hi * x.[0, 0]) / det
        k1, k2

    /// Eigenvector form (App. C.9): take the eigenvector (x̂; ĥ) of the dominant complex pair λ_c of the joint matrix
    /// p (first two coordinates = environment), split it into real and imaginary parts and solve kᵀx̂ = zᵀĥ, where
    /// readout(ĥ) computes zᵀĥ. Valid while the slow dynamics is two-dimensional (stages 1–2).
    [<CompiledName("FromEigenvector")>]
    let fromEigenvector (p: float[,]) (lambda: Complex) (readout: Complex[] -> Complex) =
        if lambda.Imaginary = 0.0 then raise (NoSolutionException "gain recovery needs a complex eigenvalue pair")
        let v = Linalg.eigenvector p lambda
        solveK v.[0..1] (readout v.[2..])

    /// Eigenvector form on the reduced matrix P_eff(Δ, a): zᵀh = σ_zm κ^m + σ_zu κ^u. Uses the complex root of the
    /// characteristic polynomial (cubic for a = Δ = 1, leaky quartic otherwise) with the largest modulus.
    [<CompiledName("FromOverlaps")>]
    let fromOverlaps (dt: float) (a: float) (o: Overlaps) =
        let roots = Characteristic.leakyRoots dt a o
        match roots |> Array.tryFind (fun z -> z.Imaginary > 1e-12) with
        | None -> raise (NoSolutionException "P_eff has no complex eigenvalue pair: gain recovery is undefined")
        | Some l -> fromEigenvector (JointMatrix.reduced dt a o) l (fun h -> o.Szm * h.[0] + o.Szu * h.[1])

    /// Eigenvalue form (derived): the 2×2 matrix A + Bkᵀ with eigenvalues λ_c, λ̄_c has
    /// k₂ = (λ₁ + λ₂ − 2)/Δ, k₁ = −(1 − λ₁)(1 − λ₂)/Δ² = −|1 − λ_c|²/Δ².
    [<CompiledName("FromEigenvalues")>]
    let fromEigenvalues (dt: float) (lambda: Complex) =
        Validate.Positive("dt", dt) |> ignore
        let k2 = (2.0 * lambda.Real - 2.0) / dt
        let om = 1.0 - lambda
        let k1 = -(om * Complex.Conjugate om).Real / (dt * dt)
        k1, k2

    /// Eq. 6 effective gain: least squares k̂ = (XᵀX)⁻¹Xᵀu over samples (x⁽¹⁾, x⁽²⁾, u), no intercept
    /// (code: 10 test trajectories, 50 steps, step 0 dropped). Raises NoSolutionException when XᵀX is singular.
    [<CompiledName("LeastSquares")>]
    let leastSquares (x1: float[]) (x2: float[]) (u: float[]) =
        if x1.Length = 0 then raise (ParameterOutOfDomainException("samples", "0", "at least 2 samples"))
        if x2.Length <> x1.Length || u.Length <> x1.Length then
            raise (ParameterOutOfDomainException("samples", sprintf "%d/%d/%d" x1.Length x2.Length u.Length, "equal lengths"))
        let mutable s11, s12, s22, b1, b2 = 0.0, 0.0, 0.0, 0.0, 0.0
        for i in 0 .. x1.Length - 1 do
            s11 <- s11 + x1.[i] * x1.[i]
            s12 <- s12 + x1.[i] * x2.[i]
            s22 <- s22 + x2.[i] * x2.[i]
            b1 <- b1 + x1.[i] * u.[i]
            b2 <- b2 + x2.[i] * u.[i]
        let det = s11 * s22 - s12 * s12
        if not (abs det > 1e-12 * (s11 * s22 + 1e-300)) then
            raise (NoSolutionException "the state samples are collinear: the effective-gain regression is singular")
        (s22 * b1 - s12 * b2) / det, (s11 * b2 - s12 * b1) / det

namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core

/// Linear-algebra helpers of the exact (Gaussian) saddle point (MathNet, dense, small n).
module internal TiltedLinAlg =
    let toM (a: float[,]) = Matrix<float>.Build.DenseOfArray a
    let sym (m: Matrix<float>) = (m + m.Transpose()) * 0.5
    let frob (m: Matrix<float>) = m.FrobeniusNorm()
    let allFinite (a: float[,]) =
        let mutable ok = true
        a |> Array2D.iter (fun v -> if not (Double.IsFinite v) then ok <- false)
        ok
    /// Symmetric eigenvalue floor (positive-definiteness safeguard of the exact iteration).
    let floorEigen (m: Matrix<float>) (floor: float) =
        let s = sym m
        let evd = s.Evd(Symmetricity.Symmetric)
        let ev = evd.EigenValues |> Seq.map (fun c -> c.Real) |> Seq.toArray
        if ev |> Array.forall (fun v -> v >= floor) then s
        else
            let d = Matrix<float>.Build.DiagonalOfDiagonalArray(ev |> Array.map (fun v -> max v floor))
            sym (evd.EigenVectors * d * evd.EigenVectors.Transpose())
    /// Cholesky factor (lower) of a symmetric matrix with jitter retries (relative 1e-12 … 1e-1 of the diagonal).
    let chol (m: Matrix<float>) =
        let n = m.RowCount
        let scale = max 1e-300 (m.Diagonal().AbsoluteMaximum())
        let rec go jitter tries =
            try
                let mm = if jitter = 0.0 then m else m + Matrix<float>.Build.DenseIdentity(n) * (jitter * scale)
                mm.Cholesky().Factor
            with _ when tries < 12 -> go (if jitter = 0.0 then 1e-12 else jitter * 10.0) (tries + 1)
        go 0.0 0

/// The saddle point of a linear network (φ = identity) with exact Gaussian expectations (research note
/// dmft-learned.md §4, §6.4): the tilt exp(½xᵀΛx) of a Gaussian path is Gaussian, so E_μ[xxᵀ] and E_μ[ηηᵀ] follow by
/// Gaussian conditioning (trained variables tilted, quenched ones conditioned on). The fixed point
///   C = E_μ[xxᵀ],  Λ = C⁻¹[K_η/g² − C + γ²C^y]C⁻¹
/// is found by the deterministic primal–dual iteration Λ ← Λ + κ(C+δI)⁻¹(C − Ĉ)(C+δI)⁻¹,
/// C ← C + ε[K̂_η/g² − C + γ²C^y − CΛC] (δ = 0.01·tr C/n preconditions only; the fixed point does not depend on it).
/// It reproduces the published closed form per frequency mode (tests) and is the independent reference of the Monte
/// Carlo solver on linear problems.
module internal TiltedExact =

    /// Exact moments (Ĉ, K̂_η) at (C, Λ), or None when the tilted measure is not normalisable (I − A_tᵀΛA_t not PD).
    let moments (problem: TiltedProblem) (c: Matrix<float>) (lam: Matrix<float>) =
        let n = problem.Points
        let g2 = problem.G * problem.G
        let hasInput = problem.InputKernel.IsSome
        let mu = problem.InputWeights
        let uOff = 1 + n + (if hasInput then n else 0)
        let m = uOff + mu
        // columns: x0 | fields η | input u (optional) | input weights U (always trained)
        let tilted = Array.init m (fun j -> if j = 0 then problem.X0Tilted elif j <= n then true elif j < uOff then problem.InputTilted else true)
        let tIdx = [| for j in 0 .. m - 1 do if tilted.[j] then yield j |]
        let qIdx = [| for j in 0 .. m - 1 do if not tilted.[j] then yield j |]
        let mt = tIdx.Length
        let P = TiltedLinAlg.toM problem.Propagator
        let sigma0 = Math.Sqrt problem.X0Variance
        let AI = problem.InputKernel |> Option.map (fun k -> P * TiltedLinAlg.chol (TiltedLinAlg.toM k))
        let lc = TiltedLinAlg.chol (c * g2)
        let ac = P * lc
        let A = Matrix<float>.Build.Dense(n, m)
        for k in 0 .. n - 1 do
            A.[k, 0] <- problem.X0Response.[k] * sigma0
            for j in 0 .. n - 1 do A.[k, 1 + j] <- ac.[k, j]
            match AI with
            | Some ai -> for j in 0 .. n - 1 do A.[k, 1 + n + j] <- ai.[k, j]
            | None -> ()
            for a in 0 .. mu - 1 do A.[k, uOff + a] <- problem.InputWeightResponse.[k, a]
        let At = Matrix<float>.Build.Dense(n, mt, fun k jj -> A.[k, tIdx.[jj]])
        let Pi = Matrix<float>.Build.DenseIdentity(mt) - At.Transpose() * lam * At
        let evMin = (TiltedLinAlg.sym Pi).Evd(Symmetricity.Symmetric).EigenValues |> Seq.map (fun z -> z.Real) |> Seq.min
        if evMin <= 1e-12 then None
        else
            let PiInv = Pi.Inverse()
            let S = Matrix<float>.Build.Dense(m, m)
            for i1 in 0 .. mt - 1 do
                for i2 in 0 .. mt - 1 do S.[tIdx.[i1], tIdx.[i2]] <- PiInv.[i1, i2]
            if qIdx.Length > 0 then
                let Aq = Matrix<float>.Build.Dense(n, qIdx.Length, fun k jj -> A.[k, qIdx.[jj]])
                let H = PiInv * At.Transpose() * lam * Aq
                let HH = H * H.Transpose()
                for i1 in 0 .. mt - 1 do
                    for i2 in 0 .. mt - 1 do S.[tIdx.[i1], tIdx.[i2]] <- S.[tIdx.[i1], tIdx.[i2]] + HH.[i1, i2]
                    for q in 0 .. qIdx.Length - 1 do
                        S.[tIdx.[i1], qIdx.[q]] <- H.[i1, q]
                        S.[qIdx.[q], tIdx.[i1]] <- H.[i1, q]
                for q in 0 .. qIdx.Length - 1 do S.[qIdx.[q], qIdx.[q]] <- 1.0
            let B = Matrix<float>.Build.Dense(n, m)
            for k in 0 .. n - 1 do
                for j in 0 .. n - 1 do B.[k, 1 + j] <- lc.[k, j]
            Some(TiltedLinAlg.sym (A * S * A.Transpose()), TiltedLinAlg.sym (B * S * B.Transpose()))

    /// Solves from (C, Λ) with the primal step ε = step and the dual step κ = dualStep to the relative residual
    /// `tolerance` within `maxIterations`.
    /// Returns (C, Λ, Ĉ, K_η, iterations, residual) or a failure.
    let solve (problem: TiltedProblem) (startC: float[,]) (startLambda: float[,]) (step: float) (dualStep: float) (tolerance: float)
              (maxIterations: int) : Result<float[,] * float[,] * float[,] * float[,] * int * float, SolverFailure> =
        let n = problem.Points
        let g2 = problem.G * problem.G
        let cy = TiltedLinAlg.toM problem.TargetKernel
        let gamma2 = problem.Gamma * problem.Gamma
        let mutable C = TiltedLinAlg.sym (TiltedLinAlg.toM startC)
        let mutable L = TiltedLinAlg.toM startLambda
        let mutable eps = step
        let mutable kap = dualStep
        let mutable halvings = 0
        let mutable it = 0
        let mutable result = None
        let mutable lastR = infinity
        let mutable snapshot = (C, L)
        // Back to the last healthy state with halved steps, or a typed failure after 6 halvings.
        let halveOr (failure: unit -> SolverFailure) =
            if halvings < 6 then
                let c, l = snapshot
                C <- c
                L <- l
                eps <- eps / 2.0
                kap <- kap / 2.0
                halvings <- halvings + 1
            else result <- Some(Error(failure ()))
        while result.IsNone do
            it <- it + 1
            match moments problem C L with
            | None ->
                halveOr (fun () ->
                    { Solver = "TiltedExact"; Iterations = it; Residual = infinity
                      Reason = sprintf "the Gaussian tilt is not normalisable (I - A'LA not positive definite) at g = %g, gamma = %g: no solution on this window" problem.G problem.Gamma })
            | Some(ch, kh) ->
                let normC = TiltedLinAlg.frob C
                let dualR = TiltedLinAlg.frob (C - ch) / normC
                let grad = kh / g2 - C + cy * gamma2 - C * L * C
                let primR = TiltedLinAlg.frob grad / normC
                lastR <- max dualR primR
                if lastR < tolerance then result <- Some(Ok(C.ToArray(), L.ToArray(), ch.ToArray(), kh.ToArray(), it, lastR))
                elif it >= maxIterations then
                    result <- Some(Error { Solver = "TiltedExact"; Iterations = it; Residual = lastR
                                           Reason = sprintf "not converged after %d iterations at g = %g, gamma = %g (relative residual %.3g, tolerance %g)" it problem.G problem.Gamma lastR tolerance })
                else
                    let delta = 0.01 * C.Trace() / float n
                    let cinv = (C + Matrix<float>.Build.DenseIdentity(n) * delta).Inverse()
                    let Lnew = TiltedLinAlg.sym (L + cinv * (C - ch) * cinv * kap)
                    let Cnew0 = TiltedLinAlg.sym (C + (kh / g2 - C + cy * gamma2 - C * Lnew * C) * eps)
                    let healthy = TiltedLinAlg.allFinite (Cnew0.ToArray()) && TiltedLinAlg.allFinite (Lnew.ToArray())
                                  && TiltedLinAlg.frob Cnew0 < 1e3 * normC + 1e3
                    if healthy then
                        // eigenvalue floor 1e-6 (a safeguard on the way; a positive-definite fixed point is unchanged)
                        L <- Lnew
                        C <- TiltedLinAlg.floorEigen Cnew0 1e-6
                        if it % 20 = 0 then snapshot <- (C, L)
                    else
                        halveOr (fun () ->
                            { Solver = "TiltedExact"; Iterations = it; Residual = lastR
                              Reason = sprintf "the exact iteration diverged at g = %g, gamma = %g after %d step halvings" problem.G problem.Gamma halvings })
        result.Value

namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core

/// Options of the time-domain saddle-point solver for linear learned networks.
type LinearSaddleOptions =
    { /// Step size ε of the natural-gradient iteration C ← C + ε R(C). Default 0.5 (note §6.3: stability needs
      /// ε|h'| < 2 and |h'| reaches ≈ 2.8; ε = 1 diverges).
      Epsilon: float
      /// Stop when ‖R(C)‖_F / ‖C‖_F ≤ Tolerance. Default 1e-12.
      Tolerance: float
      /// Iteration limit. Default 20000.
      MaxIterations: int
      /// Declare divergence when ‖C‖_F exceeds this multiple of its initial value. Default 1e4. A runaway is also
      /// declared when ‖C‖_F has grown tenfold and ‖R(C)‖_F has not fallen by 10% over the last 100 iterations (on a
      /// mode with D ≤ 0 the residual tends to a positive constant and C grows linearly).
      DivergenceFactor: float }
    static member Default =
        { Epsilon = 0.5
          Tolerance = 1e-12
          MaxIterations = 20000
          DivergenceFactor = 1e4 }

/// The converged saddle point.
type LinearSaddleResult =
    { /// The activity kernel C(t, t') on the grid (n × n, symmetric).
      C: float[,]
      /// The conjugate field Λ = C⁻¹[K_η/g² − C + γ²Cʸ]C⁻¹ of note §3.2 (the tilt is exp(½ φᵀΛφ); Ĉ = Λ/2 in the
      /// e^{φᵀĈφ} convention). Zero at γ = 0.
      Lambda: float[,]
      /// Iterations and final relative residual ‖R‖_F/‖C‖_F.
      Convergence: ConvergenceInfo
      /// Relative residual after every iteration (diagnostics).
      ResidualHistory: float[] }

/// Time-domain saddle point of S(C) = S_SCS(C) + (γ²/2) tr(C⁻¹Cʸ) for φ = identity with the input weights U trained
/// (Clark et al. 2026; equations derived in shared/research/dmft-learned.md §3.2, §4). With φ = identity all tilted
/// expectations are Gaussian conditioning in closed form, and the stationarity condition becomes the Λ-free residual
///
///   R(C) = g² C S0⁻¹ (D C Dᵀ) S0⁻¹ C + C − g² C S0⁻¹ C + γ² Cʸ − C Dᵀ S0⁻¹ D C = 0,   S0 = g²C + Cᴵ   (★)
///
/// solved by the natural-gradient iteration C ← C + ε R(C), symmetrised after each step (note §6.3). D is the
/// leak operator on the grid (any invertible n×n matrix: periodic spectral, periodic exponential-Euler, or causal).
/// On a periodic grid the solution is circulant and its mode spectrum equals the closed form of
/// <see cref="LinearSpectrum"/> with a_k = |d_k|² (tested to 1e-6 relative and better).
[<RequireQualifiedAccess>]
module LinearSaddle =

    let private ofArray (a: float[,]) = Matrix<float>.Build.DenseOfArray a

    let private sym (m: Matrix<float>) = (m + m.Transpose()) * 0.5

    /// Periodic spectral leak operator D = I + ∂ₜ on n points (n odd, so that no Nyquist mode is ambiguous) of
    /// period T: ∂ = F⁻¹ diag(iω_k) F. Its symbol is exactly 1 + iω_k, so a_k = 1 + ω_k².
    [<CompiledName("PeriodicSpectralD")>]
    let periodicSpectralD (n: int, period: float) : float[,] =
        Validate.AtLeast("n", n, 3) |> ignore
        if n % 2 = 0 then raise (ParameterOutOfDomainException("n", string n, "an odd integer >= 3 (spectral D)"))
        Validate.Positive("period", period) |> ignore
        let w k = 2.0 * Math.PI * float k / period
        let half = (n - 1) / 2
        Array2D.init n n (fun j l ->
            let m = float (j - l)
            let mutable s = 0.0
            for k in 1 .. half do
                // iω e^{iωm} + (−iω) e^{−iωm} = −2ω sin(ωm)
                s <- s - 2.0 * w k * sin (2.0 * Math.PI * float k * m / float n)
            (if j = l then 1.0 else 0.0) + s / float n)

    /// Periodic exponential-Euler leak operator (D x)_k = (x_{k+1} − e x_k)/(1 − e), e = e^{−Δt}, indices mod n:
    /// the discretisation of the training engine. Symbol d_k = (e^{iω_kΔt} − e)/(1 − e).
    [<CompiledName("PeriodicExponentialEulerD")>]
    let periodicExponentialEulerD (n: int, dt: float) : float[,] =
        Validate.AtLeast("n", n, 2) |> ignore
        Validate.Positive("dt", dt) |> ignore
        let e = exp (-dt)
        Array2D.init n n (fun i j ->
            (if j = (i + 1) % n then 1.0 else 0.0) - (if i = j then e else 0.0)
            |> fun v -> v / (1.0 - e))

    /// Causal (non-periodic) exponential-Euler leak operator on a window that starts at rest: x_k = e x_{k−1} + (1−e)s_k,
    /// x_{−1} = 0, i.e. (D x)_k = (x_k − e x_{k−1})/(1 − e). Lower bidiagonal; the solution is non-stationary near t = 0.
    [<CompiledName("CausalExponentialEulerD")>]
    let causalExponentialEulerD (n: int, dt: float) : float[,] =
        Validate.AtLeast("n", n, 1) |> ignore
        Validate.Positive("dt", dt) |> ignore
        let e = exp (-dt)
        Array2D.init n n (fun i j -> ((if i = j then 1.0 else 0.0) - (if j = i - 1 then e else 0.0)) / (1.0 - e))

    // Small dense kernels on row-major n×n arrays (the iteration runs thousands of times at n ≈ 30–130, where
    // MathNet's per-call overhead and threading dominate).
    let private mul (n: int) (a: float[]) (b: float[]) =
        let c = Array.zeroCreate (n * n)
        for i in 0 .. n - 1 do
            let ri = i * n
            for k in 0 .. n - 1 do
                let aik = a.[ri + k]
                if aik <> 0.0 then
                    let rk = k * n
                    for j in 0 .. n - 1 do
                        c.[ri + j] <- c.[ri + j] + aik * b.[rk + j]
        c

    let private transpose (n: int) (a: float[]) = Array.init (n * n) (fun idx -> a.[(idx % n) * n + idx / n])

    /// Lower Cholesky factor; None when not positive definite.
    let private cholesky (n: int) (a: float[]) =
        let l = Array.zeroCreate (n * n)
        let mutable okay = true
        let mutable j = 0
        while okay && j < n do
            let mutable d = a.[j * n + j]
            for k in 0 .. j - 1 do
                d <- d - l.[j * n + k] * l.[j * n + k]
            if not (d > 0.0) || not (Double.IsFinite d) then okay <- false
            else
                let ljj = sqrt d
                l.[j * n + j] <- ljj
                for i in j + 1 .. n - 1 do
                    let mutable s = a.[i * n + j]
                    for k in 0 .. j - 1 do
                        s <- s - l.[i * n + k] * l.[j * n + k]
                    l.[i * n + j] <- s / ljj
            j <- j + 1
        if okay then Some l else None

    /// Solves (L Lᵀ) X = B for all columns of B (row-major n×n).
    let private cholSolve (n: int) (l: float[]) (b: float[]) =
        let x = Array.copy b
        for col in 0 .. n - 1 do
            for i in 0 .. n - 1 do
                let mutable s = x.[i * n + col]
                for k in 0 .. i - 1 do
                    s <- s - l.[i * n + k] * x.[k * n + col]
                x.[i * n + col] <- s / l.[i * n + i]
            for i in n - 1 .. -1 .. 0 do
                let mutable s = x.[i * n + col]
                for k in i + 1 .. n - 1 do
                    s <- s - l.[k * n + i] * x.[k * n + col]
                x.[i * n + col] <- s / l.[i * n + i]
        x

    let private symA (n: int) (a: float[]) = Array.init (n * n) (fun idx -> 0.5 * (a.[idx] + a.[(idx % n) * n + idx / n]))
    let private frob (a: float[]) = sqrt (Array.sumBy (fun v -> v * v) a)
    let private flat (m: float[,]) = Array.init (m.Length) (fun idx -> m.[idx / Array2D.length2 m, idx % Array2D.length2 m])
    let private unflat (n: int) (a: float[]) = Array2D.init n n (fun i j -> a.[i * n + j])

    /// The residual (★) and K_η/g² − C at C (row-major arrays); None when S0 is not positive definite.
    let private residual (n: int) (g2: float) (gamma2: float) (d: float[]) (dT: float[]) (cI: float[]) (cy: float[]) (c: float[]) =
        let s0 = Array.init (n * n) (fun idx -> g2 * c.[idx] + cI.[idx])
        match cholesky n (symA n s0) with
        | None -> None
        | Some l ->
            let w = cholSolve n l c // S0⁻¹ C
            let dc = mul n d c
            let s = mul n dc dT // D C Dᵀ
            let z = cholSolve n l dc // S0⁻¹ D C
            let wT = transpose n w
            let wtsw = mul n (mul n wT s) w
            let cw = mul n c w
            let kMinusC = Array.init (n * n) (fun idx -> g2 * (wtsw.[idx] - cw.[idx]))
            let dcTz = mul n (transpose n dc) z
            let r = Array.init (n * n) (fun idx -> kMinusC.[idx] + c.[idx] + gamma2 * cy.[idx] - dcTz.[idx])
            Some(symA n r, kMinusC)

    /// Solves (★) from the initial kernel c0 (default D⁻¹CᴵD⁻ᵀ, the g = γ = 0 solution). Returns the converged kernel and Λ, or a typed failure when
    /// the iteration diverges (typically a mode with D(ω) ≤ 0: no stationary solution), produces a non-positive S0 or a
    /// non-finite value, or exhausts the iteration limit.
    [<CompiledName("TrySolve")>]
    let trySolve
        (g: float, gamma: float, d: float[,], cI: float[,], cy: float[,], c0: float[,] option, options: LinearSaddleOptions)
        : Result<LinearSaddleResult, SolverFailure> =
        Validate.NonNegative("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.InRange("epsilon", options.Epsilon, 1e-6, 2.0) |> ignore
        Validate.Positive("tolerance", options.Tolerance) |> ignore
        Validate.PositiveInt("maxIterations", options.MaxIterations) |> ignore
        let n = Array2D.length1 d
        for (name, m) in [ "D", d; "CI", cI; "Cy", cy ] do
            if Array2D.length1 m <> n || Array2D.length2 m <> n then
                invalidArg name (sprintf "%s must be %d x %d" name n n)
            m |> Array2D.iter (fun v -> if not (Double.IsFinite v) then invalidArg name (sprintf "%s has a non-finite entry" name))
        let dm = flat d
        let dT = transpose n dm
        let cIm = symA n (flat cI)
        let cym = symA n (flat cy)
        let g2 = g * g
        let gamma2 = gamma * gamma
        let fail it res reason =
            Error { Solver = "LinearSaddle"; Iterations = it; Residual = res; Reason = reason }
        // Default start: the g = 0, γ = 0 solution G Cᴵ Gᵀ (G = D⁻¹). Starting from Cᴵ itself overshoots on
        // high-frequency modes (a ≫ 1) and leaves the admissible set.
        let mutable c =
            match c0 with
            | Some m -> symA n (flat m)
            | None ->
                let dInv = (ofArray d).Inverse()
                (dInv * ofArray cI * dInv.Transpose()).ToArray() |> flat |> symA n
        let norm0 = frob c
        if not (norm0 > 0.0) then invalidArg "c0" "initial kernel must be non-zero"
        let history = Collections.Generic.List<float>()
        let absHistory = Collections.Generic.List<float>()
        let mutable result = None
        let mutable it = 0
        while result.IsNone do
            match residual n g2 gamma2 dm dT cIm cym c with
            | None ->
                result <- Some(fail it nan "S0 = g²C + Cᴵ lost positive definiteness (iteration left the admissible set)")
            | Some(r, kMinusC) ->
                let rel = frob r / frob c
                history.Add rel
                absHistory.Add(frob r)
                if not (Double.IsFinite rel) then
                    result <- Some(fail it rel "non-finite residual")
                elif rel <= options.Tolerance then
                    let lam =
                        let cInv = (ofArray (unflat n c)).Inverse()
                        let inner = ofArray (unflat n (Array.init (n * n) (fun idx -> kMinusC.[idx] + gamma2 * cym.[idx])))
                        sym (cInv * inner * cInv)
                    result <-
                        Some(
                            Ok
                                { C = unflat n c
                                  Lambda = lam.ToArray()
                                  Convergence = { Iterations = it; Residual = rel }
                                  ResidualHistory = history.ToArray() }
                        )
                elif frob c > options.DivergenceFactor * norm0
                     || (it >= 200 && frob c > 10.0 * norm0 && absHistory.[it] >= 0.9 * absHistory.[it - 100]) then
                    result <-
                        Some(
                            fail it rel
                                (sprintf "diverged: ‖C‖ grew to %.3g (×%.0e); a mode with D(ω) = a − g² − γ²g⁴R ≤ 0 has no stationary solution"
                                     (frob c) options.DivergenceFactor)
                        )
                elif it >= options.MaxIterations then
                    result <- Some(fail it rel "iteration limit reached")
                else
                    c <- symA n (Array.init (n * n) (fun idx -> c.[idx] + options.Epsilon * r.[idx]))
                    it <- it + 1
        result.Value

    /// Throwing variant of <see cref="trySolve"/>: raises <see cref="NotConvergedException"/> on failure.
    [<CompiledName("Solve")>]
    let solve (g, gamma, d, cI, cy, c0, options) =
        match trySolve (g, gamma, d, cI, cy, c0, options) with
        | Ok r -> r
        | Error f -> raise (NotConvergedException f)

namespace Theory.Core.ClosedLoop

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core

/// Solution of the discrete algebraic Riccati equation with its feedback gain (control convention u = −Kx;
/// the library's static-gain convention u = kᵀx has k = −Kᵀ).
type DareSolution =
    { /// Cost matrix P (n × n), symmetric positive semi-definite.
      P: float[,]
      /// Gain K = (R + BᵀPB)⁻¹BᵀPA (m × n).
      K: float[,]
      /// Relative Frobenius residual ‖Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA − P‖ / max(1, ‖P‖).
      Residual: float
      /// Iterations of the Riccati recursion used.
      Iterations: int
      /// Spectral radius of A − BK (&lt; 1: the solution is stabilising).
      ClosedLoopRadius: float }

/// Finite-horizon LQR: gains K_t and cost matrices P_t, t = 0..T−1 (P_T = Q_f).
type FiniteHorizonLqr = { Gains: float[,][]; CostMatrices: float[,][] }

/// Steady-state Kalman filter for y = Cx + v (predict–update form).
type KalmanFilter =
    { /// Predicted (prior) error covariance Σ⁻.
      PriorCovariance: float[,]
      /// Kalman gain L = Σ⁻Cᵀ(CΣ⁻Cᵀ + R_v)⁻¹ (n × p).
      Gain: float[,]
      /// Spectral radius of the estimation-error dynamics (I − LC)A.
      ErrorRadius: float }

/// LQR, discrete algebraic Riccati equation, Kalman filter and LQG for the closed-loop plant
/// (Ger &amp; Barak 2025, App. B; Anderson &amp; Moore 2007). Standard forms; LQR is a reference point only.
module Lqr =
    let private M (a: float[,]) = Matrix<float>.Build.DenseOfArray a
    let private arr (m: Matrix<float>) = m.ToArray()

    let private checkSymmetricPsd (name: string) (q: Matrix<float>) (strict: bool) =
        if q.RowCount <> q.ColumnCount then raise (ParameterOutOfDomainException(name, sprintf "%dx%d" q.RowCount q.ColumnCount, "a square matrix"))
        for v in q.Enumerate() do
            if not (Double.IsFinite v) then raise (ParameterOutOfDomainException(name, string v, "finite entries"))
        let asym = (q - q.Transpose()).FrobeniusNorm()
        if asym > 1e-12 * max 1.0 (q.FrobeniusNorm()) then
            raise (ParameterOutOfDomainException(name, "non-symmetric matrix", "a symmetric matrix"))
        let ev = q.Evd(MathNet.Numerics.LinearAlgebra.Symmetricity.Symmetric).EigenValues |> Seq.map (fun z -> z.Real) |> Seq.min
        let tol = 1e-12 * max 1.0 (q.FrobeniusNorm())
        if (strict && ev <= 0.0) || ev < -tol then
            raise (ParameterOutOfDomainException(name, sprintf "min eigenvalue %g" ev, if strict then "positive definite" else "positive semi-definite"))

    let private checkShapes (a: float[,]) (b: float[,]) (q: float[,]) (r: float[,]) =
        let n = Array2D.length1 a
        if Array2D.length2 a <> n then raise (ParameterOutOfDomainException("A", sprintf "%dx%d" n (Array2D.length2 a), "a square matrix"))
        if Array2D.length1 b <> n then raise (ParameterOutOfDomainException("B", sprintf "%d rows" (Array2D.length1 b), sprintf "%d rows (as A)" n))
        if Array2D.length1 q <> n || Array2D.length2 q <> n then raise (ParameterOutOfDomainException("Q", sprintf "%dx%d" (Array2D.length1 q) (Array2D.length2 q), sprintf "%dx%d" n n))
        let m = Array2D.length2 b
        if Array2D.length1 r <> m || Array2D.length2 r <> m then raise (ParameterOutOfDomainException("R", sprintf "%dx%d" (Array2D.length1 r) (Array2D.length2 r), sprintf "%dx%d" m m))
        Validate.AllFinite("A", Seq.cast<float> a |> Seq.toArray) |> ignore
        Validate.AllFinite("B", Seq.cast<float> b |> Seq.toArray) |> ignore

    /// One Riccati step: K = (R + BᵀPB)⁻¹BᵀPA, P' = Q + AᵀP(A − BK). Raises NoSolutionException when R + BᵀPB is singular.
    let private riccatiStep (a: Matrix<float>) (b: Matrix<float>) (q: Matrix<float>) (r: Matrix<float>) (p: Matrix<float>) =
        let s = r + b.TransposeThisAndMultiply(p * b)
        let sNorm = max (s.FrobeniusNorm()) 1e-300
        if abs (s.Determinant()) <= 1e-14 * Math.Pow(sNorm, float s.RowCount) then
            raise (NoSolutionException("R + B'PB is singular: the LQR problem is ill-posed (R singular and B'PB not positive definite)"))
        let k = s.Solve(b.TransposeThisAndMultiply(p * a))
        let pNext = q + a.TransposeThisAndMultiply(p * (a - b * k))
        let pSym = (pNext + pNext.Transpose()) * 0.5
        k, pSym

    /// Relative residual of the DARE at P.
    [<CompiledName("DareResidual")>]
    let dareResidual (a: float[,]) (b: float[,]) (q: float[,]) (r: float[,]) (p: float[,]) =
        let a, b, q, r, p = M a, M b, M q, M r, M p
        let s = r + b.TransposeThisAndMultiply(p * b)
        let rhs = q + a.TransposeThisAndMultiply(p * a) - a.TransposeThisAndMultiply(p * b) * s.Solve(b.TransposeThisAndMultiply(p * a))
        (rhs - p).FrobeniusNorm() / max 1.0 (p.FrobeniusNorm())

    /// Finite-horizon LQR by the backward Riccati recursion: P_T = Q_f; K_t = (R + BᵀP_{t+1}B)⁻¹BᵀP_{t+1}A;
    /// P_t = Q + AᵀP_{t+1}(A − BK_t); u_t = −K_t x_t (App. B).
    [<CompiledName("FiniteHorizon")>]
    let finiteHorizon (a: float[,]) (b: float[,]) (q: float[,]) (r: float[,]) (qf: float[,]) (horizon: int) =
        checkShapes a b q r
        Validate.PositiveInt("horizon", horizon) |> ignore
        checkSymmetricPsd "Q" (M q) false
        checkSymmetricPsd "R" (M r) false
        checkSymmetricPsd "Qf" (M qf) false
        let am, bm, qm, rm = M a, M b, M q, M r
        let gains = Array.zeroCreate horizon
        let costs = Array.zeroCreate (horizon + 1)
        let mutable p = M qf
        costs.[horizon] <- arr p
        for t in horizon - 1 .. -1 .. 0 do
            let k, pn = riccatiStep am bm qm rm p
            gains.[t] <- arr k
            p <- pn
            costs.[t] <- arr p
        { Gains = gains; CostMatrices = costs }

    /// PBH test: every eigenvalue λ of A with |λ| ≥ 1 has rank [A − λI, B] = n.
    [<CompiledName("IsStabilisable")>]
    let isStabilisable (a: float[,]) (b: float[,]) =
        let n = Array2D.length1 a
        let m = Array2D.length2 b
        Linalg.eigenvalues a
        |> Array.filter (fun l -> l.Magnitude >= 1.0 - 1e-12)
        |> Array.forall (fun l ->
            let mat =
                Matrix<System.Numerics.Complex>.Build.Dense(n, n + m, fun i j ->
                    if j < n then System.Numerics.Complex(a.[i, j], 0.0) - (if i = j then l else System.Numerics.Complex.Zero)
                    else System.Numerics.Complex(b.[i, j - n], 0.0))
            let sv = mat.Svd(false).S
            sv.[n - 1].Magnitude > 1e-10 * max 1.0 sv.[0].Magnitude)

    /// Infinite-horizon DARE P = Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA by the Riccati recursion from P = Q to a relative
    /// change ≤ tol. Returns a typed failure when it does not converge in maxIterations or when the limit is not
    /// stabilising (ρ(A − BK) ≥ 1). Raises ParameterOutOfDomainException for malformed inputs (shape, symmetry,
    /// definiteness) and NoSolutionException for a non-stabilisable (A, B) or singular R + BᵀPB.
    [<CompiledName("TrySolveDare")>]
    let solveDare (a: float[,]) (b: float[,]) (q: float[,]) (r: float[,]) (tol: float) (maxIterations: int) : Result<DareSolution, SolverFailure> =
        checkShapes a b q r
        Validate.Positive("tol", tol) |> ignore
        Validate.PositiveInt("maxIterations", maxIterations) |> ignore
        checkSymmetricPsd "Q" (M q) false
        checkSymmetricPsd "R" (M r) false
        if not (isStabilisable a b) then
            raise (NoSolutionException("(A, B) is not stabilisable: no stabilising solution of the DARE exists"))
        let am, bm, qm, rm = M a, M b, M q, M r
        let mutable p = qm
        let mutable k = Matrix<float>.Build.Dense(Array2D.length2 b, Array2D.length1 a)
        let mutable it = 0
        let mutable change = Double.MaxValue
        while change > tol && it < maxIterations && Double.IsFinite change do
            let kn, pn = riccatiStep am bm qm rm p
            change <- (pn - p).FrobeniusNorm() / max 1.0 (pn.FrobeniusNorm())
            p <- pn
            k <- kn
            it <- it + 1
        let kFinal, _ = riccatiStep am bm qm rm p
        let res = dareResidual a b q r (arr p)
        let rho = Linalg.spectralRadius (arr (am - bm * kFinal))
        if not (Double.IsFinite change) || change > tol then
            Error { Solver = "DARE (Riccati recursion)"; Iterations = it; Residual = res; Reason = "the Riccati recursion did not converge" }
        elif rho >= 1.0 then
            Error { Solver = "DARE (Riccati recursion)"; Iterations = it; Residual = res; Reason = sprintf "no stabilising solution: spectral radius of A - BK is %g >= 1 ((Q, A) not detectable?)" rho }
        else
            Ok { P = arr p; K = arr kFinal; Residual = res; Iterations = it; ClosedLoopRadius = rho }

    /// Throwing variant of <see cref="solveDare"/> (tol 1e-14, 100 000 iterations): NotConvergedException when the
    /// recursion does not converge, NoSolutionException when the limit is not stabilising.
    [<CompiledName("SolveDare")>]
    let solveDareOrRaise a b q r =
        match solveDare a b q r 1e-14 100000 with
        | Ok s -> s
        | Error f when f.Reason.StartsWith "no stabilising" -> raise (NoSolutionException(f.ToString()))
        | Error f -> raise (NotConvergedException f)

    /// Steady-state Kalman filter by duality (DARE with Aᵀ, Cᵀ, Q_w, R_v): Σ⁻ = AΣ⁻Aᵀ − AΣ⁻Cᵀ(CΣ⁻Cᵀ + R_v)⁻¹CΣ⁻Aᵀ + Q_w,
    /// L = Σ⁻Cᵀ(CΣ⁻Cᵀ + R_v)⁻¹ (App. B). The estimate x̂_t = x̂⁻_t + L(y_t − Cx̂⁻_t), x̂⁻_t = Ax̂_{t−1} + Bu_{t−1}.
    [<CompiledName("SteadyStateKalman")>]
    let kalman (a: float[,]) (c: float[,]) (qw: float[,]) (rv: float[,]) =
        let s = solveDareOrRaise (Linalg.transpose a) (Linalg.transpose c) qw rv
        let sg = M s.P
        let cm = M c
        let l = sg * cm.Transpose() * (cm * sg * cm.Transpose() + M rv).Inverse()
        let am = M a
        let err = (Matrix<float>.Build.DenseIdentity(am.RowCount) - l * cm) * am
        { PriorCovariance = s.P; Gain = arr l; ErrorRadius = Linalg.spectralRadius (arr err) }

    /// One Kalman predict–update step: returns (x̂_t, Σ_t) from (x̂_{t−1}, Σ_{t−1}), u_{t−1} and y_t.
    [<CompiledName("KalmanStep")>]
    let kalmanStep (a: float[,]) (b: float[,]) (c: float[,]) (qw: float[,]) (rv: float[,]) (xHat: float[]) (sigma: float[,]) (u: float[]) (y: float[]) =
        let am, bm, cm = M a, M b, M c
        let xPred = am * Vector<float>.Build.DenseOfArray xHat + bm * Vector<float>.Build.DenseOfArray u
        let sPred = am * M sigma * am.Transpose() + M qw
        let l = sPred * cm.Transpose() * (cm * sPred * cm.Transpose() + M rv).Inverse()
        let xNew = xPred + l * (Vector<float>.Build.DenseOfArray y - cm * xPred)
        let sNew = (Matrix<float>.Build.DenseIdentity(am.RowCount) - l * cm) * sPred
        xNew.ToArray(), arr sNew

    /// LQG closed loop (noise-free, separation principle) for u_t = −K x̂_t with the steady-state filter L:
    /// (x_t; x̂_t) = [[A, −BK], [LCA, A − BK − LCA]] (x_{t−1}; x̂_{t−1}). Its spectrum is eig(A − BK) ∪ eig((I − LC)A).
    [<CompiledName("LqgClosedLoopMatrix")>]
    let lqgMatrix (a: float[,]) (b: float[,]) (c: float[,]) (k: float[,]) (l: float[,]) =
        let am, bm, cm, km, lm = M a, M b, M c, M k, M l
        let n = am.RowCount
        let top = (am.Append(-(bm * km)))
        let bottom = (lm * cm * am).Append(am - bm * km - lm * cm * am)
        let j = top.Stack(bottom)
        if j.RowCount <> 2 * n then failwith "LQG matrix has the wrong shape"
        arr j

namespace Theory.Core.MeanField

open System
open Theory.Core
open Theory.Core.Numerics

/// Settings of the mean-field iteration. Every field is a documented default.
type MeanFieldOptions =
    { /// Mean β̄ of the biases (default 0: the paper's biases are small and random).
      BiasMean: float
      /// Variance σ_β² of the biases (default 1e-4, i.e. σ_β = 0.01 [reconstructed, research note A1]).
      BiasVariance: float
      /// Initial population mean M(0); None → 1/√(3N), the typical |mean| of a uniform U(−1,1) initial state.
      InitialMean: float option
      /// Initial second moment Q(0) (default 1/3, the second moment of U(−1, 1) [paper: uniform initial states]).
      InitialSecondMoment: float
      /// Iteration limit of the map (default 5000; every 500 iterations a Newton polish on the fixed-point or
      /// period-2 equation is tried, so only points within ≈1e−4 of a boundary, where the map's multiplier is ≈ 1,
      /// reach the limit; they are classified from the last orbit with Converged = false).
      MaxIterations: int
      /// Convergence tolerance on max |x(t) − x(t−p)| for p = 1 (fixed point) or 2 (period 2) (default 1e-11).
      Tolerance: float
      /// Gaussian quadrature rule (default: trapezoid h = 0.1 on |z| ≤ 9.5).
      Rule: GaussianRule }
    /// The defaults listed above.
    static member Default =
        { BiasMean = 0.0
          BiasVariance = 1e-4
          InitialMean = None
          InitialSecondMoment = 1.0 / 3.0
          MaxIterations = 5000
          Tolerance = 1e-11
          Rule = GaussianQuadrature.Default }

/// The state of the mean-field map: per-population mean M_a and second moment Q_a of the activations.
type MeanFieldState =
    { M: float[]
      Q: float[] }

/// The attractor the map reached.
type AttractorKind =
    | FixedPoint = 0
    | Period2 = 1

/// An attractor of the mean-field map with its Lyapunov exponent and convergence report.
type MeanFieldAttractor =
    { Kind: AttractorKind
      /// The orbit: one state for a fixed point, two for a period-2 orbit (consecutive).
      Orbit: MeanFieldState[]
      /// Mean-field maximal Lyapunov exponent: ½·ln ρ(G) averaged over the orbit, G_ab = n_b σ²_ab ⟨sech⁴ h_b⟩
      /// (K = 1: ½ ln(N σ² ⟨sech⁴⟩), the issue's formula; for period 2: ¼ ln ρ(G₂G₁)). An uncoupled network
      /// (ρ(G) = 0, exponent −∞) is reported as ½ ln 1e−300 ≈ −345 so that outputs stay finite.
      Lyapunov: float
      Convergence: ConvergenceInfo
      /// False when the iteration limit was reached (the last orbit is reported, classified as if converged).
      Converged: bool }

/// The regime classification of a mean-field structure.
type MeanFieldRegime =
    { Regime: Regime
      Attractor: MeanFieldAttractor
      /// Spectral radius of the linearisation of the trivial state's fluctuations, ρ(n_b σ²_ab)^{1/2} (the bulk radius).
      BulkRadius: float
      /// Largest |eigenvalue| of the mean-coupling matrix n_b μ_ab (the outlier).
      MeanEigenvalue: float }

/// Mean-field theory of the discrete-time network x_i(t) = tanh(Σ_j W_ij x_j(t−1) + β_i) with block-structured random
/// couplings (Metzner et al. 2025 model; mean-field closure in the tradition of Molgedey, Schuchhardt & Schuster 1992
/// and Krauss et al. 2019). For receiver population a the local field is Gaussian with
///   mean m_a = Σ_b n_b μ_ab M_b + β̄,  variance v_a = Σ_b n_b σ²_ab Q_b + σ_β²,
/// and the maps are M_a' = ⟨tanh(m_a + √v_a z)⟩, Q_a' = ⟨tanh²(m_a + √v_a z)⟩.
[<AbstractClass; Sealed>]
type BlockMeanField private () =

    static member private Validate(s: BlockStructure, o: MeanFieldOptions) =
        let k = s.K
        if k = 0 then raise (ParameterOutOfDomainException("K", "0", "at least one population"))
        if Array2D.length1 s.Mean <> k || Array2D.length2 s.Mean <> k || Array2D.length1 s.Variance <> k || Array2D.length2 s.Variance <> k then
            invalidArg "structure" "Mean and Variance must be K×K with K = Sizes.Length"
        for a in 0 .. k - 1 do
            if s.Sizes.[a] < 0 then raise (ParameterOutOfDomainException(sprintf "Sizes[%d]" a, string s.Sizes.[a], ">= 0"))
            for b in 0 .. k - 1 do
                Validate.Finite(sprintf "Mean[%d,%d]" a b, s.Mean.[a, b]) |> ignore
                Validate.NonNegative(sprintf "Variance[%d,%d]" a b, s.Variance.[a, b]) |> ignore
        Validate.Finite("BiasMean", o.BiasMean) |> ignore
        Validate.NonNegative("BiasVariance", o.BiasVariance) |> ignore
        Validate.PositiveInt("MaxIterations", o.MaxIterations) |> ignore
        Validate.Positive("Tolerance", o.Tolerance) |> ignore

    /// Gaussian moments of tanh at field mean m and variance v: (⟨tanh⟩, ⟨tanh²⟩, ⟨sech²⟩, ⟨sech⁴⟩).
    static member Moments(rule: GaussianRule, m: float, v: float) =
        let s = Math.Sqrt(max 0.0 v)
        let mutable a1 = 0.0
        let mutable a2 = 0.0
        let mutable a3 = 0.0
        let mutable a4 = 0.0
        let nodes = rule.Nodes
        let wts = rule.Weights
        for i in 0 .. nodes.Length - 1 do
            let t = Math.Tanh(m + s * nodes.[i])
            let t2 = t * t
            let d = 1.0 - t2
            let wi = wts.[i]
            a1 <- a1 + wi * t
            a2 <- a2 + wi * t2
            a3 <- a3 + wi * d
            a4 <- a4 + wi * d * d
        struct (a1, a2, a3, a4)

    /// Field mean m_a and variance v_a for a state.
    static member Fields(s: BlockStructure, o: MeanFieldOptions, x: MeanFieldState) =
        let k = s.K
        let m = Array.zeroCreate k
        let v = Array.zeroCreate k
        for a in 0 .. k - 1 do
            let mutable mm = o.BiasMean
            let mutable vv = o.BiasVariance
            for b in 0 .. k - 1 do
                let nb = float s.Sizes.[b]
                mm <- mm + nb * s.Mean.[a, b] * x.M.[b]
                vv <- vv + nb * s.Variance.[a, b] * x.Q.[b]
            m.[a] <- mm
            v.[a] <- vv
        m, v

    /// One step of the (M, Q) map. Also returns ⟨sech⁴⟩ per population (for the Lyapunov exponent).
    static member StepWithSech4(s: BlockStructure, o: MeanFieldOptions, x: MeanFieldState) =
        let m, v = BlockMeanField.Fields(s, o, x)
        let k = s.K
        let mo = Array.zeroCreate k
        let qo = Array.zeroCreate k
        let s4 = Array.zeroCreate k
        for a in 0 .. k - 1 do
            let struct (t1, t2, _, d4) = BlockMeanField.Moments(o.Rule, m.[a], v.[a])
            mo.[a] <- t1
            qo.[a] <- t2
            s4.[a] <- d4
        { M = mo; Q = qo }, s4

    /// One step of the (M, Q) map.
    static member Step(s: BlockStructure, o: MeanFieldOptions, x: MeanFieldState) =
        fst (BlockMeanField.StepWithSech4(s, o, x))

    /// Spectral radius of a small real square matrix (MathNet eigenvalues).
    static member SpectralRadius(a: float[,]) =
        let k = Array2D.length1 a
        if k = 1 then abs a.[0, 0]
        elif Seq.cast<float> a |> Seq.forall (fun x -> x = 0.0) then 0.0
        else
            let mat = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray a
            mat.Evd().EigenValues |> Seq.map (fun c -> c.Magnitude) |> Seq.max

    /// Perturbation growth matrix G_ab = n_b σ²_ab ⟨sech⁴⟩_b at a state with given ⟨sech⁴⟩ per population.
    static member GrowthMatrix(s: BlockStructure, sech4: float[]) =
        Array2D.init s.K s.K (fun a b -> float s.Sizes.[b] * s.Variance.[a, b] * sech4.[b])

    static member private Dist(x: MeanFieldState, y: MeanFieldState) =
        let mutable d = 0.0
        for a in 0 .. x.M.Length - 1 do
            d <- max d (abs (x.M.[a] - y.M.[a]))
            d <- max d (abs (x.Q.[a] - y.Q.[a]))
        d

    static member private Flatten(x: MeanFieldState) = Array.append x.M x.Q
    static member private Unflatten(k: int, v: float[]) = { M = Array.sub v 0 k; Q = Array.sub v k k }

    /// Newton's method on G(x) = F^p(x) − x (p = 1 fixed point, p = 2 period-2 point) with a central-difference
    /// Jacobian, from a point near the attractor. Used where plain iteration converges slowly (critical slowing down
    /// near a boundary, where the map's multiplier approaches 1). Returns the point and its residual max|G|.
    static member private NewtonPolish(s: BlockStructure, o: MeanFieldOptions, x0: MeanFieldState, p: int) =
        let k = s.K
        let dim = 2 * k
        let fp (v: float[]) =
            let mutable x = BlockMeanField.Unflatten(k, v)
            for _ in 1 .. p do x <- BlockMeanField.Step(s, o, x)
            let fx = BlockMeanField.Flatten x
            Array.init dim (fun i -> fx.[i] - v.[i])
        let mutable v = BlockMeanField.Flatten x0
        let mutable g = fp v
        let mutable res = g |> Array.map abs |> Array.max
        let mutable it = 0
        while res >= o.Tolerance && it < 50 do
            let jac = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(dim, dim)
            for j in 0 .. dim - 1 do
                let h = 1e-7
                let vp = Array.copy v
                let vm = Array.copy v
                vp.[j] <- vp.[j] + h
                vm.[j] <- vm.[j] - h
                let gp = fp vp
                let gm = fp vm
                for i in 0 .. dim - 1 do jac.[i, j] <- (gp.[i] - gm.[i]) / (2.0 * h)
            let step =
                try jac.Solve(MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray g).ToArray()
                with _ -> Array.zeroCreate dim
            let vn = Array.init dim (fun i -> v.[i] - step.[i])
            for i in 0 .. k - 1 do
                vn.[i] <- max -1.0 (min 1.0 vn.[i])
                vn.[k + i] <- max 0.0 (min 1.0 vn.[k + i])
            let gn = fp vn
            let rn = gn |> Array.map abs |> Array.max
            if Double.IsFinite rn && rn < res then
                v <- vn
                g <- gn
                res <- rn
                it <- it + 1
            else it <- 50
        BlockMeanField.Unflatten(k, v), res, it

    /// Iterates the map to its attractor from the initial state of the options (all populations equal) and reports
    /// a fixed point or period-2 orbit with its mean-field Lyapunov exponent. Never throws for non-convergence: the
    /// result carries Converged = false and the last orbit (see <see cref="Attractor"/> for the strict variant).
    static member Iterate(s: BlockStructure, o: MeanFieldOptions) : MeanFieldAttractor =
        BlockMeanField.Validate(s, o)
        let k = s.K
        let n = s.N
        let m0 = defaultArg o.InitialMean (1.0 / Math.Sqrt(3.0 * float (max n 1)))
        let mutable x2 = { M = Array.create k m0; Q = Array.create k o.InitialSecondMoment } // x(t−2)
        let mutable x1 = BlockMeanField.Step(s, o, x2) // x(t−1)
        let mutable x0 = x1
        let mutable it = 1
        let mutable fin = false
        let mutable kind = AttractorKind.FixedPoint
        let mutable residual = Double.PositiveInfinity
        while not fin do
            x0 <- BlockMeanField.Step(s, o, x1)
            it <- it + 1
            let d1 = BlockMeanField.Dist(x0, x1)
            let d2 = BlockMeanField.Dist(x0, x2)
            if d1 < o.Tolerance then
                kind <- AttractorKind.FixedPoint
                residual <- d1
                fin <- true
            elif d2 < o.Tolerance && d1 > 1e3 * o.Tolerance then
                kind <- AttractorKind.Period2
                residual <- d2
                fin <- true
            elif it >= o.MaxIterations then
                kind <- (if d2 < d1 then AttractorKind.Period2 else AttractorKind.FixedPoint)
                residual <- min d1 d2
                fin <- true
            elif it % 500 = 0 then
                // slow convergence: try Newton from here on the fixed-point or period-2 equation
                let p = if d2 < 0.5 * d1 then 2 else 1
                let xp, res, _ = BlockMeanField.NewtonPolish(s, o, x0, p)
                if res < o.Tolerance then
                    x1 <- (if p = 2 then BlockMeanField.Step(s, o, xp) else xp)
                    x0 <- (if p = 2 then BlockMeanField.Step(s, o, x1) else xp)
                    kind <- (if p = 2 && BlockMeanField.Dist(x0, x1) > 1e3 * o.Tolerance then AttractorKind.Period2 else AttractorKind.FixedPoint)
                    residual <- res
                    fin <- true
                else
                    x2 <- x1
                    x1 <- x0
            else
                x2 <- x1
                x1 <- x0
        let converged = residual < o.Tolerance
        match kind with
        | AttractorKind.FixedPoint ->
            let _, s4x = BlockMeanField.StepWithSech4(s, o, x0)
            let g = BlockMeanField.GrowthMatrix(s, s4x)
            { Kind = kind
              Orbit = [| x0 |]
              Lyapunov = 0.5 * Math.Log(max 1e-300 (BlockMeanField.SpectralRadius g))
              Convergence = { Iterations = it; Residual = residual }
              Converged = converged }
        | _ ->
            let _, s4a = BlockMeanField.StepWithSech4(s, o, x1)
            let _, s4b = BlockMeanField.StepWithSech4(s, o, x0)
            let ga = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray(BlockMeanField.GrowthMatrix(s, s4a))
            let gb = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray(BlockMeanField.GrowthMatrix(s, s4b))
            let prod = (gb * ga).ToArray()
            { Kind = kind
              Orbit = [| x1; x0 |]
              Lyapunov = 0.25 * Math.Log(max 1e-300 (BlockMeanField.SpectralRadius prod))
              Convergence = { Iterations = it; Residual = residual }
              Converged = converged }

    /// Strict variant of <see cref="Iterate"/>: Error (SolverFailure "MeanFieldMap") when the iteration limit is hit.
    static member Attractor(s: BlockStructure, o: MeanFieldOptions) : Result<MeanFieldAttractor, SolverFailure> =
        let a = BlockMeanField.Iterate(s, o)
        if a.Converged then Ok a
        else
            Error
                { Solver = "MeanFieldMap"
                  Iterations = a.Convergence.Iterations
                  Residual = a.Convergence.Residual
                  Reason = "no fixed point or period-2 orbit reached within the iteration limit (critical slowing down near a boundary, or a longer cycle)" }

    /// Bulk radius of the trivial state's linearisation, √ρ(n_b σ²_ab) (tanh′(0) = 1).
    static member BulkRadius(s: BlockStructure) =
        Math.Sqrt(BlockMeanField.SpectralRadius(Array2D.init s.K s.K (fun a b -> float s.Sizes.[b] * s.Variance.[a, b])))

    /// Largest |eigenvalue| of the mean-coupling matrix n_b μ_ab.
    static member MeanEigenvalue(s: BlockStructure) =
        BlockMeanField.SpectralRadius(Array2D.init s.K s.K (fun a b -> float s.Sizes.[b] * s.Mean.[a, b]))

    /// Regime of the structure: quiescent when the trivial state is linearly stable (bulk radius < 1 and mean
    /// eigenvalue magnitude < 1, tanh′(0) = 1, biases → 0); otherwise the attractor of the map decides: chaotic when
    /// its Lyapunov exponent is > 0, else oscillatory for a period-2 orbit, fixpoint for a fixed point.
    static member Classify(s: BlockStructure, o: MeanFieldOptions) : MeanFieldRegime =
        let att = BlockMeanField.Iterate(s, o)
        let bulk = BlockMeanField.BulkRadius s
        let mean = BlockMeanField.MeanEigenvalue s
        let regime =
            if bulk < 1.0 && mean < 1.0 then Regime.Quiescent
            elif att.Lyapunov > 0.0 then Regime.Chaotic
            elif att.Kind = AttractorKind.Period2 then Regime.Oscillatory
            else Regime.Fixpoint
        { Regime = regime; Attractor = att; BulkRadius = bulk; MeanEigenvalue = mean }

namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// Options of the exact finite-N posterior sampler (docs/dmft-nonlinear.md, "Finite-N posterior sampler").
type FinitePosteriorOptions =
    { /// Network size N. Default 1000; at least 2n (n grid points of the window).
      Neurons: int
      /// Process noise σ: every neuron's field is s = (g/√N)(Jφ) + σξ with ξ white per grid step. It regularises the
      /// window kernel: C of noise-free paths is numerically singular (smooth paths; eigenvalues down to 1e-16 at
      /// Δt = 0.2), so every finite-precision method regularises it somehow. The noise-free model is the limit σ → 0.
      /// Default 0.01 [reconstructed regulariser; results move by O(10%) between σ = 0.1 and 0.01, see the docs].
      ProcessNoise: float
      /// Sweeps (one elliptical-slice update of every neuron) per value of γ. Default 150, about one relaxation time
      /// of the window summaries after a γ step of 0.25 (g = 1.5): γ⋆(1.5) at N = 500 is 0.89 with 50 sweeps, 0.66 with
      /// 150 and 0.61 with 300 (lagging states are too chaotic), so fewer sweeps bias γ⋆ upward.
      Sweeps: int
      /// Seed of the initial random network and of the sampler's draws.
      Seed: int64 }
    /// N = 1000, σ = 0.01, 150 sweeps per γ, seed 1.
    static member Default = { Neurons = 1000; ProcessNoise = 0.01; Sweeps = 150; Seed = 1L }

/// One state of the sampler: a draw from the finite-N posterior at the problem's γ.
type FinitePosteriorSample =
    { Problem: TiltedProblem
      Options: FinitePosteriorOptions
      /// Window paths x_i(t_k), k = 0..n−1, one array per neuron (x_i(0) is the initial state).
      Paths: float[][]
      /// Fields s_i(t_k) that drive x_i from t_k to t_{k+1} (s = (g/√N)Jφ + σξ), k = 0..n−1.
      Fields: float[][]
      /// Empirical window kernel C = (1/N) Σ_i φ(x_i)φ(x_i)ᵀ.
      C: float[,]
      /// Per sweep at this γ: [| mean_k C_kk; Σ_a y*_aᵀC⁻¹y*_a; mean_k C(t_k, t_k + T/2); (1/N)Σ_i s_iᵀΣ⁻¹s_i |], from
      /// the rank-two-updated sums and inverses (a fresh factorisation gives the same to rounding; tested).
      Trace: float[][]
      /// Mean elliptical-slice proposals per neuron update at this γ (mixing cost; 1 = every first proposal accepted).
      ProposalsPerUpdate: float
      /// Sweeps since the exact γ = 0 start.
      TotalSweeps: int
      /// Log posterior density (up to a γ-independent constant) recomputed from scratch at the end.
      LogDensity: float }
    /// Summaries averaged over the second half of the trace: mean activity, target alignment, half-window correlation
    /// (from the sample's own C when there is no trace, e.g. the γ = 0 start).
    member s.Summaries =
        let h = s.Trace.Length / 2
        let tail = if s.Trace.Length = 0 then [||] else s.Trace.[h ..]
        if tail.Length = 0 then
            let n = s.C.GetLength 0
            let c = Matrix<float>.Build.DenseOfArray s.C
            let ch = c.Cholesky()
            let align = s.Problem.Targets |> Array.sumBy (fun y -> let v = Vector<float>.Build.DenseOfArray y in v.DotProduct(ch.Solve v))
            let hh = n / 2
            [| (Seq.init n (fun k -> s.C.[k, k]) |> Seq.average); align
               (if n - hh > 0 then Seq.init (n - hh) (fun k -> s.C.[k, k + hh]) |> Seq.average else 0.0) |]
        else Array.init 3 (fun j -> tail |> Array.averageBy (fun r -> r.[j]))

/// Mutable state of one sampler (internal; FinitePosterior drives it).
type internal FinitePosteriorState =
    { Problem: TiltedProblem
      N: int
      Sigma: float
      X: float[][]
      S: float[][]
      Phi: float[][]
      /// Σ_i φ_iφ_iᵀ and Σ_i s_is_iᵀ, row-major n×n.
      Csum: float[]
      Ssum: float[]
      Rng: Rng
      mutable Sweeps: int }

/// The exact posterior of a finite network (note §3.1, §3.5) sampled in path space. The weights integrate out exactly:
/// given the window paths X of N neurons, J_i ~ N(0, I) and V_a ~ N(0, I) make the fields s_i ~ N(0, Σ) with
/// Σ = g²C(X) + σ²I and the readout y_a ~ N(0, C(X)/(Nγ²)), so the posterior of the paths given y_a = y*_a is
///   log p(X) = −½ Σ_i s_iᵀΣ⁻¹s_i − (N/2) ln det Σ − (Nγ²/2) Σ_a y*_aᵀC⁻¹y*_a − (d/2) ln det C − Σ_i x_i(0)²/(2σ0²),
/// with C(X) = (1/N)Σ_i φ_iφ_iᵀ. Its large-N limit is the tilted saddle point (the rate function is
/// KL(μ‖P_{C_μ}) + (γ²/2)tr(C⁻¹C^y), note §3.2), but no conjugate field Λ is needed and nothing diverges: each neuron's
/// (x_i(0), s_i) is updated by elliptical slice sampling (Murray, Adams &amp; MacKay 2010) against the exact joint
/// density, with rank-two (Woodbury) updates of Σ⁻¹ and C⁻¹ and a fresh factorisation every sweep. The weights of a
/// sample follow by Gaussian conditioning (TiltedRealisation), so each sample is one trained network of the ensemble.
[<AbstractClass; Sealed>]
type FinitePosterior private () =

    /// Rejects problems and options the sampler cannot run (ParameterOutOfDomainException with the allowed range).
    static member internal Validate(problem: TiltedProblem, options: FinitePosteriorOptions) =
        Validate.AtLeast("points", problem.Points, 2) |> ignore
        FinitePosterior.ValidateModel(problem, options.Neurons, options.ProcessNoise)
        Validate.AtLeast("sweeps", options.Sweeps, 1) |> ignore

    /// The checks of the finite-N posterior model itself, shared by its samplers (path space here, weight space in
    /// WeightPosterior): N ≥ 2n, σ > 0, no input but the process noise, x(0) ~ N(0, σ0²) with σ0 > 0, a target, and the
    /// exponential-Euler recursion x_{k+1} = e x_k + (1−e)s_k.
    static member internal ValidateModel(problem: TiltedProblem, neurons: int, processNoise: float) =
        let n = problem.Points
        Validate.AtLeast("neurons", neurons, 2 * n) |> ignore
        Validate.Positive("processNoise", processNoise) |> ignore
        // The only input the sampler models is its own process noise: a problem may carry it as the white input σ²I.
        match problem.InputKernel with
        | None -> ()
        | Some k ->
            let s2 = processNoise * processNoise
            let ok = Seq.forall (fun (i, j) -> abs (k.[i, j] - (if i = j then s2 else 0.0)) <= 1e-12 * s2) (seq { for i in 0 .. n - 1 do for j in 0 .. n - 1 -> i, j })
            if not ok then
                raise (ParameterOutOfDomainException("problem", "with an input other than the process noise",
                        sprintf "no input, or the white input sigma^2 I with sigma = the sampler's process noise %g" processNoise))
        if problem.InputWeights > 0 then
            raise (ParameterOutOfDomainException("problem", sprintf "with %d input weights" problem.InputWeights,
                    "a single-trajectory problem without explicit inputs (TiltedProblems.OnGrid or Sinusoid)"))
        if not (problem.X0Variance > 0.0) then
            raise (ParameterOutOfDomainException("x0Variance", string problem.X0Variance,
                    "> 0 (with x(0) = 0 the window kernel is singular; the default N(0, Delta0(g)) is degenerate for g <= 1)"))
        if problem.Targets.Length = 0 then
            raise (ParameterOutOfDomainException("targets", "none", "at least one target"))
        // The samplers integrate the exponential-Euler recursion x_{k+1} = e x_k + (1−e)s_k directly.
        if n >= 2 then
            let e = Math.Exp(-problem.Dt)
            if abs (problem.X0Response.[1] - e) > 1e-12 || abs (problem.Propagator.[1, 0] - (1.0 - e)) > 1e-12 then
                raise (ParameterOutOfDomainException("problem", "not an exponential-Euler grid", "a problem built by TiltedProblems.OnGrid or Sinusoid"))

    /// The exact γ = 0 draw: a random network J_ij ~ N(0, g²/N) with process noise, run over the window from
    /// x(0) ~ N(0, σ0²) (the prior is the γ = 0 posterior).
    static member internal Start(problem: TiltedProblem, options: FinitePosteriorOptions, stream: int64) : FinitePosteriorState =
        FinitePosterior.Validate(problem, options)
        let n = problem.Points
        let N = options.Neurons
        let e = Math.Exp(-problem.Dt)
        let phiOf = SiteNonlinearity.apply problem.Phi
        let init = Rng.ForStream(options.Seed, 30000L + stream)
        let scale = problem.G / Math.Sqrt(float N)
        let J = Array.init (N * N) (fun _ -> scale * init.NextGaussian())
        let s0 = Math.Sqrt problem.X0Variance
        let X = Array.init N (fun _ -> Array.zeroCreate n)
        let S = Array.init N (fun _ -> Array.zeroCreate n)
        let Phi = Array.init N (fun _ -> Array.zeroCreate n)
        for i in 0 .. N - 1 do X.[i].[0] <- s0 * init.NextGaussian()
        let ph = Array.zeroCreate N
        for k in 0 .. n - 1 do
            for i in 0 .. N - 1 do
                ph.[i] <- phiOf X.[i].[k]
                Phi.[i].[k] <- ph.[i]
            for i in 0 .. N - 1 do
                let s = SmallDense.dot J (i * N) ph 0 N + options.ProcessNoise * init.NextGaussian()
                S.[i].[k] <- s
                if k + 1 < n then X.[i].[k + 1] <- e * X.[i].[k] + (1.0 - e) * s
        { Problem = problem; N = N; Sigma = options.ProcessNoise; X = X; S = S; Phi = Phi
          Csum = Array.zeroCreate (n * n); Ssum = Array.zeroCreate (n * n)
          Rng = Rng.ForStream(options.Seed, 31000L + stream); Sweeps = 0 }

    /// A deep copy of a state with its own random stream (bisection branches of the phase boundary).
    static member internal Clone(st: FinitePosteriorState, seed: int64, stream: int64) : FinitePosteriorState =
        { st with X = st.X |> Array.map Array.copy; S = st.S |> Array.map Array.copy; Phi = st.Phi |> Array.map Array.copy
                  Csum = Array.copy st.Csum; Ssum = Array.copy st.Ssum; Rng = Rng.ForStream(seed, stream); Sweeps = st.Sweeps }

    /// Recomputes Σφφᵀ and Σssᵀ from the paths (removes the drift of the rank-two updates that Advance applies within
    /// a sweep).
    static member private Refresh(st: FinitePosteriorState) =
        let n = st.Problem.Points
        Array.Clear st.Csum
        Array.Clear st.Ssum
        for i in 0 .. st.N - 1 do
            SmallDense.addOuterUpper st.Csum n st.Phi.[i]
            SmallDense.addOuterUpper st.Ssum n st.S.[i]
        SmallDense.mirrorUpper st.Csum n
        SmallDense.mirrorUpper st.Ssum n

    /// Symmetric inverse, Cholesky factor (lower, row-major) and ln det of a symmetric positive-definite matrix
    /// (its symmetric part is used).
    static member private Factor(a: float[], n: int) =
        let l = Array.init (n * n) (fun i -> let r, c = i / n, i % n in 0.5 * (a.[r * n + c] + a.[c * n + r]))
        let ld = SmallDense.choleskyInPlace l n
        if Double.IsNaN ld then
            raise (NoSolutionException "the window kernel lost positive definiteness in the finite-N posterior sampler; increase the process noise")
        let q = Array.zeroCreate (n * n)
        SmallDense.inverseFromCholesky l q (Array.zeroCreate (n * n)) n
        q, l, ld

    /// The log posterior density of the state at γ (up to a γ-independent constant), from scratch.
    static member internal LogDensityOf(st: FinitePosteriorState, gamma: float) =
        FinitePosterior.Refresh st
        let p = st.Problem
        let n = p.Points
        let fN = float st.N
        let g2 = p.G * p.G
        let c = Array.map (fun v -> v / fN) st.Csum
        let sigma = Array.init (n * n) (fun i -> g2 * c.[i] + (if i / n = i % n then st.Sigma * st.Sigma else 0.0))
        let qS, _, ldS = FinitePosterior.Factor(sigma, n)
        let qC, _, ldC = FinitePosterior.Factor(c, n)
        let trSK = SmallDense.dot qS 0 st.Ssum 0 (n * n)
        let tmp = Array.zeroCreate n
        let yCy =
            p.Targets |> Array.sumBy (fun y ->
                for a in 0 .. n - 1 do tmp.[a] <- SmallDense.dot qC (a * n) y 0 n
                SmallDense.dot y 0 tmp 0 n)
        let x0 =
            if p.X0Tilted && p.X0Variance > 0.0 then (st.X |> Array.sumBy (fun (x: float[]) -> x.[0] * x.[0])) / (2.0 * p.X0Variance)
            else 0.0
        -0.5 * trSK - 0.5 * fN * ldS - 0.5 * fN * gamma * gamma * yCy - 0.5 * float p.Targets.Length * ldC - x0

    /// Runs `sweeps` sweeps at γ; returns the trace (per sweep: activity, alignment, half-window correlation, field
    /// energy; see FinitePosteriorSample.Trace) and the mean number of slice proposals per update.
    /// Cost per neuron update: six n×n matrix–vector products, three per slice proposal and three rank-two updates on
    /// acceptance (the proposal s' = s·cosθ + ν·sinθ is linear, so its quadratic forms come from per-update products).
    static member internal Advance(st: FinitePosteriorState, gamma: float, sweeps: int) =
        let p = st.Problem
        let n = p.Points
        let nn = n * n
        let N = st.N
        let fN = float N
        let g2 = p.G * p.G
        let s2 = st.Sigma * st.Sigma
        let e = Math.Exp(-p.Dt)
        let ys = p.Targets
        let d = ys.Length
        let s0 = Math.Sqrt p.X0Variance
        let moveX0 = p.X0Tilted && s0 > 0.0
        let rng = st.Rng
        let gg = gamma * gamma
        let h = n / 2
        // Work arrays, reused by every update (a sweep allocates its factorisations and two small closures per neuron).
        let ws1, ws2, wc1, wc2 = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
        let kw1, kw2, qsOld, qsNu = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
        let nu, z, xp, sp, pp = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
        let wv, zt, chol = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
        let delta = g2 / fN
        let sqd = Math.Sqrt delta
        let yQy = Array.zeroCreate d
        let qCy = Array.init d (fun _ -> Array.zeroCreate n)
        let w2y = Array.zeroCreate d
        let diag = Array.zeroCreate n
        let half = Array.zeroCreate (max 0 (n - h))
        // (D⁻¹ + UᵀQU)⁻¹ entries and ln det(I + D UᵀQU) for U = [u', u], D = diag(δ, −δ).
        let inline rank2 (delta: float) (s11: float) (s12: float) (s22: float) =
            let m11 = 1.0 / delta + s11
            let m22 = -1.0 / delta + s22
            let det = m11 * m22 - s12 * s12
            struct (m22 / det, -s12 / det, m11 / det, Math.Log(-det * delta * delta))
        let trace = Array.zeroCreate sweeps
        let mutable proposals = 0L
        for sweep in 0 .. sweeps - 1 do
            FinitePosterior.Refresh st
            let c = Array.map (fun v -> v / fN) st.Csum
            let sigma = Array.init nn (fun i -> g2 * c.[i] + (if i / n = i % n then s2 else 0.0))
            // lCur: the Cholesky factor of the CURRENT Σ through the sweep (rank-one updates on acceptance), from which
            // each neuron's slice reference leaves that neuron out (below).
            let qS, lCur, _ = FinitePosterior.Factor(sigma, n)
            // uCur = lCurᵀ: the rank-one updates run on the transposed factor, whose columns are contiguous (SIMD);
            // lCur (rows, for the triangular solves below) is copied back from it after each accepted move.
            let uCur = BlockKernels.transpose lCur n
            let qC, _, _ = FinitePosterior.Factor(c, n)
            let Ssum = st.Ssum
            // Maintained through the sweep: tr(Σ⁻¹Σssᵀ), C⁻¹y*, y*ᵀC⁻¹y*, diagonal and half-window band of Σφφᵀ.
            let mutable t0 = SmallDense.dot qS 0 Ssum 0 nn
            for a in 0 .. d - 1 do
                SmallDense.matVec qC ys.[a] qCy.[a] n
                yQy.[a] <- SmallDense.dot ys.[a] 0 qCy.[a] 0 n
            for k in 0 .. n - 1 do diag.[k] <- st.Csum.[k * n + k]
            for k in 0 .. half.Length - 1 do half.[k] <- st.Csum.[k * n + k + h]
            for i in 0 .. N - 1 do
                let sv = st.S.[i]
                let phi = st.Phi.[i]
                let xv = st.X.[i]
                SmallDense.matVec2 qS qC phi ws2 wc2 n
                SmallDense.matVec Ssum ws2 kw2 n
                SmallDense.matVec qS sv qsOld n
                let w2s = SmallDense.dot ws2 0 sv 0 n
                let ps22 = SmallDense.dot phi 0 ws2 0 n
                // Elliptical slice against the reference prior N(0, Σ_ref) with Σ_ref = Σ − (g²/N)φ_iφ_iᵀ: the current
                // Σ without neuron i's own term, so the reference does not depend on the variable being updated (a
                // reference that contains it breaks the invariance of the slice move: measured as a bias of O(1/N) in
                // C against exact importance sampling; docs). ν = L_cur(z − c·w(wᵀz)), w = L_cur⁻¹√δφ_i,
                // c = (1 − √(1 − |w|²))/|w|²: the factor of Σ_ref applied to z, so νᵀΣ_ref⁻¹ν = zᵀz. x(0) ~ N(0, σ0²)
                // when trained.
                let nuX0 = if moveX0 then s0 * rng.NextGaussian() else 0.0
                for k in 0 .. n - 1 do z.[k] <- rng.NextGaussian()
                for r in 0 .. n - 1 do wv.[r] <- (sqd * phi.[r] - SmallDense.dot lCur (r * n) wv 0 r) / lCur.[r * n + r]
                let ww = SmallDense.dot wv 0 wv 0 n
                if not (ww < 1.0) then
                    raise (NoSolutionException "the finite-N posterior sampler lost positive definiteness of the field covariance; increase the process noise")
                let cw = (if ww > 0.0 then (1.0 - Math.Sqrt(1.0 - ww)) / ww else 0.0) * SmallDense.dot wv 0 z 0 n
                for k in 0 .. n - 1 do zt.[k] <- z.[k] - cw * wv.[k]
                for a in 0 .. n - 1 do nu.[a] <- SmallDense.dot lCur (a * n) zt 0 (a + 1)
                SmallDense.matVec qS nu qsNu n
                let refDenom = 1.0 - delta * ps22
                for a in 0 .. d - 1 do w2y.[a] <- SmallDense.dot phi 0 qCy.[a] 0 n
                let w2Kw2 = SmallDense.dot ws2 0 kw2 0 n
                let pc22 = SmallDense.dot phi 0 wc2 0 n
                // Quadratic forms of s' = s·cosθ + ν·sinθ under Σ⁻¹ and Σ_ref⁻¹ (νᵀΣ_ref⁻¹ν = zᵀz).
                let sQs = SmallDense.dot sv 0 qsOld 0 n
                let sQn = SmallDense.dot sv 0 qsNu 0 n
                let nQn = SmallDense.dot nu 0 qsNu 0 n
                // Σ_ref⁻¹ = Σ⁻¹ + δΣ⁻¹φφᵀΣ⁻¹/(1 − δφᵀΣ⁻¹φ) (Sherman–Morrison), so its forms need no new product.
                let sRs = sQs + delta * w2s * w2s / refDenom
                let sRn = sQn + delta * SmallDense.dot nu 0 ws2 0 n * w2s / refDenom
                let nRn = SmallDense.dot z 0 z 0 n
                // log L(s', φ') = log p(X') − log prior_ref(s') for the proposal at angle θ (s' in sp, φ' in pp);
                // the rank-two coefficients are returned for the Woodbury update on acceptance.
                // w1 = Σ⁻¹φ', c1 = C⁻¹φ', k1 = Σssᵀw1 of the proposal (filled by logL; at θ = 0 they are ws2, wc2, kw2).
                let logLWith (w1: float[]) (c1: float[]) (k1: float[]) (ct: float) (stn: float) =
                    let struct (r11, r12, r22, ldS) = rank2 (g2 / fN) (SmallDense.dot pp 0 w1 0 n) (SmallDense.dot pp 0 ws2 0 n) ps22
                    let struct (c11, c12, c22, ldC) = rank2 (1.0 / fN) (SmallDense.dot pp 0 c1 0 n) (SmallDense.dot pp 0 wc2 0 n) pc22
                    let mutable yCy = 0.0
                    for a in 0 .. d - 1 do
                        let u = SmallDense.dot c1 0 ys.[a] 0 n
                        let v = w2y.[a]
                        yCy <- yCy + yQy.[a] - (c11 * u * u + 2.0 * c12 * u * v + c22 * v * v)
                    let w1s' = SmallDense.dot w1 0 sp 0 n
                    let w2s' = SmallDense.dot ws2 0 sp 0 n
                    let w1s = SmallDense.dot w1 0 sv 0 n
                    let a11 = SmallDense.dot w1 0 k1 0 n - w1s * w1s + w1s' * w1s'
                    let a12 = SmallDense.dot w1 0 kw2 0 n - w1s * w2s + w1s' * w2s'
                    let a22 = w2Kw2 - w2s * w2s + w2s' * w2s'
                    let spQsp = ct * ct * sQs + 2.0 * ct * stn * sQn + stn * stn * nQn
                    let spRsp = ct * ct * sRs + 2.0 * ct * stn * sRn + stn * stn * nRn
                    let trSK = t0 - sQs + spQsp - (r11 * a11 + 2.0 * r12 * a12 + r22 * a22)
                    struct (-0.5 * trSK - 0.5 * fN * ldS - 0.5 * fN * gg * yCy - 0.5 * float d * ldC + 0.5 * spRsp,
                            trSK, r11, r12, r22, c11, c12, c22)
                let logL (ct: float) (stn: float) =
                    SmallDense.matVec2 qS qC pp ws1 wc1 n
                    SmallDense.matVec Ssum ws1 kw1 n
                    logLWith ws1 wc1 kw1 ct stn
                let propose (x0: float) (ct: float) (stn: float) =
                    for k in 0 .. n - 1 do sp.[k] <- sv.[k] * ct + nu.[k] * stn
                    xp.[0] <- x0
                    for k in 0 .. n - 2 do xp.[k + 1] <- e * xp.[k] + (1.0 - e) * sp.[k]
                    SiteNonlinearity.applyInto p.Phi xp pp n
                    logL ct stn
                // The current state is the proposal at θ = 0, whose products Σ⁻¹φ, C⁻¹φ, Σssᵀ(Σ⁻¹φ) are already in
                // ws2, wc2, kw2 (the same kernels on the same input: bit-identical to recomputing them).
                Array.blit sv 0 sp 0 n
                Array.blit phi 0 pp 0 n
                let struct (cur, _, _, _, _, _, _, _) = logLWith ws2 wc2 kw2 1.0 0.0
                let logy = cur + Math.Log(rng.NextDouble() + 1e-300)
                let mutable theta = 2.0 * Math.PI * rng.NextDouble()
                let mutable lo = theta - 2.0 * Math.PI
                let mutable hi = theta
                let mutable fin = false
                while not fin do
                    proposals <- proposals + 1L
                    let ct = Math.Cos theta
                    let stn = Math.Sin theta
                    let x0p = if moveX0 then xv.[0] * ct + nuX0 * stn else xv.[0]
                    let struct (lp, trSK, r11, r12, r22, c11, c12, c22) = propose x0p ct stn
                    if lp > logy then
                        // Accept: Σ += δ(φ'φ'ᵀ − φφᵀ): its Cholesky factor by a rank-one update and downdate (refactorised
                        // from the maintained Σφφᵀ if the downdate loses definiteness), Σφφᵀ itself;
                        for k in 0 .. n - 1 do chol.[k] <- sqd * pp.[k]
                        SmallDense.choleskyUpdateUpper uCur n chol 1.0 |> ignore
                        for k in 0 .. n - 1 do chol.[k] <- sqd * phi.[k]
                        SmallDense.rankTwo st.Csum n pp phi 1.0 0.0 0.0 -1.0 pp phi
                        if SmallDense.choleskyUpdateUpper uCur n chol -1.0 then SmallDense.lowerFromUpper uCur lCur n
                        else
                            let cur = Array.init nn (fun k -> g2 * st.Csum.[k] / fN + (if k / n = k % n then s2 else 0.0))
                            let _, l, _ = FinitePosterior.Factor(cur, n)
                            Array.blit l 0 lCur 0 nn
                            Array.blit (BlockKernels.transpose l n) 0 uCur 0 nn
                        // rank-two updates of Σssᵀ and (Woodbury) of Σ⁻¹, C⁻¹; the maintained forms follow.
                        SmallDense.rankTwo Ssum n sp sv 1.0 0.0 0.0 -1.0 sp sv
                        SmallDense.rankTwo qS n ws1 ws2 -r11 -r12 -r12 -r22 ws1 ws2
                        SmallDense.rankTwo qC n wc1 wc2 -c11 -c12 -c12 -c22 wc1 wc2
                        t0 <- trSK
                        for a in 0 .. d - 1 do
                            let u = SmallDense.dot wc1 0 ys.[a] 0 n
                            let v = w2y.[a]
                            yQy.[a] <- yQy.[a] - (c11 * u * u + 2.0 * c12 * u * v + c22 * v * v)
                            SmallDense.axpy (-(c11 * u + c12 * v)) wc1 0 qCy.[a] 0 n
                            SmallDense.axpy (-(c12 * u + c22 * v)) wc2 0 qCy.[a] 0 n
                        for k in 0 .. n - 1 do diag.[k] <- diag.[k] + pp.[k] * pp.[k] - phi.[k] * phi.[k]
                        for k in 0 .. half.Length - 1 do half.[k] <- half.[k] + pp.[k] * pp.[k + h] - phi.[k] * phi.[k + h]
                        Array.blit sp 0 sv 0 n
                        Array.blit pp 0 phi 0 n
                        Array.blit xp 0 xv 0 n
                        fin <- true
                    elif hi - lo < 1e-12 then fin <- true // numerically shrunk to the current state
                    else
                        if theta < 0.0 then lo <- theta else hi <- theta
                        theta <- lo + (hi - lo) * rng.NextDouble()
            st.Sweeps <- st.Sweeps + 1
            trace.[sweep] <- [| Array.sum diag / fN / float n; Array.sum yQy
                                (if half.Length > 0 then Array.sum half / fN / float half.Length else 0.0)
                                t0 / fN |]
        trace, float proposals / float (max 1 (sweeps * N))

    static member internal Snapshot(st: FinitePosteriorState, options: FinitePosteriorOptions, gamma: float, trace: float[][], proposals: float) =
        let n = st.Problem.Points
        let ld = FinitePosterior.LogDensityOf(st, gamma)
        let fN = float st.N
        { Problem = { st.Problem with Gamma = gamma }; Options = options
          Paths = st.X |> Array.map Array.copy; Fields = st.S |> Array.map Array.copy
          C = Array2D.init n n (fun a b -> st.Csum.[a * n + b] / fN); Trace = trace; ProposalsPerUpdate = proposals
          TotalSweeps = st.Sweeps; LogDensity = ld }

    /// Anneals one sampler over an ascending γ list: starts from the exact γ = 0 draw (a random network), runs
    /// options.Sweeps sweeps at each γ (none at γ = 0, where the start is exact) and returns the state after each.
    /// `stream` selects an independent sampler for the same seed (replicates).
    static member Anneal(problemAt: Func<float, TiltedProblem>, gammas: float[], options: FinitePosteriorOptions, stream: int64)
        : FinitePosteriorSample[] =
        if gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list"))
        for i in 0 .. gammas.Length - 1 do
            Validate.NonNegative("gamma", gammas.[i]) |> ignore
            if i > 0 && gammas.[i] < gammas.[i - 1] then
                raise (ParameterOutOfDomainException("gammas", "not ascending", "an ascending list"))
        if stream < 0L then raise (ParameterOutOfDomainException("stream", string stream, "stream >= 0"))
        let st = FinitePosterior.Start(problemAt.Invoke gammas.[0], options, stream)
        gammas
        |> Array.map (fun gm ->
            let p = problemAt.Invoke gm
            if p.Points <> st.Problem.Points then
                raise (ParameterOutOfDomainException("problemAt", "grids differ between gammas", "one grid for all gammas"))
            let trace, prop = if gm = 0.0 then [||], 0.0 else FinitePosterior.Advance(st, gm, options.Sweeps)
            FinitePosterior.Snapshot(st, options, gm, trace, prop))

    /// The trained network of a sample: J drawn from its Gaussian conditional given the sample's fields (observation
    /// noise σ², i.e. σ_J² = Nσ²/g² in units of J), run noise-free past the window and classified (TiltedRealisation).
    /// Only the options' tolerances, durations, seed and Replicate are used (N is the sample's).
    static member Realise(sample: FinitePosteriorSample, options: RealisationOptions) : RealisationResult =
        let p = sample.Problem
        let N = sample.Paths.Length
        let sigma2 = float N * sample.Options.ProcessNoise * sample.Options.ProcessNoise / (p.G * p.G)
        TiltedRealisation.RunPaths(p, sample.Fields, sample.Paths, sigma2, options)

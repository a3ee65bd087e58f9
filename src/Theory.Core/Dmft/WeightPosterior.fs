namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Options of the weight-space posterior sampler (docs/dmft-nonlinear.md, "Weight-space posterior sampler").
type WeightPosteriorOptions =
    { /// Network size N. At least 2n (n grid points), as FinitePosterior. Default 1000.
      Neurons: int
      /// Process noise σ of the fields s = (g/√N)Jφ + σξ: the same model as FinitePosteriorOptions.ProcessNoise
      /// (compare at equal σ). Default 0.01 [reconstructed regulariser, as there].
      ProcessNoise: float
      /// HMC iterations per value of γ (none at γ = 0, where the start is exact). The first half adapts the step size
      /// (warm-up, discarded); the second half runs at a fixed step size, so it is an exact Metropolis-adjusted chain of
      /// the posterior and the trace summaries average over it. Default 150; at least 2.
      Iterations: int
      /// Leapfrog steps per trajectory. Default 16.
      LeapfrogSteps: int
      /// Initial step size ε (the prior part of the flow is integrated exactly, so ε is an angle: at most π/2). Default 0.05.
      StepSize: float
      /// Acceptance rate the warm-up aims at (Robbins–Monro on ln ε). Default 0.7 [reconstructed].
      TargetAcceptance: float
      /// Seed of the initial network and of the sampler's draws.
      Seed: int64 }
    /// N = 1000, σ = 0.01, 150 iterations per γ, 16 leapfrog steps, ε0 = 0.05, target acceptance 0.7, seed 1.
    static member Default =
        { Neurons = 1000; ProcessNoise = 0.01; Iterations = 150; LeapfrogSteps = 16; StepSize = 0.05; TargetAcceptance = 0.7; Seed = 1L }

/// One state of the weight-space sampler at the problem's γ (fields as FinitePosteriorSample, plus HMC diagnostics).
type WeightPosteriorSample =
    { Problem: TiltedProblem
      Options: WeightPosteriorOptions
      /// Window paths x_i(t_k), k = 0..n−1, one array per neuron.
      Paths: float[][]
      /// Fields s_i(t_k) = (g/√N)(Jφ)_i(t_k) + σξ_i(t_k), k = 0..n−1.
      Fields: float[][]
      /// The weights J (N×N row-major, unit prior; the coupling is (g/√N)J).
      Weights: float[]
      /// Empirical window kernel C = (1/N) Σ_i φ(x_i)φ(x_i)ᵀ.
      C: float[,]
      /// Per iteration of the fixed-step half at this γ: [| mean_k C_kk; Σ_a y*_aᵀC⁻¹y*_a; mean_k C(t_k, t_k + T/2);
      /// (1/N)Σ_i s_iᵀΣ⁻¹s_i |] with Σ = g²C + σ²I (the same summaries as FinitePosteriorSample.Trace).
      Trace: float[][]
      /// Metropolis acceptance rate over the fixed-step half.
      Acceptance: float
      /// The fixed step size ε of that half (the warm-up's final value).
      StepSize: float
      /// Effective sample size of each trace summary over the fixed-step half (Geyer's initial positive sequence).
      EffectiveSamples: float[]
      /// Iterations since the exact γ = 0 start.
      TotalIterations: int
      /// Log posterior density (up to a constant) in weight space: −½|θ|² − (Nγ²/2)Σ_a y*ᵀC⁻¹y* − (d/2) ln det C.
      LogDensity: float }
    /// Summaries averaged over the trace (mean activity, target alignment, half-window correlation), or from the
    /// sample's own C when there is no trace (the γ = 0 start); the same definitions as FinitePosteriorSample.Summaries.
    member s.Summaries =
        if s.Trace.Length = 0 then
            let n = s.C.GetLength 0
            let l = Array.init (n * n) (fun i -> s.C.[i / n, i % n])
            SmallDense.choleskyInPlace l n |> ignore
            let inv = Array.zeroCreate (n * n)
            SmallDense.inverseFromCholesky l inv (Array.zeroCreate (n * n)) n
            let align = s.Problem.Targets |> Array.sumBy (fun y -> Seq.sum (seq { for a in 0 .. n - 1 do for b in 0 .. n - 1 -> y.[a] * inv.[a * n + b] * y.[b] }))
            let h = n / 2
            [| Seq.init n (fun k -> s.C.[k, k]) |> Seq.average; align
               (if n - h > 0 then Seq.init (n - h) (fun k -> s.C.[k, k + h]) |> Seq.average else 0.0) |]
        else Array.init 3 (fun j -> s.Trace |> Array.averageBy (fun r -> r.[j]))

/// The weight-space model of FinitePosterior with V integrated out (internal workspace; not thread-safe).
/// Parameter vector θ = [J (N², row-major); ξ (n·N, index k·N + i); u0 (N, x_i(0) = σ0·u0_i, only when x0 is tilted)],
/// every component with prior N(0, 1). Forward: x_{k+1} = e x_k + (1−e)s_k, s_k = c Jφ(x_k) + σξ_k, c = g/√N.
/// Likelihood part of the potential: U_L(θ) = (Nγ²/2) Σ_a y*_aᵀC⁻¹y*_a + (d/2) ln det C, C = (1/N) Σ_i φ_iφ_iᵀ.
/// Gradient by the adjoint (BPTT): G = ∂U_L/∂C = (d/2)C⁻¹ − (Nγ²/2)Σ_a w_a w_aᵀ (w_a = C⁻¹y*_a), g_k = (2/N)(GΦ)_k,
/// a_{n−1} = φ′_{n−1}⊙g_{n−1}, b_k = (1−e)a_{k+1}, a_k = e a_{k+1} + φ′_k⊙(g_k + cJᵀb_k);
/// ∂U_L/∂J = c Σ_k b_kφ_kᵀ, ∂U_L/∂ξ_k = σb_k, ∂U_L/∂u0 = σ0 a_0 (checked against finite differences in the tests).
type internal WeightModel(problem: TiltedProblem, neurons: int, sigma: float, x0Fixed: float[]) =
    let n = problem.Points
    let N = neurons
    let e = Math.Exp(-problem.Dt)
    let c = problem.G / Math.Sqrt(float N)
    let s0 = Math.Sqrt problem.X0Variance
    let tilted = problem.X0Tilted
    let oXi = N * N
    let oU = N * N + n * N
    let dim = oU + (if tilted then N else 0)
    let ys = problem.Targets
    let d = ys.Length
    let X = Array.zeroCreate (n * N)
    let Phi = Array.zeroCreate (n * N)
    let S = Array.zeroCreate (n * N)
    let B = Array.zeroCreate (n * N)
    let GPhi = Array.zeroCreate (n * N)
    let a = Array.zeroCreate N
    let tmp = Array.zeroCreate N
    let tmpX = Array.zeroCreate N
    let tmpP = Array.zeroCreate N
    let cm = Array.zeroCreate (n * n)
    let l = Array.zeroCreate (n * n)
    let cinv = Array.zeroCreate (n * n)
    let work = Array.zeroCreate (n * n)
    let w = Array.init d (fun _ -> Array.zeroCreate n)
    let gm = Array.zeroCreate (n * n)
    let mutable yCy = nan
    member _.Dimension = dim
    member _.Points = n
    member _.Neurons = N
    member _.Paths = X
    member _.Rates = Phi
    member _.Fields = S
    /// The window kernel C (n×n row-major) of the last evaluation.
    member _.C = cm
    /// Σ_a y*ᵀC⁻¹y* of the last evaluation.
    member _.Alignment = yCy
    /// Runs the forward pass for θ and returns U_L(θ) at γ (+∞ when C is not positive definite); fills grad with
    /// ∂U_L/∂θ when it is not null.
    member _.Evaluate(q: float[], gamma: float, grad: float[]) : float =
        for i in 0 .. N - 1 do X.[i] <- (if tilted then s0 * q.[oU + i] else x0Fixed.[i])
        for k in 0 .. n - 1 do
            Array.blit X (k * N) tmpX 0 N
            SiteNonlinearity.applyInto problem.Phi tmpX tmpP N
            Array.blit tmpP 0 Phi (k * N) N
            DenseKernels.MatVecBatch(q, N, Phi, k * N, S, k * N, 1, c)
            for i in 0 .. N - 1 do
                S.[k * N + i] <- S.[k * N + i] + sigma * q.[oXi + k * N + i]
                if k + 1 < n then X.[(k + 1) * N + i] <- e * X.[k * N + i] + (1.0 - e) * S.[k * N + i]
        let fN = float N
        for k in 0 .. n - 1 do
            for j in k .. n - 1 do
                let v = SmallDense.dot Phi (k * N) Phi (j * N) N / fN
                cm.[k * n + j] <- v
                cm.[j * n + k] <- v
        Array.blit cm 0 l 0 (n * n)
        let ld = SmallDense.choleskyInPlace l n
        if Double.IsNaN ld || Double.IsInfinity ld then
            yCy <- nan
            Double.PositiveInfinity
        else
            SmallDense.inverseFromCholesky l cinv work n
            yCy <- 0.0
            for t in 0 .. d - 1 do
                SmallDense.matVec cinv ys.[t] w.[t] n
                yCy <- yCy + SmallDense.dot ys.[t] 0 w.[t] 0 n
            let uL = 0.5 * fN * gamma * gamma * yCy + 0.5 * float d * ld
            if not (isNull grad) then
                for i in 0 .. n * n - 1 do gm.[i] <- 0.5 * float d * cinv.[i]
                let sc = 0.5 * fN * gamma * gamma
                for t in 0 .. d - 1 do
                    let wt = w.[t]
                    for r in 0 .. n - 1 do
                        for q2 in 0 .. n - 1 do gm.[r * n + q2] <- gm.[r * n + q2] - sc * wt.[r] * wt.[q2]
                Array.Clear GPhi
                for k in 0 .. n - 1 do
                    for j in 0 .. n - 1 do
                        let coef = 2.0 / fN * gm.[k * n + j]
                        if coef <> 0.0 then SmallDense.axpy coef Phi (j * N) GPhi (k * N) N
                // Adjoint sweep.
                let last = (n - 1) * N
                for i in 0 .. N - 1 do
                    a.[i] <- SiteNonlinearity.derivativeFromValue problem.Phi Phi.[last + i] * GPhi.[last + i]
                    B.[last + i] <- 0.0
                for k in n - 2 .. -1 .. 0 do
                    for i in 0 .. N - 1 do B.[k * N + i] <- (1.0 - e) * a.[i]
                    DenseKernels.MatTVecBatch(q, N, B, k * N, tmp, 0, 1, c)
                    for i in 0 .. N - 1 do
                        a.[i] <- e * a.[i] + SiteNonlinearity.derivativeFromValue problem.Phi Phi.[k * N + i] * (GPhi.[k * N + i] + tmp.[i])
                Array.Clear(grad, 0, N * N)
                DenseKernels.RankUpdateBatch(grad, N, B, 0, Phi, 0, n, c)
                for j in 0 .. n * N - 1 do grad.[oXi + j] <- sigma * B.[j]
                if tilted then for i in 0 .. N - 1 do grad.[oU + i] <- s0 * a.[i]
            uL

    /// [| mean_k C_kk; alignment; mean_k C(k, k + n/2); (1/N)Σ_i s_iᵀΣ⁻¹s_i |] of the last evaluation (Σ = g²C + σ²I).
    member _.Summary() =
        let fN = float N
        let h = n / 2
        let diag = Seq.init n (fun k -> cm.[k * n + k]) |> Seq.average
        let half = if n - h > 0 then Seq.init (n - h) (fun k -> cm.[k * n + k + h]) |> Seq.average else 0.0
        let g2 = problem.G * problem.G
        let sg = Array.init (n * n) (fun i -> g2 * cm.[i] + (if i / n = i % n then sigma * sigma else 0.0))
        let ls = Array.copy sg
        SmallDense.choleskyInPlace ls n |> ignore
        let qs = Array.zeroCreate (n * n)
        SmallDense.inverseFromCholesky ls qs (Array.zeroCreate (n * n)) n
        let mutable field = 0.0
        for k in 0 .. n - 1 do
            for j in 0 .. n - 1 do
                field <- field + qs.[k * n + j] * SmallDense.dot S (k * N) S (j * N) N
        [| diag; yCy; half; field / fN |]

/// Mutable state of one weight-space chain (internal; WeightPosterior drives it).
type internal WeightPosteriorState =
    { Problem: TiltedProblem
      Options: WeightPosteriorOptions
      Model: WeightModel
      X0Fixed: float[]
      Q: float[]
      Grad: float[]
      Rng: Rng
      mutable Gamma: float
      mutable Potential: float
      mutable StepSize: float
      mutable Iterations: int }

/// The exact finite-N posterior of FinitePosterior sampled in WEIGHT space by Hamiltonian Monte Carlo with a Metropolis
/// test (note §3.1, §3.5; an independent check of the path-space sampler). Target, with V integrated out exactly:
///   log p(J, ξ, u0) = −½|J|² − ½|ξ|² − ½|u0|² − (Nγ²/2) Σ_a y*_aᵀC⁻¹y*_a − (d/2) ln det C + const,
/// C = C(X(J, ξ, u0)) the window kernel of the paths the weights generate. Its push-forward to (x(0), s) is exactly
/// FinitePosterior's path-space density (the map from (J, ξ) to the fields is causal and integrating J out of
/// Π_k N(s_k; cJφ(x_k), σ²) gives N(s_i; 0, g²C + σ²I)); the two samplers therefore target the same law and differ only
/// in Monte Carlo error. The prior part of the Hamiltonian is integrated exactly (a rotation of (θ, p) by ε, "split
/// HMC", Shahbaba et al. 2014), the likelihood part by half kicks, so ε is limited only by the likelihood's stiffness
/// and there is no step-size bias (Metropolis test on the exact H). The unadjusted Langevin protocol of the training
/// engine (TrainingProtocol.Langevin) targets an approximation with a finite readout precision and is not stable on
/// the tanh sinusoid task; this sampler replaces it for the posterior ensemble.
[<AbstractClass; Sealed>]
type WeightPosterior private () =

    /// Rejects problems and options the sampler cannot run (ParameterOutOfDomainException with the allowed range).
    static member Validate(problem: TiltedProblem, options: WeightPosteriorOptions) =
        let n = problem.Points
        Validate.AtLeast("points", n, 1) |> ignore
        FinitePosterior.ValidateModel(problem, options.Neurons, options.ProcessNoise)
        Validate.AtLeast("iterations", options.Iterations, 2) |> ignore
        Validate.AtLeast("leapfrogSteps", options.LeapfrogSteps, 1) |> ignore
        Validate.InRange("stepSize", options.StepSize, 1e-8, Math.PI / 2.0) |> ignore
        Validate.InRange("targetAcceptance", options.TargetAcceptance, 0.05, 0.99) |> ignore

    /// The exact γ = 0 draw (J, ξ, u0 from the prior: a random network with process noise), as FinitePosterior.Start.
    static member internal Start(problem: TiltedProblem, options: WeightPosteriorOptions, stream: int64) : WeightPosteriorState =
        WeightPosterior.Validate(problem, options)
        let N = options.Neurons
        let init = Rng.ForStream(options.Seed, 50000L + stream)
        let s0 = Math.Sqrt problem.X0Variance
        let x0 = Array.init N (fun _ -> s0 * init.NextGaussian())
        let model = WeightModel(problem, N, options.ProcessNoise, x0)
        let q = Array.init model.Dimension (fun _ -> init.NextGaussian())
        if problem.X0Tilted then for i in 0 .. N - 1 do q.[N * N + problem.Points * N + i] <- x0.[i] / s0
        { Problem = problem; Options = options; Model = model; X0Fixed = x0; Q = q; Grad = Array.zeroCreate model.Dimension
          Rng = Rng.ForStream(options.Seed, 51000L + stream); Gamma = nan; Potential = nan; StepSize = options.StepSize; Iterations = 0 }

    /// A deep copy with its own random stream (bisection branches).
    static member internal Clone(st: WeightPosteriorState, stream: int64) : WeightPosteriorState =
        { st with Model = WeightModel(st.Problem, st.Options.Neurons, st.Options.ProcessNoise, st.X0Fixed)
                  Q = Array.copy st.Q; Grad = Array.copy st.Grad; Rng = Rng.ForStream(st.Options.Seed, stream); Gamma = nan }

    /// One split-HMC transition at γ from (q, its U_L and gradient); returns (accepted, acceptance probability).
    /// Each trajectory's step is ε·(0.9 + 0.2u), u uniform (jitter against periodic orbits; independent of the state).
    static member internal HmcStep(st: WeightPosteriorState, gamma: float, eps: float, qn: float[], gn: float[], p: float[]) =
        let rng = st.Rng
        let dim = st.Q.Length
        for j in 0 .. dim - 1 do p.[j] <- rng.NextGaussian()
        let eps = eps * (0.9 + 0.2 * rng.NextDouble())
        let h0 = 0.5 * (SmallDense.dot st.Q 0 st.Q 0 dim + SmallDense.dot p 0 p 0 dim) + st.Potential
        Array.blit st.Q 0 qn 0 dim
        Array.blit st.Grad 0 gn 0 dim
        let cs, sn = Math.Cos eps, Math.Sin eps
        let mutable u = st.Potential
        let mutable l = 0
        while l < st.Options.LeapfrogSteps && Double.IsFinite u do
            SmallDense.axpy (-0.5 * eps) gn 0 p 0 dim
            for j in 0 .. dim - 1 do
                let qj = qn.[j]
                qn.[j] <- qj * cs + p.[j] * sn
                p.[j] <- p.[j] * cs - qj * sn
            u <- st.Model.Evaluate(qn, gamma, gn)
            if Double.IsFinite u then SmallDense.axpy (-0.5 * eps) gn 0 p 0 dim
            l <- l + 1
        let h1 = 0.5 * (SmallDense.dot qn 0 qn 0 dim + SmallDense.dot p 0 p 0 dim) + u
        let logA = if Double.IsFinite h1 then min 0.0 (h0 - h1) else Double.NegativeInfinity
        let accept = Math.Log(rng.NextDouble() + 1e-300) < logA
        if accept then
            Array.blit qn 0 st.Q 0 dim
            Array.blit gn 0 st.Grad 0 dim
            st.Potential <- u
        accept, Math.Exp logA

    /// Runs `iterations` HMC iterations at γ: the first half adapts ln ε towards the target acceptance (warm-up), the
    /// second half runs at the fixed ε and is recorded. Returns (trace of the fixed half, its acceptance rate, ε).
    static member internal Advance(st: WeightPosteriorState, gamma: float, iterations: int) =
        let dim = st.Q.Length
        if st.Gamma <> gamma then
            st.Potential <- st.Model.Evaluate(st.Q, gamma, st.Grad)
            st.Gamma <- gamma
            if not (Double.IsFinite st.Potential) then
                raise (NoSolutionException "the window kernel of the weight-space sampler's state is singular; increase the process noise")
        let qn, gn, p = Array.zeroCreate dim, Array.zeroCreate dim, Array.zeroCreate dim
        let warm = iterations / 2
        let target = st.Options.TargetAcceptance
        for t in 0 .. warm - 1 do
            let _, prob = WeightPosterior.HmcStep(st, gamma, st.StepSize, qn, gn, p)
            st.StepSize <- min (Math.PI / 2.0) (st.StepSize * Math.Exp((prob - target) / Math.Sqrt(float t + 1.0)))
            st.Iterations <- st.Iterations + 1
        let trace = Array.zeroCreate (iterations - warm)
        let mutable accepted = 0
        for t in 0 .. iterations - warm - 1 do
            let acc, _ = WeightPosterior.HmcStep(st, gamma, st.StepSize, qn, gn, p)
            if acc then accepted <- accepted + 1
            st.Model.Evaluate(st.Q, gamma, null) |> ignore
            trace.[t] <- st.Model.Summary()
            st.Iterations <- st.Iterations + 1
        trace, float accepted / float (iterations - warm), st.StepSize

    /// Effective sample size of a series (Geyer's initial positive sequence of autocorrelations), at most its length;
    /// 1 for a constant series.
    static member EffectiveSampleSize(series: float[]) : float =
        let m = series.Length
        if m < 4 then float m
        else
            let mu = Array.average series
            let v0 = series |> Array.averageBy (fun v -> (v - mu) * (v - mu))
            if v0 <= 0.0 then 1.0
            else
                let rho t =
                    let mutable s = 0.0
                    for i in 0 .. m - 1 - t do s <- s + (series.[i] - mu) * (series.[i + t] - mu)
                    s / float m / v0
                let mutable tau = -1.0
                let mutable k = 0
                let mutable go = true
                while go && 2 * k + 1 < m do
                    let pair = rho (2 * k) + rho (2 * k + 1)
                    if pair > 0.0 then
                        tau <- tau + 2.0 * pair
                        k <- k + 1
                    else go <- false
                min (float m) (float m / max 1.0 tau)

    static member internal Snapshot(st: WeightPosteriorState, gamma: float, trace: float[][], acceptance: float, eps: float) =
        let m = st.Model
        let uL = m.Evaluate(st.Q, gamma, null)
        let n, N = m.Points, m.Neurons
        let ess = Array.init 4 (fun j -> if trace.Length = 0 then 0.0 else WeightPosterior.EffectiveSampleSize(trace |> Array.map (fun r -> r.[j])))
        { Problem = { st.Problem with Gamma = gamma }; Options = st.Options
          Paths = Array.init N (fun i -> Array.init n (fun k -> m.Paths.[k * N + i]))
          Fields = Array.init N (fun i -> Array.init n (fun k -> m.Fields.[k * N + i]))
          Weights = Array.sub st.Q 0 (N * N)
          C = Array2D.init n n (fun a b -> m.C.[a * n + b]); Trace = trace; Acceptance = acceptance; StepSize = eps
          EffectiveSamples = ess; TotalIterations = st.Iterations
          LogDensity = -0.5 * SmallDense.dot st.Q 0 st.Q 0 st.Q.Length - uL }

    /// Anneals one chain over an ascending γ list from the exact γ = 0 draw, options.Iterations HMC iterations at each
    /// γ (none at γ = 0), as FinitePosterior.Anneal; `stream` selects an independent chain for the same seed.
    static member Anneal(problemAt: Func<float, TiltedProblem>, gammas: float[], options: WeightPosteriorOptions, stream: int64)
        : WeightPosteriorSample[] =
        if isNull gammas || gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list"))
        for i in 0 .. gammas.Length - 1 do
            Validate.NonNegative("gamma", gammas.[i]) |> ignore
            if i > 0 && gammas.[i] < gammas.[i - 1] then raise (ParameterOutOfDomainException("gammas", "not ascending", "an ascending list"))
        if stream < 0L then raise (ParameterOutOfDomainException("stream", string stream, "stream >= 0"))
        let st = WeightPosterior.Start(problemAt.Invoke gammas.[0], options, stream)
        gammas
        |> Array.map (fun gm ->
            let p = problemAt.Invoke gm
            if p.Points <> st.Problem.Points then
                raise (ParameterOutOfDomainException("problemAt", "grids differ between gammas", "one grid for all gammas"))
            let trace, acc, eps = if gm = 0.0 then [||], nan, st.StepSize else WeightPosterior.Advance(st, gm, options.Iterations)
            WeightPosterior.Snapshot(st, gm, trace, acc, eps))

    /// The weight-space state of a path-space sample: J_i drawn from its exact Gaussian conditional given the sample's
    /// fields s_i (prior N(0, I), s_i = cΦJ_i + σξ_i; Matheron's rule with Σ = g²C + σ²I) and ξ_i = (s_i − cΦJ_i)/σ, so
    /// that (J, ξ, u0) reproduces the sample's paths and fields exactly. If the sample is a draw of the path-space
    /// posterior, the result is a draw of the weight-space posterior (the two laws correspond; a cross-check).
    static member internal StartFrom(sample: FinitePosteriorSample, options: WeightPosteriorOptions, stream: int64) : WeightPosteriorState =
        let p = sample.Problem
        let N = sample.Paths.Length
        let options = { options with Neurons = N; ProcessNoise = sample.Options.ProcessNoise }
        WeightPosterior.Validate(p, options)
        let n = p.Points
        let sigma = options.ProcessNoise
        let c = p.G / Math.Sqrt(float N)
        let rng = Rng.ForStream(options.Seed, 52000L + stream)
        let phi = Array.init n (fun k -> Array.init N (fun j -> SiteNonlinearity.apply p.Phi sample.Paths.[j].[k]))
        let g2 = p.G * p.G
        let sg = Array.init (n * n) (fun i -> g2 * sample.C.[i / n, i % n] + (if i / n = i % n then sigma * sigma else 0.0))
        // Σ from the paths (sample.C is the same to rounding).
        for k in 0 .. n - 1 do
            for l in 0 .. n - 1 do
                sg.[k * n + l] <- g2 * SmallDense.dot phi.[k] 0 phi.[l] 0 N / float N + (if k = l then sigma * sigma else 0.0)
        let lf = Array.copy sg
        SmallDense.choleskyInPlace lf n |> ignore
        let sinv = Array.zeroCreate (n * n)
        SmallDense.inverseFromCholesky lf sinv (Array.zeroCreate (n * n)) n
        let s0 = Math.Sqrt p.X0Variance
        let x0 = Array.init N (fun i -> sample.Paths.[i].[0])
        let model = WeightModel(p, N, sigma, x0)
        let q = Array.zeroCreate model.Dimension
        let r = Array.zeroCreate n
        let t = Array.zeroCreate n
        for i in 0 .. N - 1 do
            let z = Array.init N (fun _ -> rng.NextGaussian())
            // r = s_i − cΦz − σε, t = Σ⁻¹r, J_i = z + cΦᵀt
            for k in 0 .. n - 1 do r.[k] <- sample.Fields.[i].[k] - c * SmallDense.dot phi.[k] 0 z 0 N - sigma * rng.NextGaussian()
            SmallDense.matVec sinv r t n
            for j in 0 .. N - 1 do
                let mutable acc = z.[j]
                for k in 0 .. n - 1 do acc <- acc + c * phi.[k].[j] * t.[k]
                q.[i * N + j] <- acc
            for k in 0 .. n - 1 do
                q.[N * N + k * N + i] <- (sample.Fields.[i].[k] - c * SmallDense.dot phi.[k] 0 q (i * N) N) / sigma
        if p.X0Tilted then for i in 0 .. N - 1 do q.[N * N + n * N + i] <- x0.[i] / s0
        { Problem = p; Options = options; Model = model; X0Fixed = x0; Q = q; Grad = Array.zeroCreate model.Dimension
          Rng = Rng.ForStream(options.Seed, 51000L + stream); Gamma = nan; Potential = nan; StepSize = options.StepSize; Iterations = 0 }

    /// Continues a path-space sample in weight space (StartFrom, then options.Iterations HMC iterations at each γ of an
    /// ascending list): a cross-check of the two samplers from a common state.
    static member ContinueFrom(sample: FinitePosteriorSample, gammas: float[], options: WeightPosteriorOptions, stream: int64)
        : WeightPosteriorSample[] =
        if isNull gammas || gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list"))
        let st = WeightPosterior.StartFrom(sample, options, stream)
        gammas |> Array.map (fun gm ->
            Validate.NonNegative("gamma", gm) |> ignore
            let trace, acc, eps = WeightPosterior.Advance(st, gm, st.Options.Iterations)
            WeightPosterior.Snapshot(st, gm, trace, acc, eps))

    /// The likelihood part U_L(θ) of the potential and its gradient (filled when grad is not null) for a parameter vector
    /// θ = [J; ξ; u0] (layout in the docs); x0Fixed gives x(0) when the problem's x0 is not tilted. For tests and tools.
    static member Potential(problem: TiltedProblem, neurons: int, processNoise: float, x0Fixed: float[], theta: float[], gamma: float,
                            grad: float[]) : float =
        let m = WeightModel(problem, neurons, processNoise, x0Fixed)
        if theta.Length <> m.Dimension then
            raise (ParameterOutOfDomainException("theta", sprintf "length %d" theta.Length, sprintf "length %d" m.Dimension))
        m.Evaluate(theta, gamma, grad)

    /// The trained network of a sample, classified exactly as a FinitePosterior sample (FinitePosterior.Realise): J
    /// redrawn from its Gaussian conditional given the sample's window fields (an exact draw of the same joint law),
    /// run noise-free past the window (TiltedRealisation).
    static member Realise(sample: WeightPosteriorSample, options: RealisationOptions) : RealisationResult =
        let p = sample.Problem
        let N = sample.Paths.Length
        let sigma2 = float N * sample.Options.ProcessNoise * sample.Options.ProcessNoise / (p.G * p.G)
        TiltedRealisation.RunPaths(p, sample.Fields, sample.Paths, sigma2, options)

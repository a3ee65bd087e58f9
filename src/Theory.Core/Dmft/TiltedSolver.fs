namespace Theory.Core.Dmft

open System
open System.Threading.Tasks
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// How tilted expectations are evaluated.
type TiltedExpectation =
    /// Elliptical slice sampling of persistent chains (Murray, Adams & MacKay 2010), note §6.4. Any φ.
    | MonteCarlo
    /// Exact Gaussian conditioning; φ = identity only (the tilt is then Gaussian, note §4). No Monte Carlo noise.
    | ExactGaussian

/// Options of the primal–dual saddle-point solver (note §6.4). Defaults: the §7.5 reference settings.
type TiltedSolverOptions =
    { /// Persistent chains M (Monte Carlo sample size S). Default 4000; documented minimum 100.
      Chains: int
      /// Elliptical-slice sweeps per outer iteration. Default 2.
      SweepsPerIteration: int
      /// Maximum outer iterations. Default 200.
      MaxIterations: int
      /// Minimum outer iterations before the stopping rule may stop early. Default 60.
      MinIterations: int
      /// Iterations averaged for the residuals and summaries (note §6.4: the last 40). Default 40.
      Window: int
      /// Primal (natural-gradient) step ε. Default 0.15.
      PrimalStep: float
      /// Dual (moment-matching) step κ. Default 0.5.
      DualStep: float
      /// Relative readout noise: δ = rel·tr(C)/n regularises C⁻¹ in the dual step. Default 0.01.
      ReadoutNoise: float
      /// Floor of the eigenvalues of C after each step (positive-definiteness safeguard, jitter). Default 1e-6.
      EigenFloor: float
      /// Exponential smoothing weight of the sample moments over iterations. Default 0.5.
      Smoothing: float
      /// Converged when the window-mean residuals are at most this many times their Monte Carlo noise floors. Default 3.
      ResidualFactor: float
      /// Converged only if the summaries (mean C_kk, yᵀC⁻¹y) change between the window's halves by at most this many
      /// window standard deviations. Default 1.
      DriftTolerance: float
      /// Tolerance of the exact-expectation variant (relative residual). Default 1e-9.
      ExactTolerance: float
      /// Halve ε and κ and restart from the last healthy state when the iteration blows up. Default true.
      AdaptiveSteps: bool
      /// Maximum number of step halvings before a typed failure. Default 4.
      MaxStepHalvings: int
      /// Seed of all random draws (chains use Rng.ForStream(seed, block)).
      Seed: int64
      /// Expectation engine. Default MonteCarlo.
      Expectation: TiltedExpectation
      /// At γ = 0 (and Λ = 0) return the exact window solution (the deterministic march, note §6.2) with prior chains
      /// instead of iterating with Monte Carlo noise. Default true.
      ExactAtZero: bool }
    /// The §7.5 reference settings: M = 4000, ε = 0.15, κ = 0.5, rel = 0.01, 200 iterations, seed 1.
    static member Default =
        { Chains = 4000; SweepsPerIteration = 2; MaxIterations = 200; MinIterations = 60; Window = 40; PrimalStep = 0.15
          DualStep = 0.5; ReadoutNoise = 0.01; EigenFloor = 1e-6; Smoothing = 0.5; ResidualFactor = 3.0; DriftTolerance = 1.0
          ExactTolerance = 1e-9; AdaptiveSteps = true; MaxStepHalvings = 4; Seed = 1L; Expectation = MonteCarlo; ExactAtZero = true }
    /// The documented minimum number of chains (below it the noise floor estimate is meaningless).
    static member MinimumChains = 100

/// Mean and standard deviation over the averaging window.
type WindowStat = { Mean: float; Sd: float }

/// Convergence diagnostics of one saddle-point solve (note §6.4 "convergence tests").
type TiltedDiagnostics =
    { Iterations: int
      /// Window mean of ‖C − Ĉ_μ‖_F/‖C‖_F (moment matching).
      DualResidual: float
      /// Its Monte Carlo noise floor √(Σ Var(φ_kφ_l)/M)/‖C‖_F (0 for exact expectations).
      DualNoiseFloor: float
      /// Window mean of ‖K̂_η/g² − C + γ²C^y − CΛC‖_F/‖C‖_F (stationarity, the natural gradient of S).
      PrimalResidual: float
      /// Its noise floor √(Σ Var(η_kη_l)/M)/(g²‖C‖_F).
      PrimalNoiseFloor: float
      /// Effective independent draws per iteration, M(1−ρ)/(1+ρ), ρ = lag-one (per iteration) autocorrelation of yᵀx.
      EffectiveSampleSize: float
      /// Chains M.
      Samples: int
      Seed: int64
      /// Steps in use at the end (after adaptive halvings).
      PrimalStep: float
      DualStep: float
      StepHalvings: int
      /// mean_k C_kk over the window.
      MeanActivity: WindowStat
      /// Σ_a y*_aᵀ C⁻¹ y*_a over the window.
      TargetAlignment: WindowStat
      /// mean_k C(t_k, t_k + nΔt/2) over the window (half-period correlation for the sinusoid task).
      HalfWindowCorrelation: WindowStat }

/// A converged saddle point.
type TiltedSolution =
    { Problem: TiltedProblem
      /// The order parameter C (solver state).
      C: float[,]
      /// The conjugate field Λ (discrete; Λ_discrete = Δt²Λ_continuum).
      Lambda: float[,]
      /// Tilted sample moments Ê_μ[φφᵀ], window average (exact for ExactGaussian).
      CHat: float[,]
      /// Ê_μ[ηηᵀ], window average.
      KEta: float[,]
      /// Chain states in whitened coordinates w = (w_x0, ξ, w_u); η = chol(g²C)·ξ (copy; warm start).
      Chains: float[][]
      Diagnostics: TiltedDiagnostics }

/// SIMD kernels of the sampler hot loop (no allocation).
module internal Simd =
    open System.Numerics
    /// Σ_i a[ao+i]·b[bo+i], i < len (SIMD).
    let dot (a: float[]) (ao: int) (b: float[]) (bo: int) (len: int) =
        let w = Vector<float>.Count
        let mutable acc = Vector<float>.Zero
        let mutable i = 0
        while i <= len - w do
            acc <- acc + Vector<float>(a, ao + i) * Vector<float>(b, bo + i)
            i <- i + w
        let mutable s = Vector.Dot(acc, Vector<float>.One)
        while i < len do
            s <- s + a.[ao + i] * b.[bo + i]
            i <- i + 1
        s
    /// y[yo+i] += alpha·x[xo+i], i < len (SIMD).
    let axpy (alpha: float) (x: float[]) (xo: int) (y: float[]) (yo: int) (len: int) =
        let w = Vector<float>.Count
        let va = Vector<float>(alpha)
        let mutable i = 0
        while i <= len - w do
            (Vector<float>(y, yo + i) + va * Vector<float>(x, xo + i)).CopyTo(y, yo + i)
            i <- i + w
        while i < len do
            y.[yo + i] <- y.[yo + i] + alpha * x.[xo + i]
            i <- i + 1

/// Linear algebra helpers (MathNet, dense, small n).
module internal TiltedLinAlg =
    let toM (a: float[,]) = Matrix<float>.Build.DenseOfArray a
    let sym (m: Matrix<float>) = (m + m.Transpose()) * 0.5
    let frob (m: Matrix<float>) = m.FrobeniusNorm()
    let allFinite (a: float[,]) =
        let mutable ok = true
        a |> Array2D.iter (fun v -> if not (Double.IsFinite v) then ok <- false)
        ok
    /// Symmetric eigenvalue floor (positive-definiteness safeguard).
    let floorEigen (m: Matrix<float>) (floor: float) =
        let s = sym m
        let evd = s.Evd(Symmetricity.Symmetric)
        let ev = evd.EigenValues |> Seq.map (fun c -> c.Real) |> Seq.toArray
        if ev |> Array.forall (fun v -> v >= floor) then s
        else
            let d = Matrix<float>.Build.DiagonalOfDiagonalArray(ev |> Array.map (fun v -> max v floor))
            sym (evd.EigenVectors * d * evd.EigenVectors.Transpose())
    /// Cholesky factor (lower) of a symmetric matrix with jitter retries.
    let chol (m: Matrix<float>) =
        let n = m.RowCount
        let scale = max 1e-300 (m.Diagonal().AbsoluteMaximum())
        let rec go jitter tries =
            try
                let mm = if jitter = 0.0 then m else m + Matrix<float>.Build.DenseIdentity(n) * (jitter * scale)
                mm.Cholesky().Factor
            with _ when tries < 12 -> go (if jitter = 0.0 then 1e-12 else jitter * 10.0) (tries + 1)
        go 0.0 0

/// State after a frozen (moments-only) run.
type internal FrozenState = { Chains: float[][]; Row: float[] }

/// The two-time saddle-point solver of the learned-network DMFT (research note dmft-learned.md §3.2–3.4, §6.4):
/// the primal–dual (descent–ascent) iteration
///   dual:   Λ ← Λ + κ (C+δI)⁻¹ (C − Ĉ_μ) (C+δI)⁻¹
///   primal: C ← C + ε [K̂_η/g² − C + γ²C^y − CΛC]
/// with Ĉ_μ, K̂_η from persistent elliptical-slice chains of the tilted single-site measure (or exact Gaussian
/// conditioning for φ = identity). Naive damped Picard diverges (note §7.4) and is not offered.
[<AbstractClass; Sealed>]
type TiltedSolver private () =

    static let blockCount = 16

    /// Drift test on the window: the change of mean_k C_kk and of yᵀC⁻¹y between the window's halves exceeds
    /// tolerance × (their standard deviation over the window + 1e-3 relative).
    static member internal Drifting(win: float[][], tolerance: float) =
        let h = win.Length / 2
        if h < 2 then false
        else
            [ 5; 6 ]
            |> List.exists (fun j ->
                let xs = win |> Array.map (fun r -> r.[j])
                let mu = Array.average xs
                let sd = Math.Sqrt((xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (xs.Length - 1))
                let a = Array.average xs.[.. h - 1]
                let b = Array.average xs.[h ..]
                abs (b - a) > tolerance * (sd + 1e-3 * abs mu))

    /// The prior draw for fresh chains: w ~ N(0, I) (whitened coordinates), one stream per block.
    static member InitialChains(problem: TiltedProblem, chains: int, seed: int64) : float[][] =
        let n = problem.Points
        let m = 1 + n + (if problem.InputKernel.IsSome then n else 0)
        let states = Array.zeroCreate chains
        let per = (chains + blockCount - 1) / blockCount
        for b in 0 .. blockCount - 1 do
            let rng = Rng.ForStream(seed, int64 (1000 + b))
            for i in b * per .. min chains ((b + 1) * per) - 1 do
                states.[i] <- rng.Gaussians m
        states

    /// The γ = 0 window solution by the deterministic march (note §6.2), the start of the continuation in γ.
    static member StartingKernel(problem: TiltedProblem) : float[,] =
        let n = problem.Points
        let isGrid = problem.Propagator.GetLength 0 > 1 || problem.X0Response.[0] <> 0.0
        if isGrid then
            (ScsTransient.Solve(problem.Phi, problem.G, problem.Dt, n, problem.X0Variance, problem.InputKernel, 48)).C
        else
            // Single mode: c = (g²c + c_I)P² at γ = 0 (identity); use c_I P²/(1 − g²P²) when admissible, else c_I P².
            let p2 = problem.Propagator.[0, 0] ** 2.0
            let ci = match problem.InputKernel with Some k -> k.[0, 0] | None -> 0.0
            let g2 = problem.G * problem.G
            let c = if g2 * p2 < 1.0 then ci * p2 / (1.0 - g2 * p2) else ci * p2
            array2D [ [ max c 1e-3 ] ]

    /// Solves the saddle point from a warm start (C, Λ, chain states). Returns the solution or a typed failure.
    static member Solve(problem: TiltedProblem, options: TiltedSolverOptions, startC: float[,], startLambda: float[,],
                        startChains: float[][]) : Result<TiltedSolution, SolverFailure> =
        let zeroLambda = startLambda |> Seq.cast<float> |> Seq.forall (fun v -> v = 0.0)
        if options.ExactAtZero && problem.Gamma = 0.0 && zeroLambda && options.Expectation = MonteCarlo then
            // γ = 0: Λ = 0 and μ is the prior, so the window solution is the deterministic march (note §6.2) and
            // prior draws are exact samples. One Monte Carlo pass supplies the diagnostics (residual vs its floor).
            let c = TiltedSolver.StartingKernel problem
            let o = { options with MaxIterations = 1; Window = 1; MinIterations = Int32.MaxValue; Smoothing = 1.0 }
            let raw, _, last = TiltedSolver.RunFull(problem, o, c, startLambda, startChains, true)
            let chains = last.Chains
            let row = last.Row
            let n = problem.Points
            let cm = TiltedLinAlg.toM c
            let ys = problem.Targets |> Array.map (fun y -> Vector<float>.Build.DenseOfArray y)
            let align = ys |> Array.sumBy (fun y -> y.DotProduct((cm + Matrix<float>.Build.DenseIdentity(n) * options.EigenFloor).Cholesky().Solve y))
            let stat v = { Mean = v; Sd = 0.0 }
            Ok { Problem = problem; C = c; Lambda = Array2D.zeroCreate n n; CHat = raw; KEta = Array2D.map (fun v -> v * problem.G * problem.G) c
                 Chains = chains
                 Diagnostics =
                    { Iterations = 0; DualResidual = row.[0]; DualNoiseFloor = row.[1]; PrimalResidual = row.[2]; PrimalNoiseFloor = row.[3]
                      EffectiveSampleSize = float options.Chains; Samples = options.Chains; Seed = options.Seed
                      PrimalStep = options.PrimalStep; DualStep = options.DualStep; StepHalvings = 0
                      MeanActivity = stat ((Seq.init n (fun k -> c.[k, k]) |> Seq.sum) / float n)
                      TargetAlignment = stat align
                      HalfWindowCorrelation = stat (if n >= 2 then Seq.init (n - n / 2) (fun k -> c.[k, k + n / 2]) |> Seq.average else 0.0) } }
        else TiltedSolver.Run(problem, options, startC, startLambda, startChains, false) |> snd

    static member private Run(problem: TiltedProblem, options: TiltedSolverOptions, startC: float[,], startLambda: float[,],
                              startChains: float[][], frozen: bool) : float[,] * Result<TiltedSolution, SolverFailure> =
        let raw, r, _ = TiltedSolver.RunFull(problem, options, startC, startLambda, startChains, frozen)
        raw, r

    static member private RunFull(problem: TiltedProblem, options: TiltedSolverOptions, startC: float[,], startLambda: float[,],
                                  startChains: float[][], frozen: bool) : float[,] * Result<TiltedSolution, SolverFailure> * FrozenState =
        let n = problem.Points
        let g = problem.G
        let g2 = g * g
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", problem.Gamma) |> ignore
        Validate.AtLeast("chains", options.Chains, TiltedSolverOptions.MinimumChains) |> ignore
        Validate.AtLeast("sweeps", options.SweepsPerIteration, 1) |> ignore
        Validate.AtLeast("maxIterations", options.MaxIterations, 1) |> ignore
        Validate.AtLeast("window", options.Window, 1) |> ignore
        Validate.InRange("primalStep", options.PrimalStep, 1e-6, 2.0) |> ignore
        Validate.InRange("dualStep", options.DualStep, 1e-6, 2.0) |> ignore
        Validate.InRange("smoothing", options.Smoothing, 1e-3, 1.0) |> ignore
        Validate.NonNegative("readoutNoise", options.ReadoutNoise) |> ignore
        Validate.Positive("eigenFloor", options.EigenFloor) |> ignore
        let exact = (options.Expectation = ExactGaussian)
        if exact && problem.Phi <> Identity then
            raise (ParameterOutOfDomainException("expectation", "ExactGaussian", "MonteCarlo unless phi = identity"))
        let hasInput = problem.InputKernel.IsSome
        let m = 1 + n + (if hasInput then n else 0)
        // Tilted coordinates (trained variables) and quenched ones (fixed per chain).
        let tilted = Array.init m (fun j -> if j = 0 then problem.X0Tilted elif j <= n then true else problem.InputTilted)
        let tIdx = [| for j in 0 .. m - 1 do if tilted.[j] then yield j |]
        let qIdx = [| for j in 0 .. m - 1 do if not tilted.[j] then yield j |]
        let mt = tIdx.Length
        let P = TiltedLinAlg.toM problem.Propagator
        let sigma0 = Math.Sqrt problem.X0Variance
        let AI = problem.InputKernel |> Option.map (fun k -> P * TiltedLinAlg.chol (TiltedLinAlg.toM k))
        let cy = TiltedLinAlg.toM problem.TargetKernel
        let gamma2 = problem.Gamma * problem.Gamma
        let ys = problem.Targets |> Array.map (fun y -> Vector<float>.Build.DenseOfArray y)
        let M = if exact then 1 else options.Chains
        let states =
            if exact then [||]
            elif startChains.Length = M && startChains |> Array.forall (fun s -> s.Length = m) then Array.map Array.copy startChains
            else TiltedSolver.InitialChains(problem, M, options.Seed)
        let per = (M + blockCount - 1) / blockCount
        let rngs = Array.init blockCount (fun b -> Rng.ForStream(options.Seed, int64 b))
        let yx = if problem.Targets.Length > 0 then problem.Targets.[0] else Array.zeroCreate n

        // Builds A (n×m, row-major) and the η map L_C for the current C.
        let buildMaps (c: Matrix<float>) =
            let lc = TiltedLinAlg.chol (c * g2)
            let ac = P * lc
            let a = Array.zeroCreate (n * m)
            for k in 0 .. n - 1 do
                a.[k * m] <- problem.X0Response.[k] * sigma0
                for j in 0 .. n - 1 do
                    a.[k * m + 1 + j] <- ac.[k, j]
                match AI with
                | Some ai -> for j in 0 .. n - 1 do a.[k * m + 1 + n + j] <- ai.[k, j]
                | None -> ()
            lc, a

        // One Monte Carlo pass: sweeps of elliptical slice sampling, then moment accumulation.
        // Returns Ĉ, K̂ (n×n), Σ Var(φφ), Σ Var(ηη) (when wanted), lag-one correlation of yᵀx.
        let mq = qIdx.Length
        let sample (lc: Matrix<float>) (a: float[]) (lam: float[]) (wantFloors: bool) =
            let lcA = Array.init (n * n) (fun i -> lc.[i / n, i % n])
            // Split A into tilted / quenched column blocks, row-major, contiguous.
            let at = Array.init (n * mt) (fun i -> a.[(i / mt) * m + tIdx.[i % mt]])
            let aq = Array.init (n * max mq 1) (fun i -> if mq = 0 then 0.0 else a.[(i / mq) * m + qIdx.[i % mq]])
            let nn = n * n
            let accs = Array.init blockCount (fun _ -> Array.zeroCreate (4 * nn + 5))
            Parallel.For(0, blockCount, fun b ->
                let acc = accs.[b]
                let rng = rngs.[b]
                let x = Array.zeroCreate n
                let xq = Array.zeroCreate n
                let xt = Array.zeroCreate n
                let xnu = Array.zeroCreate n
                let xp = Array.zeroCreate n
                let phi = Array.zeroCreate n
                let nu = Array.zeroCreate mt
                let wt = Array.zeroCreate mt
                let wq = Array.zeroCreate (max mq 1)
                let eta = Array.zeroCreate n
                let xi = Array.zeroCreate n
                let pp = Array.zeroCreate n
                let logW (xv: float[]) =
                    for k in 0 .. n - 1 do phi.[k] <- SiteNonlinearity.apply problem.Phi xv.[k]
                    let mutable s = 0.0
                    for k in 0 .. n - 1 do
                        let off = k * n
                        s <- s + phi.[k] * (0.5 * lam.[off + k] * phi.[k] + Simd.dot lam off phi 0 k)
                    s
                for i in b * per .. min M ((b + 1) * per) - 1 do
                    let w = states.[i]
                    for jj in 0 .. mt - 1 do wt.[jj] <- w.[tIdx.[jj]]
                    for jj in 0 .. mq - 1 do wq.[jj] <- w.[qIdx.[jj]]
                    for k in 0 .. n - 1 do
                        let q = if mq = 0 then 0.0 else Simd.dot aq (k * mq) wq 0 mq
                        xq.[k] <- q
                        x.[k] <- q + Simd.dot at (k * mt) wt 0 mt
                    let mutable s0 = 0.0
                    for k in 0 .. n - 1 do s0 <- s0 + yx.[k] * x.[k]
                    let mutable lw = logW x
                    for _ in 1 .. options.SweepsPerIteration do
                        for k in 0 .. n - 1 do xt.[k] <- x.[k] - xq.[k]
                        for j in 0 .. mt - 1 do nu.[j] <- rng.NextGaussian()
                        for k in 0 .. n - 1 do xnu.[k] <- Simd.dot at (k * mt) nu 0 mt
                        let logy = lw + Math.Log(rng.NextDouble() + 1e-300)
                        let mutable theta = 2.0 * Math.PI * rng.NextDouble()
                        let mutable lo = theta - 2.0 * Math.PI
                        let mutable hi = theta
                        let mutable fin = false
                        let mutable tries = 0
                        while not fin do
                            let ct = Math.Cos theta
                            let st = Math.Sin theta
                            for k in 0 .. n - 1 do xp.[k] <- xq.[k] + xt.[k] * ct + xnu.[k] * st
                            let lp = logW xp
                            if lp > logy then
                                for jj in 0 .. mt - 1 do wt.[jj] <- wt.[jj] * ct + nu.[jj] * st
                                Array.blit xp 0 x 0 n
                                lw <- lp
                                fin <- true
                            else
                                tries <- tries + 1
                                if tries > 200 then fin <- true // keep the current state (θ → 0 limit)
                                else
                                    if theta < 0.0 then lo <- theta else hi <- theta
                                    theta <- lo + (hi - lo) * rng.NextDouble()
                    for jj in 0 .. mt - 1 do w.[tIdx.[jj]] <- wt.[jj]
                    // Moments (lower triangles, row-major rows of length k+1).
                    for k in 0 .. n - 1 do phi.[k] <- SiteNonlinearity.apply problem.Phi x.[k]
                    Array.blit w 1 xi 0 n
                    for k in 0 .. n - 1 do eta.[k] <- Simd.dot lcA (k * n) xi 0 (k + 1)
                    for k in 0 .. n - 1 do
                        let off = k * n
                        Simd.axpy phi.[k] phi 0 acc off (k + 1)
                        Simd.axpy eta.[k] eta 0 acc (nn + off) (k + 1)
                        if wantFloors then
                            let pk = phi.[k] * phi.[k]
                            for j in 0 .. k do pp.[j] <- phi.[j] * phi.[j]
                            Simd.axpy pk pp 0 acc (2 * nn + off) (k + 1)
                            let ek = eta.[k] * eta.[k]
                            for j in 0 .. k do pp.[j] <- eta.[j] * eta.[j]
                            Simd.axpy ek pp 0 acc (3 * nn + off) (k + 1)
                    let mutable s1 = 0.0
                    for k in 0 .. n - 1 do s1 <- s1 + yx.[k] * x.[k]
                    let o = 4 * nn
                    acc.[o] <- acc.[o] + s0
                    acc.[o + 1] <- acc.[o + 1] + s1
                    acc.[o + 2] <- acc.[o + 2] + s0 * s0
                    acc.[o + 3] <- acc.[o + 3] + s1 * s1
                    acc.[o + 4] <- acc.[o + 4] + s0 * s1)
            |> ignore
            let tot = Array.zeroCreate (4 * nn + 5)
            for b in 0 .. blockCount - 1 do
                Simd.axpy 1.0 accs.[b] 0 tot 0 tot.Length
            let fm = float M
            let ch = Array2D.zeroCreate n n
            let kh = Array2D.zeroCreate n n
            let mutable varPhi = 0.0
            let mutable varEta = 0.0
            for k in 0 .. n - 1 do
                for j in 0 .. k do
                    let idx = k * n + j
                    let cp = tot.[idx] / fm
                    let ce = tot.[nn + idx] / fm
                    ch.[k, j] <- cp
                    ch.[j, k] <- cp
                    kh.[k, j] <- ce
                    kh.[j, k] <- ce
                    let mult = if j = k then 1.0 else 2.0
                    varPhi <- varPhi + mult * max 0.0 (tot.[2 * nn + idx] / fm - cp * cp)
                    varEta <- varEta + mult * max 0.0 (tot.[3 * nn + idx] / fm - ce * ce)
            let o = 4 * nn
            let m0 = tot.[o] / fm
            let m1 = tot.[o + 1] / fm
            let v0 = tot.[o + 2] / fm - m0 * m0
            let v1 = tot.[o + 3] / fm - m1 * m1
            let cov = tot.[o + 4] / fm - m0 * m1
            let rho = if v0 > 0.0 && v1 > 0.0 then cov / Math.Sqrt(v0 * v1) else 0.0
            ch, kh, (if wantFloors then Some(varPhi / fm, varEta / fm) else None), rho

        // Exact Gaussian expectations (φ = identity): w_t | w_q ~ N(H w_q, Π⁻¹), Π = I − A_tᵀΛA_t.
        let exactMoments (lc: Matrix<float>) (a: float[]) (lamM: Matrix<float>) =
            let A = Matrix<float>.Build.Dense(n, m, fun k j -> a.[k * m + j])
            let At = Matrix<float>.Build.Dense(n, mt, fun k jj -> A.[k, tIdx.[jj]])
            let Pi = Matrix<float>.Build.DenseIdentity(mt) - At.Transpose() * lamM * At
            let evMin = (TiltedLinAlg.sym Pi).Evd(Symmetricity.Symmetric).EigenValues |> Seq.map (fun c -> c.Real) |> Seq.min
            if evMin <= 1e-12 then None
            else
                let PiInv = Pi.Inverse()
                let S = Matrix<float>.Build.Dense(m, m)
                for i1 in 0 .. mt - 1 do
                    for i2 in 0 .. mt - 1 do S.[tIdx.[i1], tIdx.[i2]] <- PiInv.[i1, i2]
                if qIdx.Length > 0 then
                    let Aq = Matrix<float>.Build.Dense(n, qIdx.Length, fun k jj -> A.[k, qIdx.[jj]])
                    let H = PiInv * At.Transpose() * lamM * Aq
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
                let ch = TiltedLinAlg.sym (A * S * A.Transpose())
                let kh = TiltedLinAlg.sym (B * S * B.Transpose())
                Some(ch.ToArray(), kh.ToArray())

        let summaries (c: Matrix<float>) =
            let meanAct = (Seq.init n (fun k -> c.[k, k]) |> Seq.sum) / float n
            let ch = c.Cholesky()
            let align = ys |> Array.sumBy (fun y -> y.DotProduct(ch.Solve y))
            let h = n / 2
            let half = if h >= 1 && n - h >= 1 then (Seq.init (n - h) (fun k -> c.[k, k + h]) |> Seq.average) else 0.0
            meanAct, align, half

        let c0 = TiltedLinAlg.toM startC
        let mutable C = TiltedLinAlg.floorEigen c0 options.EigenFloor
        let mutable L = TiltedLinAlg.toM startLambda
        let mutable Cs : Matrix<float> option = None
        let mutable Ks : Matrix<float> option = None
        let mutable eps = options.PrimalStep
        let mutable kap = options.DualStep
        let mutable halvings = 0
        let normStart = max (TiltedLinAlg.frob C) 1e-12
        let mutable snapshot = (C, L, Cs, Ks, (if exact then [||] else Array.map Array.copy states))
        let hist = Collections.Generic.List<float[]>() // per iteration: dualR, dualF, primR, primF, rho, act, align, half
        let mutable it = 0
        let mutable stop = false
        let mutable failure : SolverFailure option = None
        let mutable lastLc = Matrix<float>.Build.DenseIdentity(n)
        let mutable lastFloors = (0.0, 0.0)
        let mutable lastRaw : float[,] = Array2D.zeroCreate n n
        let restoreOrFail (reason: string) =
            if options.AdaptiveSteps && halvings < options.MaxStepHalvings then
                let (c, l, cs, ks, st) = snapshot
                C <- c
                L <- l
                Cs <- cs
                Ks <- ks
                if not exact then st |> Array.iteri (fun i s -> Array.blit s 0 states.[i] 0 s.Length)
                eps <- eps / 2.0
                kap <- kap / 2.0
                halvings <- halvings + 1
                hist.Clear()
            else
                failure <-
                    Some { Solver = "TiltedSaddle"; Iterations = it; Residual = Double.PositiveInfinity
                           Reason = sprintf "%s at g = %g, gamma = %g (primal step %g, dual step %g, %d halvings)" reason g problem.Gamma eps kap halvings }
                stop <- true
        while not stop do
            it <- it + 1
            let lc, a = buildMaps C
            lastLc <- lc
            let lamArr = Array.init (n * n) (fun i -> L.[i / n, i % n])
            let moments =
                if exact then
                    match exactMoments lc a L with
                    | Some(ch, kh) -> Some(ch, kh, 0.0, 0.0, 0.0)
                    | None -> None
                else
                    let wantFloors = it % 4 = 1 || it > options.MaxIterations - options.Window || it > options.MinIterations
                    let ch, kh, floors, rho = sample lc a lamArr wantFloors
                    match floors with
                    | Some(vp, ve) -> lastFloors <- (vp, ve)
                    | None -> ()
                    Some(ch, kh, fst lastFloors, snd lastFloors, rho)
            match moments with
            | None -> restoreOrFail "the tilted measure is not normalisable (I - A'LA not positive definite)"
            | Some(chA, khA, varPhi, varEta, rho) ->
                lastRaw <- chA
                let Ch = TiltedLinAlg.toM chA
                let Kh = TiltedLinAlg.toM khA
                let a0 = options.Smoothing
                let cs = match Cs with Some s when not exact -> s * (1.0 - a0) + Ch * a0 | _ -> Ch
                let ks = match Ks with Some s when not exact -> s * (1.0 - a0) + Kh * a0 | _ -> Kh
                Cs <- Some cs
                Ks <- Some ks
                let normC = TiltedLinAlg.frob C
                let dualR = TiltedLinAlg.frob (C - Ch) / normC
                let grad = Kh / g2 - C + cy * gamma2 - C * L * C
                let primR = TiltedLinAlg.frob grad / normC
                let dualF = Math.Sqrt varPhi / normC
                let primF = Math.Sqrt varEta / g2 / normC
                // Dual ascent, then primal natural-gradient descent.
                let delta = options.ReadoutNoise * C.Trace() / float n
                let creg = C + Matrix<float>.Build.DenseIdentity(n) * delta
                let cinv = creg.Inverse()
                let Lnew = TiltedLinAlg.sym (L + cinv * (C - cs) * cinv * kap)
                let Cnew0 = C + (ks / g2 - C + cy * gamma2 - C * Lnew * C) * eps
                let healthy = TiltedLinAlg.allFinite (Cnew0.ToArray()) && TiltedLinAlg.allFinite (Lnew.ToArray())
                              && TiltedLinAlg.frob Cnew0 < 1e3 * normStart + 1e3
                if frozen then hist.Add [| dualR; dualF; primR; primF; rho; 0.0; 0.0; 0.0 |]
                elif not healthy then restoreOrFail "the iteration diverged (non-finite or exploding C)"
                else
                    let Cnew = TiltedLinAlg.floorEigen Cnew0 options.EigenFloor
                    L <- Lnew
                    C <- Cnew
                    let act, align, half = summaries C
                    hist.Add [| dualR; dualF; primR; primF; rho; act; align; half |]
                    if it % 20 = 0 then snapshot <- (C, L, Cs, Ks, (if exact then [||] else Array.map Array.copy states))
                    let w = min options.Window hist.Count
                    let win = [| for i in hist.Count - w .. hist.Count - 1 -> hist.[i] |]
                    let meanOf j = win |> Array.averageBy (fun r -> r.[j])
                    if exact then
                        if max dualR primR < options.ExactTolerance then stop <- true
                    elif hist.Count >= max options.MinIterations options.Window then
                        if meanOf 0 <= options.ResidualFactor * meanOf 1 && meanOf 2 <= options.ResidualFactor * meanOf 3
                           && TiltedSolver.Drifting(win, options.DriftTolerance) |> not then stop <- true
            if it >= options.MaxIterations then stop <- true
        lastRaw,
        (match failure with
        | Some f -> Error f
        | None when frozen -> Error { Solver = "TiltedSaddle"; Iterations = it; Residual = nan; Reason = "moments only (frozen run)" }
        | None ->
            let w = min options.Window hist.Count
            let win = [| for i in hist.Count - w .. hist.Count - 1 -> hist.[i] |]
            let stat j =
                let xs = win |> Array.map (fun r -> r.[j])
                let mu = Array.average xs
                { Mean = mu; Sd = if xs.Length > 1 then Math.Sqrt((xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (xs.Length - 1)) else 0.0 }
            let dualR, dualF, primR, primF = (stat 0).Mean, (stat 1).Mean, (stat 2).Mean, (stat 3).Mean
            let rho = (stat 4).Mean
            let last = if hist.Count > 0 then hist.[hist.Count - 1] else [| infinity; 0.0; infinity; 0.0 |]
            let dualR, primR = if exact then last.[0], last.[2] else dualR, primR
            let converged =
                if exact then max dualR primR < options.ExactTolerance
                else dualR <= options.ResidualFactor * dualF && primR <= options.ResidualFactor * primF
                     && not (TiltedSolver.Drifting(win, options.DriftTolerance))
            let drift = if w > 1 && not exact then TiltedSolver.Drifting(win, options.DriftTolerance) else false
            if w = 0 || not converged then
                Error { Solver = "TiltedSaddle"; Iterations = it; Residual = max dualR primR
                        Reason =
                            sprintf "not converged after %d iterations at g = %g, gamma = %g: dual residual %.3g (noise floor %.3g), primal %.3g (floor %.3g), factor %g%s"
                                it g problem.Gamma dualR dualF primR primF options.ResidualFactor
                                (if drift then "; summaries still drifting over the window" else "") }
            else
                let diag =
                    { Iterations = it; DualResidual = dualR; DualNoiseFloor = dualF; PrimalResidual = primR; PrimalNoiseFloor = primF
                      EffectiveSampleSize = (if exact then Double.PositiveInfinity else float M * (1.0 - rho) / (1.0 + rho))
                      Samples = M; Seed = options.Seed; PrimalStep = eps; DualStep = kap; StepHalvings = halvings
                      MeanActivity = stat 5; TargetAlignment = stat 6; HalfWindowCorrelation = stat 7 }
                Ok { Problem = problem; C = C.ToArray(); Lambda = L.ToArray(); CHat = (defaultArg Cs C).ToArray()
                     KEta = (defaultArg Ks C).ToArray(); Chains = (if exact then [||] else Array.map Array.copy states)
                     Diagnostics = diag }),
        { Chains = (if exact then [||] else Array.map Array.copy states)
          Row = (if hist.Count > 0 then hist.[hist.Count - 1] else Array.zeroCreate 8) }

    /// Monte Carlo estimate of Ê_μ[φφᵀ] at fixed (C, Λ): fresh prior chains (S = options.Chains, seed options.Seed),
    /// `burnIn` iterations of options.SweepsPerIteration elliptical-slice sweeps, then one estimate. For checking the
    /// 1/√S scaling of the Monte Carlo error and for diagnostics.
    static member SampleMoments(problem: TiltedProblem, options: TiltedSolverOptions, c: float[,], lambda: float[,], burnIn: int) =
        Validate.AtLeast("burnIn", burnIn, 0) |> ignore
        let o = { options with MaxIterations = burnIn + 1; MinIterations = Int32.MaxValue; PrimalStep = 1e-6; DualStep = 1e-6
                               Smoothing = 1.0; AdaptiveSteps = false; Expectation = MonteCarlo }
        TiltedSolver.Run(problem, o, c, lambda, [||], true) |> fst

    /// Solves from the γ = 0 window solution (deterministic march) with fresh prior chains and Λ = 0.
    static member Solve(problem: TiltedProblem, options: TiltedSolverOptions) =
        let n = problem.Points
        TiltedSolver.Solve(problem, options, TiltedSolver.StartingKernel problem, Array2D.zeroCreate n n, [||])

    /// Continuation in γ (note §6.4): solves at each γ of the ascending list, warm-starting C, Λ and the chains from
    /// the previous solution. Stops at the first failure and returns the solutions so far with the failure.
    static member Continue(problemAt: Func<float, TiltedProblem>, gammas: float[], options: TiltedSolverOptions)
        : TiltedSolution list * SolverFailure option =
        if gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list"))
        for i in 1 .. gammas.Length - 1 do
            if gammas.[i] < gammas.[i - 1] then raise (ParameterOutOfDomainException("gammas", "not ascending", "an ascending list"))
        let mutable acc = []
        let mutable fail = None
        let mutable prev : TiltedSolution option = None
        for gm in gammas do
            if fail.IsNone then
                let p = problemAt.Invoke gm
                let r =
                    match prev with
                    | None -> TiltedSolver.Solve(p, options)
                    | Some s -> TiltedSolver.Solve(p, options, s.C, s.Lambda, s.Chains)
                match r with
                | Ok s ->
                    acc <- s :: acc
                    prev <- Some s
                | Error f -> fail <- Some f
        List.rev acc, fail

    /// Throwing variant: raises NotConvergedException on failure.
    static member SolveOrThrow(problem: TiltedProblem, options: TiltedSolverOptions) =
        match TiltedSolver.Solve(problem, options) with
        | Ok s -> s
        | Error f -> raise (NotConvergedException f)

namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// How tilted expectations are evaluated.
type TiltedExpectation =
    /// Weighted particles of the tilted single-site measure (sequential Monte Carlo: exact reweighting when the tilt
    /// moves, elliptical slice sweeps, systematic resampling). Any φ; trained variables only.
    | MonteCarlo
    /// Exact Gaussian conditioning; φ = identity only (the tilt is then Gaussian, note §4). No Monte Carlo noise.
    | ExactGaussian

/// Options of the N = ∞ saddle-point solver (docs/dmft-nonlinear.md, "Saddle point"; research note §3.2, §6.4).
type TiltedSolverOptions =
    { /// Particles S (Monte Carlo sample size). Default 4000; documented minimum 100.
      Chains: int
      /// Elliptical-slice sweeps per iteration. Default 1.
      SweepsPerIteration: int
      /// Largest relaxation step a of θ = (C, K) ← θ + a·(Ĥ(θ) − θ). Default 0.3.
      Step: float
      /// Smallest step the trust region may use before the solve fails as numerically unstable. Default 0.002.
      MinStep: float
      /// A step is accepted only if reweighting the particles to the new tilt keeps this conditional effective
      /// sample size (fraction of the current one); otherwise it is halved. Default 0.7.
      TrustEss: float
      /// γ is raised towards its target in increments that keep this conditional ESS (adaptive tempering). Default 0.8.
      TemperingEss: float
      /// Resample when the ESS falls below this fraction of S. Default 0.5.
      ResampleEss: float
      /// Iterations at the target γ before the stationarity test (at least two windows). Default 200 (the relaxation
      /// has a slow mode near the transition: hundreds of iterations at g = 1.5, γ = 1).
      MinIterations: int
      /// Iteration budget of one solve (tempering, relaxation and averaging). Default 6000.
      MaxIterations: int
      /// Window of the stationarity test (iterations), checked once per window after MinIterations. Default 80.
      Window: int
      /// Iterations averaged (Polyak–Ruppert, decreasing steps) after stationarity. Default 80.
      AverageIterations: int
      /// Stationary when the window-mean residuals are at most this many times their Monte Carlo floors. Default 3.
      ResidualFactor: float
      /// ... and the summaries (mean C_kk, y*ᵀC⁻¹y*, C(t, t+T/2)) differ by at most this many standard errors between
      /// the last two windows (autocorrelation-corrected). Default 4.
      DriftTolerance: float
      /// ... and the run at the target γ has lasted at least this many relaxation times τ̂ of every summary that moved
      /// (τ̂ from the quarter means of the trace since the target was reached, the exponential model of
      /// StageRelaxation; e^(−5) ≈ 0.7% of the change remains). The relaxation near the transition is slow (hundreds
      /// of iterations at g = 2.5), and a two-window drift test alone passes it. Default 5.
      RelaxationFactor: float
      /// Iterations at the target γ after which the drift and relaxation-time tests no longer hold the solve back: it is
      /// averaged and returned with a lag warning (the estimated relaxation time and drift; the lag biases the solution
      /// towards the previous γ, so it is reported, not hidden). Default 1500.
      MaxRelaxation: int
      /// Exact path (ExactGaussian): primal step ε of the deterministic primal–dual iteration. Default 0.15 (0.5
      /// diverges near the pole of linear window problems).
      ExactStep: float
      /// Exact path: dual (moment-matching) step κ. Default 0.5.
      ExactDualStep: float
      /// Exact path: relative residual tolerance. Default 1e-9.
      ExactTolerance: float
      /// Exact path: iteration budget. Default 50000.
      ExactMaxIterations: int
      /// Seed of every random draw (particles use Rng.ForStream(seed, block)).
      Seed: int64
      /// Expectation engine. Default MonteCarlo.
      Expectation: TiltedExpectation
      /// At γ = 0 return the exact window solution (the deterministic march, note §6.2) with exact prior particles
      /// instead of iterating. Default true.
      ExactAtZero: bool }
    /// S = 4000, one sweep per iteration, step 0.3, trust ESS 0.7, tempering ESS 0.8, seed 1.
    static member Default =
        { Chains = 4000; SweepsPerIteration = 1; Step = 0.3; MinStep = 0.002; TrustEss = 0.7; TemperingEss = 0.8
          ResampleEss = 0.5; MinIterations = 200; MaxIterations = 6000; Window = 80; AverageIterations = 80
          ResidualFactor = 3.0; DriftTolerance = 4.0; RelaxationFactor = 5.0; MaxRelaxation = 1500; ExactStep = 0.15; ExactDualStep = 0.5; ExactTolerance = 1e-9; ExactMaxIterations = 50000
          Seed = 1L; Expectation = MonteCarlo; ExactAtZero = true }
    /// The documented minimum number of particles (below it the block error estimates are meaningless).
    static member MinimumChains = 100
    /// A copy with another number of particles and seed (C# callers).
    member o.WithChains(chains: int, seed: int64) = { o with Chains = chains; Seed = seed }

/// Mean, standard deviation over the window and standard error of the mean (autocorrelation-corrected).
type WindowStat =
    { Mean: float
      Sd: float
      StandardError: float }

/// Why a saddle-point solve failed (issue: "which of numerical instability or loss of a real solution").
type SaddleFailureKind =
    /// The iteration became unstable (weights degenerate, a non-positive-definite kernel or non-finite values) and the
    /// trust region shrank the step below MinStep while the slow-mode margin stayed clearly positive.
    | NumericalInstability
    /// The continued solution lost local stability: the relaxation along the slow direction stopped contracting
    /// (margin 1 − λ ≤ 0.05, λ the Rayleigh quotient of the linearised fixed-point map along the drift), i.e. the
    /// Hessian of S along the continuation reached zero; or (φ = identity) the Gaussian tilt is no longer normalisable.
    | LossOfSolution
    /// The budget ran out while the summaries were still drifting (slow relaxation, margin positive).
    | NotConverged

/// A typed failure of the saddle-point solver with its evidence.
type SaddleFailure =
    { Kind: SaddleFailureKind
      /// Iterations, residual and the reason in words (CLI exit 3).
      Failure: SolverFailure
      /// The target γ and the γ reached by the tempering when it failed.
      Gamma: float
      GammaReached: float
      /// 1 − λ along the slowest direction at the last healthy state (NaN when unmeasured).
      StabilityMargin: float
      /// Effective sample size at the last healthy state.
      EffectiveSampleSize: float }
    override f.ToString() = sprintf "%A: %O" f.Kind f.Failure

/// Convergence diagnostics of one saddle-point solve (docs/dmft-nonlinear.md).
type TiltedDiagnostics =
    { /// Iterations in all (tempering + relaxation + averaging); tempering iterations among them.
      Iterations: int
      TemperingIterations: int
      /// Window mean of ‖Ĉ − C‖_F/‖C‖_F and its Monte Carlo floor (block standard error of Ĉ over ‖C‖).
      CResidual: float
      CNoiseFloor: float
      /// Window mean of ‖K̂ − K‖_F/‖K‖_F and its floor (K̂ the Rao–Blackwellised second moment of the trained field).
      KResidual: float
      KNoiseFloor: float
      /// Mean and smallest effective sample size of the weights over the solve; resamplings performed.
      EffectiveSampleSize: float
      MinimumEffectiveSampleSize: float
      Resamplings: int
      /// Mean elliptical-slice proposals per particle update (1 = every first proposal accepted).
      ProposalsPerUpdate: float
      /// Particles S and seed.
      Samples: int
      Seed: int64
      /// Mean step used in the averaging phase and the number of trust-region reductions over the solve.
      Step: float
      StepReductions: int
      /// Delta-method estimate of the self-normalised importance-sampling bias of Ĉ, ‖−Σw̄²(φφᵀ − Ĉ)‖_F/‖C‖_F, averaged
      /// over the averaging phase: the only bias of the weighted estimates, O(1/ESS).
      SnisBias: float
      /// Largest drift of a summary between the halves of the last window, in standard errors.
      DriftZ: float
      /// Largest relaxation time (iterations) of the summaries at the target γ when the stationarity test passed
      /// (0 when nothing moved significantly; +∞ when still drifting linearly).
      RelaxationTime: float
      /// Non-fatal problems: a lag warning when MaxRelaxation ended the relaxation before the drift and relaxation
      /// tests passed (the estimated relaxation time and drift are named).
      Warnings: string list
      /// 1 − λ along the slowest (drift) direction of the linearised map at the end of the relaxation (NaN when the
      /// drift was below noise): how far the solution is from losing stability (≈ the smallest Hessian eigenvalue of
      /// S in the natural-gradient metric).
      StabilityMargin: float
      /// Summaries over the averaging phase: mean_k C_kk, Σ_a y*_aᵀC⁻¹y*_a, mean_k C(t_k, t_k + nΔt/2).
      MeanActivity: WindowStat
      TargetAlignment: WindowStat
      HalfWindowCorrelation: WindowStat }

/// Equal-weight samples of the tilted single-site measure at a solution (one row per particle).
type TiltedSamples =
    { /// Trained field s = η + u on the grid (s_k drives x_k → x_{k+1}).
      Fields: float[][]
      /// x(0).
      InitialStates: float[]
      /// Window paths x(t_k).
      Paths: float[][]
      /// φ(x(t_k)).
      Rates: float[][] }
    member s.Count = s.InitialStates.Length

/// A converged saddle point of the learned-network DMFT at N = ∞.
type TiltedSolution =
    { Problem: TiltedProblem
      /// The order parameter C (Polyak–Ruppert average over the averaging phase).
      C: float[,]
      /// K = E_μ[ssᵀ] of the trained field (averaged likewise).
      K: float[,]
      /// The conjugate field Λ = g²Σ⁻¹(K − Σ)Σ⁻¹ + γ²C⁻¹C^yC⁻¹ at (C, K) (discrete; Λ_discrete = Δt²Λ_continuum).
      Lambda: float[,]
      /// Weighted moments averaged over the averaging phase (exact for ExactGaussian: Ĉ and K_η).
      CHat: float[,]
      KHat: float[,]
      /// Particles at the solution, resampled to equal weights (empty for ExactGaussian).
      Samples: TiltedSamples
      Diagnostics: TiltedDiagnostics }

/// Internal state of a Monte Carlo solve kept for warm starts.
type internal SaddleState = { C: float[]; K: float[]; Cloud: ParticleCloud; Gamma: float }

/// The N = ∞ saddle point of the learned-network DMFT (research note dmft-learned.md §3.2–3.4; docs/dmft-nonlinear.md).
/// Order parameters θ = (C, K), C = E_μ[φφᵀ], K = E_μ[ssᵀ] of the trained field s = η + u, with the tilted measure
/// μ ∝ N(s; 0, Σ)·N(x0; 0, σ0²)·exp(½φᵀΛφ), Σ = g²C + C^I, Λ = g²Σ⁻¹(K − Σ)Σ⁻¹ + γ²C⁻¹C^yC⁻¹. The fixed point
/// θ = H(θ) = (E_μθ[φφᵀ], E_μθ[ssᵀ]) is found by stochastic approximation of the moment relaxation
/// dθ/dt = H(θ) − θ, which is the projection of the measure relaxation dμ/dt = μ̃ − μ whose Lyapunov function is
/// F(μ) = KL(μ‖P_Cμ) + (γ²/2)tr(C⁻¹C^y) (dF/dt = −KL(μ̃‖μ) − KL(μ‖μ̃) ≤ 0), hence stable at minima of S. Damped Picard
/// on (C, Λ) (Λ from undamped moments) is a different map and diverges (note §7.4); this one does not.
/// Per iteration: raise γ by the largest increment that keeps the conditional ESS (tempering), reweight the particles
/// exactly to the current tilt (no chain lag), resample when the ESS is low, one elliptical-slice sweep, estimate
/// Ĥ(θ) with the Rao–Blackwellised K̂ = Σ + ΣM̂Σ (M̂ pathwise, Stein), and step θ ← θ + a·(Ĥ − θ) with the data
/// term preconditioned implicitly and the step limited by a trust region on the reweighting ESS. After stationarity
/// (residuals at their noise floors, no drift), θ is averaged with decreasing steps. The estimates are unbiased up
/// to the O(1/ESS) self-normalisation bias, which is reported (SnisBias).
[<AbstractClass; Sealed>]
type TiltedSolver private () =

    /// The γ = 0 window solution by the deterministic march (note §6.2) with the problem's input kernel.
    static member StartingKernel(problem: TiltedProblem) : float[,] =
        let n = problem.Points
        let isGrid = problem.Propagator.GetLength 0 > 1 || problem.X0Response.[0] <> 0.0
        if isGrid then
            (ScsTransient.Solve(problem.Phi, problem.G, problem.Dt, n, problem.X0Variance, problem.InputKernel, 48)).C
        else
            // Single mode: c = (g²c + c_I)P² at γ = 0 (identity); c_I P²/(1 − g²P²) when admissible, else c_I P².
            let p2 = problem.Propagator.[0, 0] ** 2.0
            let ci = match problem.InputKernel with Some k -> k.[0, 0] | None -> 0.0
            let g2 = problem.G * problem.G
            let c = if g2 * p2 < 1.0 then ci * p2 / (1.0 - g2 * p2) else ci * p2
            array2D [ [ max c 1e-3 ] ]

    static member private Validate(problem: TiltedProblem, options: TiltedSolverOptions) =
        Validate.Positive("g", problem.G) |> ignore
        Validate.NonNegative("gamma", problem.Gamma) |> ignore
        Validate.AtLeast("chains", options.Chains, TiltedSolverOptions.MinimumChains) |> ignore
        Validate.AtLeast("sweeps", options.SweepsPerIteration, 1) |> ignore
        Validate.InRange("step", options.Step, 1e-4, 1.0) |> ignore
        Validate.InRange("minStep", options.MinStep, 1e-6, options.Step) |> ignore
        Validate.InRange("trustEss", options.TrustEss, 0.05, 0.99) |> ignore
        Validate.InRange("temperingEss", options.TemperingEss, 0.05, 0.99) |> ignore
        Validate.InRange("resampleEss", options.ResampleEss, 0.0, 1.0) |> ignore
        Validate.AtLeast("minIterations", options.MinIterations, 1) |> ignore
        Validate.AtLeast("window", options.Window, 8) |> ignore
        Validate.AtLeast("averageIterations", options.AverageIterations, 4) |> ignore
        Validate.AtLeast("maxIterations", options.MaxIterations, options.Window + options.AverageIterations) |> ignore
        Validate.Positive("residualFactor", options.ResidualFactor) |> ignore
        Validate.Positive("driftTolerance", options.DriftTolerance) |> ignore
        Validate.NonNegative("relaxationFactor", options.RelaxationFactor) |> ignore
        Validate.AtLeast("maxRelaxation", options.MaxRelaxation, options.MinIterations) |> ignore
        Validate.InRange("exactStep", options.ExactStep, 1e-6, 2.0) |> ignore
        Validate.InRange("exactDualStep", options.ExactDualStep, 1e-6, 2.0) |> ignore
        if options.Expectation = ExactGaussian && problem.Phi <> Identity then
            raise (ParameterOutOfDomainException("expectation", "ExactGaussian", "MonteCarlo unless phi = identity"))
        if options.Expectation = MonteCarlo then
            if problem.InputKernel.IsSome && not problem.InputTilted then
                raise (ParameterOutOfDomainException("inputTilted", "false",
                        "true for the Monte Carlo solver (quenched inputs need ExactGaussian expectations, phi = identity)"))
            if not problem.X0Tilted && problem.X0Variance > 0.0 then
                raise (ParameterOutOfDomainException("x0Tilted", "false",
                        "true for the Monte Carlo solver (a quenched x0 needs ExactGaussian expectations, phi = identity)"))
            if problem.Targets.Length = 0 then raise (ParameterOutOfDomainException("targets", "none", "at least one target"))

    /// The input kernel C^I as a flat n×n array (zeros without input).
    static member internal InputKernelArray(problem: TiltedProblem) =
        let n = problem.Points
        match problem.InputKernel with
        | Some k -> Array.init (n * n) (fun i -> k.[i / n, i % n])
        | None -> Array.zeroCreate (n * n)

    static member private Summaries(problem: TiltedProblem, c: float[]) =
        let n = problem.Points
        let act = (Seq.init n (fun k -> c.[k * n + k]) |> Seq.sum) / float n
        let align =
            match TiltFields.factor c n with
            | Some(_, ci, _) ->
                problem.Targets |> Array.sumBy (fun y ->
                    let a = Array.zeroCreate n
                    SmallDense.matVec ci y a n
                    SmallDense.dot y 0 a 0 n)
            | None -> nan
        let h = n / 2
        let half = if h >= 1 && n - h >= 1 then Seq.init (n - h) (fun k -> c.[k * n + k + h]) |> Seq.average else 0.0
        [| act; align; half |]

    /// Mean, s.d. and autocorrelation-corrected standard error of a series (AR(1): var·(1+ρ)/(1−ρ)/m).
    static member internal SeriesStat(xs: float[]) : WindowStat =
        let m = xs.Length
        if m = 0 then { Mean = nan; Sd = nan; StandardError = nan }
        else
            let mu = Array.average xs
            let var = if m > 1 then (xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (m - 1) else 0.0
            let rho =
                if m > 2 && var > 0.0 then
                    let c1 = Seq.init (m - 1) (fun i -> (xs.[i] - mu) * (xs.[i + 1] - mu)) |> Seq.sum
                    max 0.0 (min 0.99 (c1 / float (m - 1) / var))
                else 0.0
            { Mean = mu; Sd = Math.Sqrt var; StandardError = Math.Sqrt(var * (1.0 + rho) / (1.0 - rho) / float m) }

    /// Largest drift between the halves of a window of summary rows, in (autocorrelation-corrected) standard errors.
    static member internal DriftZ(rows: float[][]) =
        let w = rows.Length
        if w < 8 then infinity
        else
            let h = w / 2
            [ 0 .. rows.[0].Length - 1 ]
            |> List.map (fun j ->
                let a = TiltedSolver.SeriesStat(rows.[.. h - 1] |> Array.map (fun r -> r.[j]))
                let b = TiltedSolver.SeriesStat(rows.[h ..] |> Array.map (fun r -> r.[j]))
                let se = Math.Sqrt(a.StandardError ** 2.0 + b.StandardError ** 2.0)
                let d = abs (b.Mean - a.Mean)
                if se > 0.0 then d / se elif d = 0.0 then 0.0 else infinity)
            |> List.max

    /// The largest relaxation time (iterations) of summary traces (rows: iterations since the target was reached;
    /// columns: summaries) under the exponential model m(t) = m∞ − A·e^(−t/τ): from the quarter means q1…q4 the ratio
    /// (q4 − q3)/(q4 − q1) is inverted exactly (StageRelaxation.TimeOfRatio). Summaries whose change q4 − q1 is within
    /// 3 standard errors (autocorrelation-corrected, last quarter) did not move and count as relaxed (τ = 0); +∞ when
    /// a summary still drifts linearly.
    static member internal RelaxationTimeOf(rows: float[][]) =
        let L = rows.Length
        if L < 16 then infinity
        else
            let q = L / 4
            [ 0 .. rows.[0].Length - 1 ]
            |> List.map (fun j ->
                let col = rows |> Array.map (fun r -> r.[j])
                let qm k = Array.average col.[k * q .. (k + 1) * q - 1]
                let q1, q3, q4 = qm 0, qm 2, qm 3
                let se = (TiltedSolver.SeriesStat col.[3 * q ..]).StandardError
                if abs (q4 - q1) <= 3.0 * Math.Sqrt 2.0 * se then 0.0
                else StageRelaxation.TimeOfRatio((q4 - q3) / (q4 - q1), 4 * q))
            |> List.max

    /// The data-term preconditioner: solves X + t(XB + BᵀX) = R with B = Σ_a α_a y*_aᵀ, t = aγ² (the implicit step for
    /// the stiff response of Ĉ to Λ_data = γ²C⁻¹C^yC⁻¹ under a Gaussian closure, δĈ ≈ −γ²(δC·B + Bᵀ·δC)).
    static member internal PreconditionData(r: float[], alpha: float[][], targets: float[][], t: float, n: int) =
        let d = alpha.Length
        if t <= 0.0 || d = 0 then r
        else
            // U = X·A (n×d); W = AᵀU (d×d, symmetric); Q = YᵀA.
            let ra = Array.init d (fun a -> let v = Array.zeroCreate n in SmallDense.matVec r alpha.[a] v n; v)
            let q = Array2D.init d d (fun a b -> SmallDense.dot targets.[a] 0 alpha.[b] 0 n)
            let ara = Array2D.init d d (fun a b -> SmallDense.dot alpha.[a] 0 ra.[b] 0 n)
            // W(I + tQ) + tQᵀW = AᵀRA (W symmetric): vectorised d²×d² system.
            let dim = d * d
            let sys = Matrix<float>.Build.Dense(dim, dim)
            let rhs = Vector<float>.Build.Dense(dim)
            for i in 0 .. d - 1 do
                for j in 0 .. d - 1 do
                    let row = i * d + j
                    rhs.[row] <- ara.[i, j]
                    // (W(I+tQ))_ij = Σ_k W_ik (δ_kj + t Q_kj); (tQᵀW)_ij = t Σ_k Q_ki W_kj
                    for k in 0 .. d - 1 do
                        sys.[row, i * d + k] <- sys.[row, i * d + k] + (if k = j then 1.0 else 0.0) + t * q.[k, j]
                        sys.[row, k * d + j] <- sys.[row, k * d + j] + t * q.[k, i]
            let wv = sys.Solve(rhs)
            // U = (RA − tYW)(I + tQ)⁻¹
            let iq = Matrix<float>.Build.Dense(d, d, fun a b -> (if a = b then 1.0 else 0.0) + t * q.[a, b]).Inverse()
            let tmp = Array.init d (fun b -> Array.init n (fun k -> ra.[b].[k] - t * (Seq.init d (fun a -> targets.[a].[k] * wv.[a * d + b]) |> Seq.sum)))
            let u = Array.init d (fun b -> Array.init n (fun k -> Seq.init d (fun a -> tmp.[a].[k] * iq.[a, b]) |> Seq.sum))
            // X = R − t(UYᵀ + YUᵀ)
            let x = Array.copy r
            for a in 0 .. d - 1 do
                for rr in 0 .. n - 1 do
                    SmallDense.axpy (-t * u.[a].[rr]) targets.[a] 0 x (rr * n) n
                    SmallDense.axpy (-t * targets.[a].[rr]) u.[a] 0 x (rr * n) n
            x

    static member private Frob(a: float[]) = Math.Sqrt(a |> Array.sumBy (fun v -> v * v))
    static member private To2D(a: float[], n: int) = Array2D.init n n (fun r c -> a.[r * n + c])

    /// Equal-weight samples of a cloud (resampled copy; the cloud itself is not changed).
    static member private SamplesOf(cloud: ParticleCloud) : TiltedSamples =
        let n = cloud.Problem.Points
        let c = { cloud with Fields = Array.copy cloud.Fields; X0 = Array.copy cloud.X0; X = Array.copy cloud.X; Phi = Array.copy cloud.Phi
                             LogWeight = Array.copy cloud.LogWeight; BaseLog = Array.copy cloud.BaseLog; ResampleRng = Rng.ForStream(0L, 4242L) }
        if Particles.ess c < float c.Count * 0.999999 then Particles.resample c |> ignore
        let rows (a: float[]) = Array.init c.Count (fun i -> Array.sub a (i * n) n)
        { Fields = rows c.Fields; InitialStates = Array.copy c.X0; Paths = rows c.X; Rates = rows c.Phi }

    /// A particle cloud from equal-weight samples (warm start).
    static member private CloudOf(problem: TiltedProblem, samples: TiltedSamples, seed: int64) : ParticleCloud =
        let n = problem.Points
        let S = samples.Count
        let flat (rows: float[][]) = Array.init (S * n) (fun i -> rows.[i / n].[i % n])
        { Problem = problem; Count = S; Fields = flat samples.Fields; X0 = Array.copy samples.InitialStates
          X = flat samples.Paths; Phi = flat samples.Rates; LogWeight = Array.zeroCreate S; BaseLog = Array.zeroCreate S
          Rngs = Array.init Particles.blockCount (fun b -> Rng.ForStream(seed, int64 (1000 + b)))
          ResampleRng = Rng.ForStream(seed, 999L) }

    /// Solves from the γ = 0 window solution with fresh prior particles.
    static member Solve(problem: TiltedProblem, options: TiltedSolverOptions) : Result<TiltedSolution, SaddleFailure> =
        TiltedSolver.SolveFrom(problem, options, None)

    /// Solves warm-started from a previous solution (its θ and particles; γ is tempered from its value).
    static member Solve(problem: TiltedProblem, options: TiltedSolverOptions, warm: TiltedSolution) : Result<TiltedSolution, SaddleFailure> =
        TiltedSolver.SolveFrom(problem, options, Some warm)

    static member private SolveFrom(problem: TiltedProblem, options: TiltedSolverOptions, warm: TiltedSolution option) =
        TiltedSolver.Validate(problem, options)
        match options.Expectation with
        | ExactGaussian -> TiltedSolver.SolveExact(problem, options, warm)
        | MonteCarlo -> TiltedSolver.SolveMonteCarlo(problem, options, warm)

    static member private SolveExact(problem: TiltedProblem, options: TiltedSolverOptions, warm: TiltedSolution option) =
        let n = problem.Points
        let c0, l0 =
            match warm with
            | Some w when w.Problem.Points = n -> w.C, w.Lambda
            | _ -> TiltedSolver.StartingKernel problem, Array2D.zeroCreate n n
        match TiltedExact.solve problem c0 l0 options.ExactStep options.ExactDualStep options.ExactTolerance options.ExactMaxIterations with
        | Error f ->
            let kind = if f.Reason.Contains "normalisable" then LossOfSolution else NotConverged
            Error { Kind = kind; Failure = f; Gamma = problem.Gamma; GammaReached = problem.Gamma; StabilityMargin = nan
                    EffectiveSampleSize = infinity }
        | Ok(c, l, ch, kh, it, res) ->
            let cf = Array.init (n * n) (fun i -> c.[i / n, i % n])
            let s = TiltedSolver.Summaries(problem, cf)
            let stat v = { Mean = v; Sd = 0.0; StandardError = 0.0 }
            // K of the trained field: Σ + Σ M Σ is not formed on the exact path (it iterates K_η); report K_η.
            Ok { Problem = problem; C = c; K = kh; Lambda = l; CHat = ch; KHat = kh
                 Samples = { Fields = [||]; InitialStates = [||]; Paths = [||]; Rates = [||] }
                 Diagnostics =
                    { Iterations = it; TemperingIterations = 0; CResidual = res; CNoiseFloor = 0.0; KResidual = res; KNoiseFloor = 0.0
                      EffectiveSampleSize = infinity; MinimumEffectiveSampleSize = infinity; Resamplings = 0; ProposalsPerUpdate = 0.0
                      Samples = 0; Seed = options.Seed; Step = options.ExactStep; StepReductions = 0; SnisBias = 0.0; DriftZ = 0.0
                      RelaxationTime = 0.0; Warnings = []; StabilityMargin = nan; MeanActivity = stat s.[0]; TargetAlignment = stat s.[1]; HalfWindowCorrelation = stat s.[2] } }

    static member private SolveMonteCarlo(problem: TiltedProblem, options: TiltedSolverOptions, warm: TiltedSolution option) =
        let n = problem.Points
        let nn = n * n
        let g2 = problem.G * problem.G
        let ci = TiltedSolver.InputKernelArray problem
        let flat2 (a: float[,]) = Array.init nn (fun i -> a.[i / n, i % n])
        // Streams of this solve: the seed and the target γ (a continuation does not reuse the previous stage's draws).
        let streamSeed = options.Seed * 1000003L + int64 (Math.Round(problem.Gamma * 1e6))
        // Start: the exact γ = 0 window solution and exact prior particles, or the warm start.
        let c0, k0, cloud, gamma0 =
            match warm with
            | Some w when w.Samples.Count = options.Chains && w.Problem.Points = n ->
                flat2 w.C, flat2 w.K, TiltedSolver.CloudOf(problem, w.Samples, streamSeed), w.Problem.Gamma
            | _ ->
                let c = flat2 (TiltedSolver.StartingKernel problem)
                let sigma = Array.init nn (fun i -> g2 * c.[i] + ci.[i])
                match TiltFields.factor sigma n with
                | None -> raise (NoSolutionException "the gamma = 0 field covariance g^2 C + C^I is not positive definite; add process noise or input")
                | Some(ls, _, _) -> c, Array.copy sigma, Particles.prior problem ls options.Chains options.Seed, 0.0
        // The particles are equal-weight draws of the tilt they come from (the warm solution's, or the prior's: Λ = 0).
        let gammaStart = min gamma0 problem.Gamma
        match TiltFields.derive problem ci c0 k0 gamma0, TiltFields.derive problem ci c0 k0 gammaStart with
        | Some tFrom, Some t0 ->
            Particles.initialise tFrom cloud
            Particles.commit t0 cloud
            if options.ExactAtZero && problem.Gamma = 0.0 && warm.IsNone then TiltedSolver.ExactZero(problem, options, c0, k0, t0, cloud)
            else TiltedSolver.Relax(problem, options, c0, k0, gammaStart, cloud, streamSeed)
        | _ ->
            Error { Kind = NumericalInstability; Gamma = problem.Gamma; GammaReached = gammaStart; StabilityMargin = nan; EffectiveSampleSize = nan
                    Failure = { Solver = "TiltedSaddle"; Iterations = 0; Residual = nan; Reason = "the starting kernel is not positive definite" } }



    /// γ = 0 exact shortcut: C is the march, K = Σ, the particles are exact prior draws (one moments pass for the floors).
    static member private ExactZero(problem: TiltedProblem, options: TiltedSolverOptions, c0: float[], k0: float[], t0: TiltField, cloud: ParticleCloud) =
        let n = problem.Points
        let m = Particles.moments t0 cloud
        let s = TiltedSolver.Summaries(problem, c0)
        let stat v = { Mean = v; Sd = 0.0; StandardError = 0.0 }
        let normC = TiltedSolver.Frob c0
        let normK = TiltedSolver.Frob k0
        Ok { Problem = problem; C = TiltedSolver.To2D(c0, n); K = TiltedSolver.To2D(k0, n); Lambda = TiltedSolver.To2D(t0.Lambda, n)
             CHat = TiltedSolver.To2D(m.C, n); KHat = TiltedSolver.To2D(m.K, n); Samples = TiltedSolver.SamplesOf cloud
             Diagnostics =
                { Iterations = 0; TemperingIterations = 0
                  CResidual = TiltedSolver.Frob(Array.map2 (-) m.C c0) / normC; CNoiseFloor = m.CError / normC
                  KResidual = TiltedSolver.Frob(Array.map2 (-) m.K k0) / normK
                  KNoiseFloor = Math.Sqrt(m.KError ** 2.0 + (problem.G * problem.G * m.CError) ** 2.0) / normK
                  EffectiveSampleSize = m.Ess; MinimumEffectiveSampleSize = m.Ess; Resamplings = 0; ProposalsPerUpdate = 0.0
                  Samples = cloud.Count; Seed = options.Seed; Step = 0.0; StepReductions = 0; SnisBias = m.SnisBias / normC; DriftZ = 0.0
                  RelaxationTime = 0.0; Warnings = []; StabilityMargin = nan; MeanActivity = stat s.[0]; TargetAlignment = stat s.[1]; HalfWindowCorrelation = stat s.[2] } }

    /// The stochastic-approximation relaxation (see the type's summary) from θ = (c0, k0) at γ = gammaStart.
    static member private Relax(problem: TiltedProblem, options: TiltedSolverOptions, c0: float[], k0: float[], gammaStart: float,
                                cloud: ParticleCloud, streamSeed: int64) : Result<TiltedSolution, SaddleFailure> =
        let n = problem.Points
        let nn = n * n
        let g2 = problem.G * problem.G
        let S = cloud.Count
        let ci = TiltedSolver.InputKernelArray problem
        let mutable c = Array.copy c0
        let mutable k = Array.copy k0
        let mutable gamma = gammaStart
        let mutable step = options.Step
        let mutable calm = 0
        let mutable reductions = 0
        let mutable resamplings = 0
        let mutable it = 0
        let mutable temperIts = 0
        let mutable phase = 0 // 0 tempering and relaxing, 1 averaging, 2 done
        let mutable atTarget = 0
        let mutable avgCount = 0
        let avgC = Array.zeroCreate nn
        let avgK = Array.zeroCreate nn
        let avgCHat = Array.zeroCreate nn
        let avgKHat = Array.zeroCreate nn
        let rows = Collections.Generic.List<float[]>() // per iteration: cRes, cFloor, kRes, kFloor, act, align, half
        let avgRows = Collections.Generic.List<float[]>()
        let essTrace = Collections.Generic.List<float>()
        let mutable proposals = 0.0
        let mutable sweepsDone = 0
        let mutable snisSum = 0.0
        let mutable stepSum = 0.0
        let mutable failure : string option = None
        let mutable snapshot = (Array.copy c, Array.copy k, gamma, Particles.copy cloud problem streamSeed)
        let mutable driftStart : (float[] * float[]) option = None
        let mutable targetRow = 0 // rows index where the target γ was reached
        let mutable relaxTau = 0.0
        let mutable lagWarning : string option = None
        let restore (why: string) =
            let sc, sk, sg, scloud = snapshot
            c <- Array.copy sc
            k <- Array.copy sk
            gamma <- sg
            Array.blit scloud.Fields 0 cloud.Fields 0 scloud.Fields.Length
            Array.blit scloud.X0 0 cloud.X0 0 scloud.X0.Length
            Array.blit scloud.X 0 cloud.X 0 scloud.X.Length
            Array.blit scloud.Phi 0 cloud.Phi 0 scloud.Phi.Length
            Array.blit scloud.LogWeight 0 cloud.LogWeight 0 S
            Array.blit scloud.BaseLog 0 cloud.BaseLog 0 S
            step <- step / 2.0
            reductions <- reductions + 1
            rows.Clear()
            atTarget <- 0
            driftStart <- None
            if step < options.MinStep then failure <- Some why
        // One iteration at the current θ and γ (tempering already applied).
        let iterate (t: TiltField) =
            // Exact reweighting to the current tilt; resampling when the ESS is low.
            Particles.commit t cloud
            let ess0 = Particles.ess cloud
            // A few particles carrying all the weight: resampling would collapse the cloud faster than sweeps restore it.
            if not (Double.IsFinite ess0) || ess0 < 0.05 * float S then restore "the importance weights degenerated (ESS below 5% of the particles)"
            else
                if ess0 < options.ResampleEss * float S then
                    Particles.resample cloud |> ignore
                    resamplings <- resamplings + 1
                // One elliptical-slice sweep (leaves the weighted law invariant), then the moments Ĥ(θ).
                proposals <- proposals + Particles.sweep t cloud options.SweepsPerIteration
                sweepsDone <- sweepsDone + 1
                let m = Particles.moments t cloud
                essTrace.Add m.Ess
                let normC = TiltedSolver.Frob c
                let normK = TiltedSolver.Frob k
                let dC = Array.map2 (-) m.C c
                let dK = Array.map2 (-) m.K k
                let cRes = TiltedSolver.Frob dC / normC
                let kRes = TiltedSolver.Frob dK / normK
                if not (Double.IsFinite cRes && Double.IsFinite kRes) then restore "non-finite moments"
                else
                    let summ = TiltedSolver.Summaries(problem, c)
                    // K̂ = Σ(C) + ΣM̂Σ moves with the iterate C through Σ = g²C + C^I: its floor includes g²·(C's noise).
                    let kFloor = Math.Sqrt(m.KError ** 2.0 + (g2 * m.CError) ** 2.0) / normK
                    let row = [| cRes; m.CError / normC; kRes; kFloor; summ.[0]; summ.[1]; summ.[2] |]
                    rows.Add row
                    // Step: data preconditioner, ESS trust region; decreasing steps while averaging.
                    let aMax = if phase = 1 then step / (1.0 + float avgCount / float (max 1 (options.AverageIterations / 4))) else step
                    let mutable a = aMax
                    let mutable accepted = None
                    let mutable tries = 0
                    while accepted.IsNone do
                        let pc = TiltedSolver.PreconditionData(dC, t.Alpha, problem.Targets, a * gamma * gamma, n)
                        let cNew = Array.init nn (fun i -> c.[i] + a * pc.[i])
                        let kNew = Array.init nn (fun i -> k.[i] + a * dK.[i])
                        let ok =
                            match TiltFields.derive problem ci cNew kNew gamma with
                            | None -> false
                            | Some tn -> Particles.conditionalEssOf cloud (Particles.candidateLogWeights tn cloud) >= options.TrustEss
                        if ok then accepted <- Some(cNew, kNew, a)
                        elif a / 2.0 < options.MinStep then accepted <- Some(c, k, 0.0)
                        else
                            a <- a / 2.0
                            tries <- tries + 1
                    let cNew, kNew, aUsed = accepted.Value
                    if phase = 0 then
                        if tries > 0 then
                            calm <- 0
                            step <- max options.MinStep (step * 0.7)
                        else
                            calm <- calm + 1
                            if calm >= 10 then step <- min options.Step (step * 1.25)
                        if aUsed = 0.0 && step <= options.MinStep * 1.0001 then failure <- Some "trust"
                    c <- cNew
                    k <- kNew
                    if it % 20 = 0 && phase = 0 then snapshot <- (Array.copy c, Array.copy k, gamma, Particles.copy cloud problem streamSeed)
                    if gamma >= problem.Gamma then
                        if phase = 0 then
                            atTarget <- atTarget + 1
                            if atTarget = 1 then
                                driftStart <- Some(Array.copy c, Array.copy k)
                                targetRow <- rows.Count - 1
                            let first = max options.MinIterations (2 * options.Window)
                            let due = atTarget >= first && (atTarget - first) % options.Window = 0
                            if due && rows.Count >= 2 * options.Window then
                                // Two consecutive windows: residuals at their floors in the last one, and the summaries'
                                // means of the two windows within DriftTolerance standard errors (a slow drift shows
                                // across windows far better than between the halves of one).
                                let win = [| for i in rows.Count - options.Window .. rows.Count - 1 -> rows.[i] |]
                                let mean j = win |> Array.averageBy (fun r -> r.[j])
                                let drift = TiltedSolver.DriftZ([| for i in rows.Count - 2 * options.Window .. rows.Count - 1 -> rows.[i].[4 ..] |])
                                if Environment.GetEnvironmentVariable "THEORY_DEBUG" = "1" then
                                    eprintfn "  check it=%d gamma=%g cRes %.4f floor %.4f kRes %.4f floor %.4f drift %.2f tau %.0f step %.3g ess %.0f act %.4f align %.3f half %.4f" it gamma (mean 0) (mean 1) (mean 2) (mean 3) drift (TiltedSolver.RelaxationTimeOf(rows.ToArray().[targetRow ..] |> Array.map (fun r -> r.[4 ..]))) step m.Ess (mean 4) (mean 5) (mean 6)
                                let tau = TiltedSolver.RelaxationTimeOf(rows.ToArray().[targetRow ..] |> Array.map (fun r -> r.[4 ..]))
                                let length = float (rows.Count - targetRow)
                                let residualsOk = mean 0 <= options.ResidualFactor * mean 1 && mean 2 <= options.ResidualFactor * mean 3
                                let relaxed = drift <= options.DriftTolerance && options.RelaxationFactor * tau <= length
                                if residualsOk && relaxed then
                                    relaxTau <- tau
                                    phase <- 1
                                elif residualsOk && atTarget >= options.MaxRelaxation then
                                    relaxTau <- tau
                                    lagWarning <-
                                        Some(sprintf "still relaxing after %d iterations at gamma = %g: relaxation time about %s iterations, drift %.1f s.e. between the last windows; the solution lags towards the previous gamma (increase MaxRelaxation)"
                                                 atTarget gamma (if Double.IsFinite tau then sprintf "%.0f" tau else "unbounded") drift)
                                    phase <- 1
                        elif phase = 1 then
                            avgCount <- avgCount + 1
                            for i in 0 .. nn - 1 do
                                avgC.[i] <- avgC.[i] + c.[i]
                                avgK.[i] <- avgK.[i] + k.[i]
                                avgCHat.[i] <- avgCHat.[i] + m.C.[i]
                                avgKHat.[i] <- avgKHat.[i] + m.K.[i]
                            snisSum <- snisSum + m.SnisBias / normC
                            stepSum <- stepSum + aUsed
                            avgRows.Add row
                            if avgCount >= options.AverageIterations then phase <- 2
        while phase < 2 && failure.IsNone do
            it <- it + 1
            if it > options.MaxIterations then failure <- Some "budget"
            else
                // Tempering: the largest γ increment that keeps the conditional ESS.
                if gamma < problem.Gamma then
                    temperIts <- temperIts + 1
                    match TiltFields.derive problem ci c k gamma with
                    | None -> ()
                    | Some t ->
                        let q = Particles.alignmentSquares t cloud
                        let target =
                            if Particles.conditionalEss cloud q gamma problem.Gamma >= options.TemperingEss then problem.Gamma
                            else
                                let mutable lo = gamma
                                let mutable hi = problem.Gamma
                                for _ in 1 .. 40 do
                                    let mid = 0.5 * (lo + hi)
                                    if Particles.conditionalEss cloud q gamma mid >= options.TemperingEss then lo <- mid else hi <- mid
                                max lo (gamma + 1e-6 * max 1.0 problem.Gamma)
                        gamma <- min problem.Gamma target
                match TiltFields.derive problem ci c k gamma with
                | None -> restore "the order parameter C or the field covariance lost positive definiteness"
                | Some t -> iterate t
        // Stability margin along the slow (drift) direction: Rayleigh quotient of the linearised map on common particles.
        let measureMargin () =
            match driftStart, TiltFields.derive problem ci c k gamma with
            | Some(c1, k1), Some _ ->
                let dc = Array.map2 (-) c c1
                let dk = Array.map2 (fun a b -> (a - b) / g2) k k1
                let nd = Math.Sqrt(TiltedSolver.Frob dc ** 2.0 + TiltedSolver.Frob dk ** 2.0)
                let floor = if rows.Count > 0 then rows.[rows.Count - 1].[1] * TiltedSolver.Frob c else 0.0
                if nd <= 3.0 * floor || nd = 0.0 then nan
                else
                    let eps = 0.05
                    let eval (s: float) =
                        let cc = Array.init nn (fun i -> c.[i] + s * eps * dc.[i])
                        let kk = Array.init nn (fun i -> k.[i] + s * eps * g2 * dk.[i])
                        match TiltFields.derive problem ci cc kk gamma with
                        | None -> None
                        | Some tn ->
                            let mm = Particles.momentsWith tn cloud (Particles.candidateLogWeights tn cloud)
                            Some(mm.C, mm.K)
                    match eval 1.0, eval -1.0 with
                    | Some(cp, kp), Some(cm, km) ->
                        let jd = Array.append (Array.init nn (fun i -> (cp.[i] - cm.[i]) / (2.0 * eps))) (Array.init nn (fun i -> (kp.[i] - km.[i]) / (2.0 * eps * g2)))
                        let d = Array.append dc dk
                        1.0 - (Array.map2 (*) jd d |> Array.sum) / (Array.map2 (*) d d |> Array.sum)
                    | _ -> nan
            | _ -> nan
        let failWith kind reason residual margin ess =
            Error { Kind = kind; Gamma = problem.Gamma; GammaReached = gamma; StabilityMargin = margin; EffectiveSampleSize = ess
                    Failure = { Solver = "TiltedSaddle"; Iterations = it; Residual = residual; Reason = reason } }
        match failure with
        | Some why ->
            let sc, sk, sg, _ = snapshot
            c <- sc
            k <- sk
            gamma <- min gamma sg
            let margin = try measureMargin () with _ -> nan
            let essNow = if essTrace.Count > 0 then essTrace.[essTrace.Count - 1] else nan
            let lastRes = if rows.Count > 0 then rows.[rows.Count - 1].[0] else nan
            let marginText = if Double.IsNaN margin then "unmeasured (no drift above noise)" else sprintf "%.3g" margin
            if why = "budget" then
                let all = rows.ToArray() |> Array.map (fun r -> r.[4 ..])
                let drift = TiltedSolver.DriftZ(all.[max 0 (all.Length - options.Window) ..])
                let kind = if Double.IsFinite margin && margin <= 0.05 then LossOfSolution else NotConverged
                failWith kind
                    (sprintf "not stationary after %d iterations at g = %g, gamma = %g (reached %.4g): summaries drift %.1f s.e. over the last window, residual %.3g; stability margin 1 - lambda along the drift %s%s"
                        options.MaxIterations problem.G problem.Gamma gamma drift lastRes marginText
                        (if kind = LossOfSolution then " (the continued solution is losing stability: loss of a real solution)" else "; more iterations or particles may help"))
                    lastRes margin essNow
            else
                let kind = if Double.IsFinite margin && margin <= 0.05 then LossOfSolution else NumericalInstability
                failWith kind
                    (sprintf "%s at g = %g, gamma = %g (reached %.4g): the trust region reduced the step below %g after %d reductions; ESS %.0f of %d; stability margin %s%s"
                        (if why = "trust" then "no step kept the reweighting ESS above the trust level" else why)
                        problem.G problem.Gamma gamma options.MinStep reductions essNow S marginText
                        (if kind = LossOfSolution then " (loss of a real solution)" else " (numerical instability: more particles or a smaller step may help)"))
                    lastRes margin essNow
        | None ->
            let margin = try measureMargin () with _ -> nan
            let fa = float avgCount
            let cm = avgC |> Array.map (fun v -> v / fa)
            let km = avgK |> Array.map (fun v -> v / fa)
            match TiltFields.derive problem ci cm km problem.Gamma with
            | None -> failWith NumericalInstability "the averaged order parameter is not positive definite" nan margin nan
            | Some ta ->
                let ar = avgRows.ToArray()
                let col j = ar |> Array.map (fun r -> r.[j])
                let winRows = rows.ToArray().[max 0 (rows.Count - options.Window) ..]
                let essArr = essTrace.ToArray()
                // Summaries at the averaged θ (no Jensen bias of the nonlinear summaries); standard errors of the series.
                let sm = TiltedSolver.Summaries(problem, cm)
                let atMean j (xs: float[]) = { TiltedSolver.SeriesStat xs with Mean = sm.[j] }
                Ok { Problem = problem; C = TiltedSolver.To2D(cm, n); K = TiltedSolver.To2D(km, n); Lambda = TiltedSolver.To2D(ta.Lambda, n)
                     CHat = TiltedSolver.To2D(avgCHat |> Array.map (fun v -> v / fa), n); KHat = TiltedSolver.To2D(avgKHat |> Array.map (fun v -> v / fa), n)
                     Samples = TiltedSolver.SamplesOf cloud
                     Diagnostics =
                        { Iterations = it; TemperingIterations = temperIts
                          CResidual = Array.average (col 0); CNoiseFloor = Array.average (col 1)
                          KResidual = Array.average (col 2); KNoiseFloor = Array.average (col 3)
                          EffectiveSampleSize = Array.average essArr; MinimumEffectiveSampleSize = Array.min essArr; Resamplings = resamplings
                          ProposalsPerUpdate = proposals / float (max 1 sweepsDone); Samples = S; Seed = options.Seed
                          Step = stepSum / fa; StepReductions = reductions; SnisBias = snisSum / fa
                          DriftZ = TiltedSolver.DriftZ(winRows |> Array.map (fun r -> r.[4 ..])); RelaxationTime = relaxTau
                          Warnings = (match lagWarning with Some w -> [ w ] | None -> []); StabilityMargin = margin
                          MeanActivity = atMean 0 (col 4); TargetAlignment = atMean 1 (col 5); HalfWindowCorrelation = atMean 2 (col 6) } }

    /// Monte Carlo estimate of the tilted moments (Ĉ, K̂) at a fixed θ = (C, K) and the problem's γ: fresh prior particles
    /// (S = options.Chains, seed options.Seed) tempered from Λ = 0 to Λ(θ, γ) with the conditional-ESS rule, `sweeps`
    /// sweeps at the end. Unbiased up to the O(1/ESS) self-normalisation bias (returned with the block standard errors):
    /// the check of the weighted-particle expectations against exact Gaussian conditioning (φ = identity).
    static member SampleMoments(problem: TiltedProblem, options: TiltedSolverOptions, c: float[,], k: float[,], sweeps: int) =
        TiltedSolver.Validate(problem, { options with Expectation = MonteCarlo })
        Validate.AtLeast("sweeps", sweeps, 0) |> ignore
        let n = problem.Points
        let nn = n * n
        let ci = TiltedSolver.InputKernelArray problem
        let flat2 (a: float[,]) = Array.init nn (fun i -> a.[i / n, i % n])
        let cf = flat2 c
        let kf = flat2 k
        match TiltFields.derive problem ci cf kf problem.Gamma with
        | None -> raise (ParameterOutOfDomainException("C", "not positive definite", "a positive-definite C and g^2 C + C^I"))
        | Some t ->
            let cloud = Particles.prior problem t.SigmaChol options.Chains options.Seed
            // temper the tilt β·Λ, β: 0 → 1 (the prior of s is already N(0, Σ)).
            let scaled (beta: float) = { t with Lambda = t.Lambda |> Array.map (fun v -> beta * v) }
            Particles.initialise (scaled 0.0) cloud
            let mutable beta = 0.0
            let mutable guard = 0
            while beta < 1.0 && guard < 10000 do
                guard <- guard + 1
                let cessAt (b: float) = Particles.conditionalEssOf cloud (Particles.candidateLogWeights (scaled b) cloud)
                let next =
                    if cessAt 1.0 >= options.TemperingEss then 1.0
                    else
                        let mutable lo = beta
                        let mutable hi = 1.0
                        for _ in 1 .. 30 do
                            let mid = 0.5 * (lo + hi)
                            if cessAt mid >= options.TemperingEss then lo <- mid else hi <- mid
                        max lo (beta + 1e-6)
                beta <- min 1.0 next
                let tb = scaled beta
                Particles.commit tb cloud
                if Particles.ess cloud < options.ResampleEss * float cloud.Count then Particles.resample cloud |> ignore
                Particles.sweep tb cloud options.SweepsPerIteration |> ignore
            if sweeps > 0 then Particles.sweep t cloud sweeps |> ignore
            let m = Particles.moments t cloud
            TiltedSolver.To2D(m.C, n), TiltedSolver.To2D(m.K, n), m.CError, m.KError, m.Ess, m.SnisBias

    /// Continuation in γ (note §6.4): solves at each γ of the ascending list, warm-starting θ and the particles from the
    /// previous solution (tempering bridges the γ step). Stops at the first failure.
    static member Continue(problemAt: Func<float, TiltedProblem>, gammas: float[], options: TiltedSolverOptions)
        : TiltedSolution list * SaddleFailure option =
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
                    | Some s -> TiltedSolver.Solve(p, options, s)
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
        | Error f -> raise (NotConvergedException f.Failure)

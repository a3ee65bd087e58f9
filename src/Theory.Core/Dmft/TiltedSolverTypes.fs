namespace Theory.Core.Dmft

open Theory.Core

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
      /// After this many consecutive stationarity checks whose residuals exceed ResidualFactor × their floors, the largest
      /// step (Step, to which the trust region grows back) is halved, once per such run of checks, down to MinStep; the
      /// solution says so in a warning. A residual that stays above its Monte Carlo floor while the iterate does not
      /// move is a part of the residual set by the step, not Monte Carlo noise: measured at S = 8000,
      /// (g, γ) = (1.5, 0.75), where cold solves at the default step sat at 3–4× the K floor for 6000 iterations (2 of 5
      /// seeds failed; S = 4000 sits near 3× and passes on the checks that dip below it) and a step of 0.15 converged them in ≈ 1100 iterations at 1.1×
      /// (docs/dmft-nonlinear.md, Known limitations). 0 disables it. Default 10 (800 iterations at the default Window;
      /// the 16 cold S = 4000 solves of stop 31 had at most 4 such checks in a row, so it leaves them as they were).
      ResidualStallChecks: int
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
      /// towards the previous γ, so it is reported, not hidden). Newton jumps end two windows before it, so the cap
      /// always gets the two windows of iterates after the last jump that its tests read. Default 1500.
      MaxRelaxation: int
      /// Slow-mode Newton jumps (docs/dmft-nonlinear.md, "Slow-mode Newton jumps"): at the target γ, over each window of
      /// this many iterations, θ̄ = mean θ_i and r̄ = mean (Ĥ(θ_i) − θ_i); GMRES solves (I − J)δ = r̄ with J·v = ∂H/∂θ·v
      /// by forward differences of the moments reweighted on the current particles (common random numbers, no sweeps),
      /// and θ moves to θ̄ + δ in pieces that keep the trust ESS. The jumps stop at the first window whose jump changes no
      /// summary by 3 standard errors, and at the latest two windows before MaxRelaxation; the stationarity and
      /// relaxation tests run on the iterates after the last jump, so the returned average is tested exactly as without
      /// jumps. Near the transition (1 − λ ≈ 0.02 along the slow mode
      /// at g = 2, γ = 0.8) the plain relaxation needs ≈ 450 iterations per e-fold. 0 turns them off. Default 40.
      NewtonWindow: int
      /// Relative residual ‖r̄ − (I − J)δ‖/‖r̄‖ at which the GMRES solve of a Newton jump stops (at most 40 Jacobian
      /// products, each ≈ half an iteration's cost). Default 0.01. A looser tolerance is not cheaper: the slow modes,
      /// which carry the jump, have small residual components, so GMRES meets 0.1 after 8–15 products before resolving
      /// them; the jump then looks insignificant, the jumps end at the first window, and the solve relaxes slowly into
      /// MaxRelaxation (16 cold solves: 1097–1659 iterations against 691–1657 at 0.01; docs/dmft-nonlinear.md, "Cost",
      /// "Stop 30").
      NewtonTolerance: float
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
          ResidualFactor = 3.0; ResidualStallChecks = 10; DriftTolerance = 4.0; RelaxationFactor = 5.0; MaxRelaxation = 1500; NewtonWindow = 40; NewtonTolerance = 0.01; ExactStep = 0.15; ExactDualStep = 0.5; ExactTolerance = 1e-9; ExactMaxIterations = 50000
          Seed = 1L; Expectation = MonteCarlo; ExactAtZero = true }
    /// The documented minimum number of particles (below it the block error estimates are meaningless).
    static member MinimumChains = 100
    /// A copy with another number of particles and seed (C# callers).
    member o.WithChains(chains: int, seed: int64) = { o with Chains = chains; Seed = seed }
    /// A copy with another Newton window (0 = no slow-mode Newton jumps; C# callers).
    member o.WithNewtonWindow(window: int) = { o with NewtonWindow = window }
    /// A copy with another GMRES tolerance of the Newton jumps (C# callers).
    member o.WithNewtonTolerance(tolerance: float) = { o with NewtonTolerance = tolerance }

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

/// Weighted power sums of the preactivation at the window's midpoint, x(t_{n/2}), accumulated over the averaging phase
/// of a Monte Carlo solve, per contiguous group of particles: the data of the iteration-averaged midpoint kurtosis
/// (SaddleReplicas.MidWindowKurtosis), which averages over the same iterations as the other summaries instead of reading
/// one snapshot of the final cloud.
type MidWindowMoments =
    { /// The grid index n/2 (t = (n/2)·Δt).
      Step: int
      /// Iterations accumulated (those of the averaging phase).
      Iterations: int
      /// Particles S.
      Particles: int
      /// Sums.[g] = [| Σ w; Σ w·x; Σ w·x²; Σ w·x³; Σ w·x⁴ |] over the averaged iterations and the particles of group g
      /// (x = x(t_{n/2}); w the importance weights, normalised to 1 over the cloud in each iteration).
      Sums: float[][] }
    /// Contiguous particle groups (particle i of S in group ⌊i·Groups/S⌋; systematic resampling keeps a particle's
    /// offspring next to it, so they mostly share its group and the group jackknife counts their correlation).
    static member Groups = 20

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
      /// Slow-mode Newton jumps taken at the target γ (TiltedSolverOptions.NewtonWindow).
      NewtonJumps: int
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
      HalfWindowCorrelation: WindowStat
      /// The midpoint preactivation's weighted power sums over the averaging phase (None where no averaging phase ran:
      /// exact Gaussian expectations, the exact window solution at γ = 0, a solve without particles).
      MidWindowMoments: MidWindowMoments option }

/// Equal-weight samples of the tilted single-site measure at a solution (one row per particle).
type TiltedSamples =
    { /// Trained field s = η + u on the grid (s_k drives x_k → x_{k+1}).
      Fields: float[][]
      /// x(0).
      InitialStates: float[]
      /// The per-neuron input weights U (one array of m = problem.InputWeights values per sample; empty when m = 0).
      InputWeights: float[][]
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

namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

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
/// term preconditioned implicitly and the step limited by a trust region on the reweighting ESS. At the target γ, every
/// NewtonWindow iterations a Newton jump along the slow modes solves (I − J)δ = r̄ (r̄ the window-mean residual, J·v
/// by reweighting the current particles, matrix-free GMRES) and moves θ to θ̄ + δ under the same trust region, until the
/// first jump within the noise; near the transition (1 − λ ≈ 0.02) this replaces hundreds of relaxation iterations,
/// and the stationarity and relaxation tests run on the iterates after the last jump. After stationarity
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
        Validate.AtLeast("residualStallChecks", options.ResidualStallChecks, 0) |> ignore
        Validate.Positive("driftTolerance", options.DriftTolerance) |> ignore
        Validate.NonNegative("relaxationFactor", options.RelaxationFactor) |> ignore
        Validate.AtLeast("maxRelaxation", options.MaxRelaxation, options.MinIterations) |> ignore
        if options.NewtonWindow <> 0 && options.NewtonWindow < 8 then
            raise (ParameterOutOfDomainException("newtonWindow", string options.NewtonWindow, "0 (no Newton jumps) or an integer >= 8"))
        Validate.InRange("newtonTolerance", options.NewtonTolerance, 1e-6, 0.9) |> ignore
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
            let s = TiltedStopping.Summaries(problem, cf)
            let stat v = { Mean = v; Sd = 0.0; StandardError = 0.0 }
            // K of the trained field: Σ + Σ M Σ is not formed on the exact path (it iterates K_η); report K_η.
            Ok { Problem = problem; C = c; K = kh; Lambda = l; CHat = ch; KHat = kh
                 Samples = { Fields = [||]; InitialStates = [||]; InputWeights = [||]; Paths = [||]; Rates = [||] }
                 Diagnostics =
                    { Iterations = it; TemperingIterations = 0; CResidual = res; CNoiseFloor = 0.0; KResidual = res; KNoiseFloor = 0.0
                      EffectiveSampleSize = infinity; MinimumEffectiveSampleSize = infinity; Resamplings = 0; ProposalsPerUpdate = 0.0
                      Samples = 0; Seed = options.Seed; Step = options.ExactStep; StepReductions = 0; SnisBias = 0.0; DriftZ = 0.0
                      RelaxationTime = 0.0; NewtonJumps = 0; Warnings = []; StabilityMargin = nan; MeanActivity = stat s.[0]; TargetAlignment = stat s.[1]; HalfWindowCorrelation = stat s.[2]; MidWindowMoments = None } }

    static member private SolveMonteCarlo(problem: TiltedProblem, options: TiltedSolverOptions, warm: TiltedSolution option) =
        let n = problem.Points
        let nn = n * n
        let g2 = problem.G * problem.G
        let ci = TiltedRelaxation.InputKernelArray problem
        let flat2 (a: float[,]) = Array.init nn (fun i -> a.[i / n, i % n])
        // Streams of this solve: the seed and the target γ (a continuation does not reuse the previous stage's draws).
        let streamSeed = options.Seed * 1000003L + int64 (Math.Round(problem.Gamma * 1e6))
        // Start: the exact γ = 0 window solution and exact prior particles, or the warm start.
        let c0, k0, cloud, gamma0 =
            match warm with
            | Some w when w.Samples.Count = options.Chains && w.Problem.Points = n ->
                flat2 w.C, flat2 w.K, TiltedRelaxation.CloudOf(problem, w.Samples, streamSeed), w.Problem.Gamma
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
            if options.ExactAtZero && problem.Gamma = 0.0 && warm.IsNone then TiltedRelaxation.ExactZero(problem, options, c0, k0, t0, cloud)
            else TiltedRelaxation.Relax(problem, options, c0, k0, gammaStart, cloud, streamSeed)
        | _ ->
            Error { Kind = NumericalInstability; Gamma = problem.Gamma; GammaReached = gammaStart; StabilityMargin = nan; EffectiveSampleSize = nan
                    Failure = { Solver = "TiltedSaddle"; Iterations = 0; Residual = nan; Reason = "the starting kernel is not positive definite" } }

    /// Monte Carlo estimate of the tilted moments (Ĉ, K̂) at a fixed θ = (C, K) and the problem's γ: fresh prior particles
    /// (S = options.Chains, seed options.Seed) tempered from Λ = 0 to Λ(θ, γ) with the conditional-ESS rule, `sweeps`
    /// sweeps at the end. Unbiased up to the O(1/ESS) self-normalisation bias (returned with the block standard errors):
    /// the check of the weighted-particle expectations against exact Gaussian conditioning (φ = identity).
    static member SampleMoments(problem: TiltedProblem, options: TiltedSolverOptions, c: float[,], k: float[,], sweeps: int) =
        TiltedSolver.Validate(problem, { options with Expectation = MonteCarlo })
        Validate.AtLeast("sweeps", sweeps, 0) |> ignore
        let n = problem.Points
        let nn = n * n
        let ci = TiltedRelaxation.InputKernelArray problem
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
            TiltedRelaxation.To2D(m.C, n), TiltedRelaxation.To2D(m.K, n), m.CError, m.KError, m.Ess, m.SnisBias

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

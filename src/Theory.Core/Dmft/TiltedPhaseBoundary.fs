namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Which criterion decides "ordered" at (g, γ) (docs/dmft-nonlinear.md, "γ⋆ criteria"; all reconstructed).
type GammaStarCriterion =
    /// Finite networks drawn from the exact finite-N posterior (<see cref="FinitePosterior"/>), annealed in γ and
    /// classified like the simulated networks; ordered iff at least half of the samplers' networks are on a limit
    /// cycle. Ensemble: posterior at N.
    | Posterior
    /// Finite networks realised from the N = ∞ saddle point (weights conditioned on tilted window paths) and
    /// classified; ordered iff at least half are on a limit cycle. Ensemble: realised from the DMFT at N.
    | RealisedNetworks
    /// N = ∞: the two-replica growth rate λ̂ of the DMFT extension (note §5b); ordered iff λ̂ ≤ LyapunovTolerance.
    /// Ensemble: dmft.
    | TwoReplica
    /// N = ∞: persistence of the free-running DMFT output y(t) = C(t, window)·α over the last period of the extension
    /// (note §5a); ordered iff it is at least PersistenceThreshold. Ensemble: dmft.
    | Persistence

/// The ensemble a γ⋆ belongs to: every γ⋆ the library reports carries one (issue: honest labels).
type GammaStarEnsemble =
    /// The N = ∞ theory (saddle point + two-replica or extension criterion).
    | Dmft
    /// Networks of N neurons drawn from the exact finite-N posterior.
    | PosteriorNetworks of Neurons: int
    /// Networks of N neurons realised from the N = ∞ saddle point.
    | RealisedFromDmft of Neurons: int
    /// Networks of N neurons trained by a protocol ("adam", "gd", "langevin") for Steps steps at LearningRate.
    | TrainedNetworks of Protocol: string * Neurons: int * Steps: int * LearningRate: float
    /// Networks of N neurons drawn from the same exact finite-N posterior in weight space by Metropolis-adjusted
    /// Hamiltonian Monte Carlo (WeightPosterior): Iterations per γ, LeapfrogSteps per trajectory, mean adapted StepSize.
    | WeightSpacePosterior of Neurons: int * Iterations: int * LeapfrogSteps: int * StepSize: float
    /// The N → ∞ extrapolation of a finite-N ensemble (Source: "posterior", ...), with the fitted form ("1/N", "1/sqrt(N)").
    | Extrapolated of Source: string * Form: string
    /// Short machine label: dmft, posterior, realised, adam/gd/langevin, hmc, posterior-extrapolated.
    member e.Kind =
        match e with
        | Dmft -> "dmft"
        | PosteriorNetworks _ -> "posterior"
        | RealisedFromDmft _ -> "realised"
        | TrainedNetworks(p, _, _, _) -> p
        | WeightSpacePosterior _ -> "hmc"
        | Extrapolated(s, _) -> s + "-extrapolated"
    /// N of the ensemble (None for N = ∞: dmft and extrapolations).
    member e.Neurons =
        match e with
        | Dmft | Extrapolated _ -> None
        | PosteriorNetworks n | RealisedFromDmft n -> Some n
        | TrainedNetworks(_, n, _, _) -> Some n
        | WeightSpacePosterior(n, _, _, _) -> Some n
    /// A label for figures and reports, e.g. "dmft (N = inf)", "posterior (N = 500)", "adam (N = 200, 300 steps, lr 0.05)".
    member e.Label =
        match e with
        | Dmft -> "dmft (N = inf)"
        | PosteriorNetworks n -> sprintf "posterior (N = %d)" n
        | RealisedFromDmft n -> sprintf "realised from dmft (N = %d)" n
        | TrainedNetworks(p, n, s, lr) -> sprintf "%s (N = %d, %d steps, lr %g)" p n s lr
        | WeightSpacePosterior(n, it, l, eps) -> sprintf "hmc weight-space posterior (N = %d, %d iterations x %d leapfrog, step %.3g)" n it l eps
        | Extrapolated(s, f) -> sprintf "%s extrapolated N -> inf (fit in %s)" s f

/// Options of the phase boundary γ⋆(g) (research note dmft-learned.md §5).
type PhaseBoundaryOptions =
    { /// The task and its reconstructed discretisation (T, Δt, x0 law, process noise).
      Task: SinusoidTask
      /// Saddle-point solver options (particles, steps, seed) for the N = ∞ criteria and realised networks.
      Solver: TiltedSolverOptions
      /// Extension and two-replica options.
      Chaos: ChaosOptions
      /// Continuation step in γ (note §6.4). Default 0.25.
      GammaStep: float
      /// Largest γ scanned before giving up with "no transition found". Default 3.
      GammaMax: float
      /// Bisection steps after bracketing. Default 2 (bracket 0.25/4).
      Bisections: int
      /// TwoReplica: ordered iff λ̂ ≤ this tolerance [reconstructed: a limit cycle has λ = 0 exactly (phase mode), so a
      /// strict "≤ 0" is ill-posed under Monte Carlo noise]. Default 0.01.
      LyapunovTolerance: float
      /// Persistence: ordered iff the output's rms over the last period of the extension is at least this fraction of
      /// the target's [reconstructed]. Default 0.5.
      PersistenceThreshold: float
      /// Independent seeds of the N = ∞ criteria (each a full continuation with its own particles, run concurrently):
      /// γ⋆ is their mean and its error their standard error (with the bracket). Default 3.
      Seeds: int
      /// The criterion. Default Posterior.
      Criterion: GammaStarCriterion
      /// Options of the realised networks (RealisedNetworks).
      Realisation: RealisationOptions
      /// Realised networks per γ (RealisedNetworks), or independent samplers (Posterior). Default 8.
      Realisations: int
      /// Options of the finite-N posterior sampler (Posterior).
      Posterior: FinitePosteriorOptions
      /// N = ∞ criteria (TwoReplica, Persistence): check γ⋆'s O(1/S) bias by Richardson extrapolation: the whole search
      /// (all seeds) is repeated with S/2 particles under the seeds Seed + SaddleBias.HalfSeedOffset + j, and each
      /// result carries the estimated bias and the bias-corrected γ⋆ (PhaseBoundaryResult.FiniteSampleBias). Costs half
      /// a search more. Default true (a Monte Carlo estimate reports its bias).
      BiasCheck: bool }
    /// Default options for the sinusoid task.
    static member Default =
        { Task = SinusoidTask.Default; Solver = TiltedSolverOptions.Default; Chaos = ChaosOptions.Default; GammaStep = 0.25
          GammaMax = 3.0; Bisections = 2; LyapunovTolerance = 0.01; PersistenceThreshold = 0.5; Seeds = 3; Criterion = Posterior
          Realisation = RealisationOptions.Default; Realisations = 8; Posterior = FinitePosteriorOptions.Default; BiasCheck = true }
    /// A copy with the finite-S bias check on or off (C# callers).
    member o.WithBiasCheck(check: bool) = { o with BiasCheck = check }
    /// A copy with another task, criterion, number of seeds and bisections (C# callers).
    member o.With(task: SinusoidTask, criterion: GammaStarCriterion, seeds: int, bisections: int) =
        { o with Task = task; Criterion = criterion; Seeds = seeds; Bisections = bisections }
    /// A copy with other solver and posterior options (C# callers).
    member o.WithSamplers(solver: TiltedSolverOptions, posterior: FinitePosteriorOptions) = { o with Solver = solver; Posterior = posterior }
    /// The ensemble the options' criterion describes.
    member o.Ensemble =
        match o.Criterion with
        | Posterior -> PosteriorNetworks o.Posterior.Neurons
        | RealisedNetworks -> RealisedFromDmft o.Realisation.Neurons
        | TwoReplica | Persistence -> Dmft

/// One evaluation of the chaos criterion at (g, γ).
type PhaseBoundaryPoint =
    { Gamma: float
      /// TwoReplica and Persistence: jackknife-corrected two-replica growth rate λ̂ of the extension; RealisedNetworks
      /// and Posterior: mean Benettin exponent of the networks.
      Lyapunov: float
      /// Its Monte Carlo standard error (jackknife; s.e. over the networks).
      LyapunovError: float
      /// TwoReplica and Persistence: the O(1/S) bias removed from λ̂ by the jackknife (NaN otherwise).
      LyapunovBias: float
      /// TwoReplica and Persistence: persistence of the free-running DMFT output (jackknife-corrected); the networks'
      /// mean rms output over the measured interval / rms y* otherwise.
      Persistence: float
      PersistenceError: float
      /// Fraction of the networks on a limit cycle and its binomial error (NaN for the N = ∞ criteria).
      OrderedFraction: float
      OrderedFractionError: float
      /// Solver iterations at this γ (Posterior: sweeps at this γ).
      Iterations: int
      /// N = ∞ criteria: 1 − λ of the linearised fixed-point map along the slow direction (NaN when unmeasured).
      StabilityMargin: float
      /// The seed of the evaluation (N = ∞ criteria: the continuation's seed).
      Seed: int64
      /// Posterior: how far the samplers were from relaxing at the end of the sweeps at this γ (the annealing lag,
      /// docs/dmft-nonlinear.md); unmeasured (NaN fields) at γ = 0 and for the other criteria.
      Relaxation: StageRelaxation }

/// The finite-S (particle-number) bias check of an N = ∞ γ⋆ (PhaseBoundaryOptions.BiasCheck).
type GammaStarBiasCheck =
    { /// γ⋆ at S and at S/2, the estimated bias of γ⋆(S) and the bias-corrected γ⋆ (Richardson, O(1/S) bias).
      Estimate: RichardsonEstimate
      /// The seeds of the S/2 search and its saddle-point iterations.
      HalfSeeds: int64 list
      HalfIterations: int }

/// γ⋆(g) with its uncertainty, its ensemble and the evaluations that located it.
type PhaseBoundaryResult =
    { G: float
      GammaStar: float
      /// Combined uncertainty. Networks: half the final bracket (uniform, /√3) and the Monte Carlo error of the score
      /// over its slope, in quadrature. N = ∞: the standard error over the independent seeds and the mean bracket
      /// error, in quadrature.
      GammaStarError: float
      /// The ensemble γ⋆ belongs to (dmft, posterior at N, realised at N).
      Ensemble: GammaStarEnsemble
      /// The criterion that located it.
      Criterion: GammaStarCriterion
      /// Per seed (N = ∞ criteria): (seed, γ⋆ of that seed's continuation, its bracket error); one entry otherwise.
      PerSeed: (int64 * float * float) list
      /// Total saddle-point iterations (or posterior sweeps) over all evaluations.
      Iterations: int
      /// Every evaluation, in the order made.
      Points: PhaseBoundaryPoint list
      /// The final bracket (chaotic, ordered) of the first seed.
      Bracket: float * float
      /// Non-fatal problems (a seed whose solve failed, networks ordered at γ = 0, annealing lag ...).
      Warnings: string list
      /// N = ∞ criteria with PhaseBoundaryOptions.BiasCheck: the Richardson check of γ⋆'s O(1/S) bias (None otherwise, or
      /// when the S/2 search located no γ⋆: a warning says why).
      FiniteSampleBias: GammaStarBiasCheck option }

/// γ⋆(g) of the learned-network theory (note §5): the γ where the trained networks turn from chaotic to a period-T
/// limit cycle past the window, located by bracketing on a γ grid and bisection, for each ensemble: the N = ∞ DMFT
/// (criteria TwoReplica, note §5b, and Persistence, §5a, on the saddle point of <see cref="TiltedSolver"/> and its
/// extension <see cref="TiltedChaos"/>; error bars from independent seeds), networks realised from the DMFT saddle
/// point (RealisedNetworks) and networks drawn from the exact finite-N posterior (Posterior, <see cref="FinitePosterior"/>).
/// Criteria and tolerances are reconstructed (the paper states none); see docs/dmft-nonlinear.md.
[<AbstractClass; Sealed>]
type TiltedPhaseBoundary private () =

    static member private Unmeasured = StageRelaxation.Unmeasured 0

    /// γ⋆ over independent seeds and its error: the mean of the per-seed γ⋆, with the error √(s²/n + b²/n) (s the
    /// sample standard deviation of the seeds, b the root mean square of their bracket errors; b alone for one seed).
    /// The rule of every N = ∞ γ⋆ (`Locate`); public so that results of several runs at the same options (other seeds)
    /// pool exactly as one run with all their seeds would (`dmft finite-size --from`).
    [<CompiledName("PoolSeeds")>]
    static member PoolSeeds(gammaStars: float[], bracketErrors: float[]) : float * float =
        if gammaStars.Length = 0 || gammaStars.Length <> bracketErrors.Length then
            raise (ParameterOutOfDomainException("gammaStars", sprintf "%d values, %d bracket errors" gammaStars.Length bracketErrors.Length, "at least one seed, one bracket error per seed"))
        Validate.AllFinite("gammaStars", gammaStars) |> ignore
        for e in bracketErrors do Validate.NonNegative("bracketErrors", e) |> ignore
        let mean = Array.average gammaStars
        let bracketErr = Math.Sqrt(bracketErrors |> Array.averageBy (fun e -> e * e))
        let seedErr =
            if gammaStars.Length > 1 then Math.Sqrt((gammaStars |> Array.sumBy (fun v -> (v - mean) ** 2.0)) / float (gammaStars.Length - 1) / float gammaStars.Length)
            else 0.0
        mean, (if gammaStars.Length > 1 then Math.Sqrt(seedErr * seedErr + bracketErr * bracketErr / float gammaStars.Length) else bracketErr)

    /// The criterion point of an ensemble of classified networks, with the work (iterations or sweeps) spent on it.
    static member PointOf(ens: RealisationEnsemble, iterations: int) : PhaseBoundaryPoint =
        { Gamma = ens.Gamma; Lyapunov = ens.MeanLyapunov; LyapunovError = ens.MeanLyapunovError; LyapunovBias = nan
          Persistence = ens.Results |> Array.averageBy (fun r -> r.Amplitude); PersistenceError = nan
          OrderedFraction = ens.OrderedFraction; OrderedFractionError = ens.OrderedFractionError; Iterations = iterations
          StabilityMargin = nan; Seed = 0L; Relaxation = TiltedPhaseBoundary.Unmeasured }

    /// The N = ∞ criterion point of a converged saddle point: its extension (two-replica λ̂ and persistence).
    static member PointOfDmft(solution: TiltedSolution, chaos: ChaosOptions) : PhaseBoundaryPoint =
        let x = TiltedChaos.Extend(solution, chaos)
        { Gamma = solution.Problem.Gamma; Lyapunov = x.Lyapunov; LyapunovError = x.LyapunovError; LyapunovBias = x.LyapunovBias
          Persistence = x.Persistence; PersistenceError = x.PersistenceError; OrderedFraction = nan; OrderedFractionError = nan
          Iterations = solution.Diagnostics.Iterations; StabilityMargin = solution.Diagnostics.StabilityMargin
          Seed = solution.Diagnostics.Seed; Relaxation = TiltedPhaseBoundary.Unmeasured }

    /// Evaluates the options' criterion on a converged solution (N = ∞ criteria: the extension; RealisedNetworks:
    /// networks realised from it).
    static member Evaluate(solution: TiltedSolution, options: PhaseBoundaryOptions) : PhaseBoundaryPoint =
        match options.Criterion with
        | TwoReplica | Persistence -> TiltedPhaseBoundary.PointOfDmft(solution, options.Chaos)
        | RealisedNetworks | Posterior ->
            { TiltedPhaseBoundary.PointOf(TiltedRealisation.Ensemble(solution, options.Realisation, options.Realisations),
                                          solution.Diagnostics.Iterations) with Seed = solution.Diagnostics.Seed }

    /// Signed distance from the ordered side under a criterion: ordered iff ≤ 0 (λ̂ − λ_tol, threshold − persistence,
    /// or ½ − f), with its standard error.
    static member ScoreBy(point: PhaseBoundaryPoint, criterion: GammaStarCriterion, options: PhaseBoundaryOptions) =
        match criterion with
        | TwoReplica -> point.Lyapunov - options.LyapunovTolerance, point.LyapunovError
        | Persistence -> options.PersistenceThreshold - point.Persistence, point.PersistenceError
        | RealisedNetworks | Posterior -> 0.5 - point.OrderedFraction, point.OrderedFractionError

    /// The score under the options' criterion.
    static member Score(point: PhaseBoundaryPoint, options: PhaseBoundaryOptions) =
        TiltedPhaseBoundary.ScoreBy(point, options.Criterion, options)

    /// γ⋆ in a bracket (a chaotic, b ordered) under a criterion: the score interpolated linearly to 0 (the midpoint if
    /// the scores do not decrease); error = half the bracket/√3 and the score's Monte Carlo error over `descent` =
    /// −dscore/dγ, in quadrature (the whole bracket when descent ≤ 0). For networks the binomial error of f = ½ with R
    /// realisations is the floor of the score's error (it is 0 at f ∈ {0, 1}).
    static member internal InterpolateBy(a: PhaseBoundaryPoint, b: PhaseBoundaryPoint, descent: float, criterion: GammaStarCriterion,
                                         options: PhaseBoundaryOptions) =
        let (fa, ea), (fb, eb) = TiltedPhaseBoundary.ScoreBy(a, criterion, options), TiltedPhaseBoundary.ScoreBy(b, criterion, options)
        let w = b.Gamma - a.Gamma
        let gs = if fa - fb > 0.0 then a.Gamma + w * fa / (fa - fb) else 0.5 * (a.Gamma + b.Gamma)
        let floorErr =
            match criterion with
            | RealisedNetworks | Posterior -> 0.5 / Math.Sqrt(float options.Realisations)
            | TwoReplica | Persistence -> 0.0
        let clean (v: float) = if Double.IsFinite v then v else 0.0
        let sigma = max floorErr (0.5 * (clean ea + clean eb))
        let mcErr = if descent > 0.0 then sigma / descent else w
        gs, Math.Sqrt((w / 2.0) ** 2.0 / 3.0 + mcErr * mcErr)

    static member internal Interpolate(a: PhaseBoundaryPoint, b: PhaseBoundaryPoint, descent: float, options: PhaseBoundaryOptions) =
        TiltedPhaseBoundary.InterpolateBy(a, b, descent, options.Criterion, options)

    /// γ⋆ from a scan: the first adjacent pair (ascending in γ) that goes from chaotic to ordered, interpolated with the
    /// pair's own slope (see Interpolate). None when the scan never changes side from chaotic to ordered.
    static member Crossing(points: PhaseBoundaryPoint list, options: PhaseBoundaryOptions) : (float * float) option =
        let score pt = fst (TiltedPhaseBoundary.Score(pt, options))
        points
        |> List.sortBy (fun p -> p.Gamma)
        |> List.pairwise
        |> List.tryFind (fun (a, b) -> score a > 0.0 && score b <= 0.0)
        |> Option.map (fun (a, b) -> TiltedPhaseBoundary.Interpolate(a, b, (score a - score b) / (b.Gamma - a.Gamma), options))

    /// Scans the options' criterion along an ascending γ grid by continuation of the N = ∞ saddle point (warm starts).
    /// Stops at the first solver failure and returns the points so far with it.
    static member Scan(g: float, gammas: float[], options: PhaseBoundaryOptions) : PhaseBoundaryPoint list * SaddleFailure option =
        Validate.Positive("g", g) |> ignore
        for gm in gammas do Validate.NonNegative("gamma", gm) |> ignore
        let sols, fail =
            TiltedSolver.Continue(Func<float, TiltedProblem>(fun gm -> TiltedProblems.Sinusoid(g, gm, options.Task)), gammas, options.Solver)
        (sols |> List.map (fun s -> TiltedPhaseBoundary.Evaluate(s, options))), fail

    /// Locates γ⋆(g) with the options' criterion. Errors: no transition up to GammaMax, no chaotic phase (ordered at
    /// γ = 0, or g ≤ 1), or (N = ∞ criteria) every seed's continuation failed before the criterion changed sign.
    static member Locate(g: float, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
        TiltedPhaseBoundary.Locate(g, options, null)

    /// Locate with an observer called with every evaluated point as soon as it is evaluated (scan and bisection, every
    /// seed, and the S/2 search of the finite-S bias check, whose seeds start at Solver.Seed + SaddleBias.HalfSeedOffset;
    /// from worker threads, so it must be thread-safe): per-γ progress of one g. null: no observer.
    static member Locate(g: float, options: PhaseBoundaryOptions, onPoint: Action<PhaseBoundaryPoint>) : Result<PhaseBoundaryResult, SolverFailure> =
        match options.Criterion with
        | Posterior -> TiltedPhaseBoundary.LocatePosterior(g, options, onPoint)
        | TwoReplica | Persistence | RealisedNetworks ->
            match TiltedPhaseBoundary.LocateSaddle(g, options, [ options.Criterion ], onPoint) with
            | Ok rs -> snd (List.head rs)
            | Error f -> Error f

    /// Both N = ∞ criteria (TwoReplica, Persistence) from the same continuations (one set of saddle points and
    /// extensions; separate bisections): one result per criterion, or an error when no continuation could start.
    static member LocateDmft(g: float, options: PhaseBoundaryOptions)
        : Result<(GammaStarCriterion * Result<PhaseBoundaryResult, SolverFailure>) list, SolverFailure> =
        TiltedPhaseBoundary.LocateSaddle(g, options, [ TwoReplica; Persistence ], null)

    /// LocateDmft with an observer of every evaluated point (see Locate's observer).
    static member LocateDmft(g: float, options: PhaseBoundaryOptions, onPoint: Action<PhaseBoundaryPoint>)
        : Result<(GammaStarCriterion * Result<PhaseBoundaryResult, SolverFailure>) list, SolverFailure> =
        TiltedPhaseBoundary.LocateSaddle(g, options, [ TwoReplica; Persistence ], onPoint)

    static member private ValidateSaddle(g: float, options: PhaseBoundaryOptions) =
        Validate.Positive("g", g) |> ignore
        Validate.InRange("gammaStep", options.GammaStep, 1e-3, 1.0) |> ignore
        Validate.Positive("gammaMax", options.GammaMax) |> ignore
        Validate.AtLeast("bisections", options.Bisections, 0) |> ignore
        Validate.AtLeast("seeds", options.Seeds, 1) |> ignore
        Validate.Finite("lyapunovTolerance", options.LyapunovTolerance) |> ignore
        Validate.InRange("persistenceThreshold", options.PersistenceThreshold, 0.0, 2.0) |> ignore
        Validate.AtLeast("realisations", options.Realisations, 1) |> ignore
        TiltedProblems.ValidateGrid(options.Task.Period, options.Task.Dt)
        if options.Criterion = RealisedNetworks then
            let n = int (Math.Floor(options.Task.Period / options.Task.Dt + 1e-9))
            Validate.AtLeast("neurons", options.Realisation.Neurons, 2 * n) |> ignore
            if options.Realisation.Neurons > options.Solver.Chains then
                raise (ParameterOutOfDomainException("neurons", string options.Realisation.Neurons,
                        sprintf "N <= samples (particles) = %d for realised networks" options.Solver.Chains))

    /// The saddle-point criteria: per seed a continuation scan on the γ grid until every criterion has crossed, then
    /// bisections per criterion warm-started from the lower bracket end; per criterion γ⋆ = mean over the seeds.
    static member private LocateSaddle(g: float, options: PhaseBoundaryOptions, criteria: GammaStarCriterion list, onPoint: Action<PhaseBoundaryPoint>)
        : Result<(GammaStarCriterion * Result<PhaseBoundaryResult, SolverFailure>) list, SolverFailure> =
        TiltedPhaseBoundary.ValidateSaddle(g, options)
        let nInfinity = criteria |> List.forall (fun c -> c = TwoReplica || c = Persistence)
        if options.BiasCheck && nInfinity then SaddleBias.RequireSamples options.Solver.Chains
        match TiltedPhaseBoundary.LocateSaddleAt(g, options, criteria, onPoint) with
        | Ok results when options.BiasCheck && nInfinity && results |> List.exists (fun (_, r) -> Result.isOk r) ->
            // Richardson partner: the same search at S/2 under its own seeds (docs/dmft-nonlinear.md, "Finite-S bias").
            let S = options.Solver.Chains
            let half = { options with Solver = { options.Solver with Chains = S / 2; Seed = options.Solver.Seed + SaddleBias.HalfSeedOffset } }
            let halfSeeds = List.init options.Seeds (fun j -> half.Solver.Seed + int64 j)
            let halfResults = TiltedPhaseBoundary.LocateSaddleAt(g, half, criteria, onPoint)
            Ok(results |> List.map (fun (crit, r) ->
                match r with
                | Error f -> crit, Error f
                | Ok r ->
                    let partner =
                        match halfResults with
                        | Error f -> Error f.Reason
                        | Ok hs ->
                            match List.find (fun (c, _) -> c = crit) hs |> snd with
                            | Error f -> Error f.Reason
                            | Ok h -> Ok h
                    match partner with
                    | Error why ->
                        crit, Ok { r with Warnings = r.Warnings @ [ sprintf "finite-S bias not estimated: the S/2 = %d search located no gamma* (%s)" (S / 2) why ] }
                    | Ok h ->
                        let est = RichardsonEstimate.Of(S, r.GammaStar, r.GammaStarError, S / 2, h.GammaStar, h.GammaStarError)
                        let resolved = Option.toList (est.ResolvedWarning "gamma*")
                        crit, Ok { r with FiniteSampleBias = Some { Estimate = est; HalfSeeds = halfSeeds; HalfIterations = h.Iterations }
                                          Warnings = r.Warnings @ resolved @ (h.Warnings |> List.map (sprintf "S/2 search: %s")) }))
        | other -> other

    /// One saddle-point search at the options' S (no bias check).
    static member private LocateSaddleAt(g: float, options: PhaseBoundaryOptions, criteria: GammaStarCriterion list, onPoint: Action<PhaseBoundaryPoint>)
        : Result<(GammaStarCriterion * Result<PhaseBoundaryResult, SolverFailure>) list, SolverFailure> =
        let problem0 = TiltedProblems.Sinusoid(g, 0.0, options.Task)
        if not (problem0.X0Variance > 0.0) then
            Error { Solver = "PhaseBoundary"; Iterations = 0; Residual = nan
                    Reason = sprintf "no chaotic phase at g = %g: the random network (gamma = 0) decays to x = 0 (Delta0(g) = 0 for g <= 1), so there is no transition to locate" g }
        else
        let grid = Array.init (int (Math.Floor(options.GammaMax / options.GammaStep + 1e-9)) + 1) (fun i -> float i * options.GammaStep)
        let problemAt gm = TiltedProblems.Sinusoid(g, gm, options.Task)
        let ordered crit (pt: PhaseBoundaryPoint) = fst (TiltedPhaseBoundary.ScoreBy(pt, crit, options)) <= 0.0
        // One seed: returns per criterion Ok(γ⋆, error, bracket) or Error reason; plus points, iterations, warnings.
        let runSeed (seed: int64) =
            let solver = { options.Solver with Seed = seed }
            let chaos = { options.Chaos with Seed = seed }
            let evalOpts = { options with Solver = solver; Chaos = chaos; Criterion = List.head criteria }
            let points = Collections.Generic.List<PhaseBoundaryPoint>()
            let warnings = Collections.Generic.List<string>()
            let mutable iterations = 0
            let solveFrom (prev: TiltedSolution option) (gm: float) =
                let r = match prev with None -> TiltedSolver.Solve(problemAt gm, solver) | Some s -> TiltedSolver.Solve(problemAt gm, solver, s)
                match r with
                | Ok s ->
                    iterations <- iterations + s.Diagnostics.Iterations
                    let pt = TiltedPhaseBoundary.Evaluate(s, evalOpts)
                    points.Add pt
                    if not (isNull onPoint) then onPoint.Invoke pt
                    Ok(s, pt)
                | Error f -> Error f
            // The criteria share the scan, and criteria with the same bracket ask for the same bisection midpoints from
            // the same warm start: a solve is a deterministic function of (start, γ) for a seed, so each is done once.
            let bisectionSolves = Collections.Generic.Dictionary<struct (float * float), Result<TiltedSolution * PhaseBoundaryPoint, SaddleFailure>>()
            let solveBisection (start: TiltedSolution) (gm: float) =
                let key = struct (start.Problem.Gamma, gm)
                match bisectionSolves.TryGetValue key with
                | true, r -> r
                | _ ->
                    let r = solveFrom (Some start) gm
                    bisectionSolves.[key] <- r
                    r
            // Coarse scan until every criterion has gone from chaotic to ordered (or the grid/solver ends).
            let sols = Collections.Generic.List<TiltedSolution * PhaseBoundaryPoint>()
            let mutable stop = None
            let mutable i = 0
            let crossed crit =
                sols |> Seq.pairwise |> Seq.exists (fun ((_, a), (_, b)) -> not (ordered crit a) && ordered crit b)
            while stop.IsNone && i < grid.Length do
                let prev = if sols.Count = 0 then None else Some(fst sols.[sols.Count - 1])
                match solveFrom prev grid.[i] with
                | Error f -> stop <- Some(sprintf "the saddle-point solver failed at gamma = %g (%A): %s" grid.[i] f.Kind f.Failure.Reason)
                | Ok(s, pt) ->
                    sols.Add((s, pt))
                    for w in s.Diagnostics.Warnings do warnings.Add(sprintf "seed %d: %s" seed w)
                    // A criterion already ordered at γ = 0 has no chaotic phase to leave; the others go on.
                    let live = criteria |> List.filter (fun c -> not (ordered c (snd sols.[0])))
                    if live.IsEmpty then
                        stop <- Some(sprintf "already ordered at gamma = 0 (lambda = %.3g, persistence = %.3g)" pt.Lyapunov pt.Persistence)
                    elif live |> List.forall crossed then stop <- Some ""
                i <- i + 1
            let perCrit =
                criteria |> List.map (fun crit ->
                    let pairs = sols |> Seq.pairwise |> Seq.tryFind (fun ((_, a), (_, b)) -> not (ordered crit a) && ordered crit b)
                    match pairs with
                    | None when sols.Count > 0 && ordered crit (snd sols.[0]) ->
                        let p0 = snd sols.[0]
                        crit, Error(sprintf "already ordered at gamma = 0 by this criterion (lambda = %.3g, persistence = %.3g): no chaotic phase it resolves" p0.Lyapunov p0.Persistence)
                    | None ->
                        let why =
                            match stop with
                            | Some s when s <> "" -> s
                            | _ -> sprintf "no transition up to gamma = %g" grid.[grid.Length - 1]
                        crit, Error why
                    | Some((sLo, pLo), (_, pHi)) ->
                        let score pt = fst (TiltedPhaseBoundary.ScoreBy(pt, crit, options))
                        let coarseSlope = (score pHi - score pLo) / (pHi.Gamma - pLo.Gamma)
                        let mutable lo = (sLo, pLo)
                        let mutable hi = pHi
                        let mutable err = None
                        for _ in 1 .. options.Bisections do
                            if err.IsNone then
                                let mid = 0.5 * ((snd lo).Gamma + hi.Gamma)
                                match solveBisection (fst lo) mid with
                                | Error f -> err <- Some f
                                | Ok(s, pt) -> if ordered crit pt then hi <- pt else lo <- (s, pt)
                        match err with
                        | Some f -> warnings.Add(sprintf "seed %d, %A: bisection stopped early (%A: %s); gamma* interpolated in the last valid bracket" seed crit f.Kind f.Failure.Reason)
                        | None -> ()
                        let pl = snd lo
                        let gs, e = TiltedPhaseBoundary.InterpolateBy(pl, hi, -coarseSlope, crit, options)
                        crit, Ok(gs, e, (pl.Gamma, hi.Gamma)))
            perCrit, List.ofSeq points, iterations, List.ofSeq warnings
        let seeds = Array.init options.Seeds (fun j -> options.Solver.Seed + int64 j)
        // The seeds are independent continuations (own streams; the particle blocks give the same bits on any thread
        // count), so they run concurrently: on 2 cores two one-core solves finish sooner than one two-core solve each.
        let runs = seeds |> Concurrent.map (fun s -> s, runSeed s)
        let allPoints = runs |> Array.toList |> List.collect (fun (_, (_, pts, _, _)) -> pts)
        let iterations = runs |> Array.sumBy (fun (_, (_, _, it, _)) -> it)
        let results =
            criteria |> List.map (fun crit ->
                let found =
                    runs |> Array.choose (fun (seed, (pc, _, _, _)) ->
                        match List.find (fun (c, _) -> c = crit) pc |> snd with
                        | Ok(gs, e, br) -> Some(seed, gs, e, br)
                        | Error _ -> None)
                let failures =
                    runs |> Array.choose (fun (seed, (pc, _, _, _)) ->
                        match List.find (fun (c, _) -> c = crit) pc |> snd with
                        | Error why -> Some(sprintf "seed %d: %s" seed why)
                        | Ok _ -> None)
                let warns = (runs |> Array.toList |> List.collect (fun (_, (_, _, _, w)) -> w)) @ (List.ofArray failures)
                if found.Length = 0 then
                    Error { Solver = "PhaseBoundary"; Iterations = iterations; Residual = nan
                            Reason = sprintf "%A at g = %g: no seed located gamma* (%s)" crit g (String.Join("; ", failures)) }
                else
                    // RealisedNetworks with one seed: the bracket error, which is PoolSeeds' one-seed rule too
                    let mean, error = TiltedPhaseBoundary.PoolSeeds(found |> Array.map (fun (_, v, _, _) -> v), found |> Array.map (fun (_, _, e, _) -> e))
                    let (_, _, _, br) = found.[0]
                    Ok { G = g; GammaStar = mean; GammaStarError = error
                         Ensemble = (match crit with RealisedNetworks -> RealisedFromDmft options.Realisation.Neurons | _ -> Dmft)
                         Criterion = crit; PerSeed = found |> Array.toList |> List.map (fun (s, v, e, _) -> s, v, e)
                         Iterations = iterations; Points = allPoints; Bracket = br; FiniteSampleBias = None
                         Warnings = (if found.Length < options.Seeds then [ sprintf "%d of %d seeds located gamma*" found.Length options.Seeds ] else []) @ warns })
        Ok(List.zip criteria results)

    /// The ordered fraction at one γ over the samplers' current states: each state is advanced options.Posterior.Sweeps
    /// sweeps at γ (none at γ = 0, where the start is exact), then realised and classified (replicate r = sampler r).
    static member private PosteriorPoint(states: FinitePosteriorState[], gamma: float, options: PhaseBoundaryOptions) =
        let results =
            Array.Parallel.init states.Length (fun r ->
                let st = states.[r]
                let trace, prop = if gamma = 0.0 then [||], 0.0 else FinitePosterior.Advance(st, gamma, options.Posterior.Sweeps)
                let sample = FinitePosterior.Snapshot(st, options.Posterior, gamma, trace, prop)
                trace, FinitePosterior.Realise(sample, { options.Realisation with Replicate = r }))
        let sweeps = if gamma = 0.0 then 0 else options.Posterior.Sweeps
        let point = TiltedPhaseBoundary.PointOf(TiltedRealisation.Summarise(gamma, Array.map snd results), sweeps)
        { point with Relaxation = if gamma = 0.0 then StageRelaxation.Unmeasured 0 else StageRelaxation.OfTraces(Array.map fst results) }

    /// γ⋆(g) from the exact finite-N posterior (criterion Posterior): R = options.Realisations independent samplers
    /// start from exact γ = 0 draws (random networks) and are annealed up the γ grid (GammaStep, options.Posterior.Sweeps
    /// sweeps per value); at every γ each sampler's network is realised and classified. The first grid pair that goes
    /// from chaotic (f &lt; ½) to ordered (f ≥ ½) is refined by options.Bisections bisection steps, each annealed from
    /// copies of the lower end's states; γ⋆ is interpolated in the final bracket (error as in Locate).
    static member private LocatePosterior(g: float, options: PhaseBoundaryOptions, onPoint: Action<PhaseBoundaryPoint>) : Result<PhaseBoundaryResult, SolverFailure> =
        match TiltedPhaseBoundary.NetworkScanStart(g, options) with
        | Error f -> Error f
        | Ok problem0 ->
            // Checked here, before the samplers start in parallel (an exception there would arrive wrapped).
            FinitePosterior.Validate(problem0, options.Posterior)
            TiltedPhaseBoundary.ScanPosterior(g, problem0, options, onPoint)

    /// The start of a γ scan over finite-N posterior networks (path space here, weight space in WeightPosteriorBoundary):
    /// the scan options checked (exit 2 on bad input) and the γ = 0 problem, or the failure "no chaotic phase" when the
    /// random network has none (g ≤ 1: Δ0(g) = 0).
    static member internal NetworkScanStart(g: float, options: PhaseBoundaryOptions) : Result<TiltedProblem, SolverFailure> =
        Validate.Positive("g", g) |> ignore
        Validate.InRange("gammaStep", options.GammaStep, 1e-3, 1.0) |> ignore
        Validate.Positive("gammaMax", options.GammaMax) |> ignore
        Validate.AtLeast("bisections", options.Bisections, 0) |> ignore
        Validate.AtLeast("realisations", options.Realisations, 1) |> ignore
        TiltedProblems.ValidateGrid(options.Task.Period, options.Task.Dt)
        let problem0 = TiltedProblems.Sinusoid(g, 0.0, options.Task)
        if not (problem0.X0Variance > 0.0) then
            Error { Solver = "PhaseBoundary"; Iterations = 0; Residual = nan
                    Reason = sprintf "no chaotic phase at g = %g: the random network (gamma = 0) decays to x = 0 (Delta0(g) = 0 for g <= 1), so there is no transition to locate" g }
        else Ok problem0

    static member private ScanPosterior(g: float, problem0: TiltedProblem, options: PhaseBoundaryOptions, onPoint: Action<PhaseBoundaryPoint>) : Result<PhaseBoundaryResult, SolverFailure> =
        let R = options.Realisations
        let seed = options.Posterior.Seed
        let states = Array.Parallel.init R (fun r -> FinitePosterior.Start(problem0, options.Posterior, int64 r))
        let points = Collections.Generic.List<PhaseBoundaryPoint>()
        let record (pt: PhaseBoundaryPoint) =
            points.Add pt
            if not (isNull onPoint) then onPoint.Invoke pt
        let ordered (pt: PhaseBoundaryPoint) = fst (TiltedPhaseBoundary.Score(pt, options)) <= 0.0
        let sweepsDone () = points |> Seq.sumBy (fun p -> p.Iterations)
        let fail reason =
            Error { Solver = "PhaseBoundary"; Iterations = sweepsDone (); Residual = nan; Reason = reason }
        let grid = Array.init (int (Math.Floor(options.GammaMax / options.GammaStep + 1e-9)) + 1) (fun i -> float i * options.GammaStep)
        let rec scan i (prev: (FinitePosteriorState[] * PhaseBoundaryPoint) option) =
            if i >= grid.Length then
                fail (sprintf "no transition found: fewer than half of %d posterior networks are ordered up to gamma = %g at g = %g" R grid.[grid.Length - 1] g)
            else
                let pt = TiltedPhaseBoundary.PosteriorPoint(states, grid.[i], options)
                record pt
                if ordered pt then
                    match prev with
                    | None -> fail (sprintf "%g of %d posterior networks are already ordered at gamma = 0 (g = %g): no chaotic phase" pt.OrderedFraction R g)
                    | Some(lo, plo) -> Ok(lo, plo, pt)
                else
                    // Copies of the states at this (chaotic) grid point: the bisection anneals from them.
                    let saved = states |> Array.mapi (fun r st -> FinitePosterior.Clone(st, seed, 32000L + 1000L * int64 i + int64 r))
                    scan (i + 1) (Some(saved, pt))
        match scan 0 None with
        | Error f -> Error f
        | Ok(loStates, pLo, pHi) ->
            let score pt = fst (TiltedPhaseBoundary.Score(pt, options))
            let coarseSlope = (score pHi - score pLo) / (pHi.Gamma - pLo.Gamma)
            let mutable lo = (loStates, pLo)
            let mutable hi = pHi
            for b in 1 .. options.Bisections do
                let mid = 0.5 * ((snd lo).Gamma + hi.Gamma)
                let branch = fst lo |> Array.mapi (fun r st -> FinitePosterior.Clone(st, seed, 40000L + 1000L * int64 b + int64 r))
                let pt = TiltedPhaseBoundary.PosteriorPoint(branch, mid, options)
                record pt
                if ordered pt then hi <- pt else lo <- (branch, pt)
            let pl = snd lo
            let gs, e = TiltedPhaseBoundary.Interpolate(pl, hi, -coarseSlope, options)
            // Weak chaos (g near 1): some random networks of this size are already ordered at γ = 0, so the crossing
            // mixes the learned transition with finite-size attractors.
            let p0 = points.[0]
            let orderedAtZero =
                if p0.OrderedFraction > 0.0 then
                    [ sprintf "%g of the %d networks are already ordered at gamma = 0 (weak chaos at g = %g, finite N = %d): gamma* mixes the learned transition with finite-size attractors; use larger N"
                          p0.OrderedFraction R g options.Posterior.Neurons ]
                else []
            // Annealing lag at the ends of the coarse (grid) bracket: lagging states are too chaotic, so γ⋆ comes out
            // high. The bisection points inherit the lower grid point's lag; their own short γ step is not the grid
            // anneal the steady-state lag describes, and their relaxation estimate is noisy (little moves).
            let lagging = [ pLo; pHi ] |> List.choose (fun pt -> TiltedPhaseBoundary.LagWarning(pt, options.GammaStep, e))
            let warnings = orderedAtZero @ lagging
            Ok { G = g; GammaStar = gs; GammaStarError = e; Ensemble = PosteriorNetworks options.Posterior.Neurons; Criterion = Posterior
                 PerSeed = [ (options.Posterior.Seed, gs, e) ]; Iterations = sweepsDone (); Points = List.ofSeq points
                 Bracket = (pl.Gamma, hi.Gamma); Warnings = warnings; FiniteSampleBias = None }

    /// The annealing-lag warning for one point (Posterior; see Lagging), or None: tolerance = γ⋆'s error.
    static member internal LagWarning(pt: PhaseBoundaryPoint, gammaStep: float, error: float) : string option =
        let rx = pt.Relaxation
        if TiltedPhaseBoundary.Lagging(rx, gammaStep, error) then
            let tau, advice =
                if Double.IsFinite rx.RelaxationTime then
                    sprintf "relaxation time about %.0f sweeps against %d per gamma value, a steady-state lag of order %s in gamma at step %g, more than gamma*'s error %.2f"
                        rx.RelaxationTime rx.Sweeps
                        (let l = rx.SteadyStateLag gammaStep in if l > 1.0 then "more than 1 (the estimate is noisy near linear drift)" else sprintf "%.2f" l)
                        gammaStep error,
                    sprintf "at least %d (about three relaxation times, at most 4x per try)"
                        (min (4 * rx.Sweeps) (max (2 * rx.Sweeps) (50 * int (Math.Ceiling(3.0 * rx.RelaxationTime / 50.0)))))
                else
                    sprintf "relaxation time much longer than the %d sweeps per gamma value: the summaries drift linearly" rx.Sweeps,
                    sprintf "at least %d" (2 * rx.Sweeps)
            Some(sprintf "the samplers were still relaxing at gamma = %.4g (late drift %.1f s.e.; %s): gamma* may be biased upward by up to that lag; rerun with --sweeps %s and compare before citing"
                     pt.Gamma rx.DriftZ tau advice)
        else None

    /// The annealing-lag rule of the Posterior warnings, applied at the ends of the coarse (grid) bracket with
    /// tolerance = γ⋆'s error: the late drift is significant (DriftZ ≥ 3) and the steady-state lag implied by the
    /// relaxation time at this γ step exceeds the tolerance, i.e. the lag could move γ⋆ by more than its stated error
    /// [reconstructed rule; the single-exponential lag is a model, docs/dmft-nonlinear.md, "Annealing lag"].
    static member Lagging(rx: StageRelaxation, gammaStep: float, tolerance: float) =
        rx.DriftZ >= 3.0 && rx.SteadyStateLag gammaStep > tolerance

    /// γ⋆ at every g of a curve: Locate for each g, the g values concurrently (each g's samplers or chains are
    /// parallel too, so a machine with more cores than samplers is filled). Results come back in the order of gs and
    /// each equals Locate(g) alone (every random stream is seeded per g and sampler). Errors as Locate: a failed g is
    /// an Error in its slot; bad input raises as Locate does (the first such exception, unwrapped).
    static member Curve(gs: float[], options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure>[] =
        if isNull gs || gs.Length = 0 then raise (ParameterOutOfDomainException("gs", "[]", "at least one g"))
        gs |> Concurrent.map (fun g -> TiltedPhaseBoundary.Locate(g, options))

    /// Throwing variant (NotConvergedException on failure).
    static member LocateOrThrow(g: float, options: PhaseBoundaryOptions) =
        match TiltedPhaseBoundary.Locate(g, options) with
        | Ok r -> r
        | Error f -> raise (NotConvergedException f)

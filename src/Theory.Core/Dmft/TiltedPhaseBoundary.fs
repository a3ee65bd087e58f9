namespace Theory.Core.Dmft

open System
open Theory.Core

/// Which DMFT criterion decides "ordered" at (g, γ) (docs/dmft-nonlinear.md, "γ⋆ criteria"; all reconstructed).
type GammaStarCriterion =
    /// Networks drawn from the exact finite-N posterior (<see cref="FinitePosterior"/>, no saddle-point solve), annealed
    /// in γ and classified like the simulated networks; ordered iff at least half of the independent samplers' networks
    /// are on a limit cycle. Works at every γ (the saddle-point solver fails near γ ≈ 1.5–2).
    | Posterior
    /// Finite networks realised from the saddle point (weights drawn from the prior conditioned on the tilted window
    /// paths) and classified like the simulated networks; ordered iff at least half are on a limit cycle.
    | RealisedNetworks
    /// Two-replica growth rate λ̂ of the sample-based extension (note §5b); ordered iff λ̂ ≤ LyapunovTolerance.
    /// Biased: it does not detect the limit cycles that realised networks show (docs/dmft-nonlinear.md).
    | TwoReplica

/// Options of the DMFT phase boundary γ⋆(g) (research note dmft-learned.md §5).
type PhaseBoundaryOptions =
    { /// The task and its reconstructed discretisation (T, Δt, x0 law).
      Task: SinusoidTask
      /// Saddle-point solver options (sample size, steps, seed).
      Solver: TiltedSolverOptions
      /// Extension and two-replica options.
      Chaos: ChaosOptions
      /// Continuation step in γ (note §6.4: ≤ 0.25). Default 0.25.
      GammaStep: float
      /// Largest γ scanned before giving up with "no transition found". Default 3.
      GammaMax: float
      /// Bisection steps after bracketing. Default 3 (bracket 0.25/8 ≈ 0.03).
      Bisections: int
      /// Ordered iff the two-replica growth rate λ̂ ≤ this tolerance [reconstructed: a limit cycle has λ = 0 exactly
      /// (phase mode), so a strict "≤ 0" is ill-posed under Monte Carlo noise]. Default 0.01.
      LyapunovTolerance: float
      /// Independent extension replicates (fresh field draws and perturbations) averaged per γ (TwoReplica). Default 2.
      Replicates: int
      /// The criterion. Default Posterior.
      Criterion: GammaStarCriterion
      /// Options of the realised networks (RealisedNetworks).
      Realisation: RealisationOptions
      /// Realised networks per γ (RealisedNetworks), or independent samplers (Posterior). Default 8.
      Realisations: int
      /// Options of the finite-N posterior sampler (Posterior).
      Posterior: FinitePosteriorOptions }
    /// Default options for the sinusoid task.
    static member Default =
        { Task = SinusoidTask.Default; Solver = TiltedSolverOptions.Default; Chaos = ChaosOptions.Default; GammaStep = 0.25
          GammaMax = 3.0; Bisections = 3; LyapunovTolerance = 0.01; Replicates = 2; Criterion = Posterior
          Realisation = RealisationOptions.Default; Realisations = 8; Posterior = FinitePosteriorOptions.Default }

/// One evaluation of the chaos criterion at (g, γ).
type PhaseBoundaryPoint =
    { Gamma: float
      /// TwoReplica: mean two-replica growth rate λ̂ over the replicates; RealisedNetworks and Posterior: mean Benettin
      /// exponent of the networks.
      Lyapunov: float
      /// Its Monte Carlo standard error (s.d. over replicates / √R; fit error when R = 1).
      LyapunovError: float
      /// TwoReplica: persistence of the free-running output (criterion (a), reported only); RealisedNetworks and
      /// Posterior: mean rms of the networks' output over the measured interval / rms y*.
      Persistence: float
      /// Fraction of the networks on a limit cycle and its binomial error (NaN for TwoReplica).
      OrderedFraction: float
      OrderedFractionError: float
      /// Solver iterations at this γ (Posterior: sweeps at this γ).
      Iterations: int
      /// Posterior: how far the samplers were from relaxing at the end of the sweeps at this γ (the annealing lag,
      /// docs/dmft-nonlinear.md); unmeasured (NaN fields) at γ = 0 and for the saddle-point criteria.
      Relaxation: StageRelaxation }

/// γ⋆(g) with its uncertainty and the evaluations that located it.
type PhaseBoundaryResult =
    { G: float
      GammaStar: float
      /// Combined uncertainty: half the final bracket (uniform, /√3) and the Monte Carlo error of the criterion's score
      /// (λ̂, or the ordered fraction with the binomial error of f = ½ as its floor) divided by the score's slope across
      /// the coarse bracket, added in quadrature.
      GammaStarError: float
      /// Total saddle-point iterations over the continuation and the bisection.
      Iterations: int
      /// Every evaluation, in the order made.
      Points: PhaseBoundaryPoint list
      /// The final bracket (chaotic, ordered).
      Bracket: float * float
      /// Non-fatal problems (e.g. a solver failure during bisection, which leaves the previous bracket in use; with the
      /// Posterior criterion, networks already ordered at γ = 0: weak finite-size chaos near g = 1).
      Warnings: string list }

/// γ⋆(g) of the learned-network theory (note §5): the γ where networks of the ensemble the DMFT describes turn from
/// chaotic to a period-T limit cycle past the window, located by bracketing on a γ grid and bisection. Default criterion
/// Posterior: networks drawn from the exact finite-N posterior (<see cref="FinitePosterior"/>) annealed in γ. The
/// saddle-point criteria (RealisedNetworks; TwoReplica: γ⋆ = inf{γ : λ̂(γ) ≤ λ_tol}, note §5b, §6.5) continue the Monte
/// Carlo saddle point in γ. Criteria and tolerances are reconstructed (the paper states none); see docs/dmft-nonlinear.md.
[<AbstractClass; Sealed>]
type TiltedPhaseBoundary private () =

    /// Evaluates the options' criterion on a converged solution.
    static member Evaluate(solution: TiltedSolution, options: PhaseBoundaryOptions) : PhaseBoundaryPoint =
        match options.Criterion with
        | TwoReplica -> TiltedPhaseBoundary.EvaluateTwoReplica(solution, options)
        | RealisedNetworks | Posterior ->
            TiltedPhaseBoundary.PointOf(solution, TiltedRealisation.Ensemble(solution, options.Realisation, options.Realisations))

    /// The criterion point of a realised-network ensemble of a solution.
    static member PointOf(solution: TiltedSolution, ens: RealisationEnsemble) : PhaseBoundaryPoint =
        TiltedPhaseBoundary.PointOf(ens, solution.Diagnostics.Iterations)

    /// The criterion point of an ensemble of classified networks, with the work (iterations or sweeps) spent on it.
    static member PointOf(ens: RealisationEnsemble, iterations: int) : PhaseBoundaryPoint =
        { Gamma = ens.Gamma; Lyapunov = ens.MeanLyapunov; LyapunovError = ens.MeanLyapunovError
          Persistence = ens.Results |> Array.averageBy (fun r -> r.Amplitude); OrderedFraction = ens.OrderedFraction
          OrderedFractionError = ens.OrderedFractionError; Iterations = iterations; Relaxation = StageRelaxation.Unmeasured 0 }

    /// Signed distance from the ordered side: ordered iff ≤ 0 (λ̂ − λ_tol, or ½ − f), with its standard error.
    static member Score(point: PhaseBoundaryPoint, options: PhaseBoundaryOptions) =
        match options.Criterion with
        | TwoReplica -> point.Lyapunov - options.LyapunovTolerance, point.LyapunovError
        | RealisedNetworks | Posterior -> 0.5 - point.OrderedFraction, point.OrderedFractionError

    /// γ⋆ in a bracket (a chaotic, b ordered): the score interpolated linearly to 0 (the midpoint if the scores do
    /// not decrease); error = half the bracket/√3 and the score's Monte Carlo error over `descent` = −dscore/dγ, in
    /// quadrature (the whole bracket when descent ≤ 0). The binomial error of f is 0 at f ∈ {0, 1}, so for realised
    /// networks the error of f = ½ with R realisations is the floor.
    static member internal Interpolate(a: PhaseBoundaryPoint, b: PhaseBoundaryPoint, descent: float, options: PhaseBoundaryOptions) =
        let (fa, ea), (fb, eb) = TiltedPhaseBoundary.Score(a, options), TiltedPhaseBoundary.Score(b, options)
        let w = b.Gamma - a.Gamma
        let gs = if fa - fb > 0.0 then a.Gamma + w * fa / (fa - fb) else 0.5 * (a.Gamma + b.Gamma)
        let floorErr =
            match options.Criterion with
            | RealisedNetworks | Posterior -> 0.5 / Math.Sqrt(float options.Realisations)
            | TwoReplica -> 0.0
        let sigma = max floorErr (0.5 * (ea + eb))
        let mcErr = if descent > 0.0 then sigma / descent else w
        gs, Math.Sqrt((w / 2.0) ** 2.0 / 3.0 + mcErr * mcErr)

    /// γ⋆ from a scan: the first adjacent pair (ascending in γ) that goes from chaotic to ordered, interpolated with the
    /// pair's own slope (see Interpolate). None when the scan never changes side from chaotic to ordered.
    static member Crossing(points: PhaseBoundaryPoint list, options: PhaseBoundaryOptions) : (float * float) option =
        let score pt = fst (TiltedPhaseBoundary.Score(pt, options))
        points
        |> List.sortBy (fun p -> p.Gamma)
        |> List.pairwise
        |> List.tryFind (fun (a, b) -> score a > 0.0 && score b <= 0.0)
        |> Option.map (fun (a, b) -> TiltedPhaseBoundary.Interpolate(a, b, (score a - score b) / (b.Gamma - a.Gamma), options))

    /// The two-replica criterion (R replicate extensions).
    static member EvaluateTwoReplica(solution: TiltedSolution, options: PhaseBoundaryOptions) : PhaseBoundaryPoint =
        let r = max 1 options.Replicates
        let runs =
            [ for i in 0 .. r - 1 ->
                TiltedChaos.Extend(solution, { options.Chaos with Seed = options.Chaos.Seed + int64 (7919 * i) }) ]
        let ls = runs |> List.map (fun x -> x.Lyapunov)
        let mu = List.average ls
        let err =
            if r = 1 then runs.Head.LyapunovFitError
            else Math.Sqrt((ls |> List.sumBy (fun v -> (v - mu) ** 2.0)) / float (r - 1) / float r)
        { Gamma = solution.Problem.Gamma; Lyapunov = mu; LyapunovError = err
          Persistence = runs |> List.averageBy (fun x -> x.Persistence); OrderedFraction = nan; OrderedFractionError = nan
          Iterations = solution.Diagnostics.Iterations; Relaxation = StageRelaxation.Unmeasured 0 }

    /// Scans the criterion along an ascending γ grid by continuation (warm starts). Stops at the first solver failure
    /// and returns the points so far with it.
    static member Scan(g: float, gammas: float[], options: PhaseBoundaryOptions) : PhaseBoundaryPoint list * SolverFailure option =
        Validate.Positive("g", g) |> ignore
        for gm in gammas do Validate.NonNegative("gamma", gm) |> ignore
        let sols, fail =
            TiltedSolver.Continue(Func<float, TiltedProblem>(fun gm -> TiltedProblems.Sinusoid(g, gm, options.Task)), gammas, options.Solver)
        (sols |> List.map (fun s -> TiltedPhaseBoundary.Evaluate(s, options))), fail

    /// Locates γ⋆(g) with the options' criterion (Posterior: see LocatePosterior). Errors: no transition up to GammaMax,
    /// no chaotic phase (ordered at γ = 0, or g ≤ 1 for Posterior), or the saddle-point solver failed before the
    /// criterion changed sign (saddle-point criteria).
    static member Locate(g: float, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
        if options.Criterion = Posterior then TiltedPhaseBoundary.LocatePosterior(g, options)
        else TiltedPhaseBoundary.LocateSaddle(g, options)

    /// The saddle-point criteria: continuation scan, bracketing and bisection on the solver's solutions.
    static member private LocateSaddle(g: float, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
        Validate.Positive("g", g) |> ignore
        Validate.InRange("gammaStep", options.GammaStep, 1e-3, 1.0) |> ignore
        Validate.Positive("gammaMax", options.GammaMax) |> ignore
        Validate.AtLeast("bisections", options.Bisections, 0) |> ignore
        Validate.Finite("lyapunovTolerance", options.LyapunovTolerance) |> ignore
        Validate.AtLeast("realisations", options.Realisations, 1) |> ignore
        TiltedProblems.ValidateGrid(options.Task.Period, options.Task.Dt)
        // Realised networks: 2n ≤ N ≤ chains, checked before any solve (TiltedRealisation.Run checks the same).
        if options.Criterion = RealisedNetworks then
            let n = int (Math.Floor(options.Task.Period / options.Task.Dt + 1e-9))
            Validate.AtLeast("neurons", options.Realisation.Neurons, 2 * n) |> ignore
            if options.Realisation.Neurons > options.Solver.Chains then
                raise (ParameterOutOfDomainException("neurons", string options.Realisation.Neurons,
                        sprintf "N <= samples (chains) = %d for realised networks" options.Solver.Chains))
        let problemAt gm = TiltedProblems.Sinusoid(g, gm, options.Task)
        let points = Collections.Generic.List<PhaseBoundaryPoint>()
        let mutable iterations = 0
        let solveFrom (prev: TiltedSolution option) (gm: float) =
            let p = problemAt gm
            let r =
                match prev with
                | None -> TiltedSolver.Solve(p, options.Solver)
                | Some s -> TiltedSolver.Solve(p, options.Solver, s.C, s.Lambda, s.Chains)
            match r with
            | Ok s ->
                iterations <- iterations + s.Diagnostics.Iterations
                let pt = TiltedPhaseBoundary.Evaluate(s, options)
                points.Add pt
                Ok(s, pt)
            | Error f -> Error f
        let ordered (pt: PhaseBoundaryPoint) = fst (TiltedPhaseBoundary.Score(pt, options)) <= 0.0
        let describe (pt: PhaseBoundaryPoint) =
            match options.Criterion with
            | TwoReplica -> sprintf "lambda = %g, tolerance %g" pt.Lyapunov options.LyapunovTolerance
            | RealisedNetworks | Posterior -> sprintf "ordered fraction %g of %d realised networks" pt.OrderedFraction options.Realisations
        let fail reason f =
            Error { Solver = "PhaseBoundary"; Iterations = iterations; Residual = (match f with Some(x: SolverFailure) -> x.Residual | None -> nan)
                    Reason = reason }
        // Coarse scan by continuation.
        let grid = Array.init (int (Math.Floor(options.GammaMax / options.GammaStep + 1e-9)) + 1) (fun i -> float i * options.GammaStep)
        let rec scan i (prev: (TiltedSolution * PhaseBoundaryPoint) option) =
            if i >= grid.Length then
                fail (sprintf "no transition found: the criterion stays chaotic up to gamma = %g at g = %g" grid.[grid.Length - 1] g) None
            else
                match solveFrom (prev |> Option.map fst) grid.[i] with
                | Error f ->
                    fail (sprintf "the saddle-point solver failed at gamma = %g (g = %g) before the criterion changed sign: %s" grid.[i] g f.Reason) (Some f)
                | Ok(s, pt) ->
                    if ordered pt then
                        match prev with
                        | None -> fail (sprintf "the criterion is already ordered at gamma = 0 (%s) at g = %g: no chaotic phase" (describe pt) g) None
                        | Some(ps, ppt) -> Ok(ps, ppt, s, pt)
                    else scan (i + 1) (Some(s, pt))
        match scan 0 None with
        | Error f -> Error f
        | Ok(sLo, pLo, _, pHi) ->
            let score pt = fst (TiltedPhaseBoundary.Score(pt, options))
            let coarseSlope = (score pHi - score pLo) / (pHi.Gamma - pLo.Gamma)
            let mutable lo = (sLo, pLo)
            let mutable hi = pHi
            let mutable err = None
            for _ in 1 .. options.Bisections do
                if err.IsNone then
                    let mid = 0.5 * ((snd lo).Gamma + hi.Gamma)
                    match solveFrom (Some(fst lo)) mid with
                    | Error f -> err <- Some f
                    | Ok(s, pt) -> if ordered pt then hi <- pt else lo <- (s, pt)
            // A solver failure during bisection does not invalidate the bracket found so far: keep it (wider error).
            let warnings =
                match err with
                | Some f -> [ sprintf "bisection stopped early: the saddle-point solver failed inside the bracket (%s); gamma* is interpolated in the last valid bracket" f.Reason ]
                | None -> []
            // The error uses the coarse slope (the bisection pair's own slope is dominated by noise).
            let pl = snd lo
            let gs, e = TiltedPhaseBoundary.Interpolate(pl, hi, -coarseSlope, options)
            Ok { G = g; GammaStar = gs; GammaStarError = e; Iterations = iterations; Points = List.ofSeq points
                 Bracket = (pl.Gamma, hi.Gamma); Warnings = warnings }

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
    static member private LocatePosterior(g: float, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
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
        else
            // Checked here, before the samplers start in parallel (an exception there would arrive wrapped).
            FinitePosterior.Validate(problem0, options.Posterior)
            TiltedPhaseBoundary.ScanPosterior(g, problem0, options)

    static member private ScanPosterior(g: float, problem0: TiltedProblem, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
        let R = options.Realisations
        let seed = options.Posterior.Seed
        let states = Array.Parallel.init R (fun r -> FinitePosterior.Start(problem0, options.Posterior, int64 r))
        let points = Collections.Generic.List<PhaseBoundaryPoint>()
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
                points.Add pt
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
                points.Add pt
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
            Ok { G = g; GammaStar = gs; GammaStarError = e; Iterations = sweepsDone (); Points = List.ofSeq points
                 Bracket = (pl.Gamma, hi.Gamma); Warnings = warnings }

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
        try
            Array.Parallel.map (fun g -> TiltedPhaseBoundary.Locate(g, options)) gs
        with :? AggregateException as ae ->
            Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(ae.Flatten().InnerExceptions.[0]).Throw()
            failwith "unreachable"

    /// Throwing variant (NotConvergedException on failure).
    static member LocateOrThrow(g: float, options: PhaseBoundaryOptions) =
        match TiltedPhaseBoundary.Locate(g, options) with
        | Ok r -> r
        | Error f -> raise (NotConvergedException f)

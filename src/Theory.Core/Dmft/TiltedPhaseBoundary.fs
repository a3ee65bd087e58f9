namespace Theory.Core.Dmft

open System
open Theory.Core

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
      /// Independent extension replicates (fresh field draws and perturbations) averaged per γ. Default 2.
      Replicates: int }
    /// Default options for the sinusoid task.
    static member Default =
        { Task = SinusoidTask.Default; Solver = TiltedSolverOptions.Default; Chaos = ChaosOptions.Default; GammaStep = 0.25
          GammaMax = 3.0; Bisections = 3; LyapunovTolerance = 0.01; Replicates = 2 }

/// One evaluation of the chaos criterion at (g, γ).
type PhaseBoundaryPoint =
    { Gamma: float
      /// Mean two-replica growth rate λ̂ over the replicates.
      Lyapunov: float
      /// Its Monte Carlo standard error (s.d. over replicates / √R; fit error when R = 1).
      LyapunovError: float
      /// Persistence of the free-running output (criterion (a), reported only).
      Persistence: float
      /// Solver iterations at this γ.
      Iterations: int }

/// γ⋆(g) with its uncertainty and the evaluations that located it.
type PhaseBoundaryResult =
    { G: float
      GammaStar: float
      /// Combined uncertainty: half the final bracket (uniform, /√3) and the Monte Carlo error of λ̂ divided by the
      /// slope dλ̂/dγ across the coarse bracket, added in quadrature.
      GammaStarError: float
      /// Total saddle-point iterations over the continuation and the bisection.
      Iterations: int
      /// Every evaluation, in the order made.
      Points: PhaseBoundaryPoint list
      /// The final bracket (chaotic, ordered).
      Bracket: float * float }

/// γ⋆(g) from the DMFT: continuation in γ on the window, extension past it, and the two-replica criterion
/// (note §5b, §6.5): γ⋆ = inf{γ : λ̂(γ) ≤ λ_tol}, located by bracketing on the continuation grid and bisection.
/// The criterion and its tolerance are reconstructed (the paper states no criterion); see docs/dmft-nonlinear.md.
[<AbstractClass; Sealed>]
type TiltedPhaseBoundary private () =

    /// Evaluates the criterion on a converged solution (R replicate extensions).
    static member Evaluate(solution: TiltedSolution, options: PhaseBoundaryOptions) : PhaseBoundaryPoint =
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
          Persistence = runs |> List.averageBy (fun x -> x.Persistence); Iterations = solution.Diagnostics.Iterations }

    /// Scans the criterion along an ascending γ grid by continuation (warm starts). Stops at the first solver failure
    /// and returns the points so far with it.
    static member Scan(g: float, gammas: float[], options: PhaseBoundaryOptions) : PhaseBoundaryPoint list * SolverFailure option =
        Validate.Positive("g", g) |> ignore
        for gm in gammas do Validate.NonNegative("gamma", gm) |> ignore
        let sols, fail =
            TiltedSolver.Continue(Func<float, TiltedProblem>(fun gm -> TiltedProblems.Sinusoid(g, gm, options.Task)), gammas, options.Solver)
        (sols |> List.map (fun s -> TiltedPhaseBoundary.Evaluate(s, options))), fail

    /// Locates γ⋆(g). Errors: the solver failed before the criterion changed sign, or no transition up to GammaMax.
    static member Locate(g: float, options: PhaseBoundaryOptions) : Result<PhaseBoundaryResult, SolverFailure> =
        Validate.Positive("g", g) |> ignore
        Validate.InRange("gammaStep", options.GammaStep, 1e-3, 1.0) |> ignore
        Validate.Positive("gammaMax", options.GammaMax) |> ignore
        Validate.AtLeast("bisections", options.Bisections, 0) |> ignore
        Validate.Finite("lyapunovTolerance", options.LyapunovTolerance) |> ignore
        TiltedProblems.ValidateGrid(options.Task.Period, options.Task.Dt)
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
        let ordered (pt: PhaseBoundaryPoint) = pt.Lyapunov <= options.LyapunovTolerance
        let fail reason f =
            Error { Solver = "PhaseBoundary"; Iterations = iterations; Residual = (match f with Some(x: SolverFailure) -> x.Residual | None -> nan)
                    Reason = reason }
        // Coarse scan by continuation.
        let grid = Array.init (int (Math.Floor(options.GammaMax / options.GammaStep + 1e-9)) + 1) (fun i -> float i * options.GammaStep)
        let rec scan i (prev: (TiltedSolution * PhaseBoundaryPoint) option) =
            if i >= grid.Length then
                fail (sprintf "no transition found: the criterion stays chaotic (lambda > %g) up to gamma = %g at g = %g" options.LyapunovTolerance grid.[grid.Length - 1] g) None
            else
                match solveFrom (prev |> Option.map fst) grid.[i] with
                | Error f ->
                    fail (sprintf "the saddle-point solver failed at gamma = %g (g = %g) before the criterion changed sign: %s" grid.[i] g f.Reason) (Some f)
                | Ok(s, pt) ->
                    if ordered pt then
                        match prev with
                        | None -> fail (sprintf "the criterion is already ordered at gamma = 0 (lambda = %g <= %g) at g = %g: no chaotic phase" pt.Lyapunov options.LyapunovTolerance g) None
                        | Some(ps, ppt) -> Ok(ps, ppt, s, pt)
                    else scan (i + 1) (Some(s, pt))
        match scan 0 None with
        | Error f -> Error f
        | Ok(sLo, pLo, _, pHi) ->
            let coarseSlope = (pHi.Lyapunov - pLo.Lyapunov) / (pHi.Gamma - pLo.Gamma)
            let mutable lo = (sLo, pLo)
            let mutable hi = pHi
            let mutable err = None
            for _ in 1 .. options.Bisections do
                if err.IsNone then
                    let mid = 0.5 * ((snd lo).Gamma + hi.Gamma)
                    match solveFrom (Some(fst lo)) mid with
                    | Error f -> err <- Some f
                    | Ok(s, pt) -> if ordered pt then hi <- pt else lo <- (s, pt)
            match err with
            | Some f -> fail (sprintf "the saddle-point solver failed during bisection at g = %g: %s" g f.Reason) (Some f)
            | None ->
                let pl = snd lo
                let fl = pl.Lyapunov - options.LyapunovTolerance
                let fh = hi.Lyapunov - options.LyapunovTolerance
                let gs = if fl - fh > 0.0 then pl.Gamma + (hi.Gamma - pl.Gamma) * fl / (fl - fh) else 0.5 * (pl.Gamma + hi.Gamma)
                let width = hi.Gamma - pl.Gamma
                let sigmaL = 0.5 * (pl.LyapunovError + hi.LyapunovError)
                let mcErr = if coarseSlope < 0.0 then sigmaL / abs coarseSlope else width
                let e = Math.Sqrt((width / 2.0) ** 2.0 / 3.0 + mcErr * mcErr)
                Ok { G = g; GammaStar = gs; GammaStarError = e; Iterations = iterations; Points = List.ofSeq points
                     Bracket = (pl.Gamma, hi.Gamma) }

    /// Throwing variant (NotConvergedException on failure).
    static member LocateOrThrow(g: float, options: PhaseBoundaryOptions) =
        match TiltedPhaseBoundary.Locate(g, options) with
        | Ok r -> r
        | Error f -> raise (NotConvergedException f)

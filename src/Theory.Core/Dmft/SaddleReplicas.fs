namespace Theory.Core.Dmft

open System
open MathNet.Numerics.Statistics
open Theory.Core
open Theory.Core.Numerics

/// The non-Gaussianity of one Monte Carlo solution's tilted single-site measure: the excess kurtosis (0 for a Gaussian)
/// of the preactivation at the window's midpoint, x(t_{n/2}) — the note's §7.5 column "kurtosis of x(5)" for T = 10,
/// which lists the raw kurtosis, excess + 3. Where the solve ran an averaging phase (TiltedDiagnostics.MidWindowMoments)
/// it is the kurtosis of the weighted moments averaged over the same iterations as the other summaries, with the
/// delete-a-group jackknife's bias correction; otherwise (the exact prior particles at γ = 0) one snapshot of the final
/// particles, the bias-corrected sample excess kurtosis G2 (MathNet Statistics.Kurtosis).
type CloudKurtosis =
    { /// The excess kurtosis, bias-corrected (see BiasCorrection).
      Value: float
      /// Delete-a-group jackknife standard error over Groups contiguous groups of particles (resampled duplicates share
      /// a group where they are adjacent, so their correlation is counted).
      StandardError: float
      /// What was subtracted from the plug-in estimate m₄/m₂² − 3 to remove its O(1/S) bias: the jackknife's bias
      /// estimate (averaged moments) or the closed-form G2 correction (snapshot). Reported so the size of the estimator's
      /// own bias is visible; at S = 4000 it is ≈ 10⁻⁴ (averaged) to 10⁻³ (snapshot), far below StandardError.
      BiasCorrection: float
      /// The grid index n/2 of the time (t = (n/2)·Δt).
      Step: int
      Particles: int
      Groups: int
      /// Iterations averaged (the averaging phase); 1 for a snapshot of the final particles.
      Iterations: int }
    /// The midpoint kurtosis's name among the summaries (SaddleReplicaResult.Summaries, SaddleBiasCheck.Summaries, the
    /// JSON output).
    static member SummaryName = "midWindowKurtosis"

/// One summary of the N = ∞ saddle point over k independent replica solves (SaddleReplicas).
type ReplicaStat =
    { /// Each replica's value (at its averaged θ), in seed order.
      Values: float[]
      /// Mean of Values: the replicas' estimate.
      Mean: float
      /// Standard error of Mean from the replicas' spread, sd/√k (k − 1 degrees of freedom; 0 for k = 1).
      SeedError: float
      /// What the solves' own window standard errors say about Mean: √(Σ_j se_j²)/k.
      WindowError: float
      /// The error to cite: the larger of SeedError and WindowError (for k = 1 the window error alone: a lower bound
      /// near the transition, docs/dmft-nonlinear.md "Known limitations").
      StandardError: float }
    /// SeedError / WindowError: how far the window errors understate the spread of independent solves (> 1 where the
    /// slow mode near the transition moves the whole Polyak–Ruppert average); NaN for k = 1 or a zero window error.
    member s.Understatement = if s.Values.Length >= 2 && s.WindowError > 0.0 then s.SeedError / s.WindowError else nan

/// The N = ∞ saddle point solved k times with independent seeds (SaddleReplicas.Solve).
type SaddleReplicaResult =
    { /// The replicas' seeds (TiltedSolverOptions.Seed + 0, 1, …, k − 1: the seeds a phase boundary's k seeds use).
      Seeds: int64 list
      /// The replicas' solutions, in seed order.
      Solutions: TiltedSolution list
      /// mean_k C_kk, Σ_a y*_aᵀC⁻¹y*_a and mean_k C(t_k, t_k + nΔt/2) over the replicas.
      MeanActivity: ReplicaStat
      TargetAlignment: ReplicaStat
      HalfWindowCorrelation: ReplicaStat
      /// The excess kurtosis of x(t_{n/2}) (SaddleReplicas.MidWindowKurtosis) over the replicas, its within-solve errors
      /// the jackknife errors; None for solutions without particles (exact Gaussian expectations).
      MidWindowKurtosis: ReplicaStat option
      /// One line per summary whose window errors understate the seed spread by more than
      /// SaddleReplicas.UnderstatementWarning, then every replica's own warnings (prefixed with its seed).
      Warnings: string list }
    /// The three order-parameter summaries and (where measured) the midpoint kurtosis, with their names (as in the
    /// JSON output).
    member r.Summaries =
        [ "meanActivity", r.MeanActivity; "targetAlignment", r.TargetAlignment; "halfWindowCorrelation", r.HalfWindowCorrelation ]
        @ (match r.MidWindowKurtosis with Some k -> [ CloudKurtosis.SummaryName, k ] | None -> [])
    /// Iterations of all replicas together.
    member r.Iterations = r.Solutions |> List.sumBy (fun s -> s.Diagnostics.Iterations)

/// Independent replicas of one N = ∞ saddle-point solve: the honest error of a single (g, γ) point near the transition.
/// A solve's window standard errors (autocorrelation-corrected within its 80 averaged iterations) miss the slow mode of
/// the relaxation, which moves the whole average: at (2, 0.8), S = 1000, six seeds spread 3–4× their window errors, and
/// at S = 4000 one of four cold solves stopped 0.007 (30 window errors) below the other three (docs/dmft-nonlinear.md,
/// "Known limitations"). No single run can see that: the precision of the fixed point along a slow mode of the
/// stochastic-approximation map, 1 − λ small, is the Monte Carlo noise amplified by 1/(1 − λ) (the asymptotic
/// covariance (I − J)⁻¹Σ(I − J)⁻ᵀ/M of averaged stochastic approximation, Polyak &amp; Juditsky 1992), and a short window
/// of a slowly relaxing trace understates it. The spread of k independent solves (own particle streams, cold starts)
/// estimates it without a model. The γ⋆ of a phase boundary already takes its error from independent seeds; this is the
/// same for one point (`theory dmft saddle --seeds k`); SaddleBias.CheckReplicas checks the replicas' O(1/S) bias.
[<AbstractClass; Sealed>]
type SaddleReplicas private () =

    /// The ratio SeedError / WindowError above which a summary gets a warning (2: for two replicas the chance that the
    /// spread alone exceeds twice a correct window error is P(|Z| > 2√2) ≈ 0.5%).
    static member UnderstatementWarning = 2.0

    /// Contiguous particle groups of the kurtosis jackknife (MidWindowKurtosis).
    static member KurtosisGroups = MidWindowMoments.Groups

    /// The excess kurtosis of x(t_{n/2}) of a Monte Carlo solution with its delete-a-group jackknife error
    /// (KurtosisGroups groups): from the weighted moments averaged over the averaging phase where the solve has them
    /// (TiltedDiagnostics.MidWindowMoments; plug-in kurtosis of the averaged central moments, jackknife bias-corrected),
    /// else from the final particles (G2). None for a solution without particles (exact Gaussian expectations), with
    /// fewer than 4 particles per group, or without spread in x(t_{n/2}) (no kurtosis is defined).
    static member MidWindowKurtosis(solution: TiltedSolution) : CloudKurtosis option =
        match solution.Diagnostics.MidWindowMoments with
        | Some mm when mm.Iterations > 0 && mm.Particles >= 4 * mm.Sums.Length -> SaddleReplicas.AveragedKurtosis mm
        | _ -> SaddleReplicas.SnapshotKurtosis solution

    /// The plug-in excess kurtosis m₄/m₂² − 3 of power sums [| Σw; Σwx; Σwx²; Σwx³; Σwx⁴ |] (central moments from the
    /// raw ones); None without spread.
    static member private PlugInKurtosis(sums: float[]) =
        let w = sums.[0]
        if not (w > 0.0) then None
        else
            let m1, m2, m3, m4 = sums.[1] / w, sums.[2] / w, sums.[3] / w, sums.[4] / w
            let c2 = m2 - m1 * m1
            let c4 = m4 - 4.0 * m1 * m3 + 6.0 * m1 * m1 * m2 - 3.0 * m1 * m1 * m1 * m1
            if c2 > 1e-12 * m2 then Some(c4 / (c2 * c2) - 3.0) else None

    static member private AveragedKurtosis(mm: MidWindowMoments) : CloudKurtosis option =
        let groups = mm.Sums.Length
        let total = Array.init 5 (fun p -> mm.Sums |> Array.sumBy (fun g -> g.[p]))
        match SaddleReplicas.PlugInKurtosis total with
        | None -> None
        | Some full ->
            let leaveOut = Array.init groups (fun j -> SaddleReplicas.PlugInKurtosis(Array.init 5 (fun p -> total.[p] - mm.Sums.[j].[p])))
            if leaveOut |> Array.exists Option.isNone then None
            else
                let lo = leaveOut |> Array.map Option.get
                let mean = Array.average lo
                let g = float groups
                // delete-a-group jackknife: bias (g − 1)(mean − full), variance (g − 1)/g Σ (θ₋ⱼ − mean)²
                let bias = (g - 1.0) * (mean - full)
                let se = Math.Sqrt((g - 1.0) / g * (lo |> Array.sumBy (fun v -> (v - mean) * (v - mean))))
                Some { Value = full - bias; StandardError = se; BiasCorrection = bias; Step = mm.Step; Particles = mm.Particles
                       Groups = groups; Iterations = mm.Iterations }

    static member private SnapshotKurtosis(solution: TiltedSolution) : CloudKurtosis option =
        let paths = solution.Samples.Paths
        let groups = SaddleReplicas.KurtosisGroups
        let step = if paths.Length > 0 then paths.[0].Length / 2 else 0
        let xs = paths |> Array.map (fun x -> x.[step])
        if paths.Length < 4 * groups || not (Statistics.Variance xs > 0.0) then None
        else
            let m = xs.Length
            // a group left out of a cloud with spread keeps ≥ 3/4 of it; a leave-out sample without spread counts as
            // Gaussian (0), which only widens the error
            let g2 (ys: float[]) = if Statistics.Variance ys > 0.0 then Statistics.Kurtosis ys else 0.0
            let bounds j = j * m / groups
            let leaveOut =
                Array.init groups (fun j ->
                    let lo, hi = bounds j, bounds (j + 1)
                    g2 (Array.append xs.[.. lo - 1] xs.[hi ..]))
            let mean = Array.average leaveOut
            let se = Math.Sqrt(float (groups - 1) / float groups * (leaveOut |> Array.sumBy (fun v -> (v - mean) * (v - mean))))
            let value = g2 xs
            let sums = [| float m; Array.sum xs; xs |> Array.sumBy (fun x -> x * x); xs |> Array.sumBy (fun x -> x * x * x); xs |> Array.sumBy (fun x -> x * x * x * x) |]
            let plugIn = SaddleReplicas.PlugInKurtosis sums |> Option.defaultValue value
            Some { Value = value; StandardError = se; BiasCorrection = plugIn - value; Step = step; Particles = m; Groups = groups; Iterations = 1 }

    /// The replicas' seeds: options.Seed + j, j = 0 … replicas − 1 (as the phase boundary's seeds).
    static member SeedsOf(options: TiltedSolverOptions, replicas: int) =
        Validate.AtLeast("replicas", replicas, 1) |> ignore
        List.init replicas (fun j -> options.Seed + int64 j)

    /// The replica statistic of one summary from each replica's value and window standard error.
    /// Raises ParameterOutOfDomainException for no values, arrays of different lengths, non-finite values or errors
    /// that are negative or not finite.
    [<CompiledName("Stat")>]
    static member Stat(values: float[], windowErrors: float[]) : ReplicaStat =
        Validate.AtLeast("values", values.Length, 1) |> ignore
        if windowErrors.Length <> values.Length then
            raise (ParameterOutOfDomainException("windowErrors", sprintf "%d entries" windowErrors.Length, sprintf "one per value (%d)" values.Length))
        for v in values do Validate.Finite("values", v) |> ignore
        for e in windowErrors do
            Validate.Finite("windowErrors", e) |> ignore
            Validate.NonNegative("windowErrors", e) |> ignore
        let k = float values.Length
        let mean = Array.average values
        let seedError =
            if values.Length < 2 then 0.0
            else Math.Sqrt((values |> Array.sumBy (fun v -> (v - mean) * (v - mean))) / (k - 1.0) / k)
        let windowError = Math.Sqrt(windowErrors |> Array.sumBy (fun e -> e * e)) / k
        { Values = Array.copy values; Mean = mean; SeedError = seedError; WindowError = windowError; StandardError = max seedError windowError }

    /// The replica result of solutions already solved (in seed order; each with its own seed).
    static member OfSolutions(solutions: TiltedSolution list) : SaddleReplicaResult =
        Validate.AtLeast("solutions", solutions.Length, 1) |> ignore
        let stat (pick: TiltedDiagnostics -> WindowStat) =
            let ws = solutions |> List.map (fun s -> pick s.Diagnostics) |> Array.ofList
            SaddleReplicas.Stat(ws |> Array.map (fun w -> w.Mean), ws |> Array.map (fun w -> w.StandardError))
        let seeds = solutions |> List.map (fun s -> s.Diagnostics.Seed)
        let kurtosis =
            let ks = solutions |> List.map SaddleReplicas.MidWindowKurtosis
            if ks |> List.forall Option.isSome then
                let ks = ks |> List.choose id |> Array.ofList
                Some(SaddleReplicas.Stat(ks |> Array.map (fun k -> k.Value), ks |> Array.map (fun k -> k.StandardError)))
            else None
        let r =
            { Seeds = seeds; Solutions = solutions
              MeanActivity = stat (fun d -> d.MeanActivity); TargetAlignment = stat (fun d -> d.TargetAlignment)
              HalfWindowCorrelation = stat (fun d -> d.HalfWindowCorrelation); MidWindowKurtosis = kurtosis; Warnings = [] }
        let understated =
            r.Summaries |> List.choose (fun (name, s) ->
                let u = s.Understatement
                if Double.IsFinite u && u > SaddleReplicas.UnderstatementWarning then
                    // the kurtosis's within-solve errors are its jackknife's over particle groups, the others' the windows'
                    let errors, source, why =
                        if name = CloudKurtosis.SummaryName then
                            "jackknife errors", "the particle groups",
                            "the solves' averaged measures differ by more than their sampling noise (the iterate's slow mode moves the measure itself)"
                        else
                            "window standard errors", "the windows",
                            "the iterate relaxes more slowly than its 80-iteration averaging window resolves (the slow mode near the transition)"
                    Some(sprintf "the %s of %s understate the spread of the %d seeds %.1fx (%.4g +- %.2g from the seeds, +- %.2g from %s): %s; the cited error is the seeds'"
                             errors name solutions.Length u s.Mean s.SeedError s.WindowError source why)
                else None)
        let own = List.zip seeds solutions |> List.collect (fun (seed, s) -> s.Diagnostics.Warnings |> List.map (sprintf "seed %d: %s" seed))
        { r with Warnings = understated @ own }

    /// Solves the problem with `replicas` independent seeds (SeedsOf), concurrently (each replica's particle blocks give
    /// the same bits on any thread count, so the result does not depend on the machine). The first failed replica is
    /// returned as its typed failure (with several replicas its reason names the seed).
    static member Solve(problem: TiltedProblem, options: TiltedSolverOptions, replicas: int) : Result<SaddleReplicaResult, SaddleFailure> =
        let seeds = SaddleReplicas.SeedsOf(options, replicas) |> Array.ofList
        let solved = seeds |> Concurrent.map (fun s -> TiltedSolver.Solve(problem, { options with Seed = s }))
        match Array.zip seeds solved |> Array.tryPick (function (s, Error f) -> Some(s, f) | _, Ok _ -> None) with
        | Some(s, f) when replicas > 1 -> Error { f with Failure = { f.Failure with Reason = sprintf "seed %d of %d: %s" s replicas f.Failure.Reason } }
        | Some(_, f) -> Error f
        | None -> Ok(SaddleReplicas.OfSolutions(solved |> Array.choose (function Ok s -> Some s | Error _ -> None) |> List.ofArray))

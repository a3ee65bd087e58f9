namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// The Richardson check of a saddle point's finite-S bias (docs/dmft-nonlinear.md, "Finite-S bias"): the summaries
/// at S particles against the mean of two independent solves at S/2.
type SaddleBiasCheck =
    { /// The two S/2 solves' seeds (TiltedSolverOptions.Seed of each).
      HalfSeeds: int64 list
      /// Iterations of the two S/2 solves together.
      HalfIterations: int
      /// mean_k C_kk, Σ_a y*_aᵀC⁻¹y*_a and mean_k C(t_k, t_k + nΔt/2), each at S and S/2 with the estimated bias of the
      /// S value and the bias-corrected value.
      MeanActivity: RichardsonEstimate
      TargetAlignment: RichardsonEstimate
      HalfWindowCorrelation: RichardsonEstimate
      /// The excess kurtosis of x(t_{n/2}) (SaddleReplicas.MidWindowKurtosis) at S and S/2; None where the replicas
      /// carry none (hand-built results without particles).
      MidWindowKurtosis: RichardsonEstimate option
      /// One line per summary whose bias is resolved (more than 2 standard errors), and the S/2 solves' own warnings.
      Warnings: string list }
    /// The three order-parameter summaries and (where measured) the midpoint kurtosis, with their names (as in the
    /// JSON output and SaddleReplicaResult.Summaries).
    member c.Summaries =
        [ "meanActivity", c.MeanActivity; "targetAlignment", c.TargetAlignment; "halfWindowCorrelation", c.HalfWindowCorrelation ]
        @ (match c.MidWindowKurtosis with Some k -> [ CloudKurtosis.SummaryName, k ] | None -> [])
    /// Some summary's bias is resolved (more than 2 standard errors).
    member c.Significant = c.Summaries |> List.exists (fun (_, e) -> e.Significant)

/// The O(1/S) bias of the N = ∞ saddle point. The solver's weighted estimates carry a self-normalised importance
/// sampling bias O(1/ESS), which it reports (TiltedDiagnostics.SnisBias); the fixed point of the noisy map θ ← Ĥ(θ)
/// carries a further O(1/S) bias (E Ĥ(θ) ≠ H(E θ) along the curvature of H, amplified by 1/(1 − λ) along the slow mode
/// near the transition: +2% in mean C_kk at S = 4000, g = 2, γ = 0.8) that no single solve can see. This check measures
/// it by Richardson extrapolation: the same solve (same problem and options, cold start) repeated with S/2 particles
/// under two independent seeds; bias of the S value = mean(S/2) − (S value).
[<AbstractClass; Sealed>]
type SaddleBias private () =
    /// Added to a solve's seed to give the seeds of its S/2 partners (HalfSeedOffset and HalfSeedOffset + 1): far from
    /// the consecutive seeds a phase boundary uses, so no partner shares a stream with another run.
    static member HalfSeedOffset = 1_000_000L

    /// Raises ParameterOutOfDomainException unless S/2 ≥ TiltedSolverOptions.MinimumChains (the check's partners
    /// solve with S/2 particles): the one domain check of every finite-S bias check (saddle point, phase boundary, CLI).
    static member RequireSamples(chains: int) =
        if chains / 2 < TiltedSolverOptions.MinimumChains then
            raise (ParameterOutOfDomainException("samples", string chains,
                    sprintf ">= %d with the finite-S bias check (its partners use S/2 >= %d particles), or no bias check (--no-bias-check)"
                        (2 * TiltedSolverOptions.MinimumChains) TiltedSolverOptions.MinimumChains))

    /// The options of `count` S/2 partners: half the particles and the seeds Seed + HalfSeedOffset + {0, …, count − 1}.
    static member HalfOptionsOf(options: TiltedSolverOptions, count: int) =
        Validate.AtLeast("count", count, 1) |> ignore
        List.init count (fun h -> { options with Chains = options.Chains / 2; Seed = options.Seed + SaddleBias.HalfSeedOffset + int64 h })

    /// The S/2 partners' options: half the particles and the seeds Seed + HalfSeedOffset + {0, 1}.
    static member HalfOptions(options: TiltedSolverOptions) = SaddleBias.HalfOptionsOf(options, 2)

    /// Richardson check of k replica solves at S = options.Chains (SaddleReplicas.Solve with these options): max(2, k)
    /// cold solves at S/2 with their own seeds (HalfOptionsOf), run concurrently (same bits as one after another), the
    /// summaries' bias and the bias-corrected values. Requires S/2 ≥ TiltedSolverOptions.MinimumChains. ExactGaussian
    /// solutions have no Monte Carlo bias (raises). A failed S/2 solve is returned as its typed failure.
    /// Errors: the S/2 mean's is the larger of its partners' window errors and their seed spread (ReplicaStat). The S
    /// value's is the larger of the replicas' own (ReplicaStat.StandardError: for one replica its window error, the
    /// solver's, autocorrelation-corrected within the 80 averaged iterations) and the partners' spread scaled to the S
    /// mean: the Monte Carlo spread scales as 1/√S, so SeedError(S/2)·√(k'/(2k)) with k' partners; for one replica and
    /// two partners that is |h₁ − h₂|/2. Near the transition the window error misses the slow mode: at (g, γ) = (2, 0.8),
    /// S = 1000, six seeds spread 3–4× their window errors (docs/dmft-nonlinear.md, "Finite-S bias" and "Replicas of one
    /// saddle point"). The midpoint kurtosis (SaddleReplicas.MidWindowKurtosis, averaged over each solve's averaging
    /// phase, its within-solve error the jackknife's) is checked by the same rule where both sides carry it.
    static member CheckReplicas(replicas: SaddleReplicaResult, options: TiltedSolverOptions) : Result<SaddleBiasCheck, SaddleFailure> =
        if options.Expectation <> MonteCarlo then
            raise (ParameterOutOfDomainException("expectation", sprintf "%A" options.Expectation, "MonteCarlo (exact Gaussian conditioning has no Monte Carlo bias)"))
        SaddleBias.RequireSamples options.Chains
        let k = Validate.AtLeast("replicas.Solutions", replicas.Solutions.Length, 1)
        let problem = (List.head replicas.Solutions).Problem
        let solved = SaddleBias.HalfOptionsOf(options, max 2 k) |> Array.ofList |> Concurrent.map (fun o -> TiltedSolver.Solve(problem, o))
        match solved |> Array.tryPick (function Error f -> Some f | Ok _ -> None) with
        | Some f -> Error f
        | None ->
            let half = SaddleReplicas.OfSolutions(solved |> Array.choose (function Ok s -> Some s | Error _ -> None) |> List.ofArray)
            let scale = Math.Sqrt(float half.Solutions.Length / (2.0 * float k))
            let estimateOf (s: ReplicaStat) (h: ReplicaStat) =
                RichardsonEstimate.Of(options.Chains, s.Mean, max s.StandardError (scale * h.SeedError), options.Chains / 2, h.Mean, h.StandardError)
            let estimate (pick: SaddleReplicaResult -> ReplicaStat) = estimateOf (pick replicas) (pick half)
            let check =
                { HalfSeeds = half.Seeds; HalfIterations = half.Iterations
                  MeanActivity = estimate (fun r -> r.MeanActivity); TargetAlignment = estimate (fun r -> r.TargetAlignment)
                  HalfWindowCorrelation = estimate (fun r -> r.HalfWindowCorrelation)
                  MidWindowKurtosis = Option.map2 estimateOf replicas.MidWindowKurtosis half.MidWindowKurtosis; Warnings = [] }
            let resolved = check.Summaries |> List.choose (fun (name, e) -> e.ResolvedWarning name)
            let halfWarnings =
                List.zip half.Seeds half.Solutions |> List.collect (fun (seed, s) -> s.Diagnostics.Warnings |> List.map (sprintf "S/2 partner (seed %d): %s" seed))
            Ok { check with Warnings = resolved @ halfWarnings }

    /// Richardson check of a Monte Carlo solution at S = options.Chains (the solution solved with these options): two
    /// cold solves at S/2 with their own seeds, the summaries' bias and the bias-corrected values; CheckReplicas with one
    /// replica. Errors: each value's error is the larger of its window standard error and the seed-to-seed spread of the
    /// two partners, |h₁ − h₂|/2 (the standard error of their mean; the Monte Carlo spread scales as 1/√S, so the S
    /// solve's is the same number).
    static member Check(solution: TiltedSolution, options: TiltedSolverOptions) : Result<SaddleBiasCheck, SaddleFailure> =
        SaddleBias.CheckReplicas(SaddleReplicas.OfSolutions [ solution ], options)

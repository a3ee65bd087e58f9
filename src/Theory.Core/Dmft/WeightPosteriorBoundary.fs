namespace Theory.Core.Dmft

open System
open Theory.Core

/// The HMC diagnostics of one γ of a weight-space scan, averaged over the chains.
type WeightScanDiagnostics =
    { Gamma: float
      /// Metropolis acceptance rate and adapted step size (means over the chains; NaN at γ = 0).
      Acceptance: float
      StepSize: float
      /// Effective sample size of the target alignment per chain over the fixed-step half (mean over the chains).
      EffectiveSamples: float
      /// Mean window fit error rms(y − y*)/rms(y*) of the realised networks (ridge readout, as the path-space ensemble).
      FitError: float }

/// γ⋆(g) from the weight-space posterior sampler (WeightPosterior): the same annealed scan, realisation, classification
/// and interpolation as the Posterior criterion of TiltedPhaseBoundary, with every path-space sampler replaced by an
/// HMC chain of the same posterior (docs/dmft-nonlinear.md, "Weight-space posterior sampler"). Ensemble:
/// WeightSpacePosterior(N, iterations, leapfrog steps, mean step size).
[<AbstractClass; Sealed>]
type WeightPosteriorBoundary private () =

    /// One γ: every chain advanced options.Iterations HMC iterations (none at γ = 0), realised and classified
    /// (replicate r = chain r, as PosteriorPoint).
    static member private Point(states: WeightPosteriorState[], gamma: float, options: PhaseBoundaryOptions, wopt: WeightPosteriorOptions) =
        let results =
            Array.Parallel.init states.Length (fun r ->
                let st = states.[r]
                let trace, acc, eps = if gamma = 0.0 then [||], nan, st.StepSize else WeightPosterior.Advance(st, gamma, wopt.Iterations)
                let sample = WeightPosterior.Snapshot(st, gamma, trace, acc, eps)
                sample, WeightPosterior.Realise(sample, { options.Realisation with Replicate = r }))
        let its = if gamma = 0.0 then 0 else wopt.Iterations
        let point = TiltedPhaseBoundary.PointOf(TiltedRealisation.Summarise(gamma, Array.map snd results), its)
        let samples = Array.map fst results
        let diag =
            { Gamma = gamma; Acceptance = samples |> Array.averageBy (fun s -> s.Acceptance)
              StepSize = (if gamma = 0.0 then nan else samples |> Array.averageBy (fun s -> s.StepSize))
              EffectiveSamples = (if gamma = 0.0 then nan else samples |> Array.averageBy (fun s -> s.EffectiveSamples.[1]))
              FitError = results |> Array.averageBy (fun (_, r) -> r.WindowFitError) }
        { point with Relaxation = if gamma = 0.0 then StageRelaxation.Unmeasured 0 else StageRelaxation.OfTraces(samples |> Array.map (fun s -> s.Trace)) },
        diag

    /// γ⋆(g) with options.Realisations independent HMC chains (options.GammaStep, GammaMax, Bisections, Realisation as
    /// for the Posterior criterion; wopt for the sampler: N, σ, iterations, leapfrog steps, seed). Returns the result
    /// and the per-γ HMC diagnostics, or the reason no γ⋆ was found.
    static member Locate(g: float, options: PhaseBoundaryOptions, wopt: WeightPosteriorOptions)
        : Result<PhaseBoundaryResult * WeightScanDiagnostics list, SolverFailure> =
        match TiltedPhaseBoundary.NetworkScanStart(g, options) with
        | Error f -> Error f
        | Ok problem0 ->
        WeightPosterior.Validate(problem0, wopt)
        let R = options.Realisations
        let states = Array.init R (fun r -> WeightPosterior.Start(problem0, wopt, int64 r))
        let points = Collections.Generic.List<PhaseBoundaryPoint>()
        let diags = Collections.Generic.List<WeightScanDiagnostics>()
        let ordered (pt: PhaseBoundaryPoint) = fst (TiltedPhaseBoundary.ScoreBy(pt, Posterior, options)) <= 0.0
        let done' () = points |> Seq.sumBy (fun p -> p.Iterations)
        let fail reason = Error { Solver = "PhaseBoundary"; Iterations = done' (); Residual = nan; Reason = reason }
        let grid = Array.init (int (Math.Floor(options.GammaMax / options.GammaStep + 1e-9)) + 1) (fun i -> float i * options.GammaStep)
        let eval sts gm =
            let pt, d = WeightPosteriorBoundary.Point(sts, gm, options, wopt)
            points.Add pt
            diags.Add d
            pt
        let rec scan i (prev: (WeightPosteriorState[] * PhaseBoundaryPoint) option) =
            if i >= grid.Length then
                fail (sprintf "no transition found: fewer than half of %d weight-space posterior networks are ordered up to gamma = %g at g = %g" R grid.[grid.Length - 1] g)
            else
                let pt = eval states grid.[i]
                if ordered pt then
                    match prev with
                    | None -> fail (sprintf "%g of %d weight-space posterior networks are already ordered at gamma = 0 (g = %g): no chaotic phase" pt.OrderedFraction R g)
                    | Some(lo, plo) -> Ok(lo, plo, pt)
                else
                    let saved = states |> Array.mapi (fun r st -> WeightPosterior.Clone(st, 62000L + 1000L * int64 i + int64 r))
                    scan (i + 1) (Some(saved, pt))
        match scan 0 None with
        | Error f -> Error f
        | Ok(loStates, pLo, pHi) ->
            let score pt = fst (TiltedPhaseBoundary.ScoreBy(pt, Posterior, options))
            let coarseSlope = (score pHi - score pLo) / (pHi.Gamma - pLo.Gamma)
            let mutable lo = (loStates, pLo)
            let mutable hi = pHi
            for b in 1 .. options.Bisections do
                let mid = 0.5 * ((snd lo).Gamma + hi.Gamma)
                let branch = fst lo |> Array.mapi (fun r st -> WeightPosterior.Clone(st, 70000L + 1000L * int64 b + int64 r))
                let pt = eval branch mid
                if ordered pt then hi <- pt else lo <- (branch, pt)
            let pl = snd lo
            let gs, e = TiltedPhaseBoundary.InterpolateBy(pl, hi, -coarseSlope, Posterior, options)
            let p0 = points.[0]
            let warnings =
                (if p0.OrderedFraction > 0.0 then
                    [ sprintf "%g of the %d networks are already ordered at gamma = 0 (weak chaos at g = %g, finite N = %d)" p0.OrderedFraction R g wopt.Neurons ]
                 else [])
                @ ([ pLo; pHi ] |> List.choose (fun pt -> TiltedPhaseBoundary.LagWarning(pt, options.GammaStep, e)))
            let eps = diags |> Seq.filter (fun d -> Double.IsFinite d.StepSize) |> Seq.map (fun d -> d.StepSize) |> Seq.toArray
            let meanEps = if eps.Length = 0 then wopt.StepSize else Array.average eps
            Ok({ G = g; GammaStar = gs; GammaStarError = e
                 Ensemble = WeightSpacePosterior(wopt.Neurons, wopt.Iterations, wopt.LeapfrogSteps, meanEps); Criterion = Posterior
                 PerSeed = [ (wopt.Seed, gs, e) ]; Iterations = done' (); Points = List.ofSeq points
                 Bracket = (pl.Gamma, hi.Gamma); Warnings = warnings; FiniteSampleBias = None },
               List.ofSeq diags)

/// Paper-check "dmft-gamma-star": the DMFT side of Clark et al. 2026, Fig. 3 (theory only; the simulated phase
/// diagram belongs to the training engine of issue 5/6 and is not part of this check).
module Theory.PaperChecks.Dmft.NonlinearGammaStar

open System
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.PaperChecks

let private fmt (x: float) = x.ToString("0.####", Globalization.CultureInfo.InvariantCulture)

let run (ctx: CheckContext) : CheckResult =
    let quick = ctx.Quick
    let seed = int64 ctx.Seed
    // Quick: g = 1.5, γ = 0 … 1 (step 0.25); full: five g values, γ up to 2.5 in steps of 0.25; S = 2000 (the extension is biased low at S = 1000).
    let chains = 2000
    let task = { SinusoidTask.Default with Dt = 0.2 }
    let options =
        { PhaseBoundaryOptions.Default with
            Task = task
            Solver = { TiltedSolverOptions.Default with Chains = chains; Seed = seed }
            Chaos = { ChaosOptions.Default with Extension = 30.0; Seed = seed }
            GammaMax = 2.5
            Replicates = (if quick then 1 else 2) }
    let gList = if quick then [ 1.5 ] else [ 1.25; 1.5; 2.0; 2.5; 3.0 ]
    let gammas = if quick then Array.init 5 (fun i -> 0.25 * float i) else Array.init 11 (fun i -> 0.25 * float i)
    let preGammas = if quick then [| 0.0; 0.5; 1.0 |] else [| 0.0; 0.5; 1.0; 1.5 |]
    // 1. Continuation in γ (steps 0.25) per g; the criterion λ̂ on every solution; γ⋆ where it changes sign.
    let runs =
        gList
        |> List.map (fun g ->
            ctx.Progress (sprintf "  dmft-gamma-star: g = %g, continuation over %d gamma values" g gammas.Length)
            let sols, fail =
                TiltedSolver.Continue(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(g, gm, task)), gammas, options.Solver)
            let pts = sols |> List.map (fun s -> TiltedPhaseBoundary.Evaluate(s, options))
            g, sols, pts, fail)
    let scans = runs |> List.map (fun (g, _, pts, fail) -> g, pts, fail)
    let crossing (pts: PhaseBoundaryPoint list) =
        pts
        |> List.pairwise
        |> List.tryFind (fun (a, b) -> a.Lyapunov > options.LyapunovTolerance && b.Lyapunov <= options.LyapunovTolerance)
        |> Option.map (fun (a, b) ->
            let fa = a.Lyapunov - options.LyapunovTolerance
            let fb = b.Lyapunov - options.LyapunovTolerance
            let gs = a.Gamma + (b.Gamma - a.Gamma) * fa / (fa - fb)
            let slope = abs ((b.Lyapunov - a.Lyapunov) / (b.Gamma - a.Gamma))
            let err = Math.Sqrt(((b.Gamma - a.Gamma) / 2.0) ** 2.0 / 3.0 + (0.5 * (a.LyapunovError + b.LyapunovError) / max slope 1e-9) ** 2.0)
            gs, err)
    let stars = scans |> List.choose (fun (g, pts, _) -> crossing pts |> Option.map (fun (s, e) -> g, s, e))
    // 2. Preactivation distributions at g = 1.5 (from the same solutions), at every grid time: largest |excess kurtosis|/s.e.
    let preSols =
        match runs |> List.tryFind (fun (g, _, _, _) -> g = 1.5) with
        | Some(_, sols, _, _) -> sols |> List.filter (fun s -> preGammas |> Array.exists (fun gm -> abs (gm - s.Problem.Gamma) < 1e-9))
        | None -> []
    let preFail = match runs |> List.tryFind (fun (g, _, _, _) -> g = 1.5) with Some(_, _, _, Some f) -> f.Reason | _ -> "none"
    let kurtStats =
        preSols
        |> List.map (fun s ->
            let n = s.Problem.Points
            let ds = [ for k in 1 .. n - 1 -> TiltedPreactivation.At(s, float k * s.Problem.Dt, 40) ]
            let worst = ds |> List.maxBy (fun d -> abs d.ExcessKurtosis / d.ExcessKurtosisError)
            s.Problem.Gamma, worst, ds)
    // Figures.
    let figs = Collections.Generic.List<Figure>()
    do
        use plt = new ScottPlot.Plot()
        for g, pts, _ in scans do
            let xs = pts |> List.map (fun p -> p.Gamma) |> Array.ofList
            let ys = pts |> List.map (fun p -> p.Lyapunov) |> Array.ofList
            let es = pts |> List.map (fun p -> p.LyapunovError) |> Array.ofList
            Plots.pointsWithErrors plt xs ys es (sprintf "g = %g" g) |> ignore
            Plots.line plt xs ys "" |> ignore
        Plots.line plt [| 0.0; gammas.[gammas.Length - 1] |] [| options.LyapunovTolerance; options.LyapunovTolerance |] "tolerance" |> ignore
        Plots.labels plt "DMFT two-replica growth rate past the window" "gamma" "lambda-hat"
        figs.Add { File = Plots.save plt ctx "dmft-gamma-star-lyapunov.png" 800 500; Caption = "Two-replica growth rate of E[dx^2] after the training window vs gamma (chaotic above the tolerance line)." }
    do
        use plt = new ScottPlot.Plot()
        // The time where the largest γ is most non-Gaussian (5 when there is no γ > 0 solution).
        let tPlot = match kurtStats |> List.tryLast with Some(gm, w, _) when gm > 0.0 -> w.Time | _ -> 5.0
        for gm, _, ds in kurtStats do
            let d = ds |> List.minBy (fun d -> abs (d.Time - tPlot))
            let centres = Array.init d.Density.Length (fun i -> 0.5 * (d.Edges.[i] + d.Edges.[i + 1]))
            Plots.line plt centres d.Density (sprintf "gamma = %g (excess kurtosis %s)" gm (fmt d.ExcessKurtosis)) |> ignore
        Plots.labels plt (sprintf "Tilted preactivation distribution x(t = %s), g = 1.5" (fmt tPlot)) "x" "density"
        figs.Add { File = Plots.save plt ctx "dmft-gamma-star-preactivation.png" 800 500; Caption = "Single-neuron preactivation density, at the time where the largest gamma is most non-Gaussian, for several gamma (tilted measure, elliptical slice sampling)." }
    if not stars.IsEmpty then
        use plt = new ScottPlot.Plot()
        let xs = stars |> List.map (fun (g, _, _) -> g) |> Array.ofList
        Plots.pointsWithErrors plt xs (stars |> List.map (fun (_, s, _) -> s) |> Array.ofList) (stars |> List.map (fun (_, _, e) -> e) |> Array.ofList) "DMFT gamma*(g)" |> ignore
        Plots.labels plt "DMFT phase boundary" "g" "gamma*"
        figs.Add { File = Plots.save plt ctx "dmft-gamma-star-curve.png" 800 500; Caption = "DMFT gamma*(g) where the two-replica criterion changes sign on the scan." }
    // Claims.
    let tol = options.LyapunovTolerance
    let chaoticAtZero =
        scans |> List.forall (fun (_, pts, _) -> match pts with p :: _ -> p.Lyapunov > tol | [] -> false)
    let k0 = kurtStats |> List.tryFind (fun (gm, _, _) -> gm = 0.0)
    let kMax = kurtStats |> List.filter (fun (gm, _, _) -> gm > 0.0) |> List.tryLast
    let gaussAtZero = match k0 with Some(_, _, ds) -> ds |> List.forall (fun d -> abs d.ExcessKurtosis <= 4.5 * d.ExcessKurtosisError) | None -> false
    let nonGauss = match kMax with Some(_, w, _) -> abs w.ExcessKurtosis > 5.0 * w.ExcessKurtosisError | None -> false
    let scanText =
        scans
        |> List.map (fun (g, pts, fail) ->
            sprintf "g = %g: %s%s" g
                (pts |> List.map (fun p -> sprintf "lambda(%s) = %s ± %s" (fmt p.Gamma) (fmt p.Lyapunov) (fmt p.LyapunovError)) |> String.concat ", ")
                (match fail with Some f -> sprintf " [solver failed: %s]" f.Reason | None -> ""))
        |> String.concat "; "
    let claims =
        [ { Statement = "At small gamma the learned network is chaotic after the training window (DMFT two-replica growth rate > tolerance at gamma = 0)"
            Measured = scanText
            Pass = chaoticAtZero }
          { Statement = "Beyond gamma*(g) the dynamics settle on a stable limit cycle: the DMFT criterion changes sign at a finite gamma* for every g scanned"
            Measured =
                (if stars.IsEmpty then sprintf "no sign change up to gamma = %g (or the solver failed first); criterion lambda <= %g" gammas.[gammas.Length - 1] tol
                 else stars |> List.map (fun (g, s, e) -> sprintf "g = %g: gamma* = %s ± %s" g (fmt s) (fmt e)) |> String.concat "; ")
            Pass = stars.Length = scans.Length }
          { Statement = "Preactivations are Gaussian at gamma = 0 (|excess kurtosis| <= 4.5 s.e. at every grid time)"
            Measured = (match k0 with Some(_, w, _) -> sprintf "largest |excess kurtosis| %s at t = %s (s.e. %s)" (fmt w.ExcessKurtosis) (fmt w.Time) (fmt w.ExcessKurtosisError) | None -> "not computed")
            Pass = gaussAtZero }
          { Statement = "Preactivations become non-Gaussian for gamma > 0 (|excess kurtosis| > 5 s.e. at some time, largest gamma)"
            Measured =
                (match kMax with
                 | Some(gm, w, _) -> sprintf "gamma = %g: largest |excess kurtosis| %s at t = %s (s.e. %s)" gm (fmt w.ExcessKurtosis) (fmt w.Time) (fmt w.ExcessKurtosisError)
                 | None -> sprintf "no gamma > 0 solution (solver: %s)" preFail)
            Pass = nonGauss } ]
    { Name = "dmft-gamma-star"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Learned-network DMFT: phase boundary gamma*(g) and tilted preactivations (Fig. 3, theory side)"
      Parameters =
        [ "task", "sin(2 pi t/T), T = 10, no input"; "dt", "0.2 (n = 50; note 7.5 discretisation)"; "x0", "N(0, Delta0(g)), tilted"
          "chains", string chains; "seed", string seed; "g", (gList |> List.map string |> String.concat ",")
          "gamma", (gammas |> Array.map fmt |> String.concat ","); "criterion", sprintf "two-replica growth rate <= %g" tol
          "extension", "30 time units, memory 10, cross-fitted causal regression" ]
      Claims = claims
      Figures = List.ofSeq figs
      Numbers =
        [ "gammaStar", Json.Numbers("gammaStar", stars |> List.map (fun (_, s, _) -> s))
          "gammaStarError", Json.Numbers("gammaStarError", stars |> List.map (fun (_, _, e) -> e))
          "gammaStarG", Json.Numbers("gammaStarG", stars |> List.map (fun (g, _, _) -> g)) ]
      Notes =
        [ "Theory only: the simulated phase diagram (trained networks) is not part of this check."
          "gamma* criterion is reconstructed (research note 5b): the growth rate of E[dx^2] of a tangent replica started at t = T, fitted on the second half of the extension; ordered iff <= the tolerance. The paper states no criterion and no values."
          "The extension past the window estimates C(t, .) from the tilted samples and draws the field by a cross-fitted regression on the last period; at gamma = 0 it overestimates C by about 5% after 4 periods relative to the exact march (tests)."
          "Cost: quick (S = 2000, one g, 5 gammas, 1 replicate) about 2-3 minutes on 2 cores; full (S = 2000, 5 g x 11 gammas, 2 replicates) about 1-2 hours on 2 cores." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "dmft-gamma-star"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Learned-network DMFT: phase boundary gamma*(g) and tilted preactivations (Fig. 3, theory side)"
      Run = run }

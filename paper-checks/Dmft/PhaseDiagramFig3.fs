/// Paper-check "sim-phase-diagram": the simulated side of Clark et al. 2026, Fig. 3 — tanh networks trained on one sine
/// period (T = 10, no input) over a (g, γ) grid, run autonomously far past T and classified chaotic / limit cycle
/// (research note dmft-learned.md §5c), with the DMFT γ⋆(g) (note §5b, `TiltedPhaseBoundary`) on top.
module Theory.PaperChecks.Dmft.PhaseDiagramFig3

open System
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Simulation.PhaseDiagram
open Theory.PaperChecks

let private fmt (x: float) = if Double.IsFinite x then x.ToString("0.###", Globalization.CultureInfo.InvariantCulture) else "n/a"

/// Excess kurtosis of a sample and its large-sample standard error √(24/S).
let private excessKurtosis (xs: float[]) =
    let m = Array.average xs
    let m2 = xs |> Array.averageBy (fun x -> (x - m) ** 2.0)
    let m4 = xs |> Array.averageBy (fun x -> (x - m) ** 4.0)
    m4 / (m2 * m2) - 3.0, sqrt (24.0 / float xs.Length)

let run (ctx: CheckContext) : CheckResult =
    let quick = ctx.Quick
    let sw = Diagnostics.Stopwatch.StartNew()
    // Quick: N = 150, g ∈ {1.5, 2.5}, 8 γ values, 4 seeds, DMFT γ⋆ at g = 1.5 only (posterior N = 500);
    // full: N = 200, g ∈ {1.5, 2, 2.5, 3}, γ = 0 … 3 (step 0.25), 8 seeds, DMFT located at every g.
    let n = if quick then 150 else 200
    let gs = if quick then [| 1.5; 2.5 |] else [| 1.5; 2.0; 2.5; 3.0 |]
    let gammas = if quick then [| 0.0; 0.25; 0.5; 0.75; 1.0; 1.5; 2.0; 3.0 |] else Array.init 13 (fun i -> 0.25 * float i)
    let seeds = if quick then 4 else 8
    let probe = PhaseProbeOptions(N = n, KeepWindowStates = true)
    let spec = PhaseSweepSpec(Gs = gs, Gammas = gammas, Seeds = seeds, BaseSeed = int64 ctx.Seed, Probe = probe)
    ctx.Progress(sprintf "  sim-phase-diagram: %d trainings (N = %d, %d g x %d gamma x %d seeds)" (gs.Length * gammas.Length * seeds) n gs.Length gammas.Length seeds)
    let results =
        use counter = ctx.Count("sim-phase-diagram: trainings", gs.Length * gammas.Length * seeds)
        // the sweep says "phase-diagram: …" once, then "  [k/n] g = …" per training
        let r = PhaseSweep.Run(spec, ctx.File "sim-phase-diagram.csv", false,
                               Action<string>(fun s -> if s.StartsWith "phase" then ctx.Progress("  " + s) elif s.TrimStart().StartsWith "[" then counter.Tick()))
        counter.Done()
        r
    let simSeconds = sw.Elapsed.TotalSeconds
    let perProbe = results |> Array.averageBy (fun r -> r.Seconds)
    let cells = PhaseDiagramAnalysis.Summarise results
    let stars = PhaseDiagramAnalysis.GammaStars(results, 1000, int64 ctx.Seed)
    // DMFT γ⋆(g) at N = ∞ (two-replica criterion of the saddle point's extension, docs/dmft-nonlinear.md), error bars
    // from independent seeds.
    let dmftOptions =
        { PhaseBoundaryOptions.Default with
            Task = { SinusoidTask.Default with Dt = 0.2 }
            Solver = { TiltedSolverOptions.Default with Chains = (if quick then 2000 else 4000); Seed = int64 ctx.Seed }
            Chaos = { ChaosOptions.Default with Seed = int64 ctx.Seed }
            GammaMax = 4.0
            Bisections = (if quick then 1 else 2)
            Seeds = (if quick then 2 else 3)
            Criterion = TwoReplica }
    let dmftGs = if quick then [| 1.5 |] else gs
    ctx.Progress(sprintf "  sim-phase-diagram: DMFT (N = inf, two-replica) gamma* at g = %s (concurrently)" (dmftGs |> Array.map string |> String.concat ", "))
    let dmft =
        Array.map2 (fun g res ->
            match res with
            | Ok (r: PhaseBoundaryResult) -> g, r.Points |> List.sortBy (fun p -> p.Gamma), None, Some(r.GammaStar, r.GammaStarError)
            | Error f -> g, [], Some f, None) dmftGs (TiltedPhaseBoundary.Curve(dmftGs, dmftOptions))
    let dmftSeconds = sw.Elapsed.TotalSeconds - simSeconds
    let dmftStars = dmft |> Array.choose (fun (g, _, _, s) -> s |> Option.map (fun (v, e) -> g, v, e)) |> List.ofArray
    // Figures.
    let figs = Collections.Generic.List<Figure>()
    let simStars = stars |> Array.filter (fun s -> s.Status = 0) |> Array.map (fun s -> s.G, s.GammaStar, s.StdErr) |> List.ofArray
    PhaseDiagramFigures.heatmap cells simStars dmftStars (sprintf "Fraction of seeds on a period-T limit cycle (N = %d, %d seeds)" n seeds) (ctx.File "sim-phase-diagram.png")
    figs.Add { File = "sim-phase-diagram.png"; Caption = sprintf "Fraction of Adam-trained networks (N = %d) on a limit cycle with period ~T after the window (colour), simulated gamma*(g) of that ensemble (white, f = 1/2, bootstrap s.d.) and the N = inf DMFT gamma*(g) (two-replica criterion, red; seeds)." n }
    do
        use plt = new ScottPlot.Plot()
        for g in gs do
            let byG = results |> Array.filter (fun r -> r.G = g)
            let xs = gammas
            let ys = xs |> Array.map (fun gm -> byG |> Array.filter (fun r -> r.Gamma = gm) |> Array.averageBy (fun r -> r.Measurement.Lyapunov))
            let es =
                xs |> Array.map (fun gm ->
                    let v = byG |> Array.filter (fun r -> r.Gamma = gm) |> Array.map (fun r -> r.Measurement.Lyapunov)
                    let m = Array.average v
                    if v.Length > 1 then sqrt ((v |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (v.Length - 1) / float v.Length) else 0.0)
            Plots.pointsWithErrors plt xs ys es (sprintf "g = %g" g) |> ignore
            Plots.line plt xs ys "" |> ignore
        Plots.line plt [| gammas.[0]; gammas.[gammas.Length - 1] |] [| 0.0; 0.0 |] "0" |> ignore
        Plots.labels plt "Benettin exponent of the trained network after T (mean over seeds)" "gamma" "lambda-hat"
        figs.Add { File = Plots.save plt ctx "sim-phase-diagram-lyapunov.png" 800 500; Caption = "Maximal Lyapunov exponent of the autonomous trained networks vs gamma (mean ± s.e. over seeds)." }
    // Preactivation distributions (g = first g, window states pooled over neurons and seeds at each window time).
    let gPre = gs.[0]
    let preGammas = gammas |> Array.filter (fun gm -> gm = 0.0 || gm = 0.5 || gm = 1.0 || gm = gammas.[gammas.Length - 1]) |> Array.distinct
    let window = probe.Window
    let samplesAt (gm: float) (k: int) =
        results
        |> Array.filter (fun r -> r.G = gPre && r.Gamma = gm)
        |> Array.collect (fun r -> r.WindowStates.[k * n .. (k + 1) * n - 1])
    let kurt =
        preGammas
        |> Array.map (fun gm ->
            let perTime = [| for k in 1 .. window - 1 -> k, excessKurtosis (samplesAt gm k) |]
            let worstK, (wk, wse) = perTime |> Array.maxBy (fun (_, (kk, se)) -> abs kk / se)
            gm, worstK, wk, wse)
    do
        use plt = new ScottPlot.Plot()
        let _, kStar, _, _ = kurt.[kurt.Length - 1]
        for gm, _, _, _ in kurt do
            let xs = samplesAt gm kStar
            let lo, hi = -4.0, 4.0
            let bins = 40
            let counts = Array.zeroCreate bins
            for x in xs do
                let b = int (Math.Floor((x - lo) / (hi - lo) * float bins))
                if b >= 0 && b < bins then counts.[b] <- counts.[b] + 1.0
            let width = (hi - lo) / float bins
            let dens = counts |> Array.map (fun c -> c / (float xs.Length * width))
            let centres = Array.init bins (fun i -> lo + (float i + 0.5) * width)
            let kk, _ = excessKurtosis xs
            Plots.line plt centres dens (sprintf "gamma = %g (excess kurtosis %s)" gm (fmt kk)) |> ignore
        Plots.labels plt (sprintf "Preactivations x_i(t = %s) of trained networks, g = %g (N x seeds samples)" (fmt (float kStar * probe.Dt)) gPre) "x" "density"
        figs.Add { File = Plots.save plt ctx "sim-phase-diagram-preactivation.png" 800 500; Caption = "Single-neuron preactivation histograms across neurons and seeds at the window time where the largest gamma is most non-Gaussian." }
    // Claims.
    let cellAt g gm = cells |> Array.find (fun c -> c.G = g && c.Gamma = gm)
    let gmSmall = gammas |> Array.find (fun gm -> gm > 0.0)
    let smallChaotic = gs |> Array.map (fun g -> g, cellAt g gmSmall)
    let claim1 = smallChaotic |> Array.forall (fun (_, c) -> 2 * c.Chaotic > c.Seeds && c.LimitCycle = 0)
    let gmMax = gammas.[gammas.Length - 1]
    let periodAt g gm =
        let ps = results |> Array.filter (fun r -> r.G = g && r.Gamma = gm && r.Ordered) |> Array.map (fun r -> r.Measurement.DominantPeriod) |> Array.sort
        if ps.Length = 0 then nan else ps.[ps.Length / 2]
    let largeOrdered =
        gs |> Array.map (fun g -> g, cellAt g gmMax, periodAt g gmMax, stars |> Array.find (fun s -> s.G = g))
    let claim2 =
        largeOrdered |> Array.forall (fun (_, c, p, s) -> c.Fraction >= 0.75 && abs (p - probe.Period) <= 0.1 * probe.Period && s.Status <> 1)
    let within =
        dmft
        |> Array.map (fun (g, _, fail, star) ->
            let s = stars |> Array.tryFind (fun s -> s.G = g)
            match star, s with
            | Some(v, e), Some s ->
                let lo = if Double.IsFinite s.BandLow then s.BandLow else s.GammaStar
                let hi = if Double.IsFinite s.BandHigh then s.BandHigh else nan
                let ok = Double.IsFinite lo && Double.IsFinite hi && v + e >= lo && v - e <= hi
                g, ok, sprintf "g = %g: DMFT gamma* = %s ± %s, simulated band [%s, %s] (gamma*_sim = %s)" g (fmt v) (fmt e) (fmt lo) (fmt hi) (fmt s.GammaStar)
            | None, Some s ->
                g, false,
                sprintf "g = %g: the DMFT criterion finds no gamma* (%s); simulated gamma* = %s, band [%s, %s]"
                    g (match fail with Some f -> f.Reason | None -> "no crossing")
                    (fmt s.GammaStar) (fmt s.BandLow) (fmt s.BandHigh)
            | _, None -> g, false, sprintf "g = %g: no simulation" g)
    let claim3 = within.Length > 0 && within |> Array.forall (fun (_, ok, _) -> ok)
    let _, k0, kk0, se0 = kurt.[0]
    let gmK, kMax, kkMax, seMax = kurt.[kurt.Length - 1]
    let gaussAtZero = preGammas.[0] = 0.0 && abs kk0 <= 4.5 * se0
    let nonGauss = gmK > 0.0 && abs kkMax > 5.0 * seMax
    let cellText (c: PhaseCell) =
        sprintf "%d/%d chaotic, %d limit cycle, %d fixed point, %d other (mean lambda %s)" c.Chaotic c.Seeds c.LimitCycle c.FixedPoint c.OtherOrdered (fmt c.MeanLyapunov)
    let claims =
        [ { Statement = sprintf "Small-gamma networks are chaotic after T: at gamma = %g a majority of seeds has lambda-hat > lambda_tol and none is on a period-T limit cycle, for every g" gmSmall
            Measured = smallChaotic |> Array.map (fun (g, c) -> sprintf "g = %g: %s" g (cellText c)) |> String.concat "; "
            Pass = claim1 }
          { Statement = sprintf "Beyond gamma*(g) the networks settle on a stable limit cycle with period ~T: f crosses 1/2 inside the grid and at gamma = %g at least 75%% of seeds are on a limit cycle whose period is within 10%% of T, for every g" gmMax
            Measured =
                largeOrdered
                |> Array.map (fun (g, c, p, s) ->
                    sprintf "g = %g: f(%g) = %s ± %s, median period %s; gamma*_sim = %s ± %s (status %d)" g gmMax (fmt c.Fraction) (fmt c.FractionError) (fmt p) (fmt s.GammaStar) (fmt s.StdErr) s.Status)
                |> String.concat "; "
            Pass = claim2 }
          { Statement = "The DMFT gamma*(g) lies within the simulated transition band (f from 0.1 to 0.9)"
            Measured = within |> Array.map (fun (_, _, t) -> t) |> String.concat "; "
            Pass = claim3 }
          { Statement = sprintf "Preactivations of the untrained (gamma = 0) networks are Gaussian (|excess kurtosis| <= 4.5 s.e. at every window time, g = %g)" gPre
            Measured = sprintf "largest |excess kurtosis| %s at t = %s (s.e. %s)" (fmt kk0) (fmt (float k0 * probe.Dt)) (fmt se0)
            Pass = gaussAtZero }
          { Statement = sprintf "Preactivations become non-Gaussian with gamma (|excess kurtosis| > 5 s.e. at some window time, gamma = %g, g = %g)" gmK gPre
            Measured = sprintf "excess kurtosis %s at t = %s (s.e. %s)" (fmt kkMax) (fmt (float kMax * probe.Dt)) (fmt seMax)
            Pass = nonGauss } ]
    let total = sw.Elapsed.TotalSeconds
    let fullProbes = 4 * 13 * 8
    { Name = "sim-phase-diagram"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Simulated phase diagram: trained tanh networks, chaos vs limit cycle after T (Fig. 3)"
      Parameters =
        [ "task", "sin(2 pi t/T) on [0, T), T = 10, no input, one trial, x0 ~ N(0, Delta0(g))"
          "network", sprintf "tanh, N = %d, dt = %g (exponential Euler), muP readout 1/(N gamma)" n probe.Dt
          "training", sprintf "%A, %d steps, eta0 = %g (gamma = 0: untrained, the muP lazy limit)" probe.Protocol probe.TrainingSteps probe.LearningRate
          "autonomous run", sprintf "%d periods transient + %d measured, Benettin renormalisation every %g" probe.TransientPeriods probe.MeasurePeriods probe.RenormInterval
          "classification", sprintf "chaotic iff lambda > max(%g s.e., %g); limit cycle iff not chaotic and lag-T autocorrelation of y >= %g" probe.LyapunovSigmas probe.LyapunovFloor probe.RhoTolerance
          "g", (gs |> Array.map fmt |> String.concat ",")
          "gamma", (gammas |> Array.map fmt |> String.concat ",")
          "seeds", sprintf "%d (base seed %d; common random numbers across the grid)" seeds ctx.Seed
          "DMFT", sprintf "ensemble dmft (N = inf): two-replica criterion (lambda-hat <= %g) on the SMC saddle point (%d seeds x %d particles, process noise %g), gamma step %g, %d bisections, dt = 0.2, g = %s" dmftOptions.LyapunovTolerance dmftOptions.Seeds dmftOptions.Solver.Chains dmftOptions.Task.ProcessNoise dmftOptions.GammaStep dmftOptions.Bisections (dmftGs |> Array.map fmt |> String.concat ",")
          "simulation ensemble", probe.Ensemble.Label ]
      Claims = claims
      Figures = List.ofSeq figs
      Numbers =
        [ "g", Json.Numbers("g", gs)
          "gammaStarSim", Json.Numbers("gammaStarSim", stars |> Array.map (fun s -> if Double.IsFinite s.GammaStar then s.GammaStar else -1.0))
          "gammaStarSimStatus", Json.Numbers("gammaStarSimStatus", stars |> Array.map (fun s -> float s.Status))
          "gammaStarSimError", Json.Numbers("gammaStarSimError", stars |> Array.map (fun s -> if Double.IsFinite s.StdErr then s.StdErr else -1.0))
          "gammaStarSimEnsemble", Json.String probe.Ensemble.Label
          "dmftG", Json.Numbers("dmftG", dmftStars |> List.map (fun (g, _, _) -> g))
          "dmftGammaStar", Json.Numbers("dmftGammaStar", dmftStars |> List.map (fun (_, v, _) -> v))
          "dmftGammaStarError", Json.Numbers("dmftGammaStarError", dmftStars |> List.map (fun (_, _, e) -> e))
          "dmftEnsemble", Json.String GammaStarEnsemble.Dmft.Label
          "secondsPerProbe", Json.Number("secondsPerProbe", perProbe)
          "simulationSeconds", Json.Number("simulationSeconds", simSeconds)
          "dmftSeconds", Json.Number("dmftSeconds", dmftSeconds) ]
      Notes =
        [ "gammaStarSim = -1 in results.json marks 'not reached on the grid' (status 1); status -1 means f >= 1/2 already at the first gamma."
          "Criterion reconstructed (note 5c): the paper states none. gamma = 0 is the untrained random network (muP lazy limit)."
          "Training protocol Adam (muP rates): the collapsed Langevin sampler is unstable on this chaotic tanh task (docs/dmft-linear.md), so the simulated ensemble is the gradient-trained one, not the posterior the DMFT describes (the DMFT networks are exact draws from the finite-N posterior)."
          sprintf "Cost (this run): %d trainings in %.0f s wall on %d cores (mean %.1f s per training + autonomous run on one thread); DMFT scans %.0f s; total %.0f s." results.Length simSeconds Environment.ProcessorCount perProbe dmftSeconds total
          sprintf "Full variant: %d trainings at N = 200 (about %.0f core-minutes at the measured per-probe time scaled by (200/%d)^2) plus the N = inf DMFT gamma* at 4 g (3 seeds each)." fullProbes (float fullProbes * perProbe * (200.0 / float n) ** 2.0 / 60.0) n
          (dmft |> Array.map (fun (g, pts, fail, _) ->
              sprintf "DMFT g = %g (N = inf, all seeds): %s%s" g (pts |> List.map (fun p -> sprintf "gamma %s (seed %d): lambda %s ± %s, persistence %s" (fmt p.Gamma) p.Seed (fmt p.Lyapunov) (fmt p.LyapunovError) (fmt p.Persistence)) |> String.concat ", ")
                  (match fail with Some f -> sprintf " [%s]" f.Reason | None -> "")) |> String.concat "; ") ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "sim-phase-diagram"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Simulated phase diagram: trained tanh networks, chaos vs limit cycle after T (Fig. 3)"
      Run = run }

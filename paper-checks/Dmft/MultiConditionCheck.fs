/// Clark, Bordelon, Zavatone-Veth & Pehlevan (2026), reaching task: every (g, γ) fits all conditions; neurons develop
/// richer condition-dependent structure as γ grows. A synthetic reaching-like task (ReachTask) with the DMFT on the
/// joint (condition, time) index against Adam-trained networks at several N (docs/dmft-multi-condition.md).
module Theory.PaperChecks.Dmft.MultiConditionCheck

open System
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Simulation.Training
open Theory.PaperChecks

let private g = 1.5
let private noise = 0.1

let private meanSe (xs: float[]) =
    let mu = Array.average xs
    let se = if xs.Length > 1 then sqrt (Array.sumBy (fun x -> (x - mu) ** 2.0) xs / float (xs.Length - 1) / float xs.Length) else 0.0
    mu, se

let run (ctx: CheckContext) : CheckResult =
    let quick = ctx.Quick
    let task = { ReachTask.Default with Conditions = (if quick then 4 else 8) }
    let series = task.Series()
    let gammas = if quick then [| 1.0; 2.0 |] else [| 0.5; 1.0; 2.0; 3.0 |]
    let ns = if quick then [| 100; 300 |] else [| 100; 200; 400; 800 |]
    let seeds = if quick then 2 else 4
    let chains = if quick then 1000 else 2000
    let adamSteps = 2000
    let solver = { TiltedSolverOptions.Default with Chains = chains; Seed = int64 ctx.Seed; MaxIterations = 3000 }
    // 1. DMFT at γ = 0 (exact march) and at each γ (Monte Carlo saddle point on the joint index, continued in γ).
    let m0 = MultiConditions.Reach(Tanh, g, 0.0, task, noise)
    let _, c0 = MultiConditions.ZeroGammaKernel(m0.Problem, 48)
    ctx.Progress(sprintf "  dmft-multi-condition: %d conditions x %d steps = %d joint points; DMFT at %d values of gamma" task.Conditions task.Steps m0.JointPoints gammas.Length)
    let theory =
        MultiConditions.SolveContinued(m0, gammas, solver) |> Array.map (fun (gm, r) -> gm, MultiConditions.WithGamma(m0, gm), r)
    let solved = theory |> Array.choose (fun (gm, m, r) -> match r with Ok s -> Some(gm, m, s) | Error _ -> None)
    let failures = theory |> Array.choose (fun (gm, _, r) -> match r with Error f -> Some(sprintf "gamma = %g: %O" gm f) | Ok _ -> None)
    let selTheory0 = MultiConditions.Selectivity(m0, c0, 1)
    let selTheory = solved |> Array.map (fun (_, m, s) -> MultiConditions.Selectivity(m, s.C, 1))
    let selTimeTheory0 = MultiConditions.TimeResolvedSelectivity(m0, c0, 1)
    let selTimeTheory = solved |> Array.map (fun (_, m, s) -> MultiConditions.TimeResolvedSelectivity(m, s.C, 1))
    // 2. Adam-trained networks (μP), seeds × N × γ.
    use counter = ctx.Count("dmft-multi-condition: trainings", solved.Length * ns.Length * seeds)
    let opts = TrainingOptions(Protocol = TrainingProtocol.Adam, Steps = adamSteps, LearningRate = 0.05)
    let nets =
        solved |> Array.map (fun (_, m, _) ->
            ns |> Array.map (fun n ->
                Array.init seeds (fun k ->
                    let net = MultiConditionNetworks.Train(m, series, n, int64 (ctx.Seed * 1000 + 17 * k + n), opts)
                    counter.Tick()
                    net)))
    counter.Done()
    let dist = Array.map2 (fun (_, _, s: TiltedSolution) (byN: MultiConditionNetwork[][]) ->
                   byN |> Array.map (fun runs -> runs |> Array.map (fun net -> MultiConditions.Distance(net.Kernel, s.C)) |> meanSe)) solved nets
    let dist0 = Array.map (fun (byN: MultiConditionNetwork[][]) ->
                    byN |> Array.map (fun runs -> runs |> Array.map (fun net -> MultiConditions.Distance(net.Kernel, c0)) |> meanSe)) nets
    let pred = solved |> Array.map (fun (_, _, s) -> ns |> Array.map (fun n -> MultiConditions.SamplingDistance(s.Samples.Rates, s.C, n)))
    let worstFit = nets |> Array.collect (Array.collect (Array.map (fun net -> net.FitError))) |> fun a -> if a.Length = 0 then nan else Array.max a
    let nMax = ns.Length - 1
    let selNet = Array.map2 (fun (_, m, _) (byN: MultiConditionNetwork[][]) -> byN.[nMax] |> Array.map (fun net -> MultiConditions.Selectivity(m, net.Kernel, 1)) |> meanSe) solved nets
    let selTimeNet = Array.map2 (fun (_, m, _) (byN: MultiConditionNetwork[][]) -> byN.[nMax] |> Array.map (fun net -> MultiConditions.TimeResolvedSelectivity(m, net.Kernel, 1)) |> meanSe) solved nets
    // 3. Figures: outputs per condition (largest γ, largest N, first seed); kernel entries network vs theory; selectivity vs γ.
    let last = solved.Length - 1
    let fmt (xs: float[]) = xs |> Array.map (sprintf "%.4g") |> String.concat ", "
    let figs =
        if solved.Length = 0 then []
        else
            let net = nets.[last].[nMax].[0]
            use p1 = new ScottPlot.Plot()
            for c in 0 .. task.Conditions - 1 do
                let xs = Array.init task.Steps (fun k -> float k * task.Dt)
                let tgt = series.[c].Targets
                let l = Plots.line p1 (Array.init task.Steps (fun k -> tgt.[k].[0])) (Array.init task.Steps (fun k -> tgt.[k].[1])) (if c = 0 then "targets (v_x, v_y)" else "")
                let pts = Plots.points p1 (Array.init task.Steps (fun k -> net.Outputs.[c].[2 * k])) (Array.init task.Steps (fun k -> net.Outputs.[c].[2 * k + 1])) (if c = 0 then sprintf "network N = %d, γ = %g" net.Neurons (let (gm, _, _) = solved.[last] in gm) else "")
                pts.Color <- l.Color
                ignore xs
            Plots.labels p1 "Reach task: hand-velocity outputs per condition (lines: targets; markers: trained network)" "v_x" "v_y"
            let f1 = Plots.save p1 ctx "multi-condition-outputs.png" 800 700
            use p2 = new ScottPlot.Plot()
            let (_, _, sL) = solved.[last]
            let nj = m0.JointPoints
            let th = [| for i in 0 .. nj - 1 do for j in i .. nj - 1 -> sL.C.[i, j] |]
            for ni in [ 0; nMax ] do
                let k = nets.[last].[ni].[0].Kernel
                Plots.points p2 th [| for i in 0 .. nj - 1 do for j in i .. nj - 1 -> k.[i, j] |] (sprintf "network N = %d" ns.[ni]) |> ignore
            let lo, hi = Array.min th, Array.max th
            Plots.line p2 [| lo; hi |] [| lo; hi |] "network = DMFT" |> ignore
            Plots.labels p2 (sprintf "Joint kernel C((c,t),(c',t')): Adam networks vs DMFT, γ = %g" (let (gm, _, _) = solved.[last] in gm)) "DMFT" "network φᵀφ/N"
            let f2 = Plots.save p2 ctx "multi-condition-kernel.png" 800 700
            use p3 = new ScottPlot.Plot()
            let gs = Array.append [| 0.0 |] (solved |> Array.map (fun (gm, _, _) -> gm))
            Plots.line p3 gs (Array.append [| selTheory0 |] selTheory) "DMFT (N = ∞), time-averaged rates" |> ignore
            Plots.line p3 gs (Array.append [| selTimeTheory0 |] selTimeTheory) "DMFT (N = ∞), time-resolved" |> ignore
            Plots.pointsWithErrors p3 (solved |> Array.map (fun (gm, _, _) -> gm)) (selNet |> Array.map fst) (selNet |> Array.map snd) (sprintf "Adam networks, N = %d (%d seeds), time-averaged" ns.[nMax] seeds) |> ignore
            Plots.pointsWithErrors p3 (solved |> Array.map (fun (gm, _, _) -> gm)) (selTimeNet |> Array.map fst) (selTimeNet |> Array.map snd) (sprintf "Adam networks, N = %d, time-resolved" ns.[nMax]) |> ignore
            Plots.labels p3 "Condition selectivity vs γ (between-condition variance / total; γ = 0: random networks)" "γ" "selectivity"
            let f3 = Plots.save p3 ctx "multi-condition-selectivity.png" 800 600
            [ { File = f1; Caption = "Outputs (v_x, v_y) per reach condition: targets (lines) and a trained network (markers), largest γ and N" }
              { File = f2; Caption = "Joint kernel entries, trained networks (two N) against the DMFT, largest γ" }
              { File = f3; Caption = "Condition selectivity vs γ: DMFT and Adam-trained networks (mean ± s.e. over seeds)" } ]
    let shrink =
        dist |> Array.map (fun byN -> fst byN.[nMax] < fst byN.[0])
    let closer =
        Array.map2 (fun (byN: (float * float)[]) (byN0: (float * float)[]) -> fst byN.[nMax] < fst byN0.[nMax]) dist dist0
    let selIncreasing = Array.append [| selTimeTheory0 |] selTimeTheory |> Array.pairwise |> Array.forall (fun (a, b) -> b > a)
    // random networks (γ = 0, untrained) at the largest N: the γ = 0 end of the network curve
    let selNet0 = Array.init seeds (fun k -> MultiConditions.Selectivity(m0, (MultiConditionNetworks.Random(m0, series, ns.[nMax], int64 (ctx.Seed * 1000 + 17 * k + ns.[nMax]))).Kernel, 1)) |> meanSe
    let selTimeNet0 = Array.init seeds (fun k -> MultiConditions.TimeResolvedSelectivity(m0, (MultiConditionNetworks.Random(m0, series, ns.[nMax], int64 (ctx.Seed * 1000 + 17 * k + ns.[nMax]))).Kernel, 1)) |> meanSe
    // The networks' change of selectivity from γ = 0 (random networks) to the largest γ, against the DMFT's: same sign
    // (the theory-vs-simulation check of the trend; the kernel distances above check the values).
    let netChange = fst selTimeNet.[selTimeNet.Length - 1] - fst selTimeNet0
    let thChange = if selTimeTheory.Length = 0 then nan else selTimeTheory.[selTimeTheory.Length - 1] - selTimeTheory0
    let sameDirection = selTimeTheory.Length > 0 && Math.Sign netChange = Math.Sign thChange
    let perGamma f = Array.map2 f solved dist |> String.concat "; "
    { Name = "dmft-multi-condition"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Multi-condition (reaching-like) task: joint-index DMFT vs trained networks; selectivity vs γ"
      Parameters =
        [ "g", string g; "gammas", fmt gammas; "conditions", string task.Conditions; "steps", sprintf "%d (dt = %g)" task.Steps task.Dt
          "N", (ns |> Array.map string |> String.concat ", "); "seeds", string seeds; "particles", string chains; "adamSteps", string adamSteps; "adamLearningRate", "0.05"
          "processNoise (DMFT)", string noise; "seed", string ctx.Seed
          "task", "ReachTask defaults: one-hot cue 2 on channel c during [0, 1), go pulse 2 on [1.5, 2), speed 0.1[b(t) − b(1.5)] for t ≥ 1.5, b a bell at t = 2.5 of width 0.5, angles 2πc/C [reconstructed]" ]
      Claims =
        [ { Statement = "The N = ∞ saddle point converges on the joint (condition, time) index at every γ"
            Measured = (if failures.Length = 0 then sprintf "converged at γ = %s (iterations %s)" (fmt gammas) (solved |> Array.map (fun (_, _, s) -> string s.Diagnostics.Iterations) |> String.concat ", ") else String.concat "; " failures)
            Pass = failures.Length = 0 }
          { Statement = "Every trained network fits all conditions: relative output error < 1e-2 (paper: every (g, γ) produces accurate output)"
            Measured = sprintf "worst relative error %.3g over %d networks" worstFit (solved.Length * ns.Length * seeds)
            Pass = solved.Length > 0 && worstFit < 1e-2 }
          { Statement = sprintf "The network joint kernel approaches the DMFT kernel with N: mean relative distance at N = %d below N = %d, every γ" ns.[nMax] ns.[0]
            Measured = perGamma (fun (gm, _, _) byN -> sprintf "γ = %g: %s" gm (byN |> Array.map (fun (m, e) -> sprintf "%.3f±%.3f" m e) |> String.concat ", "))
            Pass = solved.Length > 0 && Array.forall id shrink }
          { Statement = sprintf "At N = %d the networks are closer to the DMFT kernel at their γ than to the γ = 0 kernel (the theory captures the learned structure)" ns.[nMax]
            Measured = Array.map2 (fun (gm, _, _) (byN0: (float * float)[]) -> sprintf "γ = %g: to γ = 0 kernel %.3f" gm (fst byN0.[nMax])) solved dist0 |> String.concat "; "
            Pass = solved.Length > 0 && Array.forall id closer }
          { Statement = "DMFT: time-resolved condition selectivity increases with γ (paper: at small γ weak differentiation across reach conditions; richer condition-dependent structure, diverse temporal profiles, as γ increases)"
            Measured = sprintf "γ = 0, %s: time-resolved %s; time-averaged %s" (fmt (solved |> Array.map (fun (gm, _, _) -> gm))) (fmt (Array.append [| selTimeTheory0 |] selTimeTheory)) (fmt (Array.append [| selTheory0 |] selTheory))
            Pass = solved.Length = gammas.Length && selIncreasing }
          { Statement = sprintf "Networks (N = %d) change their time-resolved selectivity from γ = 0 (random networks) to the largest γ in the direction the DMFT predicts" ns.[nMax]
            Measured = sprintf "networks γ = 0 (random): %.4f±%.4f; γ = %s: %s (change %+.4f); DMFT change %+.4f; time-averaged networks: γ = 0 %.4f±%.4f, %s" (fst selTimeNet0) (snd selTimeNet0) (solved |> Array.map (fun (gm, _, _) -> sprintf "%g" gm) |> String.concat ", ") (selTimeNet |> Array.map (fun (m, e) -> sprintf "%.4f±%.4f" m e) |> String.concat ", ") netChange thChange (fst selNet0) (snd selNet0) (selNet |> Array.map (fun (m, e) -> sprintf "%.4f±%.4f" m e) |> String.concat ", ")
            Pass = solved.Length > 0 && sameDirection } ]
      Figures = figs
      Numbers =
        [ "gammas", Json.Numbers("gammas", solved |> Array.map (fun (gm, _, _) -> gm))
          "neurons", Json.Numbers("neurons", ns |> Array.map float)
          "selectivityTheory", Json.Numbers("selectivityTheory", Array.append [| selTheory0 |] selTheory)
          "selectivityNetworks", Json.Numbers("selectivityNetworks", selNet |> Array.map fst)
          "timeResolvedSelectivityTheory", Json.Numbers("timeResolvedSelectivityTheory", Array.append [| selTimeTheory0 |] selTimeTheory)
          "timeResolvedSelectivityNetworks", Json.Numbers("timeResolvedSelectivityNetworks", Array.append [| fst selTimeNet0 |] (selTimeNet |> Array.map fst))
          "worstFitError", Json.Measured worstFit
          "kernelDistance", Json.Numbers("kernelDistance", dist |> Array.collect (Array.map fst))
          "kernelDistanceGamma0", Json.Numbers("kernelDistanceGamma0", dist0 |> Array.collect (Array.map fst))
          "samplingDistance", Json.Numbers("samplingDistance", pred |> Array.concat) ]
      Notes =
        [ "Kernel distance = ‖C_N − C_DMFT‖_F/‖C_DMFT‖_F over the joint index, mean ± s.e. over seeds (kernelDistance: γ-major, then N). samplingDistance is the distance expected from N independent draws of the DMFT single-site measure, √(ΣVar(φφ)/N)/‖C‖ (the 1/√N scale): a distance that stops shrinking with N above it is a protocol difference (Adam from the random initialisation vs the posterior the DMFT describes), not finite size."
          "The DMFT carries process noise σ = 0.1 (a trained white input regularising the kernel); the networks have none: an O(σ²) difference."
          "x(0) = 0 in every condition; the input weights U_a of every channel are per-neuron variables of the single-site measure (TiltedProblem.InputWeightResponse), and the first step of each condition carries its own process noise (docs/dmft-multi-condition.md)."
          "Selectivity: time-averaged = between-condition variance of each neuron's trial-averaged rate over its total variance; time-resolved = between-condition variance at each time, summed over time, over the total (counts condition-dependent temporal profiles). Both are functions of the joint kernel, so networks and theory are measured alike; γ = 0 networks are untrained random networks."
          "A FAIL of the selectivity claim is the DMFT's prediction for this reconstructed task, not a solver failure: at g = 1.5 a random network already differentiates the conditions strongly (each cue sends it on its own chaotic path), and learning the common speed profile adds condition-common structure, so both selectivities fall with γ (also with a weak cue, A = 0.5, and with a two-channel direction cue; docs/dmft-multi-condition.md)." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "dmft-multi-condition"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Multi-condition task: joint-index DMFT vs trained networks (reaching)"
      Run = run }

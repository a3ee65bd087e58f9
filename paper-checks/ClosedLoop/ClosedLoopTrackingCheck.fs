/// Paper-check for Ger & Barak 2025, §5 and App. D: closed- vs open-loop training on the multi-frequency tracking
/// task (issue 18 item 2). "In contrast, open-loop RNNs displayed a test loss peak before convergence, consistent
/// with the double integrator" (§5); research note §14.5: tracking, open R = 2.95 at epoch 47, closed R = 1.18.
module Theory.PaperChecks.ClosedLoopTrackingCheck

open System
open Theory.Core.Io
open Theory.Simulation.ClosedLoop
open Theory.PaperChecks.ClosedLoopRuns

let private paper = "Ger & Barak 2025"
let private claim s m p = { Statement = s; Measured = m; Pass = p }
let private log10s (xs: float seq) = xs |> Seq.map (fun x -> Math.Log10(max x 1e-300)) |> Array.ofSeq
let private nums k (xs: float seq) = k, Json.Numbers(k, xs)

/// mean ± standard error over seeds
let private meanSe (xs: float[]) =
    let m = Array.average xs
    let se = if xs.Length < 2 then 0.0 else sqrt ((xs |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (xs.Length - 1) / float xs.Length)
    m, se

let private tested (rs: seq<TrackingRecord>) = rs |> Seq.filter (fun r -> r.ComponentLosses.Length > 0) |> Array.ofSeq

let check: PaperCheck =
    { Name = "closed-loop-tracking-open"
      Paper = paper
      Title = "Tracking (§5, App. D): open-loop students show a deployed test-loss peak, closed-loop training does not"
      Run =
        fun ctx ->
            // quick: reduced network (the paper: N = 100, batch 100, teacher trained 10 000 epochs)
            let nUnits, batch, teacherEpochs, openEpochs, every, testBatch, nSeeds =
                if ctx.Quick then 30, 20, 400, 100, 5, 10, 3 else 100, 100, 2000, 300, 5, 50, 5
            let seeds = [ for i in 0 .. nSeeds - 1 -> ctx.Seed + i ]
            let task = TrackingTask()
            use counter = ctx.Count("tracking-open: seeds", seeds.Length)
            let runs =
                seeds |> List.map (fun s ->
                    ctx.Progress (sprintf "  tracking-open: seed %d (closed-loop teacher %d epochs, open-loop student %d epochs, N = %d)" s teacherEpochs openEpochs nUnits)
                    let w0 = TrackingEngine.Weights.Init(nUnits, 0.2, Theory.Core.Numerics.Rng(int64 s))
                    let c = TrackingComparison.Run(w0, task, teacherEpochs, openEpochs, batch, 1e-3, int64 s, testBatch, every)
                    counter.Tick()
                    s, w0, c)
            counter.Done()
            let ratio (rs: Collections.Generic.IReadOnlyList<TrackingRecord>) = let struct (r, e) = TrackingComparison.PeakRatio rs in r, e
            let rOpen = runs |> List.map (fun (_, _, c) -> ratio c.Open) |> Array.ofList
            let rClosed = runs |> List.map (fun (_, _, c) -> ratio c.Closed) |> Array.ofList
            let ro, rc = rOpen |> Array.map fst, rClosed |> Array.map fst
            let nPeak = ro |> Array.filter (fun r -> r >= 1.2) |> Array.length
            let needPeaks = (2 * seeds.Length + 2) / 3
            // the open-loop objective at the peak epoch vs at epoch 0
            let trainAtPeak =
                runs |> List.mapi (fun i (_, _, c) ->
                    let _, e = rOpen.[i]
                    if e < 0 then nan else c.Open.[e].TrainLoss / c.Open.[0].TrainLoss) |> Array.ofList
            let finalOpen = runs |> List.map (fun (_, _, c) -> (tested c.Open |> Array.last).TestLoss) |> Array.ofList
            let finalTeacher = runs |> List.map (fun (_, _, c) -> (tested c.Closed |> Array.last).TestLoss) |> Array.ofList
            let finalRatio = Array.map2 (/) finalOpen finalTeacher
            let rhoAtPeak =
                runs |> List.mapi (fun i (_, _, c) ->
                    let _, e = rOpen.[i]
                    let ts = tested c.Open
                    match ts |> Array.tryFindIndex (fun r -> r.Epoch = e) with
                    | Some j when j < c.OpenRadius.Length -> c.OpenRadius.[j]
                    | _ -> nan) |> Array.ofList
            // App. D: "learning the input weights was essential" -- student with M frozen, base seed only
            let _, w0, c0 = runs.Head
            ctx.Progress "  tracking-open: base seed again with the student's input weights frozen"
            let frozen = OpenLoopTrackingTrainer.Train(w0, c0.Teacher, task, openEpochs, batch, 1e-3, int64 ctx.Seed, testBatch, every, false) |> Array.ofSeq
            let frozenFinal = frozen.[frozen.Length - 1].TrainLoss
            let trainedFinal = c0.Open.[c0.Open.Count - 1].TrainLoss
            // figures
            use plt = new ScottPlot.Plot()
            for (s, _, c) in runs do
                let tc, tOp = tested c.Closed, tested c.Open
                Plots.line plt (tc |> Array.map (fun r -> float r.Epoch)) (log10s (tc |> Array.map (fun r -> r.TestLoss))) (sprintf "closed loop, seed %d" s) |> ignore
                Plots.line plt (tOp |> Array.map (fun r -> float r.Epoch)) (log10s (tOp |> Array.map (fun r -> r.TestLoss))) (sprintf "open loop, seed %d" s) |> ignore
            Plots.labels plt "Tracking: deployed (closed-loop) test loss" "epoch" "log10 test loss"
            let f1 = Plots.save plt ctx "closed-loop-tracking-open.png" 900 550
            use plt2 = new ScottPlot.Plot()
            let comps = task.Components()
            let tc0, to0 = tested c0.Closed, tested c0.Open
            comps |> Array.iteri (fun k struct (f, _, _) ->
                Plots.line plt2 (tc0 |> Array.map (fun r -> float r.Epoch)) (log10s (tc0 |> Array.map (fun r -> r.ComponentLosses.[k]))) (sprintf "closed %.1f Hz" f) |> ignore
                Plots.line plt2 (to0 |> Array.map (fun r -> float r.Epoch)) (log10s (to0 |> Array.map (fun r -> r.ComponentLosses.[k]))) (sprintf "open %.1f Hz" f) |> ignore)
            Plots.labels plt2 (sprintf "Tracking: per-frequency probe losses, seed %d" ctx.Seed) "epoch" "log10 probe loss"
            let f2 = Plots.save plt2 ctx "closed-loop-tracking-open-components.png" 900 550
            let mo, so = meanSe ro
            let mc, sc = meanSe rc
            let peakTrain = trainAtPeak |> Array.filter (fun x -> not (Double.IsNaN x))
            { Name = "closed-loop-tracking-open"; Paper = paper; Title = "Tracking: closed- vs open-loop training"
              Parameters =
                [ "network", sprintf "linear leaky RNN, N = %d, a = 0.1, g = 0.2; closed loop: W, Z trained (M frozen); open loop: W, M, Z trained" nUnits
                  "training", sprintf "Adam lr 1e-3, no clipping, batch %d; teacher = closed-loop run after %d epochs; student from the same initialisation, %d epochs" batch teacherEpochs openEpochs
                  "test", sprintf "deployed closed-loop loss on a fixed set of %d references every %d epochs (the same set for both protocols)" testBatch every
                  "task", "App. D: Delta = 0.1, 300 steps, a = 2.31, f = 0.1, 0.2, 0.3, 0.4 Hz, 1 s ramp, clamp 10"
                  "seeds", fmtInts seeds ]
              Claims =
                [ claim (sprintf "open-loop students show a deployed test-loss peak: R = max_e L_e / min_{e'<e} L_e' >= 1.2 on at least %d of %d seeds (paper: R = 2.95)" needPeaks seeds.Length)
                        (sprintf "R_open = %s (mean %.3f +- %.3f s.e.); peak epochs %s" (fmtList ro) mo so (fmtInts (rOpen |> Array.map snd))) (nPeak >= needPeaks)
                  claim "closed-loop training has no comparable peak: R_closed < 1.2 and R_closed < R_open on every seed (paper: R = 1.18)"
                        (sprintf "R_closed = %s (mean %.3f +- %.3f s.e.)" (fmtList rc) mc sc) (Array.forall2 (fun c o -> c < 1.2 && c < o) rc ro)
                  claim "the peak is invisible to the open-loop objective: at every peak epoch the imitation loss is already below half its initial value"
                        (sprintf "L_open(peak)/L_open(0) = %s" (fmtList trainAtPeak)) (peakTrain.Length > 0 && peakTrain |> Array.forall (fun x -> x < 0.5))
                  claim "the student recovers (\"a test loss peak before convergence\"): its final deployed loss is within 15% of the teacher's on every seed"
                        (sprintf "final open / final closed = %s" (fmtList finalRatio)) (finalRatio |> Array.forall (fun r -> r < 1.15)) ]
              Figures =
                [ { File = f1; Caption = "Deployed closed-loop test loss (log10) of closed-loop training (the teacher run) and of the open-loop student, every seed." }
                  { File = f2; Caption = "Per-frequency single-sinusoid probe losses (log10), base seed, both protocols." } ]
              Numbers =
                [ nums "peakRatioOpen" ro; nums "peakRatioClosed" rc; nums "peakEpochOpen" (rOpen |> Array.map (snd >> float))
                  nums "finalDeployedOpen" finalOpen; nums "finalDeployedClosed" finalTeacher
                  nums "spectralRadiusAtOpenPeak" (rhoAtPeak |> Array.filter (fun x -> not (Double.IsNaN x)))
                  nums "maxSpectralRadiusClosed" (runs |> List.map (fun (_, _, c) -> Array.max c.ClosedRadius))
                  nums "frozenVsTrainedInputFinalImitationLoss" [ frozenFinal; trainedFinal ] ]
              Notes =
                [ "The paper gives no formula for the open-loop deployed loss; the comparison is empirical. Theory used: rho(P) of the deployed joint system (TrackingTheory.jointSystem) at each test epoch is reported; the trained networks stay marginally unstable (rho slightly above 1, bounded by the clamp), so the steady-state per-frequency losses of TrackingTheory do not apply to them."
                  sprintf "App. D says learning the input weights is essential for the open-loop student. Measured on the base seed (not a claim): final imitation loss %.3g with M frozen vs %.3g with M trained." frozenFinal trainedFinal
                  "Quick variant: N = 30, batch 20, teacher 400 closed-loop epochs (it has acquired the 0.1 Hz component only), student 100 epochs, 3 seeds, test batch 10 every 5 epochs (the paper: N = 100, batch 100, 10 000 teacher epochs, R measured on its saved data). Full variant: N = 100, batch 100, teacher 2000 epochs, student 300 epochs, 5 seeds, test batch 50; not run for this report (hours on 2 cores)."
                  "Peak ratio R as in research note §14.5 (test epochs only). The 1.2 threshold is this library's, chosen between the paper's closed (1.18) and open (2.95) values."
                  "Seed dependence (quick, base seeds 1, 101, 201, 301 = 12 seeds, measured 2026-12-06): the whole check passed on 1/4 runs; R_open >= 1.2 on 7/12 seeds, R_open > R_closed on 11/12 (one tie at 1.000), R_closed >= 1.2 on 2/12; see docs/closed-loop.md." ]
              ElapsedSeconds = 0.0 } }

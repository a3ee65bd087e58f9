module Theory.Tests.ClosedLoopEngineTests

open System
open Expecto
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.ClosedLoop
open Theory.Simulation
open Theory.Simulation.ClosedLoop
open Theory.Tests.TestUtil

let private task t = ControlTask(Plant.doubleIntegrator 1.0, t, 0.0, LossNormalisation.Theory)

/// Central-difference check of every gradient entry of the chosen parameter arrays.
let private checkGradient (name: string) (lossOf: unit -> float) (param: float[]) (grad: float[]) (sync: unit -> unit) =
    let h = 1e-6
    let mutable worst = 0.0
    for i in 0 .. param.Length - 1 do
        let old = param.[i]
        param.[i] <- old + h
        sync ()
        let lp = lossOf ()
        param.[i] <- old - h
        sync ()
        let lm = lossOf ()
        param.[i] <- old
        sync ()
        let fd = (lp - lm) / (2.0 * h)
        let err = abs (fd - grad.[i]) / max 1e-6 (abs fd + abs grad.[i])
        worst <- max worst err
    Expect.isLessThan worst 1e-5 (sprintf "%s: worst relative error vs finite differences" name)

let engineTests =
    testList "Engine" [
        test "closed-loop rollout with linear phi equals iterating the joint matrix P (a = 1 and a = 0.3)" {
            let rng = Rng(4)
            for leak in [ 1.0; 0.3 ] do
                let c0 = RnnController.NonlinearInit(12, 0.8, rng, Activation.Identity, leak)
                let c = RnnController.Full(c0.W, Array.map (fun x -> 20.0 * x) c0.M, Array.map (fun x -> 20.0 * x) c0.Z, leak, Activation.Identity)
                let tk = task 15
                let eng = BpttEngine(12, 2, 15)
                let x0 = [| 0.7; -0.4 |]
                eng.ForwardClosedLoop(c, tk, x0, 1) |> ignore
                let p = ClosedLoopTrainer.JointMatrix(c, tk)
                let mutable s = Array.append x0 (Array.zeroCreate 12)
                for t in 0 .. 14 do
                    let x = eng.State(t, 0, 1).ToArray()
                    Expect.floatClose (accuracy 1e-12 1e-12) x.[0] s.[0] (sprintf "a=%g x1 at t=%d" leak t)
                    Expect.floatClose (accuracy 1e-12 1e-12) x.[1] s.[1] (sprintf "a=%g x2 at t=%d" leak t)
                    s <- Array.init s.Length (fun i -> Seq.sum (seq { for j in 0 .. s.Length - 1 -> p.[i, j] * s.[j] }))
        }
        test "BPTT gradients equal finite differences: full-rank tanh, leaky, rank-one, beta > 0, open loop" {
            let rng = Rng(8)
            let n, t, b = 7, 9, 3
            let x0 = ClosedLoopTrainer.InitialStates(rng, b, 2, 1.0)
            for (leak, beta, norm) in [ 1.0, 0.0, LossNormalisation.Theory; 0.4, 0.3, LossNormalisation.Nonlinear ] do
                let c0 = RnnController.NonlinearInit(n, 0.9, rng, Activation.Tanh, leak)
                let c = RnnController.Full(c0.W, Array.map (fun x -> 5.0 * x) c0.M, Array.map (fun x -> 5.0 * x) c0.Z, leak, Activation.Tanh)
                let tk = ControlTask(Plant.doubleIntegrator 1.0, t, beta, norm)
                let eng = BpttEngine(n, 2, t)
                let g = Gradients(n)
                eng.ForwardClosedLoop(c, tk, x0, b) |> ignore
                eng.BackwardClosedLoop(c, tk, b, g)
                let loss () = BpttEngine(n, 2, t).ForwardClosedLoop(c, tk, x0, b)
                checkGradient "W" loss c.W g.GW ignore
                checkGradient "m" loss c.M g.GM ignore
                checkGradient "z" loss c.Z g.GZ ignore
            // rank-one: gradients with respect to u and v
            let r = RnnController.RankOneInit(n, rng, 0.5)
            let tk = task t
            let eng = BpttEngine(n, 2, t)
            let g = Gradients(n)
            eng.ForwardClosedLoop(r, tk, x0, b) |> ignore
            eng.BackwardClosedLoop(r, tk, b, g)
            let loss () = BpttEngine(n, 2, t).ForwardClosedLoop(r, tk, x0, b)
            checkGradient "u" loss r.U g.GU (fun () -> r.SyncW())
            checkGradient "v" loss r.V g.GV (fun () -> r.SyncW())
            checkGradient "z (rank one)" loss r.Z g.GZ ignore
            // rank-one fast path (g = 0, no bulk): same checks
            let r0 = RnnController.RankOneInit(n, rng)
            let g0 = Gradients(n)
            eng.ForwardClosedLoop(r0, tk, x0, b) |> ignore
            eng.BackwardClosedLoop(r0, tk, b, g0)
            let loss0 () = BpttEngine(n, 2, t).ForwardClosedLoop(r0, tk, x0, b)
            checkGradient "u (fast path)" loss0 r0.U g0.GU (fun () -> r0.SyncW())
            checkGradient "v (fast path)" loss0 r0.V g0.GV (fun () -> r0.SyncW())
            checkGradient "z (fast path)" loss0 r0.Z g0.GZ ignore
            // open loop
            let c = RnnController.NonlinearInit(n, 0.9, rng, Activation.Tanh)
            let inputs = Array.init (t * b) (fun i -> if i < b then 0.0 else rng.NextGaussian())
            let targets = Array.init (t * b) (fun _ -> 0.1 * rng.NextGaussian())
            eng.ForwardOpenLoop(c, inputs, targets, b, 0.5) |> ignore
            eng.BackwardOpenLoop(c, targets, b, 0.5, g)
            let loss () = BpttEngine(n, 2, t).ForwardOpenLoop(c, inputs, targets, b, 0.5)
            checkGradient "W open loop" loss c.W g.GW ignore
            checkGradient "m open loop" loss c.M g.GM ignore
        }
        test "optimisers: SGD step is -lr*g; clipping caps the step norm; Adam's first step has size lr per coordinate" {
            let p = [| 1.0; 2.0 |]
            let g = [| 3.0; 4.0 |]
            let sgd = Optimizer(OptimizerKind.Sgd, 0.1, 0.0)
            sgd.Step(ResizeArray [ p ], ResizeArray [ g ]) |> ignore
            Expect.floatClose (accuracy 1e-15 0.0) p.[0] 0.7 "sgd"
            let p2 = [| 0.0; 0.0 |]
            let clipped = Optimizer(OptimizerKind.Sgd, 1.0, 1.0)
            let norm = clipped.Step(ResizeArray [ p2 ], ResizeArray [ g ])
            Expect.floatClose (accuracy 1e-12 0.0) norm 5.0 "norm reported"
            Expect.floatClose (accuracy 1e-6 0.0) (sqrt (p2.[0] ** 2.0 + p2.[1] ** 2.0)) 1.0 "clipped to 1"
            let p3 = [| 0.0; 0.0 |]
            let adam = Optimizer(OptimizerKind.Adam, 0.01, 0.0)
            adam.Step(ResizeArray [ p3 ], ResizeArray [ g ]) |> ignore
            Expect.floatClose (accuracy 1e-8 0.0) p3.[0] -0.01 "adam step"
            Expect.throwsT<NoSolutionException> (fun () -> sgd.Step(ResizeArray [ p ], ResizeArray [ [| nan; 0.0 |] ]) |> ignore) "non-finite gradient"
        }
        test "rank-one closed-loop training: stage 1 drives szm negative; Eq. 12 tracks the exact real root along stage 2" {
            let c = RnnController.RankOneInit(100, Rng(1))
            let s = TrainingSettings(Epochs = 90, Seed = 1L)
            let r = ClosedLoopTrainer.Train(c, ControlTask.TheoryDefault(), s)
            Expect.isGreaterThanOrEqual r.Stages.EndOfStage1 0 "stage 1 ends"
            let e1 = r.Stages.EndOfStage1
            let rec1 = r.Records.[e1]
            Expect.isLessThan rec1.Overlaps.[0] 0.0 "szm < 0 at e1"
            Expect.isGreaterThan rec1.Overlaps.[0] -0.05 "szm small"
            Expect.isLessThan r.Records.[r.Records.Count - 1].TestLoss (r.Records.[0].TestLoss / 10.0) "loss fell by >10x"
            let mutable worst = 0.0
            for rc in r.Records do
                if rc.Epoch >= e1 && rc.ComplexRoot.HasValue then
                    let o = Overlaps.OfArray rc.Overlaps
                    worst <- max worst (abs (Stage2.eq12 o - rc.RealRoot.Value))
            Expect.isLessThan worst 1.5e-3 "Eq. 12 error along stage 2 (research note: <= 1.5e-3)"
            // determinism: same seed, same numbers
            let r2 = ClosedLoopTrainer.Train(c, ControlTask.TheoryDefault(), TrainingSettings(Epochs = 5, Seed = 1L))
            for e in 0 .. 4 do
                Expect.equal r2.Records.[e].TrainLoss r.Records.[e].TrainLoss "reproducible"
        }
        test "open-loop teacher-student reduces the imitation loss (white noise and teacher-drives-plant)" {
            let teacher = RnnController.RankOneInit(30, Rng(2))
            let tr = ClosedLoopTrainer.Train(teacher, ControlTask.TheoryDefault(), TrainingSettings(Epochs = 60, Seed = 2L, DiagnosticsEvery = 20))
            for mode in [ TrainingMode.OpenLoopWhiteNoise; TrainingMode.OpenLoopTeacherPlant ] do
                let st = ClosedLoopTrainer.Train(teacher, ControlTask.TheoryDefault(), TrainingSettings(Mode = mode, Epochs = 40, Seed = 3L, Teacher = tr.Final, DiagnosticsEvery = 10, Optimizer = OptimizerKind.Adam, LearningRate = 1e-2))
                Expect.isLessThan st.Records.[39].TrainLoss (st.Records.[0].TrainLoss / 2.0) (sprintf "%A: imitation loss halves" mode)
        }
        test "the N = 2 reduced-model controller reproduces the overlaps, the spectrum and the test loss of a rank-one network" {
            let c = RnnController.RankOneInit(100, Rng(5))
            let o = c.Overlaps()
            let red = RnnController.ReducedModel o
            let o2 = red.Overlaps()
            for (a, b) in Array.zip (o.ToArray()) (o2.ToArray()) do
                Expect.floatClose (accuracy 1e-15 0.0) b a "overlap"
            let x0 = ClosedLoopTrainer.InitialStates(Rng(6), 20, 2, 2.0)
            let tk = task 50
            relClose 1e-10 (ClosedLoopTrainer.TestLoss(red, tk, x0)) (ClosedLoopTrainer.TestLoss(c, tk, x0)) "same deployed loss"
            // gradient of the reduced model = gradient on the overlaps: d/dz1 = dL/dszm etc. (frozen m, u)
            let eng = BpttEngine(2, 2, 50)
            let g = Gradients(2)
            eng.ForwardClosedLoop(red, tk, x0, 20) |> ignore
            eng.BackwardClosedLoop(red, tk, 20, g)
            let lossAt (d: float[]) =
                let r = RnnController.ReducedModel(Overlaps.OfArray(Array.map2 (+) (o.ToArray()) d))
                ClosedLoopTrainer.TestLoss(r, tk, x0)
            let h = 1e-6
            let fd i = (lossAt (Array.init 4 (fun j -> if j = i then h else 0.0)) - lossAt (Array.init 4 (fun j -> if j = i then -h else 0.0))) / (2.0 * h)
            relClose 1e-5 g.GZ.[0] (fd 0) "dL/dszm"
            relClose 1e-5 g.GZ.[1] (fd 1) "dL/dszu"
            relClose 1e-5 g.GV.[0] (fd 2) "dL/dsvm"
            relClose 1e-5 g.GV.[1] (fd 3) "dL/dsvu"
        }
        test "stage detection on synthetic records: e1 = first complex pair with szm < 0; e_s = start of the final stable stretch" {
            let mk e rho (szm: float) complex =
                EpochRecord(Epoch = e, SpectralRadius = rho, Overlaps = [| szm; 0.0; 0.0; 0.0 |],
                            ComplexRoot = (if complex then Nullable(Numerics.Complex(1.0, 0.1)) else Nullable()))
            let recs = [| mk 0 1.1 0.01 false; mk 1 1.05 -0.01 true; mk 2 1.01 -0.02 true; mk 3 0.99 -0.03 true; mk 4 1.001 -0.03 true; mk 5 0.98 -0.04 true; mk 6 0.9 -0.5 true |]
            let st = StageBoundaries.Detect recs
            Expect.equal st.EndOfStage1 1 "e1"
            Expect.equal st.Stabilisation 5 "e_s (the flicker at epoch 3 does not count)"
            Expect.equal st.PlateauLength 4 "plateau"
            let never = StageBoundaries.Detect [| mk 0 1.1 0.01 false; mk 1 1.2 0.02 false |]
            Expect.equal never.EndOfStage1 -1 "no stage-1 end"
            Expect.equal never.Stabilisation -1 "never stable"
            Expect.equal never.PlateauLength -1 "undefined plateau"
        }
        test "tracking task (App. D): references, BPTT gradients equal finite differences (with and without active clamps)" {
            let tk = TrackingTask(Steps = 12)
            let refs = tk.References(Rng(3), 2)
            Expect.floatClose (accuracy 1e-15 0.0) refs.[0] 0.0 "ramp starts at 0"
            let probe = tk.References(Rng(3), 1, 0)
            Expect.floatClose (accuracy 1e-15 0.0) probe.[1] 0.0 "probe 0 (0.1 Hz) is an x component: r_y = 0"
            Expect.equal (tk.Components() |> Array.map (fun struct (f, _, _) -> f)) [| 0.1; 0.2; 0.3; 0.4 |] "components sorted"
            for clamp in [ 10.0; 0.05 ] do
                let task = TrackingTask(Steps = 12, Clamp = clamp)
                let w0 = TrackingEngine.Weights.Init(6, 0.8, Rng(4), 0.3)
                let w = TrackingEngine.Weights(w0.W, w0.M, Array.map (fun x -> 30.0 * x) w0.Z, 0.3, Activation.Tanh)
                let eng = TrackingEngine(6, 12)
                let gW, gM, gZ = Array.zeroCreate 36, Array.zeroCreate 24, Array.zeroCreate 12
                eng.Forward(w, task, refs, 2) |> ignore
                eng.Backward(w, task, refs, 2, gW, gM, gZ)
                let loss () = TrackingEngine(6, 12).Forward(w, task, refs, 2)
                checkGradient (sprintf "tracking W (clamp %g)" clamp) loss w.W gW ignore
                checkGradient (sprintf "tracking M (clamp %g)" clamp) loss w.M gM ignore
                checkGradient (sprintf "tracking Z (clamp %g)" clamp) loss w.Z gZ ignore
            let recs = TrackingTrainer.Train(TrackingEngine.Weights.Init(10, 0.2, Rng(5)), TrackingTask(Steps = 60), 40, 8, 1e-2, 5L, 8, 39)
            Expect.isLessThan recs.[39].TestLoss recs.[0].TestLoss "Adam lowers the tracking test loss"
            Expect.equal recs.[39].ComponentLosses.Length 4 "four probes"
        }
        test "bad engine inputs: empty batch, mismatched sizes, missing teacher" {
            let c = RnnController.RankOneInit(5, Rng(1))
            let eng = BpttEngine(5, 2, 10)
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> eng.ForwardClosedLoop(c, task 10, ReadOnlySpan<float>(Array.empty<float>), 0) |> ignore) "empty batch"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> eng.ForwardClosedLoop(c, task 10, ReadOnlySpan<float>([| 1.0 |]), 1) |> ignore) "x0 size"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> BpttEngine(6, 2, 10).ForwardClosedLoop(c, task 10, ReadOnlySpan<float>([| 1.0; 0.0 |]), 1) |> ignore) "N mismatch"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> ClosedLoopTrainer.Train(c, task 10, TrainingSettings(Mode = TrainingMode.OpenLoopWhiteNoise)) |> ignore) "teacher"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> RnnController.Full(Array.zeroCreate 3, [| 1.0; 2.0 |], [| 1.0; 2.0 |], 1.0, Activation.Tanh) |> ignore) "W size"
        }
    ]

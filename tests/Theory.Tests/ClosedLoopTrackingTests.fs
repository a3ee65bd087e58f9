/// Tracking task of Ger & Barak 2025 (App. D): open-loop (teacher–student) training engine, steady-state theory,
/// closed- vs open-loop comparison, CLI.
module Theory.Tests.ClosedLoopTrackingTests

open System
open Expecto
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.ClosedLoop
open Theory.Simulation
open Theory.Simulation.ClosedLoop
open Theory.Tests.TestUtil

/// Central-difference check of every entry of a parameter array.
let private checkGradient (name: string) (lossOf: unit -> float) (param: float[]) (grad: float[]) =
    let h = 1e-6
    let mutable worst = 0.0
    for i in 0 .. param.Length - 1 do
        let old = param.[i]
        param.[i] <- old + h
        let lp = lossOf ()
        param.[i] <- old - h
        let lm = lossOf ()
        param.[i] <- old
        let fd = (lp - lm) / (2.0 * h)
        let err = abs (fd - grad.[i]) / max 1e-7 (abs fd + abs grad.[i])
        worst <- max worst err
    Expect.isLessThan worst 1e-5 (sprintf "%s: worst relative error vs central finite differences" name)

let private ctrl (w: TrackingEngine.Weights) : TrackingController = { W = w.W; M = w.M; Z = w.Z; Leak = w.Leak }

/// A stable linear tracking controller built by hand (a = 0.1): per axis k, a fast unit (W_ff = −(1−a)/a, so
/// h = a·e_i) and a low-pass unit (pole 1 − a), both fed e = r − p; u = 4e − 3·LP(e) (a lead compensator);
/// ρ(P) = 0.98 for eps = 0. Units beyond 4 and all entries get a seeded perturbation of size eps.
let private stableController (n: int) (eps: float) (seed: int) =
    let a = 0.1
    let rng = Rng(seed)
    let w = Array.init (n * n) (fun _ -> eps * rng.NextGaussian() / sqrt (float n))
    let m = Array.init (n * 4) (fun _ -> eps * rng.NextGaussian())
    let z = Array.init (n * 2) (fun _ -> eps * rng.NextGaussian())
    for k in 0 .. 1 do
        let f, s = 2 * k, 2 * k + 1
        w.[f * n + f] <- w.[f * n + f] - (1.0 - a) / a
        m.[f * 4 + k] <- m.[f * 4 + k] - 1.0
        m.[f * 4 + 2 + k] <- m.[f * 4 + 2 + k] + 1.0
        m.[s * 4 + k] <- m.[s * 4 + k] - 1.0
        m.[s * 4 + 2 + k] <- m.[s * 4 + 2 + k] + 1.0
        z.[f * 2 + k] <- z.[f * 2 + k] + 4.0 / a
        z.[s * 2 + k] <- z.[s * 2 + k] - 3.0
    TrackingEngine.Weights(w, m, z, a, Activation.Identity)

let private components (task: TrackingTask) =
    task.Components() |> Array.map (fun struct (f, axis, _) -> { Frequency = f; Axis = axis; Amplitude = task.Amplitude })

let private peakRatio (losses: float[]) =
    let mutable best = 1.0
    let mutable runMin = losses.[0]
    for e in 1 .. losses.Length - 1 do
        best <- max best (losses.[e] / runMin)
        runMin <- min runMin losses.[e]
    best

[<Tests>]
let tests =
    testList "ClosedLoopTracking" [
        test "open-loop BPTT gradients of W, M, Z match central finite differences (linear and tanh)" {
            let task = TrackingTask(Steps = 12)
            let refs = task.References(Rng(3), 2)
            let t0 = TrackingEngine.Weights.Init(6, 0.8, Rng(11), 0.3)
            let teacher = TrackingEngine.Weights(t0.W, t0.M, Array.map (fun x -> 20.0 * x) t0.Z, 0.3, Activation.Identity)
            let roll = OpenLoopTrackingEngine.TeacherRollout(teacher, task, refs, 2)
            for phi in [ Activation.Identity; Activation.Tanh ] do
                let s0 = TrackingEngine.Weights.Init(6, 0.8, Rng(12), 0.3)
                let w = TrackingEngine.Weights(s0.W, Array.map (fun x -> 3.0 * x) s0.M, Array.map (fun x -> 10.0 * x) s0.Z, 0.3, phi)
                let eng = OpenLoopTrackingEngine(6, 12)
                let gW, gM, gZ = Array.zeroCreate 36, Array.zeroCreate 24, Array.zeroCreate 12
                let l = eng.Forward(w, task, roll)
                Expect.isGreaterThan l 0.0 "student differs from teacher"
                eng.Backward(w, task, roll, gW, gM, gZ)
                let loss () = OpenLoopTrackingEngine(6, 12).Forward(w, task, roll)
                checkGradient (sprintf "open-loop W (%A)" phi) loss w.W gW
                checkGradient (sprintf "open-loop M (%A)" phi) loss w.M gM
                checkGradient (sprintf "open-loop Z (%A)" phi) loss w.Z gZ
        }
        test "teacher rollout reproduces the closed-loop engine (loss, clamp active or not); student = teacher has zero loss and gradient" {
            for clamp in [ 10.0; 0.05 ] do
                let task = TrackingTask(Steps = 40, Clamp = clamp)
                let refs = task.References(Rng(5), 3)
                let t0 = TrackingEngine.Weights.Init(8, 0.5, Rng(6))
                let teacher = TrackingEngine.Weights(t0.W, t0.M, Array.map (fun x -> 30.0 * x) t0.Z, 0.1, Activation.Identity)
                let roll = OpenLoopTrackingEngine.TeacherRollout(teacher, task, refs, 3)
                let direct = TrackingEngine(8, 40).Forward(teacher, task, refs, 3)
                Expect.floatClose (accuracy 1e-14 1e-12) roll.TrackingLoss direct (sprintf "rollout loss = engine loss (clamp %g)" clamp)
                let eng = OpenLoopTrackingEngine(8, 40)
                let l = eng.Forward(teacher, task, roll)
                Expect.floatClose (accuracy 1e-20 0.0) l 0.0 "student = teacher: zero imitation loss"
                let gW, gM, gZ = Array.zeroCreate 64, Array.zeroCreate 32, Array.zeroCreate 16
                eng.Backward(teacher, task, roll, gW, gM, gZ)
                Expect.floatClose (accuracy 1e-20 0.0) (Optimizer.Norm [| gW; gM; gZ |]) 0.0 "zero gradient at the teacher"
        }
        test "joint system (P, G) iterated from s0 = 0 reproduces the engine's tracking loss (linear controller, clamp inactive)" {
            let task = TrackingTask(Steps = 80, Clamp = 1e12)
            let w = stableController 6 0.05 9
            let refs = task.References(Rng(2), 1)
            let p, g = TrackingTheory.jointSystem task.Dt (ctrl w)
            let dim = Array2D.length1 p
            let mutable s = Array.zeroCreate dim
            let mutable loss = 0.0
            for i in 0 .. task.Steps - 1 do
                let rx, ry = refs.[2 * i], refs.[2 * i + 1]
                s <- Array.init dim (fun a -> (Seq.sum (seq { for b in 0 .. dim - 1 -> p.[a, b] * s.[b] })) + g.[a, 0] * rx + g.[a, 1] * ry)
                loss <- loss + task.Dt / float task.Steps * ((s.[0] - rx) ** 2.0 + (s.[2] - ry) ** 2.0)
            let sim = TrackingEngine(6, 80).Forward(w, task, refs, 1)
            Expect.floatClose (accuracy 1e-13 1e-10) loss sim "P-iteration = engine"
        }
        test "steady-state per-frequency deployed and open-loop losses match long simulations with an O(1/n) error" {
            // The theory is the n → ∞ time average; the simulated episode adds the 1 s ramp and the transient from
            // s0 = 0 (decaying like ρ(P)^i, ρ = 0.98), a fixed total that the 1/n average dilutes: the relative error
            // must fall roughly 4x when n grows 4x (checked: below 0.45x) and be below 8% at n = 9600.
            let teacher = stableController 6 0.0 1
            let student = stableController 6 0.05 4
            let errs (n: int) =
                let task = TrackingTask(Steps = n, Clamp = 1e12)
                components task |> Array.mapi (fun c k ->
                    let refs = task.References(Rng.ForStream(7L, int64 c), 4, c)
                    let dep = TrackingEngine(6, n).Forward(teacher, task, refs, 4)
                    let roll = OpenLoopTrackingEngine.TeacherRollout(teacher, task, refs, 4)
                    let op = OpenLoopTrackingEngine(6, n).Forward(student, task, roll)
                    let thDep = TrackingTheory.componentLoss task.Dt (ctrl teacher) k
                    let thOp = TrackingTheory.openLoopComponentLoss task.Dt (ctrl teacher) (ctrl student) k
                    abs (dep - thDep) / thDep, abs (op - thOp) / thOp)
            let e1, e2 = errs 2400, errs 9600
            for c in 0 .. 3 do
                let (d1, o1), (d2, o2) = e1.[c], e2.[c]
                Expect.isLessThan d2 0.08 (sprintf "deployed component %d: relative error at n = 9600" c)
                Expect.isLessThan o2 0.08 (sprintf "open-loop component %d: relative error at n = 9600" c)
                Expect.isLessThan d2 (0.45 * d1 + 1e-4) (sprintf "deployed component %d: error shrinks like 1/n" c)
                Expect.isLessThan o2 (0.45 * o1 + 1e-4) (sprintf "open-loop component %d: error shrinks like 1/n" c)
            // multi-component reference: the cross terms average out
            let task = TrackingTask(Steps = 9600, Clamp = 1e12)
            let full = TrackingEngine(6, 9600).Forward(teacher, task, task.References(Rng(8), 4), 4)
            relClose 0.08 full (TrackingTheory.deployedLoss task.Dt (ctrl teacher) (components task)) "full reference = sum of components"
            Expect.floatClose (accuracy 1e-14 0.0) (TrackingTheory.openLoopLoss task.Dt (ctrl teacher) (ctrl teacher) (components task)) 0.0 "student = teacher"
        }
        testProperty "steady-state losses scale with amplitude squared (linearity)" <| fun (seed: int) (amp: FsCheck.NormalFloat) ->
            let a = 0.1 + abs (float amp) % 5.0
            let c = ctrl (stableController 5 0.02 (seed % 1000))
            let s = ctrl (stableController 5 0.05 (seed % 1000 + 1))
            let k1 = { Frequency = 0.3; Axis = 0; Amplitude = 1.0 }
            let ka = { k1 with Amplitude = a }
            let d1, da = TrackingTheory.componentLoss 0.1 c k1, TrackingTheory.componentLoss 0.1 c ka
            let o1, oa = TrackingTheory.openLoopComponentLoss 0.1 c s k1, TrackingTheory.openLoopComponentLoss 0.1 c s ka
            abs (da - a * a * d1) <= 1e-10 * da && abs (oa - a * a * o1) <= 1e-10 * (oa + 1e-300)
        test "validation: unstable loops, bad components and mismatched sizes are refused" {
            let unstable = ctrl (TrackingEngine.Weights.Init(6, 0.2, Rng(1)))   // ρ(P) > 1 at initialisation (double integrator poles at 1)
            Expect.isGreaterThan (TrackingTheory.spectralRadius 0.1 unstable) 1.0 "random init is marginally unstable"
            let k = { Frequency = 0.1; Axis = 0; Amplitude = 1.0 }
            Expect.throwsT<NoSolutionException> (fun () -> TrackingTheory.componentLoss 0.1 unstable k |> ignore) "no steady state"
            Expect.throwsT<NoSolutionException> (fun () -> TrackingTheory.openLoopComponentLoss 0.1 unstable unstable k |> ignore) "unstable teacher"
            let good = ctrl (stableController 6 0.0 1)
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.componentLoss 0.1 good { k with Axis = 2 } |> ignore) "axis"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.componentLoss 0.1 good { k with Frequency = 5.0 } |> ignore) "Nyquist"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.componentLoss 0.1 good { k with Frequency = -1.0 } |> ignore) "negative f"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.jointSystem 0.1 { good with W = [| 1.0 |] } |> ignore) "W size"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.jointSystem 0.1 { good with Leak = 0.0 } |> ignore) "leak"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> TrackingTheory.jointSystem 0.1 { good with M = Array.create 24 nan } |> ignore) "NaN M"
            let task = TrackingTask(Steps = 10)
            let w = TrackingEngine.Weights.Init(5, 0.2, Rng(1))
            let roll = OpenLoopTrackingEngine.TeacherRollout(w, task, task.References(Rng(1), 2), 2)
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OpenLoopTrackingEngine(6, 10).Forward(w, task, roll) |> ignore) "N mismatch"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OpenLoopTrackingEngine(5, 11).Forward(w, task, roll) |> ignore) "steps mismatch"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OpenLoopTrackingEngine.TeacherRollout(w, task, Array.zeroCreate 3, 2) |> ignore) "refs size"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OpenLoopTrackingTrainer.Train(w, w, task, 0, 2, 1e-3, 1L) |> ignore) "epochs"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OpenLoopTrackingTrainer.Train(w, w, task, 2, 2, -1.0, 1L) |> ignore) "learning rate"
        }
        test "open-loop training is reproducible from the seed and evaluates on the closed-loop trainer's test set" {
            let task = TrackingTask(Steps = 30)
            let w0 = TrackingEngine.Weights.Init(6, 0.2, Rng(3))
            let t0 = TrackingEngine.Weights.Init(6, 0.2, Rng(4))
            let teacher = TrackingEngine.Weights(t0.W, t0.M, Array.map (fun x -> 10.0 * x) t0.Z, 0.1, Activation.Identity)
            let run seed = OpenLoopTrackingTrainer.Train(w0, teacher, task, 6, 4, 1e-2, seed, 5, 2) |> Array.ofSeq
            let a, b, c = run 7L, run 7L, run 8L
            Expect.equal (a |> Array.map (fun r -> r.TrainLoss)) (b |> Array.map (fun r -> r.TrainLoss)) "same seed, same bits"
            Expect.notEqual (a |> Array.map (fun r -> r.TrainLoss)) (c |> Array.map (fun r -> r.TrainLoss)) "another seed differs"
            let closed = TrackingTrainer.Train(w0, task, 1, 4, 1e-2, 7L, 5, 2) |> Array.ofSeq
            Expect.equal a.[0].TestLoss closed.[0].TestLoss "epoch 0: the same deployed test set and weights as the closed-loop trainer"
            Expect.equal a.[0].ComponentLosses closed.[0].ComponentLosses "same probes"
        }
        test "small training run: the open-loop student's deployed loss peaks, closed-loop training's does not (App. D, §5)" {
            // N = 30, batch 20, teacher = 400 closed-loop epochs, student 50 epochs, seed 1 (measured: R_open = 1.60
            // at epoch 25, R_closed = 1.003; seeds 2, 3: 1.77 / 1.07 and 1.51 / 1.02). ≈ 8 s. The peak is seed-dependent
            // at this size (R_open >= 1.2 on 7 of 12 seeds, docs/closed-loop.md): this pins seed 1 as a regression test.
            let task = TrackingTask()
            let w0 = TrackingEngine.Weights.Init(30, 0.2, Rng(1))
            let c = TrackingComparison.Run(w0, task, 400, 50, 20, 1e-3, 1L, 10, 5)
            let struct (ro, eo) = TrackingComparison.PeakRatio c.Open
            let struct (rc, _) = TrackingComparison.PeakRatio c.Closed
            Expect.isGreaterThan ro 1.2 "open-loop deployed-loss peak ratio"
            Expect.isLessThan rc 1.1 "closed-loop deployed-loss peak ratio"
            Expect.isLessThan c.Open.[eo].TrainLoss (0.5 * c.Open.[0].TrainLoss) "the imitation loss has fallen by the peak epoch"
            Expect.equal c.ClosedRadius.Length (c.Closed |> Seq.filter (fun r -> r.ComponentLosses.Length > 0) |> Seq.length) "rho(P) at every test epoch"
        }
        test "CLI: closed-loop track --protocol open|closed --json; bad input exits 2" {
            let args p = [ "closed-loop"; "track"; "--protocol"; p; "--n"; "8"; "--epochs"; "6"; "--teacher-epochs"; "6"; "--batch"; "2"; "--steps"; "40"; "--test-every"; "3"; "--test-batch"; "2"; "--seed"; "5"; "--json" ]
            for p in [ "open"; "closed" ] do
                let code, out, err = runCli (args p)
                Expect.equal code 0 (sprintf "exit 0 (%s): %s" p err)
                let o = System.Text.Json.Nodes.JsonNode.Parse(out).AsObject()
                Expect.equal (o.["protocol"].GetValue<string>()) p "protocol echoed"
                Expect.equal (o.["seed"].GetValue<int>()) 5 "seed echoed"
                Expect.isTrue (o.ContainsKey "version") "library version"
                Expect.equal (o.["finalComponentLosses"].AsArray().Count) 4 "four probe losses"
                Expect.isTrue (o.["deployedPeakRatio"].GetValue<float>() >= 1.0) "R >= 1"
                Expect.equal (o.ContainsKey "teacherFinalTestLoss") (p = "open") "teacher summary only in open loop"
            let _, a, _ = runCli (args "open")
            let _, b, _ = runCli (args "open")
            Expect.equal a b "same seed, same output"
            for bad in [ [ "--protocol"; "sideways" ]; [ "--n"; "0" ]; [ "--lr"; "-1" ]; [ "--epochs"; "0" ]; [ "--g"; "nan" ] ] do
                let code, _, err = runCli ([ "closed-loop"; "track" ] @ bad @ [ "--json" ])
                Expect.equal code 2 (sprintf "exit 2 for %A: %s" bad err)
        }
    ]

module Theory.Tests.TrainingTests

open System
open Expecto
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Simulation
open Theory.Simulation.Training
open Theory.Tests.TestUtil

/// A small random task for gradient checks: B = 2 conditions, 2 inputs, 2 outputs, burn-in 3, window 5.
let private smallTask (n: int) (rng: Rng) =
    let steps = 8
    let inputs = Array.init 2 (fun _ -> rng.Gaussians(steps * 2))
    let targets = Array.init 2 (fun _ -> rng.Gaussians(5 * 2))
    let x0 = Array.init 2 (fun _ -> rng.Gaussians n)
    TrainingTask("small", 2, 2, 3, 5, 0.3, inputs, targets, x0)

/// Objective as a function of the weights, and its BPTT gradient (J, U, V).
let private objective (kind: string) (w: RnnWeights) (task: TrainingTask) =
    let eng = RnnEngine(w.Config, task)
    eng.Forward w
    let p = eng.Observed
    let n = w.Config.N
    let rates = Array.zeroCreate (p * n)
    eng.ObservedRates rates
    let dLdR = Array.zeroCreate (p * n)
    let gV = Array.zeroCreate (n * w.Config.Outputs)
    let value =
        match kind with
        | "mse" -> Losses.MeanSquaredError(w, rates, task.StackedTargets(), p, dLdR, gV)
        | _ -> Losses.CollapsedTaskEnergy(rates, task.StackedTargets(), p, n, w.Config.Outputs, w.Config.Gamma, 0.05, dLdR)
    let gJ = Array.zeroCreate (n * n)
    let gU = Array.zeroCreate (n * w.Config.Inputs)
    eng.Backward(w, dLdR, gJ, gU)
    value, gJ, gU, gV

let private gradientTests =
    testList "Bptt" [
        for act in [ Activation.Tanh; Activation.Identity ] do
            for kind in [ "mse"; "collapsed" ] do
                test (sprintf "BPTT gradient matches central finite differences (%A, %s)" act kind) {
                    // The collapsed energy needs C = RRᵀ/N (P = 10 observed points) well conditioned: N = 12 > P.
                    let n = if kind = "mse" then 6 else 12
                    let rng = Rng(17L)
                    let cfg = RnnConfig(n, 2, 2, 1.3, 0.7, 0.3, act)
                    let w = RnnWeights.Random(cfg, rng)
                    let task = smallTask n rng
                    let _, gJ, gU, gV = objective kind w task
                    // The collapsed energy is O(N γ² tr C⁻¹Cʸ) ≫ 1, so round-off needs a larger step there.
                    let h = if kind = "mse" then 1e-6 else 1e-5
                    let check (arr: float[]) (grad: float[]) (name: string) =
                        for q in 0 .. arr.Length - 1 do
                            let old = arr.[q]
                            arr.[q] <- old + h
                            let fp, _, _, _ = objective kind w task
                            arr.[q] <- old - h
                            let fm, _, _, _ = objective kind w task
                            arr.[q] <- old
                            let fd = (fp - fm) / (2.0 * h)
                            // Central differences: truncation O(h²) and round-off O(ε|f|/h) ≤ 1e-8 here.
                            let absTol = if kind = "mse" then 1e-7 else 1e-6
                            Expect.floatClose (accuracy absTol 1e-6) grad.[q] fd (sprintf "%s[%d]" name q)
                    check w.J gJ "dJ"
                    check w.U gU "dU"
                    if kind = "mse" then check w.V gV "dV"
                }
    ]

let private weightsTests =
    testList "Weights" [
        test "binary weights file round-trips exactly" {
            let cfg = RnnConfig(7, 3, 2, 0.8, 1.5, 0.1, Activation.Tanh)
            let w = RnnWeights.Random(cfg, Rng(3L))
            let dir = tempDir "weights"
            let path = IO.Path.Combine(dir, "w.bin")
            w.Save path
            let r = RnnWeights.Load path
            Expect.equal r.Config cfg "config"
            Expect.equal r.J w.J "J"
            Expect.equal r.U w.U "U"
            Expect.equal r.V w.V "V"
            IO.File.WriteAllBytes(path, [| 1uy; 2uy |])
            Expect.throws (fun () -> RnnWeights.Load path |> ignore) "bad file"
        }
        test "out-of-domain configuration is rejected" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> RnnConfig(10, 0, 1, 0.5, 0.0, 0.1, Activation.Tanh).Validated() |> ignore) "γ = 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> RnnConfig(10, 0, 1, -0.5, 1.0, 0.1, Activation.Tanh).Validated() |> ignore) "g < 0"
        }
    ]

/// The CI-sized cross-validation problem: periodic window W = 16, Δt = 0.4 (T = 6.4), white input (level 1), peaked
/// target at ω₀ = 1 (mode k = 1), g = 0.5, γ = 1.
let crossValidationTask () = Tasks.PeakedSpectrum(16, 0.4, 3, 1.0, 0.3, 1.0, 1.0)

/// Closed-form mode spectrum of the discrete-time network (a_k = |d_k|² of exponential Euler).
let closedFormModes (task: TrainingTask) (g: float) (gamma: float) (inputTrained: bool) =
    let wlen = task.Window
    let ws = LinearKernels.frequencies (wlen, task.Dt)
    let a = ws |> Array.map (fun w -> LinearKernels.exponentialEulerTransfer (task.Dt, w))
    let ci = ws |> Array.map (fun w -> LinearKernels.whiteInput (1.0, w))
    let cy = Tasks.PeakedTargetModes(wlen, task.Dt, 1.0, 0.3, 1.0)
    LinearSpectrum.spectrumTransfer (g, gamma, a, ci, cy, inputTrained)

/// RMS over modes of the relative error (simulation − theory)/theory.
let rmsRelativeError (sim: float[]) (theory: float[]) =
    sqrt (Array.averageBy (fun (s, t) -> ((s - t) / t) ** 2.0) (Array.zip sim theory))

/// Protocol (b): Langevin posterior sampling, 100 steps of h = 0.05 (Langevin time 5; the task energy is flat after
/// ≈ 1 time unit), kernels averaged over the last 70 steps.
let langevinModes (task: TrainingTask) (n: int) (gamma: float) (trainU: bool) (seed: int64) =
    let cfg = RnnConfig(n, task.Inputs, task.Outputs, 0.5, gamma, task.Dt, Activation.Identity)
    let rng = Rng.ForStream(seed, int64 n)
    let w = RnnWeights.Random(cfg, rng)
    let opts = TrainingOptions(Steps = 100, LangevinStep = 0.05, Thermalisation = 0.3, SampleEvery = 2, TrainInputWeights = trainU)
    let res = Trainer.Train(w, task, opts, rng)
    Measurements.KernelModeSpectrum(res.MeanKernel, task.Window), res

let private crossValidationTests =
    testList "CrossValidation" [
        test "trained linear networks (Langevin posterior) match the closed form at N = 200, 400, 800, error shrinking with N" {
            let task = crossValidationTask ()
            let theory = closedFormModes task 0.5 1.0 true
            let theory0 = closedFormModes task 0.5 0.0 true
            let errors =
                [ for n in [ 200; 400; 800 ] ->
                      let modes, res = langevinModes task n 1.0 true 5L
                      Expect.isLessThan res.FitError 1e-3 (sprintf "output fit at N=%d" n)
                      let err = rmsRelativeError modes theory
                      // Finite-size tolerance: C self-averages with O(N^-1/2) fluctuations (plus an O(d·W/N) bias from
                      // the exact posterior's (d/2) ln det C term, d = 5 target channels here); measured RMS errors
                      // 0.045, 0.020, 0.017 (seed 5). Tolerance 1/√N = 0.071, 0.050, 0.035.
                      Expect.isLessThan err (1.0 / sqrt (float n)) (sprintf "RMS relative spectral error at N=%d" n)
                      // The learned (target) mode is far from the random-network value and close to the theory.
                      Expect.isLessThan (abs (modes.[1] - theory.[1])) (0.2 * abs (theory.[1] - theory0.[1])) "target mode learned"
                      err ]
            Expect.isLessThan errors.[2] errors.[0] (sprintf "error shrinks with N: %A" errors)
        }
        test "fixed input weights: the trained network follows the fixed-U theory (§3.3), not the U-trained formula" {
            let task = crossValidationTask ()
            let fixedTheory = closedFormModes task 0.5 1.0 false
            let trainedTheory = closedFormModes task 0.5 1.0 true
            let modes, _ = langevinModes task 400 1.0 false 9L
            Expect.isLessThan (abs (modes.[1] - fixedTheory.[1])) (0.1 * fixedTheory.[1]) "within 10% of the fixed-U value"
            Expect.isLessThan (abs (modes.[1] - fixedTheory.[1])) (abs (modes.[1] - trainedTheory.[1])) "closer to fixed-U than to U-trained"
            Expect.isLessThan (rmsRelativeError modes fixedTheory) 0.1 "whole spectrum"
        }
        test "protocol (a) gradient descent fits the task from the random initialisation (μP learning rate)" {
            let task = crossValidationTask ()
            let cfg = RnnConfig(200, task.Inputs, task.Outputs, 0.5, 1.0, task.Dt, Activation.Identity)
            let rng = Rng(11L)
            let w = RnnWeights.Random(cfg, rng)
            let res = Trainer.Train(w, task, TrainingOptions(Protocol = TrainingProtocol.GradientDescent, Steps = 150, LearningRate = 0.5), rng)
            Expect.isLessThan res.History.[res.History.Length - 1] (0.05 * res.History.[0]) "loss falls 20-fold"
            Expect.isLessThan res.FitError 0.05 "fit"
        }
    ]

let private nonlinearTests =
    testList "SinePeriod" [
        test "tanh sine-period task (no input): Adam fits the window; rollout continues past it and reproduces the forward pass" {
            let n = 100
            let rng = Rng(21L)
            let task = Tasks.SinePeriod(n, 10.0, 0.2, 2, 1.0, rng)
            let cfg = RnnConfig(n, 0, 1, 1.5, 1.0, 0.2, Activation.Tanh)
            let w0 = RnnWeights.Random(cfg, rng)
            let adam = Trainer.Train(w0, task, TrainingOptions(Protocol = TrainingProtocol.Adam, Steps = 150, LearningRate = 0.05), Rng(1L))
            Expect.isLessThan adam.FitError 0.05 "Adam fit"
            Expect.isLessThan adam.History.[adam.History.Length - 1] (0.1 * adam.History.[0]) "Adam loss falls 10-fold"
            // Autonomous continuation from the last window state of condition 0.
            let eng = RnnEngine(cfg, task)
            let lang = adam
            eng.Forward lang.Weights
            let x = eng.States(task.Steps, 0).ToArray()
            let r = RnnEngine.Rollout(lang.Weights, x, 100, null)
            let y = RnnEngine.Readout(lang.Weights, r, 101)
            Expect.isTrue (y |> Array.forall Double.IsFinite) "finite continuation"
            // Rollout reproduces the engine's own trajectory: continuing from x_0 gives the window states.
            let r0 = RnnEngine.Rollout(lang.Weights, task.X0.[0], task.Steps, null)
            for k in [ 0; 10; task.Steps ] do
                let a = eng.Rates(k, 0).ToArray()
                for i in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-12 1e-12) r0.[k * n + i] a.[i] "rollout = forward"
        }
    ]

let private cliTests =
    testSequenced <| testList "Cli" [
        test "train writes reloadable weights, a JSON summary and the measurement CSVs" {
            let dir = tempDir "train"
            let code, out, err =
                runCli [ "train"; "--task"; "peaked-spectrum"; "--n"; "40"; "--g"; "0.5"; "--gamma"; "1"; "--protocol"; "langevin"
                         "--seed"; "1"; "--out"; dir; "--steps"; "10"; "--window"; "16"; "--dt"; "0.4"; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out)
            Expect.equal (o.["n"].GetValue<int>()) 40 "n"
            Expect.isTrue (o.["spectralErrorVsTheory"].GetValue<float>() >= 0.0) "spectral error reported"
            for f in [ "weights.bin"; "summary.json"; "kernel.csv"; "spectrum.csv"; "output.csv"; "history.csv"; "eigenvalues.csv" ] do
                Expect.isTrue (IO.File.Exists(IO.Path.Combine(dir, f))) f
            let w = RnnWeights.Load(IO.Path.Combine(dir, "weights.bin"))
            Expect.equal w.Config.N 40 "reloaded N"
            Expect.equal w.Config.Activation Activation.Identity "φ"
            Expect.stringContains err "train Langevin step" "progress on stderr"
        }
        test "train sine-period with Adam and autonomous continuation; bad options exit 2" {
            let dir = tempDir "train-sine"
            let code, _, err =
                runCli [ "train"; "--task"; "sine-period"; "--n"; "30"; "--g"; "1.5"; "--gamma"; "1"; "--protocol"; "adam"; "--lr"; "0.05"
                         "--seed"; "2"; "--out"; dir; "--steps"; "5"; "--extend"; "20" ]
            Expect.equal code 0 err
            let lines = IO.File.ReadAllLines(IO.Path.Combine(dir, "output.csv")) |> Array.filter (fun l -> not (l.StartsWith "#"))
            Expect.equal (lines.Length - 1) (100 + 20) "window + continuation rows"
            let code2, _, _ = runCli [ "train"; "--task"; "nope"; "--n"; "30"; "--g"; "1"; "--gamma"; "1"; "--out"; dir ]
            Expect.equal code2 2 "unknown task"
            let code3, _, _ = runCli [ "train"; "--task"; "sine-period"; "--n"; "30"; "--g"; "1"; "--gamma"; "0"; "--out"; dir ]
            Expect.equal code3 2 "γ = 0 rejected"
        }
    ]

[<Tests>]
let tests = testList "Training" [ gradientTests; weightsTests; crossValidationTests; nonlinearTests; cliTests ]

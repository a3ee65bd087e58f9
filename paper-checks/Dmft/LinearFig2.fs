/// Clark, Bordelon, Zavatone-Veth & Pehlevan (2026), Fig. 2: a linear network trained to concentrate power around a
/// preferred frequency; the closed-form spectrum for several γ with trained-network spectra on top.
module Theory.PaperChecks.Dmft.LinearFig2

open System
open Theory.Core.Io
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Simulation
open Theory.Simulation.Training
open Theory.PaperChecks

let private g = 0.5
let private omega0 = 1.0
let private width = 0.3
let private gammas = [| 0.25; 0.5; 1.0; 1.5 |]

let private isIncreasing (xs: float[]) = xs |> Array.pairwise |> Array.forall (fun (a, b) -> b > a)

let run (ctx: CheckContext) : CheckResult =
    // Periodic window of period T = 4π so that ω_k = k/2 and ω0 = 1 is mode k = 2.
    let window = 64
    let dt = 4.0 * Math.PI / float window
    let n, steps, seeds = if ctx.Quick then 200, 100, 1 else 800, 150, 2
    let task = Tasks.PeakedSpectrum(window, dt, 3, omega0, width, 1.0, 1.0)
    let ws = LinearKernels.frequencies (window, dt)
    let kPeak = 2
    let half = window / 2
    let cy w = LinearKernels.peakedTarget (omega0, width, 1.0, 0.0, w)
    // Theory, continuous time, C/Cᴵ on a fine grid (white input, Cᴵ = 1).
    let fine = Array.init 301 (fun i -> 3.0 * float i / 300.0)
    let theoryCurve gamma = fine |> Array.map (fun w -> LinearSpectrum.ratio (g, gamma, w, cy w))
    let peakGainTheory =
        gammas |> Array.map (fun gm -> LinearSpectrum.ratio (g, gm, omega0, cy omega0) / LinearSpectrum.ratio (g, 0.0, omega0, 0.0))
    // Theory for the discrete-time network at the window's modes (a_k = |d_k|²).
    let discreteTheory gamma inputTrained =
        LinearSpectrum.spectrumTransfer (
            g, gamma, ws |> Array.map (fun w -> LinearKernels.exponentialEulerTransfer (dt, w)), Array.create window 1.0,
            Tasks.PeakedTargetModes(window, dt, omega0, width, 1.0), inputTrained)
    // Protocol (b): Langevin posterior sampling, mode spectra averaged over seeds; then one gradient-descent run.
    use counter = ctx.Count("fig2: trainings", (gammas.Length + 1) * seeds)
    let simulate (gamma: float) (protocol: TrainingProtocol) =
        let runs =
            [| for s in 0 .. seeds - 1 ->
                   ctx.Progress(sprintf "  fig2: %A γ=%g N=%d seed %d" protocol gamma n s)
                   let rng = Rng.ForStream(int64 ctx.Seed, int64 (1000 * s) + int64 (gamma * 100.0))
                   let cfg = RnnConfig(n, task.Inputs, task.Outputs, g, gamma, dt, Activation.Identity)
                   let opts =
                       match protocol with
                       | TrainingProtocol.Langevin -> TrainingOptions(Steps = steps, LangevinStep = 0.05, Thermalisation = 0.3)
                       | _ -> TrainingOptions(Protocol = protocol, Steps = 2 * steps, LearningRate = 0.5)
                   let res = Trainer.Train(RnnWeights.Random(cfg, rng), task, opts, rng)
                   counter.Tick()
                   Measurements.KernelModeSpectrum(res.MeanKernel, window), res.FitError |]
        let mean = Array.init window (fun k -> runs |> Array.averageBy (fun (m, _) -> m.[k]))
        let sem =
            Array.init window (fun k ->
                if seeds < 2 then 0.0
                else
                    let xs = runs |> Array.map (fun (m, _) -> m.[k])
                    let mu = Array.average xs
                    sqrt (Array.sumBy (fun x -> (x - mu) ** 2.0) xs / float (seeds - 1) / float seeds))
        mean, sem, runs |> Array.map snd |> Array.max
    let rms (sim: float[]) (th: float[]) = sqrt (Array.averageBy (fun k -> ((sim.[k] - th.[k]) / th.[k]) ** 2.0) [| 0 .. half |])
    let sims = gammas |> Array.map (fun gm -> simulate gm TrainingProtocol.Langevin)
    let errors = Array.map2 (fun (m, _, _) gm -> rms m (discreteTheory gm true)) sims gammas
    let simPeak = sims |> Array.map (fun (m, _, _) -> m.[kPeak])
    let worstFit = sims |> Array.map (fun (_, _, f) -> f) |> Array.max
    // Protocol (a): gradient descent from the random initialisation at γ = 1.
    let gdModes, _, gdFit = simulate 1.0 TrainingProtocol.GradientDescent
    let gdError = rms gdModes (discreteTheory 1.0 true)
    counter.Done()
    let tol = 1.5 / sqrt (float n)
    // Figure.
    use plt = new ScottPlot.Plot()
    let l0 = Plots.line plt fine (fine |> Array.map (fun w -> LinearSpectrum.ratio (g, 0.0, w, 0.0))) "γ = 0 (random network)"
    l0.LinePattern <- ScottPlot.LinePattern.Dashed
    for i in 0 .. gammas.Length - 1 do
        let line = Plots.line plt fine (theoryCurve gammas.[i]) (sprintf "theory γ = %g" gammas.[i])
        let (m, e, _) = sims.[i]
        let xs = ws.[0..half]
        let pts = if seeds > 1 then Plots.pointsWithErrors plt xs m.[0..half] e.[0..half] (sprintf "trained N = %d, γ = %g" n gammas.[i]) else Plots.points plt xs m.[0..half] (sprintf "trained N = %d, γ = %g" n gammas.[i])
        pts.Color <- line.Color
    let gdPts = Plots.points plt ws.[0..half] gdModes.[0..half] "gradient descent, γ = 1"
    gdPts.MarkerShape <- ScottPlot.MarkerShape.OpenSquare
    plt.Axes.SetLimits(0.0, 3.0, 0.0, 1.1 * (Array.max (theoryCurve gammas.[gammas.Length - 1])))
    Plots.labels plt "Learned linear network: power concentrated around ω0 = 1 (Clark et al. 2026, Fig. 2)" "ω" "C(ω) / Cᴵ(ω)"
    let fig = Plots.save plt ctx "linear-fig2.png" 900 600
    let fmt (xs: float[]) = xs |> Array.map (sprintf "%.4g") |> String.concat ", "
    { Name = "clark2026-linear-fig2"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Linear learned network: spectral peak at the target frequency grows with γ (Fig. 2)"
      Parameters =
        [ "g", string g; "omega0", string omega0; "width", string width; "gammas", fmt gammas; "N", string n
          "window", sprintf "%d steps, dt = %.4f (T = 4π)" window dt; "seeds", string seeds; "langevinSteps", string steps
          "seed", string ctx.Seed; "input", "white, level 1 (Fourier channels)"; "target", "Cy(ω) = exp(−(|ω|−ω0)²/(2 width²)) [reconstructed], modes below 1e-3 set to 0 (d = number of non-zero target channels)"
          "outputs", string task.Outputs ]
      Claims =
        [ { Statement = "Theory: the peak C(ω0)/C₀(ω0) grows monotonically with γ"
            Measured = sprintf "gain at ω0 for γ = %s: %s" (fmt gammas) (fmt peakGainTheory)
            Pass = isIncreasing peakGainTheory && peakGainTheory.[0] > 1.0 }
          { Statement = "Trained networks (Langevin posterior): the spectral power at ω0 grows monotonically with γ"
            Measured = sprintf "C(ω0) for γ = %s: %s" (fmt gammas) (fmt simPeak)
            Pass = isIncreasing simPeak }
          { Statement = sprintf "Trained networks match the closed form (discrete-time a_k): RMS relative error ≤ 1.5/√N = %.3f for every γ" tol
            Measured = sprintf "RMS relative errors %s; worst output fit error %.2g" (fmt errors) worstFit
            Pass = errors |> Array.forall (fun e -> e <= tol) && worstFit < 1e-3 } ]
      Figures = [ { File = fig; Caption = "Closed-form C(ω)/Cᴵ(ω) (lines) and trained-network mode spectra (markers), several γ" } ]
      Numbers =
        [ "peakGainTheory", Json.Numbers("peakGainTheory", peakGainTheory)
          "simPeak", Json.Numbers("simPeak", simPeak)
          "rmsErrorLangevin", Json.Numbers("rmsErrorLangevin", errors)
          "rmsErrorGradientDescentGamma1", Json.Number("rmsErrorGradientDescentGamma1", gdError)
          "gradientDescentFitError", Json.Number("gradientDescentFitError", gdFit) ]
      Notes =
        [ sprintf "Protocol (a), gradient descent from the random initialisation (μP, η0 = 0.5, %d steps) at γ = 1: RMS relative distance from the theory %.3f (Langevin: %.3f), output fit error %.2g. Not a claim: the theory describes the posterior (protocol b)." (2 * steps) gdError errors.[2] gdFit
          "Simulated spectra are the mode spectra of the window kernel (periodic steady state after 3 periods of burn-in); the closed form is evaluated with the exponential-Euler symbol a_k = |d_k|², which tends to 1 + ω² as Δt → 0 (curves)."
          "Cost: quick (N = 200, 1 seed) ≈ 30 s; full (N = 800, 2 seeds, 150 Langevin steps) ≈ 10 min on 2 cores (measured 597 s under load). Full run: RMS errors 0.014–0.017, protocol (a) distance 0.057." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "clark2026-linear-fig2"
      Paper = "Clark, Bordelon, Zavatone-Veth & Pehlevan 2026"
      Title = "Linear learned network spectrum vs γ (Fig. 2)"
      Run = run }

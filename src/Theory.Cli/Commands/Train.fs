/// `theory train …`: train a μP γ-parameterised rate network (Clark et al. 2026) and write weights and measurements.
module Theory.Cli.Commands.Train

open System
open System.IO
open Theory.Core
open Theory.Core.Io
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Simulation
open Theory.Simulation.Training
open Theory.Cli

let private parseProtocol (s: string) =
    match s.ToLowerInvariant() with
    | "langevin" -> TrainingProtocol.Langevin
    | "gd" -> TrainingProtocol.GradientDescent
    | "adam" -> TrainingProtocol.Adam
    | other -> raise (UsageError(sprintf "--protocol: unknown protocol '%s' (langevin, gd, adam)" other))

/// theory train --task peaked-spectrum|sine-period --n N --g G --gamma Γ --protocol langevin|gd|adam --seed K --out DIR
let run (args: Args) =
    let asJson = args.Flag "json"
    let taskName = args.RequireString "task"
    let n = args.RequireInt "n"
    let g = args.RequireFloat "g"
    let gamma = args.RequireFloat "gamma"
    let protocol = parseProtocol (args.String("protocol", "langevin"))
    let seed = args.Int("seed", 1)
    let out = args.RequireString "out"
    let steps = args.Int("steps", 300)
    let lr = args.Float("lr", 0.5)
    let h = args.Float("langevin-step", 0.05)
    let noise = args.Float("readout-noise", 1e-5)
    let fixedU = args.Flag "fixed-u"
    Validate.AtLeast("n", n, 2) |> ignore
    let rng = Rng.ForStream(int64 seed, 0L)
    let task, phi, theoryModes =
        match taskName with
        | "peaked-spectrum" ->
            let window = args.Int("window", 32)
            let dt = args.Float("dt", 0.25)
            let burn = args.Int("burn-in-periods", 3)
            let omega0 = args.Float("omega0", 1.0)
            let width = args.Float("width", 0.3)
            let amplitude = args.Float("amplitude", 1.0)
            let level = args.Float("input-level", 1.0)
            let task = Tasks.PeakedSpectrum(window, dt, burn, omega0, width, amplitude, level)
            let ws = LinearKernels.frequencies (window, dt)
            let theory =
                try
                    Some(
                        LinearSpectrum.spectrumTransfer (
                            g, gamma,
                            ws |> Array.map (fun w -> LinearKernels.exponentialEulerTransfer (dt, w)),
                            ws |> Array.map (fun w -> LinearKernels.whiteInput (level, w)),
                            Tasks.PeakedTargetModes(window, dt, omega0, width, amplitude),
                            not fixedU)
                    )
                with :? NoSolutionException as e ->
                    Output.progress (sprintf "warning: %s (training anyway)" e.Message)
                    None
            task, Activation.Identity, theory
        | "sine-period" ->
            let period = args.Float("period", 10.0)
            let dt = args.Float("dt", 0.1)
            let conditions = args.Int("conditions", 1)
            // default x0 ~ N(0, Δ0(g)), the stationary SCS variance (research note §3.3) [reconstructed default]
            let x0var =
                match args.TryFloat "x0-variance" with
                | Some v -> v
                | None -> Theory.Core.Dmft.ScsStationary.SolveStationaryVariance(g).Delta0
            Tasks.SinePeriod(n, period, dt, conditions, x0var, rng), Activation.Tanh, None
        | other -> raise (UsageError(sprintf "--task: unknown task '%s' (peaked-spectrum, sine-period)" other))
    let phi = match args.TryString "phi" with Some s -> ActivationFunctions.Parse s | None -> phi
    let extend = args.Int("extend", 0)
    args.Finish()
    let cfg = RnnConfig(n, task.Inputs, task.Outputs, g, gamma, task.Dt, phi)
    let w0 = RnnWeights.Random(cfg, rng)
    let options =
        TrainingOptions(
            Protocol = protocol, Steps = steps, LearningRate = lr, LangevinStep = h, ReadoutNoise = noise,
            TrainInputWeights = not fixedU, Progress = Action<string>(Output.progress), ProgressEvery = max 1 (steps / 10)
        )
    let res = Trainer.Train(w0, task, options, rng)
    Directory.CreateDirectory out |> ignore
    let file name = Path.Combine(out, name)
    res.Weights.Save(file "weights.bin")
    let meta =
        [ "command", "train"; "task", taskName; "n", string n; "g", Csv.Format g; "gamma", Csv.Format gamma
          "protocol", string protocol; "seed", string seed; "steps", string steps; "dt", Csv.Format task.Dt
          "phi", string phi; "inputWeights", (if fixedU then "fixed" else "trained") ]
    let p = task.Conditions * task.Window
    // Window kernel C(p, p').
    Csv.Write(file "kernel.csv", meta, [| "p"; "q"; "C" |], seq { for a in 0 .. p - 1 do for b in 0 .. p - 1 -> [| float a; float b; res.MeanKernel.[a * p + b] |] })
    // Spectrum of condition 0's window: kernel mode spectrum and Hann-windowed periodogram of the final weights.
    let eng = RnnEngine(cfg, task)
    eng.Forward res.Weights
    let rates = Array.zeroCreate (p * n)
    eng.ObservedRates rates
    let kernel0 = Array2D.init task.Window task.Window (fun a b -> res.MeanKernel.[a * p + b])
    let modes = LinearKernels.modeSpectrum kernel0
    let periodogram = Measurements.PowerSpectrum(rates.[0 .. task.Window * n - 1], task.Window, n, true)
    let ws = LinearKernels.frequencies (task.Window, task.Dt)
    let spectralError =
        theoryModes |> Option.map (fun th -> sqrt (Array.averageBy (fun k -> ((modes.[k] - th.[k]) / th.[k]) ** 2.0) [| 0 .. th.Length - 1 |]))
    Csv.Write(
        file "spectrum.csv", meta, [| "k"; "omega"; "modeSpectrum"; "hannPeriodogram"; "theory" |],
        seq { for k in 0 .. task.Window - 1 -> [| float k; ws.[k]; modes.[k]; periodogram.[k]; (match theoryModes with Some th -> th.[k] | None -> nan) |] }
        |> Seq.map (Array.map (fun v -> if Double.IsNaN v then -1.0 else v))
    )
    // Output on the window (and autonomous continuation of condition 0 for --extend steps).
    let y = RnnEngine.Readout(res.Weights, rates, p)
    let targets = task.StackedTargets()
    let d = task.Outputs
    let rows =
        [ for q in 0 .. p - 1 ->
              Array.concat [ [| float q; float (q % task.Window) * task.Dt |]; Array.init d (fun o -> targets.[q * d + o]); Array.init d (fun o -> y.[q * d + o]) ] ]
    let extRows =
        if extend > 0 then
            let x0 = eng.States(task.Steps, 0).ToArray()
            let r = RnnEngine.Rollout(res.Weights, x0, extend, null)
            let ye = RnnEngine.Readout(res.Weights, r, extend + 1)
            [ for k in 1 .. extend ->
                  Array.concat [ [| float (task.Window + k - 1); float (task.Window + k - 1) * task.Dt |]; Array.create d nan; Array.init d (fun o -> ye.[k * d + o]) ] ]
        else []
    Csv.Write(
        file "output.csv", meta @ [ "note", "target=-1e300 marks the autonomous continuation past the window" ],
        Array.concat [ [| "p"; "t" |]; Array.init d (sprintf "target%d"); Array.init d (sprintf "y%d") ],
        (rows @ extRows) |> Seq.map (Array.map (fun v -> if Double.IsNaN v then -1e300 else v))
    )
    Csv.Write(file "history.csv", meta, [| "step"; "objective" |], res.History |> Seq.mapi (fun i v -> [| float i; v |]))
    if n <= 1000 then
        let ev = Measurements.ConnectivityEigenvalues res.Weights
        Csv.Write(file "eigenvalues.csv", meta, [| "re"; "im" |], ev |> Seq.map (fun struct (re, im) -> [| re; im |]))
    let fields () =
        [ Output.str "task" taskName
          Output.int "n" n
          Output.num "g" g
          Output.num "gamma" gamma
          Output.str "protocol" (string protocol)
          Output.int "seed" seed
          Output.int "steps" steps
          Output.num "dt" task.Dt
          Output.str "phi" (string phi)
          Output.str "inputWeights" (if fixedU then "fixed" else "trained")
          Output.num "fitError" res.FitError
          Output.num "finalObjective" res.History.[res.History.Length - 1]
          Output.int "kernelSamples" res.Samples
          Output.str "out" out ]
        @ (match spectralError with Some e -> [ Output.num "spectralErrorVsTheory" e ] | None -> [])
    let summary = Json.Object(fields ())
    File.WriteAllText(file "summary.json", Json.Serialize summary)
    Output.emit asJson (fields ())
    0

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

let private protocols =
    [ "langevin", TrainingProtocol.Langevin; "gd", TrainingProtocol.GradientDescent; "adam", TrainingProtocol.Adam ]

/// theory train --task peaked-spectrum|sine-period --n N --g G --gamma Γ --protocol langevin|gd|adam --seed K --out DIR
let command () =
    Cli.command "train" "train a μP rate network; DIR gets weights.bin, summary.json and CSVs" (fun cmd ->
        let taskName = Cli.requiredChoice cmd "--task" [ "peaked-spectrum"; "sine-period" ] "training task"
        let n = Cli.requiredInt cmd "--n" "number of neurons N; allowed: >= 2"
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: >= 0"
        let gamma = Cli.requiredFloat cmd "--gamma" "feature-learning strength γ; allowed: > 0"
        let protocol = Cli.choice cmd "--protocol" "langevin" (List.map fst protocols) "training protocol"
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let out = Cli.requiredString cmd "--out" "output folder DIR"
        let steps = Cli.int cmd "--steps" 300 "training steps; allowed: >= 1"
        let lr = Cli.float cmd "--lr" 0.5 "learning rate η0 (gd, adam); allowed: > 0"
        let h = Cli.float cmd "--langevin-step" 0.05 "Langevin step h; allowed: > 0"
        let noise = Cli.float cmd "--readout-noise" 1e-5 "readout noise variance of the posterior; allowed: > 0"
        let fixedU = Cli.flag cmd "--fixed-u" "input weights U fixed (not trained)"
        let dt = Cli.optionalFloat cmd "--dt" "time step; default 0.25 (peaked-spectrum) or 0.1 (sine-period); allowed: > 0 (sine-period: period/dt >= 10)"
        let window = Cli.int cmd "--window" 32 "window length in steps (peaked-spectrum); allowed: >= 2"
        let burn = Cli.int cmd "--burn-in-periods" 3 "burn-in periods of the input (peaked-spectrum); allowed: >= 0"
        let omega0 = Cli.float cmd "--omega0" 1.0 "peak frequency of the target (peaked-spectrum)"
        let width = Cli.float cmd "--width" 0.3 "peak width of the target (peaked-spectrum); allowed: > 0"
        let amplitude = Cli.float cmd "--amplitude" 1.0 "peak amplitude of the target (peaked-spectrum)"
        let level = Cli.float cmd "--input-level" 1.0 "white input level (peaked-spectrum); allowed: > 0"
        let period = Cli.float cmd "--period" 10.0 "period T of the sine (sine-period); allowed: > 0"
        let conditions = Cli.int cmd "--conditions" 1 "initial conditions trained on (sine-period); allowed: >= 1"
        let x0var = Cli.optionalFloat cmd "--x0-variance" "variance of x(0) (sine-period); default Δ0(g), the stationary SCS variance; allowed: >= 0"
        let phiName = Cli.optionalString cmd "--phi" "activation: tanh or identity; default identity (peaked-spectrum) or tanh (sine-period)"
        let extend = Cli.int cmd "--extend" 0 "steps of autonomous continuation written to output.csv; allowed: >= 0"
        let json = Cli.json cmd
        fun r ->
            let asJson = r.GetValue json
            let taskName = r.GetValue taskName
            let n = r.GetValue n
            let g = r.GetValue g
            let gamma = r.GetValue gamma
            let protocol = protocols |> List.find (fun (k, _) -> k = r.GetValue protocol) |> snd
            let seed = r.GetValue seed
            let out = r.GetValue out
            let steps = r.GetValue steps
            let lr = r.GetValue lr
            let h = r.GetValue h
            let noise = r.GetValue noise
            let fixedU = r.GetValue fixedU
            Validate.AtLeast("n", n, 2) |> ignore
            let rng = Rng.ForStream(int64 seed, 0L)
            let task, phi, theoryModes =
                match taskName with
                | "peaked-spectrum" ->
                    Cli.onlyWith r "with --task sine-period" [ period; conditions; x0var ]
                    let window = r.GetValue window
                    let dt = r.GetValue dt |> Option.defaultValue 0.25
                    let burn = r.GetValue burn
                    let omega0 = r.GetValue omega0
                    let width = r.GetValue width
                    let amplitude = r.GetValue amplitude
                    let level = r.GetValue level
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
                            Output.warning (sprintf "%s (training anyway)" e.Message)
                            None
                    task, Activation.Identity, theory
                | _ ->
                    Cli.onlyWith r "with --task peaked-spectrum" [ window; burn; omega0; width; amplitude; level ]
                    let period = r.GetValue period
                    let dt = r.GetValue dt |> Option.defaultValue 0.1
                    let conditions = r.GetValue conditions
                    // default x0 ~ N(0, Δ0(g)), the stationary SCS variance (research note §3.3) [reconstructed default]
                    let x0var =
                        match r.GetValue x0var with
                        | Some v -> v
                        | None -> Theory.Core.Dmft.ScsStationary.SolveStationaryVariance(g).Delta0
                    Tasks.SinePeriod(n, period, dt, conditions, x0var, rng), Activation.Tanh, None
            let phi = match r.GetValue phiName with Some s -> ActivationFunctions.Parse s | None -> phi
            let extend = r.GetValue extend
            let cfg = RnnConfig(n, task.Inputs, task.Outputs, g, gamma, task.Dt, phi)
            let w0 = RnnWeights.Random(cfg, rng)
            // the trainer says "train … step K/STEPS: objective …" every 1% of the steps: each moves the bar, every
            // tenth is printed
            use progress = Progress.start "train" steps
            let every = max 1 (steps / 10)
            let report (msg: string) =
                match Progress.countIn msg with
                | Some(k, _) ->
                    progress.Set k
                    if (k - 1) % every = 0 || k = steps then Output.progress msg
                | None -> Output.progress msg
            let options =
                TrainingOptions(
                    Protocol = protocol, Steps = steps, LearningRate = lr, LangevinStep = h, ReadoutNoise = noise,
                    TrainInputWeights = not fixedU, Progress = Action<string>(report), ProgressEvery = max 1 (steps / 100)
                )
            let res = Trainer.Train(w0, task, options, rng)
            progress.Done()
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
            0)

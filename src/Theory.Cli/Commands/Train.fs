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

/// Protocols that sample the exact posterior in weight space (core WeightPosterior), not the training engine.
let private posteriorProtocols = [ "hmc" ]

/// The settings of `theory train --protocol hmc` (the exact finite-N posterior sampled in weight space).
type private HmcRun =
    { N: int; G: float; Gamma: float; Seed: int; Iterations: int; Leapfrog: int; Step: float; Noise: float; Chains: int
      GammaStep: float; Task: SinusoidTask; Compare: bool; Classify: bool; GammaStar: bool; Realisations: int; GammaMax: float
      Bisections: int; PathSweeps: int; Out: string }

let private meanSe (xs: float[]) =
    let mu = Array.average xs
    mu, (if xs.Length > 1 then sqrt ((xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (xs.Length - 1) / float xs.Length) else nan)

/// `--protocol hmc`: R independent HMC chains of the weight-space posterior annealed 0 → γ (WeightPosterior), optional
/// path-space comparison (FinitePosterior, same N, σ, sweeps = iterations), classification, and the full γ⋆ comparison.
let private runHmc (asJson: bool) (h: HmcRun) =
    let wopt = { WeightPosteriorOptions.Default with Neurons = h.N; ProcessNoise = h.Noise; Iterations = h.Iterations; LeapfrogSteps = h.Leapfrog
                                                     StepSize = h.Step; Seed = int64 h.Seed }
    let task = { h.Task with ProcessNoise = h.Noise }
    let problemAt gm = TiltedProblems.Sinusoid(h.G, gm, task)
    Validate.Positive("gamma", h.Gamma) |> ignore
    Validate.InRange("gammaStep", h.GammaStep, 1e-3, 1.0) |> ignore
    Validate.AtLeast("chains", h.Chains, 1) |> ignore
    WeightPosterior.Validate(problemAt h.Gamma, wopt)
    let steps = int (Math.Ceiling(h.Gamma / h.GammaStep - 1e-9))
    let gammas = Array.append [| 0.0 |] (Array.init steps (fun k -> min h.Gamma (float (k + 1) * h.GammaStep)))
    Output.progress (sprintf "hmc: %d chains, N = %d, g = %g, anneal %s, %d iterations x %d leapfrog per gamma" h.Chains h.N h.G
                         (String.Join(" -> ", gammas |> Array.map (sprintf "%g"))) h.Iterations h.Leapfrog)
    let sw = Diagnostics.Stopwatch.StartNew()
    let chains = Array.Parallel.init h.Chains (fun r -> (WeightPosterior.Anneal(Func<_, _>(problemAt), gammas, wopt, int64 r)) |> Array.last)
    let hmcSeconds = sw.Elapsed.TotalSeconds
    let n = chains.[0].C.GetLength 0
    let ens = WeightSpacePosterior(h.N, h.Iterations, h.Leapfrog, chains |> Array.averageBy (fun s -> s.StepSize))
    let names = [| "meanActivity"; "targetAlignment"; "halfWindowCorrelation" |]
    let summaryFields (prefix: string) (sums: float[][]) =
        names |> Array.toList |> List.mapi (fun j nm ->
            let m, e = meanSe (sums |> Array.map (fun s -> s.[j]))
            [ Output.measured (prefix + nm) m; Output.measured (prefix + nm + "Error") e ]) |> List.concat
    let realisation = { RealisationOptions.Default with Seed = int64 h.Seed }
    let classified =
        if h.Classify then Some(chains |> Array.mapi (fun r s -> WeightPosterior.Realise(s, { realisation with Replicate = r }))) else None
    let path =
        if h.Compare then
            let fo = { FinitePosteriorOptions.Default with Neurons = h.N; ProcessNoise = h.Noise; Sweeps = h.Iterations; Seed = int64 h.Seed }
            Output.progress "path-space comparison: FinitePosterior with the same N, sigma and sweeps = iterations"
            let t0 = sw.Elapsed.TotalSeconds
            let ps = Array.Parallel.init h.Chains (fun r -> (FinitePosterior.Anneal(Func<_, _>(problemAt), gammas, fo, int64 r)) |> Array.last)
            let cls = if h.Classify then Some(ps |> Array.mapi (fun r s -> FinitePosterior.Realise(s, { realisation with Replicate = r }))) else None
            Some(ps, cls, sw.Elapsed.TotalSeconds - t0)
        else None
    let ordered (rs: RealisationResult[]) =
        let f = (rs |> Array.filter (fun r -> r.Ordered) |> Array.length |> float) / float rs.Length
        [ Output.num "orderedFraction" f; Output.num "orderedFractionError" (sqrt (f * (1.0 - f) / float rs.Length))
          Output.measured "windowFitError" (rs |> Array.averageBy (fun r -> r.WindowFitError)) ]
    let gammaStar =
        if h.GammaStar then
            let pbo = { PhaseBoundaryOptions.Default with Task = task; GammaStep = h.GammaStep; GammaMax = h.GammaMax; Bisections = h.Bisections
                                                          Realisations = h.Realisations; Realisation = realisation
                                                          Posterior = { FinitePosteriorOptions.Default with Neurons = h.N; ProcessNoise = h.Noise; Sweeps = max 1 h.PathSweeps; Seed = int64 h.Seed } }
            let star (r: PhaseBoundaryResult) =
                [ Output.num "g" h.G; Output.num "gammaStar" r.GammaStar; Output.num "gammaStarError" r.GammaStarError
                  Output.obj "ensemble" [ Output.str "kind" r.Ensemble.Kind; Output.int "neurons" h.N; Output.str "label" r.Ensemble.Label ]
                  Output.measured "bracketLow" (fst r.Bracket); Output.measured "bracketHigh" (snd r.Bracket)
                  Output.strs "warnings" r.Warnings ]
            Output.progress "gamma*: weight-space (hmc) ensemble"
            let w =
                match WeightPosteriorBoundary.Locate(h.G, pbo, wopt) with
                | Ok(r, diags) ->
                    star r @ [ Output.objs "scan" (diags |> List.map (fun d ->
                                   [ Output.num "gamma" d.Gamma; Output.measured "acceptance" d.Acceptance; Output.measured "stepSize" d.StepSize
                                     Output.measured "effectiveSamples" d.EffectiveSamples; Output.measured "windowFitError" d.FitError ]))
                               Output.measureds "scanOrderedFraction" (r.Points |> List.map (fun p -> p.OrderedFraction)) ]
                | Error f -> [ Output.str "failure" f.Reason ]
            if h.PathSweeps > 0 then
                Output.progress (sprintf "gamma*: path-space (posterior) ensemble, %d sweeps per gamma" h.PathSweeps)
                let p =
                    match TiltedPhaseBoundary.Locate(h.G, { pbo with Criterion = Posterior }) with
                    | Ok r -> star r @ [ Output.int "sweepsPerGamma" h.PathSweeps
                                         Output.measureds "scanOrderedFraction" (r.Points |> List.map (fun p -> p.OrderedFraction)) ]
                    | Error f -> [ Output.str "failure" f.Reason ]
                [ Output.obj "gammaStarHmc" w; Output.obj "gammaStarPosterior" p ]
            else [ Output.obj "gammaStarHmc" w ]
        else []
    let meanC = Array2D.init n n (fun a b -> chains |> Array.averageBy (fun s -> s.C.[a, b]))
    if h.Out <> "" then
        IO.Directory.CreateDirectory h.Out |> ignore
        let meta = [ "command", "train"; "protocol", "hmc"; "n", string h.N; "g", Csv.Format h.G; "gamma", Csv.Format h.Gamma; "seed", string h.Seed
                     "ensemble", ens.Label ]
        Csv.Write(IO.Path.Combine(h.Out, "kernel.csv"), meta, [| "k"; "l"; "C"; "CError" |],
                  seq { for a in 0 .. n - 1 do
                          for b in 0 .. n - 1 -> [| float a; float b; meanC.[a, b]; (let _, e = meanSe (chains |> Array.map (fun s -> s.C.[a, b])) in if Double.IsNaN e then -1.0 else e) |] })
    let fields =
        [ Output.str "protocol" "hmc"; Output.int "n" h.N; Output.num "g" h.G; Output.num "gamma" h.Gamma; Output.int "seed" h.Seed
          Output.obj "ensemble" [ Output.str "kind" ens.Kind; Output.int "neurons" h.N; Output.str "label" ens.Label ]
          Output.nums "annealGammas" gammas; Output.int "chains" h.Chains; Output.int "iterationsPerGamma" h.Iterations
          Output.int "leapfrogSteps" h.Leapfrog; Output.num "processNoise" h.Noise; Output.num "dt" task.Dt; Output.num "period" task.Period
          Output.nums "stepSize" (chains |> Array.map (fun s -> s.StepSize))
          Output.nums "acceptance" (chains |> Array.map (fun s -> s.Acceptance))
          Output.nums "effectiveSamplesAlignment" (chains |> Array.map (fun s -> s.EffectiveSamples.[1]))
          Output.nums "effectiveSamplesActivity" (chains |> Array.map (fun s -> s.EffectiveSamples.[0]))
          Output.num "seconds" hmcSeconds ]
        @ summaryFields "" (chains |> Array.map (fun s -> s.Summaries))
        @ (match classified with Some rs -> ordered rs | None -> [])
        @ (match path with
           | Some(ps, cls, secs) ->
               [ Output.obj "pathSpace"
                     ([ Output.str "ensemble" (PosteriorNetworks h.N).Label; Output.int "sweepsPerGamma" h.Iterations; Output.num "seconds" secs ]
                      @ summaryFields "" (ps |> Array.map (fun s -> s.Summaries))
                      @ (match cls with Some rs -> ordered rs | None -> [])
                      @ [ Output.num "maxKernelZ"
                            (Seq.max (seq { for a in 0 .. n - 1 do
                                              for b in 0 .. n - 1 ->
                                                  let mw, ew = meanSe (chains |> Array.map (fun s -> s.C.[a, b]))
                                                  let mp, ep = meanSe (ps |> Array.map (fun s -> s.C.[a, b]))
                                                  let se = sqrt (ew * ew + ep * ep)
                                                  if se > 0.0 && Double.IsFinite se then abs (mw - mp) / se else 0.0 })) ]) ]
           | None -> [])
        @ gammaStar
    Output.emit asJson fields
    0

/// theory train --task peaked-spectrum|sine-period --n N --g G --gamma Γ --protocol langevin|gd|adam --seed K --out DIR
let command () =
    Cli.command "train" "train a μP rate network; DIR gets weights.bin, summary.json and CSVs" (fun cmd ->
        let taskName = Cli.requiredChoice cmd "--task" [ "peaked-spectrum"; "sine-period" ] "training task"
        let n = Cli.requiredInt cmd "--n" "number of neurons N; allowed: >= 2"
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: >= 0"
        let gamma = Cli.requiredFloat cmd "--gamma" "feature-learning strength γ; allowed: > 0"
        let protocol = Cli.choice cmd "--protocol" "langevin" (List.map fst protocols @ posteriorProtocols) "training protocol (hmc: the exact finite-N posterior of the sinusoid task sampled in weight space by Metropolis-adjusted HMC; langevin: the unadjusted collapsed Langevin of the training engine)"
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
        let leapfrog = Cli.int cmd "--leapfrog" 16 "hmc: leapfrog steps per trajectory; allowed: >= 1"
        let hmcStep = Cli.float cmd "--step-size" 0.05 "hmc: initial step size (adapted in the first half of each gamma's iterations); allowed: (0, pi/2]"
        let processNoise = Cli.float cmd "--process-noise" 0.01 "hmc: process noise sigma of the posterior model (as theory dmft finite-size); allowed: > 0"
        let chains = Cli.int cmd "--chains" 4 "hmc: independent chains (error bars over chains); allowed: >= 1"
        let gammaStepH = Cli.float cmd "--gamma-step" 0.25 "hmc: annealing step in gamma from 0; allowed: [0.001, 1]"
        let compare = Cli.flag cmd "--compare-path-space" "hmc: also run the path-space sampler (FinitePosterior, sweeps = steps) and report both"
        let classify = Cli.flag cmd "--classify" "hmc: realise and classify every chain's network past the window (ordered fraction)"
        let gammaStar = Cli.flag cmd "--gamma-star" "hmc: locate gamma*(g) with the weight-space ensemble and with the path-space ensemble (same N, sigma, iterations = sweeps; full mode, slow)"
        let realisations = Cli.int cmd "--realisations" 8 "hmc --gamma-star: chains (samplers) per gamma; allowed: >= 1"
        let gammaMax = Cli.float cmd "--gamma-max" 3.0 "hmc --gamma-star: largest gamma scanned; allowed: > 0"
        let bisections = Cli.int cmd "--bisections" 2 "hmc --gamma-star: bisection steps; allowed: >= 0"
        let pathSweeps = Cli.optionalInt cmd "--path-sweeps" "hmc --gamma-star: sweeps per gamma of the path-space ensemble; default --steps; 0 = weight-space only (compare with a dmft phase-boundary --criterion posterior run of the same N, dt, sigma); allowed: >= 0"
        let json = Cli.json cmd
        fun r ->
          if r.GetValue protocol = "hmc" then
            if r.GetValue taskName <> "sine-period" then raise (UsageError "--protocol hmc applies only with --task sine-period (the posterior of the sinusoid task)")
            Cli.onlyWith r "with --protocol langevin|gd|adam" [ lr; h; noise; fixedU; conditions; phiName; extend; window; burn; omega0; width; amplitude; level ]
            let task = { SinusoidTask.Default with Period = r.GetValue period; Dt = r.GetValue dt |> Option.defaultValue 0.1; X0Variance = r.GetValue x0var }
            runHmc (r.GetValue json)
                { N = r.GetValue n; G = r.GetValue g; Gamma = r.GetValue gamma; Seed = r.GetValue seed; Iterations = r.GetValue steps
                  Leapfrog = r.GetValue leapfrog; Step = r.GetValue hmcStep; Noise = r.GetValue processNoise; Chains = r.GetValue chains
                  GammaStep = r.GetValue gammaStepH; Task = task; Compare = r.GetValue compare; Classify = r.GetValue classify
                  GammaStar = r.GetValue gammaStar; Realisations = r.GetValue realisations; GammaMax = r.GetValue gammaMax
                  Bisections = r.GetValue bisections
                  PathSweeps = (match r.GetValue pathSweeps with
                                | Some k when k < 0 -> raise (ParameterOutOfDomainException("path-sweeps", string k, ">= 0 (0 = weight-space only)"))
                                | Some k -> k
                                | None -> r.GetValue steps)
                  Out = r.GetValue out }
          else
            Cli.onlyWith r "with --protocol hmc" [ leapfrog; hmcStep; processNoise; chains; gammaStepH; compare; classify; gammaStar; realisations; gammaMax; bisections; pathSweeps ]
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

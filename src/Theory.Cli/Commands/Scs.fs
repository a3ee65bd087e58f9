/// `theory scs` and `theory simulate rate`: the SCS stationary DMFT and the rate-network simulation it predicts.
module Theory.Cli.Commands.Scs

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli
open Theory.Simulation
open Theory.Simulation.Rate

/// theory scs --g G [--json] [--tau-max T --points P --csv FILE]
let private run (g: float) (json: bool) (csv: string option) (tauMax: float) (points: int) =
    Validate.NonNegative("g", g) |> ignore
    if csv.IsSome then
        Validate.Positive("tau-max", tauMax) |> ignore
        Validate.AtLeast("points", points, 2) |> ignore
    let sol = ScsStationary.Solve g
    let lyap = ScsLyapunov.Solve sol
    match csv with
    | Some path ->
        let rows =
            [ for k in 0 .. points - 1 ->
                  let tau = tauMax * float k / float (points - 1)
                  [| tau; ScsStationary.Autocorrelation(sol, tau); ScsStationary.PhiAutocorrelation(sol, tau) |] ]
        Csv.Write(path, [ "g", Csv.Format g; "delta0", Csv.Format sol.Delta0; "model", "SCS 1988 stationary DMFT, phi = tanh, tau = 1" ], [| "tau"; "delta"; "cphi" |], rows)
    | None -> ()
    Output.emit json [
        Output.num "g" g
        Output.str "regime" (if sol.IsChaotic then "chaotic" else "quiescent")
        Output.num "delta0" sol.Delta0
        Output.num "phiVariance" sol.PhiVariance
        Output.num "lyapunov" lyap.LambdaMax
        // τ½ (Δ(τ½) = Δ0/2); null in the quiescent phase, where there are no fluctuations to correlate
        "correlationTime", (match sol.HalfTime with Some t -> Json.Number("correlationTime", t) | None -> null)
        Output.num "tailRate" sol.TailRate
        Output.num "groundEnergy" lyap.GroundEnergy
        Output.num "zeroModeEnergy" lyap.ZeroModeEnergy
        Output.int "delta0Iterations" sol.Delta0Convergence.Iterations
        Output.num "delta0Residual" sol.Delta0Convergence.Residual
        match csv with Some p -> Output.str "csv" p | None -> ()
    ]
    0

/// theory simulate rate --n N --g G --seed K [--t T] [--dt DT] [--transient T0] [--stepper rk4|euler]
///                      [--phi tanh|identity] [--noise S] [--json]
let private simulateRate n g seed t dt transient (stepperName: string) (phiName: string) noise json =
    let stepper =
        match stepperName with
        | "rk4" -> Stepper.RK4
        | "euler" -> Stepper.Euler
        | s -> raise (ParameterOutOfDomainException("stepper", s, "rk4 or euler"))
    let phi = ActivationFunctions.Parse phiName
    Validate.PositiveInt("n", n) |> ignore
    Validate.NonNegative("g", g) |> ignore
    Validate.Positive("t", t) |> ignore
    let o =
        RateSimulationOptions(
            Dt = dt, Stepper = stepper, Transient = transient, Duration = t, NoiseStd = noise, Seed = int64 seed,
            MaxLag = min 20.0 (t / 2.0), RenormInterval = min 1.0 (t / 10.0))
    let net = RateNetwork(n, g, phi, int64 seed)
    let r = RateSimulation.Run(net, o)
    Output.emit json [
        Output.int "n" n
        Output.num "g" g
        Output.int "seed" seed
        Output.num "t" t
        Output.num "dt" dt
        Output.num "transient" transient
        Output.str "stepper" (string stepper)
        Output.str "phi" (string phi)
        Output.num "noise" noise
        Output.num "variance" r.Variance
        Output.num "phiVariance" r.PhiVariance
        Output.num "mean" r.Mean
        Output.num "lyapunov" r.Lyapunov
        Output.num "lyapunovStdErr" r.LyapunovStdErr
        Output.int "steps" (int r.Steps)
    ]
    0

/// Tail-excess scan (issue 18): E(τ) = Δ_sim(τ)/Δ_sim(0) − Δ_DMFT(τ)/Δ0 of an ensemble of seeded networks while one
/// of N, the recording window T, the transient or dt is varied around a base setting (docs/scs.md, "Tail excess").
module TailScan =
    /// One simulation setting (RK4, sampling interval 0.2, no Lyapunov exponent).
    type Setting = { N: int; T: float; Transient: float; Dt: float }

    /// One seed at one lag: the plateau q = (1/N)Σ m_i² / Δ_sim(0) of the neurons' window means, the simulated Δ(0)
    /// and Δ(τ), the normalised ratio, the DMFT ratio and the excess.
    type SeedLag = { Seed: int64; Plateau: float; Lag: float; Delta0Sim: float; DeltaSim: float; Ratio: float; Dmft: float; Excess: float }

    /// Mean and seed-to-seed standard error (s.d./√S) of a sample.
    let meanSe (xs: float[]) =
        let m = Array.average xs
        let s = xs.Length
        if s < 2 then m, nan
        else m, sqrt ((xs |> Array.sumBy (fun x -> (x - m) ** 2.0)) / float (s - 1) / float s)

    /// Runs `seeds` networks (coupling and run seeds baseSeed, baseSeed+1, …, as RateSimulation.RunEnsemble) at the
    /// setting and returns, per seed, the rows for each lag (lags snapped to the 0.2 sampling grid).
    let run (g: float) (s: Setting) (baseSeed: int64) (seeds: int) (lags: float[]) (sol: ScsSolution) =
        let maxLag = (Array.max lags) + 0.5
        let o = RateSimulationOptions(Dt = s.Dt, Stepper = Stepper.RK4, Transient = s.Transient, Duration = s.T,
                                      MaxLag = maxLag, SampleInterval = 0.2, Lyapunov = false)
        let rs = RateSimulation.RunEnsemble(s.N, g, Activation.Tanh, baseSeed, seeds, o)
        [| for r in rs ->
             [| for tau in lags ->
                  let k = int (Math.Round(tau / (r.Lags.[1] - r.Lags.[0])))
                  let lag = r.Lags.[k]
                  let ratio = r.Autocorrelation.[k] / r.Autocorrelation.[0]
                  let dmft = ScsStationary.Autocorrelation(sol, lag) / sol.Delta0
                  let q = (r.NeuronMeans |> Array.averageBy (fun m -> m * m)) / r.Autocorrelation.[0]
                  { Seed = r.Seed; Plateau = q; Lag = lag; Delta0Sim = r.Autocorrelation.[0]; DeltaSim = r.Autocorrelation.[k]
                    Ratio = ratio; Dmft = dmft; Excess = ratio - dmft } |] |]

    /// Weighted least squares y = a + b x (weights 1/σ²): a, s.e.(a), b, s.e.(b), χ², degrees of freedom.
    let fitLine (x: float[]) (y: float[]) (sigma: float[]) =
        let w = sigma |> Array.map (fun s -> 1.0 / (s * s))
        let sw = Array.sum w
        let sx = Array.map2 (*) w x |> Array.sum
        let sy = Array.map2 (*) w y |> Array.sum
        let sxx = Array.map2 (fun wi xi -> wi * xi * xi) w x |> Array.sum
        let sxy = Array.map3 (fun wi xi yi -> wi * xi * yi) w x y |> Array.sum
        let d = sw * sxx - sx * sx
        let a = (sxx * sy - sx * sxy) / d
        let b = (sw * sxy - sx * sy) / d
        let chi2 = Array.map3 (fun wi xi yi -> wi * (yi - a - b * xi) ** 2.0) w x y |> Array.sum
        a, sqrt (sxx / d), b, sqrt (sw / d), chi2, x.Length - 2

    /// The scaling variable of the fit for each scanned parameter: 1/N, 1/T, 1/T0, dt⁴.
    let scalingVariable (param: string) (v: float) = if param = "dt" then v ** 4.0 else 1.0 / v

    let setting (param: string) (v: float) (b: Setting) =
        match param with
        | "n" -> { b with N = int (Math.Round v) }
        | "t" -> { b with T = v }
        | "transient" -> { b with Transient = v }
        | "dt" -> { b with Dt = v }
        | p -> raise (ParameterOutOfDomainException("param", p, "n, t, transient or dt"))

/// theory simulate rate-tail-scan --param n|t|transient|dt --values V1,V2,… [--g G --n N --t T --transient T0 --dt DT
///                                --seeds S --base-seed K --lags L1,… --csv FILE --json]
let private tailScan (param: string) (values: float[]) g n t transient dt seeds (baseSeed: int) (lagsOpt: float[] option) (csv: string option) json =
    Validate.Positive("g", g) |> ignore
    Validate.PositiveInt("n", n) |> ignore
    Validate.AtLeast("seeds", seeds, 2) |> ignore
    if values.Length = 0 then raise (ParameterOutOfDomainException("values", "", "at least one value"))
    let sol = ScsStationary.Solve g
    let half =
        match sol.HalfTime with
        | Some h -> h
        | None -> raise (ParameterOutOfDomainException("g", string g, "> 1 (chaotic phase, where τ½ exists)"))
    let lags = lagsOpt |> Option.defaultValue [| half; 2.0 * half; 3.0 * half |]
    lags |> Array.iter (fun l -> Validate.Positive("lags", l) |> ignore)
    let baseSetting = { TailScan.N = n; TailScan.T = t; TailScan.Transient = transient; TailScan.Dt = dt }
    let results =
        [| for v in values ->
             let s = TailScan.setting param v baseSetting
             Output.progress (sprintf "tail scan: %s = %g (N = %d, T = %g, transient = %g, dt = %g), %d seeds" param v s.N s.T s.Transient s.Dt seeds)
             v, s, TailScan.run g s (int64 baseSeed) seeds lags sol |]
    match csv with
    | Some path ->
        let rows =
            [ for (v, s, perSeed) in results do
                  for row in perSeed do
                      for x in row ->
                          [| v; float s.N; s.T; s.Transient; s.Dt; g; float x.Seed; x.Plateau; x.Lag; x.Delta0Sim; x.DeltaSim; x.Ratio; x.Dmft; x.Excess |] ]
        Csv.Write(path,
                  [ "param", param; "g", Csv.Format g; "baseSeed", string baseSeed; "seeds", string seeds
                    "delta0Dmft", Csv.Format sol.Delta0; "halfTime", Csv.Format half
                    "model", "SCS tanh network, RK4, sample interval 0.2, uncentred Δ(τ) = ⟨x_i(t) x_i(t+τ)⟩; excess = ratio − dmft" ],
                  [| "value"; "n"; "t"; "transient"; "dt"; "g"; "seed"; "plateau"; "lag"; "delta0Sim"; "deltaSim"; "ratio"; "dmft"; "excess" |], rows)
    | None -> ()
    let nl = lags.Length
    let summary =
        [ for (v, s, perSeed) in results ->
              [ Output.num "value" v
                Output.int "n" s.N
                Output.num "t" s.T
                Output.num "transient" s.Transient
                Output.num "dt" s.Dt
                Output.num "delta0Ratio" (perSeed |> Array.averageBy (fun r -> r.[0].Delta0Sim / sol.Delta0))
                Output.num "plateau" (fst (TailScan.meanSe (perSeed |> Array.map (fun r -> r.[0].Plateau))))
                Output.num "plateauSe" (snd (TailScan.meanSe (perSeed |> Array.map (fun r -> r.[0].Plateau))))
                Output.nums "lag" [ for j in 0 .. nl - 1 -> perSeed.[0].[j].Lag ]
                Output.nums "dmft" [ for j in 0 .. nl - 1 -> perSeed.[0].[j].Dmft ]
                Output.nums "excess" [ for j in 0 .. nl - 1 -> fst (TailScan.meanSe (perSeed |> Array.map (fun r -> r.[j].Excess))) ]
                Output.nums "excessSe" [ for j in 0 .. nl - 1 -> snd (TailScan.meanSe (perSeed |> Array.map (fun r -> r.[j].Excess))) ] ] ]
    let fits =
        if values.Length < 3 then []
        else
            [ for j in 0 .. nl - 1 ->
                  let x = results |> Array.map (fun (v, _, _) -> TailScan.scalingVariable param v)
                  let ms = results |> Array.map (fun (_, _, p) -> TailScan.meanSe (p |> Array.map (fun r -> r.[j].Excess)))
                  let a, sa, b, sb, chi2, dof = TailScan.fitLine x (Array.map fst ms) (Array.map snd ms)
                  [ Output.num "lag" (let (_, _, p) = results.[0] in p.[0].[j].Lag)
                    Output.str "form" (if param = "dt" then "a + b*dt^4" else sprintf "a + b/%s" param)
                    Output.num "a" a; Output.num "aSe" sa; Output.num "b" b; Output.num "bSe" sb
                    Output.num "chi2" chi2; Output.int "dof" dof ] ]
    if not json then
        for (v, s, perSeed) in results do
            let cells =
                [ for j in 0 .. nl - 1 ->
                      let m, se = TailScan.meanSe (perSeed |> Array.map (fun r -> r.[j].Excess))
                      sprintf "E(%.1f) = %+.4f ± %.4f" perSeed.[0].[j].Lag m se ]
            let q, qse = TailScan.meanSe (perSeed |> Array.map (fun r -> r.[0].Plateau))
            Console.Error.WriteLine(sprintf "%s = %-6g N = %-5d T = %-5g T0 = %-5g dt = %-5g  q = %.4f ± %.4f  %s" param v s.N s.T s.Transient s.Dt q qse (String.Join("  ", cells)))
    Output.emit json [
        Output.str "param" param
        Output.num "g" g
        Output.int "seeds" seeds
        Output.int "baseSeed" baseSeed
        Output.num "delta0" sol.Delta0
        Output.num "halfTime" half
        Output.objs "points" summary
        Output.objs "fits" fits
        match csv with Some p -> Output.str "csv" p | None -> ()
    ]
    0

/// `theory scs`.
let command () =
    Cli.command "scs" "SCS (1988) stationary DMFT: Δ0, λ_max, correlation time, Δ(τ), C_φ(τ)" (fun cmd ->
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: >= 0"
        let tauMax = Cli.float cmd "--tau-max" 20.0 "largest lag τ of the --csv table; allowed: > 0"
        let points = Cli.int cmd "--points" 201 "rows of the --csv table; allowed: >= 2"
        let csv = Cli.optionalString cmd "--csv" "write τ, Δ(τ), C_φ(τ) to this CSV file (default: none)"
        let json = Cli.json cmd
        fun r -> run (r.GetValue g) (r.GetValue json) (r.GetValue csv) (r.GetValue tauMax) (r.GetValue points))

/// `theory simulate rate`.
let simulateRateCommand () =
    Cli.command "rate" "simulate a random rate network: variance, Lyapunov exponent" (fun cmd ->
        let n = Cli.requiredInt cmd "--n" "number of neurons N; allowed: >= 1"
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: >= 0"
        let seed = Cli.requiredInt cmd "--seed" "random seed of the network, initial state and noise"
        let t = Cli.float cmd "--t" 400.0 "measured duration T (after the transient); allowed: > 0"
        let dt = Cli.float cmd "--dt" 0.05 "integration step; allowed: > 0"
        let transient = Cli.float cmd "--transient" 400.0 "discarded transient T0; allowed: >= 0"
        let stepper = Cli.choice cmd "--stepper" "rk4" [ "rk4"; "euler" ] "integrator"
        let phi = Cli.choice cmd "--phi" "tanh" [ "tanh"; "identity"; "linear" ] "activation φ (linear = identity)"
        let noise = Cli.float cmd "--noise" 0.0 "standard deviation of the white input noise; allowed: >= 0"
        let json = Cli.json cmd
        fun r ->
            simulateRate (r.GetValue n) (r.GetValue g) (r.GetValue seed) (r.GetValue t) (r.GetValue dt) (r.GetValue transient)
                         (r.GetValue stepper) (r.GetValue phi) (r.GetValue noise) (r.GetValue json))

/// `theory simulate rate-tail-scan`.
let tailScanCommand () =
    Cli.command "rate-tail-scan" "SCS tail excess Δ_sim(τ)/Δ_sim(0) − Δ_DMFT(τ)/Δ0 while one of N, T, transient, dt varies" (fun cmd ->
        let param = Cli.requiredChoice cmd "--param" [ "n"; "t"; "transient"; "dt" ] "the scanned parameter"
        let values = Cli.requiredFloatList cmd "--values" "values of the scanned parameter, comma-separated"
        let g = Cli.float cmd "--g" 2.0 "coupling gain g; allowed: > 1"
        let n = Cli.int cmd "--n" 1000 "number of neurons N (base setting); allowed: >= 1"
        let t = Cli.float cmd "--t" 200.0 "recording window T (base setting); allowed: > 0"
        let transient = Cli.float cmd "--transient" 400.0 "discarded transient T0 (base setting); allowed: >= 0"
        let dt = Cli.float cmd "--dt" 0.1 "RK4 step (base setting); allowed: > 0"
        let seeds = Cli.int cmd "--seeds" 16 "networks per value (seeds base-seed, base-seed+1, …); allowed: >= 2"
        let baseSeed = Cli.int cmd "--base-seed" 1 "first seed"
        let lags = Cli.floatList cmd "--lags" "lags τ at which the excess is measured (default τ½, 2τ½, 3τ½)"
        let csv = Cli.optionalString cmd "--csv" "write one row per value, seed and lag to this CSV file"
        let json = Cli.json cmd
        fun r ->
            tailScan (r.GetValue param) (r.GetValue values) (r.GetValue g) (r.GetValue n) (r.GetValue t) (r.GetValue transient)
                     (r.GetValue dt) (r.GetValue seeds) (r.GetValue baseSeed) (r.GetValue lags) (r.GetValue csv) (r.GetValue json))

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

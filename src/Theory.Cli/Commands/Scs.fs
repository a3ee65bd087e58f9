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
let run (args: Args) =
    let g = args.RequireFloat "g"
    let json = args.Flag "json"
    let csv = args.TryString "csv"
    let tauMax = args.Float("tau-max", 20.0)
    let points = args.Int("points", 201)
    args.Finish()
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
let simulateRate (args: Args) =
    let n = args.RequireInt "n"
    let g = args.RequireFloat "g"
    let seed = args.RequireInt "seed"
    let t = args.Float("t", 400.0)
    let dt = args.Float("dt", 0.05)
    let transient = args.Float("transient", 400.0)
    let stepper =
        match args.String("stepper", "rk4").ToLowerInvariant() with
        | "rk4" -> Stepper.RK4
        | "euler" -> Stepper.Euler
        | s -> raise (ParameterOutOfDomainException("stepper", s, "rk4 or euler"))
    let phi = ActivationFunctions.Parse(args.String("phi", "tanh"))
    let noise = args.Float("noise", 0.0)
    let json = args.Flag "json"
    args.Finish()
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

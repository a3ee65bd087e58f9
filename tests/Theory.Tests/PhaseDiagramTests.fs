/// Simulated phase diagram (issue 6, note §5c): Benettin exponent of the autonomous network, classification,
/// determinism, resumable sweeps, γ⋆ crossing and bootstrap, bad input, CLI.
module Theory.Tests.PhaseDiagramTests

open System
open System.IO
open Expecto
open Theory.Core
open Theory.Core.Numerics
open Theory.Simulation
open Theory.Simulation.Rate
open Theory.Simulation.Training
open Theory.Simulation.PhaseDiagram
open Theory.Tests.TestUtil

/// A tiny, fast probe configuration (window 20 steps).
let private tiny =
    PhaseProbeOptions(N = 20, Period = 10.0, Dt = 0.5, TrainingSteps = 15, TransientPeriods = 2, MeasurePeriods = 10, Blocks = 5)

let private randomNet (n: int) (g: float) (dt: float) (seed: int64) =
    RnnWeights.Random(RnnConfig(n, 0, 1, g, 1.0, dt, Activation.Tanh), Rng.ForStream(seed, 0))

let private x0 (n: int) (seed: int64) = Rng.ForStream(seed, 5).Gaussians(n)

let benettinTests =
    testList "Benettin" [
        test "g = 0.5: λ̂ equals the exact discrete-time rate ln max|e + (1−e)μ|/Δt of the linearised map at x = 0; fixed point" {
            let n, dt = 60, 0.1
            let w = randomNet n 0.5 dt 3L
            let o = PhaseProbeOptions(N = n, Dt = dt, TransientPeriods = 10, MeasurePeriods = 30)
            let m = PhaseProbe.Analyse(w, x0 n 1L, o, Rng(2L))
            let e = exp (-dt)
            let exact =
                Measurements.ConnectivityEigenvalues w
                |> Array.map (fun struct (re, im) -> 0.5 * log ((e + (1.0 - e) * re) ** 2.0 + ((1.0 - e) * im) ** 2.0) / dt)
                |> Array.max
            Expect.isLessThan exact -0.3 "contracting"
            Expect.floatClose (accuracy 2e-3 0.0) m.Lyapunov exact "λ̂ vs exact linear rate"
            Expect.equal m.Class PhaseClass.FixedPoint "fixed point"
        }
        test "g = 2, N = 100: the exponential-Euler Benettin exponent agrees with an independent RK4 Benettin estimate on the same J (chaotic seed and fixed-point seed)" {
            // At N = 100 and g = 2 individual networks can be chaotic, on a limit cycle or at a fixed point (measured:
            // seeds 12, 13, 11); both engines agree on each.
            let n, dt = 100, 0.05
            let rk4 (w: RnnWeights) =
                let net = RateNetwork(2.0, Activation.Tanh, w.J, n)
                RateSimulation.Run(net, RateSimulationOptions(Dt = 0.05, Transient = 100.0, Duration = 400.0, MaxLag = 0.0, Seed = 4L)).Lyapunov
            let o = PhaseProbeOptions(N = n, Dt = dt, TransientPeriods = 10, MeasurePeriods = 40)
            let w = randomNet n 2.0 dt 12L
            let m = PhaseProbe.Analyse(w, x0 n 2L, o, Rng(3L))
            Expect.isGreaterThan m.Lyapunov (3.0 * m.LyapunovStdErr) "resolved positive exponent"
            Expect.equal m.Class PhaseClass.Chaotic "chaotic"
            relClose 0.3 m.Lyapunov (rk4 w) "chaotic: exponential-Euler map vs RK4 flow (~0.05, s.e. 0.01)"
            let w11 = randomNet n 2.0 dt 11L
            let m11 = PhaseProbe.Analyse(w11, x0 n 2L, o, Rng(3L))
            Expect.equal m11.Class PhaseClass.FixedPoint "seed 11 settles on a fixed point"
            relClose 0.05 m11.Lyapunov (rk4 w11) "fixed point: exponential-Euler map vs RK4 flow (~ -0.10)"
        }
        test "hand-built two-neuron oscillator: a limit cycle (λ̂ ≈ 0) classified ordered at its own period, other-ordered at a wrong T" {
            // ẋ = −x + a R(θ) tanh(x): unstable focus at 0 (a cos θ > 1) → stable limit cycle.
            let a, th, dt = 2.0, 0.5, 0.05
            let c = 1.0 / sqrt 2.0 // g/√N with g = 1, N = 2
            let j = [| a * cos th / c; -a * sin th / c; a * sin th / c; a * cos th / c |]
            let w = RnnWeights(RnnConfig(2, 0, 1, 1.0, 1.0, dt, Activation.Tanh), j, [||], [| 1.0; 0.0 |])
            // Find the period (dominant-lag search in [T/2, 3T/2] around a first guess, refined twice).
            let mutable period = 10.0
            for _ in 1 .. 3 do
                let m = PhaseProbe.Analyse(w, [| 0.3; 0.0 |], PhaseProbeOptions(N = 2, Dt = dt, Period = period, TransientPeriods = 5, MeasurePeriods = 20), Rng(1L))
                period <- m.DominantPeriod
            let pRounded = Math.Round(period / dt) * dt
            let m = PhaseProbe.Analyse(w, [| 0.3; 0.0 |], PhaseProbeOptions(N = 2, Dt = dt, Period = pRounded, TransientPeriods = 5, MeasurePeriods = 40), Rng(1L))
            Expect.equal m.Class PhaseClass.LimitCycle (sprintf "limit cycle at its period %g (λ̂ = %g, ρ = %g)" pRounded m.Lyapunov m.LagCorrelation)
            Expect.isLessThan (abs m.Lyapunov) 0.005 "phase mode: λ̂ ≈ 0"
            Expect.isGreaterThan m.LagCorrelation 0.99 "lag-T autocorrelation"
            let wrong = Math.Round(0.6 * period / dt) * dt
            let m2 = PhaseProbe.Analyse(w, [| 0.3; 0.0 |], PhaseProbeOptions(N = 2, Dt = dt, Period = wrong, TransientPeriods = 8, MeasurePeriods = 30), Rng(1L))
            Expect.equal m2.Class PhaseClass.OtherOrdered "ordered, but not at the period T"
        }
        test "autonomous run does not allocate per step (allocation independent of the run length)" {
            let w = randomNet 50 1.5 0.1 1L
            let run periods =
                let o = PhaseProbeOptions(N = 50, TransientPeriods = 2, MeasurePeriods = periods, Blocks = 5)
                PhaseProbe.Analyse(w, x0 50 1L, o, Rng(1L)) |> ignore // warm-up (JIT)
                let before = GC.GetAllocatedBytesForCurrentThread()
                PhaseProbe.Analyse(w, x0 50 1L, o, Rng(1L)) |> ignore
                let after = GC.GetAllocatedBytesForCurrentThread()
                after - before - int64 (periods * 100 * 8 + periods * 10 * 8) // minus the y and log-growth records
            let short, long = run 5, run 50
            Expect.isLessThan (abs (long - short)) 20_000L (sprintf "allocation grows with run length: %d vs %d bytes" short long)
        }
    ]

let probeTests =
    testList "Probe" [
        test "same seed, same bits; different seeds differ" {
            let p = PhaseProbe(tiny)
            let a = p.Run(1.5, 0.5, 7L)
            let b = p.Run(1.5, 0.5, 7L)
            Expect.equal a.Measurement b.Measurement "measurement bits"
            Expect.equal (BitConverter.DoubleToInt64Bits a.FitError) (BitConverter.DoubleToInt64Bits b.FitError) "fit error bits"
            let c = p.Run(1.5, 0.5, 8L)
            Expect.notEqual a.Measurement.Lyapunov c.Measurement.Lyapunov "seed matters"
            let z = p.Run(1.5, 0.0, 7L)
            Expect.isTrue (Double.IsNaN z.FitError) "gamma = 0: untrained, no fit"
        }
        test "bad input: parameter named with its allowed range" {
            let msg (f: unit -> obj) =
                try
                    f () |> ignore
                    ""
                with :? ParameterOutOfDomainException as e -> e.Message
            Expect.stringContains (msg (fun () -> box (PhaseProbeOptions(Dt = 2.0).Validate()))) "dt" "fewer than 10 points per period"
            Expect.stringContains (msg (fun () -> box (PhaseProbeOptions(Dt = 2.0).Validate()))) "10 points per period" "message"
            Expect.stringContains (msg (fun () -> box (PhaseProbeOptions(Dt = 10.0).Validate()))) "< period" "dt >= T"
            Expect.stringContains (msg (fun () -> box (PhaseProbe(tiny).Run(1.5, -0.5, 1L)))) "gamma" "gamma < 0"
            Expect.stringContains (msg (fun () -> box (PhaseProbe(tiny).Run(-1.0, 0.5, 1L)))) "g" "g < 0"
            let spec gs gms = PhaseSweepSpec(Gs = gs, Gammas = gms, Seeds = 1, Probe = tiny)
            Expect.stringContains (msg (fun () -> box ((spec [| 1.5 |] [| 1.0; 0.5 |]).Validate()))) "strictly increasing" "grid order"
            Expect.stringContains (msg (fun () -> box ((spec [| 1.5; 1.5 |] [| 0.5 |]).Validate()))) "distinct" "duplicate g"
            Expect.stringContains (msg (fun () -> box ((spec [| 1.5 |] [| -0.5; 0.5 |]).Validate()))) "gamma" "negative gamma"
            Expect.stringContains (msg (fun () -> box (PhaseProbeOptions(RhoTolerance = 2.0).Validate()))) "rho-tolerance" "rho"
        }
    ]

let private cross gms f level =
    let struct (g, s) = PhaseDiagramAnalysis.Crossing(gms, f, level)
    g, s

let analysisTests =
    testList "Analysis" [
        test "crossing by linear interpolation; band; status at the grid edges" {
            let gms = [| 0.0; 1.0; 2.0; 3.0 |]
            let f = [| 0.0; 0.25; 0.75; 1.0 |]
            Expect.floatClose (accuracy 1e-12 0.0) (cross gms f 0.5 |> fst) 1.5 "gamma*"
            Expect.floatClose (accuracy 1e-12 0.0) (cross gms f 0.1 |> fst) 0.4 "band low"
            Expect.floatClose (accuracy 1e-12 0.0) (cross gms f 0.9 |> fst) 2.6 "band high"
            Expect.equal (cross gms [| 0.6; 1.0; 1.0; 1.0 |] 0.5) (0.0, -1) "already ordered"
            let g, s = cross gms [| 0.0; 0.0; 0.25; 0.25 |] 0.5
            Expect.isTrue (Double.IsNaN g && s = 1) "not reached"
        }
        test "bootstrap over seeds: known crossing, error bars bracket it, seeded" {
            // 8 seeds; seed k orders from gamma index threshold.[k] on: f = 0, 1/8, 3/8, 5/8, 7/8, 1 → γ⋆ = 2 + 0.5 = 2.5.
            let gms = [| 0.0; 1.0; 2.0; 3.0; 4.0; 5.0 |]
            let threshold = [| 1; 2; 2; 3; 3; 4; 4; 5 |]
            let ordered = gms |> Array.mapi (fun i _ -> threshold |> Array.map (fun t -> i >= t))
            let est = PhaseDiagramAnalysis.GammaStar(2.0, gms, ordered, 2000, 5L)
            Expect.floatClose (accuracy 1e-12 0.0) est.GammaStar 2.5 "gamma*"
            Expect.equal est.Status 0 "inside"
            Expect.isTrue (est.StdErr > 0.2 && est.StdErr < 1.0) (sprintf "bootstrap s.d. %g" est.StdErr)
            Expect.isTrue (est.Lower <= 2.5 && est.Upper >= 2.5) "16-84% interval brackets gamma*"
            Expect.floatClose (accuracy 1e-12 0.0) est.BandLow 0.8 "band 0.1"
            Expect.floatClose (accuracy 1e-12 0.0) est.BandHigh 4.2 "band 0.9"
            let again = PhaseDiagramAnalysis.GammaStar(2.0, gms, ordered, 2000, 5L)
            Expect.equal again est "seeded bootstrap"
        }
    ]

let private summaryOf (rs: PhaseProbeResult[]) =
    PhaseDiagramAnalysis.Summarise rs, PhaseDiagramAnalysis.GammaStars(rs, 200, 1L)

let sweepTests =
    testList "Sweep" [
        test "resume after an interruption gives the same rows and summary as an uninterrupted sweep" {
            let spec = PhaseSweepSpec(Gs = [| 1.5; 2.0 |], Gammas = [| 0.0; 0.5; 1.0 |], Seeds = 2, Probe = tiny)
            let dirA = tempDir "phase-full"
            let dirB = tempDir "phase-resume"
            let full = PhaseSweep.Run(spec, Path.Combine(dirA, "rows.csv"), false)
            let csvB = Path.Combine(dirB, "rows.csv")
            // "interrupted": only g = 1.5 done, plus a half-written line at the end
            PhaseSweep.Run(PhaseSweepSpec(Gs = [| 1.5 |], Gammas = spec.Gammas, Seeds = 2, Probe = tiny), csvB, false) |> ignore
            File.AppendAllText(csvB, "2,0.5,1,0,0.1")
            let resumed = PhaseSweep.Run(spec, csvB, true)
            let strip (r: PhaseProbeResult) = r.G, r.Gamma, r.Seed, r.Measurement, BitConverter.DoubleToInt64Bits r.FitError
            Expect.sequenceEqual (resumed |> Array.map strip) (full |> Array.map strip) "rows"
            let ca, sa = summaryOf full
            let cb, sb = summaryOf resumed
            Expect.sequenceEqual cb ca "per-point summary"
            Expect.sequenceEqual sb sa "gamma* estimates"
            let struct (_, rowsOnDisk) = PhaseSweep.Read csvB
            Expect.equal rowsOnDisk.Length 12 "file rewritten with every row once"
            // resuming with other probe parameters is refused
            let other = PhaseProbeOptions(N = 20, Period = 10.0, Dt = 0.5, TrainingSteps = 16, TransientPeriods = 2, MeasurePeriods = 10, Blocks = 5)
            Expect.throwsT<ArgumentException> (fun () -> PhaseSweep.Run(PhaseSweepSpec(Gs = spec.Gs, Gammas = spec.Gammas, Seeds = 2, Probe = other), csvB, true) |> ignore) "parameter mismatch"
        }
    ]

let cliTests =
    testSequenced <| testList "Cli" [
        test "simulate phase-diagram writes the CSVs, PNG and JSON; --resume reuses rows; bad input exits 2" {
            let dir = tempDir "phase-cli"
            let common = [ "simulate"; "phase-diagram"; "--g"; "1.5"; "--gamma"; "0,1"; "--n"; "20"; "--seeds"; "2"; "--steps"; "10"; "--dt"; "0.5"
                           "--transient-periods"; "2"; "--measure-periods"; "10"; "--bootstrap"; "50"; "--out"; dir; "--json" ]
            let code, out, err = runCli common
            Expect.equal code 0 err
            for f in [ "phase-diagram.csv"; "phase-summary.csv"; "gamma-star-sim.csv"; "phase-diagram.png" ] do
                Expect.isTrue (File.Exists(Path.Combine(dir, f))) f
            let json = Text.Json.Nodes.JsonNode.Parse(out)
            Expect.equal (json.["probes"].GetValue<int>()) 4 "probes"
            Expect.isNotNull (json.["gammaStarSim"]) "gamma* per g"
            Expect.isNotNull (json.["version"]) "version"
            // every gamma* carries its error and its ensemble (protocol, N, steps, learning rate), in the JSON and the CSV
            let star = json.["gammaStarSim"].[0]
            Expect.equal (star.["ensemble"].["kind"].GetValue<string>()) "adam" "ensemble kind"
            Expect.equal (star.["ensemble"].["neurons"].GetValue<int>()) 20 "ensemble N"
            Expect.equal (star.["ensemble"].["label"].GetValue<string>()) "adam (N = 20, 10 steps, lr 0.05)" "ensemble label"
            Expect.isTrue (star.AsObject().ContainsKey "gammaStarError") "gamma* error"
            Expect.stringContains (File.ReadAllText(Path.Combine(dir, "gamma-star-sim.csv"))) "# ensemble=adam (N = 20, 10 steps, lr 0.05)" "CSV header names the ensemble"
            let code2, _, err2 = runCli (common @ [ "--resume" ])
            Expect.equal code2 0 err2
            Expect.stringContains err2 "4 already done" "resume skips done rows"
            let baseArgs = [ "simulate"; "phase-diagram"; "--out"; dir ]
            for args, what in
                [ [ "--g"; "1.5"; "--gamma"; "-1:1:0.5" ], "gamma"
                  [ "--g"; "3:1:0.5"; "--gamma"; "0,1" ], "start <= stop"
                  [ "--g"; "-1"; "--gamma"; "0,1" ], "g"
                  [ "--g"; "1.5"; "--gamma"; "1,0.5" ], "strictly increasing"
                  [ "--g"; "1.5"; "--gamma"; "0,1"; "--dt"; "2" ], "10 points per period"
                  [ "--g"; "1.5"; "--gamma"; "0,1"; "--dt"; "10" ], "< period" ] do
                let c, _, e = runCli (baseArgs @ args)
                Expect.equal c 2 (sprintf "%A → exit 2 (%s)" args e)
                Expect.stringContains e what "message names the problem"
        }
    ]

[<Tests>]
let tests = testList "PhaseDiagram" [ benettinTests; probeTests; analysisTests; sweepTests; cliTests ]

/// Tests of the multi-condition DMFT (joint (condition, time) index; docs/dmft-multi-condition.md).
module Theory.Tests.DmftMultiConditionTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Dmft
open Theory.Simulation.Training
open Theory.Tests.TestUtil

/// A small reach task: C = 3 conditions, Δt = 0.5, n = 8 (T = 4).
let private small = { ReachTask.Default with Conditions = 3; Dt = 0.5; Steps = 8; CueOff = 1.0; GoTime = 1.5; GoWidth = 0.5; PeakTime = 2.5 }
let private mc = { TiltedSolverOptions.Default with Chains = 400; Seed = 5L }

let private throwsDomain (f: unit -> 'a) (msg: string) =
    Expect.throwsT<ParameterOutOfDomainException> (fun () -> f () |> ignore) msg

[<Tests>]
let tests =
    testList "DmftMultiCondition" [
        test "C = 1: the stacked propagator is the exponential-Euler grid on n-1 points bit for bit; each input-weight response is the recursion's path" {
            let t = { small with Conditions = 1 }
            let m = MultiConditions.Reach(Tanh, 1.2, 0.5, t, 0.05)
            let p, _ = TiltedProblems.ExponentialEuler(t.Dt, t.Steps - 1)
            Expect.equal m.Problem.Propagator p "propagator"
            // independent: x_{k+1} = e x_k + (1-e) I_k from x_0 = 0, by closed-form sums
            let e = Math.Exp(-t.Dt)
            let s = t.Series().[0]
            Expect.equal m.Problem.InputWeights 3 "one weight per channel (cue, go) and the first step's process noise"
            for k in 1 .. t.Steps - 1 do
                Expect.floatClose (accuracy 1e-15 1e-13) m.Problem.InputWeightResponse.[k - 1, 2] (0.05 * (1.0 - e) * Math.Pow(e, float (k - 1))) (sprintf "first-step noise response at step %d" k)
            for a in 0 .. 1 do
                for k in 1 .. t.Steps - 1 do
                    let r = Seq.sum (seq { for j in 0 .. k - 1 -> (1.0 - e) * Math.Pow(e, float (k - 1 - j)) * s.Inputs.[j].[a] })
                    Expect.floatClose (accuracy 1e-15 1e-13) m.Problem.InputWeightResponse.[k - 1, a] r (sprintf "channel %d response at step %d" a k)
            Expect.equal m.Problem.X0Variance 0.0 "x(0) = 0: no x0 variable"
            Expect.equal m.JointPoints (t.Steps - 1) "joint points"
        }
        test "the joint-index march reproduces the single-condition march (ScsTransient) to rounding" {
            let p = TiltedProblems.Sinusoid(1.5, 0.0, { SinusoidTask.Default with Dt = 0.5 })
            let _, c = MultiConditions.ZeroGammaKernel(p, 48)
            let reference = (ScsTransient.Solve(Tanh, 1.5, 0.5, p.Points, p.X0Variance, p.InputKernel, 48)).C
            Array2D.iteri (fun i j (v: float) -> Expect.floatClose (accuracy 1e-13 1e-11) v reference.[i, j] (sprintf "C(%d,%d)" i j)) c
        }
        test "the joint-index solve reproduces TiltedSolver.Solve on the single-condition sinusoid to rounding (gamma = 0.25)" {
            let p = TiltedProblems.Sinusoid(1.5, 0.25, { SinusoidTask.Default with Dt = 0.5 })
            // Without the slow-mode Newton jumps: their GMRES step amplifies the rounding differences of the two starting
            // kernels by 1/(1 − λ) along the slow mode, so the two trajectories part after the first jump (both stay
            // valid solves); the relaxation without jumps keeps them equal to rounding over the whole budget.
            let o = { mc with Chains = 200; MaxIterations = 400; MinIterations = 100; NewtonWindow = 0 }
            let a = TiltedSolver.Solve(p, o)
            let b = MultiConditions.SolveCausal(p, o)
            match a, b with
            | Ok a, Ok b ->
                Expect.equal b.Diagnostics.Iterations a.Diagnostics.Iterations "iterations"
                Array2D.iteri (fun i j (v: float) -> Expect.floatClose (accuracy 1e-9 1e-7) v a.C.[i, j] (sprintf "C(%d,%d)" i j)) b.C
            | Error fa, Error fb ->
                // the same trajectory ends in the same failure (iterations and residual to rounding)
                Expect.equal fb.Failure.Iterations fa.Failure.Iterations "iterations"
                Expect.floatClose (accuracy 1e-9 1e-7) fb.Failure.Residual fa.Failure.Residual "residual"
            | Ok _, Error f | Error f, Ok _ -> failtestf "one path converged, the other failed: %O" f
        }
        testProperty "phi = identity, gamma = 0: the march solves Delta = R_U R_U' + P (g^2 Delta + C^I) P' on the joint index" <| fun (gi: int) (ci: int) ->
            let g = 0.3 + 0.1 * float (abs gi % 8)
            let cc = 1 + abs ci % 4
            let m = MultiConditions.Reach(Identity, g, 0.0, { small with Conditions = cc }, 0.1)
            let d, c = MultiConditions.ZeroGammaKernel(m.Problem, 48)
            let n = m.JointPoints
            let p = m.Problem.Propagator
            let ciK = m.Problem.InputKernel.Value
            let mutable worst = 0.0
            for i in 0 .. n - 1 do
                for j in 0 .. n - 1 do
                    let mutable v = m.Problem.X0Variance * m.Problem.X0Response.[i] * m.Problem.X0Response.[j]
                    for a in 0 .. m.Problem.InputWeights - 1 do v <- v + m.Problem.InputWeightResponse.[i, a] * m.Problem.InputWeightResponse.[j, a]
                    for a in 0 .. n - 1 do
                        for b in 0 .. n - 1 do v <- v + p.[i, a] * (g * g * d.[a, b] + ciK.[a, b]) * p.[j, b]
                    worst <- max worst (abs (v - d.[i, j]))
                    worst <- max worst (abs (c.[i, j] - d.[i, j]))
            worst < 1e-12
        test "phi = identity: Monte Carlo on the cue-driven problem equals the exact Gaussian saddle point within its noise (C = 3, g = 0.5, gamma = 1)" {
            // Three conditions with one-hot cues: the first states (1-e)A U_c are independent, so the joint kernel is
            // regular and the linear problem has an exact Gaussian saddle point on the whole joint index.
            let m = MultiConditions.Reach(Identity, 0.5, 1.0, small, 0.1)
            let exact = MultiConditions.SolveOrThrow(m, { mc with Expectation = ExactGaussian })
            let sampled = MultiConditions.SolveOrThrow(m, { mc with Chains = 1000 })
            let dist = MultiConditions.Distance(sampled.C, exact.C)
            // The Monte Carlo C is a Polyak average whose relative noise is the reported floor (block standard error of Ĉ
            // over ‖C‖ per iteration, reduced by averaging) plus the O(1/ESS) self-normalisation bias: allow 4x their sum.
            let tol = 4.0 * (sampled.Diagnostics.CNoiseFloor + sampled.Diagnostics.SnisBias)
            Expect.isLessThan dist tol (sprintf "relative distance %.3g (floor %.3g, bias %.3g)" dist sampled.Diagnostics.CNoiseFloor sampled.Diagnostics.SnisBias)
            // γ changed the kernel well beyond that noise (the comparison is not trivial)
            let _, c0 = MultiConditions.ZeroGammaKernel({ m.Problem with Gamma = 0.0 }, 48)
            // and the Monte Carlo solution sits much closer to the exact γ-solution than the γ = 0 kernel does
            let effect = MultiConditions.Distance(c0, exact.C)
            Expect.isLessThan dist (0.5 * effect) (sprintf "MC-exact distance %.3g vs gamma effect %.3g" dist effect)
        }
        testProperty "time-resolved selectivity of a kernel phi'phi/N equals the pooled per-neuron ratio computed from the rates" <| fun (seed: int) (ci: int) ->
            // Independent route: per neuron, between = sum_t Var_c phi_c(t), total = sum_t mean_c phi^2 - T (mean phi)^2;
            // S_t = sum_i between_i / sum_i total_i, against the kernel formula on (1/N) sum_i phi_i phi_i'.
            let cc = 1 + abs ci % 4
            let m = MultiConditions.Reach(Tanh, 1.2, 0.0, { small with Conditions = cc }, 0.1)
            let rng = Theory.Core.Numerics.Rng(int64 seed)
            let nNeurons = 30
            let rates = Array.init nNeurons (fun _ -> Array.init m.JointPoints (fun _ -> Math.Tanh(rng.NextGaussian())))
            let kernel = Array2D.init m.JointPoints m.JointPoints (fun i j -> (rates |> Array.sumBy (fun r -> r.[i] * r.[j])) / float nNeurons)
            let from = 2
            let ts = [ from .. m.Steps - 1 ]
            let mutable between = 0.0
            let mutable total = 0.0
            for r in rates do
                let all = [| for c in 0 .. cc - 1 do for t in ts -> r.[m.Index(c, t)] |]
                let mu = Array.average all
                for t in ts do
                    let xs = Array.init cc (fun c -> r.[m.Index(c, t)])
                    let m2 = xs |> Array.averageBy (fun v -> v * v)
                    let m1 = Array.average xs
                    between <- between + (m2 - m1 * m1)
                    total <- total + m2
                total <- total - float ts.Length * mu * mu
            let direct = if total <= 0.0 then 0.0 else max 0.0 between / total
            let viaKernel = MultiConditions.TimeResolvedSelectivity(m, kernel, from)
            abs (viaKernel - direct) < 1e-12 && (cc > 1 || viaKernel = 0.0)
        test "validation: unequal lengths, empty targets, gamma < 0, nonzero t = 0 targets, linearly dependent inputs at t = 0" {
            let s = small.Series()
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, [| s.[0]; { s.[1] with Targets = s.[1].Targets.[0..5]; Inputs = s.[1].Inputs.[0..5] } |], 1.0, 0.0)) "unequal lengths"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, [||], 1.0, 0.0)) "no conditions"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, [| { Inputs = [||]; Targets = [||] } |], 1.0, 0.0)) "empty targets"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, s |> Array.map (fun c -> { c with Targets = c.Targets |> Array.map (fun _ -> [||]) }), 1.0, 0.0)) "zero outputs"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, -0.1, 0.5, s, 1.0, 0.0)) "gamma < 0"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, s |> Array.map (fun c -> { c with Targets = Array.append [| [| 1.0; 0.0 |] |] c.Targets.[1..] }), 1.0, 0.0)) "y(0) != 0"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, [| s.[0]; s.[0] |], 1.0, 0.0)) "equal cues (rank 1 < 2 conditions)"
            throwsDomain (fun () -> MultiConditions.Build(Tanh, 1.0, 0.5, 0.5, s |> Array.map (fun c -> { c with Inputs = c.Inputs |> Array.map (fun r -> [| r.[0] + r.[1] + r.[2]; r.[3] |]) }), 1.0, 0.0)) "one cue channel for three conditions"
            throwsDomain (fun () -> MultiConditions.Reach(Tanh, 1.0, 0.5, { small with Conditions = 0 }, 0.0)) "C = 0"
            let code, _, err = runCli [ "dmft"; "multi-condition"; "--gamma"; "-1"; "--json" ]
            Expect.equal code 2 (sprintf "gamma < 0 exits 2: %s" err)
            let code, _, _ = runCli [ "dmft"; "multi-condition"; "--conditions"; "0"; "--json" ]
            Expect.equal code 2 "no conditions exits 2"
            let dir = tempDir "multi-condition"
            let path = IO.Path.Combine(dir, "bad.csv")
            IO.File.WriteAllLines(path, [| "condition,step,i0,y0"; "0,0,1,0"; "0,1,1,1"; "0,2,1,1"; "1,0,2,0"; "1,1,2,1" |])
            let code, _, err = runCli [ "dmft"; "multi-condition"; "--series"; path; "--json" ]
            Expect.equal code 2 (sprintf "unequal lengths exit 2: %s" err)
            IO.File.WriteAllLines(path, [| "condition,step,i0,y0" |])
            let code, _, _ = runCli [ "dmft"; "multi-condition"; "--series"; path; "--json" ]
            Expect.equal code 2 "empty targets exit 2"
            let code, out, err = runCli [ "dmft"; "multi-condition"; "--linear"; "--conditions"; "1"; "--dt"; "0.5"; "--steps"; "8"; "--g"; "0.5"; "--gamma"; "0.1"; "--samples"; "200"; "--json" ]
            Expect.equal code 0 (sprintf "linear solve exits 0: %s" err)
            let o = Text.Json.Nodes.JsonNode.Parse(out)
            Expect.equal (o.["jointPoints"].GetValue<int>()) 7 "joint points in the JSON"
            Expect.isTrue (o.["seed"] <> null && o.["gamma"].GetValue<float>() = 0.1) "parameters and seed in the JSON"
        }
        test "reproducible: same seed, same bits (tanh solve and Adam-trained network)" {
            let m = MultiConditions.Reach(Tanh, 1.2, 0.25, small, 0.1)
            let o = { mc with Chains = 200; MaxIterations = 400; MinIterations = 100 }
            match MultiConditions.Solve(m, o), MultiConditions.Solve(m, o) with
            | Ok a, Ok b -> Expect.equal a.C b.C "same seed, same C"
            | Error a, Error b -> Expect.equal (string b) (string a) "same seed, same failure (iterations, residual)"
            | _ -> failtest "same seed, different outcomes"
            let opts = TrainingOptions(Protocol = TrainingProtocol.Adam, Steps = 20, LearningRate = 0.05)
            let n1 = MultiConditionNetworks.Train(m, small.Series(), 40, 3L, opts)
            let n2 = MultiConditionNetworks.Train(m, small.Series(), 40, 3L, opts)
            Expect.equal n1.Kernel n2.Kernel "same network kernel"
        }
        test "random networks (gamma = 0) approach the joint-index kernel as 1/sqrt N (g = 1.2, C = 3)" {
            let m = MultiConditions.Reach(Tanh, 1.2, 0.0, small, 0.0)
            let _, c0 = MultiConditions.ZeroGammaKernel(m.Problem, 48)
            // Samples of the γ = 0 single-site measure (exact Gaussian paths) for the sampling-distance prediction.
            let th = MultiConditions.SolveOrThrow(MultiConditions.Reach(Tanh, 1.2, 0.0, small, 1e-3), { mc with Chains = 2000 })
            let dist n = Array.init 4 (fun s -> MultiConditions.Distance((MultiConditionNetworks.Random(m, small.Series(), n, int64 (100 + s))).Kernel, c0)) |> Array.average
            for n in [ 100; 400 ] do
                let d = dist n
                // Independent neurons: E‖C_N − C‖²_F = Σ Var(φφ)/N, so the expected relative distance is ≈ pred(N) = O(N^{-1/2});
                // the mean over 4 seeds must be within a factor 2 of it (cross-neuron correlations of a finite network are O(1/N)).
                let pred = MultiConditions.SamplingDistance(th.Samples.Rates, c0, n)
                Expect.isLessThan d (2.0 * pred) (sprintf "N = %d: distance %.4f, predicted %.4f" n d pred)
                Expect.isGreaterThan d (0.4 * pred) (sprintf "N = %d: distance %.4f, predicted %.4f (noise present)" n d pred)
        }
    ]

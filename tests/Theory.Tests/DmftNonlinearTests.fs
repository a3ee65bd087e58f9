module Theory.Tests.DmftNonlinearTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Dmft
open Theory.Tests.TestUtil

/// The §7.5 discretisation at CI size: T = 10, Δt = 0.2 (n = 50), x0 ~ N(0, Δ0(g)) tilted.
let private task = { SinusoidTask.Default with Dt = 0.2 }

/// CI-sized N = ∞ solver options: S = 1000 particles.
let private mc = { TiltedSolverOptions.Default with Chains = 1000; Seed = 11L }

let private ok r =
    match r with
    | Ok s -> s
    | Error (f: SaddleFailure) -> failtestf "solver failed: %O" f

/// The N = ∞ saddle point at g = 1.5, γ = 0 and 0.5 (shared by the realised-network tests).
let private continuation =
    lazy (
        let sols, fail =
            TiltedSolver.Continue(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(1.5, gm, task)), [| 0.0; 0.5 |], mc)
        match fail with
        | Some f -> failtestf "continuation failed: %O" f
        | None -> sols |> Array.ofList)

[<Tests>]
let tests =
    testList "DmftNonlinear" [
        testProperty "SiteNonlinearity: derivativeFromValue(φ(x)) = φ'(x) and applyInto = apply (1e-15)" <| fun (NormalFloat x0) ->
            let xs = Array.init 7 (fun i -> x0 / 10.0 + float i - 3.0)
            for phi in [ Tanh; Identity ] do
                let ys = Array.zeroCreate xs.Length
                SiteNonlinearity.applyInto phi xs ys xs.Length
                for i in 0 .. xs.Length - 1 do
                    Expect.floatClose (accuracy 1e-15 1e-15) ys.[i] (SiteNonlinearity.apply phi xs.[i]) "applyInto"
                    Expect.floatClose (accuracy 1e-15 1e-15) (SiteNonlinearity.derivativeFromValue phi (SiteNonlinearity.apply phi xs.[i]))
                        (SiteNonlinearity.derivative phi xs.[i]) "derivative from value"
        testList "ScsTransient" [
            test "march reproduces the note §7.2 table (g = 1.5, x0 ~ N(0,1)) to 1e-5" {
                // Reference: research note §7.2, columns Δt = 0.1 and Δt = 0.05 (independent implementation), ±1e-5.
                for dt, expected in
                    [ 0.1, [ 0.36184; 0.34500; 0.49675; 0.6599; 0.27262; 0.32026; 0.10425 ]
                      0.05, [ 0.35832; 0.34315; 0.50063; 0.66342; 0.27388; 0.32119; 0.10741 ] ] do
                    let s = ScsTransient.Solve(1.5, dt, int (Math.Round(10.0 / dt)) + 1, 1.0)
                    let i (t: float) = int (Math.Round(t / dt))
                    let got = [ s.Delta.[i 1., i 1.]; s.Delta.[i 2., i 2.]; s.Delta.[i 5., i 5.]; s.Delta.[i 10., i 10.]
                                s.C.[i 5., i 5.]; s.C.[i 10., i 10.]; s.C.[i 5., i 10.] ]
                    List.iter2 (fun (a: float) (b: float) -> Expect.floatClose (accuracy 1.5e-5 0.0) a b (sprintf "dt = %g" dt)) got expected
            }
            test "window-vs-stationary trap numbers (note §7.2): mean C_kk = 0.26215, mean C(t, t+5) = 0.0452" {
                let p = TiltedProblems.Sinusoid(1.5, 0.0, task)
                let c = TiltedSolver.StartingKernel p
                let n = p.Points
                Expect.floatClose (accuracy 2e-4 0.0) (Seq.init n (fun k -> c.[k, k]) |> Seq.average) 0.26215 "mean C_kk"
                Expect.floatClose (accuracy 2e-4 0.0) (Seq.init (n / 2) (fun k -> c.[k, k + n / 2]) |> Seq.average) 0.0452 "half period"
            }
            test "identity: C = Δ, and Δ solves the discrete linear recursion" {
                let s = ScsTransient.Solve(Identity, 0.5, 0.1, 30, 0.7, None, 16)
                // Var x_{k+1} = e²Var x_k + 2e(1−e)E[x_k s_k] + (1−e)²g²C_kk, checked against a direct sample-free
                // recursion on the full covariance of (x, s) is the march itself; here: C = Δ and Δ symmetric PSD.
                for k in 0 .. 29 do
                    for l in 0 .. 29 do
                        Expect.equal s.C.[k, l] s.Delta.[k, l] "C = Delta"
                let e = Math.Exp(-0.1)
                Expect.floatClose (accuracy 1e-14 0.0) s.Delta.[1, 0] (e * 0.7) "Delta(t1, 0) = e Delta(0,0)"
            }
            test "bad input is rejected" {
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> ScsTransient.Solve(-1.0, 0.1, 10, 1.0) |> ignore) "g < 0"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> ScsTransient.Solve(1.5, 0.0, 10, 1.0) |> ignore) "dt = 0"
            }
        ]
        testList "realised networks" [
            test "gamma = 0, g = 2.5: realised networks are as chaotic as random networks of the same size and map (engine)" {
                // At γ = 0 the weights conditioned on prior (SCS) window paths are, for large N, an ordinary random
                // network; the realised λ̂ must match the engine's Benettin exponent of untrained random networks with
                // the same N = 500 and the same exponential-Euler map (Δt = 0.2), run from x0 ~ N(0, Δ0). Each mean
                // over 6 networks has s.e. ≈ 0.004 (block and network scatter); tolerance 0.02 ≈ 3.5 combined s.e.
                // Both sit below the continuum SCS λ_max = 0.17614 by the Δt = 0.2 map's bias and finite N (≈ −20%).
                let s =
                    TiltedSolver.Solve(TiltedProblems.Sinusoid(2.5, 0.0, task), { mc with Chains = 1000 }) |> ok
                let ro = { RealisationOptions.Default with Neurons = 500 }
                let ens = TiltedRealisation.Ensemble(s, ro, 6)
                Expect.equal ens.OrderedFraction 0.0 "every realised network is chaotic at gamma = 0, g = 2.5"
                let n = 500
                let delta0 = ScsStationary.SolveStationaryVariance(2.5).Delta0
                let po = Theory.Simulation.PhaseDiagram.PhaseProbeOptions(N = n, Dt = 0.2, TransientPeriods = 10, MeasurePeriods = 40)
                let engine =
                    [| for seed in 1L .. 6L ->
                        let w = Theory.Simulation.Training.RnnWeights.Random(
                                    Theory.Simulation.Training.RnnConfig(n, 0, 1, 2.5, 1.0, 0.2, Theory.Simulation.Activation.Tanh),
                                    Numerics.Rng.ForStream(seed, 0))
                        let x0 = Numerics.Rng.ForStream(seed, 5).Gaussians(n) |> Array.map (fun z -> z * sqrt delta0)
                        (Theory.Simulation.PhaseDiagram.PhaseProbe.Analyse(w, x0, po, Numerics.Rng(seed))).Lyapunov |]
                let em = Array.average engine
                Expect.floatClose (accuracy 0.02 0.0) ens.MeanLyapunov em
                    (sprintf "realised %.4f ± %.4f vs random networks %.4f (%A)" ens.MeanLyapunov ens.MeanLyapunovError em engine)
                Expect.isLessThan ens.MeanLyapunov 0.17614 "below the continuum SCS value (discrete map, finite N)"
                Expect.isGreaterThan ens.MeanLyapunov (0.7 * 0.17614) "within 30% of the continuum SCS value"
            }
            test "the realised network reproduces the tilted window (gamma = 0.5): output fit and paths; same seed, same bits" {
                let s = (continuation.Force()).[1]
                let ro = { RealisationOptions.Default with Neurons = 500; TransientPeriods = 2.0; MeasuredPeriods = 4.0 }
                let a = TiltedRealisation.Run(s, ro)
                let b = TiltedRealisation.Run(s, ro)
                let c = TiltedRealisation.Run(s, { ro with Replicate = 1 })
                // The weights match the sampled fields in the ridge sense (noise 1% of tr C/n), so the self-generated
                // window run follows the sampled paths to ≈ 5–10% (measured 6–9% at N = 1000) and the output fits y*
                // to ≈ 1–3%, like the trained networks.
                Expect.isLessThan a.WindowFitError 0.06 "output fits the target on the window"
                Expect.isLessThan a.PathError 0.2 "self-generated window paths follow the tilted samples"
                Expect.equal a.Output b.Output "same seed, same bits"
                Expect.notEqual a.Output c.Output "another replicate is another network"
            }
            test "bad input: N above the particles, N below 2n, non-positive noise" {
                let s = (continuation.Force()).[0]
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> TiltedRealisation.Run(s, { RealisationOptions.Default with Neurons = 5000 }) |> ignore) "N > particles"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> TiltedRealisation.Run(s, { RealisationOptions.Default with Neurons = 60 }) |> ignore) "N < 2n"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> TiltedRealisation.Run(s, { RealisationOptions.Default with Neurons = 500; ConditioningNoise = 0.0 }) |> ignore) "noise 0"
            }
        ]
        testList "finite-N posterior" [
            test "the gamma = 0 start is a random network: same seed, same bits; another stream is another network" {
                let p gm = TiltedProblems.Sinusoid(2.0, gm, task)
                let o = { FinitePosteriorOptions.Default with Neurons = 200; Sweeps = 3; Seed = 5L }
                let a = FinitePosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 0L)
                let b = FinitePosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 0L)
                let c = FinitePosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 1L)
                Expect.equal a.[1].Paths b.[1].Paths "same seed and stream, same bits"
                Expect.equal a.[1].Fields b.[1].Fields "fields too"
                Expect.notEqual a.[0].Paths c.[0].Paths "another stream, another network"
                Expect.equal a.[0].TotalSweeps 0 "no sweeps at gamma = 0 (the start is exact)"
                Expect.equal a.[1].TotalSweeps 3 "options.Sweeps at gamma = 0.5"
                // The start is a network run: x_{k+1} = e x_k + (1 − e) s_k on the window.
                let e = exp -0.2
                let x, s = a.[0].Paths.[7], a.[0].Fields.[7]
                for k in 0 .. 48 do Expect.floatClose (accuracy 1e-12 1e-12) x.[k + 1] (e * x.[k] + (1.0 - e) * s.[k]) "path recursion"
            }
            test "rank-two (Woodbury) updates agree with a fresh factorisation after a sweep" {
                // The trace is computed from the incrementally updated sums and inverses (N rank-two updates per sweep);
                // the snapshot's C is recomputed from the paths. Alignment y*ᵀC⁻¹y* amplifies errors in C⁻¹ by the
                // condition number (≈ 1e6 at σ = 0.01), so 1e-6 relative is a strict test of the update algebra.
                let o = { FinitePosteriorOptions.Default with Neurons = 150; Sweeps = 2; Seed = 3L }
                let run = FinitePosterior.Anneal(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(1.5, gm, task)), [| 0.0; 1.0 |], o, 0L)
                let smp = run.[1]
                let last = smp.Trace.[smp.Trace.Length - 1]
                let c = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray smp.C
                let y = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray smp.Problem.Targets.[0]
                let align = y.DotProduct(c.Cholesky().Solve y)
                let act = (Seq.init 50 (fun k -> smp.C.[k, k]) |> Seq.average)
                Expect.floatClose (accuracy 1e-12 1e-10) last.[0] act "mean activity"
                Expect.floatClose (accuracy 1e-9 1e-6) last.[1] align "target alignment (C inverse)"
                // (1/N)Σ sᵀΣ⁻¹s with Σ = g²C + σ²I from scratch.
                let sigma = c * 2.25 + MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseIdentity(50) * 1e-4
                let ch = sigma.Cholesky()
                let energy =
                    smp.Fields |> Array.averageBy (fun s ->
                        let v = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray s
                        v.DotProduct(ch.Solve v))
                Expect.floatClose (accuracy 1e-9 1e-6) last.[3] energy "field energy (Sigma inverse)"
                Expect.isTrue (Double.IsFinite smp.LogDensity) "log density finite"
            }
            test "at gamma -> 0 the sampler leaves the random-network ensemble invariant (mean activity)" {
                // At γ = 0 the posterior is the prior: slice updates must keep the paths distributed like random
                // networks. Compare the chain's time-averaged mean activity (sweeps 20–60 at γ = 1e-9) with exact
                // draws (12 independent random networks, N = 300). The scatter of one draw is ≈ 0.02 (measured); the
                // chain average is correlated over ≈ 20–50 sweeps, so allow 4 draw s.d. A wrong density (e.g. a sign
                // in the log det term) drives the activity off by O(0.1) within tens of sweeps.
                let p gm = TiltedProblems.Sinusoid(2.0, gm, task)
                let o = { FinitePosteriorOptions.Default with Neurons = 300; Sweeps = 60; Seed = 8L }
                let draws = Array.init 12 (fun r -> (FinitePosterior.Anneal(Func<_, _>(p), [| 0.0 |], o, int64 (10 + r))).[0].Summaries.[0])
                let mu = Array.average draws
                let sd = sqrt ((draws |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / 11.0)
                let chain = (FinitePosterior.Anneal(Func<_, _>(p), [| 0.0; 1e-9 |], o, 0L)).[1]
                let avg = chain.Trace.[20 ..] |> Array.averageBy (fun r -> r.[0])
                Expect.floatClose (accuracy (4.0 * sd) 0.0) avg mu (sprintf "chain %.4f vs random networks %.4f ± %.4f" avg mu sd)
            }
            test "a tiny network (N = 6, n = 3): the chain's y*ᵀC⁻¹y* and activity equal exact importance sampling from random networks" {
                // An exact, independent reference: draw random networks with process noise (the prior, J integrated by
                // simulation), weight each by the likelihood of y* given its paths, exp(−(Nγ²/2)y*ᵀC⁻¹y* − ½ ln det C),
                // and average (self-normalised importance sampling, 100 000 draws; its s.e. from the weights). The
                // sampler's 8 chains × 10 000 sweeps give a mean and s.e. over chains. Tolerance: 4 combined s.e.
                // Before the slice reference left the updated neuron out, the alignment was 3.37 against 2.91 (46 s.e.).
                let N, n, dt, g, gamma, s0, sigma = 6, 3, 1.0, 1.5, 0.5, 1.0, 0.3
                let y = [| 0.3; -0.2; 0.5 |]
                let noiseKernel = Some(Array2D.init n n (fun i j -> if i = j then sigma * sigma else 0.0))
                let problemAt (gm: float) = TiltedProblems.OnGrid(Tanh, g, gm, dt, n, s0, true, noiseKernel, true, [| y |])
                let e = Math.Exp(-dt)
                let rng = Theory.Core.Numerics.Rng(12345L)
                let draws =
                    Array.init 100000 (fun _ ->
                        let J = Array.init (N * N) (fun _ -> g / sqrt (float N) * rng.NextGaussian())
                        let x = Array.init N (fun _ -> s0 * rng.NextGaussian())
                        let phi = Array2D.zeroCreate N n
                        for k in 0 .. n - 1 do
                            let p = Array.map tanh x
                            for i in 0 .. N - 1 do phi.[i, k] <- p.[i]
                            let s = Array.init N (fun i -> Array.fold2 (fun a w v -> a + w * v) 0.0 J.[i * N .. i * N + N - 1] p + sigma * rng.NextGaussian())
                            for i in 0 .. N - 1 do x.[i] <- e * x.[i] + (1.0 - e) * s.[i]
                        let c = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, n, fun a b -> (Seq.init N (fun i -> phi.[i, a] * phi.[i, b]) |> Seq.sum) / float N)
                        let ch = c.Cholesky()
                        let v = MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray y
                        let yCy = v.DotProduct(ch.Solve v)
                        -0.5 * float N * gamma * gamma * yCy - 0.5 * ch.DeterminantLn, [| (c.[0, 0] + c.[1, 1] + c.[2, 2]) / 3.0; yCy |])
                let mx = draws |> Array.map fst |> Array.max
                let w = draws |> Array.map (fun (l, _) -> exp (l - mx))
                let W = Array.sum w
                let opts = { FinitePosteriorOptions.Default with Neurons = N; ProcessNoise = sigma; Sweeps = 10000; Seed = 7L }
                let chains = Array.init 8 (fun r -> (FinitePosterior.Anneal(Func<_, _>(problemAt), [| 0.0; gamma |], opts, int64 r)).[1].Summaries)
                for (j, name) in [ 0, "activity"; 1, "alignment y*ᵀC⁻¹y*" ] do
                    let est = Array.fold2 (fun a wi (_, f: float[]) -> a + wi * f.[j]) 0.0 w draws / W
                    let isSe = sqrt (Array.fold2 (fun a wi (_, f: float[]) -> a + wi * wi * (f.[j] - est) ** 2.0) 0.0 w draws) / W
                    let vals = chains |> Array.map (fun c -> c.[j])
                    let m = Array.average vals
                    let se = sqrt ((vals |> Array.sumBy (fun v -> (v - m) ** 2.0)) / 7.0 / 8.0)
                    let tol = 4.0 * sqrt (se * se + isSe * isSe)
                    Expect.floatClose (accuracy tol 0.0) m est (sprintf "%s: chains %.4f ± %.4f vs importance sampling %.4f ± %.4f" name m se est isSe)
            }
            test "phi = identity: the posterior reproduces the exact-Gaussian saddle point (g = 0.8, sigma = 0.3 trained, gamma = 0.2)" {
                // The linear window problem (n = 20, Δt = 0.5, x0 ~ N(0, 1) trained) with the process noise as a trained
                // white input (the posterior's model: the noise is part of the sampled field) has an exact saddle point
                // (Gaussian conditioning, no Monte Carlo): mean C_kk = 0.3054, y*ᵀC⁻¹y* = 8.71 (with the noise quenched
                // instead: 0.3079, 8.70). Two samplers of N = 400 average sweeps 200–700 at γ = 0.2. The linear
                // posterior fluctuates slowly near its runaway (measured: 100-sweep means of activity ±5%, alignment ±10%),
                // so the tolerances are 10% and 20%; O(1/N) is below 1%. (The Monte Carlo saddle solver with 2 sweeps per
                // iteration is off by 15–35% on the same kind of problem: docs/dmft-nonlinear.md.)
                let n = 20
                let dt = 0.5
                let y = Array.init n (fun k -> sin (2.0 * Math.PI * float k * dt / 10.0))
                let noise = 0.3
                let exactProblem gm =
                    TiltedProblems.OnGrid(Identity, 0.8, gm, dt, n, 1.0, true, Some(Array2D.init n n (fun a b -> if a = b then noise * noise else 0.0)), true, [| y |])
                let sols, fail =
                    TiltedSolver.Continue(Func<_, _>(exactProblem), [| 0.0; 0.1; 0.2 |],
                                          { TiltedSolverOptions.Default with Expectation = ExactGaussian; ExactTolerance = 1e-7 })
                Expect.isNone fail "exact saddle point converges"
                let saddle = List.last sols
                let actS = Seq.init n (fun k -> saddle.C.[k, k]) |> Seq.average
                Expect.floatClose (accuracy 1e-3 0.0) actS 0.3054 "exact saddle: mean activity (regression)"
                let problem gm = TiltedProblems.OnGrid(Identity, 0.8, gm, dt, n, 1.0, true, None, true, [| y |])
                let o = { FinitePosteriorOptions.Default with Neurons = 400; Sweeps = 100; ProcessNoise = noise; Seed = 6L }
                let runs =
                    Array.Parallel.init 2 (fun r ->
                        FinitePosterior.Anneal(Func<_, _>(problem), [| 0.0; 0.1; 0.2; 0.2; 0.2; 0.2; 0.2; 0.2; 0.2 |], o, int64 r))
                let mean j = runs |> Array.averageBy (fun run -> run.[4 ..] |> Array.averageBy (fun s -> s.Trace |> Array.averageBy (fun t -> t.[j])))
                Expect.floatClose (accuracy 0.0 0.1) (mean 0) actS "mean activity"
                Expect.floatClose (accuracy 0.0 0.2) (mean 1) saddle.Diagnostics.TargetAlignment.Mean "target alignment"
                Expect.floatClose (accuracy 0.04 0.0) (mean 2) (Seq.init (n - 10) (fun k -> saddle.C.[k, k + 10]) |> Seq.average) "half-window correlation"
            }
            test "tanh, g = 1.5: the posterior's window kernel learns the target (alignment falls, half-period anti-correlation)" {
                // Qualitative trends shared with the saddle point (note §7.5). Quantitatively the Monte Carlo saddle
                // solver and the posterior differ by ≈ 25% at γ = 1 (docs/dmft-nonlinear.md); the linear test above is
                // the quantitative cross-check.
                let o = { FinitePosteriorOptions.Default with Neurons = 300; Sweeps = 60; Seed = 4L }
                let run = FinitePosterior.Anneal(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(1.5, gm, task)), [| 0.0; 0.25; 0.5; 1.0 |], o, 0L)
                let sm = run |> Array.map (fun s -> s.Summaries)
                Expect.isLessThan sm.[2].[1] sm.[1].[1] "alignment falls from gamma = 0.25 to 0.5"
                Expect.isLessThan sm.[3].[1] sm.[2].[1] "and to gamma = 1"
                Expect.isLessThan sm.[3].[2] -0.2 "C(t, t + T/2) < -0.2 at gamma = 1"
                Expect.isGreaterThan sm.[3].[0] sm.[2].[0] "activity grows from gamma = 0.5 to 1"
            }
            test "posterior networks: chaotic at gamma = 0, on a period-T limit cycle at gamma = 2.5 (g = 2); exact window fit" {
                // γ⋆_posterior(2) ≈ 1.44 (N = 500, 8 samplers); γ = 2.5 is far on the ordered side, γ = 0 is the
                // random network (λ ≈ 0.08 at g = 2).
                let o = { FinitePosteriorOptions.Default with Neurons = 300; Sweeps = 40; Seed = 2L }
                let run = FinitePosterior.Anneal(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(2.0, gm, task)), [| 0.0; 0.5; 1.0; 1.5; 2.0; 2.5 |], o, 0L)
                let ro = { RealisationOptions.Default with TransientPeriods = 5.0; MeasuredPeriods = 20.0 }
                let r0 = FinitePosterior.Realise(run.[0], ro)
                let r1 = FinitePosterior.Realise(run.[5], ro)
                Expect.equal r0.Class Chaotic (sprintf "gamma = 0: lambda %.4f ± %.4f" r0.Lyapunov r0.LyapunovError)
                Expect.equal r1.Class LimitCycle (sprintf "gamma = 2.5: lambda %.4f, rho %.3f" r1.Lyapunov r1.LagCorrelation)
                // The weights are conditioned on the fields with the process noise as observation noise, so the
                // noise-free network retraces the sampled window paths closely and fits the target.
                Expect.isLessThan r1.WindowFitError 0.05 "output fits the target on the window"
                Expect.isLessThan r1.PathError 0.05 "the network retraces the sampled paths"
            }
            testList "annealing lag (StageRelaxation)" [
                // Synthetic traces m(t) = m∞ − A·e^(−t/τ) + noise, t = 1 … S, for 8 samplers: the relaxation time is
                // recovered from the quarter means (exact inversion of the exponential model; the noise, 0.2% of A per
                // sweep, moves the estimate by ≈ 1–3%, so 10% tolerance); a flat trace has nothing to measure; a linear
                // drift is an unbounded relaxation time.
                let synthetic (shape: int -> float) (noise: float) (seed: int64) =
                    Array.init 8 (fun r ->
                        let rng = Theory.Core.Numerics.Rng.ForStream(seed, int64 r)
                        Array.init 200 (fun s -> [| 0.3 + 0.1 * shape (s + 1) + noise * rng.NextGaussian(); 2.0 - 1.0 * shape (s + 1) + 10.0 * noise * rng.NextGaussian()
                                                    -0.2 - 0.05 * shape (s + 1) + noise * rng.NextGaussian(); 1.0 |]))
                for tau in [ 40.0; 100.0; 200.0; 400.0 ] do
                    test (sprintf "exponential relaxation, tau = %g sweeps over a 200-sweep stage" tau) {
                        let rx = StageRelaxation.OfTraces(synthetic (fun t -> 1.0 - exp (-float t / tau)) 2e-4 3L)
                        Expect.floatClose (accuracy 0.0 0.1) rx.RelaxationTime tau (sprintf "tau recovered (ratio %.4f)" rx.UnrelaxedRatio)
                        Expect.floatClose (accuracy 0.01 0.0) rx.UnrelaxedRatio (StageRelaxation.ModelRatio(tau, 200)) "ratio = exponential model"
                        Expect.isGreaterThan rx.DriftZ 3.0 "the drift is significant"
                        // Step 0.25, tolerance 0.05: lag 0.25·e^(−S/τ)/(1 − e^(−S/τ)) > 0.05 iff τ > S/ln 6 ≈ 112 sweeps.
                        Expect.equal (TiltedPhaseBoundary.Lagging(rx, 0.25, 0.05)) (tau >= 200.0) "lagging iff the lag exceeds the tolerance"
                    }
                test "flat and linear traces" {
                    let flat = StageRelaxation.OfTraces(synthetic (fun _ -> 0.0) 1e-3 5L)
                    Expect.isTrue (Double.IsNaN flat.UnrelaxedRatio) (sprintf "nothing moved: ratio NaN (drift z %.2f)" flat.DriftZ)
                    Expect.isLessThan flat.DriftZ 4.0 "no significant drift"
                    Expect.isFalse (TiltedPhaseBoundary.Lagging(flat, 0.25, 0.05)) "not lagging"
                    let linear = StageRelaxation.OfTraces(synthetic (fun t -> float t / 200.0) 1e-4 6L)
                    Expect.floatClose (accuracy 0.005 0.0) linear.UnrelaxedRatio (1.0 / 3.0) "linear drift: ratio 1/3"
                    Expect.isTrue (linear.RelaxationTime > 1e4 || Double.IsPositiveInfinity linear.RelaxationTime) "unbounded relaxation time"
                    Expect.isTrue (TiltedPhaseBoundary.Lagging(linear, 0.25, 0.05)) "lagging"
                    Expect.isTrue (Double.IsNaN (StageRelaxation.OfTraces [| (synthetic (fun _ -> 0.0) 1e-3 5L).[0] |]).DriftZ) "one sampler: unmeasured"
                    Expect.throwsT<ParameterOutOfDomainException> (fun () -> StageRelaxation.OfTraces [||] |> ignore) "no traces"
                    Expect.throwsT<ParameterOutOfDomainException> (fun () -> StageRelaxation.OfTraces [| Array.create 8 [| 1.0 |]; Array.create 8 [| 1.0 |] |] |> ignore) "rows too short"
                    Expect.throwsT<ParameterOutOfDomainException> (fun () -> StageRelaxation.ModelRatio(0.0, 100) |> ignore) "tau <= 0"
                    Expect.throwsT<ParameterOutOfDomainException> (fun () -> linear.SteadyStateLag(-0.25) |> ignore) "negative gamma step"
                }
                testProperty "TimeOfRatio inverts ModelRatio, which rises from 0 to 1/3 (tau/S in [0.01, 20], S in [8, 400])" <| fun (NormalFloat a) (b: int) ->
                    let x = 0.01 * Math.Pow(2000.0, abs (a % 1.0))
                    let S = 8 + (b % 393 + 393) % 393
                    let tau = x * float S
                    let r = StageRelaxation.ModelRatio(tau, S)
                    let r2 = StageRelaxation.ModelRatio(1.1 * tau, S)
                    r > -1e-12 && r < 1.0 / 3.0 && r2 >= r - 1e-12
                    && (r < 1e-9 || abs (StageRelaxation.TimeOfRatio(r, S) / tau - 1.0) < 1e-6)
                test "Locate (posterior) measures the relaxation at every gamma > 0 and warns iff an end of the coarse bracket lags" {
                    // CI size (g = 2, N = 120, 24 sweeps per γ, 4 samplers, short network runs): the lag diagnostics are
                    // wired through; 24 sweeps are short against the slow summaries, so lag warnings are expected here.
                    let o = { PhaseBoundaryOptions.Default with
                                Task = task; GammaStep = 0.5; GammaMax = 4.0; Bisections = 1; Realisations = 4
                                Realisation = { RealisationOptions.Default with TransientPeriods = 3.0; MeasuredPeriods = 10.0 }
                                Posterior = { FinitePosteriorOptions.Default with Neurons = 120; Sweeps = 24; Seed = 3L } }
                    match TiltedPhaseBoundary.Locate(2.0, o) with
                    | Error f -> failtestf "no gamma* at CI size: %O" f
                    | Ok r ->
                        let p0 = r.Points.Head
                        Expect.equal p0.Gamma 0.0 "first point gamma = 0"
                        Expect.isTrue (Double.IsNaN p0.Relaxation.DriftZ) "gamma = 0: unmeasured (exact start)"
                        for p in r.Points.Tail do
                            Expect.equal p.Relaxation.Sweeps 24 "sweeps of the stage"
                            Expect.isTrue (Double.IsFinite p.Relaxation.DriftZ) (sprintf "drift measured at gamma = %g" p.Gamma)
                        // The ends of the coarse grid bracket around the final bracket (grid step 0.5).
                        let loC, hiC = 0.5 * floor (fst r.Bracket / 0.5), 0.5 * ceil (snd r.Bracket / 0.5)
                        let atBracket = r.Points |> List.filter (fun p -> p.Gamma = loC || p.Gamma = hiC)
                        let expected = atBracket |> List.filter (fun p -> TiltedPhaseBoundary.Lagging(p.Relaxation, 0.5, r.GammaStarError)) |> List.length
                        let lagWarnings = r.Warnings |> List.filter (fun w -> w.Contains "still relaxing")
                        Expect.equal lagWarnings.Length expected (sprintf "one lag warning per lagging end of the coarse bracket: %A" r.Warnings)
                        // The warning text, on this search's first γ > 0 point with a lagging and a relaxed relaxation.
                        let p1 = r.Points.[1]
                        let lagged = { p1 with Relaxation = StageRelaxation.OfTraces(synthetic (fun t -> float t / 200.0) 1e-4 6L) }
                        match TiltedPhaseBoundary.LagWarning(lagged, 0.25, 0.05) with
                        | Some w ->
                            Expect.stringContains w "still relaxing" "lag warning"
                            Expect.stringContains w "--sweeps at least 400" "advice: double the sweeps (unbounded relaxation time)"
                        | None -> failtest "a linearly drifting stage must warn"
                        let relaxed = { p1 with Relaxation = StageRelaxation.OfTraces(synthetic (fun t -> 1.0 - exp (-float t / 20.0)) 2e-4 3L) }
                        Expect.isNone (TiltedPhaseBoundary.LagWarning(relaxed, 0.25, 0.05)) "a stage relaxed early does not warn"
                        // The curve runs its g values concurrently and gives each the same result as Locate alone.
                        match TiltedPhaseBoundary.Curve([| 1.0; 2.0 |], o) with
                        | [| Error f1; Ok r2 |] ->
                            Expect.stringContains f1.Reason "no chaotic phase" "g = 1: typed failure in its slot"
                            Expect.equal r2.GammaStar r.GammaStar "g = 2: same gamma* as Locate (bit for bit)"
                            Expect.equal (r2.Points |> List.map (fun p -> p.OrderedFraction, p.Lyapunov)) (r.Points |> List.map (fun p -> p.OrderedFraction, p.Lyapunov)) "same scan"
                        | other -> failtestf "curve slots: %A" (other |> Array.map (fun x -> match x with Ok _ -> "ok" | Error e -> e.Reason))
                        Expect.throwsT<ParameterOutOfDomainException> (fun () -> TiltedPhaseBoundary.Curve([| 2.0; -1.0 |], o) |> ignore) "bad g raises unwrapped"
                }
            ]
            test "bad input: N below 2n, non-positive noise, degenerate x0 law (g <= 1); phase boundary at g = 1 is a typed failure" {
                let p = TiltedProblems.Sinusoid(1.5, 0.0, task)
                let run o = FinitePosterior.Anneal(Func<_, _>(fun _ -> p), [| 0.0 |], o, 0L) |> ignore
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { FinitePosteriorOptions.Default with Neurons = 60 }) "N < 2n"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { FinitePosteriorOptions.Default with Neurons = 200; ProcessNoise = 0.0 }) "sigma = 0"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { FinitePosteriorOptions.Default with Neurons = 200; Sweeps = 0 }) "no sweeps"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> FinitePosterior.Anneal(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(0.9, gm, task)), [| 0.0 |], { FinitePosteriorOptions.Default with Neurons = 200 }, 0L) |> ignore)
                    "x0 ~ N(0, 0) at g < 1"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> FinitePosterior.Anneal(Func<_, _>(fun _ -> p), [| 0.5; 0.25 |], { FinitePosteriorOptions.Default with Neurons = 200 }, 0L) |> ignore)
                    "descending gammas"
                match TiltedPhaseBoundary.Locate(1.0, { PhaseBoundaryOptions.Default with Task = task }) with
                | Ok _ -> failtest "g = 1 has no chaotic phase"
                | Error f -> Expect.stringContains f.Reason "no chaotic phase" "typed failure names the reason"
            }
        ]
        testList "CLI" [
            test "dmft phase-boundary --g A:B:STEP --csv writes one row per g and criterion (status 0 when no gamma* is found)" {
                let dir = tempDir "dmft-pb"
                let file = IO.Path.Combine(dir, "curve.csv")
                let code, out, err =
                    runCli [ "dmft"; "phase-boundary"; "--g"; "1.5:2:0.5"; "--samples"; "200"; "--dt"; "0.5"; "--gamma-max"; "0.1"
                             "--seeds"; "1"; "--extension"; "10"; "--csv"; file; "--json" ]
                Expect.equal code 0 (sprintf "exit code (stderr: %s)" err)
                let lines = IO.File.ReadAllLines file |> Array.filter (fun l -> not (l.StartsWith "#"))
                Expect.equal lines.[0] "g,gammaStar,gammaStarError,criterion,iterations,status,warnings,gammaStarBias,gammaStarBiasError,gammaStarCorrected,gammaStarCorrectedError" "header"
                Expect.equal lines.Length 5 "two g values x two N = inf criteria"
                Expect.stringStarts lines.[1] "1.5," "rows in the order of --g (the g values run concurrently)"
                Expect.stringStarts lines.[3] "2," "then g = 2"
                Expect.stringContains out "\"failures\"" "JSON lists the g values without a transition"
                Expect.stringContains (IO.File.ReadAllText file) "dmft (N = inf)" "the CSV header names the ensemble"
            }
            test "dmft saddle --json: the N = inf saddle point with its ensemble and diagnostics; bad input exits 2" {
                let code, out, err = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "300"; "--json" ]
                Expect.equal code 0 (sprintf "exit code (stderr: %s)" err)
                Expect.stringContains out "\"kind\": \"dmft\"" "ensemble label"
                Expect.stringContains out "\"cNoiseFloor\"" "diagnostics"
                Expect.stringContains out "\"newtonJumps\": 0" "no Newton jumps at gamma = 0 (exact shortcut)"
                Expect.stringContains out "\"warnings\": []" "no warnings"
                Expect.stringContains out "\"finiteSampleBias\": {" "the finite-S bias check is on by default"
                Expect.stringContains out "\"halfSamples\": 150" "against S/2"
                Expect.stringContains out "\"halfSeeds\"" "with the partners' seeds"
                Expect.isFalse (out.Contains "NaN") "never NaN"
                // Without the check: null, and the warning says the bias is not reported; S/2 < 100 needs --no-bias-check.
                let code2, out2, err2 = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "150"; "--no-bias-check"; "--json" ]
                Expect.equal code2 0 (sprintf "exit code (stderr: %s)" err2)
                Expect.stringContains out2 "\"finiteSampleBias\": null" "not estimated"
                Expect.stringContains out2 "finite-S bias not estimated (--no-bias-check)" "said so"
                Expect.stringContains out2 "\"biasCheck\": false" "in the parameters"
                for key, v in [ "maxRelaxation", "1500"; "minIterations", "200"; "newtonWindow", "40"; "newtonTolerance", "0.01"; "maxIterations", "6000"; "step", "0.3" ] do
                    Expect.stringContains out2 (sprintf "\"%s\": %s" key v) (sprintf "solver option %s in the parameters" key)
                let code3, _, err3 = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "150" ]
                Expect.equal code3 2 (sprintf "S = 150 with the check (stderr: %s)" err3)
                Expect.stringContains err3 "--no-bias-check" "names the way out"
                for args in [ [ "--g"; "0"; "--gamma"; "0.5" ]; [ "--g"; "1.5"; "--gamma"; "-1" ]; [ "--g"; "1.5"; "--gamma"; "0.5"; "--samples"; "10" ]
                              [ "--g"; "0.8"; "--gamma"; "0.5" ]; [ "--g"; "1.5" ]; [ "--g"; "1.5"; "--gamma"; "0.5"; "--newton-window"; "3" ]
                              [ "--g"; "1.5"; "--gamma"; "0.5"; "--newton-window"; "-1" ]; [ "--g"; "1.5"; "--gamma"; "0.5"; "--newton-tolerance"; "0" ]; [ "--g"; "1.5"; "--gamma"; "0.5"; "--max-relaxation"; "100" ]
                              [ "--g"; "1.5"; "--gamma"; "0.5"; "--min-iterations"; "0" ]; [ "--g"; "1.5"; "--gamma"; "0.5"; "--min-iterations"; "1600" ] ] do
                    let c, _, e = runCli ([ "dmft"; "saddle" ] @ args)
                    Expect.equal c 2 (sprintf "exit code for %A (stderr: %s)" args e)
            }
            test "the dmft commands reject options their run does not read (exit 2, naming them) instead of ignoring them" {
                let rejected (args: string list) (option: string) =
                    let c, out, e = runCli args
                    Expect.equal c 2 (sprintf "exit code for %A (stderr: %s)" args e)
                    Expect.stringContains e option (sprintf "names %s" option)
                    Expect.equal out "" "nothing on stdout"
                let saddle = [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "300" ]
                // a saddle point solves one γ without networks: no scan, no N, no sweeps (not even declared)
                for o, v in [ "--neurons", "500"; "--sweeps", "3"; "--realisations", "4"; "--gamma-step", "0.1"; "--gamma-max", "1"; "--bisections", "1" ] do
                    rejected (saddle @ [ o; v ]) o
                // the extension's options only with the extension
                for o, v in [ "--tolerance", "0.02"; "--persistence", "0.4"; "--extension", "20" ] do
                    rejected (saddle @ [ o; v ]) o
                let pb = [ "dmft"; "phase-boundary"; "--g"; "1.5" ]
                // the N = inf criteria realise no networks; the posterior runs no N = inf solver and no seeds
                for o, v in [ "--neurons", "500"; "--sweeps", "3"; "--realisations", "4" ] do rejected (pb @ [ o; v ]) o
                for o, v in [ "--samples", "2000"; "--newton-window", "20"; "--max-relaxation", "800"; "--seeds", "2"; "--tolerance", "0.02" ] do
                    rejected (pb @ [ "--criterion"; "posterior"; o; v ]) o
                rejected (pb @ [ "--criterion"; "posterior"; "--no-bias-check" ]) "--no-bias-check"
                rejected (pb @ [ "--criterion"; "realised"; "--sweeps"; "3" ]) "--sweeps"
                rejected (pb @ [ "--criterion"; "realised"; "--persistence"; "0.4" ]) "--persistence"
                // finite-size: the N = inf options only with --compare-dmft; with --from nothing is computed
                rejected [ "dmft"; "finite-size"; "--g"; "1.5"; "--samples"; "2000" ] "--samples"
                rejected [ "dmft"; "finite-size"; "--from"; "x.json"; "--seed"; "3" ] "--seed"
                rejected [ "dmft"; "finite-size"; "--from"; "x.json"; "--sweeps"; "3"; "--dt"; "0.5" ] "--dt"
            }
            test "dmft saddle --seeds: k concurrent replicas, their means, seed and window errors, per-seed diagnostics" {
                // gamma = 0 is solved exactly (the SCS kernel), so the replicas agree to the bit and the seed error is 0
                let code, out, err = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "300"; "--seeds"; "3"; "--no-bias-check"; "--json" ]
                Expect.equal code 0 (sprintf "exit code (stderr: %s)" err)
                let o = System.Text.Json.Nodes.JsonNode.Parse(out.Substring(out.IndexOf '{'))
                let ma = o.["meanActivity"]
                Expect.equal (ma.["values"].AsArray().Count) 3 "one value per seed"
                Expect.equal (ma.["seedError"].GetValue<float>()) 0.0 "exact at gamma = 0: no spread"
                Expect.equal ([ for p in o.["perSeed"].AsArray() -> p.["seed"].GetValue<int>() ]) [ 1; 2; 3 ] "seeds --seed, --seed + 1, ..."
                Expect.equal (o.["seeds"].GetValue<int>()) 3 "in the parameters"
                // the midpoint kurtosis of each replica's particles (drawn under its own seed even at gamma = 0)
                Expect.equal (o.["midWindowKurtosis"].["values"].AsArray().Count) 3 "kurtosis: one value per seed"
                for p in o.["perSeed"].AsArray() do
                    Expect.equal (p.["midWindowKurtosis"].["step"].GetValue<int>()) 25 "x(t_{n/2}), n = 50"
                    Expect.isGreaterThan (p.["midWindowKurtosis"].["standardError"].GetValue<float>()) 0.0 "its jackknife error"
                    // gamma = 0 is the exact march: no averaging phase, one snapshot of the particles
                    Expect.equal (p.["midWindowKurtosis"].["iterations"].GetValue<int>()) 1 "a snapshot at gamma = 0"
                    Expect.isLessThan (abs (p.["midWindowKurtosis"].["biasCorrection"].GetValue<float>())) 0.05 "G2's bias correction, reported"
                for key in [ "neurons"; "sweeps"; "gammaStep"; "bisections"; "lyapunovTolerance" ] do
                    Expect.isNull o.[key] (sprintf "a saddle point does not read %s: not in its parameters" key)
                Expect.isFalse (out.Contains "NaN") "never NaN"
                // with the extension: each replica extended under its own seed, the mean with the same error rule
                let cx, outx, ex = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0"; "--samples"; "300"; "--seeds"; "2"; "--no-bias-check"; "--with-extension"; "--json" ]
                Expect.equal cx 0 (sprintf "exit code (stderr: %s)" ex)
                let x = System.Text.Json.Nodes.JsonNode.Parse(outx.Substring(outx.IndexOf '{')).["extended"]
                let per = [ for p in x.["perSeed"].AsArray() -> p.["seed"].GetValue<int>(), p.["lyapunov"].GetValue<float>() ]
                Expect.equal (List.map fst per) [ 1; 2 ] "one extension per seed"
                Expect.floatClose (accuracy 1e-12 1e-12) (x.["lyapunov"].GetValue<float>()) (per |> List.averageBy snd) "their mean"
                Expect.isGreaterThan (x.["lyapunovSeedError"].GetValue<float>()) 0.0 "own extension seeds: the two differ"
                Expect.isFalse (outx.Contains "NaN") "never NaN"
                // one seed with the bias check: a summary is warned about exactly where its S/2 partners' spread (the
                // bias check's error of the S value) exceeds twice its window error (whatever the seed's bits)
                let c1, out1, e1 = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0.25"; "--samples"; "300"; "--json" ]
                Expect.equal c1 0 (sprintf "exit code (stderr: %s)" e1)
                let o1 = System.Text.Json.Nodes.JsonNode.Parse(out1.Substring(out1.IndexOf '{'))
                let warnings = [ for w in o1.["warnings"].AsArray() -> w.GetValue<string>() ]
                for name in [ "meanActivity"; "targetAlignment"; "halfWindowCorrelation"; "midWindowKurtosis" ] do
                    let window = o1.[name].["standardError"].GetValue<float>()
                    let spread = o1.["finiteSampleBias"].[name].["error"].GetValue<float>()
                    let own = if name = "midWindowKurtosis" then "jackknife" else "window"
                    let warned = warnings |> List.exists (fun w -> w.StartsWith(sprintf "the %s standard error of %s " own name))
                    Expect.equal warned (spread > 2.0 * window) (sprintf "%s: window %g, partners' spread %g" name window spread)
                let c0, _, e0 = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "0.5"; "--seeds"; "0" ]
                Expect.equal c0 2 (sprintf "--seeds 0 (stderr: %s)" e0)
            }
            test "dmft saddle: a solve that does not converge exits 3 with iterations, residuals and ESS" {
                let code, _, err = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "1"; "--samples"; "200"; "--iterations"; "160" ]
                Expect.equal code 3 (sprintf "exit code (stderr: %s)" err)
                Expect.stringContains err "iterations" "names the iterations"
                Expect.stringContains err "ESS" "names the effective sample size"
                // with replicas the failure names the seed that failed
                let code2, _, err2 = runCli [ "dmft"; "saddle"; "--g"; "1.5"; "--gamma"; "1"; "--samples"; "200"; "--iterations"; "160"; "--seeds"; "2"; "--no-bias-check" ]
                Expect.equal code2 3 (sprintf "exit code with 2 seeds (stderr: %s)" err2)
                Expect.stringContains err2 "seed 1 of 2" "names the seed"
            }
            test "dmft finite-size --json: the parameters keep the list of N and the solver options" {
                // A tiny run (two small N, 2 sweeps, one seed, no bisection): only the output's shape is checked here.
                // The single "neurons" of the shared parameters (the default network size) used to replace the list.
                let code, out, err =
                    runCli [ "dmft"; "finite-size"; "--g"; "1.5"; "--neurons"; "100,120"; "--sweeps"; "2"; "--gamma-max"; "0.5"; "--bisections"; "0"; "--json" ]
                Expect.equal code 0 (sprintf "exit code (stderr: %s)" err)
                let o = System.Text.Json.Nodes.JsonNode.Parse(out.Substring(out.IndexOf '{'))
                Expect.equal (o.["neurons"].AsArray() |> Seq.map (fun v -> v.GetValue<float>()) |> List.ofSeq) [ 100.0; 120.0 ] "the list of N"
                Expect.equal (o.["solver"].["maxRelaxation"].GetValue<int>()) 1500 "solver options"
            }
            test "dmft finite-size --from: dmft gamma* at two particle numbers S are extrapolated to S -> inf (Richardson) beside the plain comparison" {
                let dir = tempDir "finite-size-samples"
                let write (name: string) (text: string) =
                    let p = IO.Path.Combine(dir, name)
                    IO.File.WriteAllText(p, text)
                    p
                let post = write "post.json" """{"results": [ {"g": 2, "gammaStar": 0.90, "gammaStarError": 0.05, "ensemble": {"kind": "posterior", "neurons": 250}},
                                                             {"g": 2, "gammaStar": 0.93, "gammaStarError": 0.04, "ensemble": {"kind": "posterior", "neurons": 500}} ]}"""
                let dmftSeeds (name: string) (sN: int) (v: float) (e: float) (perSeed: (int * float * float) list) =
                    let ps = perSeed |> List.map (fun (sd, x, b) -> sprintf """{"seed": %d, "gammaStar": %g, "bracketError": %g}""" sd x b) |> String.concat ", "
                    write name
                          (sprintf """{"samples": %d, "results": [ {"g": 2, "criterion": "two-replica", "gammaStar": %g, "gammaStarError": %g, "ensemble": {"kind": "dmft", "neurons": null}, "perSeed": [%s]} ]}""" sN v e ps)
                let dmft (sN: int) (v: float) (e: float) = dmftSeeds (sprintf "dmft-s%d.json" sN) sN v e []
                let d2, d4 = dmft 2000 0.78 0.1, dmft 4000 0.86 0.03
                let code, out, err = runCli [ "dmft"; "finite-size"; "--from"; post; "--dmft-from"; d4 + "," + d2; "--json" ]
                Expect.equal code 0 err
                let r = System.Text.Json.Nodes.JsonNode.Parse(out).["results"].[0]
                Expect.floatClose (accuracy 1e-12 0.0) (r.["dmft"].["gammaStar"].GetValue<float>()) 0.86 "the plain comparison uses the first file's dmft"
                let x = r.["dmftExtrapolatedInSamples"]
                Expect.equal (x.["form"].GetValue<string>()) "1/S" "form"
                Expect.floatClose (accuracy 1e-9 1e-9) (x.["intercept"].GetValue<float>()) (2.0 * 0.86 - 0.78) "2x(S) - x(S/2)"
                Expect.floatClose (accuracy 1e-9 1e-9) (x.["interceptError"].GetValue<float>()) (sqrt (4.0 * 0.03 * 0.03 + 0.1 * 0.1)) "its error"
                Expect.isNotNull r.["comparisonWithDmftExtrapolatedInSamples"] "compared"
                // one S only: no extrapolation
                let c1, out1, e1 = runCli [ "dmft"; "finite-size"; "--from"; post; "--dmft-from"; d4; "--json" ]
                Expect.equal c1 0 e1
                Expect.isNull (System.Text.Json.Nodes.JsonNode.Parse(out1).["results"].[0].["dmftExtrapolatedInSamples"]) "none from one S"
                // two runs at S = 4000 with other seeds pool like one run with all four seeds (TiltedPhaseBoundary.PoolSeeds)
                let a = [ 1, 0.85, 0.01; 2, 0.87, 0.02 ]
                let b = [ 3, 0.88, 0.01; 4, 0.83, 0.03 ]
                let pool xs = TiltedPhaseBoundary.PoolSeeds(xs |> List.map (fun (_, v, _) -> v) |> Array.ofList, xs |> List.map (fun (_, _, e) -> e) |> Array.ofList)
                let va, ea = pool a
                let vb, eb = pool b
                let d4a, d4b = dmftSeeds "dmft-s4000-a.json" 4000 va ea a, dmftSeeds "dmft-s4000-b.json" 4000 vb eb b
                let d2s = dmftSeeds "dmft-s2000-s.json" 2000 0.78 0.1 [ 1, 0.78, 0.1 ]
                let c2, out2, e2 = runCli [ "dmft"; "finite-size"; "--from"; post; "--dmft-from"; String.concat "," [ d4a; d4b; d2s ]; "--json" ]
                Expect.equal c2 0 e2
                let x2 = System.Text.Json.Nodes.JsonNode.Parse(out2).["results"].[0].["dmftExtrapolatedInSamples"]
                let v4, _ = pool (a @ b)
                let p4 = x2.["points"].AsArray() |> Seq.find (fun p -> p.["samples"].GetValue<int>() = 4000)
                Expect.equal (p4.["seeds"].GetValue<int>()) 4 "four seeds pooled"
                Expect.floatClose (accuracy 1e-12 1e-12) (p4.["gammaStar"].GetValue<float>()) v4 "pooled gamma*"
                Expect.floatClose (accuracy 1e-9 1e-9) (x2.["intercept"].GetValue<float>()) (2.0 * v4 - 0.78) "extrapolated from the pooled value"
                // a seed in two files: not pooled, the first file's value is used and a warning says so
                let c3, out3, e3 = runCli [ "dmft"; "finite-size"; "--from"; post; "--dmft-from"; String.concat "," [ d4a; d4a; d2s ]; "--json" ]
                Expect.equal c3 0 e3
                let p3 = System.Text.Json.Nodes.JsonNode.Parse(out3).["results"].[0].["dmftExtrapolatedInSamples"].["points"].AsArray() |> Seq.find (fun p -> p.["samples"].GetValue<int>() = 4000)
                Expect.equal (p3.["seeds"].GetValue<int>()) 2 "not pooled"
                Expect.stringContains e3 "share a seed" "said (stderr)"
            }
            test "dmft finite-size: bad input exits 2" {
                for args in [ [ "--g"; "1.5"; "--neurons"; "500" ]; [ "--g"; "1.5"; "--neurons"; "50,500" ]; [ "--g"; "-1" ]; [ "--neurons"; "250,500" ] ] do
                    let c, _, e = runCli ([ "dmft"; "finite-size" ] @ args)
                    Expect.equal c 2 (sprintf "exit code for %A (stderr: %s)" args e)
            }
            test "dmft phase-boundary: bad input exits 2" {
                for args in
                    [ [ "--g"; "1.5"; "--dt"; "10" ]; [ "--g"; "1.5"; "--dt"; "2" ]; [ "--g"; "-1" ]; [ "--g"; "1.5"; "--samples"; "50" ]
                      [ "--g"; "1.5"; "--gamma-max"; "-1" ]; [ "--g"; "1.5"; "--bogus"; "1" ]; [ "--g"; "1.5"; "--criterion"; "bogus" ]
                      [ "--g"; "1.5"; "--samples"; "500"; "--neurons"; "1000"; "--criterion"; "realised" ]; [ "--g"; "1.5"; "--neurons"; "10"; "--criterion"; "posterior" ]
                      [ "--g"; "1.5"; "--noise"; "0" ]; [ "--g"; "1.5"; "--sweeps"; "0"; "--criterion"; "posterior" ]; [ "--g"; "1.5"; "--seeds"; "0" ]
                      [ "--g"; "1.5"; "--step"; "2" ]; [ "--g"; "1.5"; "--samples"; "150" ] (* S/2 < 100 with the bias check *); [] ] do
                    let code, _, err = runCli ([ "dmft"; "phase-boundary" ] @ args)
                    Expect.equal code 2 (sprintf "exit code for %A (stderr: %s)" args err)
            }
        ]
    ]

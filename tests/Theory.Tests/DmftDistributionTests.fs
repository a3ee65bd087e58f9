module Theory.Tests.DmftDistributionTests

open System
open Expecto
open FsCheck
open MathNet.Numerics.Distributions
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Tests.TestUtil

/// M deterministic "quantile samples" m + s·Φ⁻¹((i + ½)/M): their empirical law converges to N(m, s²) at rate 1/M
/// (no sampling noise), so distances between them test the estimators against closed forms.
let private quantileSample (m: float) (s: float) (count: int) =
    Array.init count (fun i -> m + s * Normal.InvCDF(0.0, 1.0, (float i + 0.5) / float count))

/// Coarse grid (Δt = 0.5, n = 20) for the N = ∞ solves and posterior networks of the tests.
let private task = { SinusoidTask.Default with Dt = 0.5 }

let private gaussianCdf = Func<float, float>(fun x -> Normal.CDF(0.0, 1.0, x))

/// DMFT at g = 1.5, γ = 1 (continuation 0 → 0.5 → 1, S = 1000, seed 5) and exact posterior networks at N = 100 and 400
/// (3 samplers each, 40 sweeps per annealing stage), shared by the finite-N tests.
let private comparison =
    lazy (
        let o =
            { TiltedDistributionOptions.Default with
                Gammas = [| 0.0; 1.0 |]; Task = task; Solver = { TiltedSolverOptions.Default with Chains = 1000 }
                DmftSeeds = 2; Neurons = [| 100; 400 |]; PosteriorSeeds = 3; Sweeps = 40; Seed = 5L }
        TiltedDistributions.Run(o, null))

[<Tests>]
let tests =
    testList "DmftDistributions" [
        testList "estimators" [
            test "W1 between two Gaussians: quantile samples meet the closed form E|dm + ds Z| (1e-3)" {
                // Closed form: W1 = |Δs|√(2/π)e^(−Δm²/2Δs²) + |Δm|(1 − 2Φ(−|Δm|/|Δs|)); at Δm = 0 it is |Δs|√(2/π),
                // at Δs = 0 it is |Δm|. The quantile samples miss the tails beyond Φ⁻¹(1/2M), an O(log M / M) error.
                for m1, s1, m2, s2 in [ 0.0, 1.0, 0.3, 1.5; 0.0, 1.0, 0.0, 2.0; 1.0, 0.5, -0.5, 0.5; 0.2, 0.7, 0.1, 0.3 ] do
                    let exact = SingleNeuronStatistics.GaussianWasserstein1(m1, s1, m2, s2)
                    let w = SingleNeuronStatistics.Wasserstein1(quantileSample m1 s1 20000, quantileSample m2 s2 20000)
                    Expect.floatClose (accuracy 1e-3 0.0) w exact (sprintf "N(%g,%g²) vs N(%g,%g²)" m1 s1 m2 s2)
                Expect.floatClose (accuracy 1e-14 0.0) (SingleNeuronStatistics.GaussianWasserstein1(0.0, 1.0, 0.0, 2.0)) (sqrt (2.0 / Math.PI)) "equal means"
                Expect.floatClose (accuracy 1e-14 0.0) (SingleNeuronStatistics.GaussianWasserstein1(1.0, 1.0, -0.5, 1.0)) 1.5 "equal widths: a shift"
            }
            test "W1 between random Gaussian samples: closed form within 4 noise floors; same law: at its floor" {
                // Independent samples of sizes Ma, Mb: E W1 − W1_exact = O(√(1/Ma + 1/Mb)) (the floor); for one law the
                // mean W1 over replicates is the floor itself to leading order (measured 1.05 of it at M = 300: the O(1/M) correction).
                let rng = Rng.ForStream(11L, 0L)
                let a = Array.init 40000 (fun _ -> rng.NextGaussian())
                let b = Array.init 40000 (fun _ -> 0.3 + 1.5 * rng.NextGaussian())
                let floor = SingleNeuronStatistics.Wasserstein1NoiseFloor(Array.append a b, a.Length, b.Length)
                Expect.floatClose (accuracy (4.0 * floor) 0.0) (SingleNeuronStatistics.Wasserstein1(a, b)) (SingleNeuronStatistics.GaussianWasserstein1(0.0, 1.0, 0.3, 1.5)) "different laws"
                let reps = Array.init 200 (fun _ ->
                    let x = Array.init 300 (fun _ -> rng.NextGaussian())
                    let y = Array.init 300 (fun _ -> rng.NextGaussian())
                    SingleNeuronStatistics.Wasserstein1(x, y))
                // Floor for N(0,1): √(2/π)·√(2/300)·∫√(Φ(1−Φ)) dz, the integral 1.61474 (quadrature, step 1e-3 on [−8, 8]).
                let expected = sqrt (2.0 / Math.PI) * sqrt (2.0 / 300.0) * 1.61474
                let se = (MathNet.Numerics.Statistics.Statistics.StandardDeviation reps) / sqrt 200.0
                Expect.floatClose (accuracy (4.0 * se + 0.06 * expected) 0.0) (Array.average reps) expected "mean W1 of one law = its floor"
                let pooled = Array.init 100000 (fun _ -> rng.NextGaussian())
                Expect.floatClose (accuracy 0.0 0.02) (SingleNeuronStatistics.Wasserstein1NoiseFloor(pooled, 300, 300)) expected "floor from a sample"
            }
            testProperty "W1 identities: symmetric, a shift by c costs |c|, two points |x - y|, zero on itself" <| fun (seed: int) (c0: NormalFloat) ->
                let c = (float c0) % 10.0
                let rng = Rng(int64 seed)
                let a = Array.init 50 (fun _ -> rng.NextGaussian())
                let b = Array.init 37 (fun _ -> 2.0 * rng.NextGaussian())
                Expect.floatClose (accuracy 1e-12 1e-12) (SingleNeuronStatistics.Wasserstein1(a, b)) (SingleNeuronStatistics.Wasserstein1(b, a)) "symmetric"
                Expect.floatClose (accuracy 1e-9 1e-9) (SingleNeuronStatistics.Wasserstein1(a, a |> Array.map ((+) c))) (abs c) "shift"
                Expect.floatClose (accuracy 1e-12 0.0) (SingleNeuronStatistics.Wasserstein1([| 1.0 |], [| c |])) (abs (1.0 - c)) "two points"
                Expect.equal (SingleNeuronStatistics.Wasserstein1(a, Array.rev a)) 0.0 "itself"
                Expect.equal (SingleNeuronStatistics.KolmogorovSmirnov(a, Array.rev a)) 0.0 "KS of itself"
            test "KS of a sample against its own CDF: quantile sample 1/(2M) exactly; Gaussian samples: mean sqrt(M)D = 0.8687" {
                for m in [ 10; 1000 ] do
                    Expect.floatClose (accuracy 1e-12 0.0) (SingleNeuronStatistics.KolmogorovSmirnov(quantileSample 0.0 1.0 m, gaussianCdf)) (0.5 / float m) (sprintf "M = %d" m)
                // √M·D_M → Kolmogorov law, mean √(π/2)ln 2 = 0.8687; at M = 400 the finite-M mean is lower by ≈ 0.02
                // (the O(M^(−1/2)) correction); 400 replicates give s.e. ≈ 0.013.
                let rng = Rng.ForStream(12L, 0L)
                let d = Array.init 400 (fun _ -> sqrt 400.0 * SingleNeuronStatistics.KolmogorovSmirnov(Array.init 400 (fun _ -> rng.NextGaussian()), gaussianCdf))
                let se = MathNet.Numerics.Statistics.Statistics.StandardDeviation d / sqrt 400.0
                Expect.floatClose (accuracy (4.0 * se + 0.03) 0.0) (Array.average d) (sqrt (Math.PI / 2.0) * log 2.0) "Kolmogorov mean"
                // Two-sample: disjoint samples are at distance 1; the floor formula is the same mean.
                Expect.equal (SingleNeuronStatistics.KolmogorovSmirnov([| 0.0; 1.0 |], [| 2.0; 3.0; 4.0 |])) 1.0 "disjoint"
                Expect.floatClose (accuracy 1e-12 0.0) (SingleNeuronStatistics.KolmogorovSmirnovNoiseFloor(400, 400)) (0.868731160636159 * sqrt (2.0 / 400.0)) "floor"
            }
            test "moments: excess kurtosis 0 for Gaussian, -1.2 for uniform, 3 for Laplace (4 s.e., s.e. sqrt(k/M))" {
                let rng = Rng.ForStream(13L, 0L)
                let m = 40000
                let gauss = Array.init m (fun _ -> rng.NextGaussian())
                let unif = Array.init m (fun _ -> rng.NextDouble())
                let lap = Array.init m (fun _ -> let u = rng.NextDouble() - 0.5 in -(float (sign u)) * log (1.0 - 2.0 * abs u + 1e-300))
                // Large-sample s.e. of G2: √(24/M) (Gaussian), ≈ √(2.7/M)... use generous 4·√(v/M) with v = 24, 2, 600.
                Expect.floatClose (accuracy (4.0 * sqrt (24.0 / float m)) 0.0) (SingleNeuronStatistics.Moments gauss).ExcessKurtosis 0.0 "Gaussian"
                Expect.floatClose (accuracy (4.0 * sqrt (2.0 / float m)) 0.0) (SingleNeuronStatistics.Moments unif).ExcessKurtosis -1.2 "uniform"
                Expect.floatClose (accuracy (4.0 * sqrt (600.0 / float m)) 0.0) (SingleNeuronStatistics.Moments lap).ExcessKurtosis 3.0 "Laplace"
                Expect.floatClose (accuracy (4.0 * sqrt (2.0 / float m)) 0.0) (SingleNeuronStatistics.Moments gauss).Variance 1.0 "variance"
                let h = SingleNeuronStatistics.Histogram(gauss, -4.0, 4.0, 40)
                let mass = Array.sum h.Density * 0.2
                Expect.floatClose (accuracy 1e-3 0.0) mass (Normal.CDF(0.0, 1.0, 4.0) - Normal.CDF(0.0, 1.0, -4.0)) "histogram mass"
                Expect.floatClose (accuracy 0.02 0.0) (SingleNeuronStatistics.Quantiles(gauss, [| 0.975 |])).[0] 1.96 "quantile"
            }
            test "bad input: too few samples, bins < 1, empty range" {
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> SingleNeuronStatistics.Moments [| 1.0; 2.0 |] |> ignore) "moments need 4"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> SingleNeuronStatistics.Wasserstein1([||], [| 1.0 |]) |> ignore) "empty"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> SingleNeuronStatistics.Histogram([| 1.0 |], 1.0, 1.0, 4) |> ignore) "range"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> SingleNeuronStatistics.Wasserstein1([| nan |], [| 1.0 |]) |> ignore) "NaN"
            }
        ]
        testList "tilted measure" [
            test "gamma = 0: the tilted measure is Gaussian, excess kurtosis 0 within 4.5 s.e. at every grid time (S = 4000)" {
                // γ = 0 returns exact prior particles: x(t) is a linear functional of Gaussian fields, so the excess
                // kurtosis at each t is 0 up to Monte Carlo error √(24/S) = 0.077. 4.5 s.e. covers the maximum over
                // 20 correlated times.
                let s =
                    match TiltedSolver.Solve(TiltedProblems.Sinusoid(1.5, 0.0, task), { TiltedSolverOptions.Default with Chains = 4000; Seed = 3L }) with
                    | Ok s -> s
                    | Error f -> failtestf "%O" f
                let se = sqrt (24.0 / 4000.0)
                for k in 0 .. s.Problem.Points - 1 do
                    let m = SingleNeuronStatistics.Moments(SingleNeuronSamples.OfSolution(s, Preactivation, AtStep k))
                    Expect.floatClose (accuracy (4.5 * se) 0.0) m.ExcessKurtosis 0.0 (sprintf "t = %g" (float k * 0.5))
            }
            test "gamma = 1: DMFT vs finite-N posterior, W1 at the sampling floor scale and shrinking with N (100 -> 400)" {
                // W1 between N neurons and the N = ∞ particles has a sampling floor ∝ √(1/N + 1/S) (≈ N^(−1/2)), plus
                // the posterior's O(1/N) bias and its annealing lag. Measured (2 × 1000 particles, 3 samplers, 40
                // sweeps per stage, t* = 2.5): W1/floor = 1.38 (N = 100: 0.186 vs 0.134) and 1.54 (N = 400: 0.111 vs 0.072). Tolerance: W1 ≤ 2.5 floor at each N, and W1(400) < W1(100)
                // (the floor halves; the s.e. over samplers is ≈ 0.2 of the mean).
                let r = comparison.Force()
                let ens = r.Ensembles.[1]
                let post n = ens |> Array.find (fun e -> e.Neurons = Some n)
                let w n = (post n).Preactivation.W1AtTime.Value
                for n in [ 100; 400 ] do
                    let p = (post n).Preactivation
                    Expect.isLessThan p.W1AtTime.Value.Mean (2.5 * p.W1FloorAtTime) (sprintf "N = %d: W1 %.4f vs floor %.4f" n p.W1AtTime.Value.Mean p.W1FloorAtTime)
                Expect.isLessThan (w 400).Mean (w 100).Mean "W1 shrinks with N"
                Expect.isLessThan (post 400).Preactivation.W1FloorAtTime (0.6 * (post 100).Preactivation.W1FloorAtTime) "floor ~ N^(-1/2)"
            }
            test "gamma = 1: kurtosis of DMFT and posterior (N = 400) agree within 3 combined s.e. + 0.1, both non-Gaussian" {
                // Window-pooled excess kurtosis; the tolerance adds 0.1 for the O(1/N) and annealing-lag bias (measured
                // difference 0.03 at 60 sweeps).
                let r = comparison.Force()
                let ens = r.Ensembles.[1]
                let d = ens.[0].Preactivation.KurtosisPooled
                let p = (ens |> Array.find (fun e -> e.Neurons = Some 400)).Preactivation.KurtosisPooled
                Expect.floatClose (accuracy (3.0 * sqrt (d.StandardError ** 2.0 + p.StandardError ** 2.0) + 0.1) 0.0) p.Mean d.Mean "pooled kurtosis"
                Expect.isLessThan d.Mean (-5.0 * d.StandardError) "DMFT non-Gaussian (platykurtic) at gamma = 1"
                Expect.isLessThan d.Mean (-0.3) "by a margin"
            }
            test "same seed, same bits; another seed, other bits (tiny study)" {
                let o =
                    { TiltedDistributionOptions.Default with
                        Gammas = [| 0.0; 0.5 |]; Task = { task with Dt = 1.0 }
                        Solver = { TiltedSolverOptions.Default with Chains = 200; MinIterations = 20; Window = 10; AverageIterations = 10; MaxIterations = 1000; RelaxationFactor = 0.0 }
                        DmftSeeds = 2; Neurons = [| 20 |]; PosteriorSeeds = 2; Sweeps = 3; Bins = 8; Seed = 7L }
                let a = TiltedDistributions.Run(o, null)
                let b = TiltedDistributions.Run(o, null)
                let c = TiltedDistributions.Run({ o with Seed = 8L }, null)
                let key (r: TiltedDistributionResult) = r.Ensembles |> Array.map (fun es -> es |> Array.map (fun e -> e.Preactivation.KurtosisByTime, e.Preactivation.W1AtTime, e.Rate.HistogramPooled.Density))
                Expect.equal (key a) (key b) "same bits"
                Expect.notEqual (key a) (key c) "another seed"
            }
            test "bad input: gamma < 0, empty grid, N < 2n, one seed" {
                let d = { TiltedDistributionOptions.Default with Task = task }
                for bad in [ { d with Gammas = [| -0.5 |] }; { d with Gammas = [||] }; { d with Neurons = [| 30 |] }; { d with DmftSeeds = 1 }; { d with Gammas = [| 1.0; 0.5 |] } ] do
                    Expect.throwsT<ParameterOutOfDomainException> (fun () -> TiltedDistributions.Validate bad) "rejected"
            }
        ]
        testList "drift" [
            testProperty "overlaps: a state with itself is 1, with its sign flip -1 (signed) and 1 (squared); kernel distance 0" <| fun (seed: int) ->
                let rng = Rng(int64 seed)
                let a = Array.init 30 (fun _ -> Array.init 8 (fun _ -> tanh (rng.NextGaussian())))
                let o = RepresentationalDrift.Overlaps(a, a)
                Expect.floatClose (accuracy 1e-12 0.0) o.Signed 1.0 "signed"
                Expect.floatClose (accuracy 1e-12 0.0) o.Squared 1.0 "squared"
                let f = RepresentationalDrift.Overlaps(a, a |> Array.map (Array.map (~-)))
                Expect.floatClose (accuracy 1e-12 0.0) f.Signed -1.0 "flipped signed"
                Expect.floatClose (accuracy 1e-12 0.0) f.Squared 1.0 "flipped squared"
                Expect.floatClose (accuracy 1e-12 0.0) f.Tuning -1.0 "flipped tuning"
                let k = RepresentationalDrift.Kernel a
                Expect.equal (RepresentationalDrift.KernelDistance(k, RepresentationalDrift.Kernel(a |> Array.map (Array.map (~-))))) 0.0 "C invariant under flips"
            test "squared-overlap floor tr(C^2)/(tr C)^2: 1/n for C = I, 1 for rank one; independent Gaussian draws reach it" {
                let n = 10
                Expect.floatClose (accuracy 1e-15 0.0) (RepresentationalDrift.SquaredOverlapFloor(Array2D.init n n (fun i j -> if i = j then 2.0 else 0.0))) 0.1 "identity"
                let v = Array.init n (fun i -> float i - 3.0)
                Expect.floatClose (accuracy 1e-14 0.0) (RepresentationalDrift.SquaredOverlapFloor(Array2D.init n n (fun i j -> v.[i] * v.[j]))) 1.0 "rank one"
                // Independent draws with covariance C = LLᵀ: ρ₂ → tr(C²)/(tr C)², ρ₁ → 0 (N = 20000, error O(N^(−1/2))).
                let rng = Rng.ForStream(14L, 0L)
                let l = Array2D.init n n (fun i j -> if j <= i then 1.0 / float (1 + i - j) else 0.0)
                let draw () = Array.init 20000 (fun _ -> let z = Array.init n (fun _ -> rng.NextGaussian()) in Array.init n (fun i -> Seq.sum (seq { for j in 0 .. i -> l.[i, j] * z.[j] })))
                let a, b = draw (), draw ()
                let c = Array2D.init n n (fun i j -> Seq.sum (seq { for k in 0 .. n - 1 -> l.[i, k] * l.[j, k] }))
                let o = RepresentationalDrift.Overlaps(a, b)
                Expect.floatClose (accuracy 0.02 0.0) o.Signed 0.0 "signed -> 0"
                Expect.floatClose (accuracy 0.0 0.05) o.Squared (RepresentationalDrift.SquaredOverlapFloor c) "squared -> floor"
            }
            test "posterior chain at gamma = 1 (N = 200): single neurons drift to the floors, the population kernel stays (O(N^-1/2))" {
                // Theory (docs/dmft-structure.md): ρ₁ → 0 by the path-flip symmetry, ρ₂ → tr(C²)/(tr C)², while the kernel
                // moves only by finite-N fluctuations, comparable to the distance between independent posterior draws.
                // Lags up to 24 sweeps after a 40-sweep burn-in; 3 chains. Measured at N = 200: ρ₂(24) within 0.05 of the
                // floor; kernel distance ≈ 0.07 vs 0.09 between chains.
                let o = { DriftOptions.Default with Gammas = [| 1.0 |]; Task = task; Neurons = 200; Chains = 3; Sweeps = 40; Snapshots = 13; Interval = 2; Seed = 3L }
                let r = RepresentationalDrift.Run(o, null)
                let c = r.Curves.[0]
                let last = c.Lags.Length - 1
                Expect.floatClose (accuracy (4.0 * c.SignedOverlap.[last].StandardError + 0.05) 0.0) c.SignedOverlap.[last].Mean 0.0 "rho1 -> 0"
                Expect.floatClose (accuracy 0.08 0.0) c.SquaredOverlap.[last].Mean c.SquaredOverlapFloor.Mean "rho2 -> floor"
                Expect.isGreaterThan c.SquaredOverlap.[0].Mean c.SquaredOverlap.[last].Mean "rho2 decays"
                Expect.isLessThan c.KernelDistance.[last].Mean (1.5 * c.IndependentKernelDistance) "population change at the finite-N scale"
                Expect.isLessThan c.KernelDistance.[last].Mean (0.3 * (1.0 - c.SquaredOverlap.[last].Mean)) "population change << single-neuron change"
                Expect.isLessThan c.OutputErrorLast.Mean 0.05 "the realised network still fits the target"
                let r2 = RepresentationalDrift.Run(o, null)
                Expect.equal (r2.Curves.[0].SquaredOverlap) c.SquaredOverlap "same seed, same bits"
            }
        ]
        testList "cli" [
            test "dmft distributions / drift: bad input exits 2" {
                for args in [ [ "dmft"; "distributions"; "--gammas"; "-1" ]; [ "dmft"; "distributions"; "--gammas"; "," ]
                              [ "dmft"; "distributions"; "--neurons"; "1" ]; [ "dmft"; "drift"; "--neurons"; "1" ]
                              [ "dmft"; "drift"; "--gammas"; "0.5,-0.5" ]; [ "dmft"; "drift"; "--snapshots"; "1" ] ] do
                    let code, _, err = runCli args
                    Expect.equal code 2 (sprintf "%A: %s" args err)
            }
            test "dmft drift --json: one object with parameters, seed and version" {
                let code, out, err = runCli [ "dmft"; "drift"; "--dt"; "1"; "--neurons"; "40"; "--chains"; "2"; "--sweeps"; "3"; "--snapshots"; "3"; "--gammas"; "0.5"; "--json" ]
                Expect.equal code 0 err
                let j = Text.Json.Nodes.JsonNode.Parse out
                Expect.equal (j.["seed"].GetValue<int>()) 1 "seed"
                Expect.isNotNull j.["version"] "version"
                Expect.equal ((j.["curves"].AsArray()).Count) 1 "one curve"
            }
        ]
    ]

module Theory.Tests.RegularitiesTests

open System
open Expecto
open Theory.Core
open Theory.Core.MeanField
open Theory.Core.RandomMatrix
open Theory.Core.Numerics
open Theory.Simulation.Reservoir
open Theory.Tests.TestUtil

let spec n w = WeightMatrixSpec(N = n, Width = w)

/// Ensemble of statistics of K matrices.
let stats (s: WeightMatrixSpec) (k: int) (seed: int64) =
    Array.init k (fun i -> StructureStatistics.Of(WeightMatrixGenerator.Generate(s, seed + int64 i)))

let meanSd (xs: float[]) =
    let m = Array.average xs
    let sd = Math.Sqrt(xs |> Array.sumBy (fun x -> (x - m) ** 2.0) |> fun t -> t / float (xs.Length - 1))
    m, sd

/// |mean − expected| ≤ 4·sd/√K + floor (4σ of the ensemble mean).
let expectMean (xs: float[]) (expected: float) (floor: float) (msg: string) =
    let m, sd = meanSd xs
    let tol = 4.0 * sd / Math.Sqrt(float xs.Length) + floor
    if not (abs (m - expected) <= tol) then failtestf "%s: mean %.5f, expected %.5f, tolerance %.5f (4 s.e. + %g)" msg m expected tol floor

let expectedH = StructureExpectations.expectedH
let expectedR = StructureExpectations.expectedR

[<Tests>]
let tests =
    testList "Regularities" [
        testList "generator" [
            test "a seed fixes the matrix bit for bit; different seeds differ" {
                let s = WeightMatrixSpec(N = 30, Width = 0.2, Density = 0.7, Balance = 0.1, Homogeneity = 0.4)
                let a = WeightMatrixGenerator.Generate(s, 5L)
                let b = WeightMatrixGenerator.Generate(s, 5L)
                let c = WeightMatrixGenerator.Generate(s, 6L)
                Expect.sequenceEqual a.Values b.Values "same seed"
                Expect.isFalse (a.Values = c.Values) "different seed"
                let sm = WeightMatrixSpec(N = 30, Width = 0.2, Modularity = 0.5, BlockSize = 10)
                Expect.sequenceEqual (WeightMatrixGenerator.Generate(sm, 9L).Values) (WeightMatrixGenerator.Generate(sm, 9L).Values) "modular"
            }
            test "out-of-range controls raise ParameterOutOfDomainException naming the parameter" {
                let bad: (string * WeightMatrixSpec) list =
                    [ "h", WeightMatrixSpec(Homogeneity = 1.5)
                      "r", WeightMatrixSpec(Reciprocity = -0.1)
                      "m", WeightMatrixSpec(Modularity = 2.0)
                      "d", WeightMatrixSpec(Density = 1.1)
                      "b", WeightMatrixSpec(Balance = -1.2)
                      "w", WeightMatrixSpec(Width = -0.1)
                      "block-size", WeightMatrixSpec(N = 50, Modularity = 0.5, BlockSize = 7)
                      "h, r, m", WeightMatrixSpec(Homogeneity = 0.5, Reciprocity = 0.5) ]
                for (name, s) in bad do
                    let named =
                        try
                            WeightMatrixGenerator.Generate(s, 1L) |> ignore
                            None
                        with :? ParameterOutOfDomainException as ex -> Some ex.Parameter
                    Expect.equal named (Some name) (sprintf "raises naming %s" name)
            }
            test "Hopfield r = 1 is symmetric; Dale h = 1 has monopolar columns" {
                let sym = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 40, Width = 0.2, Reciprocity = 1.0, Balance = 0.2), 3L)
                for i in 0 .. 39 do
                    for j in 0 .. 39 do
                        Expect.equal sym.[i, j] sym.[j, i] "symmetric"
                let dale = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 40, Width = 0.2, Homogeneity = 1.0, Density = 0.5), 3L)
                for j in 0 .. 39 do
                    let signs = [ for i in 0 .. 39 do if dale.[i, j] <> 0.0 then yield sign dale.[i, j] ] |> List.distinct
                    Expect.isLessThanOrEqual signs.Length 1 "one sign per column"
                    if signs.Length = 1 then Expect.equal signs.[0] dale.ColumnSigns.[j] "column sign τ_j"
            }
            test "D tracks d (4 s.e. of 20 matrices, N = 50)" {
                for d in [ 0.1; 0.3; 0.5; 0.8; 1.0 ] do
                    let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Density = d)) 20 11L |> Array.map (fun s -> s.Density)
                    expectMean xs d 1e-12 (sprintf "D at d=%g" d)
            }
            test "B tracks b for h = 0, 0.5, 1 (E[B] = b)" {
                for h in [ 0.0; 0.5; 1.0 ] do
                    for b in [ -0.8; -0.3; 0.0; 0.4; 0.9 ] do
                        let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Balance = b, Homogeneity = h)) 20 21L |> Array.map (fun s -> s.Balance)
                        expectMean xs b 1e-12 (sprintf "B at b=%g h=%g" b h)
            }
            test "H matches its exact finite-N expectation (binomial columns) and rises with h" {
                let mutable prev = -1.0
                for h in [ 0.0; 0.25; 0.5; 0.75; 1.0 ] do
                    let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Homogeneity = h)) 20 31L |> Array.map (fun s -> s.Homogeneity)
                    expectMean xs (expectedH 50 0.0 h) 1e-3 (sprintf "H at h=%g" h)
                    let m = Array.average xs
                    Expect.isGreaterThan m prev "H monotone in h"
                    prev <- m
                for b in [ 0.3; 0.6 ] do
                    let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Balance = b, Homogeneity = 0.5)) 20 32L |> Array.map (fun s -> s.Homogeneity)
                    expectMean xs (expectedH 50 b 0.5) 1e-3 (sprintf "H at b=%g h=0.5" b)
            }
            test "R rises linearly with r and with |b|, and depends on d as derived" {
                for r in [ 0.0; 0.25; 0.5; 0.75; 1.0 ] do
                    let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Reciprocity = r)) 20 41L |> Array.map (fun s -> s.Reciprocity)
                    expectMean xs (expectedR r 0.0 1.0) 2e-3 (sprintf "R at r=%g" r)
                for (b, d) in [ (0.5, 1.0); (-0.5, 1.0); (0.0, 0.5); (0.3, 0.7) ] do
                    let xs = stats (WeightMatrixSpec(N = 50, Width = 0.2, Balance = b, Density = d)) 20 42L |> Array.map (fun s -> s.Reciprocity)
                    expectMean xs (expectedR 0.0 b d) 2e-3 (sprintf "R at b=%g d=%g" b d)
            }
            test "modularity: D = 1 for m < 1 and D = f_s at m = 1; total std stays w; block stds c_s w and c_w w; M_emp ≈ m" {
                let w = 0.2
                for m in [ 0.2; 0.5; 0.8 ] do
                    let ms = Array.init 20 (fun i -> WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 50, Width = w, Modularity = m, BlockSize = 10, StrongProbability = 0.2), 50L + int64 i))
                    for mat in ms do Expect.equal (StructureStatistics.Of(mat).Density) 1.0 "dense"
                    // total RMS: ⟨W²⟩ = w² (f_s c_s² + f_w c_w² = 1) — per matrix within the sampling error of 2500 squared half-normals
                    let rms = ms |> Array.map (fun mat -> Math.Sqrt(mat.Values |> Array.averageBy (fun x -> x * x)))
                    expectMean rms w 2e-3 (sprintf "global std at m=%g" m)
                    let memp = ms |> Array.map (fun mat -> mat.EmpiricalModularity())
                    expectMean memp m 0.02 (sprintf "M_emp at m=%g" m)
                    // strong/weak block std against c_s w and c_w w of each matrix's realised f_s
                    let mat = ms.[0]
                    let lab = mat.StrongBlockMatrix()
                    let cw = CouplingStatistics.WeakScale(m, true)
                    let cs = CouplingStatistics.StrongScale(m, mat.StrongFraction, true)
                    let sq strong = [| for i in 0 .. 49 do for j in 0 .. 49 do if lab.[i / 10, j / 10] = strong then yield mat.[i, j] ** 2.0 |]
                    let ss, ww = sq true, sq false
                    relClose (6.0 / Math.Sqrt(float ss.Length)) (Math.Sqrt(Array.average ss)) (cs * w) "strong-block std"
                    relClose (6.0 / Math.Sqrt(float ww.Length)) (Math.Sqrt(Array.average ww)) (cw * w) "weak-block std"
                let m1 = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 50, Width = w, Modularity = 1.0, BlockSize = 10), 77L)
                Expect.floatClose (accuracy 1e-12 0.0) (StructureStatistics.Of(m1).Density) m1.StrongFraction "D = f_s at m = 1"
                Expect.floatClose (accuracy 1e-12 0.0) (m1.StrongFraction + m1.WeakFraction) 1.0 "f_s + f_w = 1"
            }
            test "modularity redraws labels with no strong block, or raises when told not to" {
                let s = WeightMatrixSpec(N = 20, Width = 0.2, Modularity = 0.5, BlockSize = 10, StrongProbability = 0.01)
                for seed in 1L .. 20L do Expect.isGreaterThan (WeightMatrixGenerator.Generate(s, seed).StrongFraction) 0.0 "at least one strong block"
                let strict = WeightMatrixSpec(N = 20, Width = 0.2, Modularity = 0.5, BlockSize = 10, StrongProbability = 0.01, RedrawIfNoStrongBlock = false)
                Expect.throwsT<NoSolutionException> (fun () -> for seed in 1L .. 20L do WeightMatrixGenerator.Generate(strict, seed) |> ignore) "no strong block"
            }
        ]
        testList "network and measures" [
            test "F, C(Δt), N on hand-made streams hit the paper's anchors" {
                let n, t = 4, 100
                let osc = Array.init (t * n) (fun k -> if (k / n) % 2 = 0 then 1.0 else -1.0)
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Fluctuation(osc, n)) 1.0 "F = 1 for ±1 oscillation"
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Correlation(osc, n, 1)) -1.0 "C(1) = −1"
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Correlation(osc, n, 2)) 1.0 "C(2) = +1"
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Nonlinearity osc) 1.0 "N = 1 saturated"
                let fixp = Array.init (t * n) (fun k -> if k % n < 1 then -0.9 else 0.9)
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Fluctuation(fixp, n)) 0.0 "F = 0 at a fixpoint"
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Correlation(fixp, n, 3)) (0.45 * 0.45) "C = ȳ² at a mixed-sign fixpoint"
                let small = Array.create (t * n) 0.01
                Expect.floatClose (accuracy 1e-12 0.0) (DynamicalMeasures.Nonlinearity small) 0.0 "N = 0 linear"
                let rng = Rng(3)
                let uni = Array.init 300000 (fun _ -> 2.0 * rng.NextDouble() - 1.0)
                Expect.floatClose (accuracy 0.005 0.0) (DynamicalMeasures.Nonlinearity uni) 0.5 "N = 0.5 for a flat distribution"
            }
            testProperty "C(Δt) via ȳ equals the pair average over all ordered pairs" <| fun (seed: int) (lag0: int) ->
                let rng = Rng(seed)
                let n, t = 7, 30
                let lag = abs (lag0 % 10)
                let s = Array.init (n * t) (fun _ -> 2.0 * rng.NextDouble() - 1.0)
                abs (DynamicalMeasures.Correlation(s, n, lag) - DynamicalMeasures.CorrelationPairwise(s, n, lag)) < 1e-12
            test "free run: the same states with and without the tangent vector, and the same as repeated Step" {
                let m = WeightMatrixGenerator.Generate(spec 50 0.4, 6L)
                let rng = Rng(12)
                let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
                let x0 = net.InitialState rng
                let plain = net.RunFree(x0, 100, 300)
                let withTangent = net.RunFree(x0, 100, 300, true)
                Expect.sequenceEqual withTangent.States plain.States "same bits with the Lyapunov tangent"
                let mutable x = Array.copy x0
                let next = Array.zeroCreate 50
                for t in 0 .. 399 do
                    net.Step(ReadOnlySpan x, ReadOnlySpan.Empty, Span next)
                    x <- Array.copy next
                    if t >= 100 then
                        Expect.sequenceEqual x plain.States.[(t - 100) * 50 .. (t - 99) * 50 - 1] (sprintf "step %d" t)
            }
            test "Lyapunov: tangent method agrees with two trajectories (chaos) and with ln ρ(W) (quiescent)" {
                let m = WeightMatrixGenerator.Generate(spec 100 0.4, 4L)
                let rng = Rng(9)
                let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
                let x0 = net.InitialState rng
                let l1 = (net.RunFree(x0, 500, 3000, true)).Lyapunov.Value
                let l2 = net.LyapunovTwoTrajectory(x0, 500, 3000)
                Expect.isGreaterThan l1 0.1 "chaotic"
                // the two estimates see the same trajectory; their difference is the finite-time fluctuation of ~3000 steps
                Expect.floatClose (accuracy 0.03 0.0) l1 l2 "tangent vs two-trajectory"
                // quiescent: linear dynamics around the bias-set state, sech² ≈ 1 ⇒ λ = ln ρ(W)
                let q = WeightMatrixGenerator.Generate(spec 50 0.08, 5L)
                let rng2 = Rng(2)
                let netq = DiscreteNetwork.Create(q, NetworkOptions(), rng2)
                let lq = (netq.RunFree(netq.InitialState rng2, 2000, 4000, true)).Lyapunov.Value
                Expect.floatClose (accuracy 0.01 0.0) lq (Math.Log(q.SpectralRadius())) "λ = ln ρ(W) in the linear regime"
            }
            test "regime signatures of research note A9 (N = 50, 4 networks each)" {
                let o = MeasureOptions(Task = false)
                let at b w = Array.init 4 (fun k -> Sweeps.Measure(WeightMatrixSpec(N = 50, Width = w, Balance = b), o, Sweeps.MemberSeed(7L, k)))
                for r in at 0.0 0.05 do
                    Expect.isLessThan r.Fluctuation 1e-3 "quiescent F"
                    Expect.isLessThan r.Nonlinearity 1e-3 "quiescent N"
                    Expect.isLessThan (abs r.Correlation1) 1e-3 "quiescent C"
                    Expect.equal r.Regime Regime.Quiescent "quiescent label"
                for r in at -0.5 0.4 do
                    Expect.isLessThan r.Correlation1 -0.9 "oscillatory C(1)"
                    Expect.isGreaterThan r.Correlation2 0.9 "oscillatory C(2)"
                    Expect.isGreaterThan r.Fluctuation 0.95 "oscillatory F"
                    Expect.equal r.Regime Regime.Oscillatory "oscillatory label"
                for r in at 0.5 0.4 do
                    Expect.isGreaterThan r.Correlation1 0.95 "fixpoint C(1)"
                    Expect.isLessThan r.Fluctuation 1e-3 "fixpoint F"
                    Expect.equal r.Regime Regime.Fixpoint "fixpoint label"
                let chaos = at 0.0 0.4
                for r in chaos do
                    Expect.isLessThan (abs r.Correlation1) 0.05 "chaos C(1)"
                    Expect.isGreaterThan r.Lyapunov 0.0 "chaos λ > 0"
                    Expect.equal r.Regime Regime.Chaotic "chaotic label"
                // median over the networks: at N = 50 an occasional network keeps many neurons frozen (F ≈ 0.2 with λ > 0)
                let median (xs: float[]) = let s = Array.sort xs in 0.5 * (s.[(s.Length - 1) / 2] + s.[s.Length / 2])
                Expect.floatClose (accuracy 0.04 0.0) (chaos |> Array.map (fun r -> r.Fluctuation) |> median) 0.83 "chaos F (note A9: 0.82–0.84)"
                Expect.floatClose (accuracy 0.04 0.0) (chaos |> Array.map (fun r -> r.Nonlinearity) |> median) 0.81 "chaos N (note A9)"
            }
        ]
        testList "reservoir" [
            test "pseudoinverse readout recovers an exact affine map, and the minimum-norm solution when rank-deficient" {
                let rng = Rng(12)
                let n, p, q = 200, 10, 3
                let x = Array2D.init n p (fun _ _ -> rng.NextGaussian())
                let a = Array2D.init q p (fun _ _ -> rng.NextGaussian())
                let c = Array.init q (fun _ -> rng.NextGaussian())
                let y = Array2D.init n q (fun i o -> c.[o] + Seq.sum (seq { for j in 0 .. p - 1 -> a.[o, j] * x.[i, j] }))
                let r = PseudoInverseReadout.Fit(x, y)
                for o in 0 .. q - 1 do
                    Expect.floatClose (accuracy 1e-10 0.0) r.Bias.[o] c.[o] "bias"
                    for j in 0 .. p - 1 do Expect.floatClose (accuracy 1e-10 0.0) r.Weights.[o, j] a.[o, j] "weight"
                // duplicate column → rank p (not p+1); compare with MathNet's PseudoInverse of X̃
                let xd = Array2D.init n p (fun i j -> if j = 1 then x.[i, 0] else x.[i, j])
                let rd = PseudoInverseReadout.Fit(xd, y)
                Expect.equal rd.Rank p "rank"
                let xt = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, p + 1, fun i j -> if j < p then xd.[i, j] else 1.0)
                let ref = xt.PseudoInverse() * MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray y
                for o in 0 .. q - 1 do
                    Expect.floatClose (accuracy 1e-8 0.0) rd.Bias.[o] ref.[p, o] "bias vs MathNet"
                    for j in 0 .. p - 1 do Expect.floatClose (accuracy 1e-8 0.0) rd.Weights.[o, j] ref.[j, o] "weights vs MathNet"
            }
            test "sequence task: accuracy ≈ 1 in the quiescent regime, ≈ 0 in deep chaos (research note A10)" {
                let acc b w = Array.init 3 (fun k -> (SequenceGenerationTask.Run(WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 50, Width = w, Balance = b), int64 k), SequenceTaskOptions(), 100L + int64 k)).Accuracy) |> Array.average
                Expect.isGreaterThan (acc 0.0 0.05) 0.95 "quiescent"
                Expect.isLessThan (acc 0.0 0.45) 0.15 "chaotic"
                // regression: deeply saturated period-2 reservoirs give rank-2 state matrices (the readout must not fail)
                let sat = acc -1.0 0.3
                Expect.isTrue (Double.IsFinite sat && sat >= 0.0 && sat <= 1.0) "saturated reservoir accuracy in [0, 1]"
            }
            test "memory capacity: 0 < MC ≤ N, MC_1 ≈ 1 for a linear-regime reservoir; NARMA10 follows its recurrence and is learnable" {
                let m = WeightMatrixGenerator.Generate(spec 50 0.1, 3L)
                let mc = ReservoirBenchmarks.MemoryCapacity(m, BenchmarkOptions(), 4L)
                Expect.isLessThanOrEqual mc.Capacity 50.5 "MC ≤ N (plus test-window sampling bias)"
                Expect.isGreaterThan mc.PerDelay.[0] 0.95 "MC_1"
                Expect.isGreaterThan mc.Capacity 5.0 "MC well above 0"
                let rng = Rng(5)
                let u = Array.init 400 (fun _ -> 0.5 * rng.NextDouble())
                let y = ReservoirBenchmarks.Narma10(u)
                for t in 9 .. 398 do
                    let s = Seq.sum (seq { for i in 0 .. 9 -> y.[t - i] })
                    Expect.floatClose (accuracy 1e-12 1e-12) y.[t + 1] (0.3 * y.[t] + 0.05 * y.[t] * s + 1.5 * u.[t - 9] * u.[t] + 0.1) "recurrence"
                let big = WeightMatrixGenerator.Generate(spec 100 0.08, 6L)
                let nr = ReservoirBenchmarks.Narma10Task(big, BenchmarkOptions(InputSd = 1.0), 7L)
                Expect.isLessThan nr.Nrmse 0.7 "NARMA10 NRMSE of a linear-regime N = 100 reservoir"
            }
        ]
        testList "sweeps" [
            test "phase-diagram sweep is independent of the thread count and writes a CSV with metadata" {
                let o = MeasureOptions(Transient = 100, Steps = 100, TaskOptions = SequenceTaskOptions(TrainEpisodes = 30, TestEpisodes = 20))
                let bs = [| -0.3; 0.0; 0.3 |]
                let ws = [| 0.05; 0.3 |]
                let s = WeightMatrixSpec(N = 20, Homogeneity = 0.5)
                let r1 = Sweeps.PhaseDiagram(s, bs, ws, 2, o, 3L, 1)
                let r2 = Sweeps.PhaseDiagram(s, bs, ws, 2, o, 3L, -1)
                for p in 0 .. r1.Points.Length - 1 do
                    Expect.sequenceEqual r1.Points.[p].Mean r2.Points.[p].Mean "same numbers"
                let dir = tempDir "sweep"
                let path = IO.Path.Combine(dir, "pd.csv")
                r1.WriteCsv path
                let lines = IO.File.ReadAllLines path
                Expect.isTrue (lines |> Array.exists (fun l -> l = "# seed=3")) "seed in metadata"
                Expect.isTrue (lines |> Array.exists (fun l -> l = "# h=0.5")) "h in metadata"
                Expect.equal (lines |> Array.filter (fun l -> not (l.StartsWith "#"))).Length 7 "header + 6 rows"
                let sc = Sweeps.Scan(WeightMatrixSpec(N = 20, Width = 0.3), "r", [| 0.0; 1.0 |], [| 0.0 |], 2, o, 3L)
                Expect.floatClose (accuracy 1e-12 0.0) (sc.At(1, 0).MeanOf "R") 1.0 "R = 1 at r = 1 in the scan"
            }
        ]
        // sequenced: TestUtil.runCli locks on the current Console.Out, which it replaces, so two concurrent calls can interleave
        testSequenced <| testList "cli" [
            let keys (out: string) =
                use doc = Text.Json.JsonDocument.Parse(out)
                [ for p in doc.RootElement.EnumerateObject() -> p.Name ] |> Set.ofList
            test "regularities matrix / measures and meanfield regime print the documented JSON keys" {
                let code, out, err = runCli [ "regularities"; "matrix"; "--n"; "50"; "--w"; "0.3"; "--d"; "1"; "--b"; "0"; "--h"; "0.5"; "--seed"; "1"; "--json" ]
                Expect.equal code 0 err
                for k in [ "density"; "balance"; "homogeneity"; "reciprocity"; "spectralRadius"; "version" ] do Expect.contains (keys out) k "matrix key"
                let code, out, err = runCli [ "regularities"; "measures"; "--n"; "50"; "--w"; "0.3"; "--b"; "0"; "--seed"; "1"; "--steps"; "300"; "--transient"; "300"; "--json" ]
                Expect.equal code 0 err
                for k in [ "fluctuation"; "correlation1"; "nonlinearity"; "lyapunov"; "accuracy" ] do Expect.contains (keys out) k "measures key"
                let code, out, err = runCli [ "meanfield"; "regime"; "--b"; "0.3"; "--w"; "0.2"; "--n"; "400"; "--d"; "1"; "--json" ]
                Expect.equal code 0 err
                for k in [ "regime"; "mean"; "secondMoment"; "lyapunov" ] do Expect.contains (keys out) k "meanfield key"
                Expect.stringContains out "\"fixpoint\"" "b = 0.3, w = 0.2, N = 400 is a fixpoint"
            }
            test "regularities phase-diagram writes a CSV and four PNG heatmaps" {
                let dir = tempDir "pd"
                let code, _, err = runCli [ "regularities"; "phase-diagram"; "--setting"; "dale"; "--out"; dir; "--n"; "20"; "--b-range"; "-0.4:0.4:0.4"; "--w-range"; "0.1:0.3:0.2"; "--ensemble"; "1"; "--transient"; "50"; "--steps"; "50"; "--json" ]
                Expect.equal code 0 err
                Expect.isTrue (IO.File.Exists(IO.Path.Combine(dir, "phase-dale.csv"))) "csv"
                for q in [ "N"; "F"; "C1"; "A" ] do Expect.isTrue (IO.File.Exists(IO.Path.Combine(dir, sprintf "phase-dale-%s.png" q))) "png"
                let code, _, err = runCli [ "regularities"; "phase-diagram"; "--setting"; "custom"; "--m"; "0.5"; "--block-size"; "5"; "--out"; dir; "--n"; "20"; "--b-range"; "-0.4:0.4:0.4"; "--w-range"; "0.1:0.3:0.2"; "--ensemble"; "1"; "--transient"; "50"; "--steps"; "50" ]
                Expect.equal code 0 err
                let lines = IO.File.ReadAllLines(IO.Path.Combine(dir, "phase-custom.csv"))
                Expect.contains lines "# m=0.5" "custom m in the CSV metadata"
                Expect.contains lines "# blockSize=5" "custom block size in the CSV metadata"
            }
            test "meanfield boundaries / spectrum, regularities scan / benchmark run and report their keys" {
                let code, out, err = runCli [ "meanfield"; "boundaries"; "--n"; "50"; "--b-range"; "-0.5:0.5:0.25"; "--w-range"; "0.1:0.3:0.1"; "--json" ]
                Expect.equal code 0 err
                Expect.stringContains out "quiescent|oscillatory" "a quiescent/oscillatory curve"
                let code, out, err = runCli [ "meanfield"; "spectrum"; "--n"; "400"; "--w"; "0.05"; "--b"; "0.3"; "--r"; "0.5"; "--json" ]
                Expect.equal code 0 err
                for k in [ "semiAxisReal"; "semiAxisImag"; "outlier"; "spectralRadius" ] do Expect.contains (keys out) k "spectrum key"
                let csv = IO.Path.Combine(tempDir "scan", "scan.csv")
                let code, out, err = runCli [ "regularities"; "scan"; "--param"; "h"; "--n"; "20"; "--values"; "0:1:1"; "--balances"; "0"; "--ensemble"; "2"; "--transient"; "50"; "--steps"; "50"; "--out"; csv; "--json" ]
                Expect.equal code 0 err
                Expect.isTrue (IO.File.Exists csv) "scan csv"
                Expect.contains (keys out) "accuracy" "scan key"
                let code, out, err = runCli [ "regularities"; "benchmark"; "--task"; "mc"; "--n"; "20"; "--train"; "300"; "--test"; "200"; "--washout"; "60"; "--json" ]
                Expect.equal code 0 err
                Expect.contains (keys out) "memoryCapacity" "benchmark key"
            }
            test "bad input exits 2 with a message naming the parameter" {
                for (args, name) in
                    [ [ "regularities"; "matrix"; "--w"; "0.3"; "--h"; "1.5" ], "h"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--r"; "-0.5" ], "r"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--m"; "1.2" ], "m"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--d"; "2" ], "d"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--b"; "-1.5" ], "b"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--m"; "0.5"; "--block-size"; "7" ], "block-size"
                      [ "meanfield"; "regime"; "--b"; "0"; "--w"; "0.2"; "--d"; "1.5" ], "d"
                      [ "regularities"; "phase-diagram"; "--setting"; "nope"; "--out"; tempDir "bad" ], "setting"
                      [ "regularities"; "matrix"; "--w"; "0.3"; "--bogus"; "1" ], "bogus" ] do
                    let code, _, err = runCli args
                    Expect.equal code 2 (sprintf "exit code for %A" args)
                    Expect.stringContains err name "message names the parameter"
            }
        ]
    ]

module Theory.Tests.MeanFieldTests

open System
open Expecto
open Theory.Core
open Theory.Core.MeanField
open Theory.Core.RandomMatrix
open Theory.Core.Numerics
open Theory.Simulation
open Theory.Simulation.Reservoir
open Theory.Tests.TestUtil

let opts = MeanFieldOptions.Default
let rule = GaussianQuadrature.Default

/// Simulated time-and-population averages of y and y² after a transient, over several networks.
let simulateMoments (n: int) (w: float) (b: float) (nets: int) =
    Array.init nets (fun k ->
        let m = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = n, Width = w, Balance = b), 1000L + int64 k)
        let rng = Rng.ForStream(17L, int64 k)
        let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
        let run = net.RunFree(net.InitialState rng, 500, 500, true)
        let ys = run.States
        let meanAbsM = DynamicalMeasures.PopulationMean(ys, n) |> Array.averageBy abs
        meanAbsM, Array.averageBy (fun y -> y * y) ys, run.Lyapunov.Value)

[<Tests>]
let tests =
    testList "MeanField" [
        testList "coupling statistics" [
            test "μ and σ² of the pure matrix match generated matrices (N = 200)" {
                for (w, d, b) in [ (0.2, 1.0, 0.0); (0.3, 0.5, 0.4); (0.1, 0.8, -0.7) ] do
                    let xs = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = 200, Width = w, Density = d, Balance = b), 3L).Values
                    let mu = CouplingStatistics.PureMean(w, d, b)
                    let v = CouplingStatistics.PureVariance(w, d, b)
                    let m = Array.average xs
                    let var = xs |> Array.averageBy (fun x -> (x - m) ** 2.0)
                    // 40000 elements: s.e. of the mean √(v/40000), of the variance ≈ √(2/40000)·E W²
                    Expect.floatClose (accuracy (5.0 * Math.Sqrt(v / 40000.0)) 0.0) m mu "mean"
                    Expect.floatClose (accuracy (5.0 * Math.Sqrt(3.0 / 40000.0) * d * w * w + 1e-12) 0.0) var v "variance"
            }
            testProperty "Dale structure: column-average mean is the pure mean; modular profile keeps f_s c_s² + f_w c_w² = 1" <| fun (seed: int) ->
                let rng = Rng(seed)
                let b = 2.0 * rng.NextDouble() - 1.0
                let h = rng.NextDouble()
                let d = 0.1 + 0.9 * rng.NextDouble()
                let s = CouplingStatistics.Dale(1000, 500, 0.2, d, b, h)
                let pPlus = (1.0 + b) / 2.0
                let avg = pPlus * s.Mean.[0, 0] + (1.0 - pPlus) * s.Mean.[0, 1]
                let ok1 = abs (avg - CouplingStatistics.PureMean(0.2, d, b)) < 1e-14
                let m = rng.NextDouble()
                let fs = 0.04 + 0.96 * rng.NextDouble()
                let cw = CouplingStatistics.WeakScale(m, true)
                let cs = CouplingStatistics.StrongScale(m, fs, true)
                ok1 && abs (fs * cs * cs + (1.0 - fs) * cw * cw - 1.0) < 1e-12
        ]
        testList "maps" [
            test "iterated M = 0 fixed point equals the Brent root of Q = ⟨tanh²(√(g²Q + σ_β²) z)⟩" {
                for g in [ 1.5; 2.0; 3.0 ] do
                    let n = 100
                    let w = g / Math.Sqrt(float n)
                    let r = DiscreteMeanField.Regime(0.0, w, n, 1.0)
                    match DiscreteMeanField.ZeroMeanFixedPoint(g * g, opts.BiasVariance, rule) with
                    | Ok root -> Expect.floatClose (accuracy 1e-9 0.0) r.SecondMoment root.Root (sprintf "Q* at g=%g" g)
                    | Error e -> failtestf "%O" e
                    Expect.floatClose (accuracy 1e-12 0.0) r.Mean 0.0 "M = 0 at b = 0"
            }
            test "noise-free mean dynamics: fixed point M = tanh(aM) for a > 1, period-2 amplitude for a < −1" {
                for a in [ 1.5; 3.0; -1.5; -3.0 ] do
                    let s = { Sizes = [| 100 |]; Mean = Array2D.create 1 1 (a / 100.0); Variance = Array2D.create 1 1 0.0 }
                    let att = BlockMeanField.Iterate(s, { opts with BiasVariance = 0.0 })
                    Expect.isTrue att.Converged "converged"
                    match DiscreteMeanField.NoiseFreeAmplitude a with
                    | Ok root ->
                        let last = att.Orbit.[att.Orbit.Length - 1]
                        Expect.floatClose (accuracy 1e-9 0.0) (abs last.M.[0]) root.Root (sprintf "amplitude at a=%g" a)
                        Expect.equal att.Kind (if a > 0.0 then AttractorKind.FixedPoint else AttractorKind.Period2) "kind"
                        if a < 0.0 then Expect.floatClose (accuracy 1e-9 0.0) att.Orbit.[0].M.[0] (-att.Orbit.[1].M.[0]) "M flips sign"
                    | Error e -> failtestf "%O" e
            }
            test "quiescent Lyapunov exponent is ½ ln(Nσ²); K = 2 identical halves reproduce K = 1" {
                let n, w = 50, 0.1
                let r = DiscreteMeanField.Regime(0.0, w, n, 1.0)
                Expect.equal r.Regime Regime.Quiescent "quiescent"
                Expect.floatClose (accuracy 1e-3 0.0) r.Lyapunov (0.5 * Math.Log(float n * w * w)) "λ = ½ ln(N σ²)"
                let s1 = CouplingStatistics.Pure(60, 0.25, 1.0, 0.3)
                let s2 = { Sizes = [| 30; 30 |]; Mean = Array2D.create 2 2 s1.Mean.[0, 0]; Variance = Array2D.create 2 2 s1.Variance.[0, 0] }
                let a1 = BlockMeanField.Iterate(s1, opts)
                let a2 = BlockMeanField.Iterate(s2, opts)
                Expect.floatClose (accuracy 1e-10 0.0) a2.Orbit.[0].Q.[1] a1.Orbit.[0].Q.[0] "Q"
                Expect.floatClose (accuracy 1e-10 0.0) a2.Orbit.[0].M.[0] a1.Orbit.[0].M.[0] "M"
                Expect.floatClose (accuracy 1e-10 0.0) a2.Lyapunov a1.Lyapunov "λ"
            }
            test "classifier boundary equals the closed-form quiescent boundary w_c(b)" {
                for b in [ 0.0; 0.1; 0.3; -0.3; -0.6 ] do
                    let n = 50
                    let wc = DiscreteMeanField.QuiescentBoundary(b, n, 1.0)
                    let below = DiscreteMeanField.Regime(b, wc * 0.999, n, 1.0)
                    let above = DiscreteMeanField.Regime(b, wc * 1.001, n, 1.0)
                    Expect.equal below.Regime Regime.Quiescent "below w_c"
                    Expect.notEqual above.Regime Regime.Quiescent "above w_c"
                // σ_β = 0: with bias noise a thin bias-pinned fixed-point sliver (λ < 0) separates quiescence and chaos at b = 0
                let curves = PhaseBoundaries.Homogeneous(50, 1.0, [| -0.5; -0.25; 0.0; 0.25; 0.5 |], [| 0.05; 0.1; 0.2; 0.3; 0.4 |], 1e-4, { opts with BiasVariance = 0.0 })
                // at b = 0 the chaos onset coincides with w_c (λ = O((w − w_c)²) just above it), so the label right above
                // w_c is numerically chaotic or a zero-mean fixed point; the boundary of the quiescent region is what counts
                let wq = [ for c in curves do if fst c.Between = Regime.Quiescent then for k in 0 .. c.B.Length - 1 do if c.B.[k] = 0.0 then yield c.W.[k] ]
                Expect.isNonEmpty wq "a quiescent boundary point at b = 0"
                Expect.floatClose (accuracy 1e-4 0.0) wq.Head (1.0 / Math.Sqrt 50.0) "w_c(0) = 1/√N on the traced curve"
                Expect.isTrue (curves |> List.exists (fun c -> c.Between = (Regime.Fixpoint, Regime.Chaotic))) "fixpoint/chaos boundary"
                Expect.isTrue (curves |> List.exists (fun c -> c.Between = (Regime.Oscillatory, Regime.Chaotic))) "oscillatory/chaos boundary"
                Expect.isTrue (curves |> List.exists (fun c -> c.Between = (Regime.Quiescent, Regime.Oscillatory))) "quiescent/oscillatory boundary"
                Expect.isTrue (curves |> List.exists (fun c -> c.Between = (Regime.Quiescent, Regime.Fixpoint))) "quiescent/fixpoint boundary"
            }
            test "bad input: b, d outside range and N < 1 raise ParameterOutOfDomainException" {
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> DiscreteMeanField.Regime(1.5, 0.2, 50, 1.0) |> ignore) "b"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> DiscreteMeanField.Regime(0.0, 0.2, 50, -0.1) |> ignore) "d"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> DiscreteMeanField.Regime(0.0, 0.2, 0, 1.0) |> ignore) "N"
            }
        ]
        testList "mean field vs simulation" [
            test "Q*, |M| and λ of the mean field match simulation within finite-size tolerance (N = 100, 400)" {
                for n in [ 100; 400 ] do
                    let tol = 3.0 / Math.Sqrt(float n) // O(1/√N) finite-size corrections and sampling
                    // chaos, g = 2
                    let w = 2.0 / Math.Sqrt(float n)
                    let mf = DiscreteMeanField.Regime(0.0, w, n, 1.0)
                    let sim = simulateMoments n w 0.0 2
                    let q = sim |> Array.averageBy (fun (_, q, _) -> q)
                    let l = sim |> Array.averageBy (fun (_, _, l) -> l)
                    Expect.floatClose (accuracy tol 0.0) q mf.SecondMoment (sprintf "Q at N=%d" n)
                    Expect.floatClose (accuracy tol 0.0) l mf.Lyapunov (sprintf "λ at N=%d" n)
                    // fixpoint: b = 0.3, Nμ = 3
                    let w2 = 3.0 / (float n * 0.3 * Math.Sqrt(2.0 / Math.PI))
                    let mf2 = DiscreteMeanField.Regime(0.3, w2, n, 1.0)
                    let sim2 = simulateMoments n w2 0.3 2
                    Expect.equal mf2.Regime Regime.Fixpoint "fixpoint"
                    Expect.floatClose (accuracy tol 0.0) (sim2 |> Array.averageBy (fun (m, _, _) -> m)) (abs mf2.Mean) (sprintf "|M| at N=%d" n)
                    Expect.floatClose (accuracy tol 0.0) (sim2 |> Array.averageBy (fun (_, q, _) -> q)) mf2.SecondMoment (sprintf "Q (fixpoint) at N=%d" n)
            }
            test "block mean field (modularity) predicts Q of a modular network (N = 400, M = 40, m = 0.8)" {
                let n = 400
                for (w, b) in [ (0.1, 0.0); (0.04, 0.0) ] do
                    let spec = WeightMatrixSpec(N = n, Width = w, Balance = b, Modularity = 0.8, BlockSize = 40, StrongProbability = 0.2)
                    let qs =
                        Array.init 2 (fun k ->
                            let m = WeightMatrixGenerator.Generate(spec, 300L + int64 k)
                            let s = CouplingStatistics.Modular(40, m.StrongBlockMatrix(), w, b, 0.8, true)
                            let mf = DiscreteMeanField.OfStructure(s, opts)
                            let rng = Rng.ForStream(23L, int64 k)
                            let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
                            let run = net.RunFree(net.InitialState rng, 600, 400)
                            Array.averageBy (fun y -> y * y) run.States, mf.SecondMoment)
                    let qsim = qs |> Array.averageBy fst
                    let qmf = qs |> Array.averageBy snd
                    Expect.floatClose (accuracy (3.0 / Math.Sqrt(float n)) 0.0) qsim qmf (sprintf "Q at w=%g (block MF, realised labels)" w)
            }
            test "column-sign (Dale) mean field: h = 0 is the pure theory; with realised n⁺ it predicts the saturated fixpoint (N = 400)" {
                let pureR = DiscreteMeanField.Regime(0.1, 0.12, 400, 0.8)
                let dale0 = DiscreteMeanField.OfStructure(CouplingStatistics.Dale(400, 217, 0.12, 0.8, 0.1, 0.0), opts)
                Expect.floatClose (accuracy 1e-10 0.0) dale0.SecondMoment pureR.SecondMoment "Q at h = 0"
                Expect.floatClose (accuracy 1e-10 0.0) dale0.Mean pureR.Mean "M at h = 0"
                let n = 400
                for k in 0 .. 1 do
                    let m = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = n, Width = 0.1, Balance = 0.2, Homogeneity = 1.0), 500L + int64 k)
                    let nPlus = m.ColumnSigns |> Array.filter (fun t -> t > 0) |> Array.length
                    let mf = DiscreteMeanField.OfStructure(CouplingStatistics.Dale(n, nPlus, 0.1, 1.0, 0.2, 1.0), opts)
                    let rng = Rng.ForStream(3L, int64 k)
                    let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
                    let run = net.RunFree(net.InitialState rng, 600, 200)
                    let tol = 3.0 / Math.Sqrt(float n)
                    Expect.equal mf.Regime Regime.Fixpoint "fixpoint"
                    Expect.floatClose (accuracy tol 0.0) (Array.averageBy (fun y -> y * y) run.States) mf.SecondMoment "Q"
                    Expect.floatClose (accuracy tol 0.0) (DynamicalMeasures.PopulationMean(run.States, n) |> Array.averageBy abs) (abs mf.Mean) "|M|"
            }
            test "regime labels: mean field agrees with simulation on ≥ 90% of interior grid points (N = 400)" {
                let n = 400
                // the chaotic band is narrow at N = 400 (|b| ≲ √(π/2N) ≈ 0.06 near onset), hence the fine b grid
                let bs = Array.init 25 (fun i -> Math.Round(-0.3 + 0.025 * float i, 10))
                let ws = [| 0.02; 0.04; 0.07; 0.1; 0.13 |]
                let mfLabels = Array2D.init bs.Length ws.Length (fun i j -> (DiscreteMeanField.Regime(bs.[i], ws.[j], n, 1.0)).Regime)
                let interior = PhaseBoundaries.Interior mfLabels
                let pts = [ for i in 0 .. bs.Length - 1 do for j in 0 .. ws.Length - 1 do if interior.[i, j] then yield i, j ]
                let o = MeasureOptions(Task = false, Transient = 600, Steps = 300)
                let sim = Ensemble.Run(pts.Length, fun k -> let i, j = pts.[k] in Sweeps.Measure(WeightMatrixSpec(N = n, Width = ws.[j], Balance = bs.[i]), o, Sweeps.MemberSeed(5L, k)).Regime)
                let agree = pts |> List.mapi (fun k (i, j) -> sim.[k] = mfLabels.[i, j]) |> List.filter id |> List.length
                let frac = float agree / float pts.Length
                Expect.isGreaterThanOrEqual pts.Length 15 "enough interior points"
                Expect.isGreaterThanOrEqual (set [ for (i, j) in pts -> mfLabels.[i, j] ]).Count 3 "interior points cover ≥ 3 regimes"
                Expect.isGreaterThanOrEqual frac 0.9 (sprintf "agreement %d/%d" agree pts.Length)
            }
        ]
        testList "random matrix" [
            test "spectra at N = 400 lie in the predicted ellipse/disc with the predicted outlier" {
                let n = 400
                let check (s: WeightMatrixSpec) (p: SpectrumPrediction) (label: string) =
                    let ev = WeightMatrixGenerator.Generate(s, 8L).Eigenvalues()
                    let sorted = ev |> Array.sortByDescending (fun c -> c.Magnitude)
                    let bulk =
                        match p.Outlier with
                        | Some o ->
                            Expect.floatClose (accuracy 0.0 0.03) sorted.[0].Real o (label + ": outlier")
                            Expect.isLessThan (abs sorted.[0].Imaginary) 1e-6 (label + ": outlier real")
                            sorted.[1..]
                        | None -> sorted
                    // finite-N edge fluctuations at N = 400 are ≈ 5% of the radius: allow 15% in the squared scaled distance
                    let worst = bulk |> Array.map (fun c -> EllipticLaw.EllipseDistance(p, c.Real, c.Imaginary)) |> Array.max
                    Expect.isLessThan worst 1.15 (label + ": bulk inside the ellipse")
                    Expect.isGreaterThan worst 0.8 (label + ": bulk fills the ellipse")
                let w = 0.05
                check (WeightMatrixSpec(N = n, Width = w, Balance = 0.3)) (EllipticLaw.ForRegularities(n, w, 1.0, 0.3, 0.0)) "pure b=0.3"
                check (WeightMatrixSpec(N = n, Width = w, Balance = -0.3)) (EllipticLaw.ForRegularities(n, w, 1.0, -0.3, 0.0)) "pure b=-0.3"
                check (WeightMatrixSpec(N = n, Width = w, Reciprocity = 0.5)) (EllipticLaw.ForRegularities(n, w, 1.0, 0.0, 0.5)) "Hopfield r=0.5"
                check (WeightMatrixSpec(N = n, Width = w, Reciprocity = 0.5, Balance = 0.4)) (EllipticLaw.ForRegularities(n, w, 1.0, 0.4, 0.5)) "Hopfield r=0.5 b=0.4"
                // modular: variance-profile disc from the realised block labels
                let ms = WeightMatrixSpec(N = n, Width = w, Modularity = 0.8, BlockSize = 40, StrongProbability = 0.2)
                let mm = WeightMatrixGenerator.Generate(ms, 8L)
                let bsx = CouplingStatistics.Modular(40, mm.StrongBlockMatrix(), w, 0.0, 0.8, true)
                let radius = VarianceProfile.BulkRadius bsx
                let mx = mm.Eigenvalues() |> Array.map (fun c -> c.Magnitude) |> Array.max
                Expect.isLessThan (mx / radius) 1.1 "modular: inside the variance-profile disc"
                Expect.isGreaterThan (mx / radius) 0.85 "modular: fills the disc"
            }
        ]
    ]

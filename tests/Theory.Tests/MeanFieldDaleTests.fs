module Theory.Tests.MeanFieldDaleTests

open System
open System.Numerics
open Expecto
open Theory.Core
open Theory.Core.MeanField
open Theory.Core.Numerics
open Theory.Simulation.Reservoir
open Theory.Tests.TestUtil

let private fsConfig = { FsCheckConfig.defaultConfig with maxTest = 100; arbitrary = [] }
let private mf = MeanFieldOptions.Default

/// Realised fluctuation terms uᵀJ1 and uᵀJ²1 of a generated Dale matrix (u_j = column mean given τ_j, J = W − 1uᵀ).
let private fluctuationTerms (n: int) (w: float) (b: float) (h: float) (seed: int64) =
    let m = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = n, Width = w, Balance = b, Homogeneity = h), seed)
    let c = w * Math.Sqrt(2.0 / Math.PI)
    let u = m.ColumnSigns |> Array.map (fun t -> c * (h * float t + (1.0 - h) * b))
    let j1 = Array.init n (fun i -> Array.fold (+) 0.0 (Array.init n (fun k -> m.[i, k] - u.[k]))) // J·1
    let j2 = Array.init n (fun i -> Array.fold (+) 0.0 (Array.init n (fun k -> (m.[i, k] - u.[k]) * j1.[k]))) // J²·1
    let dot (x: float[]) (y: float[]) = Array.fold2 (fun a p q -> a + p * q) 0.0 x y
    let nPlus = m.ColumnSigns |> Array.filter (fun t -> t > 0) |> Array.length
    dot u j1, dot u j2, DaleOutliers.RankOne(n, nPlus, w, 1.0, b, h)

/// Fraction of simulated Dale networks in the global period-2 state (DynamicalMeasures.Classify), members seeded as the
/// phase diagrams (Sweeps.MemberSeed).
let private simulatedFraction (n: int) (w: float) (b: float) (nets: int) (seed: int64) =
    let osc =
        Array.init nets (fun k ->
            let ms = Sweeps.MemberSeed(seed, k)
            let m = WeightMatrixGenerator.Generate(WeightMatrixSpec(N = n, Width = w, Balance = b, Homogeneity = 1.0), ms)
            let rng = Rng.ForStream(ms, 1L)
            let net = DiscreteNetwork.Create(m, NetworkOptions(BiasSd = 0.01), rng)
            let run = net.RunFree(net.InitialState rng, 600, 100, false)
            DynamicalMeasures.Classify(run.States, n, run.Lyapunov) = Regime.Oscillatory)
    float (osc |> Array.filter id |> Array.length) / float nets

[<Tests>]
let tests =
    testList "MeanFieldDale" [
        testPropertyWithConfig fsConfig "every outlier root of the companion matrix solves Z(λ) = 1 of the series (random g, a₀, κ, r)" <| fun (seed: int) ->
            let rng = Rng.ForStream(int64 seed, 3L)
            let r1: DaleRankOne = { N = 100; NPlus = 50; MeanEigenvalue = 4.0 * (rng.NextDouble() - 0.5); Kappa = 0.2 + 2.0 * rng.NextDouble(); BulkRadius = 0.3 + 1.5 * rng.NextDouble() }
            let g = Array.init 12 (fun _ -> rng.NextGaussian())
            let roots = DaleOutliers.Roots(r1, g)
            Expect.equal roots.Length 13 "K + 1 roots"
            for z in roots do
                if z.Magnitude > 0.5 * r1.BulkRadius then
                    let zz = DaleOutliers.OutlierFunction(r1, g, z)
                    Expect.isLessThan (Complex.Abs(zz - Complex.One)) 1e-7 (sprintf "Z(%O) = %O" z zz)

        test "rank-one statistics: a₀ = N·mean(W), κ² + r² = N d w², and the realised n⁺ enters a₀ only (h = 1)" {
            let r1 = DaleOutliers.RankOne(400, 190, 0.1, 1.0, 0.0, 1.0)
            let c = 0.1 * Math.Sqrt(2.0 / Math.PI)
            Expect.floatClose (accuracy 1e-12 1e-12) r1.MeanEigenvalue (c * -20.0) "a₀ = c (n⁺ − n⁻)"
            Expect.floatClose (accuracy 1e-12 1e-12) (r1.Kappa * r1.Kappa + r1.BulkRadius * r1.BulkRadius) (400.0 * 0.01) "κ² + r² = N w²"
            let r2 = DaleOutliers.RankOne(400, 230, 0.1, 1.0, 0.0, 1.0)
            Expect.floatClose (accuracy 1e-12 1e-12) r2.Kappa r1.Kappa "κ independent of n⁺ at h = 1"
        }

        test "fluctuation terms uᵀJ1, uᵀJ²1 of generated matrices have the derived variances κ² r², κ² r⁴ (N = 100, 400)" {
            // M matrices per N: the sample variance of a Gaussian has relative s.e. √(2/M); tolerance 4√(2/M) plus the
            // O(1/√N) finite-size correction of the leading-order variance (non-Gaussian half-normal elements, self-loops)
            for (n, mCount) in [ (100, 300); (400, 60) ] do
                let w = 2.0 / Math.Sqrt(float n)
                let xs = Array.init mCount (fun k -> fluctuationTerms n w 0.0 1.0 (500L + int64 k))
                let r1 = let (_, _, r) = xs.[0] in r
                let var f = xs |> Array.averageBy (fun x -> (f x) ** 2.0) // zero mean by construction (E J = 0)
                let tol = 4.0 * Math.Sqrt(2.0 / float mCount) + 2.0 / Math.Sqrt(float n)
                relClose tol (var (fun (a, _, _) -> a)) (r1.Kappa ** 2.0 * r1.BulkRadius ** 2.0) (sprintf "Var uᵀJ1, N = %d" n)
                relClose tol (var (fun (_, b, _) -> b)) (r1.Kappa ** 2.0 * r1.BulkRadius ** 4.0) (sprintf "Var uᵀJ²1, N = %d" n)
        }

        test "effective map: Gaussian quadrature of M' and Q' against Monte Carlo of the field" {
            let s = DaleOscillation.EffectiveStructure(400, -1.7, 1.3)
            let x = { M = [| 0.4 |]; Q = [| 0.5 |] }
            let y = BlockMeanField.Step(s, mf, x)
            let rng = Rng.ForStream(77L, 0L)
            let nz = 200000
            let mean = -1.7 * 0.4
            let sd = Math.Sqrt(1.3 * 1.3 * 0.5 + mf.BiasVariance)
            let ts = Array.init nz (fun _ -> Math.Tanh(mean + sd * rng.NextGaussian()))
            let m1 = Array.average ts
            let m2 = ts |> Array.averageBy (fun t -> t * t)
            // Monte Carlo s.e. ≤ 1/√nz ≈ 0.0022; 4 s.e.
            Expect.floatClose (accuracy (4.0 / Math.Sqrt(float nz)) 0.0) y.M.[0] m1 "⟨tanh⟩"
            Expect.floatClose (accuracy (4.0 / Math.Sqrt(float nz)) 0.0) y.Q.[0] m2 "⟨tanh²⟩"
        }

        test "flip threshold: −1 below the bulk edge (closed form) and bracketed by direct iteration of the map above it" {
            let o = DaleOscillationOptions.Default
            // r < 1: the M = 0 state is quiescent, ⟨sech²⟩ = 1 − O(σ_β²), so the flip sits at λ = −1 (supercritical)
            let t0 = DaleOscillation.Threshold(400, 0.6, o)
            Expect.floatClose (accuracy 1e-3 0.0) t0.Nonlinear.Value -1.0 "λ* = −1 for r < 1"
            Expect.floatClose (accuracy 1e-3 0.0) t0.Linear -1.0 "linear flip −1 for r < 1"
            // r > 1: the linear flip −1/⟨sech²⟩ equals the finite-difference multiplier ∂M'/∂M at the M = 0 state
            let r = 1.5
            let t = DaleOscillation.Threshold(400, r, o)
            let att = BlockMeanField.Iterate(DaleOscillation.EffectiveStructure(400, 0.0, r), mf)
            let q = att.Orbit.[0].Q.[0]
            let dM = 1e-6
            let lam = -1.3
            let step m = (BlockMeanField.Step(DaleOscillation.EffectiveStructure(400, lam, r), mf, { M = [| m |]; Q = [| q |] })).M.[0]
            let slope = (step dM - step -dM) / (2.0 * dM)
            Expect.floatClose (accuracy 1e-6 1e-6) slope (lam / -t.Linear) "∂M'/∂M = λ⟨sech²⟩ = −λ/λ_lin"
            // direct iteration: 0.02 beyond λ* a period-2 orbit with λ_L ≤ 0, 0.02 before it no oscillatory attractor
            let ls = t.Nonlinear.Value
            Expect.isLessThanOrEqual ls (t.Linear + 1e-6) "λ* at or beyond the linear flip"
            let below = BlockMeanField.Iterate(DaleOscillation.EffectiveStructure(400, ls - 0.02, r), mf)
            Expect.equal below.Kind AttractorKind.Period2 "period 2 below λ*"
            Expect.isLessThanOrEqual below.Lyapunov 0.0 "non-chaotic below λ*"
            Expect.isGreaterThan (abs below.Orbit.[0].M.[0]) 0.1 "finite amplitude below λ*"
            let above = BlockMeanField.Iterate(DaleOscillation.EffectiveStructure(400, ls + 0.02, r), mf)
            Expect.isTrue (above.Kind <> AttractorKind.Period2 || above.Lyapunov > 0.0) "no non-chaotic period 2 above λ*"
        }

        test "probability of the synchronised state vs simulation at N = 100 and 400 (b√N = −1, w√N = 2)" {
            let o = { DaleOscillationOptions.Default with Samples = 400 }
            for (n, nets) in [ (100, 120); (400, 40) ] do
                let sq = Math.Sqrt(float n)
                let b, w = -1.0 / sq, 2.0 / sq
                let p = DaleOscillation.PredictEnsemble(n, w, 1.0, b, 1.0, o, 9L)
                let f = simulatedFraction n w b nets 21L
                // binomial s.e. of the simulated fraction (3 s.e.), Monte Carlo s.e. of P (3 s.e.) and the O(1/√N)
                // corrections of the leading-order outlier statistics (1/√N)
                let tol = 3.0 * Math.Sqrt(p.Probability * (1.0 - p.Probability) / float nets) + 3.0 * p.ProbabilityError + 1.0 / sq
                Expect.floatClose (accuracy tol 0.0) f p.Probability (sprintf "N = %d: simulated fraction vs P" n)
                // the old column-sign closure at the expected n⁺ predicts 0 or 1 here and misses by > 0.2
                let old = if p.ClosureRegime = Regime.Oscillatory then 1.0 else 0.0
                Expect.isGreaterThan (abs (f - old)) 0.2 (sprintf "N = %d: the 0/1 closure is off" n)
        }

        test "CLI: meanfield dale-oscillation --json and bad input exits 2" {
            let code, out, _ = runCli [ "meanfield"; "dale-oscillation"; "--n"; "100"; "--w"; "0.2"; "--b"; "-0.1"; "--samples"; "100"; "--json" ]
            Expect.equal code 0 "exit 0"
            let j = Text.Json.Nodes.JsonNode.Parse(out)
            let p = j.["probability"].GetValue<float>()
            Expect.isTrue (p >= 0.0 && p <= 1.0) "probability in [0, 1]"
            Expect.equal (j.["seed"].GetValue<int>()) 1 "seed reported"
            Expect.isNotNull j.["version"] "version reported"
            let code2, _, err = runCli [ "meanfield"; "dale-oscillation"; "--n"; "100"; "--w"; "0.2"; "--nplus"; "101" ]
            Expect.equal code2 2 "n⁺ > N exits 2"
            Expect.stringContains err "nPlus" "names the parameter"
            let code3, _, _ = runCli [ "meanfield"; "dale-oscillation"; "--w"; "-0.2" ]
            Expect.equal code3 2 "negative w exits 2"
        }
    ]

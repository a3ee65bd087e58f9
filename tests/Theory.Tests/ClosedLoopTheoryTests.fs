module Theory.Tests.ClosedLoopTheoryTests

open System
open System.Numerics
open Expecto
open FsCheck
open FsCheck.FSharp
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.ClosedLoop
open Theory.Tests.TestUtil

let private ov a b c d = Overlaps.Create(a, b, c, d)

/// Rank-one network at the initialisation of the theory notebook (§2): u, v ~ N(0, 1/N), m, z ~ U(−N^−½, N^−½).
let randomRankOne (rng: Rng) (n: int) =
    let s = 1.0 / sqrt (float n)
    let unif () = Array.init n (fun _ -> (2.0 * rng.NextDouble() - 1.0) * s)
    let gauss () = Array.init n (fun _ -> s * rng.NextGaussian())
    let m = unif ()
    let z = unif ()
    let u = gauss ()
    let v = gauss ()
    m, z, u, v

let private closeC (tol: float) (a: Complex) (b: Complex) msg =
    if (a - b).Magnitude > tol then failtestf "%s: %A vs %A (|diff| = %.3g > %.3g)" msg a b (a - b).Magnitude tol

/// Matches two multisets of complex numbers greedily (each entry of a to its nearest unused entry of b).
let matchSets (tol: float) (a: Complex[]) (b: Complex[]) msg =
    let used = Array.create b.Length false
    for x in a do
        let j = [| 0 .. b.Length - 1 |] |> Array.filter (fun j -> not used.[j]) |> Array.minBy (fun j -> (b.[j] - x).Magnitude)
        used.[j] <- true
        closeC tol x b.[j] msg

let private smallFloat (lo: float) (hi: float) = Gen.choose (0, 1_000_000) |> Gen.map (fun i -> lo + (hi - lo) * float i / 1e6)
let private overlapGen =
    gen {
        let! a = smallFloat -1.0 1.0
        let! b = smallFloat -1.0 1.0
        let! c = smallFloat -1.0 1.0
        let! d = smallFloat -1.0 1.0
        return ov a b c d
    }
let private triple (g1: Gen<float>) (g2: Gen<float>) (g3: Gen<float>) =
    gen {
        let! a = g1
        let! b = g2
        let! c = g3
        return a, b, c
    }
let private fsConfig = { FsCheckConfig.defaultConfig with maxTest = 200; arbitrary = [] }

let plantTests =
    testList "Plant" [
        test "double integrator matrices (Eq. 1-2, Euler B)" {
            let p = Plant.doubleIntegrator 0.5
            Expect.equal p.A (array2D [ [ 1.0; 0.5 ]; [ 0.0; 1.0 ] ]) "A"
            Expect.equal p.B [| 0.0; 0.5 |] "B"
            Expect.equal p.C [| 1.0; 0.0 |] "C"
            Expect.equal (Plant.step p [| 1.0; 2.0 |] 4.0) [| 2.0; 4.0 |] "step"
        }
        test "third-order integrator has Δ on the super-diagonal and B_K = Δ" {
            let p = Plant.integrator 3 0.1
            Expect.equal p.A.[1, 2] 0.1 "A23"
            Expect.equal p.A.[0, 2] 0.0 "A13"
            Expect.equal p.B [| 0.0; 0.0; 0.1 |] "B"
        }
        test "bad step is rejected" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Plant.doubleIntegrator -1.0 |> ignore) "dt < 0"
        }
    ]

let feedbackTests =
    testList "StaticFeedback" [
        test "eigenvalues and regions of research table 13A" {
            let cases =
                [ (0.0, 0.0), [ Complex(1.0, 0.0); Complex(1.0, 0.0) ], RealUnstable
                  (0.01, 0.0), [ Complex(1.1, 0.0); Complex(0.9, 0.0) ], RealUnstable
                  (-0.01, 0.0), [ Complex(1.0, 0.1); Complex(1.0, -0.1) ], OscillatoryUnstable
                  (-0.02, -0.03), [ Complex(0.985, 0.140624); Complex(0.985, -0.140624) ], Stable
                  (-0.25, -1.0), [ Complex(0.5, 0.0); Complex(0.5, 0.0) ], Stable
                  (-0.5, -1.0), [ Complex(0.5, 0.5); Complex(0.5, -0.5) ], Stable
                  (-1.0, -1.5), [ Complex(0.25, 0.661438); Complex(0.25, -0.661438) ], Stable
                  (-0.365, -1.003), [ Complex(0.4985, 0.336894); Complex(0.4985, -0.336894) ], Stable
                  (-1.0, -3.0), [ Complex(0.618034, 0.0); Complex(-1.618034, 0.0) ], RealUnstable
                  (0.1, -1.0), [ Complex(1.091608, 0.0); Complex(-0.091608, 0.0) ], RealUnstable ]
            for ((k1, k2), ev, reg) in cases do
                let e = StaticFeedback.eigenvalues 1.0 k1 k2
                matchSets 1e-6 e (Array.ofList ev) (sprintf "k = (%g, %g)" k1 k2)
                Expect.equal (StaticFeedback.region 1.0 k1 k2) reg (sprintf "region k = (%g, %g)" k1 k2)
            Expect.floatClose (accuracy 1e-6 0.0) (StaticFeedback.spectralRadius 1.0 -0.01 0.0) 1.004988 "|λ| (−0.01, 0)"
        }
        testPropertyWithConfig fsConfig "closed-form eigenvalues equal the numerical spectrum of A + Bk' (random k, Δ)" <|
            Prop.forAll (Arb.fromGen (triple (smallFloat -5.0 1.0) (smallFloat -5.0 1.0) (smallFloat 0.05 2.0))) (fun (k1, k2, dt) ->
                let e = StaticFeedback.eigenvalues dt k1 k2
                let n = Linalg.eigenvalues (StaticFeedback.closedLoopMatrix dt k1 k2)
                matchSets 1e-7 e n "eig"
                true)
        testPropertyWithConfig fsConfig "eigenvalue region agrees with the Jury conditions (random k, Δ)" <|
            Prop.forAll (Arb.fromGen (triple (smallFloat -6.0 1.0) (smallFloat -6.0 1.0) (smallFloat 0.05 2.0))) (fun (k1, k2, dt) ->
                let rho = StaticFeedback.spectralRadius dt k1 k2
                abs (rho - 1.0) < 1e-9 || ((StaticFeedback.region dt k1 k2 = Stable) = StaticFeedback.isStableByJury dt k1 k2))
        test "stable triangle vertices (0,0), (0,-2), (-4,-4) lie on the boundary curves" {
            let curves = StaticFeedback.boundaries 1.0 -5.0 1.0 50
            Expect.equal curves.Length 5 "five curves"
            let l2 = curves.[1]
            Expect.floatClose (accuracy 1e-12 0.0) l2.K1.[0] -4.0 "vertex k1"
            Expect.floatClose (accuracy 1e-12 0.0) l2.K2.[0] -4.0 "vertex k2"
            // points just inside each side are stable, just outside unstable
            Expect.equal (StaticFeedback.region 1.0 -1.0 -1.1) Stable "inside"
            Expect.equal (StaticFeedback.region 1.0 -1.0 -0.9) OscillatoryUnstable "beyond |λ|=1"
            Expect.equal (StaticFeedback.region 1.0 -3.0 -3.6) RealUnstable "beyond λ = -1"
        }
        test "landscape map values of research table 13I" {
            let cases = [ (-0.618034, -1.618034), -2.0445; (-0.365, -1.003), -1.7420; (-0.25, -1.0), -1.5766
                          (-0.02, -0.02), 3.2480; (-0.01, 0.0), 4.3120; (0.0, 0.0), 6.8151 ]
            for ((k1, k2), v) in cases do
                Expect.floatClose (accuracy 2e-4 0.0) (StaticFeedback.logLandscape 1.0 k1 k2 [| 1.0; 1.0 |] 50) v (sprintf "k = (%g, %g)" k1 k2)
        }
        test "non-finite gain is rejected" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> StaticFeedback.region 1.0 nan 0.0 |> ignore) "NaN k1"
        }
    ]

let private a2 = array2D [ [ 1.0; 1.0 ]; [ 0.0; 1.0 ] ]
let private b2 = array2D [ [ 0.0 ]; [ 1.0 ] ]
let private i2 = array2D [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ]

let lqrTests =
    testList "LQR" [
        test "DARE with Q = I, R -> 0 gives the golden-ratio gain (closed form)" {
            let phi = (1.0 + sqrt 5.0) / 2.0
            let s = Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ 1e-8 ] ])
            // closed form at R = 0: P = [[φ², φ], [φ, φ²]], K = (φ − 1, φ) (derived); R = 1e-8 shifts it by O(1e-8)
            Expect.floatClose (accuracy 1e-6 0.0) s.P.[0, 0] (phi * phi) "P11"
            Expect.floatClose (accuracy 1e-6 0.0) s.P.[0, 1] phi "P12"
            Expect.floatClose (accuracy 1e-6 0.0) s.P.[1, 1] (phi * phi) "P22"
            Expect.floatClose (accuracy 1e-6 0.0) s.K.[0, 0] (phi - 1.0) "K1"
            Expect.floatClose (accuracy 1e-6 0.0) s.K.[0, 1] phi "K2"
            Expect.isLessThan s.Residual 1e-12 "residual"
            let s0 = Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ 0.0 ] ])
            Expect.floatClose (accuracy 1e-12 0.0) s0.K.[0, 1] phi "R = 0 exactly: K2 = φ"
            Expect.floatClose (accuracy 1e-12 0.0) s0.P.[0, 0] (phi * phi) "R = 0 exactly: P11 = φ²"
        }
        test "DARE reference values of research table 13F" {
            let cases =
                [ 1e-2, (2.623509, 1.629645, 2.645744), (0.613630, 1.609865)
                  1.0, (2.947123, 2.369205, 4.613134), (0.422082, 1.243929) ]
            for (r, (p11, p12, p22), (k1, k2)) in cases do
                let s = Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ r ] ])
                Expect.floatClose (accuracy 2e-6 0.0) s.P.[0, 0] p11 "P11"
                Expect.floatClose (accuracy 2e-6 0.0) s.P.[0, 1] p12 "P12"
                Expect.floatClose (accuracy 2e-6 0.0) s.P.[1, 1] p22 "P22"
                Expect.floatClose (accuracy 2e-6 0.0) s.K.[0, 0] k1 "K1"
                Expect.floatClose (accuracy 2e-6 0.0) s.K.[0, 1] k2 "K2"
                Expect.isLessThan s.Residual 1e-12 "residual"
            let s = Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ 1.0 ] ])
            let cl = Linalg.eigenvalues (array2D [ [ 1.0; 1.0 ]; [ -s.K.[0, 0]; 1.0 - s.K.[0, 1] ] ])
            matchSets 1e-6 cl [| Complex(0.378036, 0.18773); Complex(0.378036, -0.18773) |] "eig(A - BK), R = 1"
        }
        test "finite-horizon K_0 (T = 50) equals the DARE gain; the recursion converges to the DARE on random systems" {
            let fh = Lqr.finiteHorizon a2 b2 i2 (array2D [ [ 1e-8 ] ]) i2 50
            Expect.floatClose (accuracy 1e-6 0.0) fh.Gains.[0].[0, 1] 1.618034 "K2 at t = 0"
            let rng = Rng(7)
            for trial in 1 .. 5 do
                let n = 3
                let a = Array2D.init n n (fun _ _ -> 0.6 * rng.NextGaussian())
                let b = Array2D.init n 1 (fun _ _ -> rng.NextGaussian())
                let q = Linalg.identity n
                let r = array2D [ [ 0.5 ] ]
                let dare = Lqr.solveDareOrRaise a b q r
                let fh = Lqr.finiteHorizon a b q r (Array2D.zeroCreate n n) 400
                for i in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-9 1e-9) fh.Gains.[0].[0, i] dare.K.[0, i] (sprintf "trial %d K[%d]" trial i)
                    for j in 0 .. n - 1 do
                        Expect.floatClose (accuracy 1e-9 1e-9) fh.CostMatrices.[0].[i, j] dare.P.[i, j] "P"
                Expect.isLessThan (Lqr.dareResidual a b q r dare.P) 1e-10 "residual"
                Expect.isLessThan dare.ClosedLoopRadius 1.0 "stabilising"
        }
        test "non-stabilisable, non-detectable and malformed inputs give typed errors" {
            Expect.throwsT<NoSolutionException> (fun () -> Lqr.solveDareOrRaise a2 (array2D [ [ 0.0 ]; [ 0.0 ] ]) i2 (array2D [ [ 1.0 ] ]) |> ignore) "B = 0"
            // Q = 0: the recursion stays at P = 0, K = 0, which does not stabilise the double integrator
            match Lqr.solveDare a2 b2 (Array2D.zeroCreate 2 2) (array2D [ [ 1.0 ] ]) 1e-14 1000 with
            | Ok s -> failtestf "expected a typed failure, got %A" s.K
            | Error f -> Expect.stringContains f.Reason "no stabilising" "reason"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Lqr.solveDareOrRaise a2 b2 (array2D [ [ 1.0; 2.0 ]; [ 0.0; 1.0 ] ]) (array2D [ [ 1.0 ] ]) |> ignore) "non-symmetric Q"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ -1.0 ] ]) |> ignore) "negative R"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ 1.0; 0.0 ]; [ 0.0; 1.0 ] ]) |> ignore) "R wrong size"
            match Lqr.solveDare a2 b2 i2 (array2D [ [ 1e6 ] ]) 1e-14 3 with
            | Ok _ -> failtest "3 iterations cannot converge at R = 1e6"
            | Error f -> Expect.equal f.Iterations 3 "iterations reported"
        }
        test "Kalman filter: iterated predict-update converges to the steady-state gain; LQG spectrum = eig(A-BK) ∪ eig((I-LC)A)" {
            let c = array2D [ [ 1.0; 0.0 ] ]
            let qw = array2D [ [ 0.1; 0.0 ]; [ 0.0; 0.2 ] ]
            let rv = array2D [ [ 0.5 ] ]
            let kf = Lqr.kalman a2 c qw rv
            let mutable xh = [| 0.0; 0.0 |]
            let mutable sg = i2
            for _ in 1 .. 300 do
                let x, s = Lqr.kalmanStep a2 b2 c qw rv xh sg [| 0.0 |] [| 0.0 |]
                xh <- x
                sg <- s
            // posterior Σ_t → (I − LC)Σ⁻; compare the gain implied by the prior
            let prior = Linalg.mul (Linalg.mul a2 sg) (Linalg.transpose a2) |> Array2D.mapi (fun i j v -> v + qw.[i, j])
            let l0 = prior.[0, 0] / (prior.[0, 0] + 0.5)
            Expect.floatClose (accuracy 1e-10 0.0) l0 kf.Gain.[0, 0] "L1"
            Expect.floatClose (accuracy 1e-10 0.0) (prior.[1, 0] / (prior.[0, 0] + 0.5)) kf.Gain.[1, 0] "L2"
            Expect.isLessThan kf.ErrorRadius 1.0 "stable estimator"
            let lqr = Lqr.solveDareOrRaise a2 b2 i2 (array2D [ [ 1.0 ] ])
            let j = Lqr.lqgMatrix a2 b2 c lqr.K kf.Gain
            let expected =
                Array.append
                    (Linalg.eigenvalues (array2D [ [ 1.0; 1.0 ]; [ -lqr.K.[0, 0]; 1.0 - lqr.K.[0, 1] ] ]))
                    (Linalg.eigenvalues (Linalg.mul (Array2D.init 2 2 (fun i k -> (if i = k then 1.0 else 0.0) - kf.Gain.[i, 0] * c.[0, k])) a2))
            matchSets 1e-9 (Linalg.eigenvalues j) expected "separation principle"
        }
    ]

let jointTests =
    testList "JointMatrix and cubic" [
        test "N = 4 example of research table 13B: overlaps, cubic roots, spectrum of the 6x6 P" {
            let m = [| 0.3; -0.2; 0.1; 0.4 |]
            let z = [| -0.5; 0.1; 0.2; -0.3 |]
            let u = [| 0.6; 0.3; -0.4; 0.2 |]
            let v = [| 0.5; -0.2; 0.3; 0.4 |]
            let o = Overlaps.OfVectors(m, z, u, v)
            Expect.sequenceEqual (o.ToArray() |> Array.map (fun x -> Math.Round(x, 12))) [| -0.27; -0.41; 0.38; 0.2 |] "overlaps"
            let r = Characteristic.roots o
            matchSets 1e-6 r.Roots [| Complex(0.064049, 0.0); Complex(1.067975, 0.626596); Complex(1.067975, -0.626596) |] "roots"
            let p = JointMatrix.full 1.0 1.0 (JointMatrix.rankOne u v) m z
            matchSets 1e-10 (Linalg.eigenvalues p) (Array.append r.Roots (Array.create 3 Complex.Zero)) "spec P = roots ∪ {0}"
        }
        test "cubic roots of research table 13B" {
            let cases =
                [ ov 0.05 0.0 0.0 0.0, [| Complex(0.0, 0.0); Complex(0.776393, 0.0); Complex(1.223607, 0.0) |]
                  ov -0.05 0.0 0.0 0.0, [| Complex(0.0, 0.0); Complex(1.0, 0.223607); Complex(1.0, -0.223607) |]
                  ov -0.02 0.1 0.05 0.1, [| Complex(0.106105, 0.0); Complex(0.996948, 0.120556); Complex(0.996948, -0.120556) |]
                  ov -0.02 0.3 -0.2 0.3, [| Complex(0.207431, 0.0); Complex(1.046284, 0.302035); Complex(1.046284, -0.302035) |]
                  ov -0.3 0.5 0.5 0.6, [| Complex(1.270214, 0.0); Complex(0.664893, 0.607293); Complex(0.664893, -0.607293) |]
                  ov -0.5 -0.4 0.3 0.5, [| Complex(0.366805, 0.0); Complex(1.066597, 0.761514); Complex(1.066597, -0.761514) |] ]
            for (o, roots) in cases do
                matchSets 1e-6 (Characteristic.roots o).Roots roots (sprintf "%A" (o.ToArray()))
        }
        test "cubic roots equal the top three eigenvalues of the full P for random rank-one networks (N = 100) to 1e-10" {
            for seed in 1 .. 5 do
                let rng = Rng(seed)
                let m, z, u, v = randomRankOne rng 100
                let o = Overlaps.OfVectors(m, z, u, v)
                let ev = Linalg.eigenvalues (JointMatrix.full 1.0 1.0 (JointMatrix.rankOne u v) m z)
                let roots = (Characteristic.roots o).Roots
                matchSets 1e-10 roots ev.[0..2] (sprintf "seed %d" seed)
                let small = ev.[3..] |> Array.filter (fun l -> l.Magnitude < 1e-6) |> Array.length
                Expect.equal small 99 "the other 99 eigenvalues vanish"
        }
        test "general W: every eigenvalue of P solves the self-consistent equation of App. C.2 (N = 30)" {
            let rng = Rng(11)
            let n = 30
            let w = Array2D.init n n (fun _ _ -> 0.5 * rng.NextGaussian() / sqrt (float n))
            let m = Array.init n (fun _ -> rng.NextGaussian() / sqrt (float n))
            let z = Array.init n (fun _ -> rng.NextGaussian() / sqrt (float n))
            let p = JointMatrix.full 1.0 1.0 w m z
            for l in Linalg.eigenvalues p do
                let r = JointMatrix.selfConsistentResidual 1.0 w m z l
                Expect.isLessThan r.Magnitude 1e-9 (sprintf "residual at %A" l)
        }
        testPropertyWithConfig fsConfig "Vieta relations (both forms of Eq. 11) and the factorisation hold for random overlaps" <|
            Prop.forAll (Arb.fromGen overlapGen) (fun o ->
                let r = Characteristic.roots o
                for l in r.Roots do
                    let res = Characteristic.factorisationResidual o l
                    if res.Magnitude > 1e-12 then failtestf "factorisation residual %g" res.Magnitude
                    if (Characteristic.chi o l).Magnitude > 1e-11 then failtestf "chi(root) = %g" (Characteristic.chi o l).Magnitude
                match r.ComplexPair with
                | Some lc ->
                    let v = Stage2.vietaResiduals o r.RealRoot lc
                    if v |> Array.exists (fun x -> abs x > 1e-10) then failtestf "Vieta residuals %A" v
                    let m2 = lc.Magnitude * lc.Magnitude
                    if abs (Stage2.eq11 o r.RealRoot - m2) > 1e-10 then failtest "Eq. 11 first form"
                    if abs r.RealRoot > 1e-3 && abs (Stage2.eq11Alt o r.RealRoot - m2) > 1e-9 then failtest "Eq. 11 second form"
                | None -> ()
                // spectrum of P_eff = roots ∪ {0}
                matchSets 1e-8 (Linalg.eigenvalues (JointMatrix.peff o)) (Array.append r.Roots [| Complex.Zero |]) "P_eff"
                true)
        test "leaky variant (research table 13H): quartic roots = eig P_eff(a) = part of the full leaky P; other eigenvalues 1 - a" {
            let o = ov -0.3 0.5 0.5 0.6
            let roots = Characteristic.leakyRoots 0.1 0.1 o
            matchSets 1e-6 roots [| Complex(0.870155, 0.0); Complex(0.982089, 0.059833); Complex(0.982089, -0.059833); Complex(1.025666, 0.0) |] "table"
            matchSets 1e-10 roots (Linalg.eigenvalues (JointMatrix.reduced 0.1 0.1 o)) "P_eff(a)"
            let c = Characteristic.leakyCoefficients 0.1 0.1 o
            for l in roots do
                Expect.isLessThan (Polynomial.evaluate c l).Magnitude 1e-14 "factored equation residual"
            let rng = Rng(3)
            let m, z, u, v = randomRankOne rng 50
            let o2 = Overlaps.OfVectors(m, z, u, v)
            let full = Linalg.eigenvalues (JointMatrix.full 0.1 0.1 (JointMatrix.rankOne u v) m z)
            let r4 = Characteristic.leakyRoots 0.1 0.1 o2
            let rest = full |> Array.filter (fun l -> (l - Complex(0.9, 0.0)).Magnitude > 1e-9)
            Expect.equal rest.Length 4 "48 eigenvalues equal 1 - a"
            matchSets 1e-10 r4 rest "four eigenvalues in the full spectrum"
            // a = Δ = 1: the quartic is λ χ(λ)
            let cq = Characteristic.leakyCoefficients 1.0 1.0 o
            let cc = Characteristic.coefficients o
            for i in 0 .. 3 do
                Expect.floatClose (accuracy 1e-14 0.0) cq.[i] cc.[i] "quartic = λ χ"
            Expect.floatClose (accuracy 1e-15 0.0) cq.[4] 0.0 "zero root"
        }
        test "non-finite overlaps and mismatched sizes are rejected" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Overlaps.Create(nan, 0.0, 0.0, 0.0) |> ignore) "NaN"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> JointMatrix.full 1.0 1.0 (Array2D.zeroCreate 3 3) [| 1.0; 2.0 |] [| 1.0; 2.0 |] |> ignore) "W size"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> JointMatrix.full 1.0 1.5 (Array2D.zeroCreate 2 2) [| 1.0; 2.0 |] [| 1.0; 2.0 |] |> ignore) "a > 1"
        }
    ]

let stage1Tests =
    testList "Stage1" [
        test "eigenvalues 1 ± sqrt(σzm) and verdicts (research table 13C)" {
            matchSets 1e-12 (Stage1.eigenvalues 0.04) [| Complex(1.2, 0.0); Complex(0.8, 0.0) |] "0.04"
            matchSets 1e-12 (Stage1.eigenvalues -0.04) [| Complex(1.0, 0.2); Complex(1.0, -0.2) |] "-0.04"
            matchSets 1e-12 (Stage1.eigenvalues -0.25) [| Complex(1.0, 0.5); Complex(1.0, -0.5) |] "-0.25"
            matchSets 1e-12 (Stage1.eigenvalues 0.25) [| Complex(1.5, 0.0); Complex(0.5, 0.0) |] "0.25"
            Expect.floatClose (accuracy 1e-12 0.0) (Stage1.growthFactor -0.04) 1.04 "|λ|²"
            Expect.equal (Stage1.verdict 0.1) Stage1Verdict.RealUnstable "+"
            Expect.equal (Stage1.verdict -0.1) Stage1Verdict.OscillatoryUnstable "-"
            Expect.equal (Stage1.verdict 0.0) Stage1Verdict.Marginal "0"
            // the stage-1 eigenvalues are those of P_eff with only σzm ≠ 0, and of the static gain (σzm, 0)
            for s in [ -0.3; -0.04; 0.04; 0.2 ] do
                matchSets 1e-8 (Linalg.eigenvalues (JointMatrix.peff (ov s 0.0 0.0 0.0))) (Array.append (Stage1.eigenvalues s) [| Complex.Zero; Complex.Zero |]) "P_eff"
                matchSets 1e-12 (StaticFeedback.eigenvalues 1.0 s 0.0) (Stage1.eigenvalues s) "static gain"
        }
        test "closed-form M^t equals the matrix power; simulated loss and geometric approximation (table 13C)" {
            for s in [ -0.05; 0.03 ] do
                let m = array2D [ [ 1.0; 1.0 ]; [ s; 1.0 ] ]
                let mp = Linalg.power m 17
                let cf = Stage1.transitionPower s 17
                for i in 0 .. 1 do
                    for j in 0 .. 1 do
                        Expect.floatClose (accuracy 1e-9 1e-12) cf.[i, j] mp.[i, j] "M^17"
            let cases = [ -0.05, 13720.1, 1370.76; -0.01, 3986.53, 86.59; 0.01, 9.435e9, 5.471e8; 0.05, 1.190e18, 5.083e17 ]
            for (s, sim, approx) in cases do
                relClose 1e-3 (Stage1.simulatedLoss s [| 1.0; -1.0 |] 100) sim (sprintf "simulated %g" s)
                relClose 1e-3 (Stage1.lossApproximation s 101) approx (sprintf "formula %g" s)
        }
        test "loss approximation captures the asymmetric log landscape of the simulated rollouts" {
            // both curves: sharper for positive σzm; log-scale agreement to within 1.5 nats for |σzm| ≥ 0.05,
            // and the same ordering everywhere on the Fig. 3 grid
            let grid = [| -0.5 .. 0.05 .. 0.3 |]
            let sim = grid |> Array.map (fun s -> log (Stage1.simulatedLoss s [| 1.0; -1.0 |] 100))
            let app = grid |> Array.map (fun s -> log (Stage1.lossApproximation s 101))
            for i in 0 .. grid.Length - 1 do
                if abs grid.[i] >= 0.05 then
                    Expect.isLessThan (abs (sim.[i] - app.[i]) / max 1.0 (abs sim.[i])) 0.35 (sprintf "relative log error at %g" grid.[i])
            let rankSim = grid |> Array.indexed |> Array.sortBy (fun (_, s) -> abs s) |> ignore
            ignore rankSim
            for s in [ 0.05; 0.1; 0.2 ] do
                Expect.isGreaterThan (Stage1.simulatedLoss s [| 1.0; -1.0 |] 100) (Stage1.simulatedLoss -s [| 1.0; -1.0 |] 100) "simulated asymmetry"
                Expect.isGreaterThan (Stage1.lossApproximation s 101) (Stage1.lossApproximation -s 101) "formula asymmetry"
        }
        test "exact expected training loss with only σzm active (table 13C): minimum at a small negative σzm" {
            relClose 1e-5 (Stage1.expectedLoss 0.0 2.0 50) 540.333 "0"
            relClose 1e-4 (Stage1.expectedLoss 0.01 2.0 50) 22249.7 "+0.01"
            relClose 1e-4 (Stage1.expectedLoss -0.01 2.0 50) 46.224 "-0.01"
            let grid = [| for i in 0 .. 1000 -> -0.1 + 0.1 * float i / 1000.0 |]
            let best = grid |> Array.minBy (fun s -> Stage1.expectedLoss s 2.0 50)
            Expect.floatClose (accuracy 2e-4 0.0) best -0.0417 "argmin"
            relClose 1e-3 (Stage1.expectedLoss best 2.0 50) 25.254 "min"
        }
    ]

let stage2Tests =
    testList "Stage2" [
        test "Eq. 11, Eq. 12 and the long-horizon estimate (research table 13D)" {
            let cases =
                [ ov -0.02 0.1 0.05 0.1, 0.106105, 1.008438, 0.106024, 1.008591
                  ov -0.02 0.3 -0.2 0.3, 0.207431, 1.185936, 0.182353, 1.233841
                  ov -0.3 0.5 0.5 0.6, 1.270214, 0.810887, 1.143478, 0.834499
                  ov -0.03 0.2 0.2 0.5, 1.171861, 0.473606, 0.642857, 0.836122 ]
            for (o, lr, m2, lr12, m212) in cases do
                let r = Characteristic.roots o
                Expect.floatClose (accuracy 1e-6 0.0) r.RealRoot lr "λ_r"
                Expect.floatClose (accuracy 1e-6 0.0) (Stage2.eq11 o r.RealRoot) m2 "Eq. 11 form 1"
                Expect.floatClose (accuracy 1e-6 0.0) (Stage2.eq11Alt o r.RealRoot) m2 "Eq. 11 form 2"
                Expect.floatClose (accuracy 1e-6 0.0) (Stage2.eq12 o) lr12 "Eq. 12"
                Expect.floatClose (accuracy 1e-6 0.0) (Stage2.modulusSquaredApprox o) m212 "Eq. 11 + 12"
        }
        test "surrogates L0 and L_inf (research table 13E); L0 closed form = numeric matrix power; n = 2 has no ε" {
            let o1 = ov -0.02 0.1 0.05 0.1
            let o2 = ov -0.3 0.5 0.5 0.6
            Expect.floatClose (accuracy 1e-6 0.0) (Stage2.l0 3 o1) 10.735050 "L0 o1"
            Expect.floatClose (accuracy 1e-6 0.0) (Stage2.lInfinity 10 o1) 1.089303 "Linf o1"
            Expect.floatClose (accuracy 1e-6 0.0) (Stage2.l0 3 o2) 8.025 "L0 o2"
            Expect.floatClose (accuracy 1e-6 0.0) (Stage2.lInfinity 10 o2) 0.163779 "Linf o2"
            let rng = Rng(5)
            for _ in 1 .. 20 do
                let o = Overlaps.OfArray(Array.init 4 (fun _ -> rng.NextGaussian() * 0.5))
                let p3 = Linalg.power (JointMatrix.peff o) 3
                let num = p3.[0, 0] ** 2.0 + p3.[0, 1] ** 2.0 + p3.[1, 0] ** 2.0 + p3.[1, 1] ** 2.0
                Expect.floatClose (accuracy 1e-12 1e-12) (Stage2.l0n3 o) num "closed form"
                Expect.floatClose (accuracy 1e-12 1e-12) (Stage2.l0 3 o) num "dual power"
                Expect.floatClose (accuracy 1e-12 1e-12) (Stage2.l0 2 o) (2.0 * (o.Szm * o.Szm + o.Szm + 3.0)) "n = 2"
        }
        test "exact gradients of L_alpha equal central differences" {
            let rng = Rng(9)
            for alpha in [ 0.0; 0.3; 1.0 ] do
                let s = { AlphaModelSettings.Default alpha with EarlyStep = 4 }
                let o = Overlaps.OfArray [| -0.03 + 0.01 * rng.NextGaussian(); 0.1 * rng.NextGaussian(); 0.1 * rng.NextGaussian(); 0.1 + 0.05 * rng.NextGaussian() |]
                let g = Stage2.gradient s o
                let x = o.ToArray()
                for i in 0 .. 3 do
                    let h = 1e-6
                    let f dx = Stage2.lAlpha s (Overlaps.OfArray(Array.mapi (fun j v -> if j = i then v + dx else v) x))
                    let fd = (f h - f -h) / (2.0 * h)
                    Expect.floatClose (accuracy 1e-7 1e-6) g.[i] fd (sprintf "alpha %g, d/d overlap %d" alpha i)
        }
        test "alpha-model from research table 13E2: alpha = 0 moves lambda_c up, alpha = 0.5 less, alpha = 1 collapses it" {
            let start = ov -0.016 0.01 -0.025 0.041
            let r0 = Characteristic.roots start
            Expect.floatClose (accuracy 2e-4 0.0) r0.ComplexPair.Value.Imaginary 0.1275 "start Im"
            Expect.floatClose (accuracy 2e-4 0.0) r0.RealRoot 0.04073 "start λ_r"
            let run alpha steps = Stage2.descend { AlphaModelSettings.Default alpha with Steps = steps } start
            let p0 = run 0.0 30
            Expect.floatClose (accuracy 2e-3 0.0) p0.[30].ComplexRoot.Value.Imaginary 0.21506 "alpha 0, 30 steps"
            Expect.floatClose (accuracy 2e-4 0.0) p0.[30].ComplexRoot.Value.Real 1.00013 "alpha 0 real part"
            let p5 = run 0.5 30
            Expect.floatClose (accuracy 2e-3 0.0) p5.[30].ComplexRoot.Value.Imaginary 0.16933 "alpha 0.5"
            let p1 = run 1.0 30
            Expect.isNone p1.[30].ComplexRoot "alpha 1: pair collapsed onto the real axis"
            // first step leaves Im λ_c unchanged near α* ≈ 0.538: sign change of dIm between 0.52 and 0.55
            let dIm alpha = let p = run alpha 1 in p.[1].ComplexRoot.Value.Imaginary - p.[0].ComplexRoot.Value.Imaginary
            Expect.isGreaterThan (dIm 0.52) 0.0 "0.52 moves up"
            Expect.isLessThan (dIm 0.55) 0.0 "0.55 moves down"
        }
    ]

let gainTests =
    testList "GainRecovery" [
        test "eigenvector form = eigenvalue form = research table 13G; A + Bk' reproduces lambda_c" {
            let cases = [ ov -0.02 0.1 0.05 0.1, (-0.014543, -0.006105); ov -0.02 0.3 -0.2 0.3, (-0.093367, 0.092569) ]
            for (o, (k1, k2)) in cases do
                let e1, e2 = GainRecovery.fromOverlaps 1.0 1.0 o
                let lc = (Characteristic.roots o).ComplexPair.Value
                let v1, v2 = GainRecovery.fromEigenvalues 1.0 lc
                Expect.floatClose (accuracy 1e-6 0.0) e1 k1 "k1 eigenvector"
                Expect.floatClose (accuracy 1e-6 0.0) e2 k2 "k2 eigenvector"
                Expect.floatClose (accuracy 1e-10 0.0) v1 e1 "k1 forms agree"
                Expect.floatClose (accuracy 1e-10 0.0) v2 e2 "k2 forms agree"
                matchSets 1e-9 (StaticFeedback.eigenvalues 1.0 e1 e2) [| lc; Complex.Conjugate lc |] "A + Bk' spectrum"
        }
        test "full-P eigenvector recovery (N = 100 rank-one) equals the P_eff recovery" {
            let rng = Rng(21)
            let mutable tested = 0
            for _ in 1 .. 10 do
                let m, z, u, v = randomRankOne rng 100
                let o = Overlaps.OfVectors(m, z, u, v)
                match (Characteristic.roots o).ComplexPair with
                | Some lc ->
                    let p = JointMatrix.full 1.0 1.0 (JointMatrix.rankOne u v) m z
                    let f1, f2 = GainRecovery.fromEigenvector p lc (fun h -> Array.fold2 (fun s zi hi -> s + zi * hi) Complex.Zero z h)
                    let r1, r2 = GainRecovery.fromOverlaps 1.0 1.0 o
                    Expect.floatClose (accuracy 1e-9 0.0) f1 r1 "k1"
                    Expect.floatClose (accuracy 1e-9 0.0) f2 r2 "k2"
                    tested <- tested + 1
                | None -> ()
            Expect.isGreaterThan tested 2 "enough complex cases"
        }
        test "least-squares effective gain (Eq. 6) recovers an exact static controller; collinear data is an error" {
            let rng = Rng(2)
            let x1 = Array.init 50 (fun _ -> rng.NextGaussian())
            let x2 = Array.init 50 (fun _ -> rng.NextGaussian())
            let u = Array.map2 (fun a b -> -0.4 * a - 1.1 * b) x1 x2
            let k1, k2 = GainRecovery.leastSquares x1 x2 u
            Expect.floatClose (accuracy 1e-12 0.0) k1 -0.4 "k1"
            Expect.floatClose (accuracy 1e-12 0.0) k2 -1.1 "k2"
            Expect.throwsT<NoSolutionException> (fun () -> GainRecovery.leastSquares x1 x1 u |> ignore) "collinear"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> GainRecovery.leastSquares [||] [||] [||] |> ignore) "empty"
        }
    ]

let theoryTests =
    testList "Theory" [ plantTests; feedbackTests; lqrTests; jointTests; stage1Tests; stage2Tests; gainTests ]

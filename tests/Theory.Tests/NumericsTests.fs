module Theory.Tests.NumericsTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Numerics
open Theory.Tests.TestUtil

let private f (g: float -> float) = Func<float, float> g

[<Tests>]
let tests =
    testList "Numerics" [
        testList "GaussianQuadrature" [
            test "trapezoid moments of N(0,1) are exact to 1e-14" {
                let r = GaussianQuadrature.Default
                Expect.floatClose (accuracy 1e-14 0.0) (Array.sum r.Weights) 1.0 "weights sum"
                Expect.floatClose (accuracy 1e-13 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z * z))) 1.0 "E z^2"
                Expect.floatClose (accuracy 1e-12 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 4.0))) 3.0 "E z^4"
                Expect.floatClose (accuracy 1e-11 0.0) (GaussianQuadrature.Expect(r, 2.0, f (fun z -> z ** 6.0))) (15.0 * 8.0) "E x^6, var 2"
            }
            test "Gauss-Hermite is exact for polynomials of degree <= 2n-1" {
                let r = GaussianQuadrature.Hermite 10
                Expect.floatClose (accuracy 1e-13 0.0) (Array.sum r.Weights) 1.0 "weights sum"
                Expect.floatClose (accuracy 0.0 1e-12) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 18.0))) 34459425.0 "E z^18 = 17!!"
                Expect.floatClose (accuracy 1e-14 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 7.0))) 0.0 "odd moment"
            }
            test "E[cos(a z)] = exp(-a^2/2) by both rules" {
                for a in [ 0.5; 1.0; 2.0 ] do
                    let exact = Math.Exp(-a * a / 2.0)
                    Expect.floatClose (accuracy 1e-14 0.0) (GaussianQuadrature.Expect(GaussianQuadrature.Default, 1.0, f (fun z -> cos (a * z)))) exact "trapezoid"
                    Expect.floatClose (accuracy 1e-12 0.0) (GaussianQuadrature.Expect(GaussianQuadrature.Hermite 60, 1.0, f (fun z -> cos (a * z)))) exact "Gauss-Hermite 60"
            }
            test "nested square: E[x1 x2] = cov for jointly Gaussian pairs" {
                let v = GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 0.7, 2.0, f id)
                Expect.floatClose (accuracy 1e-13 0.0) v 0.7 "E[ab] = cov"
                // E[cos a cos b] = e^{-var0} cosh(cov)
                let w = GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 0.3, 1.2, f cos)
                Expect.floatClose (accuracy 1e-13 0.0) w (Math.Exp(-1.2) * Math.Cosh 0.3) "E[cos a cos b]"
            }
            test "nested square rejects cov outside [0, var0]" {
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 1.5, 1.0, f id) |> ignore) "cov > var0"
            }
        ]
        testList "RootFinding" [
            test "Brent finds sqrt 2 and cos x = x" {
                match RootFinding.Brent(f (fun x -> x * x - 2.0), 0.0, 2.0) with
                | Ok r -> Expect.floatClose (accuracy 1e-14 0.0) r.Root (sqrt 2.0) "sqrt 2"
                | Error e -> failtestf "%O" e
                match RootFinding.Brent(f (fun x -> cos x - x), 0.0, 1.0) with
                | Ok r -> Expect.floatClose (accuracy 1e-14 0.0) r.Root 0.7390851332151607 "Dottie number"
                | Error e -> failtestf "%O" e
            }
            test "Brent returns a typed failure when no root is bracketed" {
                match RootFinding.Brent(f (fun x -> x * x + 1.0), -1.0, 1.0) with
                | Ok r -> failtestf "found a root %g of x^2+1" r.Root
                | Error e ->
                    Expect.equal e.Solver "Brent" "solver"
                    Expect.stringContains e.Reason "no sign change" "reason"
            }
            test "Bisection agrees with Brent" {
                let g = f (fun x -> x ** 3.0 - x - 1.0)
                match RootFinding.Bisection(g, 1.0, 2.0, 1e-13, 200), RootFinding.Brent(g, 1.0, 2.0) with
                | Ok a, Ok b -> Expect.floatClose (accuracy 1e-12 0.0) a.Root b.Root "plastic number"
                | _ -> failtest "did not converge"
            }
            testProperty "Brent solves x^3 = c for any c in [-100, 100]" <| fun (NormalFloat c0) ->
                let c = max -100.0 (min 100.0 c0)
                match RootFinding.Brent(f (fun x -> x * x * x - c), -5.0, 5.0) with
                | Ok r -> abs (r.Root - Math.Cbrt c) < 1e-12
                | Error _ -> false
        ]
        testList "Dual" [
            testProperty "d/dx tanh(x^2) sin x matches the closed form" <| fun (NormalFloat x0) ->
                let x = max -3.0 (min 3.0 x0)
                let d = Dual.Var x
                let y = Dual.Tanh(d * d) * Dual.Sin d
                let t = tanh (x * x)
                let exact = (1.0 - t * t) * 2.0 * x * sin x + t * cos x
                abs (y.Derivative - exact) < 1e-12
        ]
        testList "Rng" [
            test "same seed, same bits; different seeds differ" {
                let a = Rng(42).Gaussians 100
                let b = Rng(42).Gaussians 100
                let c = Rng(43).Gaussians 100
                Expect.sequenceEqual a b "same seed"
                Expect.isFalse (a = c) "different seed"
            }
            test "Gaussian deviates have mean 0 and variance 1 within 5 standard errors" {
                let n = 200000
                let xs = Rng(7).Gaussians n
                let m = Array.average xs
                let v = xs |> Array.averageBy (fun x -> (x - m) ** 2.0)
                Expect.isLessThan (abs m) (5.0 / sqrt (float n)) "mean"
                Expect.isLessThan (abs (v - 1.0)) (5.0 * sqrt (2.0 / float n)) "variance"
            }
            test "streams are reproducible and distinct" {
                Expect.equal (Rng.ForStream(1L, 3L).NextUInt64()) (Rng.ForStream(1L, 3L).NextUInt64()) "reproducible"
                Expect.notEqual (Rng.ForStream(1L, 3L).NextUInt64()) (Rng.ForStream(1L, 4L).NextUInt64()) "distinct"
            }
        ]
        testList "Validate" [
            test "messages name the parameter and the allowed range" {
                let e = Expect.throwsT<ParameterOutOfDomainException> (fun () -> Validate.NonNegative("g", -1.0) |> ignore) "negative g"
                ()
                try Validate.NonNegative("g", -1.0) |> ignore with :? ParameterOutOfDomainException as e ->
                    Expect.stringContains e.Message "g = -1" "names g"
                    Expect.stringContains e.Message ">= 0" "allowed range"
                e
            }
        ]
    ]

/// SCS stationary DMFT (research note dmft-learned.md §2.2–2.3, §7.1): theory against the reference table computed
/// independently with the trapezoid rule, against its own identities, and against known asymptotics.
module Theory.Tests.ScsTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Tests.TestUtil

// §7.1: g, Δ0, C(0), λ_max, κ, τ½ (tolerances of the note: Δ0 1e-4 rel; C(0), κ 1e-4; τ½ 1e-3; λ 1e-3, 5e-4 at g = 1.1)
let private reference =
    [ 1.1, 0.11106, 0.09201, 0.003712, 0.04928, 26.61
      2.5, 3.49534, 0.61419, 0.17614, 0.26395, 4.511
      4.0, 10.46747, 0.76236, 0.34147, 0.31054, 3.660
      5.0, 16.96405, 0.81075, 0.43370, 0.32348, 3.455 ]

let private solved = lazy (reference |> List.map (fun (g, _, _, _, _, _) -> g, ScsStationary.Solve g) |> dict)

[<Tests>]
let tests =
    testList "Scs" [
        testList "reference table §7.1" [
            for (g, d0, c0, lam, kappa, thalf) in reference do
                test (sprintf "g = %g" g) {
                    let s = solved.Value.[g]
                    relClose 1e-4 s.Delta0 d0 "Δ0"
                    Expect.floatClose (accuracy 1e-4 0.0) s.PhiVariance c0 "C(0)"
                    Expect.floatClose (accuracy 1e-4 0.0) s.TailRate kappa "κ"
                    Expect.floatClose (accuracy 0.0 1e-3) s.HalfTime.Value thalf "τ½ (table gives 4 digits: relative 1e-3)"
                    let l = ScsLyapunov.Solve s
                    Expect.floatClose (accuracy (if g < 1.2 then 5e-4 else 1e-3) 0.0) l.LambdaMax lam "λ_max"
                    Expect.isLessThan (abs l.ZeroModeEnergy) 1e-4 "zero-mode self-test |E1|"
                    Expect.isLessThan l.GroundEnergy 0.0 "E0 < 0 in the chaotic phase"
                }
        ]
        test "Δ0 near onset: Δ0/(g−1) = 1.0012, 1.0116, 1.0566 at g = 1.001, 1.01, 1.05 (±1e-4)" {
            for (g, r) in [ 1.001, 1.0012; 1.01, 1.0116; 1.05, 1.0566 ] do
                let d = (ScsStationary.SolveStationaryVariance g).Delta0
                Expect.floatClose (accuracy 1e-4 0.0) (d / (g - 1.0)) r (sprintf "g = %g" g)
        }
        test "quiescent phase g <= 1: Δ0 = 0, λ_max = g − 1" {
            for g in [ 0.0; 0.5; 0.9; 1.0 ] do
                let s = ScsStationary.Solve g
                Expect.equal s.Delta0 0.0 "Δ0"
                Expect.isFalse s.IsChaotic "not chaotic"
                Expect.floatClose (accuracy 1e-14 0.0) (ScsLyapunov.Solve s).LambdaMax (g - 1.0) "λ = g − 1"
        }
        test "energy conservation holds along the solution: ½Δ′² + V(Δ) = V(Δ0)" {
            let s = solved.Value.[2.5]
            let rule = s.Settings.Rule
            let v0 = ScsStationary.Potential(rule, s.G, s.Delta0, s.Delta0)
            for tau in [ 0.5; 1.5; 3.0; 6.0; 12.0 ] do
                let h = 1e-3
                let d = ScsStationary.Autocorrelation(s, tau)
                let dp = (ScsStationary.Autocorrelation(s, tau + h) - ScsStationary.Autocorrelation(s, tau - h)) / (2.0 * h)
                let e = 0.5 * dp * dp + ScsStationary.Potential(rule, s.G, d, s.Delta0)
                Expect.floatClose (accuracy 2e-5 0.0) e v0 (sprintf "energy at τ = %g" tau)
        }
        test "Δ(τ) obeys the equation of motion Δ″ = Δ − g² C_φ(Δ)" {
            let s = solved.Value.[2.5]
            for tau in [ 1.0; 2.0; 4.0; 8.0 ] do
                let h = 1e-2
                let a i = ScsStationary.Autocorrelation(s, tau + float i * h)
                let dpp = (a 1 - 2.0 * a 0 + a -1) / (h * h)
                let rhs = a 0 - s.G * s.G * ScsStationary.PhiAutocorrelation(s, tau)
                Expect.floatClose (accuracy 2e-4 0.0) dpp rhs (sprintf "τ = %g" tau)
        }
        test "Δ(τ) is even, starts at Δ0 and decays to zero; C_φ(0) = ⟨tanh²⟩" {
            let s = solved.Value.[2.5]
            Expect.floatClose (accuracy 1e-12 0.0) (ScsStationary.Autocorrelation(s, 0.0)) s.Delta0 "Δ(0)"
            Expect.equal (ScsStationary.Autocorrelation(s, -3.0)) (ScsStationary.Autocorrelation(s, 3.0)) "even"
            Expect.isLessThan (ScsStationary.Autocorrelation(s, 100.0)) 1e-8 "decays"
            Expect.floatClose (accuracy 1e-10 0.0) (ScsStationary.PhiAutocorrelation(s, 0.0)) s.PhiVariance "C_φ(0)"
        }
        test "Gauss-Hermite and trapezoid agree on Δ0 at g = 2 (quadrature convergence)" {
            let a = ScsStationary.TrySolveStationaryVariance(2.0, GaussianQuadrature.Hermite 81)
            let b = ScsStationary.TrySolveStationaryVariance(2.0, GaussianQuadrature.Trapezoid(0.07, 10.0))
            match a, b with
            | Ok a, Ok b -> relClose 1e-6 a.Delta0 b.Delta0 "Δ0 (81-node Gauss–Hermite is adequate for g ≤ 2.5, §6.1)"
            | _ -> failtest "did not converge"
        }
        testProperty "Δ0 solves the energy condition Δ0²/2 = g² Var[ln cosh] for g in (1, 4]" <| fun (NormalFloat u) ->
            let g = 1.05 + 2.95 * (abs (sin u))
            let d0 = (ScsStationary.SolveStationaryVariance g).Delta0
            let rule = GaussianQuadrature.Default
            let m = GaussianQuadrature.Expect(rule, d0, Func<float, float>(ScsStationary.LogCosh))
            let v = GaussianQuadrature.Expect(rule, d0, Func<float, float>(fun x -> (ScsStationary.LogCosh x - m) ** 2.0))
            abs (d0 * d0 / 2.0 - g * g * v) < 1e-12 * max 1.0 (d0 * d0)
        testProperty "ln cosh matches log(cosh x) where the latter is accurate" <| fun (NormalFloat x) ->
            let x = max -300.0 (min 300.0 x)
            let reference = if abs x < 20.0 then Math.Log(Math.Cosh x) else abs x - Math.Log 2.0
            abs (ScsStationary.LogCosh x - reference) <= 1e-14 * max 1.0 (abs reference)
        test "bad input: negative and non-finite g are rejected with the allowed range" {
            for g in [ -0.1; nan; infinity ] do
                let e = Expect.throwsT<ParameterOutOfDomainException> (fun () -> ScsStationary.Solve g |> ignore) "rejected"
                ignore e
        }
    ]

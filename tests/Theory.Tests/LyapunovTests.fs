/// The one Benettin driver (Theory.Core.Dynamics.Benettin) on systems with known exponents.
module Theory.Tests.LyapunovTests

open System
open Expecto
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dynamics
open Theory.Tests.TestUtil

/// v ↦ A v for every tangent vector (row-major n×n A); the state plays no role in a linear map.
type private LinearMap(a: float[], n: int) =
    let tmp = Array.zeroCreate n
    interface ITangentMap with
        member _.Dimension = n
        member _.Step(_, tangents, vectors) =
            for j in 0 .. vectors - 1 do
                for r in 0 .. n - 1 do
                    let mutable s = 0.0
                    for c in 0 .. n - 1 do s <- s + a.[r * n + c] * tangents.[j * n + c]
                    tmp.[r] <- s
                Array.blit tmp 0 tangents (j * n) n

/// One classical RK4 step of the variational equation v̇ = A v (the flow ẋ = A x is linear, so the tangent is the
/// state); the exact per-step propagator is R(hA) with R(z) = 1 + z + z²/2 + z³/6 + z⁴/24.
type private LinearFlowRk4(a: float[], n: int, h: float) =
    let k1, k2, k3, k4, y = Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n, Array.zeroCreate n
    let apply (x: float[]) (dst: float[]) =
        for r in 0 .. n - 1 do
            let mutable s = 0.0
            for c in 0 .. n - 1 do s <- s + a.[r * n + c] * x.[c]
            dst.[r] <- s
    interface ITangentMap with
        member _.Dimension = n
        member _.Step(_, tangents, vectors) =
            for j in 0 .. vectors - 1 do
                let o = j * n
                for i in 0 .. n - 1 do y.[i] <- tangents.[o + i]
                apply y k1
                for i in 0 .. n - 1 do y.[i] <- tangents.[o + i] + 0.5 * h * k1.[i]
                apply y k2
                for i in 0 .. n - 1 do y.[i] <- tangents.[o + i] + 0.5 * h * k2.[i]
                apply y k3
                for i in 0 .. n - 1 do y.[i] <- tangents.[o + i] + h * k3.[i]
                apply y k4
                for i in 0 .. n - 1 do
                    tangents.[o + i] <- tangents.[o + i] + h / 6.0 * (k1.[i] + 2.0 * k2.[i] + 2.0 * k3.[i] + k4.[i])

/// The logistic map x ↦ 4x(1 − x), tangent v ↦ 4(1 − 2x) v; remembers x after step `mark`.
type private Logistic(x0: float, mark: int) =
    let mutable x = x0
    let mutable marked = nan
    member _.X = x
    member _.Marked = marked
    interface ITangentMap with
        member _.Dimension = 1
        member _.Step(k, tangents, vectors) =
            if vectors > 0 then tangents.[0] <- 4.0 * (1.0 - 2.0 * x) * tangents.[0]
            x <- 4.0 * x * (1.0 - x)
            if k = mark then marked <- x

/// The Hénon map (x, y) ↦ (1 − a x² + y, b x), Jacobian [[−2a x, 1], [b, 0]] (determinant −b everywhere).
type private Henon(a: float, b: float, x0: float, y0: float) =
    let mutable x = x0
    let mutable y = y0
    interface ITangentMap with
        member _.Dimension = 2
        member _.Step(_, t, vectors) =
            for j in 0 .. vectors - 1 do
                let u, w = t.[2 * j], t.[2 * j + 1]
                t.[2 * j] <- -2.0 * a * x * u + w
                t.[2 * j + 1] <- b * u
            let xn = 1.0 - a * x * x + y
            y <- b * x
            x <- xn

let private mat (rows: float list list) = Matrix<float>.Build.DenseOfArray(array2D rows)

/// A = S B S⁻¹ with B = diag(2, 1.2·R(0.7), 0.5) (eigenvalue moduli 2, 1.2, 1.2, 0.5: a complex pair) and a fixed
/// non-normal S; returns A row-major and the condition number κ(S).
let private knownLinearMap () =
    let c, s = 1.2 * cos 0.7, 1.2 * sin 0.7
    let b = mat [ [ 2.0; 0.0; 0.0; 0.0 ]; [ 0.0; c; -s; 0.0 ]; [ 0.0; s; c; 0.0 ]; [ 0.0; 0.0; 0.0; 0.5 ] ]
    let sm = mat [ [ 1.0; 0.4; -0.3; 0.2 ]; [ 0.1; 1.0; 0.5; -0.2 ]; [ 0.0; -0.3; 1.0; 0.4 ]; [ 0.2; 0.0; 0.1; 1.0 ] ]
    let a = sm * b * sm.Inverse()
    Array.init 16 (fun i -> a.[i / 4, i % 4]), sm.ConditionNumber()

let private identityTangents n vectors = Array.init (vectors * n) (fun i -> if i % n = i / n then 1.0 else 0.0)

/// Per-step growth exp(c_k) of a 1-d tangent, c_k = 1 before `switchAt`, 0.25 from it on; counts state-only calls.
type private Switching(switchAt: int) =
    let mutable stateOnly = 0
    let mutable calls = 0
    member _.StateOnly = stateOnly
    member _.Calls = calls
    interface ITangentMap with
        member _.Dimension = 1
        member _.Step(k, t, vectors) =
            calls <- calls + 1
            if vectors = 0 then stateOnly <- stateOnly + 1
            else t.[0] <- t.[0] * Math.Exp(if k < switchAt then 1.0 else 0.25)

[<Tests>]
let tests =
    testList "Lyapunov" [
        test "linear map with eigenvalue moduli 2, 1.2, 1.2 (complex pair), 0.5: largest exponent and full spectrum" {
            let a, kappa = knownLinearMap ()
            let m = 5000
            let schedule = BenettinSchedule(0, 200, m, 5, 1.0)
            let largest = Benettin.Largest(LinearMap(a, 4), [| 1.0; 1.0; 1.0; 1.0 |], schedule)
            // Once aligned with the top eigenvector (residual (1.2/2)^200 ≈ 1e-44), every interval grows by exactly
            // 2^5: the estimate is ln 2 up to the rounding of 1000 logarithms (≈ 1e-15 each).
            Expect.floatClose (accuracy 1e-11 0.0) largest.Exponent (log 2.0) "largest = ln 2"
            Expect.equal largest.Intervals (m / 5) "intervals"
            let sp = Benettin.Spectrum(LinearMap(a, 4), identityTangents 4 4, 4, schedule)
            let l = sp.Exponents
            // Exact to rounding: λ1 (top eigenvector), λ1+λ2+λ3 (3-volume inside the invariant subspace of the
            // moduli 2, 1.2, 1.2 scales by exactly 2·1.2² per step) and Σλ = ln|det A| (n-volume).
            Expect.floatClose (accuracy 1e-11 0.0) l.[0] (log 2.0) "λ1"
            Expect.floatClose (accuracy 1e-11 0.0) (l.[0] + l.[1] + l.[2]) (log (2.0 * 1.44)) "λ1 + λ2 + λ3"
            Expect.floatClose (accuracy 1e-11 0.0) l.[3] (log 0.5) "λ4"
            Expect.floatClose (accuracy 1e-11 0.0) (Array.sum l) (log (2.0 * 1.44 * 0.5)) "Σλ = ln |det A|"
            // λ2 and λ3 split the complex pair's growth between two vectors of a rotating plane: the area of
            // span(v1, v2) grows by exactly 2·1.2 per step in eigen-coordinates, and the change of coordinates S distorts
            // areas by at most κ(S)², so |λ2 − ln 1.2| ≤ 2 ln κ(S) / M (M = 5000 steps).
            let tol = 2.0 * log kappa / float m
            Expect.floatClose (accuracy (tol + 1e-11) 0.0) l.[1] (log 1.2) (sprintf "λ2 (bound %.2g)" tol)
            Expect.floatClose (accuracy (tol + 1e-11) 0.0) l.[2] (log 1.2) (sprintf "λ3 (bound %.2g)" tol)
        }
        test "logistic map at r = 4: λ = ln 2, and the finite-time estimate equals its telescoped exact value" {
            // ln|4(1 − 2x_k)| = ln 2 + ½ ln(x_{k+2}/x_{k+1}) is an algebraic identity of x ↦ 4x(1 − x), so over the
            // M measured steps T … T+M−1: λ̂ = ln 2 + ½ ln(x_{T+M+1}/x_{T+1}) / M exactly. In floating point each step's
            // identity holds to ≈ ε/(1 − x_{k+1}); over 1e5 steps min(1 − x) ≈ 1e−10, so the sum is off by ≲ 1e−5 and
            // λ̂ by ≲ 1e−10: tolerance 1e−9. And |½ ln(x_end/x_start)| ≤ ½ ln(1e10) ≈ 12 so |λ̂ − ln 2| ≤ 1.2e−4 ≤ 1e−3.
            let m, r, align = 100000, 10, 50
            let map = Logistic(0.3141592653589793, align)
            let est = Benettin.Largest(map, [| 1.0 |], BenettinSchedule(0, align, m, r, 1.0))
            let xEnd = map.X
            let telescoped = log 2.0 + 0.5 * log ((4.0 * xEnd * (1.0 - xEnd)) / map.Marked) / float m
            Expect.floatClose (accuracy 1e-9 0.0) est.Exponent telescoped "λ̂ = telescoped finite-time value"
            Expect.floatClose (accuracy 1e-3 0.0) est.Exponent (log 2.0) "λ = ln 2"
        }
        test "Hénon map (a = 1.4, b = 0.3): λ1 ≈ 0.4192 and λ1 + λ2 = ln b" {
            // λ1 = 0.41922 (Sprott, Chaos and Time-Series Analysis, 2003). Over 1e6 steps the block standard error is
            // ≈ 4e−4 (measured over six starts: 0.4189 … 0.4200); tolerance 3e−3 ≈ 7 s.e. λ1 + λ2 is the area
            // contraction ln|det J| = ln b at every step: exact to rounding.
            let sp = Benettin.Spectrum(Henon(1.4, 0.3, 0.1, 0.1), identityTangents 2 2, 2, BenettinSchedule(1000, 1000, 1000000, 10, 1.0))
            Expect.floatClose (accuracy 3e-3 0.0) sp.Exponents.[0] 0.41922 "λ1"
            Expect.floatClose (accuracy 1e-10 0.0) (sp.Exponents.[0] + sp.Exponents.[1]) (log 0.3) "λ1 + λ2 = ln b"
            let l1 = Benettin.Largest(Henon(1.4, 0.3, 0.1, 0.1), [| 1.0; 0.0 |], BenettinSchedule(1000, 1000, 1000000, 10, 1.0))
            Expect.floatClose (accuracy 1e-12 0.0) l1.Exponent sp.Exponents.[0] "one vector = first vector of the QR"
            Expect.isLessThan l1.StandardError 3e-3 "block standard error resolves λ1"
        }
        test "linear ODE by RK4: largest exponent = the propagator's exact rate ≈ the top real part, Σλ = tr A" {
            // A = S diag(−0.2, [−0.5 ± 3i], −1.5) S⁻¹ (real top eigenvalue, gap 0.3). One RK4 step is the linear map
            // R(hA), whose exact rates are ln|R(hμ)|/h; they differ from Re μ by ≈ h⁴|μ|⁵/120 ≤ 3e−8 at h = 0.01.
            // After 100 time units of alignment the subdominant residual is e^(−0.3·100) ≈ 1e−13, so the largest
            // exponent equals ln|R(−0.2h)|/h to rounding (tolerance 1e−10); the volume grows by |det R(hA)| per step
            // exactly, so Σλ = Σ ln|R(hμ)|/h to rounding, and ≈ tr A = −2.7 to 1e−7.
            let h = 0.01
            let bm = mat [ [ -0.2; 0.0; 0.0; 0.0 ]; [ 0.0; -0.5; -3.0; 0.0 ]; [ 0.0; 3.0; -0.5; 0.0 ]; [ 0.0; 0.0; 0.0; -1.5 ] ]
            let sm = mat [ [ 1.0; 0.2; 0.0; -0.3 ]; [ 0.3; 1.0; 0.2; 0.0 ]; [ 0.0; 0.1; 1.0; 0.3 ]; [ -0.2; 0.0; 0.4; 1.0 ] ]
            let am = sm * bm * sm.Inverse()
            let a = Array.init 16 (fun i -> am.[i / 4, i % 4])
            let rate (mu: System.Numerics.Complex) =
                let z = mu * System.Numerics.Complex(h, 0.0)
                System.Numerics.Complex.Log(1.0 + z + z * z / 2.0 + z * z * z / 6.0 + z * z * z * z / 24.0).Real / h
            let mus = [ System.Numerics.Complex(-0.2, 0.0); System.Numerics.Complex(-0.5, 3.0); System.Numerics.Complex(-0.5, -3.0); System.Numerics.Complex(-1.5, 0.0) ]
            let schedule = BenettinSchedule(0, 10000, 10000, 100, h)
            let est = Benettin.Largest(LinearFlowRk4(a, 4, h), [| 1.0; -1.0; 0.5; 0.25 |], schedule)
            Expect.floatClose (accuracy 1e-10 0.0) est.Exponent (rate mus.[0]) "largest = exact rate of the RK4 propagator"
            Expect.floatClose (accuracy 1e-7 0.0) est.Exponent -0.2 "largest ≈ top real part"
            let sp = Benettin.Spectrum(LinearFlowRk4(a, 4, h), identityTangents 4 4, 4, schedule)
            Expect.floatClose (accuracy 1e-10 0.0) (Array.sum sp.Exponents) (mus |> List.sumBy rate) "Σλ = ln|det R(hA)|/h"
            Expect.floatClose (accuracy 1e-7 0.0) (Array.sum sp.Exponents) (am.Trace()) "Σλ ≈ tr A"
        }
        test "schedule: state-only prefix untouched, measured intervals tile the measurement from its start" {
            // Growth e^1 per step before step 10 (state-only 3 + alignment 7), e^0.25 after: an interval straddling
            // the end of the alignment would bias λ̂ upward; the measured λ̂ is 0.25 per step, / 0.5 time units.
            let map = Switching(10)
            let est = Benettin.Largest(map, [| 1.0 |], BenettinSchedule(3, 7, 13, 4, 0.5))
            Expect.equal map.StateOnly 3 "state-only steps"
            Expect.equal map.Calls 23 "all steps run, the trailing partial interval included"
            Expect.equal est.Intervals 3 "⌊13/4⌋ complete intervals"
            Expect.floatClose (accuracy 1e-14 0.0) est.Exponent 0.5 "0.25 per step = 0.5 per time unit"
            Expect.floatClose (accuracy 1e-14 0.0) est.StandardError 0.0 "constant growth: zero spread"
        }
        test "a collapsing tangent contributes the documented floor ln 1e−300 and is reset (no NaN)" {
            let zero = { new ITangentMap with
                           member _.Dimension = 3
                           member _.Step(_, t, vectors) = for i in 0 .. 3 * vectors - 1 do t.[i] <- 0.0 }
            let est = Benettin.Largest(zero, [| 1.0; 2.0; 3.0 |], BenettinSchedule(0, 2, 10, 2, 1.0))
            Expect.floatClose (accuracy 1e-12 0.0) est.Exponent (log 1e-300 / 2.0) "floor per interval"
            let sp = Benettin.Spectrum(zero, identityTangents 3 3, 3, BenettinSchedule(0, 2, 10, 2, 1.0))
            Expect.all sp.Exponents (fun l -> abs (l - log 1e-300 / 2.0) < 1e-9) "every vector floored, none NaN"
        }
        test "same seed, same bits; another seed, other bits (random map and random initial tangents)" {
            let run (seed: int64) =
                let rng = Rng.ForStream(seed, 0L)
                let n = 12
                let a = rng.Gaussians(n * n) |> Array.map (fun z -> 1.3 * z / sqrt (float n))
                let v0 = Rng.ForStream(seed, 1L).Gaussians(3 * n)
                Benettin.Spectrum(LinearMap(a, n), v0, 3, BenettinSchedule(5, 50, 400, 3, 0.1))
            let bits (s: LyapunovSpectrum) = Array.append s.Exponents s.StandardErrors |> Array.map BitConverter.DoubleToInt64Bits
            Expect.equal (bits (run 7L)) (bits (run 7L)) "same seed, same bits"
            Expect.notEqual (bits (run 7L)) (bits (run 8L)) "another seed, another map"
        }
        test "bad input: steps and renormalisation interval > 0, at least one interval, valid initial tangents" {
            let bad name (f: unit -> obj) =
                try
                    f () |> ignore
                    failtestf "%s: no ParameterOutOfDomainException" name
                with :? ParameterOutOfDomainException as e -> Expect.stringContains e.Message name "names the parameter"
            bad "measuredSteps" (fun () -> box (BenettinSchedule(0, 10, 0, 1, 1.0)))
            bad "renormaliseEvery" (fun () -> box (BenettinSchedule(0, 10, 100, 0, 1.0)))
            bad "renormaliseEvery" (fun () -> box (BenettinSchedule(0, 10, 100, -3, 1.0)))
            bad "measuredSteps" (fun () -> box (BenettinSchedule(0, 10, 5, 10, 1.0)))
            bad "alignmentSteps" (fun () -> box (BenettinSchedule(0, -1, 100, 1, 1.0)))
            bad "stateOnlySteps" (fun () -> box (BenettinSchedule(-1, 0, 100, 1, 1.0)))
            bad "stepDuration" (fun () -> box (BenettinSchedule(0, 0, 100, 1, 0.0)))
            bad "blocks" (fun () -> box (BenettinSchedule(0, 0, 100, 1, 1.0, 0)))
            let s = BenettinSchedule(0, 0, 10, 1, 1.0)
            let a, _ = knownLinearMap ()
            bad "initialTangents" (fun () -> box (Benettin.Largest(LinearMap(a, 4), [| 0.0; 0.0; 0.0; 0.0 |], s)))
            bad "initialTangents" (fun () -> box (Benettin.Largest(LinearMap(a, 4), [| 1.0; 0.0 |], s)))
            bad "initialTangents" (fun () -> box (Benettin.Largest(LinearMap(a, 4), [| nan; 0.0; 0.0; 1.0 |], s)))
            bad "initialTangents" (fun () -> box (Benettin.Spectrum(LinearMap(a, 4), Array.append [| 1.0; 0.0; 0.0; 0.0 |] [| 2.0; 0.0; 0.0; 0.0 |], 2, s)))
            bad "vectors" (fun () -> box (Benettin.Spectrum(LinearMap(a, 4), Array.zeroCreate 20, 5, s)))
            bad "vectors" (fun () -> box (Benettin.Spectrum(LinearMap(a, 4), Array.zeroCreate 0, 0, s)))
        }
    ]

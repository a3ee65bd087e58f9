module Theory.Tests.DmftLinearTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Dmft
open Theory.Tests.TestUtil

/// Map an arbitrary float into [lo, hi] (for FsCheck properties).
let private into lo hi (x: float) =
    let u = if Double.IsFinite x then abs x % 1.0 else 0.5
    lo + (hi - lo) * u

let private ok (r: Result<float, NoStationarySolution>) =
    match r with
    | Ok v -> v
    | Error e -> failtestf "unexpected no-solution: %s" e.Message

// Note §7.3: (g, γ, Cᴵ, Cʸ, ω, C(ω), C₀, first order, fixed-U), exact to the digits shown.
let private table73 =
    [ 0.5, 0.0, 1.0, 1.0, 0.0, 1.3333333, 1.33333, 1.33333, Some 1.33333
      0.5, 0.1, 1.0, 1.0, 0.0, 1.3509951, 1.33333, 1.35111, Some 1.34113
      0.5, 1.0, 1.0, 1.0, 0.0, 2.7171403, 1.33333, 3.11111, Some 2.27273
      0.5, 1.0, 1.0, 1.0, 1.0, 1.3333333, 0.571429, 1.87755, Some 0.925926
      0.8, 0.5, 1.0, 0.5, 0.5, 2.1785566, 1.63934, 2.16424, Some 2.08733
      0.9, 1.0, 0.3, 0.05, sqrt 0.2, 1.3958529, 0.769231, 1.2426, Some 1.37704
      0.95, 0.2, 1.0, 0.2, 0.0, 11.157539, 10.2564, 11.098, Some 11.1502
      0.0, 2.0, 1.0, 1.0, 1.0, 1.6861407, 0.5, 4.5, None ]

/// Digits shown in the table → relative tolerance (half a unit in the last shown digit, relative).
let private shownTol (x: float) (digits: int) = 0.5 * 10.0 ** (floor (log10 (abs x)) - float (digits - 1)) / abs x

let private closedFormTests =
    testList "ClosedForm" [
        test "reference table §7.3: C(ω), C₀, first order, fixed-U" {
            for (g, gamma, cI, cy, w, c, c0, first, fixedU) in table73 do
                let r = cy / cI
                let a = 1.0 + w * w
                relClose (shownTol c 8) (cI * LinearSpectrum.ratio (g, gamma, w, r)) c (sprintf "C g=%g γ=%g ω=%g" g gamma w)
                relClose (shownTol c0 6) (cI * LinearSpectrum.ratio (g, 0.0, w, r)) c0 "C0"
                relClose (shownTol first 5) (cI * LinearSpectrum.firstOrderRatioTransfer (g, gamma, a, r)) first "first order"
                match fixedU with
                | Some fu -> relClose (shownTol fu 6) (cI * LinearSpectrum.fixedInputRatio (g, gamma, w, r)) fu "fixed-U"
                | None -> ()
        }
        test "hand-checkable row g=0.5, γ=1, ω=1, R=1 is 4/3" {
            relClose 1e-15 (LinearSpectrum.ratio (0.5, 1.0, 1.0, 1.0)) (4.0 / 3.0) "4.5/3.375"
        }
        test "critical γ_c values of §7.3 and the pole/no-solution transition" {
            relClose 1e-6 (LinearSpectrum.gammaCritical (0.5, 0.0, 1.0)) 3.464102 "γc(0.5, ω=0)"
            relClose 1e-6 (LinearSpectrum.gammaCritical (0.9, 0.0, 1.0)) 0.538136 "γc(0.9, ω=0)"
            relClose 1e-6 (LinearSpectrum.gammaCritical (0.5, 1.0, 1.0)) 5.291503 "γc(0.5, ω=1)"
            let gc = LinearSpectrum.gammaCritical (0.9, 0.0, 1.0)
            // Below the pole: finite, positive and growing without bound as γ ↑ γ_c.
            let below = [ 0.9; 0.99; 0.999 ] |> List.map (fun f -> ok (LinearSpectrum.tryRatio (0.9, f * gc, 0.0, 1.0)))
            Expect.isTrue (below |> List.pairwise |> List.forall (fun (x, y) -> y > 5.0 * x)) "diverges at the pole"
            match LinearSpectrum.tryRatio (0.9, 1.001 * gc, 0.0, 1.0) with
            | Ok v -> failtestf "expected no solution, got %g" v
            | Error e ->
                Expect.isLessThanOrEqual e.D 0.0 "D ≤ 0"
                Expect.equal e.Omega 0.0 "names ω"
            let ex = Expect.throwsT<NoSolutionException> (fun () -> LinearSpectrum.ratio (0.9, 1.0, 0.0, 1.0) |> ignore)
            ignore ex
            try
                LinearSpectrum.ratio (0.9, 1.0, 0.25, 1.0) |> ignore
                failtest "no exception"
            with :? NoSolutionException as e ->
                Expect.stringContains e.Message "ω = 0.25" "message names ω"
                Expect.stringContains e.Message "D(ω) = 1+ω²−g²−γ²g⁴R > 0" "message names the condition"
        }
        test "γ = 0 with g ≥ √(1+ω²) has no solution (random network unstable)" {
            Expect.throwsT<NoSolutionException> (fun () -> LinearSpectrum.ratio (1.2, 0.0, 0.5, 0.0) |> ignore) "g > 1"
        }
        test "out-of-domain parameters are rejected with ParameterOutOfDomainException" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.ratio (-0.1, 1.0, 0.0, 1.0) |> ignore) "g < 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.ratio (0.5, -1.0, 0.0, 1.0) |> ignore) "γ < 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.ratio (0.5, 1.0, nan, 1.0) |> ignore) "ω NaN"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.ratio (0.5, 1.0, 0.0, -1.0) |> ignore) "R < 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.value (0.5, 1.0, 0.0, 0.0, 1.0) |> ignore) "CI = 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSpectrum.fixedInputRatio (0.0, 1.0, 0.0, 1.0) |> ignore) "fixed U needs g > 0"
        }
        test "γ → 0 recovers the random-network spectrum; first-order coefficient" {
            for (g, w, r) in [ 0.5, 0.0, 1.0; 0.9, 0.7, 0.3; 0.2, 2.0, 5.0 ] do
                let a = 1.0 + w * w
                let c0 = 1.0 / (a - g * g)
                relClose 1e-15 (LinearSpectrum.ratio (g, 0.0, w, r)) c0 "γ=0 exact"
                let gamma = 1e-4
                let slope = (LinearSpectrum.ratio (g, gamma, w, r) - c0) / (gamma * gamma)
                relClose 1e-6 slope (r * a * a / ((a - g * g) ** 2.0)) "dC/dγ² at 0"
        }
        test "g = 0 closed form and large-γ asymptote γ√(Cᴵ Cʸ/(1+ω²))" {
            for (gamma, w, r) in [ 0.5, 0.3, 2.0; 3.0, 1.0, 0.1 ] do
                let a = 1.0 + w * w
                relClose 1e-14 (LinearSpectrum.ratio (0.0, gamma, w, r)) ((1.0 + sqrt (1.0 + 4.0 * gamma * gamma * a * r)) / (2.0 * a)) "g=0"
            let big = 1e6
            relClose 1e-5 (LinearSpectrum.ratio (0.0, big, 1.0, 0.5)) (big * sqrt (0.5 / 2.0)) "γ→∞ at g=0"
        }
        test "per-mode reference cases of §7.4" {
            for (g, gamma, cI, cy, a, expected) in
                [ 0.5, 1.0, 0.5, 2.0, 1.0, 3.5615528
                  1.5, 0.3, 0.3, 1.0, 4.0, 3.0864771
                  0.9, 1.0, 0.3, 0.05, 1.2, 1.3958529
                  0.9, 3.0, 0.3, 0.01, 1.2, 2.3668659 ] do
                relClose 1e-7 (cI * LinearSpectrum.ratioTransfer (g, gamma, a, cy / cI)) expected (sprintf "case g=%g γ=%g" g gamma)
        }
        test "whole spectrum from arrays and functions; no-solution names the first bad frequency" {
            let ws = [| -2.0; -1.0; 0.0; 1.0; 2.0 |]
            let cI = ws |> Array.map (fun w -> 1.0 / (1.0 + w * w) + 0.1)
            let cy = ws |> Array.map (fun w -> LinearKernels.peakedTarget (1.0, 0.2, 1.0, 0.0, w))
            let s = LinearSpectrum.spectrum (0.5, 1.0, ws, cI, cy)
            let s2 = LinearSpectrum.spectrumOf (0.5, 1.0, ws, Func<_, _>(fun w -> 1.0 / (1.0 + w * w) + 0.1), Func<_, _>(fun w -> LinearKernels.peakedTarget (1.0, 0.2, 1.0, 0.0, w)))
            for k in 0 .. ws.Length - 1 do
                relClose 1e-15 s.[k] (cI.[k] * LinearSpectrum.ratio (0.5, 1.0, ws.[k], cy.[k] / cI.[k])) "array"
                relClose 1e-15 s2.[k] s.[k] "function"
            Expect.isGreaterThan (s.[3] / cI.[3]) (s.[2] / cI.[2]) "C/CI at ω0 above ω = 0"
            try
                LinearSpectrum.spectrum (0.9, 3.0, ws, cI, cy) |> ignore
                failtest "expected NoSolutionException"
            with :? NoSolutionException as e -> Expect.stringContains e.Message "ω = -1" "first failing frequency"
        }
        testProperty "the closed form zeroes the per-frequency quadratic and (★) (u tilted)" <| fun (NormalFloat x1) (NormalFloat x2) (NormalFloat x3) (NormalFloat x4) (NormalFloat x5) ->
            let g = into 0.0 2.0 x1
            let gamma = into 0.0 3.0 x2
            let w = into -5.0 5.0 x3
            let r = into 0.0 5.0 x4
            let cI = into 0.01 10.0 x5
            let a = 1.0 + w * w
            match LinearSpectrum.tryRatio (g, gamma, w, r) with
            | Error e -> LinearSpectrum.domain (g, gamma, w, r) <= 0.0 && e.D <= 0.0
            | Ok x ->
                let c = cI * x
                let scale = 1.0 + x * x * (a + g * g + gamma * gamma * g ** 4.0 * r) + x * (1.0 + 2.0 * gamma * gamma * g * g * r) + gamma * gamma * r
                let q = abs (LinearSpectrum.quadraticResidual (g, gamma, a, r, x)) / scale
                let starScale = c + gamma * gamma * r * cI + c * c * a / (g * g * c + cI)
                let star = abs (LinearSpectrum.starResidual (g, gamma, a, cI, r * cI, c)) / starScale
                x > 0.0 && q < 1e-12 && star < 1e-11
        testProperty "the fixed-U solution zeroes the §3.3 equations and lies above C₀" <| fun (NormalFloat x1) (NormalFloat x2) (NormalFloat x3) (NormalFloat x4) ->
            let g = into 0.05 0.95 x1
            let gamma = into 0.0 2.0 x2
            let w = into -3.0 3.0 x3
            let r = into 0.0 3.0 x4
            let a = 1.0 + w * w
            match LinearSpectrum.tryFixedInputRatioTransfer (g, gamma, a, r) with
            | Error e -> e.D <= 0.0
            | Ok x ->
                let res = abs (LinearSpectrum.fixedInputResidual (g, gamma, a, 1.0, r, x)) / (x + gamma * gamma * r + 1.0)
                let c0 = 1.0 / (a - g * g)
                res < 1e-10 && x >= c0 * (1.0 - 1e-14)
    ]

let private kernelTests =
    testList "Kernels" [
        test "Fourier channels reproduce the circulant kernel; mode spectrum inverts it" {
            for n in [ 8; 9 ] do
                let ws = LinearKernels.frequencies (n, 0.3)
                let s = ws |> Array.map (fun w -> 1.0 / (1.0 + w * w) + 0.05 * abs w)
                let k = LinearKernels.circulantFromModes s
                let f = LinearKernels.fourierChannels s
                let ffT = LinearKernels.kernelOfTrajectories f
                for i in 0 .. n - 1 do
                    for j in 0 .. n - 1 do
                        Expect.floatClose (accuracy 1e-14 1e-12) ffT.[i, j] k.[i, j] "F Fᵀ = K"
                let back = LinearKernels.modeSpectrum k
                for j in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-14 1e-12) back.[j] s.[j] "mode spectrum"
        }
        test "leak symbols: exponential Euler → 1+ω² as Δt → 0; grid D matrices have the stated symbols" {
            for w in [ 0.5; 2.0 ] do
                let e1 = LinearKernels.exponentialEulerTransfer (1e-2, w) - (1.0 + w * w)
                let e2 = LinearKernels.exponentialEulerTransfer (5e-3, w) - (1.0 + w * w)
                Expect.isLessThan (abs e2) (0.6 * abs e1 + 1e-12) "O(Δt) convergence"
                Expect.floatClose (accuracy 1e-2 1e-2) (LinearKernels.exponentialEulerTransfer (1e-3, w)) (1.0 + w * w) "Δt→0"
            let checkSymbol (d: float[,]) (expected: float[]) =
                let n = Array2D.length1 d
                let ddT = Array2D.init n n (fun i j -> Seq.sum (seq { for k in 0 .. n - 1 -> d.[i, k] * d.[j, k] }))
                let s = LinearKernels.modeSpectrum ddT
                for k in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-10 1e-10) s.[k] expected.[k] (sprintf "|d_k|² mode %d" k)
            let n, dt = 15, 0.4
            let ws = LinearKernels.frequencies (n, dt)
            checkSymbol (LinearSaddle.periodicSpectralD (n, float n * dt)) (ws |> Array.map LinearKernels.continuousTransfer)
            checkSymbol (LinearSaddle.periodicExponentialEulerD (n, dt)) (ws |> Array.map (fun w -> LinearKernels.exponentialEulerTransfer (dt, w)))
        }
        test "peaked target: maximum at ±ω0, even, floor far away; domain checks" {
            let f w = LinearKernels.peakedTarget (1.0, 0.2, 2.0, 0.01, w)
            Expect.floatClose (accuracy 1e-15 1e-15) (f 1.0) 2.01 "peak"
            Expect.floatClose (accuracy 1e-15 1e-15) (f -1.0) (f 1.0) "even"
            Expect.floatClose (accuracy 1e-12 1e-12) (f 5.0) 0.01 "floor"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearKernels.peakedTarget (1.0, 0.0, 1.0, 0.0, 0.0) |> ignore) "width 0"
        }
    ]

/// The periodic reference problem of note §7.3: n = 63, T = 20, spectral D,
/// Cᴵ_k = 0.5/(1+ω_k²) + 0.05, Cʸ_k = 2 on |k| = 2 plus 1e-3.
let private referenceProblem () =
    let n, period = 63, 20.0
    let ws = LinearKernels.frequencies (n, period / float n)
    let cI = ws |> Array.map (fun w -> 0.5 / (1.0 + w * w) + 0.05)
    let cy = Array.init n (fun k -> (if k = 2 || k = n - 2 then 2.0 else 0.0) + 1e-3)
    n, period, ws, cI, cy

let private saddleTests =
    testList "TimeDomainSaddle" [
        for (g, gamma, maxIt) in [ 0.5, 1.0, 200; 0.9, 0.3, 1500 ] do
            test (sprintf "periodic grid n=63 reproduces the closed form on every mode (g=%g, γ=%g)" g gamma) {
                let n, period, ws, cI, cy = referenceProblem ()
                let d = LinearSaddle.periodicSpectralD (n, period)
                let res =
                    LinearSaddle.solve (g, gamma, d, LinearKernels.circulantFromModes cI, LinearKernels.circulantFromModes cy, None, LinearSaddleOptions.Default)
                Expect.isLessThan res.Convergence.Iterations maxIt "iteration count as in §7.3 (67 and 1043)"
                Expect.isLessThanOrEqual res.Convergence.Residual 1e-12 "residual"
                let modes = LinearKernels.modeSpectrum res.C
                let theory = Array.init n (fun k -> cI.[k] * LinearSpectrum.ratio (g, gamma, ws.[k], cy.[k] / cI.[k]))
                let worst = Array.map2 (fun (m: float) t -> abs (m - t) / t) modes theory |> Array.max
                Expect.isLessThan worst 1e-6 (sprintf "worst relative mode error %g" worst)
                // Circulant (stationary) everywhere on the periodic grid.
                for i in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-9 1e-9) res.C.[i, (i + 5) % n] res.C.[0, 5] "stationary"
            }
        test "g=0.9, γ=1: the |k| = 2 mode has D < 0 and the iteration reports divergence (typed failure)" {
            let n, period, ws, cI, cy = referenceProblem ()
            Expect.isLessThan (LinearSpectrum.domain (0.9, 1.0, ws.[2], cy.[2] / cI.[2])) 0.0 "D < 0 at k=2"
            let d = LinearSaddle.periodicSpectralD (n, period)
            let opts = { LinearSaddleOptions.Default with MaxIterations = 3000 }
            match LinearSaddle.trySolve (0.9, 1.0, d, LinearKernels.circulantFromModes cI, LinearKernels.circulantFromModes cy, None, opts) with
            | Ok _ -> failtest "expected divergence"
            | Error f ->
                Expect.equal f.Solver "LinearSaddle" "solver name"
                Expect.isTrue (f.Reason.Contains "diverged" || f.Reason.Contains "definite") f.Reason
            // Throwing variant, on a tiny grid so that it stays cheap.
            let d3 = LinearSaddle.periodicSpectralD (3, 1.0)
            Expect.throwsT<NotConvergedException>
                (fun () -> LinearSaddle.solve (0.9, 3.0, d3, LinearKernels.circulantFromModes [| 0.01; 0.01; 0.01 |], LinearKernels.circulantFromModes [| 1.0; 1.0; 1.0 |], None, opts) |> ignore)
                "throwing variant"
        }
        test "exponential-Euler periodic grid matches the closed form with a_k = |d_k|²; Λ solves its own equation" {
            let n, dt = 32, 0.25
            let ws = LinearKernels.frequencies (n, dt)
            let cI = Array.create n 1.0
            let cy = ws |> Array.map (fun w -> LinearKernels.peakedTarget (1.5, 0.3, 1.0, 0.0, w))
            let g, gamma = 0.5, 1.0
            let res =
                LinearSaddle.solve (g, gamma, LinearSaddle.periodicExponentialEulerD (n, dt), LinearKernels.circulantFromModes cI, LinearKernels.circulantFromModes cy, None, LinearSaddleOptions.Default)
            let modes = LinearKernels.modeSpectrum res.C
            let theory = LinearSpectrum.spectrumTransfer (g, gamma, ws |> Array.map (fun w -> LinearKernels.exponentialEulerTransfer (dt, w)), cI, cy, true)
            for k in 0 .. n - 1 do
                relClose 1e-8 modes.[k] theory.[k] (sprintf "mode %d" k)
            // Λ is non-zero and symmetric for γ > 0.
            let lamNorm = res.Lambda |> Seq.cast<float> |> Seq.sumBy (fun v -> v * v)
            Expect.isGreaterThan lamNorm 1e-6 "Λ ≠ 0"
        }
        test "γ = 0 on a causal window solves the random linear network D C Dᵀ = g²C + Cᴵ and gives Λ = 0" {
            let n, dt = 40, 0.2
            let ws = LinearKernels.frequencies (n, dt)
            let cI = LinearKernels.circulantFromModes (ws |> Array.map (fun w -> 1.0 / (1.0 + 0.5 * w * w)))
            let d = LinearSaddle.causalExponentialEulerD (n, dt)
            let res = LinearSaddle.solve (0.6, 0.0, d, cI, Array2D.zeroCreate n n, None, LinearSaddleOptions.Default)
            let mul (a: float[,]) (b: float[,]) = Array2D.init n n (fun i j -> Seq.sum (seq { for k in 0 .. n - 1 -> a.[i, k] * b.[k, j] }))
            let dT = Array2D.init n n (fun i j -> d.[j, i])
            let lhs = mul (mul d res.C) dT
            for i in 0 .. n - 1 do
                for j in 0 .. n - 1 do
                    Expect.floatClose (accuracy 1e-9 1e-9) lhs.[i, j] (0.36 * res.C.[i, j] + cI.[i, j]) "Lyapunov"
                    Expect.floatClose (accuracy 1e-8 0.0) res.Lambda.[i, j] 0.0 "Λ = 0"
            // Non-stationary near the start (the window starts at rest), stationary later.
            Expect.isLessThan res.C.[0, 0] (0.9 * res.C.[n - 1, n - 1]) "transient at t = 0"
        }
        test "bad inputs are rejected" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> LinearSaddle.periodicSpectralD (10, 1.0) |> ignore) "even n"
            Expect.throwsT<ParameterOutOfDomainException>
                (fun () -> LinearSaddle.trySolve (0.5, 1.0, Array2D.zeroCreate 3 3, Array2D.zeroCreate 3 3, Array2D.zeroCreate 3 3, None, { LinearSaddleOptions.Default with Epsilon = 5.0 }) |> ignore)
                "ε out of range"
        }
    ]

let private cliTests =
    testSequenced <| testList "Cli" [
        test "dmft linear-spectrum --json gives spectrumRatio and echoes the parameters" {
            let code, out, err = runCli [ "dmft"; "linear-spectrum"; "--g"; "0.5"; "--gamma"; "1"; "--omega"; "0.7"; "--ratio"; "1.3"; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out)
            relClose 1e-14 (o.["spectrumRatio"].GetValue<float>()) (LinearSpectrum.ratio (0.5, 1.0, 0.7, 1.3)) "value"
            for k, v in [ "g", 0.5; "gamma", 1.0; "omega", 0.7; "ratio", 1.3 ] do
                Expect.equal (o.[k].GetValue<float>()) v k
            // --fixed-u: the §7.3 fixed-U column (g = 0.5, γ = 1, ω = 0, R = 1 → 2.27273).
            let code2, out2, err2 = runCli [ "dmft"; "linear-spectrum"; "--g"; "0.5"; "--gamma"; "1"; "--omega"; "0"; "--ratio"; "1"; "--fixed-u"; "--json" ]
            Expect.equal code2 0 err2
            let o2 = System.Text.Json.Nodes.JsonNode.Parse(out2)
            relClose 2e-6 (o2.["spectrumRatio"].GetValue<float>()) 2.27273 "fixed-U value"
            Expect.equal (o2.["inputWeights"].GetValue<string>()) "fixed" "variant echoed"
        }
        test "dmft linear-spectrum out of domain exits 2 naming the condition" {
            let code, _, err = runCli [ "dmft"; "linear-spectrum"; "--g"; "0.9"; "--gamma"; "1"; "--omega"; "0"; "--ratio"; "1" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "D(ω)" "names the condition"
            let code2, _, err2 = runCli [ "dmft"; "linear-spectrum"; "--g"; "-1"; "--gamma"; "1"; "--omega"; "0"; "--ratio"; "1" ]
            Expect.equal code2 2 "g < 0"
            Expect.stringContains err2 "g = -1" "names g"
        }
        test "dmft linear-spectrum --target peaked --csv writes the whole spectrum" {
            let dir = tempDir "dmft-linear"
            let path = System.IO.Path.Combine(dir, "spec.csv")
            let code, out, err =
                runCli [ "dmft"; "linear-spectrum"; "--g"; "0.5"; "--gamma"; "1"; "--target"; "peaked"; "--omega0"; "1"; "--width"; "0.2"; "--csv"; path; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out)
            Expect.floatClose (accuracy 0.05 0.0) (o.["peakOmega"].GetValue<float>()) 1.0 "gain peaks at ω0"
            let lines = System.IO.File.ReadAllLines path |> Array.filter (fun l -> not (l.StartsWith "#"))
            Expect.equal lines.[0] "omega,CI,Cy,C,C_over_CI,C_gamma0" "header"
            Expect.equal (lines.Length - 1) 301 "rows"
            let row = lines.[101].Split(',') |> Array.map float
            relClose 1e-14 row.[3] (LinearSpectrum.value (0.5, 1.0, row.[0], row.[1], row.[2])) "row value"
        }
    ]

[<Tests>]
let tests = testList "DmftLinear" [ closedFormTests; kernelTests; saddleTests; cliTests ]

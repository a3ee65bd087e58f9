module Theory.Tests.PosteriorLangevinTests

open System
open Expecto
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Tests.TestUtil

/// A small tanh window problem (n = 5 points, Δt = 0.3, one random target) for gradient checks.
let private smallProblem (phi: SiteNonlinearity) (tilted: bool) =
    let rng = Rng.ForStream(91L, 0L)
    TiltedProblems.OnGrid(phi, 1.4, 0.7, 0.3, 5, 0.8, tilted, None, true, [| rng.Gaussians 5; rng.Gaussians 5 |])

/// n = 1 point, φ = identity, target y* = 1: C = (1/N)Σ x0_i² and the posterior of C is a generalised inverse Gaussian,
/// p(C) ∝ C^{(N−1)/2 − 1} exp(−N C/(2σ0²) − Nγ²/(2C)) (chi-square prior of Σu0² times the readout likelihood
/// C^{−1/2} e^{−Nγ²y*²/(2C)}); its moments follow by quadrature.
let private onePoint (gamma: float) =
    { G = 1.0; Gamma = gamma; Phi = Identity; Dt = 0.1; Propagator = array2D [ [ 0.0 ] ]; X0Response = [| 1.0 |]
      X0Variance = 1.0; X0Tilted = true; InputKernel = None; InputTilted = true; Targets = [| [| 1.0 |] |]
      InputWeightResponse = Array2D.zeroCreate 1 0 }

/// E[f(C)] under the generalised inverse Gaussian above (trapezoid on a log grid, relative accuracy ~1e-8).
let private gigMoment (N: int) (gamma: float) (f: float -> float) =
    let logp c = (float (N - 1) / 2.0 - 1.0) * log c - float N * c / 2.0 - float N * gamma * gamma / (2.0 * c)
    let grid = Array.init 20001 (fun i -> exp (-8.0 + 12.0 * float i / 20000.0))
    let lps = grid |> Array.map logp
    let m = Array.max lps
    // ∫ p(c) dc = ∫ p(c) c d(ln c)
    let w = Array.map2 (fun c lp -> exp (lp - m) * c) grid lps
    let z = Array.sum w
    (Array.map2 (fun wi c -> wi * f c) w grid |> Array.sum) / z

let private sinusoid = { SinusoidTask.Default with Dt = 1.0 }

[<Tests>]
let tests =
    testList "PosteriorLangevin" [
        test "adjoint gradient of the potential agrees with central finite differences (tanh, x0 tilted and quenched)" {
            // U_L is smooth in θ; the five-point stencil with h = 1e-4 has truncation error O(h⁴·U⁽⁵⁾) and rounding
            // ≈ 1e-16·|U|/h; measured agreement is better than 1e-8 relative, so 1e-6 relative (plus 1e-7 absolute) is a
            // strict test of the adjoint (a wrong factor or a dropped term is O(1)).
            for tilted in [ true; false ] do
                let p = smallProblem Tanh tilted
                let N = 12
                let rng = Rng.ForStream(92L, 0L)
                let dim = N * N + 5 * N + (if tilted then N else 0)
                let theta = rng.Gaussians dim
                let x0 = rng.Gaussians N
                let grad = Array.zeroCreate dim
                WeightPosterior.Potential(p, N, 0.05, x0, theta, 0.7, grad) |> ignore
                let f (t: float[]) = WeightPosterior.Potential(p, N, 0.05, x0, t, 0.7, null)
                let h = 1e-4
                let d5 (at: float -> float[]) = (-(f (at (2.0 * h))) + 8.0 * f (at h) - 8.0 * f (at -h) + f (at (-2.0 * h))) / (12.0 * h)
                let coords = [ 0; 7; N * N - 1; N * N + 3; N * N + 5 * N - 1 ] @ (if tilted then [ N * N + 5 * N; dim - 1 ] else [])
                for j in coords do
                    let fd = d5 (fun dh -> let t = Array.copy theta in t.[j] <- t.[j] + dh; t)
                    Expect.floatClose (accuracy 1e-7 1e-6) grad.[j] fd (sprintf "coordinate %d (tilted %b)" j tilted)
                // A random direction exercises every block at once.
                let v = rng.Gaussians dim
                let step s = Array.map2 (fun t vi -> t + s * vi) theta v
                let fd = d5 step
                Expect.floatClose (accuracy 1e-6 1e-6) (Array.fold2 (fun acc g vi -> acc + g * vi) 0.0 grad v) fd "directional derivative"
        }
        test "phi = identity, n = 1: moments of C match the exact generalised-inverse-Gaussian posterior within 3 s.e." {
            // Exact law (see onePoint). 8 independent chains (N = 20, γ = 0.5, 400 iterations; the 200 fixed-step ones
            // are averaged): the error bar is the s.e. over chains (independent seeds). A missing det term moves E[C] by
            // ≈ 1/N ≈ 5%, a wrong likelihood sign by O(1): both are many s.e. (the s.e. is ≈ 0.3%).
            let N, gamma = 20, 0.5
            let o = { WeightPosteriorOptions.Default with Neurons = N; Iterations = 400; LeapfrogSteps = 8; StepSize = 0.3; Seed = 3L }
            let chains = Array.init 8 (fun r -> (WeightPosterior.Anneal(Func<_, _>(onePoint), [| 0.0; gamma |], o, int64 r)).[1])
            let check (name: string) (j: int) (exact: float) =
                let ms = chains |> Array.map (fun s -> s.Trace |> Array.averageBy (fun t -> t.[j]))
                let mu = Array.average ms
                let se = sqrt ((ms |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / 7.0 / 8.0)
                Expect.isLessThan (abs (mu - exact)) (3.0 * se) (sprintf "%s: sampler %.5f ± %.5f vs exact %.5f" name mu se exact)
            check "E[C]" 0 (gigMoment N gamma id)
            check "E[y*^2/C]" 1 (gigMoment N gamma (fun c -> 1.0 / c))
            for s in chains do
                Expect.isGreaterThan s.Acceptance 0.5 "acceptance"
                Expect.isGreaterThan s.EffectiveSamples.[0] 20.0 "effective samples of C over 200 iterations"
        }
        test "same seed, same bits; another stream, another chain; no iterations at gamma = 0" {
            let p gm = TiltedProblems.Sinusoid(1.5, gm, sinusoid)
            let o = { WeightPosteriorOptions.Default with Neurons = 24; Iterations = 4; LeapfrogSteps = 3; Seed = 5L }
            let a = WeightPosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 0L)
            let b = WeightPosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 0L)
            let c = WeightPosterior.Anneal(Func<_, _>(p), [| 0.0; 0.5 |], o, 1L)
            Expect.equal a.[1].Paths b.[1].Paths "same seed and stream, same bits"
            Expect.equal a.[1].Weights b.[1].Weights "weights too"
            Expect.notEqual a.[0].Paths c.[0].Paths "another stream, another network"
            Expect.equal a.[0].TotalIterations 0 "no iterations at gamma = 0"
            Expect.equal a.[1].TotalIterations 4 "options.Iterations at gamma = 0.5"
            // The sample's paths are the network run of its weights: x_{k+1} = e x_k + (1 − e) s_k.
            let e = exp -1.0
            let x, s = a.[1].Paths.[3], a.[1].Fields.[3]
            for k in 0 .. 8 do Expect.floatClose (accuracy 1e-12 1e-12) x.[k + 1] (e * x.[k] + (1.0 - e) * s.[k]) "path recursion"
        }
        test "tanh, gamma -> 0: the sampler's window summaries match exact importance sampling from random networks" {
            // At γ = 1e-9 the posterior is the prior (random networks with process noise) reweighted by det C^{-d/2}
            // (the readout's normalisation; it moves the mean activity from 0.256 to 0.32 at N = 40, n = 10). Importance
            // sampling with 20000 prior draws, its own forward pass (no library code but Rng and MathNet's Cholesky) and
            // weights det C^{-1/2} is unbiased to O(1/ESS) (ESS ≈ 150); its s.e. is the delta-method one. 8 HMC chains
            // (300 iterations, the 150 fixed-step ones averaged), s.e. over chains. Tolerance 3 combined s.e. (≈ 0.03):
            // a target with det C^{-1} instead (activity 0.39) is > 6 s.e. away.
            let g, N, sigma = 1.5, 40, 0.01
            let p gm = TiltedProblems.Sinusoid(g, gm, sinusoid)
            let p0 = p 0.0
            let n = p0.Points
            let s0 = sqrt p0.X0Variance
            let e = exp -1.0
            let c = g / sqrt (float N)
            let rng = Rng.ForStream(77L, 0L)
            let J = Array.zeroCreate (N * N)
            let x = Array.zeroCreate N
            let xn = Array.zeroCreate N
            let phi = Array.zeroCreate (n * N)
            let draws =
                Array.init 20000 (fun _ ->
                    for q in 0 .. N * N - 1 do J.[q] <- rng.NextGaussian()
                    for i in 0 .. N - 1 do x.[i] <- s0 * rng.NextGaussian()
                    for k in 0 .. n - 1 do
                        for i in 0 .. N - 1 do phi.[k * N + i] <- tanh x.[i]
                        for i in 0 .. N - 1 do
                            let mutable acc = 0.0
                            for j in 0 .. N - 1 do acc <- acc + J.[i * N + j] * phi.[k * N + j]
                            xn.[i] <- e * x.[i] + (1.0 - e) * (c * acc + sigma * rng.NextGaussian())
                        Array.blit xn 0 x 0 N
                    let C = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, n, fun a b ->
                                (Seq.sum (seq { for i in 0 .. N - 1 -> phi.[a * N + i] * phi.[b * N + i] })) / float N)
                    let logw = -0.5 * C.Cholesky().DeterminantLn
                    logw, Seq.init n (fun k -> C.[k, k]) |> Seq.average, Seq.init (n - n / 2) (fun k -> C.[k, k + n / 2]) |> Seq.average)
            let m = draws |> Array.map (fun (l, _, _) -> l) |> Array.max
            let w = draws |> Array.map (fun (l, _, _) -> exp (l - m))
            let z = Array.sum w
            let isEstimate (f: float * float * float -> float) =
                let mu = (Array.map2 (fun wi d -> wi * f d) w draws |> Array.sum) / z
                mu, sqrt ((Array.map2 (fun wi d -> wi * wi * (f d - mu) ** 2.0) w draws |> Array.sum)) / z
            let o = { WeightPosteriorOptions.Default with Neurons = N; Iterations = 300; LeapfrogSteps = 8; StepSize = 0.1; Seed = 21L }
            let chains = Array.Parallel.init 8 (fun r -> (WeightPosterior.Anneal(Func<_, _>(p), [| 0.0; 1e-9 |], o, int64 r)).[1])
            for j, name, f in [ 0, "mean activity", (fun (_, a, _) -> a); 2, "half-window correlation", (fun (_, _, h) -> h) ] do
                let mi, si = isEstimate f
                let ms = chains |> Array.map (fun s -> s.Summaries.[j])
                let mh = Array.average ms
                let sh = sqrt ((ms |> Array.sumBy (fun v -> (v - mh) ** 2.0)) / 7.0 / 8.0)
                Expect.isLessThan (abs (mh - mi)) (3.0 * sqrt (si * si + sh * sh)) (sprintf "%s: HMC %.4f ± %.4f vs importance sampling %.4f ± %.4f" name mh sh mi si)
            for s in chains do Expect.isGreaterThan s.Acceptance 0.4 "acceptance"
        }
        test "weight-space and path-space samplers agree on the window summaries (tanh, g = 1.5, gamma -> 0, N = 40)" {
            // Both samplers target the same density (docs/dmft-nonlinear.md "Weight-space posterior sampler"). This test
            // found the path-space sampler's bias (its slice reference contained the neuron being updated: mean activity
            // 0.37–0.38 against 0.32–0.33 here and in exact importance sampling); fixed 2026-12-06. The path-space
            // chains mix slowly here (the det C^(-1/2) tilt moves the activity from the prior's 0.26 to 0.33; 100-sweep
            // means scatter by ±0.05 between chains), so each runs 3000 sweeps and averages the last 1500 (measured
            // after the fix: 0.330 ± 0.008 against importance sampling 0.327 ± 0.003). 16 independent chains each;
            // error = s.e. over chains in quadrature; tolerance 3 s.e.
            let p gm = TiltedProblems.Sinusoid(1.5, gm, sinusoid)
            let gammas = Array.append [| 0.0 |] (Array.create 20 1e-9)
            let wo = { WeightPosteriorOptions.Default with Neurons = 40; Iterations = 200; LeapfrogSteps = 8; StepSize = 0.1; Seed = 21L }
            let fo = { FinitePosteriorOptions.Default with Neurons = 40; Sweeps = 3000; Seed = 22L }
            let w = Array.Parallel.init 16 (fun r -> (WeightPosterior.Anneal(Func<_, _>(p), gammas.[.. 2], wo, int64 r)).[2])
            let f = Array.Parallel.init 16 (fun r -> (FinitePosterior.Anneal(Func<_, _>(p), [| 0.0; 1e-9 |], fo, int64 r)).[1])
            let stat (xs: float[]) =
                let mu = Array.average xs
                mu, sqrt ((xs |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (xs.Length - 1) / float xs.Length)
            for j, name in [ 0, "mean activity"; 2, "half-window correlation" ] do
                let mw, sw = stat (w |> Array.map (fun s -> s.Summaries.[j]))
                let mf, sf = stat (f |> Array.map (fun s -> s.Summaries.[j]))
                Expect.isLessThan (abs (mw - mf)) (3.0 * sqrt (sw * sw + sf * sf)) (sprintf "%s: weight-space %.4f ± %.4f vs path-space %.4f ± %.4f" name mw sw mf sf)
        }
        test "gamma* of the weight-space ensemble at CI size is located, labelled hmc with N, and carries HMC diagnostics" {
            // g = 2, N = 40, Δt = 1 (n = 10), 8 chains, 100 iterations × 8 leapfrog per γ, grid step 0.25, one bisection.
            // Measured: γ⋆ = 0.83 ± 0.10 (bracket 0.75–0.875); the check is structural (label, bracket, diagnostics) plus
            // γ⋆ inside its bracket and the ordered fraction rising from below ½ to at least ½ across it.
            let o = { PhaseBoundaryOptions.Default with Task = sinusoid; GammaStep = 0.25; GammaMax = 2.0; Bisections = 1; Realisations = 8
                                                        Realisation = { RealisationOptions.Default with Seed = 3L } }
            let wo = { WeightPosteriorOptions.Default with Neurons = 40; Iterations = 100; LeapfrogSteps = 8; Seed = 3L }
            match WeightPosteriorBoundary.Locate(2.0, o, wo) with
            | Error f -> failtestf "no gamma*: %s" f.Reason
            | Ok(r, diags) ->
                Expect.equal r.Ensemble.Kind "hmc" "ensemble kind"
                Expect.equal r.Ensemble.Neurons (Some 40) "ensemble N"
                let lo, hi = r.Bracket
                Expect.isTrue (lo < hi && r.GammaStar >= lo && r.GammaStar <= hi) (sprintf "gamma* %g in its bracket %A" r.GammaStar r.Bracket)
                Expect.isTrue (r.GammaStarError > 0.0) "an error bar"
                let at g = r.Points |> List.find (fun p -> p.Gamma = g)
                Expect.isLessThan (at lo).OrderedFraction 0.5 "chaotic end"
                Expect.isGreaterThanOrEqual (at hi).OrderedFraction 0.5 "ordered end"
                Expect.equal diags.Length r.Points.Length "one diagnostic per evaluation"
                for d in diags |> List.filter (fun d -> d.Gamma > 0.0) do
                    Expect.isTrue (d.Acceptance > 0.4 && d.Acceptance < 0.99) (sprintf "acceptance %g at gamma %g" d.Acceptance d.Gamma)
                    Expect.isTrue (d.FitError < 0.05) (sprintf "window fit error %g" d.FitError)
        }
        test "CLI: train --protocol hmc --gamma-star --path-sweeps 0 gives the weight-space gamma* only; a negative --path-sweeps exits 2" {
            let dir = tempDir "hmc-path-sweeps"
            let args = [ "train"; "--task"; "sine-period"; "--protocol"; "hmc"; "--n"; "20"; "--g"; "2"; "--gamma"; "0.25"; "--dt"; "1.0"
                         "--steps"; "10"; "--leapfrog"; "4"; "--chains"; "2"; "--gamma-star"; "--realisations"; "4"; "--gamma-max"; "0.5"
                         "--bisections"; "0"; "--seed"; "3"; "--out"; dir; "--json" ]
            let code, out, err = runCli (args @ [ "--path-sweeps"; "0" ])
            Expect.equal code 0 (sprintf "exit 0: %s" err)
            let o = Text.Json.Nodes.JsonNode.Parse(out)
            Expect.isNotNull o.["gammaStarHmc"] "the weight-space gamma* (or its typed failure) is reported"
            Expect.isNull o.["gammaStarPosterior"] "no path-space scan with --path-sweeps 0"
            let code, _, err = runCli (args @ [ "--path-sweeps"; "-1" ])
            Expect.equal code 2 (sprintf "negative --path-sweeps exits 2: %s" err)
        }
        test "invalid inputs are refused with the allowed range" {
            let p = TiltedProblems.Sinusoid(1.5, 0.5, sinusoid)
            let run o = WeightPosterior.Anneal(Func<_, _>(fun _ -> p), [| 0.5 |], o, 0L) |> ignore
            let o = { WeightPosteriorOptions.Default with Neurons = 40; Iterations = 2 }
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { o with Neurons = 19 }) "N < 2n"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { o with ProcessNoise = 0.0 }) "sigma = 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { o with Iterations = 1 }) "one iteration"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { o with StepSize = 2.0 }) "step > pi/2"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> run { o with TargetAcceptance = 1.0 }) "acceptance 1"
            Expect.throwsT<ParameterOutOfDomainException>
                (fun () -> WeightPosterior.Anneal(Func<_, _>(fun _ -> p), [| 0.5; 0.2 |], o, 0L) |> ignore) "descending gammas"
            Expect.throwsT<ParameterOutOfDomainException>
                (fun () -> WeightPosterior.Potential(p, 40, 0.01, Array.zeroCreate 40, Array.zeroCreate 7, 0.5, null) |> ignore) "theta length"
        }
    ]

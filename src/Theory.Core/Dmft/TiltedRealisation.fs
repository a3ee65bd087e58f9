namespace Theory.Core.Dmft

open System
open System.Threading.Tasks
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dynamics

/// Options of a finite network realised from the DMFT saddle point (criterion (d) of docs/dmft-nonlinear.md).
type RealisationOptions =
    { /// Network size N (neurons = chains of the solution used; at most the number of chains, at least 2n).
      /// Default 1000.
      Neurons: int
      /// Which disjoint block of N chains to use (replicate r uses chains rN … (r+1)N − 1).
      Replicate: int
      /// Relative observation noise of the weight conditioning: the window fields are matched in the ridge sense with
      /// σ² = N·rel·tr(C)/n (the same relative scale as the solver's readout noise; the empirical Gram ΦᵀΦ of smooth
      /// paths is near-singular). Default 0.01 [reconstructed].
      ConditioningNoise: float
      /// Autonomous time discarded after the window before measuring, in periods of the task. Default 10.
      TransientPeriods: float
      /// Autonomous time measured (Benettin exponent, lag-T autocorrelation), in periods. Default 40.
      MeasuredPeriods: float
      /// Renormalisation interval of the tangent vector, in time units. Default 1.
      Renormalise: float
      /// Chaotic iff λ̂ &gt; max(this, 3 s.e.): an exact cycle has λ = 0, so a strict "≤ 0" is ill-posed (the same
      /// rule as the simulation probe, note §5c). Default 0.005.
      LyapunovFloor: float
      /// A non-chaotic network is on a limit cycle iff the lag-T autocorrelation of y is at least this. Default 0.9.
      RhoTolerance: float
      /// Seed of the chain subset, the prior weight draws Z, the observation noise and the tangent vector.
      Seed: int64 }
    /// N = 1000, replicate 0, noise 0.01, 10 + 40 periods, renormalise every time unit, floor 0.005, ρ ≥ 0.9, seed 1.
    static member Default =
        { Neurons = 1000; Replicate = 0; ConditioningNoise = 0.01; TransientPeriods = 10.0; MeasuredPeriods = 40.0
          Renormalise = 1.0; LyapunovFloor = 0.005; RhoTolerance = 0.9; Seed = 1L }

/// Class of a realised network past the window (the simulation probe's classes, note §5c).
type RealisedClass =
    /// λ̂ &gt; max(floor, 3 s.e.).
    | Chaotic
    /// Not chaotic and y periodic at lag T (ρ ≥ RhoTolerance).
    | LimitCycle
    /// Not chaotic and the output stops moving (s.d. of y &lt; 1e-3 of rms y*).
    | FixedPoint
    /// Not chaotic, neither periodic at T nor fixed (another period, quasi-periodic, slow transient).
    | OtherOrdered

/// One realised network and its autonomous behaviour past the window.
type RealisationResult =
    { Neurons: int
      /// rms(y − y*)/rms(y*) of the network's own output on the window (run from the chains' x0).
      WindowFitError: float
      /// rms over neurons and window times of the self-generated x minus the sampled DMFT path, over rms x.
      PathError: float
      /// Largest Lyapunov exponent (Benettin, renormalised tangent) over the measured interval.
      Lyapunov: float
      /// Its standard error from min(10, intervals) block means (NaN with fewer than 2 intervals).
      LyapunovError: float
      /// Pearson autocorrelation of the output y at lag T over the measured interval.
      LagCorrelation: float
      /// rms of y over the measured interval divided by rms y* (persistence of the oscillation).
      Amplitude: float
      /// Classification by the options' tolerances.
      Class: RealisedClass
      /// Output y(t) from t = 0 to the end of the measured interval (grid step Δt).
      Output: float[] }
    /// On a limit cycle (the ordered phase of note §5).
    member r.Ordered = (r.Class = LimitCycle)

/// Ordered fraction over several realisations of one saddle point.
type RealisationEnsemble =
    { Gamma: float
      Results: RealisationResult[]
      /// Fraction on a limit cycle and its binomial error √(f(1−f)/R).
      OrderedFraction: float
      OrderedFractionError: float
      /// Mean λ̂ over the realisations and its standard error (s.d./√R).
      MeanLyapunov: float
      MeanLyapunovError: float }

/// A finite network realised from the DMFT saddle point: N tilted single-site samples (chains) supply the window paths
/// x_i(t), φ_i(t) and fields η_i(t); the weights are then drawn from their Gaussian prior J_ij ~ N(0, 1) conditioned on
/// reproducing those fields, (g/√N) Σ_j J_ij φ_j(t_k) = η_i(t_k) on the window (Matheron's rule, with a small
/// observation noise, ConditioningNoise). This is the joint law of the posterior ensemble the DMFT describes (note
/// §3.1, §3.5) factorised as p(paths)·p(J | paths), with the paths' law replaced by its large-N limit (i.i.d. tilted
/// sites). The network is then run autonomously past the window and classified by its Benettin exponent; the error of
/// the construction is O(1/√N) and shrinks with N. Criterion (d) [reconstructed]; compare the two-replica criterion
/// (§5b) in <see cref="TiltedChaos"/>.
[<AbstractClass; Sealed>]
type TiltedRealisation private () =

    /// y[r] = Σ_c a[r·N + c]·x[c] for the state and the tangent vector (the row stays in L1 between the two dots),
    /// rows in 4 parallel blocks.
    static member private MatVec2(a: float[], n: int, x1: float[], x2: float[], y1: float[], y2: float[]) =
        Parallel.For(0, 4, fun b ->
            SmallDense.matVecPairRows a n x1 x2 y1 y2 (b * n / 4) ((b + 1) * n / 4)) |> ignore

    /// Realises one network from a converged Monte Carlo solution and runs it: N of the solution's equal-weight
    /// particles (a seeded random subset per replicate) supply the window paths and trained fields. With a white
    /// tilted input (process noise σ, C^I = σ²I) the weights are conditioned on the fields with the process noise
    /// as observation noise (σ_J² = Nσ²/g², as FinitePosterior.Realise); otherwise with ConditioningNoise.
    static member Run(solution: TiltedSolution, options: RealisationOptions) : RealisationResult =
        let p = solution.Problem
        let n = p.Points
        let white =
            match p.InputKernel with
            | None -> None
            | Some k ->
                let v = k.[0, 0]
                let isWhite = Seq.forall (fun (i, j) -> (if i = j then abs (k.[i, j] - v) <= 1e-12 * v else k.[i, j] = 0.0)) (seq { for i in 0 .. n - 1 do for j in 0 .. n - 1 -> i, j })
                if isWhite && p.InputTilted then Some v
                else raise (ParameterOutOfDomainException("problem", "with a non-white or untrained input", "no input or a trained white input (process noise)"))
        if solution.Samples.Count = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no samples)", "a Monte Carlo solution"))
        let N = options.Neurons
        Validate.AtLeast("neurons", N, 2 * n) |> ignore
        Validate.AtLeast("replicate", options.Replicate, 0) |> ignore
        if N > solution.Samples.Count then
            raise (ParameterOutOfDomainException("neurons", string N, sprintf "N <= samples = %d" solution.Samples.Count))
        Validate.Positive("conditioningNoise", options.ConditioningNoise) |> ignore
        Validate.NonNegative("transientPeriods", options.TransientPeriods) |> ignore
        Validate.Positive("measuredPeriods", options.MeasuredPeriods) |> ignore
        Validate.Positive("renormalise", options.Renormalise) |> ignore
        Validate.NonNegative("lyapunovFloor", options.LyapunovFloor) |> ignore
        Validate.InRange("rhoTolerance", options.RhoTolerance, -1.0, 1.0) |> ignore
        // Seeded random subset of N particles (partial Fisher–Yates).
        let pick =
            let idx = Array.init solution.Samples.Count id
            let r = Rng.ForStream(options.Seed, 9000L + int64 options.Replicate)
            for i in 0 .. N - 1 do
                let j = i + r.NextInt(idx.Length - i)
                let t = idx.[i]
                idx.[i] <- idx.[j]
                idx.[j] <- t
            idx.[.. N - 1]
        let fields = pick |> Array.map (fun i -> solution.Samples.Fields.[i])
        let xs = pick |> Array.map (fun i -> solution.Samples.Paths.[i])
        let sigma2 =
            match white with
            | Some v -> float N * v / (p.G * p.G)
            | None ->
                let trC = Seq.init n (fun k -> solution.C.[k, k]) |> Seq.sum
                float N * options.ConditioningNoise * trC / float n
        TiltedRealisation.RunPaths(p, fields, xs, sigma2, options)

    /// Realises one network from given window paths and runs it: xs.[i] (n values of x_i on the window, x_i(0) the
    /// initial state), fields.[i] (the field s_i(t_k) that drove x_i from t_k to t_k+1), and the observation noise
    /// σ_J² of the weight conditioning in units of J (the conditional of J_i given s_i = (g/√N)ΦJ_i + noise).
    /// The network runs noise-free from x_i(0) through the window, a transient and the measured interval.
    static member internal RunPaths(p: TiltedProblem, eta: float[][], xs: float[][], sigma2: float, options: RealisationOptions)
        : RealisationResult =
        let n = p.Points
        let N = xs.Length
        let dt = p.Dt
        let e = Math.Exp(-dt)
        let g = p.G
        let phiOf = SiteNonlinearity.apply p.Phi
        let Phi = Matrix<float>.Build.Dense(N, n, fun i k -> phiOf xs.[i].[k])
        let H = Matrix<float>.Build.Dense(N, n, fun i k -> eta.[i].[k])
        let G = Phi.TransposeThisAndMultiply(Phi) + Matrix<float>.Build.DenseIdentity(n) * sigma2
        let gChol = G.Cholesky()
        // Matheron's rule per row i: J_iᵀ = z_i + Φ(G + σ²I)⁻¹((√N/g)η_i − Φᵀz_i − σ ε_i); all rows at once with
        // Zᵀ (N×N, column i = z_i).
        let rng = Rng.ForStream(options.Seed, 9100L + int64 options.Replicate)
        let Zt = Matrix<float>.Build.Dense(N, N)
        for c in 0 .. N - 1 do
            for r in 0 .. N - 1 do Zt.[r, c] <- rng.NextGaussian()
        let noise = Matrix<float>.Build.Dense(n, N, fun _ _ -> rng.NextGaussian())
        let B = H.Transpose() * (Math.Sqrt(float N) / g) - Phi.TransposeThisAndMultiply(Zt) - noise * Math.Sqrt sigma2
        let Jt = Zt + Phi * gChol.Solve(B)
        // Row-major coupling A = (g/√N)J for the map x_{k+1} = e x_k + (1−e) A φ(x_k).
        let scale = g / Math.Sqrt(float N)
        let A = Array.zeroCreate (N * N)
        Parallel.For(0, N, fun r ->
            for c in 0 .. N - 1 do A.[r * N + c] <- scale * Jt.[c, r]) |> ignore
        // Minimum-norm readout in the same ridge sense: y(t) = φ(t)ᵀΦ(G + σ²I)⁻¹y*.
        let ystar = p.Targets.[0]
        let readout = (Phi * gChol.Solve(Vector<float>.Build.DenseOfArray ystar)).ToArray()
        // Self-generated run from the chains' x0: window, transient, measured interval.
        let period = float n * dt
        let kTrans = int (Math.Round(options.TransientPeriods * period / dt))
        let kMeas = max 20 (int (Math.Round(options.MeasuredPeriods * period / dt)))
        let total = n + kTrans + kMeas
        let renorm = max 1 (int (Math.Round(options.Renormalise / dt)))
        if renorm > kMeas then
            raise (ParameterOutOfDomainException("renormalise", string options.Renormalise,
                                                 sprintf "<= the measured interval (%g time units)" (float kMeas * dt)))
        let x = Array.init N (fun i -> xs.[i].[0])
        let phi = Array.zeroCreate N
        let psi = Array.zeroCreate N
        let f1 = Array.zeroCreate N
        let f2 = Array.zeroCreate N
        let trng = Rng.ForStream(options.Seed, 9200L + int64 options.Replicate)
        let dx0 = Array.init N (fun _ -> trng.NextGaussian())
        let output = Array.zeroCreate total
        // Squared path deviation and squared path norm over the window.
        let pathSums = Array.zeroCreate 2
        let network =
            { new ITangentMap with
                member _.Dimension = N
                member _.Step(k, dx, _) =
                    SiteNonlinearity.applyInto p.Phi x phi N
                    for i in 0 .. N - 1 do psi.[i] <- SiteNonlinearity.derivativeFromValue p.Phi phi.[i] * dx.[i]
                    output.[k] <- SmallDense.dot readout 0 phi 0 N
                    if k < n then
                        for i in 0 .. N - 1 do
                            let d = x.[i] - xs.[i].[k]
                            pathSums.[0] <- pathSums.[0] + d * d
                            pathSums.[1] <- pathSums.[1] + xs.[i].[k] * xs.[i].[k]
                    TiltedRealisation.MatVec2(A, N, phi, psi, f1, f2)
                    for i in 0 .. N - 1 do
                        x.[i] <- e * x.[i] + (1.0 - e) * f1.[i]
                        dx.[i] <- e * dx.[i] + (1.0 - e) * f2.[i] }
        // The tangent vector evolves from t = 0 alongside the state (one pass over A for both), is renormalised
        // throughout and aligns during the window and the transient; it is measured after the transient (Benettin).
        let lyapunov = Benettin.Largest(network, dx0, BenettinSchedule(0, n + kTrans, kMeas, renorm, dt))
        let lam = lyapunov.Exponent
        let lamErr = lyapunov.StandardError
        let pathErr, pathNorm = pathSums.[0], pathSums.[1]
        let meas = output.[n + kTrans ..]
        let lag = n
        let pearson (a: float[]) (b: float[]) =
            let ma = Array.average a
            let mb = Array.average b
            let sab = Array.fold2 (fun acc u v -> acc + (u - ma) * (v - mb)) 0.0 a b
            let saa = a |> Array.sumBy (fun u -> (u - ma) ** 2.0)
            let sbb = b |> Array.sumBy (fun v -> (v - mb) ** 2.0)
            if saa <= 0.0 || sbb <= 0.0 then 0.0 else sab / Math.Sqrt(saa * sbb)
        let rho = if meas.Length > lag + 2 then pearson meas.[.. meas.Length - 1 - lag] meas.[lag ..] else nan
        let rms (a: float[]) = Math.Sqrt(a |> Array.averageBy (fun v -> v * v))
        let fit = rms (Array.init n (fun k -> output.[k] - ystar.[k])) / max 1e-300 (rms ystar)
        let sd =
            let m = Array.average meas
            Math.Sqrt(meas |> Array.averageBy (fun v -> (v - m) ** 2.0))
        let cls =
            if lam > max options.LyapunovFloor (3.0 * (if Double.IsNaN lamErr then 0.0 else lamErr)) then Chaotic
            elif rho >= options.RhoTolerance then LimitCycle
            elif sd < 1e-3 * rms ystar then FixedPoint
            else OtherOrdered
        { Neurons = N; WindowFitError = fit; PathError = Math.Sqrt(pathErr / max 1e-300 pathNorm); Lyapunov = lam
          LyapunovError = lamErr; LagCorrelation = rho; Amplitude = rms meas / max 1e-300 (rms ystar); Class = cls; Output = output }

    /// Ordered fraction (binomial error) and mean λ̂ (s.e. over the networks, or the single network's block s.e.) of
    /// classified networks at one γ.
    static member Summarise(gamma: float, results: RealisationResult[]) : RealisationEnsemble =
        Validate.AtLeast("realisations", results.Length, 1) |> ignore
        let R = results.Length
        let f = (results |> Array.filter (fun r -> r.Ordered) |> Array.length |> float) / float R
        let ls = results |> Array.map (fun r -> r.Lyapunov)
        let mu = Array.average ls
        let se =
            if R < 2 then results.[0].LyapunovError
            else Math.Sqrt((ls |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (R - 1) / float R)
        { Gamma = gamma; Results = results; OrderedFraction = f
          OrderedFractionError = Math.Sqrt(f * (1.0 - f) / float R); MeanLyapunov = mu; MeanLyapunovError = se }

    /// R realisations (replicates 0 … R−1) of one saddle point: ordered fraction with its binomial error and mean λ̂.
    static member Ensemble(solution: TiltedSolution, options: RealisationOptions, realisations: int) : RealisationEnsemble =
        Validate.AtLeast("realisations", realisations, 1) |> ignore
        let rs = Array.init realisations (fun r -> TiltedRealisation.Run(solution, { options with Replicate = r }))
        TiltedRealisation.Summarise(solution.Problem.Gamma, rs)

namespace Theory.Core.Dmft

open System
open System.Threading.Tasks
open Theory.Core
open Theory.Core.Numerics

/// Options of the N = ∞ extension past the training window and of the two-replica (tangent) DMFT.
type ChaosOptions =
    { /// Length of the extension past the window, in time units. Default 4 periods of the task (40).
      Extension: float
      /// Fraction of the extension discarded before fitting the growth rate of E[δx²]. Default 0.5.
      FitSkip: float
      /// Jackknife groups (disjoint subsets of the particles, each left out once) for the bias correction and the
      /// standard error of λ̂ and of the persistence. Default 4.
      JackknifeGroups: int
      /// Relative ridge of the readout α = (C + δI)⁻¹y*, δ = rel·tr C/n, in the free-running output
      /// y(t) = C(t, window)·α: C of the window is numerically singular (smooth paths), so the exact kernel-regression
      /// coefficients amplify the Monte Carlo noise of C(t, window) [reconstructed regulariser]. Default 0.01.
      ReadoutRidge: float
      /// Seed of the extension draws (fresh field innovations and perturbation directions, per particle).
      Seed: int64 }
    /// Extension 40, fit on the second half, 4 jackknife groups, readout ridge 0.01, seed 1.
    static member Default = { Extension = 40.0; FitSkip = 0.5; JackknifeGroups = 4; ReadoutRidge = 0.01; Seed = 1L }

/// One extension on a set of particles (internal; TiltedChaos combines several for the jackknife).
type internal ExtensionRun =
    { C: float[,]
      Output: float[]
      Persistence: float
      LogSeparation: float[]
      Lyapunov: float
      Clamped: int }

/// The extended DMFT solution and the two-replica growth rate, jackknife-corrected.
type ChaosResult =
    { /// Times of the extended grid t_k = kΔt, k = 0..n+K−1 (window and extension).
      Times: float[]
      /// C(t, t') on the extended grid: the solution's C on the window, particle estimates elsewhere (all particles).
      C: float[,]
      /// Free-running output y(t) = C(t, window)·(C + δI)⁻¹y* (first target), all particles.
      Output: float[]
      /// Criterion (a): rms of y over the last period of the extension over rms y*; jackknife-corrected, its standard
      /// error and the estimated O(1/S) bias that was removed.
      Persistence: float
      PersistenceError: float
      PersistenceBias: float
      /// Times of the tangent process (t ≥ T) and ½ ln E[δx(t)²] there (all particles).
      TangentTimes: float[]
      LogSeparation: float[]
      /// Criterion (b): growth rate λ̂ of ½ ln E[δx²] over the fit interval, jackknife-corrected, its jackknife
      /// standard error and the removed bias (λ̂ on all particles minus the corrected value).
      Lyapunov: float
      LyapunovError: float
      LyapunovBias: float
      /// λ̂ on all particles without the correction.
      LyapunovRaw: float
      /// Schur complements clamped at zero (Monte Carlo noise made a conditional variance negative), all runs.
      ClampedVariances: int
      Samples: int }

/// Extension past the training window (research note dmft-learned.md §5a) and the linearised two-replica DMFT (§5b) at
/// N = ∞. After the window the tilt is absent, so the field of the trained network is the prior Gaussian process
/// conditioned on the window: the window fields s_&lt; (covariance Σ = g²C + C^I, the solution's, exact) and the
/// later recurrent fields η_k (covariance g²C(t, t'), C estimated from the particles as the march proceeds) are
/// jointly Gaussian, and so is the tangent field δη of a replica perturbed at t = T (covariances g²E[ψφᵀ], g²E[ψψᵀ],
/// ψ = φ'(x)δx; note §5b). The full history is kept: one Cholesky factor of the joint covariance is extended variable
/// by variable in causal order, and every particle draws its innovation from its own seeded stream. The process
/// noise of the window (white, σ²) continues past it on the field η [reconstructed: it keeps the conditional variances
/// of the smooth paths positive; the same noise drives both replicas, so it cancels in the tangent field]. λ̂ is the growth rate of E[δx²]; on a limit
/// cycle λ = 0 (phase mode), in chaos λ &gt; 0. The covariances are estimated from S particles, which biases λ̂ at
/// O(1/S): the delete-a-group jackknife (JackknifeGroups) removes the leading bias and gives the standard error.
/// At γ = 0 this is the SCS two-replica (Lyapunov) problem on the transient (note §2.3); tested against λ_max.
[<AbstractClass; Sealed>]
type TiltedChaos private () =

    /// One extension on the particles `idx` of a solution. fullC = false fills only the columns of the extended C
    /// against the window (all the output needs; the jackknife's leave-a-group-out runs use nothing else), the rest
    /// stays 0.
    static member internal Run(solution: TiltedSolution, idx: int[], steps: int, options: ChaosOptions, fullC: bool) : ExtensionRun =
        let p = solution.Problem
        let n = p.Points
        let g2 = p.G * p.G
        let e = Math.Exp(-p.Dt)
        let M = idx.Length
        let smp = solution.Samples
        let total = n + steps
        // Variables: 0..n−1 window fields s; then per step k ≥ n the field η_k (index n + 2(k−n)) and the tangent
        // field δη_k (n + 2(k−n) + 1). Cholesky factor rows, lower triangle, jagged.
        let nv = n + 2 * steps
        let L = Array.init nv (fun v -> Array.zeroCreate (v + 1))
        // Window block: the empirical Gram of this particle set, g²Ĉ + C^I, so that every block of the joint covariance is
        // a Gram of the same samples (positive semi-definite; mixing the exact Σ with sample cross-covariances makes
        // Schur complements negative through Σ⁻¹'s small directions). Its O(1/S) bias is what the jackknife removes.
        let chat = Array.zeroCreate (n * n)
        for s in 0 .. M - 1 do SmallDense.addOuterUpper chat n smp.Rates.[idx.[s]]
        SmallDense.mirrorUpper chat n
        let sigma = Array.init (n * n) (fun i -> g2 * chat.[i] / float M + (match p.InputKernel with Some k -> k.[i / n, i % n] | None -> 0.0))
        let ls = Array.copy sigma
        if Double.IsNaN(SmallDense.choleskyInPlace ls n) then
            raise (NoSolutionException "the window field covariance of the solution is not positive definite")
        for r in 0 .. n - 1 do
            for c in 0 .. r do L.[r].[c] <- ls.[r * n + c]
        // Per particle: whitened variables ξ (window by forward substitution), features f_v (φ for s/η, ψ for δη),
        // paths x and tangent δx on the extended grid.
        let xi = Array.init M (fun _ -> Array.zeroCreate nv)
        let feat = Array.init nv (fun _ -> Array.zeroCreate M) // variable-major: contiguous covariance dots
        let xs = Array.init M (fun _ -> Array.zeroCreate total)
        let dx = Array.init M (fun _ -> Array.zeroCreate total)
        let phiT = Array.init total (fun _ -> Array.zeroCreate M) // φ(x_k) per time, particle-contiguous (C rows)
        Parallel.For(0, M, fun s ->
            let i = idx.[s]
            let sv = smp.Fields.[i]
            let z = xi.[s]
            for r in 0 .. n - 1 do
                let mutable a = sv.[r]
                for c in 0 .. r - 1 do a <- a - L.[r].[c] * z.[c]
                z.[r] <- a / L.[r].[r]
            for k in 0 .. n - 1 do
                xs.[s].[k] <- smp.Paths.[i].[k]
                feat.[k].[s] <- smp.Rates.[i].[k]
            xs.[s].[n] <- e * smp.Paths.[i].[n - 1] + (1.0 - e) * sv.[n - 1]) |> ignore
        for k in 0 .. n - 1 do Array.blit feat.[k] 0 phiT.[k] 0 M
        let rngs = Array.init M (fun s -> Rng.ForStream(options.Seed, 50000L + int64 idx.[s]))
        let fM = float M
        let mutable clamped = 0
        // The L row of variable v with covariance row cov (length v+1, last = its variance), by forward substitution.
        let factorRow (v: int) (cov: float[]) =
            let row = L.[v]
            for j in 0 .. v - 1 do
                let lj = L.[j]
                if lj.[j] > 0.0 then
                    let a = cov.[j] - SmallDense.dot row 0 lj 0 j
                    row.[j] <- a / lj.[j]
                else row.[j] <- 0.0 // a deterministic earlier variable carries no new direction
            let mutable d = cov.[v] - SmallDense.dot row 0 row 0 v
            if d < 1e-14 * max cov.[v] 1e-300 then
                clamped <- clamped + 1
                d <- 0.0
            row.[v] <- Math.Sqrt d
        // Adds the step's two variables v and v + 1 (η_k, then δη_k) with covariance rows covV, covW: their L rows, then
        // every particle's values Σ_j L_uj ξ_j + L_uu ξ_u with fresh ξ_v, ξ_(v+1) drawn in that order from its stream.
        // Both sums come from one pass over the particle's ξ (SmallDense.dotPair: the bits of two separate dots).
        let addPair (v: int) (covV: float[]) (covW: float[]) (valuesV: float[]) (valuesW: float[]) =
            factorRow v covV
            factorRow (v + 1) covW
            let rowV = L.[v]
            let rowW = L.[v + 1]
            Parallel.For(0, M, fun s ->
                let z = xi.[s]
                let freshV = rngs.[s].NextGaussian()
                z.[v] <- if rowV.[v] > 0.0 then freshV else 0.0
                let freshW = rngs.[s].NextGaussian()
                z.[v + 1] <- if rowW.[v + 1] > 0.0 then freshW else 0.0
                let struct (dv, dw) = SmallDense.dotPair rowV v rowW (v + 1) z
                valuesV.[s] <- dv + rowV.[v] * z.[v]
                valuesW.[s] <- dw + rowW.[v + 1] * z.[v + 1]) |> ignore
        // Covariance rows of the step's two variables u = v, v + 1 with feature columns f_u (per particle) against all
        // earlier variables: window fields s_j: g²E[f φ_j] (the noise part of s is independent of later fields); later
        // η/δη: g²E[f f_u]. One pass over each earlier feature column serves both rows.
        let covPair (v: int) =
            let covV = Array.zeroCreate (v + 1)
            let covW = Array.zeroCreate (v + 2)
            let fv, fw = feat.[v], feat.[v + 1]
            Parallel.For(0, v + 1, fun u ->
                let struct (a, b) = SmallDense.dotPair fv M fw M feat.[u]
                covV.[u] <- g2 * a / fM
                covW.[u] <- g2 * b / fM) |> ignore
            covW.[v + 1] <- g2 * SmallDense.dot fw 0 fw 0 M / fM
            covV, covW
        let values = Array.zeroCreate M
        let etaK = Array.zeroCreate M
        let noise2 =
            match p.InputKernel with
            | None -> 0.0
            | Some k -> k.[n - 1, n - 1]
        let logSep = Array.zeroCreate steps
        let pertRng = Array.init M (fun s -> Rng.ForStream(options.Seed, 60000L + int64 idx.[s]))
        for k in n .. total - 1 do
            let vEta = n + 2 * (k - n)
            let vTan = vEta + 1
            // x_k is known (from the previous field); its φ is the feature of η_k; δx_k (perturbed at k = n).
            Parallel.For(0, M, fun s ->
                let f = SiteNonlinearity.apply p.Phi xs.[s].[k]
                feat.[vEta].[s] <- f
                phiT.[k].[s] <- f
                if k = n then dx.[s].[k] <- pertRng.[s].NextGaussian()
                feat.[vTan].[s] <- SiteNonlinearity.derivativeFromValue p.Phi f * dx.[s].[k]) |> ignore
            let mutable d2 = 0.0
            for s in 0 .. M - 1 do d2 <- d2 + dx.[s].[k] * dx.[s].[k]
            logSep.[k - n] <- 0.5 * Math.Log(d2 / fM)
            // η_k (plus the process noise, which continues past the window: its common realisation cancels in the
            // tangent field), then δη_k (its covariance row includes η_k).
            let ce, ct = covPair vEta
            ce.[vEta] <- ce.[vEta] + noise2
            addPair vEta ce ct etaK values
            if k + 1 < total then
                Parallel.For(0, M, fun s ->
                    xs.[s].[k + 1] <- e * xs.[s].[k] + (1.0 - e) * etaK.[s]
                    dx.[s].[k + 1] <- e * dx.[s].[k] + (1.0 - e) * values.[s]) |> ignore
        // Extended C: window block from the solution, the rest from the particles.
        let C = Array2D.zeroCreate total total
        for a in 0 .. n - 1 do
            for b in 0 .. n - 1 do C.[a, b] <- solution.C.[a, b]
        Parallel.For(n, total, fun a ->
            for b in 0 .. (if fullC then a else n - 1) do
                let v = SmallDense.dot phiT.[a] 0 phiT.[b] 0 M / fM
                C.[a, b] <- v
                C.[b, a] <- v) |> ignore
        // Output y(t) = C(t, window)·(C + δI)⁻¹y*.
        let y = p.Targets.[0]
        let tr = Seq.init n (fun j -> solution.C.[j, j]) |> Seq.sum
        let reg = Array.init (n * n) (fun i -> solution.C.[i / n, i % n] + (if i / n = i % n then options.ReadoutRidge * tr / float n else 0.0))
        let alpha =
            match TiltFields.factor reg n with
            | Some(_, inv, _) -> let a = Array.zeroCreate n in SmallDense.matVec inv y a n; a
            | None -> raise (NoSolutionException "the regularised window kernel is not positive definite")
        let output = Array.init total (fun a -> Seq.init n (fun j -> C.[a, j] * alpha.[j]) |> Seq.sum)
        let rms (a: float[]) = Math.Sqrt(a |> Array.averageBy (fun v -> v * v))
        let persistence = rms output.[total - n ..] / max 1e-300 (rms y)
        // Least-squares slope of ½ ln E[δx²] over the fit interval.
        let ts = Array.init steps (fun j -> float (n + j) * p.Dt)
        let i0 = min (steps - 3) (int (options.FitSkip * float steps))
        let tf = ts.[i0 ..]
        let lf = logSep.[i0 ..]
        let tm = Array.average tf
        let lm = Array.average lf
        let sxx = tf |> Array.sumBy (fun t -> (t - tm) ** 2.0)
        let slope = (Array.map2 (fun t l -> (t - tm) * (l - lm)) tf lf |> Array.sum) / sxx
        { C = C; Output = output; Persistence = persistence; LogSeparation = logSep; Lyapunov = slope; Clamped = clamped }

    /// Extends a converged Monte Carlo solution past its window and marches the tangent replica (all particles, and
    /// each jackknife subset).
    static member Extend(solution: TiltedSolution, options: ChaosOptions) : ChaosResult =
        let p = solution.Problem
        if p.Targets.Length = 0 then raise (ParameterOutOfDomainException("targets", "none", "at least one target"))
        if solution.Samples.Count = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no samples)", "a Monte Carlo solution"))
        Validate.Positive("extension", options.Extension) |> ignore
        Validate.InRange("fitSkip", options.FitSkip, 0.0, 0.9) |> ignore
        Validate.AtLeast("jackknifeGroups", options.JackknifeGroups, 2) |> ignore
        Validate.Positive("readoutRidge", options.ReadoutRidge) |> ignore
        let S = solution.Samples.Count
        let G = options.JackknifeGroups
        if S < 16 * G then raise (ParameterOutOfDomainException("samples", string S, sprintf ">= %d particles for %d jackknife groups" (16 * G) G))
        let n = p.Points
        let steps = max 8 (int (Math.Round(options.Extension / p.Dt)))
        let full = TiltedChaos.Run(solution, Array.init S id, steps, options, true)
        let groupOf i = i % G
        let loo = Array.init G (fun gr -> TiltedChaos.Run(solution, [| for i in 0 .. S - 1 do if groupOf i <> gr then yield i |], steps, options, false))
        let jack (f: ExtensionRun -> float) =
            let th = f full
            let parts = loo |> Array.map f
            let mean = Array.average parts
            let corrected = float G * th - float (G - 1) * mean
            let se = Math.Sqrt(float (G - 1) / float G * (parts |> Array.sumBy (fun v -> (v - mean) ** 2.0)))
            corrected, se, th - corrected
        let lam, lamSe, lamBias = jack (fun r -> r.Lyapunov)
        let per, perSe, perBias = jack (fun r -> r.Persistence)
        { Times = Array.init (n + steps) (fun k -> float k * p.Dt); C = full.C; Output = full.Output
          Persistence = per; PersistenceError = perSe; PersistenceBias = perBias
          TangentTimes = Array.init steps (fun j -> float (n + j) * p.Dt); LogSeparation = full.LogSeparation
          Lyapunov = lam; LyapunovError = lamSe; LyapunovBias = lamBias; LyapunovRaw = full.Lyapunov
          ClampedVariances = full.Clamped + (loo |> Array.sumBy (fun r -> r.Clamped)); Samples = S }

/// The tilted single-neuron preactivation distribution at one grid time (the paper: Gaussian at γ = 0, non-Gaussian
/// for γ &gt; 0).
type PreactivationDistribution =
    { Time: float
      /// Bin edges (Bins + 1) and the normalised density per bin.
      Edges: float[]
      Density: float[]
      Mean: float
      Variance: float
      /// Excess kurtosis E[(x−m)⁴]/Var² − 3 (0 for a Gaussian).
      ExcessKurtosis: float
      /// Its standard error under Gaussianity, √(24/M).
      ExcessKurtosisError: float
      Samples: int }

/// Preactivations x(t) of the tilted single-site measure (the solution's equal-weight particles).
[<AbstractClass; Sealed>]
type TiltedPreactivation private () =
    /// x(t_k) for every particle of a Monte Carlo solution.
    static member Samples(solution: TiltedSolution, k: int) : float[] =
        let n = solution.Problem.Points
        Validate.InRange("k", float k, 0.0, float (n - 1)) |> ignore
        if solution.Samples.Count = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no samples)", "a Monte Carlo solution"))
        solution.Samples.Paths |> Array.map (fun x -> x.[k])

    /// Histogram and moments of x(t) at the grid point nearest t.
    static member At(solution: TiltedSolution, t: float, bins: int) : PreactivationDistribution =
        Validate.AtLeast("bins", bins, 2) |> ignore
        let p = solution.Problem
        let k = int (Math.Round(t / p.Dt))
        let xs = TiltedPreactivation.Samples(solution, min (p.Points - 1) (max 0 k))
        let m = Array.average xs
        let v = xs |> Array.averageBy (fun x -> (x - m) ** 2.0)
        let m4 = xs |> Array.averageBy (fun x -> (x - m) ** 4.0)
        let sd = Math.Sqrt v
        let lo = m - 4.0 * sd
        let hi = m + 4.0 * sd
        let w = (hi - lo) / float bins
        let counts = Array.zeroCreate bins
        for x in xs do
            let b = int ((x - lo) / w)
            if b >= 0 && b < bins then counts.[b] <- counts.[b] + 1.0
        { Time = float k * p.Dt; Edges = Array.init (bins + 1) (fun i -> lo + float i * w)
          Density = counts |> Array.map (fun c -> c / (float xs.Length * w)); Mean = m; Variance = v
          ExcessKurtosis = (if v > 0.0 then m4 / (v * v) - 3.0 else 0.0)
          ExcessKurtosisError = Math.Sqrt(24.0 / float xs.Length); Samples = xs.Length }

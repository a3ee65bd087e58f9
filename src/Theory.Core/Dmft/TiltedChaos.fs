namespace Theory.Core.Dmft

open System
open System.Threading.Tasks
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// Options of the free-running extension past the training window and of the two-replica (tangent) DMFT.
type ChaosOptions =
    { /// Length of the extension past the window, in time units. Default 4 periods of the task (40).
      Extension: float
      /// Delay after the end of the window before the tangent perturbation starts. Default 0 (t_p = T).
      PerturbationDelay: float
      /// Fraction of the perturbation interval discarded before fitting the growth rate. Default 0.5.
      FitSkip: float
      /// Relative jitter δ added to the variance of every field variable (Cholesky of Σ + δ·diag Σ): a small white
      /// field noise that keeps the causal regression on smooth, nearly collinear paths well conditioned. Default 1e-3.
      Regularisation: float
      /// Memory of the causal regression for t &gt; T, in time units: the conditional of a new field variable uses the
      /// variables of the last `Memory` time units (an empirical Gram on M samples is biased by ~J/M for J regressors,
      /// so the full history cannot be used). Default 10 (one period of the task).
      Memory: float
      /// Undo the least-squares bias (M_h − p)/M_h of the residual (innovation) variance. Default false: it raises λ̂
      /// towards the SCS value but inflates C past the window (measured trade-off, docs/dmft-nonlinear.md).
      ResidualCorrection: bool
      /// Regress on a sparse set of lags (all ≤ 4 steps, then geometric) instead of every step of the memory.
      /// Default false (sparse lags reduce the C bias but lower λ̂ further).
      SparseLags: bool
      /// Seed of the extension draws (fresh field increments and perturbation directions).
      Seed: int64 }
    /// Extension 40, perturbation at t = T, fit on the second half, jitter 1e-3, memory 10, seed 1.
    static member Default = { Extension = 40.0; PerturbationDelay = 0.0; FitSkip = 0.5; Regularisation = 1e-3; Memory = 10.0; ResidualCorrection = false; SparseLags = false; Seed = 1L }

/// Window paths of tilted chains (autonomous problems): η = chol(g²C)·ξ and x = e^{−t}x0 + Pη on the grid.
module internal TiltedPaths =
    /// (η, x) per chosen chain (rows in `chains` order), with lc = chol(g²C); chains in parallel.
    let Window(solution: TiltedSolution, lc: Matrix<float>, chains: int[]) =
        let p = solution.Problem
        let n = p.Points
        let m = chains.Length
        let eta = Array.init m (fun _ -> Array.zeroCreate n)
        let xs = Array.init m (fun _ -> Array.zeroCreate n)
        Parallel.For(0, m, fun s ->
            let w = solution.Chains.[chains.[s]]
            for k in 0 .. n - 1 do
                let mutable a = 0.0
                for j in 0 .. k do a <- a + lc.[k, j] * w.[1 + j]
                eta.[s].[k] <- a
            for k in 0 .. n - 1 do
                let mutable v = p.X0Response.[k] * Math.Sqrt p.X0Variance * w.[0]
                for j in 0 .. k - 1 do v <- v + p.Propagator.[k, j] * eta.[s].[j]
                xs.[s].[k] <- v) |> ignore
        eta, xs

/// The extended DMFT solution and the two-replica growth rate.
type ChaosResult =
    { /// Times of the extended grid t_k = kΔt, k = 0..n+K−1 (window and extension).
      Times: float[]
      /// C(t, t') on the extended grid: the solver's C on the window, sample estimates elsewhere.
      C: float[,]
      /// Free-running output y(t) = C(t, window)·C_window⁻¹·y* (first target), on the extended grid.
      Output: float[]
      /// rms of y over the last period of the extension divided by rms of y* (persistence criterion (a)).
      Persistence: float
      /// Times of the tangent process and ln E[δx(t)²] there.
      TangentTimes: float[]
      LogSeparation: float[]
      /// Growth rate λ̂ = slope of ½ ln E[δx²] over the fit interval (criterion (b)).
      Lyapunov: float
      /// Standard error of the least-squares slope (from the fit residuals; a lower bound on the MC error).
      LyapunovFitError: float }

/// Extension past the training window (research note dmft-learned.md §5a) and the linearised two-replica DMFT (§5b,
/// §6.5). For t &gt; T the tilt is absent (Λ and C^y live on the window), so the field is the prior conditional
/// η_&gt; | η_&lt; ~ N(Σ_&gt;&lt;Σ_&lt;&lt;⁻¹η_&lt;, …), Σ = g²C, with C(t, ·) for t &gt; T estimated causally from the tilted samples.
/// The tangent field δη of a replica perturbed at t_p is jointly Gaussian with η with covariance g²[[C, Bᵀ], [B, Q]],
/// B = E[φ'δx φᵀ], Q = E[φ'δx φ'δx] (equivalently δη | η ~ N(BC⁻¹η, g²(Q − BC⁻¹Bᵀ)), note §5b). Both are marched by
/// extending one Cholesky factor variable by variable in causal order. λ̂ is the exponential growth rate of E[δx²].
/// At γ = 0 this is the SCS two-replica (Lyapunov) equation of note §2.3 on the transient.
/// Deviations: the Cholesky blocks mix the solver's C (window) with sample estimates (extension); a negative Schur
/// complement from Monte Carlo noise is clamped to zero. On a limit cycle λ̂ → 0 (phase mode), no projection is made.
[<AbstractClass; Sealed>]
type TiltedChaos private () =
    static let blockCount = 16

    /// Extends a converged solution past its window and marches the tangent replica.
    static member Extend(solution: TiltedSolution, options: ChaosOptions) : ChaosResult =
        let p = solution.Problem
        if p.InputKernel.IsSome then
            raise (ParameterOutOfDomainException("problem", "with input", "an autonomous problem (no input) for the extension"))
        if solution.Chains.Length = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no chains)", "a Monte Carlo solution"))
        Validate.Positive("extension", options.Extension) |> ignore
        Validate.NonNegative("perturbationDelay", options.PerturbationDelay) |> ignore
        Validate.InRange("fitSkip", options.FitSkip, 0.0, 0.9) |> ignore
        Validate.InRange("regularisation", options.Regularisation, 1e-12, 1.0) |> ignore
        Validate.Positive("memory", options.Memory) |> ignore
        let n = p.Points
        let dt = p.Dt
        let e = Math.Exp(-dt)
        let K = max 4 (int (Math.Round(options.Extension / dt)))
        let kp = n + min (K - 3) (int (Math.Round(options.PerturbationDelay / dt)))
        let total = n + K
        let g2 = p.G * p.G
        let M = solution.Chains.Length
        let per = (M + blockCount - 1) / blockCount
        let jmax = n + K + (total - kp)
        let lc = TiltedLinAlg.chol (TiltedLinAlg.toM solution.C * g2)
        // Regularised factor of the window block: chol(g²(C + δ·diag C)); all later variables get the same relative
        // jitter δ on their variance (a Cholesky of Σ + δ·diag Σ), which bounds the regression coefficients.
        let jit = options.Regularisation
        let phiOf0 = SiteNonlinearity.apply p.Phi
        // Window paths first (x and φ per sample), then the empirical window Gram Ĉ: every block of the covariance
        // is then an empirical Gram of the same samples (plus jitter), hence positive definite and consistent.
        let etaW, xW = TiltedPaths.Window(solution, lc, Array.init M id)
        let cemp = Matrix<float>.Build.Dense(n, n)
        for s in 0 .. M - 1 do
            let f = xW.[s] |> Array.map phiOf0
            for k in 0 .. n - 1 do
                for j in 0 .. k do cemp.[k, j] <- cemp.[k, j] + f.[k] * f.[j]
        for k in 0 .. n - 1 do
            for j in 0 .. k do
                cemp.[k, j] <- cemp.[k, j] / float M
                cemp.[j, k] <- cemp.[k, j]
        // Per-sample histories: feature f_v (φ for η variables, ψ = φ'δx for δη variables) and value v (η or δη).
        let F = Array.init M (fun _ -> Array.zeroCreate jmax)
        let V = Array.init M (fun _ -> Array.zeroCreate jmax)
        let xs = Array.init M (fun _ -> Array.zeroCreate total)
        let dx = Array.init M (fun _ -> Array.zeroCreate total)
        let etaLast = Array.zeroCreate M
        let detaLast = Array.zeroCreate M
        let rngs = Array.init blockCount (fun b -> Rng.ForStream(options.Seed, int64 (5000 + b)))
        let phiOf = SiteNonlinearity.apply p.Phi
        for s in 0 .. M - 1 do
            for k in 0 .. n - 1 do
                xs.[s].[k] <- xW.[s].[k]
                F.[s].[k] <- phiOf xW.[s].[k]
                V.[s].[k] <- etaW.[s].[k]
            etaLast.[s] <- etaW.[s].[n - 1]
        // Cross-fitting: the chains are split into two halves (blocks 0..7 and 8..15); the regression of a new field
        // variable on its history is estimated on one half and applied to the other, so that the regression noise is
        // independent of the samples it is applied to (in-sample regression on J regressors biases the covariance by
        // ~J/M and the bias compounds along the march). Gram rows per half: gram[h][v][u] = g²Ê_h[f_v f_u].
        let halfOf (blk: int) = if blk < blockCount / 2 then 0 else 1
        let halfCount = Array.init 2 (fun hh -> [ 0 .. blockCount - 1 ] |> List.filter (fun blk -> halfOf blk = hh) |> List.sumBy (fun blk -> max 0 (min M ((blk + 1) * per) - blk * per)))
        if halfCount |> Array.exists (fun c -> c < 2) then
            raise (ParameterOutOfDomainException("chains", string M, ">= 64 chains for the cross-fitted extension"))
        let gram = Array.init 2 (fun _ -> Collections.Generic.List<Collections.Generic.Dictionary<int, float>>())
        let varTime = Collections.Generic.List<int>()
        let cempH =
            Array.init 2 (fun hh ->
                let c = Array2D.zeroCreate n n
                for blk in 0 .. blockCount - 1 do
                    if halfOf blk = hh then
                        for s in blk * per .. min M ((blk + 1) * per) - 1 do
                            let f = F.[s]
                            for k in 0 .. n - 1 do
                                for j in 0 .. k do c.[k, j] <- c.[k, j] + f.[k] * f.[j]
                c)
        for k in 0 .. n - 1 do
            for hh in 0 .. 1 do
                let d = Collections.Generic.Dictionary<int, float>()
                for j in 0 .. k do d.[j] <- g2 * cempH.[hh].[k, j] / float halfCount.[hh]
                gram.[hh].Add d
            varTime.Add k
        let h = max 1 (int (Math.Round(options.Memory / dt)))
        let lagSet =
            if options.SparseLags then
                let hs = Collections.Generic.HashSet<int>([ 0; 1; 2; 3; 4 ])
                let mutable l = 4.0
                while l * 1.35 <= float h + 1e-9 do
                    l <- l * 1.35
                    hs.Add(int (Math.Round l)) |> ignore
                hs.Add h |> ignore
                hs
            else Collections.Generic.HashSet<int>([ 0 .. h ])
        let mutable J = n
        let gramAt (hh: int) (a: int) (b: int) = if a >= b then gram.[hh].[a].[b] else gram.[hh].[b].[a]
        // Adds one variable (feature already in F[s][J]): regression on the variables of the last `Memory` time units
        // with the empirical Gram of the other half (+ jitter), then value = β·(history values) + residual noise.
        let addVariable (isTangent: bool) (k: int) =
            let first =
                let mutable i = J - 1
                while i > 0 && varTime.[i - 1] >= k - h do i <- i - 1
                max 0 i
            let width = J - first
            let parts = Array.init blockCount (fun _ -> Array.zeroCreate (width + 1))
            Parallel.For(0, blockCount, fun b ->
                let acc = parts.[b]
                for s in b * per .. min M ((b + 1) * per) - 1 do
                    let f = F.[s]
                    Simd.axpy f.[J] f first acc 0 (width + 1)) |> ignore
            let covH = Array.init 2 (fun _ -> Array.zeroCreate (width + 1))
            for b in 0 .. blockCount - 1 do
                let hh = halfOf b
                Simd.axpy (g2 / float halfCount.[hh]) parts.[b] 0 covH.[hh] 0 (width + 1)
            for hh in 0 .. 1 do
                let d = Collections.Generic.Dictionary<int, float>()
                for i in 0 .. width do d.[first + i] <- covH.[hh].[i]
                gram.[hh].Add d
            varTime.Add k
            // Regressors: the history variables at lags in the sparse set (all lags ≤ 4 steps, then geometric), which
            // keeps the regression dimension p ≈ 25 ≪ M (the least-squares biases scale as p/M).
            let sel = [| for i in first .. J - 1 do if lagSet.Contains(k - varTime.[i]) then yield i |]
            let ps = sel.Length
            let fit (hh: int) =
                let cov = covH.[hh]
                let G = Matrix<float>.Build.Dense(ps, ps, fun i j -> gramAt hh sel.[i] sel.[j] * (if i = j then 1.0 + jit else 1.0))
                let c = Vector<float>.Build.DenseOfArray(sel |> Array.map (fun i -> cov.[i - first]))
                let lg = TiltedLinAlg.chol G
                let beta = lg.Transpose().Solve(lg.Solve c).ToArray()
                // In-sample residual variance on `width` regressors from M_h samples is biased low by (M_h − width)/M_h
                // (least squares); undo it so that the innovation of the field is not underestimated.
                let mh = float halfCount.[hh]
                let resid =
                    max 0.0 (cov.[width] * (1.0 + jit) - Array.fold2 (fun acc bb cc -> acc + bb * cc) 0.0 beta (c.ToArray()))
                    * (if options.ResidualCorrection then mh / max 1.0 (mh - float ps) else 1.0)
                beta, Math.Sqrt resid
            let fits = [| fit 0; fit 1 |]
            let jj = J
            Parallel.For(0, blockCount, fun b ->
                let rng = rngs.[b]
                let beta, sd = fits.[1 - halfOf b]
                for s in b * per .. min M ((b + 1) * per) - 1 do
                    let vs = V.[s]
                    let mutable v = sd * rng.NextGaussian()
                    for i in 0 .. ps - 1 do v <- v + beta.[i] * vs.[sel.[i]]
                    V.[s].[jj] <- v
                    if isTangent then detaLast.[s] <- v else etaLast.[s] <- v) |> ignore
            J <- J + 1
        let logSep = Collections.Generic.List<float>()
        let tanTimes = Collections.Generic.List<float>()
        for k in n .. total - 1 do
            // Advance x (and δx) to t_k.
            Parallel.For(0, blockCount, fun b ->
                let rng = rngs.[b]
                for s in b * per .. min M ((b + 1) * per) - 1 do
                    let xk = e * xs.[s].[k - 1] + (1.0 - e) * etaLast.[s]
                    xs.[s].[k] <- xk
                    F.[s].[J] <- phiOf xk
                    if k = kp then dx.[s].[k] <- rng.NextGaussian()
                    elif k > kp then dx.[s].[k] <- e * dx.[s].[k - 1] + (1.0 - e) * detaLast.[s]) |> ignore
            addVariable false k
            if k >= kp then
                let mutable d = 0.0
                for s in 0 .. M - 1 do
                    let xk = xs.[s].[k]
                    F.[s].[J] <- SiteNonlinearity.derivative p.Phi xk * dx.[s].[k]
                    d <- d + dx.[s].[k] * dx.[s].[k]
                logSep.Add(Math.Log(d / float M))
                tanTimes.Add(float k * dt)
                addVariable true k
        // Extended C: window block from the solver, the rest from samples.
        let C = Array2D.zeroCreate total total
        for k in 0 .. n - 1 do
            for j in 0 .. k do
                C.[k, j] <- solution.C.[k, j]
                C.[j, k] <- solution.C.[k, j]
        // φ of every sample once (time-major, so the sum over samples reads contiguously); rows k ≥ n in parallel,
        // each entry summed over s in order by one thread (results do not depend on the thread count).
        let phiT = Array.init total (fun k -> Array.init M (fun s -> phiOf xs.[s].[k]))
        Parallel.For(n, total, fun k ->
            let pk = phiT.[k]
            for j in 0 .. k do
                let pj = phiT.[j]
                let mutable a = 0.0
                for s in 0 .. M - 1 do a <- a + pk.[s] * pj.[s]
                let v = a / float M
                C.[k, j] <- v
                C.[j, k] <- v) |> ignore
        let y = p.Targets.[0]
        let cw = TiltedLinAlg.toM solution.C
        // Regularised readout (δ = 1e-2·tr C/n, the solver's default readout noise): C_window is near-singular.
        let cwr = cw + Matrix<float>.Build.DenseIdentity(n) * (1e-2 * cw.Trace() / float n)
        let alpha = cwr.Cholesky().Solve(Vector<float>.Build.DenseOfArray y)
        let output = Array.init total (fun k -> Seq.init n (fun j -> C.[k, j] * alpha.[j]) |> Seq.sum)
        let rms (a: float[]) = Math.Sqrt(a |> Array.averageBy (fun v -> v * v))
        let lastPeriod = output.[total - n ..]
        let persistence = rms lastPeriod / max 1e-300 (rms y)
        // Least-squares slope of ½ ln E[δx²] on the fit interval.
        let ts = tanTimes.ToArray()
        let ls = logSep.ToArray()
        let i0 = min (ts.Length - 3) (int (options.FitSkip * float ts.Length))
        let tf = ts.[i0 ..]
        let lf = ls.[i0 ..] |> Array.map (fun v -> 0.5 * v)
        let tm = Array.average tf
        let lm = Array.average lf
        let sxx = tf |> Array.sumBy (fun t -> (t - tm) ** 2.0)
        let slope = (Array.map2 (fun t l -> (t - tm) * (l - lm)) tf lf |> Array.sum) / sxx
        let res = Array.map2 (fun t l -> l - lm - slope * (t - tm)) tf lf
        let se = Math.Sqrt((res |> Array.sumBy (fun r -> r * r)) / float (max 1 (tf.Length - 2)) / sxx)
        { Times = Array.init total (fun k -> float k * dt); C = C; Output = output; Persistence = persistence
          TangentTimes = ts; LogSeparation = ls; Lyapunov = slope; LyapunovFitError = se }

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

/// Preactivations x(t) of the tilted chains.
[<AbstractClass; Sealed>]
type TiltedPreactivation private () =
    /// x(t_k) for every chain of a Monte Carlo solution.
    static member Samples(solution: TiltedSolution, k: int) : float[] =
        let p = solution.Problem
        let n = p.Points
        Validate.InRange("k", float k, 0.0, float (n - 1)) |> ignore
        if solution.Chains.Length = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no chains)", "a Monte Carlo solution"))
        let lc = TiltedLinAlg.chol (TiltedLinAlg.toM solution.C * (p.G * p.G))
        let aI = p.InputKernel |> Option.map (fun ci -> TiltedLinAlg.toM p.Propagator * TiltedLinAlg.chol (TiltedLinAlg.toM ci))
        let s0 = Math.Sqrt p.X0Variance
        solution.Chains
        |> Array.map (fun w ->
            let mutable v = p.X0Response.[k] * s0 * w.[0]
            for j in 0 .. k - 1 do
                let mutable eta = 0.0
                for i in 0 .. j do eta <- eta + lc.[j, i] * w.[1 + i]
                v <- v + p.Propagator.[k, j] * eta
            match aI with
            | Some a -> for j in 0 .. n - 1 do v <- v + a.[k, j] * w.[1 + n + j]
            | None -> ()
            v)

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

namespace Theory.Core.Dmft

open System
open System.Buffers
open System.Numerics
open System.Threading.Tasks
open Theory.Core
open Theory.Core.Numerics

/// The tilt of one iteration of the saddle-point solver, derived from the order parameters θ = (C, K) and γ
/// (research note dmft-learned.md §3.2): the prior of the trained field s = η + u is N(0, Σ), Σ = g²C + C^I, and the
/// tilt is exp(½ φᵀΛφ) with Λ = g²Σ⁻¹(K − Σ)Σ⁻¹ + γ² Σ_a α_a α_aᵀ, α_a = C⁻¹y*_a (all n×n row-major).
type internal TiltField =
    { Points: int
      Gamma: float
      /// Σ = g²C + C^I, its lower Cholesky factor L and ln det.
      Sigma: float[]
      SigmaChol: float[]
      /// (L⁻¹)ᵀ for Σ = LLᵀ (upper triangular, row-major): sᵀΣ⁻¹s = ‖s·(L⁻¹)ᵀ‖², half the work of the full form.
      SigmaCholInvT: float[]
      SigmaLogDet: float
      /// The field part g²Σ⁻¹(K − Σ)Σ⁻¹ (γ-independent) and the full Λ.
      LambdaField: float[]
      Lambda: float[]
      /// α_a = C⁻¹y*_a (kernel-regression coefficients of the readout).
      Alpha: float[][]
      /// Σ_a y*_aᵀC⁻¹y*_a.
      TargetAlignment: float }

/// Builds the tilt of an iteration (n×n row-major arrays throughout).
module internal TiltFields =
    /// Symmetric positive-definite factorisation: (L, A⁻¹, ln det A) or None when A is not positive definite.
    let factorWithInverseFactor (a: float[]) (n: int) =
        let l = Array.init (n * n) (fun i -> let r, c = i / n, i % n in 0.5 * (a.[r * n + c] + a.[c * n + r]))
        let ld = SmallDense.choleskyInPlace l n
        if Double.IsNaN ld then None
        else
            let inv = Array.zeroCreate (n * n)
            // receives (L⁻¹)ᵀ, upper triangular
            let linvT = Array.zeroCreate (n * n)
            SmallDense.inverseFromCholesky l inv linvT n
            Some(l, inv, ld, linvT)

    /// Symmetric positive-definite factorisation: (L, A⁻¹, ln det A) or None when A is not positive definite.
    let factor (a: float[]) (n: int) = factorWithInverseFactor a n |> Option.map (fun (l, inv, ld, _) -> l, inv, ld)

    /// out = a·b (n×n row-major; out must not alias a or b): the register-blocked BlockKernels.gemm.
    let matMul (a: float[]) (b: float[]) (out: float[]) (n: int) = BlockKernels.gemm a 0 n n b n out 0

    /// The tilt at θ = (C, K), γ: None when C or Σ is not positive definite.
    let derive (problem: TiltedProblem) (inputKernel: float[]) (c: float[]) (k: float[]) (gamma: float) : TiltField option =
        let n = problem.Points
        let g2 = problem.G * problem.G
        let sigma = Array.init (n * n) (fun i -> g2 * c.[i] + inputKernel.[i])
        match factorWithInverseFactor sigma n, factor c n with
        | Some(ls, si, ld, lsInvT), Some(_, ci, _) ->
            let diff = Array.init (n * n) (fun i -> k.[i] - sigma.[i])
            let tmp = Array.zeroCreate (n * n)
            let lf = Array.zeroCreate (n * n)
            matMul si diff tmp n
            matMul tmp si lf n
            for i in 0 .. n * n - 1 do lf.[i] <- g2 * lf.[i]
            // symmetrise (rounding)
            for r in 0 .. n - 1 do
                for cc in r + 1 .. n - 1 do
                    let v = 0.5 * (lf.[r * n + cc] + lf.[cc * n + r])
                    lf.[r * n + cc] <- v
                    lf.[cc * n + r] <- v
            let alpha =
                problem.Targets |> Array.map (fun y ->
                    let a = Array.zeroCreate n
                    SmallDense.matVec ci y a n
                    a)
            let align = Array.fold2 (fun acc (y: float[]) (a: float[]) -> acc + SmallDense.dot y 0 a 0 n) 0.0 problem.Targets alpha
            let lam = Array.copy lf
            let g2m = gamma * gamma
            if g2m > 0.0 then
                for a in alpha do
                    for r in 0 .. n - 1 do SmallDense.axpy (g2m * a.[r]) a 0 lam (r * n) n
            Some { Points = n; Gamma = gamma; Sigma = sigma; SigmaChol = ls; SigmaCholInvT = lsInvT; SigmaLogDet = ld
                   LambdaField = lf; Lambda = lam; Alpha = alpha; TargetAlignment = align }
        | _ -> None

/// Weighted moments of the particles under one tilt (the map H(θ) of the solver), with block standard errors.
type internal ParticleMoments =
    { /// Ĉ = Σ w̄ φφᵀ.
      C: float[]
      /// K̂ = Σ + Σ M̂ Σ with the pathwise (Stein) M̂ = E[∇∇W/W] (Rao–Blackwellised second moment of the trained field).
      K: float[]
      /// Effective sample size (Σw)²/Σw² of the weights.
      Ess: float
      /// Standard errors of ‖Ĉ‖-normalised entries from the spread of the 16 block estimates: √(Σ_kl s.e.²).
      CError: float
      KError: float
      /// Delta-method estimate of the self-normalised importance-sampling bias of Ĉ, −Σ w̄²(φφᵀ − Ĉ) (Frobenius norm).
      SnisBias: float }

/// A cloud of weighted particles of the tilted single-site measure μ ∝ N(s; 0, Σ)·N(x0; 0, σ0²)·N(U; 0, I)·exp(½φᵀΛφ)
/// (note §3.2), with its path x = R·x0 + R_U·U + P·s and φ = φ(x) per particle (S×n row-major arrays; U: S×m, m = the
/// problem's InputWeights, usually 0). The particles are
/// properly weighted for the tilt they were last committed to: BaseLog holds each particle's log target density at
/// that tilt (up to a particle-independent constant), LogWeight its importance weight. Moving the tilt reweights
/// them exactly (Commit); elliptical slice sweeps leave the weighted law invariant (Sweep); systematic resampling
/// resets the weights (Resample). Everything runs in 16 fixed blocks with their own random streams, so results do
/// not depend on the thread count.
type internal ParticleCloud =
    { Problem: TiltedProblem
      Count: int
      Fields: float[]
      X0: float[]
      /// Per-neuron input weights U (S×m row-major).
      Weights: float[]
      X: float[]
      Phi: float[]
      LogWeight: float[]
      BaseLog: float[]
      Rngs: Rng[]
      ResampleRng: Rng }

module internal Particles =
    let blockCount = 16

    let blockRange (count: int) (b: int) =
        let per = (count + blockCount - 1) / blockCount
        b * per, min count ((b + 1) * per)

    /// x = R·x0 + R_U·U + P·s and φ(x) for particle i (rows of the cloud's arrays).
    let computePath (p: TiltedProblem) (cloud: ParticleCloud) (i: int) =
        let n = p.Points
        let m = p.InputWeights
        let o = i * n
        for k in 0 .. n - 1 do
            let mutable v = p.X0Response.[k] * cloud.X0.[i]
            for a in 0 .. m - 1 do v <- v + p.InputWeightResponse.[k, a] * cloud.Weights.[i * m + a]
            for j in 0 .. k - 1 do v <- v + p.Propagator.[k, j] * cloud.Fields.[o + j]
            cloud.X.[o + k] <- v
        for k in 0 .. n - 1 do cloud.Phi.[o + k] <- SiteNonlinearity.apply p.Phi cloud.X.[o + k]

    /// Exact prior draws (γ = 0, Λ = 0): s ~ N(0, Σ) with Σ's factor, x0 ~ N(0, σ0²), U ~ N(0, I) (drawn after x0,
    /// only when m &gt; 0, so problems without input weights keep their streams).
    let prior (p: TiltedProblem) (sigmaChol: float[]) (count: int) (seed: int64) : ParticleCloud =
        let n = p.Points
        let m = p.InputWeights
        let s0 = Math.Sqrt p.X0Variance
        let cloud =
            { Problem = p; Count = count; Fields = Array.zeroCreate (count * n); X0 = Array.zeroCreate count
              Weights = Array.zeroCreate (count * m)
              X = Array.zeroCreate (count * n); Phi = Array.zeroCreate (count * n); LogWeight = Array.zeroCreate count
              BaseLog = Array.zeroCreate count
              Rngs = Array.init blockCount (fun b -> Rng.ForStream(seed, int64 (1000 + b)))
              ResampleRng = Rng.ForStream(seed, 999L) }
        Parallel.For(0, blockCount, fun b ->
            let rng = Rng.ForStream(seed, int64 (2000 + b))
            let z = Array.zeroCreate n
            let lo, hi = blockRange count b
            for i in lo .. hi - 1 do
                rng.FillGaussianZiggurat(Span<float>(z, 0, n))
                for k in 0 .. n - 1 do cloud.Fields.[i * n + k] <- SmallDense.dot sigmaChol (k * n) z 0 (k + 1)
                cloud.X0.[i] <- s0 * rng.NextGaussianZiggurat()
                for a in 0 .. m - 1 do cloud.Weights.[i * m + a] <- rng.NextGaussianZiggurat()
                computePath p cloud i) |> ignore
        cloud

    /// A deep copy with fresh random streams (warm starts of another solve).
    let copy (cloud: ParticleCloud) (problem: TiltedProblem) (seed: int64) =
        { cloud with
            Problem = problem; Fields = Array.copy cloud.Fields; X0 = Array.copy cloud.X0; Weights = Array.copy cloud.Weights; X = Array.copy cloud.X
            Phi = Array.copy cloud.Phi; LogWeight = Array.copy cloud.LogWeight; BaseLog = Array.copy cloud.BaseLog
            Rngs = Array.init blockCount (fun b -> Rng.ForStream(seed, int64 (1000 + b)))
            ResampleRng = Rng.ForStream(seed, 999L) }

    /// Copies the particles' state (fields, x0, input weights, paths, φ, log-weights, base log targets) of src into
    /// dst, a cloud of the same size (from copy); the random streams are not copied.
    let copyState (src: ParticleCloud) (dst: ParticleCloud) =
        if src.Count <> dst.Count || src.Fields.Length <> dst.Fields.Length || src.Weights.Length <> dst.Weights.Length then
            invalidArg "dst" "copyState needs two clouds of the same size"
        Array.blit src.Fields 0 dst.Fields 0 src.Fields.Length
        Array.blit src.X0 0 dst.X0 0 src.X0.Length
        Array.blit src.Weights 0 dst.Weights 0 src.Weights.Length
        Array.blit src.X 0 dst.X 0 src.X.Length
        Array.blit src.Phi 0 dst.Phi 0 src.Phi.Length
        Array.blit src.LogWeight 0 dst.LogWeight 0 src.Count
        Array.blit src.BaseLog 0 dst.BaseLog 0 src.Count

    /// Particles per chunk of the block kernels (a chunk's rows, ≈ 32·n doubles, stay in the L1/L2 cache).
    let chunk = 32

    /// Scratch arrays of the parallel blocks come from the shared pool (they were ≈ 8 MB of garbage per iteration at
    /// S = 4000, n = 50, and the collections cost about a tenth of the run on one core). A rented array can be longer
    /// than asked for; every use below addresses explicit ranges, and accumulators are cleared.
    let inline private rent (len: int) = ArrayPool<float>.Shared.Rent(max 1 len)
    let inline private giveBack (a: float[]) = ArrayPool<float>.Shared.Return a

    /// Log target densities of particles [lo, hi) under the tilt, up to a particle-independent constant:
    /// −½ sᵀΣ⁻¹s + ½ φᵀΛφ (the x0 prior does not depend on the tilt), into out[lo .. hi − 1]; chunks of `chunk`
    /// particles through BlockKernels.quadraticFormsUpperFactor (sᵀΣ⁻¹s = ‖s·(L⁻¹)ᵀ‖²) and quadraticForms (Λ). q and l
    /// are chunk-sized, scratch chunk·n. When lambdaPhi (S×n) and tiltForm (S) are not null they receive each
    /// particle's Λφ and φᵀΛφ: exactly what a sweep's slice levels and the moments would compute again under the same
    /// tilt (the same kernel on the same rows, chunk-invariant bits).
    let logTargetsRangeKeeping (t: TiltField) (cloud: ParticleCloud) (lo: int) (hi: int) (out: float[]) (q: float[]) (l: float[]) (scratch: float[])
                               (lambdaPhi: float[]) (tiltForm: float[]) =
        let n = t.Points
        let mutable i = lo
        while i < hi do
            let rows = min chunk (hi - i)
            BlockKernels.quadraticFormsUpperFactor cloud.Fields i rows n t.SigmaCholInvT scratch q 0
            BlockKernels.quadraticForms cloud.Phi i rows n t.Lambda scratch l 0
            if not (isNull lambdaPhi) then Array.blit scratch 0 lambdaPhi (i * n) (rows * n)
            if not (isNull tiltForm) then Array.blit l 0 tiltForm i rows
            for j in 0 .. rows - 1 do out.[i + j] <- -0.5 * q.[j] + 0.5 * l.[j]
            i <- i + rows

    /// Each particle's log target density under t (logTargetsRangeKeeping), in parallel blocks; lambdaPhi and tiltForm
    /// as there (null: not kept).
    let logTargetsKeeping (t: TiltField) (cloud: ParticleCloud) (lambdaPhi: float[]) (tiltForm: float[]) =
        let n = t.Points
        let out = Array.zeroCreate cloud.Count
        Parallel.For(0, blockCount, fun b ->
            let lo, hi = blockRange cloud.Count b
            let q, l, scratch = rent chunk, rent chunk, rent (chunk * n)
            logTargetsRangeKeeping t cloud lo hi out q l scratch lambdaPhi tiltForm
            giveBack q
            giveBack l
            giveBack scratch) |> ignore
        out

    /// Each particle's log target density under t (logTargetsRangeKeeping), in parallel blocks.
    let logTargets (t: TiltField) (cloud: ParticleCloud) = logTargetsKeeping t cloud null null

    /// Normalised weights and their effective sample size.
    let normalised (logw: float[]) =
        let mx = Array.max logw
        let w = logw |> Array.map (fun v -> Math.Exp(v - mx))
        let s = Array.sum w
        for i in 0 .. w.Length - 1 do w.[i] <- w.[i] / s
        let s2 = w |> Array.sumBy (fun v -> v * v)
        w, 1.0 / s2

    /// Declares the particles exact (equal-weight) draws of the tilt t: BaseLog = log target at t, LogWeight = 0.
    let initialise (t: TiltField) (cloud: ParticleCloud) =
        let l = logTargets t cloud
        Array.blit l 0 cloud.BaseLog 0 cloud.Count
        Array.Clear(cloud.LogWeight, 0, cloud.Count)

    /// Effective sample size of the current weights.
    let ess (cloud: ParticleCloud) = snd (normalised cloud.LogWeight)

    /// Moves the particles' reference tilt to the one whose log targets are l (from logTargets on the unchanged
    /// particles): exact importance reweighting by the ratio of target densities.
    let commitTargets (l: float[]) (cloud: ParticleCloud) =
        for i in 0 .. cloud.Count - 1 do
            cloud.LogWeight.[i] <- cloud.LogWeight.[i] + l.[i] - cloud.BaseLog.[i]
            cloud.BaseLog.[i] <- l.[i]
        // keep the log-weights centred (no overflow over long runs)
        let mx = Array.max cloud.LogWeight
        for i in 0 .. cloud.Count - 1 do cloud.LogWeight.[i] <- cloud.LogWeight.[i] - mx

    /// Moves the particles' reference tilt to t (commitTargets of logTargets).
    let commit (t: TiltField) (cloud: ParticleCloud) = commitTargets (logTargets t cloud) cloud

    /// Conditional ESS (relative, (0, 1]) of moving from the committed tilt to candidate log-weights.
    let conditionalEssOf (cloud: ParticleCloud) (candidate: float[]) =
        let w, _ = normalised cloud.LogWeight
        let inc = Array.init cloud.Count (fun i -> candidate.[i] - cloud.LogWeight.[i])
        let mx = Array.max inc
        let mutable a = 0.0
        let mutable b = 0.0
        for i in 0 .. cloud.Count - 1 do
            let r = Math.Exp(inc.[i] - mx)
            a <- a + w.[i] * r
            b <- b + w.[i] * r * r
        if b > 0.0 && Double.IsFinite b then a * a / b else 0.0

    /// Conditional effective sample size (relative, in (0, 1]) of raising γ from t.Gamma to gamma at fixed θ: only
    /// the data part ½γ²Σ_a(α_aᵀφ)² of the tilt changes. q holds Σ_a(α_aᵀφ_i)² per particle.
    let conditionalEss (cloud: ParticleCloud) (q: float[]) (gammaFrom: float) (gammaTo: float) =
        let dg = 0.5 * (gammaTo * gammaTo - gammaFrom * gammaFrom)
        conditionalEssOf cloud (Array.init cloud.Count (fun i -> cloud.LogWeight.[i] + dg * q.[i]))

    /// Σ_a(α_aᵀφ_i)² per particle.
    let alignmentSquares (t: TiltField) (cloud: ParticleCloud) =
        let n = t.Points
        Array.init cloud.Count (fun i ->
            let mutable s = 0.0
            for a in t.Alpha do
                let v = SmallDense.dot a 0 cloud.Phi (i * n) n
                s <- s + v * v
            s)

    /// Systematic resampling (one uniform from the cloud's own stream): duplicates particles in proportion to their
    /// weights and resets the weights to equal. Returns the number of distinct particles kept.
    let resample (cloud: ParticleCloud) =
        let n = cloud.Problem.Points
        let S = cloud.Count
        let w, _ = normalised cloud.LogWeight
        let u = cloud.ResampleRng.NextDouble() / float S
        let idx = Array.zeroCreate S
        let mutable j = 0
        let mutable cum = w.[0]
        for i in 0 .. S - 1 do
            let ui = u + float i / float S
            while cum < ui && j < S - 1 do
                j <- j + 1
                cum <- cum + w.[j]
            idx.[i] <- j
        // one pooled scratch array for all the gathers (they were ≈ 5 MB of fresh large-object garbage per resampling)
        let out = ArrayPool<float>.Shared.Rent(max 1 (S * max n (max 1 cloud.Problem.InputWeights)))
        let take (a: float[]) (width: int) =
            for i in 0 .. S - 1 do Array.blit a (idx.[i] * width) out (i * width) width
            Array.blit out 0 a 0 a.Length
        take cloud.Fields n
        take cloud.X n
        take cloud.Phi n
        take cloud.X0 1
        take cloud.Weights cloud.Problem.InputWeights
        take cloud.BaseLog 1
        ArrayPool<float>.Shared.Return out
        Array.Clear(cloud.LogWeight, 0, S)
        idx |> Array.distinct |> Array.length

    /// `sweeps` elliptical-slice updates (Murray, Adams & MacKay 2010) of every particle under the tilt t, whose
    /// weighted law they leave invariant; prior N(0, Σ) for s (ν = chol(Σ)·z), N(0, σ0²) for x0 when trained and N(0, I)
    /// for the input weights U (drawn only when m &gt; 0).
    /// Particles go in chunks of `chunk`: the chunk's directions are drawn first (per particle z, ν0, ν_U, standard
    /// normals by the ziggurat, Rng.NextGaussianZiggurat), then ν = L z and its path P·L z (L = chol Σ, P the
    /// propagator) come from one BlockKernels.gemmUpperB each, and the slice levels ½φᵀΛφ of the current states from
    /// one quadratic-form pass. Then every particle's slice height and first angle are drawn (in particle order) and
    /// the chunk's first proposals are evaluated together (φ vectorised over the chunk, Λφ by one gemm); the shrinking
    /// proposals of the particles that reject their first one follow one by one (a mat-vec each, each particle's
    /// uniforms in order). The accepted proposal's ½φᵀΛφ is kept, so only the prior part −½sᵀΣ⁻¹s = −½‖s·(L⁻¹)ᵀ‖² is
    /// recomputed after the chunk's sweeps.
    /// Ends with the particles committed to t (BaseLog = log target at t). Returns proposals per update. When
    /// lambdaPhi (S×n) is not null it receives Λφ of every particle's final state (for momentsKeeping). When tiltForm
    /// (S) is not null it holds φᵀΛφ of every particle's current state under t, and lambdaPhi their Λφ
    /// (logTargetsKeeping under t on the unchanged particles): the slice levels are taken from them instead of one
    /// quadratic-form pass (the same bits).
    let sweepKeepingFrom (t: TiltField) (cloud: ParticleCloud) (sweeps: int) (lambdaPhi: float[]) (tiltForm: float[]) =
        let p = cloud.Problem
        let n = p.Points
        let s0 = if p.X0Tilted then Math.Sqrt p.X0Variance else 0.0
        let m = p.InputWeights
        // right factors of the direction maps as row-major n×n arrays: ν = z·Lᵀ, x_ν = z·(P L)ᵀ (+ R ν0 + R_U ν_U)
        let lT = BlockKernels.transpose t.SigmaChol n
        // the strictly lower part of P, as in computePath (x_k depends on the fields before t_k)
        let pm = Array.init (n * n) (fun i -> if i % n < i / n then p.Propagator.[i / n, i % n] else 0.0)
        let pl = Array.zeroCreate (n * n)
        BlockKernels.gemm pm 0 n n t.SigmaChol n pl 0
        let plT = BlockKernels.transpose pl n
        let counts = Array.zeroCreate blockCount
        Parallel.For(0, blockCount, fun b ->
            let rng = cloud.Rngs.[b]
            let z = rent (chunk * n)
            let nu = rent (chunk * n)
            let xnu = rent (chunk * n)
            let nu0 = rent chunk
            let nuU = rent (chunk * (max 1 m))
            let level = rent chunk
            let q = rent chunk
            let scratch = rent (chunk * n)
            let xc = rent n
            let xp = rent n
            let pp = rent n
            let lp = rent n
            let logy = rent chunk
            let theta0 = rent chunk
            let cos0 = rent chunk
            let sin0 = rent chunk
            let xfirst = rent (chunk * n)
            let pfirst = rent (chunk * n)
            let lpfirst = rent (chunk * n)
            let lfirst = rent chunk
            let quadLambda (v: float[]) =
                SmallDense.matVec t.Lambda v lp n
                SmallDense.dot v 0 lp 0 n
            // particle i (chunk row j) moves to the accepted proposal at angle θ (cos, sin), whose x, φ and Λφ are
            // rows of xs, ps, lps from off, with tilt part l = ½φᵀΛφ
            let accept (i: int) (j: int) (ct: float) (st: float) (xs: float[]) (ps: float[]) (lps: float[]) (off: int) (l: float) =
                let o = i * n
                let oj = j * n
                SpanKernels.combineInto (ReadOnlySpan<float>(cloud.Fields, o, n)) ct (ReadOnlySpan<float>(nu, oj, n)) st (Span<float>(cloud.Fields, o, n))
                cloud.X0.[i] <- cloud.X0.[i] * ct + nu0.[j] * st
                for a in 0 .. m - 1 do cloud.Weights.[i * m + a] <- cloud.Weights.[i * m + a] * ct + nuU.[j * m + a] * st
                Array.blit xs off cloud.X o n
                Array.blit ps off cloud.Phi o n
                if not (isNull lambdaPhi) then Array.blit lps off lambdaPhi o n
                level.[j] <- l
            let lo, hi = blockRange cloud.Count b
            let mutable proposals = 0L
            let mutable i0 = lo
            while i0 < hi do
                let rows = min chunk (hi - i0)
                // ½φᵀΛφ of the chunk's current states (the slice level's reference): kept from the reweighting to t
                // (tiltForm, with their Λφ already in lambdaPhi) or computed here
                if isNull tiltForm then
                    BlockKernels.quadraticForms cloud.Phi i0 rows n t.Lambda scratch level 0
                    if not (isNull lambdaPhi) then Array.blit scratch 0 lambdaPhi (i0 * n) (rows * n)
                else Array.blit tiltForm i0 level 0 rows
                for j in 0 .. rows - 1 do level.[j] <- 0.5 * level.[j]
                for _ in 1 .. sweeps do
                    for j in 0 .. rows - 1 do
                        rng.FillGaussianZiggurat(Span<float>(z, j * n, n))
                        nu0.[j] <- s0 * rng.NextGaussianZiggurat()
                        for a in 0 .. m - 1 do nuU.[j * m + a] <- rng.NextGaussianZiggurat()
                    BlockKernels.gemmUpperB z 0 rows n lT n nu 0
                    BlockKernels.gemmUpperB z 0 rows n plT n xnu 0
                    // x of the direction ν: R·ν0 + R_U·ν_U + P·ν (linear), so every proposal is x·cosθ + x_ν·sinθ;
                    // then every particle's slice height and first angle, and the first proposals of the whole chunk
                    // (φ and Λφ by one gemm: most updates accept their first or second proposal)
                    for j in 0 .. rows - 1 do
                        let o = (i0 + j) * n
                        let oj = j * n
                        let xnuRow = Span<float>(xnu, oj, n)
                        // xnu += R·ν0 (elementwise xnu·1 + R·ν0: the bits of xnu + R·ν0), then + R_U·ν_U
                        SpanKernels.combineInto (ReadOnlySpan<float>(xnu, oj, n)) 1.0 (ReadOnlySpan<float>(p.X0Response)) nu0.[j] xnuRow
                        if m > 0 then
                            for k in 0 .. n - 1 do
                                let mutable v = xnu.[oj + k]
                                for a in 0 .. m - 1 do v <- v + p.InputWeightResponse.[k, a] * nuU.[j * m + a]
                                xnu.[oj + k] <- v
                        logy.[j] <- level.[j] + Math.Log(rng.NextDouble() + 1e-300)
                        theta0.[j] <- 2.0 * Math.PI * rng.NextDouble()
                        // SinCos: the CRT's sincos, the bits of Math.Sin and Math.Cos (tested), in one call; kept for
                        // the accepted first proposals below
                        let struct (st, ct) = Math.SinCos theta0.[j]
                        cos0.[j] <- ct
                        sin0.[j] <- st
                        SpanKernels.combineInto (ReadOnlySpan<float>(cloud.X, o, n)) ct (ReadOnlySpan<float>(xnu, oj, n)) st (Span<float>(xfirst, oj, n))
                    SiteNonlinearity.applyInto p.Phi xfirst pfirst (rows * n)
                    BlockKernels.quadraticForms pfirst 0 rows n t.Lambda lpfirst lfirst 0
                    for j in 0 .. rows - 1 do
                        let i = i0 + j
                        let o = i * n
                        let oj = j * n
                        let logyj = logy.[j]
                        let mutable theta = theta0.[j]
                        proposals <- proposals + 1L
                        let l1 = 0.5 * lfirst.[j]
                        if l1 > logyj then accept i j cos0.[j] sin0.[j] xfirst pfirst lpfirst oj l1
                        else
                            Array.blit cloud.X o xc 0 n
                            let mutable lo = theta - 2.0 * Math.PI
                            let mutable hi = theta
                            let mutable fin = false
                            while not fin do
                                if hi - lo < 1e-12 then fin <- true // shrunk onto the current state
                                else
                                    if theta < 0.0 then lo <- theta else hi <- theta
                                    theta <- lo + (hi - lo) * rng.NextDouble()
                                    proposals <- proposals + 1L
                                    let struct (st, ct) = Math.SinCos theta
                                    SpanKernels.combineInto (ReadOnlySpan<float>(xc, 0, n)) ct (ReadOnlySpan<float>(xnu, oj, n)) st (Span<float>(xp, 0, n))
                                    SiteNonlinearity.applyInto p.Phi xp pp n
                                    let l = 0.5 * quadLambda pp
                                    if l > logyj then
                                        accept i j ct st xp pp lp 0 l
                                        fin <- true
                // committed to t: the prior part of the chunk's log targets (the tilt part is the kept level)
                BlockKernels.quadraticFormsUpperFactor cloud.Fields i0 rows n t.SigmaCholInvT scratch q 0
                for j in 0 .. rows - 1 do cloud.BaseLog.[i0 + j] <- -0.5 * q.[j] + level.[j]
                i0 <- i0 + rows
            for a in [ z; nu; xnu; nu0; nuU; level; q; scratch; xc; xp; pp; lp; logy; theta0; cos0; sin0; xfirst; pfirst; lpfirst; lfirst ] do giveBack a
            counts.[b] <- proposals) |> ignore
        float (Array.sum counts) / float (max 1 (cloud.Count * sweeps))

    /// sweepKeepingFrom without kept slice levels and without keeping Λφ.
    let sweep (t: TiltField) (cloud: ParticleCloud) (sweeps: int) = sweepKeepingFrom t cloud sweeps null null

    /// One particle's terms of the moment sums (momentsCore), vectorised over the grid with the scalar expressions'
    /// bits: with v = φ_r, d1 = φ'(x_r) = 1 − v² (tanh; 1 for the identity), d2 = φ''(x_r) = −2v·d1 (tanh; 0), a = d1·(Λφ)_r,
    /// the rows dp = d1, av = a, wph = w·v, wav = w·a, wdp = w·d1, w2ph = w²·v (from oj) and acc[oT + r] += w·d2·(Λφ)_r.
    let private momentTerms (tanh: bool) (phi: float[]) (o: int) (lp: float[]) (oj: int) (wi: float)
                            (dp: float[]) (av: float[]) (wph: float[]) (wav: float[]) (wdp: float[]) (w2ph: float[])
                            (acc: float[]) (oT: int) (n: int) =
        let w2 = wi * wi
        let vw = Vector<float>.Count
        let vwi = Vector<float>(wi)
        let vw2 = Vector<float>(w2)
        let one = Vector<float>.One
        let m2 = Vector<float>(-2.0)
        let mutable r = 0
        while r + vw <= n do
            let v = Vector<float>(phi, o + r)
            let l = Vector<float>(lp, oj + r)
            let d1 = if tanh then one - v * v else one
            let d2 = if tanh then m2 * v * d1 else Vector<float>.Zero
            let a = d1 * l
            d1.CopyTo(dp, oj + r)
            a.CopyTo(av, oj + r)
            (vwi * v).CopyTo(wph, oj + r)
            (vwi * a).CopyTo(wav, oj + r)
            (vwi * d1).CopyTo(wdp, oj + r)
            (vw2 * v).CopyTo(w2ph, oj + r)
            (Vector<float>(acc, oT + r) + vwi * d2 * l).CopyTo(acc, oT + r)
            r <- r + vw
        while r < n do
            let v = phi.[o + r]
            let d1 = if tanh then 1.0 - v * v else 1.0
            let d2 = if tanh then -2.0 * v * d1 else 0.0
            let a = d1 * lp.[oj + r]
            dp.[oj + r] <- d1
            av.[oj + r] <- a
            wph.[oj + r] <- wi * v
            wav.[oj + r] <- wi * a
            wdp.[oj + r] <- wi * d1
            w2ph.[oj + r] <- w2 * v
            acc.[oT + r] <- acc.[oT + r] + wi * d2 * lp.[oj + r]
            r <- r + 1

    /// The weighted moments under t (the particles must be committed to t): Ĉ, the Rao–Blackwellised K̂ = Σ + ΣM̂Σ with
    /// M̂ = Pᵀ[E(aaᵀ) + diag E(φ''⊙Λφ) + Λ∘E(φ'φ'ᵀ)]P, a = φ'⊙Λφ (Stein's identity E_μ[∇∇W/W] = Σ⁻¹(K − Σ)Σ⁻¹, note
    /// §3.2 "pathwise form": no Σ⁻¹ of noisy sample moments), their block standard errors, the ESS and the delta-method
    /// SNIS bias of Ĉ.
    /// lambdaPhi: Λφ of every particle under t (from sweepKeepingFrom on the unchanged cloud), or null to compute it.
    /// withBias: accumulate Σw²φφᵀ for the SNIS bias (one of the four outer-product passes; NaN when false or without
    /// errors).
    let momentsCoreWith (withErrors: bool) (withBias: bool) (t: TiltField) (cloud: ParticleCloud) (logWeights: float[]) (lambdaPhi: float[]) : ParticleMoments =
        let p = cloud.Problem
        let n = p.Points
        let nn = n * n
        let w, ess = normalised logWeights
        // per block: [Σwφφᵀ | Σw aaᵀ | Σw φ'φ'ᵀ | Σw²φφᵀ] (upper triangles), Σw φ''⊙Λφ, Σw, Σw²
        let oC, oA, oD, oC2, oT = 0, nn, 2 * nn, 3 * nn, 4 * nn
        let width = 4 * nn + n + 2
        let accs = Array.init blockCount (fun _ -> let a = rent width in Array.Clear(a, 0, width); a)
        let tanh = match p.Phi with Tanh -> true | Identity -> false
        // per block, in chunks of `chunk` particles: Λφ by one gemm, then the four weighted outer-product sums by
        // BlockKernels.addOuterUpper (upper triangles)
        Parallel.For(0, blockCount, fun b ->
            let acc = accs.[b]
            let lp = rent (chunk * n)
            let av = rent (chunk * n)
            let dp = rent (chunk * n)
            let wph = rent (chunk * n)
            let wav = rent (chunk * n)
            let wdp = rent (chunk * n)
            let w2ph = rent (chunk * n)
            let lo, hi = blockRange cloud.Count b
            let mutable i0 = lo
            while i0 < hi do
                let rows = min chunk (hi - i0)
                if isNull lambdaPhi then BlockKernels.gemm cloud.Phi (i0 * n) rows n t.Lambda n lp 0
                else Array.blit lambdaPhi (i0 * n) lp 0 (rows * n)
                for j in 0 .. rows - 1 do
                    let i = i0 + j
                    let wi = w.[i]
                    let w2 = wi * wi
                    momentTerms tanh cloud.Phi (i * n) lp (j * n) wi dp av wph wav wdp w2ph acc oT n
                    acc.[width - 2] <- acc.[width - 2] + wi
                    acc.[width - 1] <- acc.[width - 1] + w2
                BlockKernels.addOuterUpper wph 0 cloud.Phi (i0 * n) rows n acc oC
                BlockKernels.addOuterUpper wav 0 av 0 rows n acc oA
                BlockKernels.addOuterUpper wdp 0 dp 0 rows n acc oD
                // Σw²φφᵀ feeds only the SNIS bias estimate, which momentsOnly does not report
                if withErrors && withBias then BlockKernels.addOuterUpper w2ph 0 cloud.Phi (i0 * n) rows n acc oC2
                i0 <- i0 + rows
            for a in [ lp; av; dp; wph; wav; wdp; w2ph ] do giveBack a) |> ignore
        let fullInto (a: float[]) (off: int) (m: float[]) =
            for r in 0 .. n - 1 do
                for c in r .. n - 1 do
                    let v = a.[off + r * n + c]
                    m.[r * n + c] <- v
                    m.[c * n + r] <- v
            m
        let full (a: float[]) (off: int) = fullInto a off (Array.zeroCreate nn)
        let tot = Array.zeroCreate width
        for b in 0 .. blockCount - 1 do SmallDense.axpy 1.0 accs.[b] 0 tot 0 width
        // K̂ = Σ + Σ Pᵀ inner P Σ for an inner matrix (sums, not yet divided by the weight).
        let pm = Array.init nn (fun i -> p.Propagator.[i / n, i % n])
        let pt = Array.init nn (fun i -> p.Propagator.[i % n, i / n])
        // Σ Pᵀ inner P Σ into t2 (t1 scratch; inner may be t1)
        let sandwichInto (inner: float[]) (t1: float[]) (t2: float[]) =
            TiltFields.matMul pt inner t2 n
            TiltFields.matMul t2 pm t1 n
            TiltFields.matMul t.Sigma t1 t2 n
            TiltFields.matMul t2 t.Sigma t1 n
            Array.blit t1 0 t2 0 nn
            t2
        // inner = aa + Λ∘dd + diag(t), scaled, into out (aa, dd scratch)
        let innerInto (a: float[]) (scale: float) (aa: float[]) (dd: float[]) (out: float[]) =
            fullInto a oA aa |> ignore
            fullInto a oD dd |> ignore
            for i in 0 .. nn - 1 do
                out.[i] <- (aa.[i] + t.Lambda.[i] * dd.[i] + (if i / n = i % n then a.[oT + i / n] else 0.0)) * scale
            out
        let cHat = full tot oC
        let mHat =
            let aa, dd, inner, t1 = rent nn, rent nn, rent nn, rent nn
            let out = sandwichInto (innerInto tot 1.0 aa dd inner) t1 (Array.zeroCreate nn)
            for a in [ aa; dd; inner; t1 ] do giveBack a
            out
        let kHat = Array.init nn (fun i -> t.Sigma.[i] + mHat.[i])
        // block standard errors: global = Σ_b W_b e_b (Σ W_b = 1), Var ≈ B/(B−1) Σ_b W_b² (e_b − global)²
        if not withErrors then
            for a in accs do giveBack a
            { C = cHat; K = kHat; Ess = ess; CError = nan; KError = nan; SnisBias = nan }
        else
        let bF = float blockCount
        // per block in parallel (four n×n products each), summed in block order (same bits for any thread count)
        let parts = Array.zeroCreate (2 * blockCount)
        Parallel.For(0, blockCount, fun b ->
            let wb = accs.[b].[width - 2]
            if wb > 0.0 then
                let cb, aa, dd, inner, t1, t2 = rent nn, rent nn, rent nn, rent nn, rent nn, rent nn
                fullInto accs.[b] oC cb |> ignore
                let mb = sandwichInto (innerInto accs.[b] (1.0 / wb) aa dd inner) t1 t2
                let mutable vc = 0.0
                let mutable vk = 0.0
                for i in 0 .. nn - 1 do
                    let dc = cb.[i] / wb - cHat.[i]
                    let dk = mb.[i] - mHat.[i]
                    vc <- vc + wb * wb * dc * dc
                    vk <- vk + wb * wb * dk * dk
                parts.[2 * b] <- vc
                parts.[2 * b + 1] <- vk
                for a in [ cb; aa; dd; inner; t1; t2 ] do giveBack a) |> ignore
        let mutable varC = 0.0
        let mutable varK = 0.0
        for b in 0 .. blockCount - 1 do
            varC <- varC + parts.[2 * b]
            varK <- varK + parts.[2 * b + 1]
        for a in accs do giveBack a
        let snisBias =
            if not withBias then nan
            else
                let c2 = full tot oC2
                let w2 = tot.[width - 1]
                let mutable bias2 = 0.0
                for i in 0 .. nn - 1 do
                    let v = c2.[i] - w2 * cHat.[i]
                    bias2 <- bias2 + v * v
                Math.Sqrt bias2
        { C = cHat; K = kHat; Ess = ess
          CError = Math.Sqrt(bF / (bF - 1.0) * varC); KError = Math.Sqrt(bF / (bF - 1.0) * varK)
          SnisBias = snisBias }

    /// momentsCoreWith with the SNIS bias whenever the errors are computed.
    let momentsCore (withErrors: bool) (t: TiltField) (cloud: ParticleCloud) (logWeights: float[]) (lambdaPhi: float[]) =
        momentsCoreWith withErrors true t cloud logWeights lambdaPhi

    /// The weighted moments under t with their block standard errors and SNIS bias (see momentsCore).
    let momentsWith (t: TiltField) (cloud: ParticleCloud) (logWeights: float[]) = momentsCore true t cloud logWeights null

    /// Ĉ and K̂ only (no block errors, no bias estimate: NaN there), for Jacobian-vector products; lambdaPhi: Λφ of
    /// every particle under t (from logTargetsKeeping on the unchanged cloud), or null to compute it.
    let momentsOnly (t: TiltField) (cloud: ParticleCloud) (logWeights: float[]) (lambdaPhi: float[]) = momentsCore false t cloud logWeights lambdaPhi

    /// The moments under the tilt the particles are committed to.
    let moments (t: TiltField) (cloud: ParticleCloud) = momentsWith t cloud cloud.LogWeight

    /// moments with the Λφ that sweepKeepingFrom left (the cloud unchanged since): one n×n pass per particle fewer.
    /// withBias false skips the Σw²φφᵀ pass (SnisBias NaN; every other output has the same bits): the relaxation needs
    /// the bias only over its averaging phase.
    let momentsKeeping (t: TiltField) (cloud: ParticleCloud) (lambdaPhi: float[]) (withBias: bool) =
        momentsCoreWith true withBias t cloud cloud.LogWeight lambdaPhi

    /// Log-weights the particles would have if committed to the tilt whose log targets are l (the cloud is not changed).
    let logWeightsFor (l: float[]) (cloud: ParticleCloud) = Array.init cloud.Count (fun i -> cloud.LogWeight.[i] + l.[i] - cloud.BaseLog.[i])

    /// Log-weights the particles would have if committed to t (the cloud is not changed).
    let candidateLogWeights (t: TiltField) (cloud: ParticleCloud) = logWeightsFor (logTargets t cloud) cloud

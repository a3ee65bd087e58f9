namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Options of the representational-drift study (Clark et al. 2026: "representational drift, with individual neurons'
/// responses evolving under noisy plasticity while population-level dynamics remain stable"; docs/dmft-structure.md,
/// "Representational drift"). Noisy plasticity is the exact finite-N posterior dynamics (FinitePosterior: a reversible
/// Markov chain on the posterior over weights, sampled in path space with the weights integrated out), as in Masset et
/// al. (drift = sampling of the weight posterior). One sweep updates every neuron once; chain time is in sweeps.
type DriftOptions =
    { /// Coupling g. Default 1.5.
      G: float
      /// γ values (ascending, ≥ 0). Default 0, 0.5, 1, 1.5.
      Gammas: float[]
      /// Task and discretisation (default: sinusoid task at Δt = 0.2).
      Task: SinusoidTask
      /// Network size N (≥ 2n). Default 500.
      Neurons: int
      /// Independent chains (error bars). Default 4.
      Chains: int
      /// Sweeps per annealing stage (0 → γ in steps ≤ AnnealStep) and of the burn-in at each γ. Default 150.
      Sweeps: int
      /// Largest γ step of the anneal. Default 0.25.
      AnnealStep: float
      /// Chain states recorded at each γ after the burn-in (K ≥ 2). Default 21.
      Snapshots: int
      /// Sweeps between recorded states (Δ). Default 5. The lags are ℓΔ, ℓ = 1 … K − 1.
      Interval: int
      /// Realise the first and last recorded network (weights conditioned on the paths, run noise-free on the window)
      /// to measure the output error. Default true.
      Realise: bool
      /// Seed (chain r uses stream r).
      Seed: int64 }
    /// g = 1.5, γ = 0, 0.5, 1, 1.5, Δt = 0.2, N = 500, 4 chains, 150 sweeps per stage, 21 states every 5 sweeps, seed 1.
    static member Default =
        { G = 1.5; Gammas = [| 0.0; 0.5; 1.0; 1.5 |]; Task = { SinusoidTask.Default with Dt = 0.2 }; Neurons = 500; Chains = 4
          Sweeps = 150; AnnealStep = 0.25; Snapshots = 21; Interval = 5; Realise = true; Seed = 1L }

/// Drift at one γ: single-neuron overlaps and population kernel distance against the chain lag.
type DriftCurve =
    { Gamma: float
      /// Lags in sweeps (ℓΔ, ℓ = 1 … K − 1).
      Lags: int[]
      /// ρ₁(ℓ) = Σ_i φ_i(a)·φ_i(a+ℓ) / √(Σ_i|φ_i(a)|² Σ_i|φ_i(a+ℓ)|²): signed single-neuron overlap (mean over pairs in a
      /// chain, ± s.e. over chains). Theory: → |E_μ φ|²/tr C = 0 (μ is symmetric under φ → −φ).
      SignedOverlap: SeedEstimate[]
      /// ρ₂(ℓ) = Σ_i (φ_i(a)·φ_i(a+ℓ))² / Σ_i |φ_i(a)|²|φ_i(a+ℓ)|²: squared overlap. Theory: → tr(C²)/(tr C)².
      SquaredOverlap: SeedEstimate[]
      /// Mean over neurons of the Pearson correlation over window times of φ_i(a) and φ_i(a+ℓ) (tuning correlation).
      TuningCorrelation: SeedEstimate[]
      /// ‖C(a) − C(a+ℓ)‖_F / ‖C̄‖_F: population change. Theory: O(N^(−1/2)) at every lag (C is deterministic at N = ∞).
      KernelDistance: SeedEstimate[]
      /// The squared-overlap floor tr(C̄²)/(tr C̄)² from each chain's mean kernel C̄ (the mean-field value for
      /// independent draws from the tilted measure with that kernel).
      SquaredOverlapFloor: SeedEstimate
      /// Kernel distance between the last states of different chains (independent posterior draws): the O(N^(−1/2))
      /// scale of population differences; NaN with one chain.
      IndependentKernelDistance: float
      /// Integrated drift time of the squared overlap's excess over its floor, Δ·(½ + Σ_ℓ (ρ₂(ℓ) − f)/(1 − f)) up to its
      /// first non-positive term (sweeps; f = SquaredOverlapFloor of the chain). Sign-flip invariant: the elliptical
      /// slice update can flip a neuron's path, so ρ₁ decays faster than the tuning's shape changes.
      DriftTime: SeedEstimate
      /// Output error rms(y − y*)/rms(y*) of the realised first and last recorded networks (NaN when not realised).
      OutputErrorFirst: SeedEstimate
      OutputErrorLast: SeedEstimate
      /// Mean activity tr C̄/n (population level) of the first and last recorded states.
      ActivityFirst: SeedEstimate
      ActivityLast: SeedEstimate }

/// Result of the drift study.
type DriftResult =
    { Options: DriftOptions
      Curves: DriftCurve[]
      Seconds: float }

/// Representational drift under the posterior dynamics (docs/dmft-structure.md, "Representational drift").
/// Theory (mean field): the posterior over the N neurons' paths factorises at large N into independent draws from
/// the tilted measure μ given the self-consistent C (note §3.2). A neuron whose path is re-sampled by the chain keeps
/// the law μ but forgets its own path; C = (1/N)Σ_i φ_iφ_iᵀ fluctuates only at O(N^(−1/2)). For two independent draws
/// φ, φ' ~ μ: E[φ·φ'] = |E_μφ|² = 0, because μ ∝ P_C e^(½φᵀΛφ) is invariant under the path flip x → −x (P_C is a
/// centred Gaussian, φ is odd, the tilt is even), and E[(φ·φ')²] = tr(C²), E[|φ|²|φ'|²] = (tr C)². Hence the drift
/// saturates at ρ₁ → 0 and ρ₂ → tr(C²)/(tr C)² (the inverse participation ratio of C); as γ grows C concentrates on
/// the target's modes, so the floor of ρ₂ rises: drift stays confined to a lower-dimensional space. The rate of drift
/// is that of the plasticity (here the sampler), not fixed by the theory.
[<AbstractClass; Sealed>]
type RepresentationalDrift private () =

    /// tr(C²)/(tr C)², the squared-overlap floor of two independent draws from a measure with second moment C.
    static member SquaredOverlapFloor(c: float[,]) : float =
        let n = c.GetLength 0
        if n = 0 || c.GetLength 1 <> n then raise (ParameterOutOfDomainException("c", "not square", "an n x n kernel"))
        let tr = Seq.sum (seq { for k in 0 .. n - 1 -> c.[k, k] })
        if not (tr > 0.0) then raise (ParameterOutOfDomainException("c", "trace <= 0", "a kernel with positive trace"))
        let f = Seq.sum (seq { for i in 0 .. n - 1 do for j in 0 .. n - 1 -> c.[i, j] * c.[j, i] })
        f / (tr * tr)

    /// The empirical kernel C = (1/N) Σ_i φ_iφ_iᵀ of one state.
    static member Kernel(phi: float[][]) : float[,] =
        if phi.Length = 0 then raise (ParameterOutOfDomainException("phi", "empty", "at least one neuron"))
        let n = phi.[0].Length
        let c = Array2D.zeroCreate n n
        for x in phi do
            for k in 0 .. n - 1 do
                let xk = x.[k]
                for l in k .. n - 1 do c.[k, l] <- c.[k, l] + xk * x.[l]
        let fN = float phi.Length
        Array2D.init n n (fun k l -> (if l >= k then c.[k, l] else c.[l, k]) / fN)

    /// ‖C_a − C_b‖_F / √(‖C_a‖_F‖C_b‖_F).
    static member KernelDistance(ca: float[,], cb: float[,]) : float =
        let n = ca.GetLength 0
        if cb.GetLength 0 <> n then raise (ParameterOutOfDomainException("cb", "another size", "the size of ca"))
        let mutable diff, fa, fb = 0.0, 0.0, 0.0
        for k in 0 .. n - 1 do
            for l in 0 .. n - 1 do
                diff <- diff + (ca.[k, l] - cb.[k, l]) ** 2.0
                fa <- fa + ca.[k, l] ** 2.0
                fb <- fb + cb.[k, l] ** 2.0
        Math.Sqrt diff / Math.Sqrt(Math.Sqrt(fa * fb))

    /// ρ₁, ρ₂ and the tuning correlation between two states of the same N neurons (rates φ_i on n times).
    static member Overlaps(a: float[][], b: float[][]) =
        if a.Length = 0 || a.Length <> b.Length then raise (ParameterOutOfDomainException("b", "another size", "the same neurons as a"))
        let N = a.Length
        let n = a.[0].Length
        let fn = float n
        let mutable dot, na, nb, sq, sqn, corr = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        for i in 0 .. N - 1 do
            let x = a.[i]
            let y = b.[i]
            let mutable d, xx, yy, mx, my = 0.0, 0.0, 0.0, 0.0, 0.0
            for k in 0 .. n - 1 do
                d <- d + x.[k] * y.[k]
                xx <- xx + x.[k] * x.[k]
                yy <- yy + y.[k] * y.[k]
                mx <- mx + x.[k]
                my <- my + y.[k]
            dot <- dot + d
            na <- na + xx
            nb <- nb + yy
            sq <- sq + d * d
            sqn <- sqn + xx * yy
            let cov = d / fn - (mx / fn) * (my / fn)
            let vx = xx / fn - (mx / fn) ** 2.0
            let vy = yy / fn - (my / fn) ** 2.0
            corr <- corr + (if vx > 0.0 && vy > 0.0 then cov / Math.Sqrt(vx * vy) else 0.0)
        {| Signed = dot / Math.Sqrt(na * nb); Squared = sq / sqn; Tuning = corr / float N |}

    /// Validates the options (ParameterOutOfDomainException naming the parameter and its allowed range).
    static member Validate(o: DriftOptions) =
        Validate.Positive("g", o.G) |> ignore
        if isNull o.Gammas || o.Gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list of gamma >= 0"))
        for i in 0 .. o.Gammas.Length - 1 do
            Validate.NonNegative("gamma", o.Gammas.[i]) |> ignore
            if i > 0 && o.Gammas.[i] <= o.Gammas.[i - 1] then
                raise (ParameterOutOfDomainException("gammas", "not strictly ascending", "a strictly ascending list"))
        TiltedProblems.ValidateGrid(o.Task.Period, o.Task.Dt)
        Validate.Positive("noise", o.Task.ProcessNoise) |> ignore
        let n = int (Math.Floor(o.Task.Period / o.Task.Dt + 1e-9))
        Validate.AtLeast("neurons", o.Neurons, max 2 (2 * n)) |> ignore
        Validate.AtLeast("chains", o.Chains, 1) |> ignore
        Validate.AtLeast("sweeps", o.Sweeps, 1) |> ignore
        Validate.Positive("annealStep", o.AnnealStep) |> ignore
        Validate.AtLeast("snapshots", o.Snapshots, 2) |> ignore
        Validate.AtLeast("interval", o.Interval, 1) |> ignore

    /// Runs every chain through the γ list (anneal, burn-in, K recorded states per γ) and summarises the drift.
    static member Run(o: DriftOptions, progress: Action<string>) : DriftResult =
        RepresentationalDrift.Validate o
        let say (s: string) = if not (isNull progress) then progress.Invoke s
        let sw = Diagnostics.Stopwatch.StartNew()
        let problemAt gm = TiltedProblems.Sinusoid(o.G, gm, o.Task)
        let po = { FinitePosteriorOptions.Default with Neurons = o.Neurons; ProcessNoise = o.Task.ProcessNoise; Sweeps = o.Sweeps; Seed = o.Seed }
        let ro = { RealisationOptions.Default with TransientPeriods = 0.0; MeasuredPeriods = 1.0; Seed = o.Seed }
        let copyRates (st: FinitePosteriorState) = st.Phi |> Array.map Array.copy
        let realise (st: FinitePosteriorState) gm =
            if o.Realise then
                let smp = FinitePosterior.Snapshot(st, po, gm, [||], 0.0)
                (FinitePosterior.Realise(smp, ro)).WindowFitError
            else nan
        // Per chain and γ: the K recorded rate states and the output errors of the first and last.
        let runs =
            // Chains are independent jobs (own streams): concurrent, same bits as sequential.
            let par (f: int -> (float[][][] * float * float)[]) = Concurrent.init o.Chains f
            par (fun r ->
                say (sprintf "drift: chain %d/%d, N = %d" (r + 1) o.Chains o.Neurons)
                let st = FinitePosterior.Start(problemAt 0.0, po, int64 r)
                let mutable cur = 0.0
                o.Gammas |> Array.map (fun gm ->
                    if gm > cur then
                        let m = int (Math.Ceiling((gm - cur) / o.AnnealStep - 1e-9))
                        for i in 1 .. m do
                            FinitePosterior.Advance(st, (if i = m then gm else cur + (gm - cur) * float i / float m), o.Sweeps) |> ignore
                        cur <- gm
                    // Burn-in at the target (the γ = 0 start is exact; a burn-in there also runs the chain at γ = 0).
                    FinitePosterior.Advance(st, gm, o.Sweeps) |> ignore
                    let states = Collections.Generic.List<float[][]>()
                    states.Add(copyRates st)
                    let eFirst = realise st gm
                    for _ in 1 .. o.Snapshots - 1 do
                        FinitePosterior.Advance(st, gm, o.Interval) |> ignore
                        states.Add(copyRates st)
                    let eLast = realise st gm
                    states.ToArray(), eFirst, eLast))
        let K = o.Snapshots
        let overOrNan (v: float[]) =
            if v |> Array.forall Double.IsFinite then SingleNeuronStatistics.OverSeeds v
            else { Mean = nan; StandardError = nan; Seeds = v.Length }
        let curves =
            o.Gammas |> Array.mapi (fun j gm ->
                let per = runs |> Array.map (fun run -> run.[j])
                // Per chain and lag: averages over the K − ℓ pairs.
                let kernels = per |> Array.map (fun (states: float[][][], _, _) -> states |> Array.map RepresentationalDrift.Kernel)
                let byLag =
                    Array.map2 (fun (states: float[][][], _, _) (ks: float[,][]) ->
                        Array.init (K - 1) (fun l ->
                            let lag = l + 1
                            let cs = Array.init (K - lag) (fun a -> RepresentationalDrift.Overlaps(states.[a], states.[a + lag]))
                            [| cs |> Array.averageBy (fun c -> c.Signed); cs |> Array.averageBy (fun c -> c.Squared)
                               cs |> Array.averageBy (fun c -> c.Tuning)
                               Array.init (K - lag) (fun a -> RepresentationalDrift.KernelDistance(ks.[a], ks.[a + lag])) |> Array.average |])) per kernels
                let est q l = SingleNeuronStatistics.OverSeeds(byLag |> Array.map (fun c -> c.[l].[q]))
                let floors =
                    kernels |> Array.map (fun cs ->
                        let n = cs.[0].GetLength 0
                        RepresentationalDrift.SquaredOverlapFloor(Array2D.init n n (fun k l -> cs |> Array.averageBy (fun c -> c.[k, l]))))
                let independent =
                    if per.Length < 2 then nan
                    else
                        let lasts = kernels |> Array.map (fun ks -> ks.[K - 1])
                        [| for a in 0 .. lasts.Length - 1 do
                             for b in a + 1 .. lasts.Length - 1 -> RepresentationalDrift.KernelDistance(lasts.[a], lasts.[b]) |] |> Array.average
                let driftTime =
                    Array.map2 (fun (c: float[][]) (floor: float) ->
                        let mutable acc = 0.5
                        let mutable l = 0
                        let excess l = (c.[l].[1] - floor) / (1.0 - floor)
                        while l < c.Length && excess l > 0.0 do
                            acc <- acc + excess l
                            l <- l + 1
                        float o.Interval * acc) byLag floors
                let activity (states: float[][][]) idx =
                    let s = states.[idx]
                    (s |> Array.sumBy (fun x -> x |> Array.sumBy (fun v -> v * v))) / float s.Length / float s.[0].Length
                { Gamma = gm
                  Lags = Array.init (K - 1) (fun l -> (l + 1) * o.Interval)
                  SignedOverlap = Array.init (K - 1) (est 0)
                  SquaredOverlap = Array.init (K - 1) (est 1)
                  TuningCorrelation = Array.init (K - 1) (est 2)
                  KernelDistance = Array.init (K - 1) (est 3)
                  SquaredOverlapFloor = SingleNeuronStatistics.OverSeeds floors
                  IndependentKernelDistance = independent
                  DriftTime = SingleNeuronStatistics.OverSeeds driftTime
                  OutputErrorFirst = overOrNan (per |> Array.map (fun (_, e, _) -> e))
                  OutputErrorLast = overOrNan (per |> Array.map (fun (_, _, e) -> e))
                  ActivityFirst = SingleNeuronStatistics.OverSeeds(per |> Array.map (fun (s, _, _) -> activity s 0))
                  ActivityLast = SingleNeuronStatistics.OverSeeds(per |> Array.map (fun (s, _, _) -> activity s (K - 1))) })
        { Options = o; Curves = curves; Seconds = sw.Elapsed.TotalSeconds }

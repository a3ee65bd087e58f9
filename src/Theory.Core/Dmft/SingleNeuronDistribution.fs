namespace Theory.Core.Dmft

open System
open MathNet.Numerics.Statistics
open Theory.Core
open Theory.Core.Numerics

/// Sample moments of a single-neuron variable (MathNet.Numerics.Statistics estimators).
type SampleMoments =
    { Count: int
      Mean: float
      /// Unbiased sample variance (1/(M−1)).
      Variance: float
      /// Bias-corrected sample skewness G1 (MathNet Statistics.Skewness).
      Skewness: float
      /// Bias-corrected sample excess kurtosis G2 (MathNet Statistics.Kurtosis; unbiased for Gaussian samples): 0 for
      /// a Gaussian, the paper's measure of the non-Gaussian tilt.
      ExcessKurtosis: float }

/// A normalised histogram (density per bin; mass outside [lo, hi] is not shown but counted in Count).
type DensityHistogram =
    { Edges: float[]
      Density: float[]
      Count: int }

/// A quantity estimated once per independent seed: mean, standard error of the mean (s.d./√R) and R.
type SeedEstimate =
    { Mean: float
      StandardError: float
      Seeds: int }

/// Distances, moments and histograms of single-neuron distributions (Clark et al. 2026: "individual neurons are
/// independent samples from a distribution over response profiles"; docs/dmft-structure.md, "Tilted single-neuron
/// distributions"). Every estimator takes plain samples; the error bars of the callers come from independent seeds.
[<AbstractClass; Sealed>]
type SingleNeuronStatistics private () =

    static member private Check(name: string, xs: float[], least: int) =
        if isNull xs || xs.Length < least then
            raise (ParameterOutOfDomainException(name, sprintf "%d samples" (if isNull xs then 0 else xs.Length), sprintf "at least %d samples" least))
        Validate.AllFinite(name, xs) |> ignore

    /// Mean, variance, skewness and excess kurtosis (MathNet.Numerics.Statistics; at least 4 samples).
    static member Moments(xs: float[]) : SampleMoments =
        SingleNeuronStatistics.Check("samples", xs, 4)
        let v = Statistics.Variance xs
        { Count = xs.Length; Mean = Statistics.Mean xs; Variance = v
          Skewness = (if v > 0.0 then Statistics.Skewness xs else 0.0)
          ExcessKurtosis = (if v > 0.0 then Statistics.Kurtosis xs else 0.0) }

    /// Density histogram on [lo, hi) with `bins` equal bins (the density integrates to the fraction inside).
    static member Histogram(xs: float[], lo: float, hi: float, bins: int) : DensityHistogram =
        SingleNeuronStatistics.Check("samples", xs, 1)
        Validate.AtLeast("bins", bins, 1) |> ignore
        if not (hi > lo) then raise (ParameterOutOfDomainException("hi", string hi, sprintf "> lo = %g" lo))
        let w = (hi - lo) / float bins
        let counts = Array.zeroCreate bins
        for x in xs do
            let b = int (Math.Floor((x - lo) / w))
            if b >= 0 && b < bins then counts.[b] <- counts.[b] + 1.0
        { Edges = Array.init (bins + 1) (fun i -> lo + float i * w)
          Density = counts |> Array.map (fun c -> c / (float xs.Length * w)); Count = xs.Length }

    /// Quantiles at the given probabilities (MathNet SortedArrayStatistics.Quantile, the R8 definition).
    static member Quantiles(xs: float[], probabilities: float[]) : float[] =
        SingleNeuronStatistics.Check("samples", xs, 1)
        let s = Array.sort xs
        probabilities |> Array.map (fun p ->
            Validate.InRange("probability", p, 0.0, 1.0) |> ignore
            SortedArrayStatistics.Quantile(s, p))

    /// Walks the merged order statistics of two samples: for every distinct value x (ascending) calls
    /// visit(prev, x, F_a(x⁻), F_b(x⁻), F_a(x), F_b(x)), prev the previous distinct value (the smallest value at the
    /// first step). The one sweep behind both two-sample distances.
    static member private MergedCdfWalk(a: float[], b: float[], visit: float -> float -> float -> float -> float -> float -> unit) =
        SingleNeuronStatistics.Check("a", a, 1)
        SingleNeuronStatistics.Check("b", b, 1)
        let sa = Array.sort a
        let sb = Array.sort b
        let na, nb = float sa.Length, float sb.Length
        let mutable i = 0
        let mutable j = 0
        let mutable prev = min sa.[0] sb.[0]
        while i < sa.Length || j < sb.Length do
            let x = if j >= sb.Length || (i < sa.Length && sa.[i] <= sb.[j]) then sa.[i] else sb.[j]
            let fa0, fb0 = float i / na, float j / nb
            while i < sa.Length && sa.[i] = x do i <- i + 1
            while j < sb.Length && sb.[j] = x do j <- j + 1
            visit prev x fa0 fb0 (float i / na) (float j / nb)
            prev <- x

    /// Wasserstein-1 distance between the empirical measures of two samples, exactly: W1 = ∫|F_a(x) − F_b(x)| dx over
    /// the merged order statistics (O((M_a + M_b) log)).
    static member Wasserstein1(a: float[], b: float[]) : float =
        let acc = ref 0.0
        SingleNeuronStatistics.MergedCdfWalk(a, b, fun prev x fa0 fb0 _ _ -> acc.Value <- acc.Value + abs (fa0 - fb0) * (x - prev))
        acc.Value

    /// Two-sample Kolmogorov–Smirnov distance sup_x |F_a(x) − F_b(x)| (ties handled: both CDFs jump together).
    static member KolmogorovSmirnov(a: float[], b: float[]) : float =
        let d = ref 0.0
        SingleNeuronStatistics.MergedCdfWalk(a, b, fun _ _ _ _ fa fb -> d.Value <- max d.Value (abs (fa - fb)))
        d.Value

    /// One-sample Kolmogorov–Smirnov distance sup_x |F_M(x) − F(x)| against a continuous CDF F.
    static member KolmogorovSmirnov(a: float[], cdf: Func<float, float>) : float =
        SingleNeuronStatistics.Check("a", a, 1)
        let s = Array.sort a
        let m = float s.Length
        let mutable d = 0.0
        for i in 0 .. s.Length - 1 do
            let f = cdf.Invoke s.[i]
            if not (Double.IsFinite f) then raise (ParameterOutOfDomainException("cdf", string f, "a finite CDF value in [0, 1]"))
            d <- max d (max (float (i + 1) / m - f) (f - float i / m))
        d

    /// Expected W1 between two independent samples of sizes ma and mb drawn from the law whose samples are `pooled`:
    /// E W1 ≈ √(2/π)·√(1/ma + 1/mb)·∫√(F(1−F)) dx (the Brownian-bridge limit of √M(F_M − F); leading order in 1/M).
    /// The sampling floor against which a distance between a finite network and the N = ∞ measure is judged: it falls as
    /// N^(−1/2), so a distance at the floor shrinks like 1/√N.
    static member Wasserstein1NoiseFloor(pooled: float[], ma: int, mb: int) : float =
        SingleNeuronStatistics.Check("pooled", pooled, 2)
        Validate.AtLeast("ma", ma, 1) |> ignore
        Validate.AtLeast("mb", mb, 1) |> ignore
        let s = Array.sort pooled
        let m = float s.Length
        let mutable integral = 0.0
        for i in 0 .. s.Length - 2 do
            let f = float (i + 1) / m
            integral <- integral + Math.Sqrt(f * (1.0 - f)) * (s.[i + 1] - s.[i])
        Math.Sqrt(2.0 / Math.PI) * Math.Sqrt(1.0 / float ma + 1.0 / float mb) * integral

    /// Expected two-sample KS distance between independent samples of sizes ma and mb from one continuous law:
    /// E D ≈ √(π/2)·ln 2·√(1/ma + 1/mb) (the mean of the Kolmogorov distribution, 0.8687; leading order).
    static member KolmogorovSmirnovNoiseFloor(ma: int, mb: int) : float =
        Validate.AtLeast("ma", ma, 1) |> ignore
        Validate.AtLeast("mb", mb, 1) |> ignore
        Math.Sqrt(Math.PI / 2.0) * Math.Log 2.0 * Math.Sqrt(1.0 / float ma + 1.0 / float mb)

    /// W1 between N(m1, s1²) and N(m2, s2²) in closed form: W1 = E|Δm + Δs·Z| = |Δs|√(2/π)e^(−Δm²/2Δs²) + Δm(1 − 2Φ(−Δm/|Δs|)),
    /// Δm = m1 − m2, Δs = s1 − s2 (the monotone coupling of two Gaussians is x ↦ m2 + (s2/s1)(x − m1)).
    static member GaussianWasserstein1(m1: float, s1: float, m2: float, s2: float) : float =
        Validate.NonNegative("s1", s1) |> ignore
        Validate.NonNegative("s2", s2) |> ignore
        let dm = abs (m1 - m2)
        let ds = abs (s1 - s2)
        if ds = 0.0 then dm
        else
            ds * Math.Sqrt(2.0 / Math.PI) * Math.Exp(-dm * dm / (2.0 * ds * ds))
            + dm * (1.0 - 2.0 * MathNet.Numerics.Distributions.Normal.CDF(0.0, 1.0, -dm / ds))

    /// Mean and standard error (s.d./√R) over independent seeds (R ≥ 1; the error is NaN for R = 1).
    static member OverSeeds(values: float[]) : SeedEstimate =
        SingleNeuronStatistics.Check("values", values, 1)
        let r = values.Length
        let m = Array.average values
        let se = if r < 2 then nan else Math.Sqrt((values |> Array.sumBy (fun v -> (v - m) ** 2.0)) / float (r - 1) / float r)
        { Mean = m; StandardError = se; Seeds = r }

/// Which single-neuron variable: the preactivation x(t) or the rate φ(x(t)).
type SingleNeuronVariable =
    | Preactivation
    | Rate

/// Where on the window: one grid time t_k, or pooled over every grid time (the time-averaged distribution).
type WindowTime =
    | AtStep of int
    | Pooled

/// Single-neuron samples of every ensemble on one grid (one array per neuron or particle, n window times).
[<AbstractClass; Sealed>]
type SingleNeuronSamples private () =

    static member private Take(paths: float[][], phi: SiteNonlinearity, variable: SingleNeuronVariable, time: WindowTime) =
        if paths.Length = 0 then raise (ParameterOutOfDomainException("paths", "empty", "at least one neuron"))
        let n = paths.[0].Length
        let f = match variable with Preactivation -> id | Rate -> SiteNonlinearity.apply phi
        match time with
        | AtStep k ->
            if k < 0 || k >= n then raise (ParameterOutOfDomainException("step", string k, sprintf "0 <= k < %d" n))
            paths |> Array.map (fun x -> f x.[k])
        | Pooled -> paths |> Array.collect (Array.map f)

    /// The N = ∞ tilted measure: the solution's particles (resampled to equal weights by the solver, so no weights).
    static member OfSolution(solution: TiltedSolution, variable: SingleNeuronVariable, time: WindowTime) : float[] =
        if solution.Samples.Count = 0 then
            raise (ParameterOutOfDomainException("solution", "exact (no samples)", "a Monte Carlo solution (particles)"))
        SingleNeuronSamples.Take(solution.Samples.Paths, solution.Problem.Phi, variable, time)

    /// The N neurons of one finite-N posterior network.
    static member OfPosterior(sample: FinitePosteriorSample, variable: SingleNeuronVariable, time: WindowTime) : float[] =
        SingleNeuronSamples.Take(sample.Paths, sample.Problem.Phi, variable, time)

    /// Window states of a simulated network stored row-major Window × N (x_i(t_k) at k·N + i), e.g. the
    /// PhaseProbeResult.WindowStates of an Adam-trained network.
    static member OfWindowStates(states: float[], window: int, phi: SiteNonlinearity, variable: SingleNeuronVariable, time: WindowTime) : float[] =
        Validate.AtLeast("window", window, 1) |> ignore
        if isNull states || states.Length = 0 || states.Length % window <> 0 then
            raise (ParameterOutOfDomainException("states", "wrong length", sprintf "a multiple of the window %d" window))
        let n = states.Length / window
        let paths = Array.init n (fun i -> Array.init window (fun k -> states.[k * n + i]))
        SingleNeuronSamples.Take(paths, phi, variable, time)

/// One ensemble's single-neuron distribution of one variable, summarised over its seeds.
type VariableSummary =
    { Variable: SingleNeuronVariable
      /// Excess kurtosis at every grid time t_k (mean ± s.e. over seeds): the time-resolved non-Gaussianity.
      KurtosisByTime: SeedEstimate[]
      /// Excess kurtosis at the reference time and of the window-pooled (time-averaged) distribution.
      KurtosisAtTime: SeedEstimate
      KurtosisPooled: SeedEstimate
      /// Variance at the reference time (mean ± s.e.).
      VarianceAtTime: SeedEstimate
      /// W1 and KS distances of each seed's sample to the reference (the N = ∞ measure pooled over its seeds), at the
      /// reference time and pooled over the window; None for the reference itself.
      W1AtTime: SeedEstimate option
      KsAtTime: SeedEstimate option
      W1Pooled: SeedEstimate option
      KsPooled: SeedEstimate option
      /// Expected sampling floors of W1 and KS at the reference time for this ensemble's sample size against the
      /// reference's (SingleNeuronStatistics.*NoiseFloor; ∝ M^(−1/2)). NaN for the reference.
      W1FloorAtTime: float
      KsFloorAtTime: float
      /// Histograms pooled over seeds on the common range: at the reference time and over the window.
      HistogramAtTime: DensityHistogram
      HistogramPooled: DensityHistogram }

/// One ensemble at one γ.
type EnsembleDistribution =
    { /// "dmft" (N = ∞ tilted measure), "posterior" (exact finite-N posterior), "adam" (Adam-trained networks) …
      Ensemble: string
      /// None for N = ∞.
      Neurons: int option
      Gamma: float
      Seeds: int
      Preactivation: VariableSummary
      Rate: VariableSummary }

/// Summaries of single-neuron samples against a reference (the DMFT), shared by the driver, the CLI and the paper-check.
[<AbstractClass; Sealed>]
type SingleNeuronSummary private () =

    /// The common histogram range of a variable: [−R, R] with R = 1.05 × the largest |0.1%/99.9% quantile| of the
    /// reference pooled over the window (preactivations); [−1, 1] for tanh rates.
    static member Range(variable: SingleNeuronVariable, phi: SiteNonlinearity, referencePooled: float[]) =
        match variable, phi with
        | Rate, Tanh -> -1.0, 1.0
        | _ ->
            let q = SingleNeuronStatistics.Quantiles(referencePooled, [| 0.001; 0.999 |])
            let r = 1.05 * max (abs q.[0]) (abs q.[1])
            let r = if r > 0.0 then r else 1.0
            -r, r

    /// Summarises one ensemble's samples. `sample seed time` returns the samples of one seed; `reference time` the
    /// reference pooled over its seeds (None: this ensemble is the reference); `steps` the grid size n; `kRef` the
    /// reference time step; `range` and `bins` the histogram.
    static member Summarise(variable: SingleNeuronVariable, seeds: int, steps: int, kRef: int,
                            sample: Func<int, WindowTime, float[]>, reference: Func<WindowTime, float[]> option,
                            range: float * float, bins: int) : VariableSummary =
        Validate.AtLeast("seeds", seeds, 1) |> ignore
        Validate.AtLeast("steps", steps, 1) |> ignore
        if kRef < 0 || kRef >= steps then raise (ParameterOutOfDomainException("kRef", string kRef, sprintf "0 <= k < %d" steps))
        let over f = SingleNeuronStatistics.OverSeeds(Array.init seeds f)
        let kurt time = over (fun s -> (SingleNeuronStatistics.Moments(sample.Invoke(s, time))).ExcessKurtosis)
        let lo, hi = range
        let atRef = Array.init seeds (fun s -> sample.Invoke(s, AtStep kRef))
        let pooled = Array.init seeds (fun s -> sample.Invoke(s, Pooled))
        let dist (d: float[] -> float[] -> float) =
            match reference with
            | None -> None, None
            | Some r ->
                let ra = r.Invoke(AtStep kRef)
                let rp = r.Invoke Pooled
                Some(SingleNeuronStatistics.OverSeeds(atRef |> Array.map (fun x -> d x ra))),
                Some(SingleNeuronStatistics.OverSeeds(pooled |> Array.map (fun x -> d x rp)))
        let w1a, w1p = dist (fun a b -> SingleNeuronStatistics.Wasserstein1(a, b))
        let ksa, ksp = dist (fun a b -> SingleNeuronStatistics.KolmogorovSmirnov(a, b))
        let w1Floor, ksFloor =
            match reference with
            | None -> nan, nan
            | Some r ->
                let ra = r.Invoke(AtStep kRef)
                SingleNeuronStatistics.Wasserstein1NoiseFloor(ra, atRef.[0].Length, ra.Length),
                SingleNeuronStatistics.KolmogorovSmirnovNoiseFloor(atRef.[0].Length, ra.Length)
        { Variable = variable
          KurtosisByTime = Array.init steps (fun k -> kurt (AtStep k))
          KurtosisAtTime = over (fun s -> (SingleNeuronStatistics.Moments atRef.[s]).ExcessKurtosis)
          KurtosisPooled = over (fun s -> (SingleNeuronStatistics.Moments pooled.[s]).ExcessKurtosis)
          VarianceAtTime = over (fun s -> (SingleNeuronStatistics.Moments atRef.[s]).Variance)
          W1AtTime = w1a; KsAtTime = ksa; W1Pooled = w1p; KsPooled = ksp
          W1FloorAtTime = w1Floor; KsFloorAtTime = ksFloor
          HistogramAtTime = SingleNeuronStatistics.Histogram(Array.concat atRef, lo, hi, bins)
          HistogramPooled = SingleNeuronStatistics.Histogram(Array.concat pooled, lo, hi, bins) }

/// Options of the tilted single-neuron distribution study (docs/dmft-structure.md).
type TiltedDistributionOptions =
    { /// Coupling g. Default 1.5.
      G: float
      /// γ values (ascending, ≥ 0). Default 0, 0.5, 1, 1.5.
      Gammas: float[]
      /// The task and its discretisation (default: the sinusoid task at Δt = 0.2, n = 50).
      Task: SinusoidTask
      /// N = ∞ solver options (Chains = particles per seed; Seed is replaced per DMFT seed).
      Solver: TiltedSolverOptions
      /// Independent N = ∞ solves (error bars of the DMFT kurtosis). Default 3.
      DmftSeeds: int
      /// Network sizes of the finite-N posterior ensemble (each ≥ 2n). Default 250, 1000.
      Neurons: int[]
      /// Independent posterior samplers per N. Default 4.
      PosteriorSeeds: int
      /// Sweeps per annealing stage of the posterior (stages every AnnealStep in γ; the target γ gets two stages).
      /// Default 150 (FinitePosteriorOptions.Default).
      Sweeps: int
      /// Largest γ step of the posterior anneal. Default 0.25 [reconstructed, as the phase-boundary scan].
      AnnealStep: float
      /// Reference time t* of the single-time distribution (snapped to the grid). Default T/4 = 2.5, a peak of the
      /// target |sin|, where the tilt is strongest [reconstructed]; the kurtosis is reported at every grid time anyway.
      Time: float
      /// Histogram bins. Default 40.
      Bins: int
      /// Seed of everything (DMFT seed s uses Seed + s; posterior sampler r of size N uses stream r).
      Seed: int64 }
    /// g = 1.5, γ = 0, 0.5, 1, 1.5, Δt = 0.2, S = 2000 × 3 seeds, posterior N = 250, 1000 × 4 samplers, 150 sweeps per
    /// stage in steps of 0.25, t* = T/4, 40 bins, seed 1.
    static member Default =
        { G = 1.5; Gammas = [| 0.0; 0.5; 1.0; 1.5 |]; Task = { SinusoidTask.Default with Dt = 0.2 }
          Solver = { TiltedSolverOptions.Default with Chains = 2000 }; DmftSeeds = 3; Neurons = [| 250; 1000 |]
          PosteriorSeeds = 4; Sweeps = 150; AnnealStep = 0.25; Time = 2.5; Bins = 40; Seed = 1L }

/// Result of the study: per γ the DMFT ensemble and the posterior ensembles (one per N), and the raw samples' solutions
/// for callers that add ensembles (the Adam-trained networks live in Theory.Simulation).
type TiltedDistributionResult =
    { Options: TiltedDistributionOptions
      /// Grid step index of the reference time and the grid size.
      ReferenceStep: int
      Steps: int
      /// Per γ (in Options.Gammas order): the ensembles, DMFT first.
      Ensembles: EnsembleDistribution[][]
      /// Per γ and DMFT seed: the N = ∞ solutions (their particles are the reference samples).
      Solutions: TiltedSolution[][]
      /// Per γ: mean solver iterations over the DMFT seeds.
      SolverIterations: float[]
      Seconds: float }

/// Runs the distribution study: the N = ∞ tilted measure (continuation in γ per seed) against exact finite-N
/// posterior networks (docs/dmft-structure.md, "Tilted single-neuron distributions").
[<AbstractClass; Sealed>]
type TiltedDistributions private () =

    /// Validates the options (ParameterOutOfDomainException naming the parameter and its allowed range).
    static member Validate(o: TiltedDistributionOptions) =
        Validate.Positive("g", o.G) |> ignore
        if isNull o.Gammas || o.Gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "[]", "a non-empty ascending list of gamma >= 0"))
        for i in 0 .. o.Gammas.Length - 1 do
            Validate.NonNegative("gamma", o.Gammas.[i]) |> ignore
            if i > 0 && o.Gammas.[i] <= o.Gammas.[i - 1] then
                raise (ParameterOutOfDomainException("gammas", "not strictly ascending", "a strictly ascending list"))
        TiltedProblems.ValidateGrid(o.Task.Period, o.Task.Dt)
        Validate.Positive("noise", o.Task.ProcessNoise) |> ignore
        Validate.AtLeast("dmftSeeds", o.DmftSeeds, 2) |> ignore
        Validate.AtLeast("chains", o.Solver.Chains, TiltedSolverOptions.MinimumChains) |> ignore
        let n = int (Math.Floor(o.Task.Period / o.Task.Dt + 1e-9))
        if isNull o.Neurons then raise (ParameterOutOfDomainException("neurons", "null", "a list of N >= 2n"))
        for nn in o.Neurons do Validate.AtLeast("neurons", nn, max 2 (2 * n)) |> ignore
        Validate.AtLeast("posteriorSeeds", o.PosteriorSeeds, 2) |> ignore
        Validate.AtLeast("sweeps", o.Sweeps, 1) |> ignore
        Validate.Positive("annealStep", o.AnnealStep) |> ignore
        Validate.InRange("time", o.Time, 0.0, o.Task.Period) |> ignore
        Validate.AtLeast("bins", o.Bins, 2) |> ignore

    /// The posterior anneal schedule: 0 → max γ in steps ≤ AnnealStep through every target, each target twice
    /// (two stages of Sweeps sweeps); returns the schedule and, per target, the index of its last stage.
    static member Schedule(gammas: float[], step: float) =
        let sched = Collections.Generic.List<float>()
        let last = Array.zeroCreate gammas.Length
        let mutable cur = 0.0
        sched.Add 0.0
        for j in 0 .. gammas.Length - 1 do
            let target = gammas.[j]
            if target > cur then
                let m = int (Math.Ceiling((target - cur) / step - 1e-9))
                for i in 1 .. m do sched.Add(if i = m then target else cur + (target - cur) * float i / float m)
                cur <- target
            if target > 0.0 then sched.Add target
            last.[j] <- sched.Count - 1
        sched.ToArray(), last

    /// Runs the study. `progress` receives one line per stage (may be null).
    static member Run(o: TiltedDistributionOptions, progress: Action<string>) : TiltedDistributionResult =
        TiltedDistributions.Validate o
        let say (s: string) = if not (isNull progress) then progress.Invoke s
        let sw = Diagnostics.Stopwatch.StartNew()
        let problemAt gm = TiltedProblems.Sinusoid(o.G, gm, o.Task)
        let n = (problemAt 0.0).Points
        let kRef = min (n - 1) (max 0 (int (Math.Round(o.Time / o.Task.Dt))))
        // 1. N = ∞: one continuation per seed (independent seeds: the error bars).
        say (sprintf "distributions: N = inf, %d seeds x %d particles, gamma = %s" o.DmftSeeds o.Solver.Chains (o.Gammas |> Array.map string |> String.concat ", "))
        // Seeds are independent jobs (each seeded on its own): run concurrently, same bits as sequentially.
        let concurrently (count: int) (f: int -> 'T) = Concurrent.init count f
        let dmft =
            concurrently o.DmftSeeds (fun s ->
                let sols, fail = TiltedSolver.Continue(Func<_, _>(problemAt), o.Gammas, { o.Solver with Seed = o.Seed + int64 s })
                match fail with
                | Some f -> raise (NotConvergedException f.Failure)
                | None -> Array.ofList sols)
        let solutions = Array.init o.Gammas.Length (fun j -> dmft |> Array.map (fun run -> run.[j]))
        // 2. Finite-N posterior: one anneal per (N, sampler) through every target γ.
        let sched, last = TiltedDistributions.Schedule(o.Gammas, o.AnnealStep)
        let posterior =
            o.Neurons |> Array.map (fun nn ->
                say (sprintf "distributions: posterior N = %d, %d samplers, %d stages x %d sweeps" nn o.PosteriorSeeds sched.Length o.Sweeps)
                let po = { FinitePosteriorOptions.Default with Neurons = nn; ProcessNoise = o.Task.ProcessNoise; Sweeps = o.Sweeps; Seed = o.Seed }
                concurrently o.PosteriorSeeds (fun r ->
                    let run = FinitePosterior.Anneal(Func<_, _>(problemAt), sched, po, int64 r)
                    last |> Array.map (fun i -> run.[i])))
        // 3. Summaries against the DMFT pooled over its seeds.
        let ensembles =
            o.Gammas |> Array.mapi (fun j gm ->
                let sols = solutions.[j]
                let phi = sols.[0].Problem.Phi
                let reference variable time = sols |> Array.collect (fun s -> SingleNeuronSamples.OfSolution(s, variable, time))
                let summarise variable seeds (sample: int -> WindowTime -> float[]) isRef =
                    let range = SingleNeuronSummary.Range(variable, phi, reference variable Pooled)
                    let refF = if isRef then None else Some(Func<WindowTime, float[]>(reference variable))
                    SingleNeuronSummary.Summarise(variable, seeds, n, kRef, Func<_, _, _>(sample), refF, range, o.Bins)
                let ofDmft variable s time = SingleNeuronSamples.OfSolution(sols.[s], variable, time)
                let dm =
                    { Ensemble = "dmft"; Neurons = None; Gamma = gm; Seeds = sols.Length
                      Preactivation = summarise Preactivation sols.Length (ofDmft Preactivation) true
                      Rate = summarise Rate sols.Length (ofDmft Rate) true }
                let posts =
                    Array.map2 (fun nn (runs: FinitePosteriorSample[][]) ->
                        let ofPost variable r time = SingleNeuronSamples.OfPosterior(runs.[r].[j], variable, time)
                        { Ensemble = "posterior"; Neurons = Some nn; Gamma = gm; Seeds = runs.Length
                          Preactivation = summarise Preactivation runs.Length (ofPost Preactivation) false
                          Rate = summarise Rate runs.Length (ofPost Rate) false }) o.Neurons posterior
                Array.append [| dm |] posts)
        { Options = o; ReferenceStep = kRef; Steps = n; Ensembles = ensembles; Solutions = solutions
          SolverIterations = solutions |> Array.map (fun ss -> ss |> Array.averageBy (fun s -> float s.Diagnostics.Iterations))
          Seconds = sw.Elapsed.TotalSeconds }

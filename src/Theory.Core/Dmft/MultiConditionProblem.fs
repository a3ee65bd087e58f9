namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// One condition (trial type) of a multi-condition task on the grid t_k = kΔt, k = 0..n−1 (time-major).
type ConditionSeries =
    { /// Inputs I^c_a(t_k): one array of the input channels per grid step (n arrays, all of the same length ≥ 1).
      /// I(t_k) drives x_k → x_{k+1} (exponential Euler, note dmft-learned.md §3.4). The conditions' inputs at t = 0
      /// must be linearly independent (see <see cref="MultiConditionProblem"/>).
      Inputs: float[][]
      /// Targets y*^c_a(t_k): one array of the d outputs per grid step (n arrays of length d ≥ 1); 0 at t = 0.
      Targets: float[][] }

/// A multi-condition task stacked into one <see cref="TiltedProblem"/> on the joint index (condition c, time t)
/// (docs/dmft-multi-condition.md). A neuron's paths under the C conditions share its couplings, so the order parameter
/// is the joint kernel C((c,t),(c',t')) = E[φ(x_c(t))φ(x_{c'}(t'))]; the recurrent fields η are Gaussian over the joint
/// index with covariance g²C, the targets give C^y((c,t),(c',t')) = Σ_a y*^c_a(t)y*^{c'}_a(t') (note §3.1: summed over
/// outputs; conditions enter through the joint index), and the propagator is block-diagonal over conditions.
/// Initial state: x(0) = 0 in every condition (the same initial state for all conditions, as in trained reaching
/// networks). Then φ(x(0)) = 0 and η(0) = 0, so t = 0 is not a point of the joint index: J(c, k) = c(n−1) + (k−1),
/// k = 1..n−1. The input is u_c(t) = Σ_a U_a I^c_a(t) with U_a ~ N(0, 1) per neuron, trained (tilted; note §3.3). The
/// weights are the problem's per-neuron input weights (TiltedProblem.InputWeightResponse): column a is the path of a
/// unit weight on channel a, R_{(c,k),a} = Σ_{j&lt;k}(1−e)e^{k−1−j}I^c_a(t_j), so the input of t = 0 (which has no field
/// slot) is exact. The first states x_c(t_1) = (1−e)Σ_a U_a I^c_a(0) are jointly Gaussian with covariance
/// (1−e)²I(0)I(0)ᵀ: the conditions' inputs at t = 0 must be linearly independent (rank C), otherwise the joint kernel
/// is singular (φ = identity) or ill-conditioned (tanh). A one-hot condition cue (channel c for condition c, as in
/// <see cref="ReachTask"/>) makes the first states independent. Process noise σ²I on every slot (steps k ≥ 1) is the
/// input kernel.
type MultiConditionProblem =
    { /// The stacked problem on the C(n−1) joint points.
      Problem: TiltedProblem
      /// Number of conditions C.
      Conditions: int
      /// Grid points per condition n (t_0 = 0 with x(0) = 0 is not a joint point).
      Steps: int
      /// Outputs d and input channels (≥ 1).
      Outputs: int
      Inputs: int }
    /// Number of joint points C(n−1).
    member m.JointPoints = m.Conditions * (m.Steps - 1)
    /// Joint index of (condition c, step k ≥ 1): c(n−1) + (k−1).
    member m.Index(c: int, k: int) = c * (m.Steps - 1) + (k - 1)

/// How the reach task cues the condition (reconstructed; both exposed).
type ReachCue =
    /// Channel c carries condition c's cue (C channels): the conditions' first states are independent.
    | OneHot
    /// Two channels carry the reach direction A(cos θ_c, sin θ_c): a low-dimensional cue, conditions with nearby
    /// angles get similar inputs (the first states are dependent for C &gt; 2, so the DMFT needs process noise &gt; 0).
    | Direction

/// A synthetic reaching-like task (after the macaque reaching task of Clark et al. 2026 / Sussillo et al. 2015; all
/// choices reconstructed and exposed): C reach angles θ_c = 2πc/C; a one-hot condition cue of level A on input
/// channel c during [0, t_cue) (channels 0..C−1; the first states of the conditions are then independent, see
/// <see cref="MultiConditionProblem"/>); a condition-independent go pulse of height B on channel C during
/// [t_go, t_go + w_go); the d = 2 outputs (hand velocity) y^c(t) = v(t)(cos θ_c, sin θ_c) with the bell-shaped speed
/// v(t) = V [b(t) − b(t_go)] for t ≥ t_go (0 before), b(t) = exp(−(t − t_peak)²/(2w²)): continuous at the go time.
type ReachTask =
    { /// Number of conditions C ≥ 1. Default 4.
      Conditions: int
      /// Grid step Δt. Default 0.25 [reconstructed].
      Dt: float
      /// Grid points per condition n (trial length nΔt). Default 16 (T = 4).
      Steps: int
      /// End of the cue period t_cue. Default 1.0.
      CueOff: float
      /// Cue amplitude A. Default 2 [reconstructed: drives the network out of x(0) = 0 strongly enough for the kernel].
      CueAmplitude: float
      /// Cue form. Default OneHot [reconstructed].
      Cue: ReachCue
      /// Go pulse onset t_go, width w_go and height B. Defaults 1.5, 0.5, 2.
      GoTime: float
      GoWidth: float
      GoAmplitude: float
      /// Speed peak t_peak, width w and peak speed V. Defaults 2.5, 0.5, 0.1 [reconstructed: the task term scales as
      /// γ²V², so V sets the unit of γ; docs/dmft-multi-condition.md].
      PeakTime: float
      Width: float
      PeakSpeed: float }
    /// C = 4, Δt = 0.25, n = 16, one-hot cue [0, 1) of amplitude 2, go pulse [1.5, 2) of height 2, speed bell at 2.5 (width 0.5, peak 0.1).
    static member Default =
        { Conditions = 4; Dt = 0.25; Steps = 16; CueOff = 1.0; CueAmplitude = 2.0; Cue = OneHot; GoTime = 1.5; GoWidth = 0.5; GoAmplitude = 2.0
          PeakTime = 2.5; Width = 0.5; PeakSpeed = 0.1 }
    /// A copy with another number of conditions (C# callers).
    member t.WithConditions(c: int) = { t with Conditions = c }
    /// Reach angle θ_c.
    member t.Angle(c: int) = 2.0 * Math.PI * float c / float t.Conditions
    /// Validates the options (ParameterOutOfDomainException with the allowed range).
    member t.Validated() =
        Validate.AtLeast("conditions", t.Conditions, 1) |> ignore
        Validate.Positive("dt", t.Dt) |> ignore
        Validate.AtLeast("steps", t.Steps, 2) |> ignore
        Validate.Positive("cueOff", t.CueOff) |> ignore
        Validate.Positive("cueAmplitude", t.CueAmplitude) |> ignore
        Validate.Positive("goTime", t.GoTime) |> ignore
        Validate.NonNegative("goWidth", t.GoWidth) |> ignore
        Validate.Finite("goAmplitude", t.GoAmplitude) |> ignore
        Validate.Finite("peakTime", t.PeakTime) |> ignore
        Validate.Positive("width", t.Width) |> ignore
        Validate.Finite("peakSpeed", t.PeakSpeed) |> ignore
        t
    /// The C condition series (cue channels: C one-hot or 2 direction channels; then the go pulse; 2 outputs).
    member t.Series() : ConditionSeries[] =
        t.Validated() |> ignore
        let cc = t.Conditions
        let cueChannels = match t.Cue with OneHot -> cc | Direction -> 2
        Array.init cc (fun c ->
            let th = t.Angle c
            let inputs =
                Array.init t.Steps (fun k ->
                    let tk = float k * t.Dt
                    let row = Array.zeroCreate (cueChannels + 1)
                    if tk < t.CueOff - 1e-12 then
                        match t.Cue with
                        | OneHot -> row.[c] <- t.CueAmplitude
                        | Direction ->
                            row.[0] <- t.CueAmplitude * Math.Cos th
                            row.[1] <- t.CueAmplitude * Math.Sin th
                    if tk >= t.GoTime - 1e-12 && tk < t.GoTime + t.GoWidth - 1e-12 then row.[cueChannels] <- t.GoAmplitude
                    row)
            let bell (s: float) = Math.Exp(-((s - t.PeakTime) * (s - t.PeakTime)) / (2.0 * t.Width * t.Width))
            let targets =
                Array.init t.Steps (fun k ->
                    let tk = float k * t.Dt
                    let v = if tk >= t.GoTime - 1e-12 then t.PeakSpeed * max 0.0 (bell tk - bell t.GoTime) else 0.0
                    [| v * Math.Cos th; v * Math.Sin th |])
            { Inputs = inputs; Targets = targets })

/// Constructors, kernels on the joint index and the saddle point of <see cref="MultiConditionProblem"/>.
[<AbstractClass; Sealed>]
type MultiConditions private () =

    /// Validates condition series: at least one condition; every condition with the same number n ≥ 2 of steps, the
    /// same number d ≥ 1 of outputs and din ≥ 1 of input channels at every step; finite values; targets 0 at t = 0
    /// (x(0) = 0). Returns (n, d, din).
    static member ValidateSeries(conditions: ConditionSeries[]) =
        if isNull (box conditions) || conditions.Length = 0 then
            raise (ParameterOutOfDomainException("conditions", "none", "at least one condition"))
        let n = conditions.[0].Targets.Length
        if n = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 steps)", "at least 2 steps per condition"))
        if n < 2 then raise (ParameterOutOfDomainException("targets", sprintf "%d step" n, "at least 2 steps per condition"))
        let d = conditions.[0].Targets.[0].Length
        if d = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 outputs)", "at least one output"))
        if conditions.[0].Inputs.Length = 0 || conditions.[0].Inputs.[0].Length = 0 then
            raise (ParameterOutOfDomainException("inputs", "none", "at least one input channel (the inputs at t = 0 start the dynamics from x(0) = 0)"))
        let din = conditions.[0].Inputs.[0].Length
        conditions |> Array.iteri (fun c s ->
            if s.Targets.Length <> n then
                raise (ParameterOutOfDomainException(sprintf "targets of condition %d" c, sprintf "%d steps" s.Targets.Length,
                                                     sprintf "%d steps, the length of condition 0 (all conditions equally long)" n))
            if s.Inputs.Length <> n then
                raise (ParameterOutOfDomainException(sprintf "inputs of condition %d" c, sprintf "%d steps" s.Inputs.Length,
                                                     sprintf "%d steps (one input vector per target step)" n))
            for k in 0 .. n - 1 do
                if s.Targets.[k].Length <> d then
                    raise (ParameterOutOfDomainException(sprintf "targets of condition %d, step %d" c k, sprintf "%d outputs" s.Targets.[k].Length, sprintf "%d outputs" d))
                Validate.AllFinite(sprintf "targets of condition %d" c, s.Targets.[k]) |> ignore
                if s.Inputs.[k].Length <> din then
                    raise (ParameterOutOfDomainException(sprintf "inputs of condition %d, step %d" c k, sprintf "%d channels" s.Inputs.[k].Length, sprintf "%d channels" din))
                Validate.AllFinite(sprintf "inputs of condition %d" c, s.Inputs.[k]) |> ignore
            if s.Targets.[0] |> Array.exists (fun v -> v <> 0.0) then
                raise (ParameterOutOfDomainException(sprintf "targets of condition %d at t = 0" c, "nonzero", "0 (x(0) = 0, so the output at t = 0 is 0)")))
        n, d, din

    /// Without process noise the first states x_c(t_1) = (1−e)Σ_a U_a I^c_a(0) are the only randomness of the first
    /// step: the conditions' inputs at t = 0 must be linearly independent (the C×din matrix I^c_a(0) of rank C: smallest
    /// singular value ≥ 1e-6 × largest), otherwise the joint kernel is singular.
    static member ValidateFirstInputs(conditions: ConditionSeries[]) =
        let cc = conditions.Length
        let din = conditions.[0].Inputs.[0].Length
        let i0 = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(cc, din, fun c a -> conditions.[c].Inputs.[0].[a])
        let sv = i0.Svd(false).S.ToArray()
        let smax = if sv.Length = 0 then 0.0 else Array.max sv
        let smin = if sv.Length < cc then 0.0 else Array.min sv
        if not (smax > 0.0) || smin < 1e-6 * smax then
            raise (ParameterOutOfDomainException("inputs at t = 0", sprintf "of rank < %d (%d conditions, %d channels; singular values %s)" cc cc din
                                                     (String.Join(", ", sv |> Array.map (sprintf "%.3g"))),
                                                 sprintf "linearly independent across the %d conditions (rank %d, e.g. a one-hot condition cue), or process noise > 0: x(0) = 0, so without noise the first states are (1-e) U.I(0) and dependent inputs make the joint kernel singular" cc cc))

    /// Stacks C conditions into one tilted problem on the joint index (see <see cref="MultiConditionProblem"/>):
    /// propagator P_{J(c,k),J(c,j)} = (1−e)e^{k−1−j} (1 ≤ j &lt; k, same condition; e = e^{−Δt}), input-weight responses
    /// R_{(c,k),a} = σ_U Σ_{j&lt;k}(1−e)e^{k−1−j}I^c_a(t_j) (the per-neuron weights U_a ~ N(0, σ_U²) of every channel,
    /// trained; σ_U² = inputWeightVariance, scaled into R so the variables are standard normal), C^I = σ²I over the joint
    /// index (σ = process noise on the steps k ≥ 1, a trained white input that regularises the kernel, as in
    /// SinusoidTask), one target vector per output over the joint index; no x0 variable (x(0) = 0).
    /// With C = 1 the propagator is TiltedProblems.ExponentialEuler(Δt, n−1) bit for bit (tested).
    static member Build(phi: SiteNonlinearity, g: float, gamma: float, dt: float, conditions: ConditionSeries[], inputWeightVariance: float,
                        processNoise: float) : MultiConditionProblem =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("dt", dt) |> ignore
        Validate.Positive("inputWeightVariance", inputWeightVariance) |> ignore
        Validate.NonNegative("processNoise", processNoise) |> ignore
        let n, d, din = MultiConditions.ValidateSeries conditions
        if processNoise = 0.0 then MultiConditions.ValidateFirstInputs conditions
        let cc = conditions.Length
        let nj = cc * (n - 1)
        let index c k = c * (n - 1) + (k - 1)
        let cond = Array.init nj (fun m -> m / (n - 1))
        let step = Array.init nj (fun m -> m % (n - 1) + 1)
        let e = Math.Exp(-dt)
        let p = Array2D.zeroCreate nj nj
        for c in 0 .. cc - 1 do
            for k in 1 .. n - 1 do
                for j in 1 .. k - 1 do
                    p.[index c k, index c j] <- (1.0 - e) * Math.Pow(e, float (k - 1 - j))
        // Input-weight responses: the exponential-Euler path of a unit weight on each channel from x(0) = 0.
        let su = Math.Sqrt inputWeightVariance
        // With process noise, the first step of every condition gets its own noise too (the step t_0 → t_1 has no
        // field slot): one more standard-normal variable per condition, response σ(1−e)e^{k−1} on that condition.
        let noiseColumns = if processNoise > 0.0 then cc else 0
        let r = Array2D.zeroCreate nj (din + noiseColumns)
        for c in 0 .. cc - 1 do
            for a in 0 .. din - 1 do
                let mutable x = 0.0
                for k in 1 .. n - 1 do
                    x <- e * x + (1.0 - e) * conditions.[c].Inputs.[k - 1].[a]
                    r.[index c k, a] <- su * x
            if noiseColumns > 0 then
                for k in 1 .. n - 1 do r.[index c k, din + c] <- processNoise * (1.0 - e) * Math.Pow(e, float (k - 1))
        let s2 = processNoise * processNoise
        let inputKernel = if processNoise = 0.0 then None else Some(Array2D.init nj nj (fun i j -> if i = j then s2 else 0.0))
        let targets = Array.init d (fun a -> Array.init nj (fun m -> conditions.[cond.[m]].Targets.[step.[m]].[a]))
        let problem =
            { G = g; Gamma = gamma; Phi = phi; Dt = dt; Propagator = p; X0Response = Array.zeroCreate nj; X0Variance = 0.0
              X0Tilted = true; InputKernel = inputKernel; InputTilted = true; Targets = targets; InputWeightResponse = r }
        { Problem = problem; Conditions = cc; Steps = n; Outputs = d; Inputs = din }

    /// The reaching-like task at (g, γ) with φ, input weights U_a ~ N(0, 1) (the engine's prior), process noise σ.
    static member Reach(phi: SiteNonlinearity, g: float, gamma: float, task: ReachTask, processNoise: float) =
        task.Validated() |> ignore
        MultiConditions.Build(phi, g, gamma, task.Dt, task.Series(), 1.0, processNoise)

    /// The same problem at another γ (for continuation).
    static member WithGamma(m: MultiConditionProblem, gamma: float) =
        Validate.NonNegative("gamma", gamma) |> ignore
        { m with Problem = { m.Problem with Gamma = gamma } }

    /// The γ = 0 solution on the joint index (the SCS march of note §6.2 generalised to any strictly causal propagator):
    /// x = R x0 + R_U U + P s, s ~ N(0, Σ), Σ = g²C + C^I, so Δ = σ0² R Rᵀ + R_U R_Uᵀ + P Σ Pᵀ and C_{ml} = E[φ(x_m)φ(x_l)] by bivariate
    /// Gauss–Hermite quadrature. Row m of Δ needs Σ on indices &lt; m only (P strictly lower triangular), so the
    /// rows are computed in index order (O(n³) plus n² quadratures). On one condition it equals ScsTransient.Solve to
    /// rounding (tested). Returns (Δ, C).
    static member ZeroGammaKernel(problem: TiltedProblem, quadratureNodes: int) : float[,] * float[,] =
        Validate.AtLeast("quadratureNodes", quadratureNodes, 8) |> ignore
        let n = problem.Points
        let p = problem.Propagator
        for m in 0 .. n - 1 do
            for j in m .. n - 1 do
                if p.[m, j] <> 0.0 then
                    raise (ParameterOutOfDomainException("propagator", sprintf "entry (%d, %d) = %g" m j p.[m, j], "strictly lower triangular (causal)"))
        let rule = GaussianQuadrature.Hermite quadratureNodes
        let g2 = problem.G * problem.G
        let ci = problem.InputKernel
        let s0 = problem.X0Variance
        let r = problem.X0Response
        let ru = problem.InputWeightResponse
        let mu = problem.InputWeights
        let delta = Array2D.zeroCreate n n
        let c = Array2D.zeroCreate n n
        let sigma = Array2D.zeroCreate n n
        let q = Array.zeroCreate n
        for m in 0 .. n - 1 do
            // Σ rows/columns of index m − 1 (C on indices < m is known).
            if m > 0 then
                let a = m - 1
                for l in 0 .. a do
                    let v = g2 * c.[a, l] + (match ci with Some k -> k.[a, l] | None -> 0.0)
                    sigma.[a, l] <- v
                    sigma.[l, a] <- v
            // q_j' = Σ_{j<m} P_mj Σ_jj', j' < m.
            Array.Clear(q, 0, n)
            for j in 0 .. m - 1 do
                let pm = p.[m, j]
                if pm <> 0.0 then
                    for jp in 0 .. m - 1 do q.[jp] <- q.[jp] + pm * sigma.[j, jp]
            for l in 0 .. m do
                let mutable v = s0 * r.[m] * r.[l]
                for a in 0 .. mu - 1 do v <- v + ru.[m, a] * ru.[l, a]
                for jp in 0 .. l - 1 do
                    let pl = p.[l, jp]
                    if pl <> 0.0 then v <- v + q.[jp] * pl
                delta.[m, l] <- v
                delta.[l, m] <- v
            for l in 0 .. m do
                let v = ScsTransient.Bivariate(problem.Phi, rule, delta.[m, m], delta.[l, l], delta.[m, l])
                c.[m, l] <- v
                c.[l, m] <- v
        delta, c

    /// The saddle point of the stacked problem (TiltedSolver, note §3.2–3.4). TiltedSolver's own γ = 0 start is the
    /// single-trajectory march (ScsTransient), which is wrong on a stacked grid; this entry runs the same Monte Carlo
    /// relaxation (or the exact Gaussian iteration, φ = identity) from the joint-index γ = 0 kernel of
    /// <see cref="ZeroGammaKernel"/> and exact prior particles. With C = 1 it reproduces TiltedSolver.Solve to rounding.
    static member Solve(m: MultiConditionProblem, options: TiltedSolverOptions) : Result<TiltedSolution, SaddleFailure> =
        MultiConditions.SolveCausal(m.Problem, options)

    /// The same solve for any tilted problem with a strictly causal propagator (the γ = 0 start by
    /// <see cref="ZeroGammaKernel"/>). On a single-condition grid problem (TiltedProblems.Sinusoid/OnGrid) the start
    /// equals TiltedSolver's to rounding, so the result reproduces TiltedSolver.Solve to rounding (tested).
    static member SolveCausal(problem: TiltedProblem, options: TiltedSolverOptions) : Result<TiltedSolution, SaddleFailure> =
        Validate.Positive("g", problem.G) |> ignore
        Validate.NonNegative("gamma", problem.Gamma) |> ignore
        let n = problem.Points
        let nn = n * n
        Validate.AtLeast("chains", options.Chains, TiltedSolverOptions.MinimumChains) |> ignore
        if options.Expectation = ExactGaussian && problem.Phi <> Identity then
            raise (ParameterOutOfDomainException("expectation", "ExactGaussian", "MonteCarlo unless phi = identity"))
        let _, c2 = MultiConditions.ZeroGammaKernel(problem, 48)
        let flat2 (a: float[,]) = Array.init nn (fun i -> a.[i / n, i % n])
        let c0 = flat2 c2
        let ci = TiltedRelaxation.InputKernelArray problem
        let g2 = problem.G * problem.G
        let sigma = Array.init nn (fun i -> g2 * c0.[i] + ci.[i])
        let ls =
            match TiltFields.factor sigma n with
            | None -> raise (NoSolutionException "the gamma = 0 field covariance g^2 C + C^I on the joint index is not positive definite; add process noise or input")
            | Some(ls, _, _) -> ls
        let k0 = Array.copy sigma
        match options.Expectation with
        | ExactGaussian ->
            // Warm start (C, Λ = 0) for the exact iteration; its fixed point does not depend on the start.
            let zero = Array2D.zeroCreate n n
            let stat v = { Mean = v; Sd = 0.0; StandardError = 0.0 }
            let warm =
                { Problem = { problem with Gamma = 0.0 }; C = c2; K = TiltedRelaxation.To2D(k0, n); Lambda = zero; CHat = c2
                  KHat = TiltedRelaxation.To2D(k0, n); Samples = { Fields = [||]; InitialStates = [||]; InputWeights = [||]; Paths = [||]; Rates = [||] }
                  Diagnostics =
                    { Iterations = 0; TemperingIterations = 0; CResidual = 0.0; CNoiseFloor = 0.0; KResidual = 0.0; KNoiseFloor = 0.0
                      EffectiveSampleSize = infinity; MinimumEffectiveSampleSize = infinity; Resamplings = 0; ProposalsPerUpdate = 0.0
                      Samples = 0; Seed = options.Seed; Step = 0.0; StepReductions = 0; SnisBias = 0.0; DriftZ = 0.0; RelaxationTime = 0.0; NewtonJumps = 0
                      Warnings = []; StabilityMargin = nan; MeanActivity = stat nan; TargetAlignment = stat nan; HalfWindowCorrelation = stat nan; MidWindowMoments = None } }
            TiltedSolver.Solve(problem, options, warm)
        | MonteCarlo ->
            if problem.Targets.Length = 0 then raise (ParameterOutOfDomainException("targets", "none", "at least one target"))
            // Exactly TiltedSolver's cold Monte Carlo path with the joint-index starting kernel.
            let streamSeed = options.Seed * 1000003L + int64 (Math.Round(problem.Gamma * 1e6))
            let cloud = Particles.prior problem ls options.Chains options.Seed
            match TiltFields.derive problem ci c0 k0 0.0 with
            | Some t0 ->
                Particles.initialise t0 cloud
                Particles.commit t0 cloud
                if options.ExactAtZero && problem.Gamma = 0.0 then TiltedRelaxation.ExactZero(problem, options, c0, k0, t0, cloud)
                else TiltedRelaxation.Relax(problem, options, c0, k0, 0.0, cloud, streamSeed)
            | None ->
                Error { Kind = NumericalInstability; Gamma = problem.Gamma; GammaReached = 0.0; StabilityMargin = nan; EffectiveSampleSize = nan
                        Failure = { Solver = "TiltedSaddle"; Iterations = 0; Residual = nan; Reason = "the starting kernel is not positive definite" } }

    /// Continuation in γ: solves at gammas.[0] from the γ = 0 start, then at each next γ warm-started from the previous
    /// solution (TiltedSolver.Solve with a warm start: its particles and order parameters). A cold solve of a strong
    /// tilt can stall in the trust region (measured: the reach task at γ = 2 from γ = 0 does not converge in 6000
    /// iterations, while γ = 0.5 → 1 → 1.5 converges at each step). After a failure the next γ starts from the last
    /// success. The γ values must be increasing and ≥ 0.
    static member SolveContinued(m: MultiConditionProblem, gammas: float[], options: TiltedSolverOptions) : (float * Result<TiltedSolution, SaddleFailure>)[] =
        if isNull gammas || gammas.Length = 0 then raise (ParameterOutOfDomainException("gammas", "none", "at least one gamma"))
        gammas |> Array.iteri (fun i gm ->
            Validate.NonNegative("gamma", gm) |> ignore
            if i > 0 && not (gm > gammas.[i - 1]) then
                raise (ParameterOutOfDomainException("gammas", String.Join(", ", gammas), "strictly increasing")))
        let mutable warm : TiltedSolution option = None
        gammas |> Array.map (fun gm ->
            let mg = MultiConditions.WithGamma(m, gm)
            let r =
                match warm with
                | None -> MultiConditions.Solve(mg, options)
                | Some w -> TiltedSolver.Solve(mg.Problem, options, w)
            (match r with Ok s -> warm <- Some s | Error _ -> ())
            gm, r)

    /// Throwing variant: NotConvergedException on failure.
    static member SolveOrThrow(m: MultiConditionProblem, options: TiltedSolverOptions) =
        match MultiConditions.Solve(m, options) with
        | Ok s -> s
        | Error f -> raise (NotConvergedException { f.Failure with Reason = sprintf "%A: %s" f.Kind f.Failure.Reason })

    /// A kernel over the per-condition rows (row q·n + k, q = condition, k = step; e.g. a network's window kernel of a
    /// TrainingTask with the conditions as trials) mapped to the joint index. The t = 0 rows
    /// (with x(0) = 0, all zero) are dropped.
    static member FromConditionRows(kernel: float[], conditions: int, steps: int) : float[,] =
        let p = conditions * steps
        if kernel.Length <> p * p then
            raise (ParameterOutOfDomainException("kernel", sprintf "%d entries" kernel.Length, sprintf "(conditions*steps)^2 = %d entries" (p * p)))
        let nj = conditions * (steps - 1)
        let row = Array.zeroCreate nj
        for c in 0 .. conditions - 1 do
            for k in 1 .. steps - 1 do row.[c * (steps - 1) + (k - 1)] <- c * steps + k
        Array2D.init nj nj (fun i j -> kernel.[row.[i] * p + row.[j]])

    /// Relative Frobenius distance ‖A − B‖_F/‖B‖_F.
    static member Distance(a: float[,], b: float[,]) =
        let mutable num = 0.0
        let mutable den = 0.0
        Array2D.iteri (fun i j (v: float) ->
            let dv = v - b.[i, j]
            num <- num + dv * dv
            den <- den + b.[i, j] * b.[i, j]) a
        Math.Sqrt(num / den)

    /// (n, joint points) after checking a selectivity's arguments: 1 ≤ from ≤ n − 1 and a kernel on the joint index.
    static member private CheckSelectivityArguments(m: MultiConditionProblem, kernel: float[,], from: int) =
        let n = m.Steps
        if from < 1 || from > n - 1 then raise (ParameterOutOfDomainException("from", string from, sprintf "1..%d" (n - 1)))
        let nj = m.JointPoints
        if kernel.GetLength 0 <> nj || kernel.GetLength 1 <> nj then
            raise (ParameterOutOfDomainException("kernel", sprintf "%dx%d" (kernel.GetLength 0) (kernel.GetLength 1), sprintf "%dx%d (the joint index)" nj nj))
        n, nj

    /// Condition selectivity of the population from a joint kernel (docs/dmft-multi-condition.md): per neuron, the
    /// variance across conditions of its time-averaged rate r̄_c = mean_{k ≥ from} φ(x_c(t_k)) over the variance of
    /// φ over all (c, k ≥ from); pooled over neurons (ratio of population means, i.e. the per-neuron ratios weighted by
    /// each neuron's total variance):
    ///   S = [ (1/C)Σ_c w_cᵀ C w_c − w̄ᵀ C w̄ ] / [ mean_{(c,k)} C_{(c,k),(c,k)} − w̄ᵀ C w̄ ],
    /// w_c the averaging vector of condition c over steps k ≥ from, w̄ = (1/C)Σ_c w_c. S ∈ [0, 1]; 0 with one condition.
    /// `from` ≥ 1 (t = 0 is not a joint point).
    static member Selectivity(m: MultiConditionProblem, kernel: float[,], from: int) =
        let n, nj = MultiConditions.CheckSelectivityArguments(m, kernel, from)
        let cc = m.Conditions
        let len = float (n - from)
        let w c =
            let a = Array.zeroCreate nj
            for k in from .. n - 1 do a.[m.Index(c, k)] <- 1.0 / len
            a
        let ws = Array.init cc w
        let wbar = Array.init nj (fun i -> ws |> Array.sumBy (fun a -> a.[i]) |> fun s -> s / float cc)
        let quad (a: float[]) =
            let mutable s = 0.0
            for i in 0 .. nj - 1 do
                if a.[i] <> 0.0 then
                    for j in 0 .. nj - 1 do s <- s + a.[i] * kernel.[i, j] * a.[j]
            s
        let mean2 = quad wbar
        let between = (ws |> Array.sumBy quad) / float cc - mean2
        let mutable diag = 0.0
        for c in 0 .. cc - 1 do
            for k in from .. n - 1 do diag <- diag + kernel.[m.Index(c, k), m.Index(c, k)]
        let total = diag / (float cc * len) - mean2
        if total <= 0.0 then 0.0 else max 0.0 between / total

    /// Time-resolved condition selectivity from a joint kernel: per neuron, the variance across conditions of φ(x_c(t))
    /// at each time t ≥ from, summed over t, over the variance of φ over all (c, t ≥ from); pooled over neurons:
    ///   S_t = Σ_t [ (1/C)Σ_c C_{(c,t),(c,t)} − (1/C²)Σ_{c,c'} C_{(c,t),(c',t)} ] / Σ_t [ (1/C)Σ_c C_{(c,t),(c,t)} − mean C over all pairs ].
    /// It counts condition-dependent temporal profiles (ramps, multiphasic responses) that time averaging
    /// (<see cref="Selectivity"/>) cancels. S_t ∈ [0, 1]; 0 with one condition.
    static member TimeResolvedSelectivity(m: MultiConditionProblem, kernel: float[,], from: int) =
        let n, _ = MultiConditions.CheckSelectivityArguments(m, kernel, from)
        let cc = m.Conditions
        let pts = [| for c in 0 .. cc - 1 do for t in from .. n - 1 -> m.Index(c, t) |]
        let allMean = (pts |> Array.sumBy (fun i -> pts |> Array.sumBy (fun j -> kernel.[i, j]))) / float (pts.Length * pts.Length)
        let mutable between = 0.0
        let mutable diag = 0.0
        for t in from .. n - 1 do
            let idx = Array.init cc (fun c -> m.Index(c, t))
            let d = idx |> Array.averageBy (fun i -> kernel.[i, i])
            let o = (idx |> Array.sumBy (fun i -> idx |> Array.sumBy (fun j -> kernel.[i, j]))) / float (cc * cc)
            between <- between + (d - o)
            diag <- diag + d
        let total = diag - float (n - from) * allMean
        if total <= 0.0 then 0.0 else max 0.0 between / total

    /// Per-neuron selectivity of equal-weight samples (rows = neurons or particles, columns = joint index): the mean
    /// over rows of Var_c(r̄_c)/Var_{(c,k)}(φ) (rows with zero variance skipped), with its standard error.
    static member SelectivityOfRates(m: MultiConditionProblem, rates: float[][], from: int) =
        let n = m.Steps
        if from < 1 || from > n - 1 then raise (ParameterOutOfDomainException("from", string from, sprintf "1..%d" (n - 1)))
        let cc = m.Conditions
        let vals =
            rates |> Array.choose (fun r ->
                let means = Array.init cc (fun c -> (Seq.init (n - from) (fun i -> r.[m.Index(c, from + i)]) |> Seq.average))
                let all = [| for c in 0 .. cc - 1 do for k in from .. n - 1 -> r.[m.Index(c, k)] |]
                let mu = Array.average all
                let tot = all |> Array.averageBy (fun v -> (v - mu) ** 2.0)
                let mm = Array.average means
                let bet = means |> Array.averageBy (fun v -> (v - mm) ** 2.0)
                if tot > 1e-300 then Some(bet / tot) else None)
        if vals.Length = 0 then nan, nan
        else
            let mu = Array.average vals
            let sd = if vals.Length > 1 then Math.Sqrt((vals |> Array.sumBy (fun v -> (v - mu) ** 2.0)) / float (vals.Length - 1)) else 0.0
            mu, sd / Math.Sqrt(float vals.Length)

    /// Predicted relative distance of an N-neuron empirical kernel from its mean when the neurons are independent draws
    /// of the single-site measure: E‖C_N − C‖²_F = (1/N) Σ_{ml} Var(φ_mφ_l), estimated from equal-weight samples (rows).
    /// Returns √(Σ Var(φ_mφ_l)/N)/‖C‖_F: the 1/√N scale of the network-vs-theory distance.
    static member SamplingDistance(rates: float[][], kernel: float[,], neurons: int) =
        Validate.AtLeast("neurons", neurons, 1) |> ignore
        let s = rates.Length
        if s < 2 then raise (ParameterOutOfDomainException("rates", sprintf "%d rows" s, "at least 2 samples"))
        let nj = kernel.GetLength 0
        let mutable var = 0.0
        let mutable norm = 0.0
        for i in 0 .. nj - 1 do
            for j in 0 .. nj - 1 do
                let mutable m1 = 0.0
                let mutable m2 = 0.0
                for r in rates do
                    let v = r.[i] * r.[j]
                    m1 <- m1 + v
                    m2 <- m2 + v * v
                m1 <- m1 / float s
                var <- var + (m2 / float s - m1 * m1) * float s / float (s - 1)
                norm <- norm + kernel.[i, j] * kernel.[i, j]
        Math.Sqrt(var / float neurons) / Math.Sqrt norm

namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// One condition (trial type) of a multi-condition task on the grid t_k = kΔt, k = 0..n−1 (time-major).
type ConditionSeries =
    { /// Inputs I^c_a(t_k): one array of the input channels per grid step (n arrays, all of the same length ≥ 1).
      /// I(t_k) drives x_k → x_{k+1} (exponential Euler, note dmft-learned.md §3.4). Channel 0 is the condition cue
      /// (see <see cref="MultiConditionProblem"/>); channels a ≥ 1 must be 0 at t = 0.
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
/// k = 1..n−1. The input is u_c(t) = Σ_a U_a I^c_a(t) with U_a ~ N(0, 1) per neuron, trained (tilted; note §3.3):
/// channel 0 (the condition cue, nonzero at t = 0) enters through the problem's scalar per-neuron variable (TiltedProblem's
/// "x0" slot, variance 1, tilted) with response R_{(c,k)} = Σ_{j&lt;k}(1−e)e^{k−1−j}I^c_0(t_j); channels a ≥ 1 enter
/// through the input kernel C^I((c,k),(c',k')) = Σ_{a≥1} I^c_a(t_k)I^{c'}_a(t_k') (they must vanish at t = 0, where no
/// field slot exists). Limitations (TiltedProblem carries one field slot per point and one scalar x0 per neuron): a
/// random initial state, shared or per condition, is not representable, and the conditions' cue values at t = 0 must be
/// nonzero with distinct magnitudes (otherwise two conditions' first states are equal or opposite and C is singular).
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

/// A synthetic reaching-like task (after the macaque reaching task of Clark et al. 2026 / Sussillo et al. 2015; all
/// choices reconstructed and exposed): C reach angles θ_c = 2πc/C; a condition cue on input channel 0 during
/// [0, t_cue) with level A(c+1)/C (the reach identity as a cue intensity: distinct positive levels, see
/// <see cref="MultiConditionProblem"/>); a condition-independent go pulse of height B on channel 1 during
/// [t_go, t_go + w_go); the d = 2 outputs (hand velocity) y^c(t) = v(t)(cos θ_c, sin θ_c) with the bell-shaped speed
/// v(t) = V exp(−(t − t_peak)²/(2w²)) for t ≥ t_go (0 before).
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
      /// Go pulse onset t_go, width w_go and height B. Defaults 1.5, 0.5, 2.
      GoTime: float
      GoWidth: float
      GoAmplitude: float
      /// Speed peak t_peak, width w and peak speed V. Defaults 2.5, 0.5, 0.1 [reconstructed: the task term scales as
      /// γ²V², so V sets the unit of γ; with V = 0.1, g = 1.2, σ = 0.1 the saddle point converged at γ = 0.5 but not at 0.25, 0.75 within 800 iterations:
      /// convergence is fragile, docs/dmft-multi-condition.md].
      PeakTime: float
      Width: float
      PeakSpeed: float }
    /// C = 4, Δt = 0.25, n = 16, cue [0, 1) of amplitude 2, go pulse [1.5, 2) of height 2, speed peak 0.1 at 2.5 (width 0.5).
    static member Default =
        { Conditions = 4; Dt = 0.25; Steps = 16; CueOff = 1.0; CueAmplitude = 2.0; GoTime = 1.5; GoWidth = 0.5; GoAmplitude = 2.0
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
    /// The C condition series (2 input channels: cue, go; 2 outputs).
    member t.Series() : ConditionSeries[] =
        t.Validated() |> ignore
        Array.init t.Conditions (fun c ->
            let th = t.Angle c
            let level = t.CueAmplitude * float (c + 1) / float t.Conditions
            let inputs =
                Array.init t.Steps (fun k ->
                    let tk = float k * t.Dt
                    let cue = if tk < t.CueOff - 1e-12 then level else 0.0
                    let go = if tk >= t.GoTime - 1e-12 && tk < t.GoTime + t.GoWidth - 1e-12 then t.GoAmplitude else 0.0
                    [| cue; go |])
            let targets =
                Array.init t.Steps (fun k ->
                    let tk = float k * t.Dt
                    let v = if tk >= t.GoTime - 1e-12 then t.PeakSpeed * Math.Exp(-(tk - t.PeakTime) ** 2.0 / (2.0 * t.Width * t.Width)) else 0.0
                    [| v * Math.Cos th; v * Math.Sin th |])
            { Inputs = inputs; Targets = targets })

/// Constructors, kernels on the joint index and the saddle point of <see cref="MultiConditionProblem"/>.
[<AbstractClass; Sealed>]
type MultiConditions private () =

    /// Validates condition series: at least one condition; every condition with the same number n ≥ 2 of steps, the
    /// same number d ≥ 1 of outputs and din ≥ 1 of input channels at every step; finite values; targets 0 at t = 0
    /// (x(0) = 0); input channels a ≥ 1 zero at t = 0; cue values I^c_0(0) nonzero with distinct magnitudes (relative
    /// separation ≥ 1e-6). Returns (n, d, din).
    static member ValidateSeries(conditions: ConditionSeries[]) =
        if isNull (box conditions) || conditions.Length = 0 then
            raise (ParameterOutOfDomainException("conditions", "none", "at least one condition"))
        let n = conditions.[0].Targets.Length
        if n = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 steps)", "at least 2 steps per condition"))
        if n < 2 then raise (ParameterOutOfDomainException("targets", sprintf "%d step" n, "at least 2 steps per condition"))
        let d = conditions.[0].Targets.[0].Length
        if d = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 outputs)", "at least one output"))
        if conditions.[0].Inputs.Length = 0 || conditions.[0].Inputs.[0].Length = 0 then
            raise (ParameterOutOfDomainException("inputs", "none", "at least one input channel (channel 0: the condition cue, nonzero at t = 0)"))
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
                raise (ParameterOutOfDomainException(sprintf "targets of condition %d at t = 0" c, "nonzero", "0 (x(0) = 0, so the output at t = 0 is 0)"))
            for a in 1 .. din - 1 do
                if s.Inputs.[0].[a] <> 0.0 then
                    raise (ParameterOutOfDomainException(sprintf "input channel %d of condition %d at t = 0" a c, string s.Inputs.[0].[a],
                                                         "0 (only the cue channel 0 may drive the first step)"))
            if s.Inputs.[0].[0] = 0.0 then
                raise (ParameterOutOfDomainException(sprintf "cue (channel 0) of condition %d at t = 0" c, "0", "nonzero (x(0) = 0: the cue starts the dynamics)")))
        let mags = conditions |> Array.map (fun s -> abs s.Inputs.[0].[0])
        for c in 0 .. mags.Length - 1 do
            for c2 in c + 1 .. mags.Length - 1 do
                if abs (mags.[c] - mags.[c2]) <= 1e-6 * max mags.[c] mags.[c2] then
                    raise (ParameterOutOfDomainException(sprintf "cues of conditions %d and %d at t = 0" c c2, sprintf "magnitudes %g, %g" mags.[c] mags.[c2],
                                                         "distinct magnitudes (equal or opposite first states make the joint kernel singular)"))
        n, d, din

    /// Stacks C conditions into one tilted problem on the joint index (see <see cref="MultiConditionProblem"/>):
    /// propagator P_{J(c,k),J(c,j)} = (1−e)e^{k−1−j} (1 ≤ j &lt; k, same condition; e = e^{−Δt}), cue response R (the
    /// scalar per-neuron variable is the cue weight U_0 ~ N(0, cueWeightVariance), tilted), C^I = Σ_{a≥1} I_aI_aᵀ + σ²I
    /// over the joint index (σ = process noise on the steps k ≥ 1, a trained white input that regularises the kernel, as
    /// in SinusoidTask), one target vector per output over the joint index. Inputs are trained (u tilted; note §3.3).
    /// With C = 1 the propagator is TiltedProblems.ExponentialEuler(Δt, n−1) bit for bit (tested).
    static member Build(phi: SiteNonlinearity, g: float, gamma: float, dt: float, conditions: ConditionSeries[], cueWeightVariance: float,
                        processNoise: float) : MultiConditionProblem =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("dt", dt) |> ignore
        Validate.Positive("cueWeightVariance", cueWeightVariance) |> ignore
        Validate.NonNegative("processNoise", processNoise) |> ignore
        let n, d, din = MultiConditions.ValidateSeries conditions
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
        // Cue response: the exponential-Euler path of a unit cue weight from x(0) = 0.
        let r = Array.zeroCreate nj
        for c in 0 .. cc - 1 do
            let mutable x = 0.0
            for k in 1 .. n - 1 do
                x <- e * x + (1.0 - e) * conditions.[c].Inputs.[k - 1].[0]
                r.[index c k] <- x
        let s2 = processNoise * processNoise
        let inputKernel =
            if din = 1 && processNoise = 0.0 then None
            else
                Some(Array2D.init nj nj (fun i j ->
                    let a = conditions.[cond.[i]].Inputs.[step.[i]]
                    let b = conditions.[cond.[j]].Inputs.[step.[j]]
                    let mutable v = 0.0
                    for q in 1 .. din - 1 do v <- v + a.[q] * b.[q]
                    if i = j then v + s2 else v))
        let targets = Array.init d (fun a -> Array.init nj (fun m -> conditions.[cond.[m]].Targets.[step.[m]].[a]))
        let problem =
            { G = g; Gamma = gamma; Phi = phi; Dt = dt; Propagator = p; X0Response = r; X0Variance = cueWeightVariance
              X0Tilted = true; InputKernel = inputKernel; InputTilted = true; Targets = targets }
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
    /// x = R x0 + P s, s ~ N(0, Σ), Σ = g²C + C^I, so Δ = σ0² R Rᵀ + P Σ Pᵀ and C_{ml} = E[φ(x_m)φ(x_l)] by bivariate
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
                  KHat = TiltedRelaxation.To2D(k0, n); Samples = { Fields = [||]; InitialStates = [||]; Paths = [||]; Rates = [||] }
                  Diagnostics =
                    { Iterations = 0; TemperingIterations = 0; CResidual = 0.0; CNoiseFloor = 0.0; KResidual = 0.0; KNoiseFloor = 0.0
                      EffectiveSampleSize = infinity; MinimumEffectiveSampleSize = infinity; Resamplings = 0; ProposalsPerUpdate = 0.0
                      Samples = 0; Seed = options.Seed; Step = 0.0; StepReductions = 0; SnisBias = 0.0; DriftZ = 0.0; RelaxationTime = 0.0
                      Warnings = []; StabilityMargin = nan; MeanActivity = stat nan; TargetAlignment = stat nan; HalfWindowCorrelation = stat nan } }
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

    /// Condition selectivity of the population from a joint kernel (docs/dmft-multi-condition.md): per neuron, the
    /// variance across conditions of its time-averaged rate r̄_c = mean_{k ≥ from} φ(x_c(t_k)) over the variance of
    /// φ over all (c, k ≥ from); pooled over neurons (ratio of population means, i.e. the per-neuron ratios weighted by
    /// each neuron's total variance):
    ///   S = [ (1/C)Σ_c w_cᵀ C w_c − w̄ᵀ C w̄ ] / [ mean_{(c,k)} C_{(c,k),(c,k)} − w̄ᵀ C w̄ ],
    /// w_c the averaging vector of condition c over steps k ≥ from, w̄ = (1/C)Σ_c w_c. S ∈ [0, 1]; 0 with one condition.
    /// `from` ≥ 1 (t = 0 is not a joint point).
    static member Selectivity(m: MultiConditionProblem, kernel: float[,], from: int) =
        let n = m.Steps
        if from < 1 || from > n - 1 then raise (ParameterOutOfDomainException("from", string from, sprintf "1..%d" (n - 1)))
        let nj = m.JointPoints
        if kernel.GetLength 0 <> nj || kernel.GetLength 1 <> nj then
            raise (ParameterOutOfDomainException("kernel", sprintf "%dx%d" (kernel.GetLength 0) (kernel.GetLength 1), sprintf "%dx%d (the joint index)" nj nj))
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

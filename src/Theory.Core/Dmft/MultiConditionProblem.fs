namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// One condition (trial type) of a multi-condition task on the grid t_k = kΔt, k = 0..n−1 (time-major).
type ConditionSeries =
    { /// Inputs I^c_a(t_k): one array of the input channels per grid step (n arrays; all of the same length, which may
      /// be 0 for no input). I(t_k) drives x_k → x_{k+1} (exponential Euler, note dmft-learned.md §3.4).
      Inputs: float[][]
      /// Targets y*^c_a(t_k): one array of the d outputs per grid step (n arrays of length d ≥ 1).
      Targets: float[][] }

/// A multi-condition task stacked into one <see cref="TiltedProblem"/> on the joint index (condition c, time t)
/// (docs/dmft-multi-condition.md). A neuron's paths under the C conditions share its couplings, so the order parameter
/// is the joint kernel C((c,t),(c',t')) = E[φ(x_c(t))φ(x_{c'}(t'))]; the fields η are Gaussian over the joint index with
/// covariance g²C, the inputs u_c(t) = Σ_a U_a I^c_a(t) with C^I((c,t),(c',t')) = Σ_a I^c_a(t)I^{c'}_a(t'), the targets
/// give C^y((c,t),(c',t')) = Σ_a y*^c_a(t)y*^{c'}_a(t') (note §3.1: summed over outputs; conditions enter through the
/// joint index), and the propagator is block-diagonal over conditions.
/// The initial state x0 is shared by the conditions (one x0 per neuron: "the same initial state"), so the state at
/// t = 0 is common to all conditions and the joint index has ONE t = 0 point, index 0, followed by the blocks
/// (c, k = 1..n−1): J(c, k) = 1 + c(n−1) + (k−1). The field at t = 0 is common too (η(0) = (g/√N)Jφ(x0) is), which
/// requires the inputs and the targets at t = 0 to agree across conditions (validated). A per-condition x0 is not
/// representable: TiltedProblem carries one scalar x0 per neuron (a vector x0 would need the particle code).
type MultiConditionProblem =
    { /// The stacked problem on the 1 + C(n−1) joint points.
      Problem: TiltedProblem
      /// Number of conditions C.
      Conditions: int
      /// Grid points per condition n (t_0 = 0 shared).
      Steps: int
      /// Outputs d and input channels.
      Outputs: int
      Inputs: int }
    /// Number of joint points 1 + C(n−1).
    member m.JointPoints = 1 + m.Conditions * (m.Steps - 1)
    /// Joint index of (condition c, step k): 0 for k = 0, else 1 + c(n−1) + (k−1).
    member m.Index(c: int, k: int) = if k = 0 then 0 else 1 + c * (m.Steps - 1) + (k - 1)

/// A synthetic reaching-like task (after Clark et al. 2026's macaque reaching task; all choices reconstructed and
/// exposed): C reach angles θ_c = 2πc/C; a fixation period (no input, zero output), a cue period with the input
/// I^c = A(cos θ_c, sin θ_c), a delay, then a movement with a bell-shaped speed profile: the d = 2 outputs (hand velocity)
/// y^c(t) = v(t)(cos θ_c, sin θ_c), v(t) = V exp(−(t − t_peak)²/(2w²)) for t ≥ t_go (0 before).
type ReachTask =
    { /// Number of conditions C ≥ 1 (reach angles 2πc/C). Default 4.
      Conditions: int
      /// Grid step Δt. Default 0.25 [reconstructed].
      Dt: float
      /// Grid points per condition n (trial length nΔt). Default 16 (T = 4).
      Steps: int
      /// Cue period [t_on, t_off): input A(cos θ_c, sin θ_c). Defaults 0.25, 1.25; t_on ≥ Δt (t = 0 is shared).
      CueOn: float
      CueOff: float
      /// Cue amplitude A. Default 0.5 (weak: little condition structure at γ → 0, as in the paper).
      CueAmplitude: float
      /// Movement onset t_go, speed peak t_peak, width w and peak speed V. Defaults 1.5, 2.5, 0.5, 1.0.
      GoTime: float
      PeakTime: float
      Width: float
      PeakSpeed: float }
    /// C = 4, Δt = 0.25, n = 16, cue [0.25, 1.25) of amplitude 0.5, go at 1.5, peak at 2.5, width 0.5, speed 1.
    static member Default =
        { Conditions = 4; Dt = 0.25; Steps = 16; CueOn = 0.25; CueOff = 1.25; CueAmplitude = 0.5; GoTime = 1.5; PeakTime = 2.5
          Width = 0.5; PeakSpeed = 1.0 }
    /// A copy with another number of conditions (C# callers).
    member t.WithConditions(c: int) = { t with Conditions = c }
    /// Reach angle θ_c.
    member t.Angle(c: int) = 2.0 * Math.PI * float c / float t.Conditions
    /// Validates the options (ParameterOutOfDomainException with the allowed range).
    member t.Validated() =
        Validate.AtLeast("conditions", t.Conditions, 1) |> ignore
        Validate.Positive("dt", t.Dt) |> ignore
        Validate.AtLeast("steps", t.Steps, 2) |> ignore
        if not (t.CueOn >= t.Dt - 1e-12) then raise (ParameterOutOfDomainException("cueOn", string t.CueOn, sprintf ">= dt = %g (t = 0 is shared by the conditions)" t.Dt))
        if not (t.CueOff > t.CueOn) then raise (ParameterOutOfDomainException("cueOff", string t.CueOff, sprintf "> cueOn = %g" t.CueOn))
        Validate.NonNegative("cueAmplitude", t.CueAmplitude) |> ignore
        if not (t.GoTime > 0.0) then raise (ParameterOutOfDomainException("goTime", string t.GoTime, "> 0 (t = 0 is shared by the conditions)"))
        Validate.Finite("peakTime", t.PeakTime) |> ignore
        Validate.Positive("width", t.Width) |> ignore
        Validate.Finite("peakSpeed", t.PeakSpeed) |> ignore
        t
    /// The C condition series (2 input channels, 2 outputs).
    member t.Series() : ConditionSeries[] =
        t.Validated() |> ignore
        Array.init t.Conditions (fun c ->
            let th = t.Angle c
            let inputs =
                Array.init t.Steps (fun k ->
                    let tk = float k * t.Dt
                    if tk >= t.CueOn - 1e-12 && tk < t.CueOff - 1e-12 then [| t.CueAmplitude * Math.Cos th; t.CueAmplitude * Math.Sin th |]
                    else [| 0.0; 0.0 |])
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
    /// same number d ≥ 1 of outputs and of input channels at every step; finite values; inputs and targets at t = 0
    /// equal across conditions (the shared initial state). Returns (n, d, inputs).
    static member ValidateSeries(conditions: ConditionSeries[]) =
        if isNull (box conditions) || conditions.Length = 0 then
            raise (ParameterOutOfDomainException("conditions", "none", "at least one condition"))
        let n = conditions.[0].Targets.Length
        if n = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 steps)", "at least 2 steps per condition"))
        if n < 2 then raise (ParameterOutOfDomainException("targets", sprintf "%d step" n, "at least 2 steps per condition"))
        let d = conditions.[0].Targets.[0].Length
        if d = 0 then raise (ParameterOutOfDomainException("targets", "empty (0 outputs)", "at least one output"))
        let din = if conditions.[0].Inputs.Length > 0 then conditions.[0].Inputs.[0].Length else 0
        conditions |> Array.iteri (fun c s ->
            if s.Targets.Length <> n then
                raise (ParameterOutOfDomainException(sprintf "targets of condition %d" c, sprintf "%d steps" s.Targets.Length,
                                                     sprintf "%d steps, the length of condition 0 (all conditions equally long)" n))
            if s.Inputs.Length <> n && not (s.Inputs.Length = 0 && din = 0) then
                raise (ParameterOutOfDomainException(sprintf "inputs of condition %d" c, sprintf "%d steps" s.Inputs.Length,
                                                     sprintf "%d steps (one input vector per target step)" n))
            for k in 0 .. n - 1 do
                if s.Targets.[k].Length <> d then
                    raise (ParameterOutOfDomainException(sprintf "targets of condition %d, step %d" c k, sprintf "%d outputs" s.Targets.[k].Length, sprintf "%d outputs" d))
                Validate.AllFinite(sprintf "targets of condition %d" c, s.Targets.[k]) |> ignore
                if s.Inputs.Length > 0 then
                    if s.Inputs.[k].Length <> din then
                        raise (ParameterOutOfDomainException(sprintf "inputs of condition %d, step %d" c k, sprintf "%d channels" s.Inputs.[k].Length, sprintf "%d channels" din))
                    Validate.AllFinite(sprintf "inputs of condition %d" c, s.Inputs.[k]) |> ignore
            if s.Targets.[0] <> conditions.[0].Targets.[0] then
                raise (ParameterOutOfDomainException(sprintf "targets of condition %d at t = 0" c, "different from condition 0",
                                                     "equal at t = 0 in every condition (x0 is shared, so the t = 0 state and output are common)"))
            if din > 0 && s.Inputs.[0] <> conditions.[0].Inputs.[0] then
                raise (ParameterOutOfDomainException(sprintf "inputs of condition %d at t = 0" c, "different from condition 0",
                                                     "equal at t = 0 in every condition (the t = 0 field is common to the conditions)")))
        n, d, din

    /// Stacks C conditions into one tilted problem on the joint index (see <see cref="MultiConditionProblem"/>):
    /// propagator P_{J(c,k),J(c,j)} = (1−e)e^{k−1−j} (j &lt; k, same condition; the shared point 0 is j = 0 of every
    /// condition), x0 response e^k, C^I = Σ_a I I ᵀ + σ²I over the joint index (σ = process noise, a trained white input
    /// that regularises the kernel, as in SinusoidTask), one target vector per output over the joint index.
    /// x0 ~ N(0, σ0²) shared and tilted (trained); σ0² &gt; 0 is required (x0 = 0 gives φ(x(0)) = 0 for odd φ and a
    /// singular kernel). Inputs are trained (u tilted; note §3.3 default). With C = 1 the result equals
    /// TiltedProblems.OnGrid on the same series (bit for bit; tested).
    static member Build(phi: SiteNonlinearity, g: float, gamma: float, dt: float, conditions: ConditionSeries[], x0Variance: float,
                        processNoise: float) : MultiConditionProblem =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("dt", dt) |> ignore
        Validate.Positive("x0Variance", x0Variance) |> ignore
        Validate.NonNegative("processNoise", processNoise) |> ignore
        let n, d, din = MultiConditions.ValidateSeries conditions
        let cc = conditions.Length
        let nj = 1 + cc * (n - 1)
        let index c k = if k = 0 then 0 else 1 + c * (n - 1) + (k - 1)
        // (condition, step) of each joint point (condition 0 for the shared point).
        let cond = Array.zeroCreate nj
        let step = Array.zeroCreate nj
        for c in 0 .. cc - 1 do
            for k in 1 .. n - 1 do
                cond.[index c k] <- c
                step.[index c k] <- k
        let e = Math.Exp(-dt)
        let p = Array2D.zeroCreate nj nj
        for c in 0 .. cc - 1 do
            for k in 1 .. n - 1 do
                for j in 0 .. k - 1 do
                    p.[index c k, index c j] <- (1.0 - e) * Math.Pow(e, float (k - 1 - j))
        let r = Array.init nj (fun m -> Math.Pow(e, float step.[m]))
        let inputAt m = if din = 0 then [||] else conditions.[cond.[m]].Inputs.[step.[m]]
        let s2 = processNoise * processNoise
        let inputKernel =
            if din = 0 && processNoise = 0.0 then None
            else
                Some(Array2D.init nj nj (fun i j ->
                    let a = inputAt i
                    let b = inputAt j
                    let mutable v = 0.0
                    for q in 0 .. din - 1 do v <- v + a.[q] * b.[q]
                    if i = j then v + s2 else v))
        let targets = Array.init d (fun a -> Array.init nj (fun m -> conditions.[cond.[m]].Targets.[step.[m]].[a]))
        let problem =
            { G = g; Gamma = gamma; Phi = phi; Dt = dt; Propagator = p; X0Response = r; X0Variance = x0Variance
              X0Tilted = true; InputKernel = inputKernel; InputTilted = true; Targets = targets }
        { Problem = problem; Conditions = cc; Steps = n; Outputs = d; Inputs = din }

    /// The reaching-like task at (g, γ) with φ, x0 ~ N(0, σ0²) shared, process noise σ.
    static member Reach(phi: SiteNonlinearity, g: float, gamma: float, task: ReachTask, x0Variance: float, processNoise: float) =
        task.Validated() |> ignore
        MultiConditions.Build(phi, g, gamma, task.Dt, task.Series(), x0Variance, processNoise)

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
        let problem = m.Problem
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
    /// TrainingTask with the conditions as trials) mapped to the joint index. The t = 0 rows of all conditions are one
    /// point (shared x0): the condition-0 entry is used (the others are equal for a shared x0).
    static member FromConditionRows(kernel: float[], conditions: int, steps: int) : float[,] =
        let p = conditions * steps
        if kernel.Length <> p * p then
            raise (ParameterOutOfDomainException("kernel", sprintf "%d entries" kernel.Length, sprintf "(conditions*steps)^2 = %d entries" (p * p)))
        let nj = 1 + conditions * (steps - 1)
        let row = Array.zeroCreate nj
        for c in 0 .. conditions - 1 do
            for k in 1 .. steps - 1 do row.[1 + c * (steps - 1) + (k - 1)] <- c * steps + k
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
    /// `from` ≥ 1 (the shared t = 0 point carries no condition information).
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

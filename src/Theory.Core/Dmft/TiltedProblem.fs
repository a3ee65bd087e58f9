namespace Theory.Core.Dmft

open System
open Theory.Core

/// The discretised learned-network saddle-point problem (research note dmft-learned.md §3.4).
/// Single-site path: x = X0Response·x0 + InputWeightResponse·U + Propagator·(η + u), η ~ N(0, g²C) (the recurrent
/// field), u ~ N(0, C^I) (the input), x0 ~ N(0, σ0²), U ~ N(0, I) (per-neuron input weights of explicitly given inputs;
/// none for the single-trajectory tasks). The tilted measure is μ ∝ prior × exp(½ φ(x)ᵀΛφ(x)) over the trained variables
/// (η always; u when InputTilted; x0 when X0Tilted), and the saddle point is (note §3.2)
///   C = E_μ[φφᵀ],  Λ = C⁻¹[K_η/g² − C + γ²C^y]C⁻¹,  K_η = E_μ[ηηᵀ],  C^y = Σ_a y*_a y*_aᵀ.
type TiltedProblem =
    { /// Coupling g &gt; 0.
      G: float
      /// Learning strength γ ≥ 0 (γ = 0: the SCS reservoir).
      Gamma: float
      /// Nonlinearity φ.
      Phi: SiteNonlinearity
      /// Grid step Δt (informational for non-grid problems such as a single mode).
      Dt: float
      /// Propagator P (n×n) from the field s = η + u to x. Exponential Euler: P_{kj} = (1−e)e^{k−1−j}, j &lt; k.
      Propagator: float[,]
      /// Response of x_k to x0 (exponential Euler: e^{−kΔt}).
      X0Response: float[]
      /// σ0² of x0 ~ N(0, σ0²). Default for the sinusoid task: the stationary SCS variance Δ0(g) [reconstructed, note §3.3].
      X0Variance: float
      /// Whether x0 is a trained (tilted) variable [reconstructed, default true, note §3.3].
      X0Tilted: bool
      /// Input kernel C^I on the grid, or None (autonomous task).
      InputKernel: float[,] option
      /// Whether the input weights U are trained (u tilted). Default true: required for the published linear formula
      /// (note §3.3).
      InputTilted: bool
      /// Response of x (n×m) to m per-neuron input weights U_a ~ N(0, 1), always trained (tilted): column a is the path
      /// of a unit weight on input channel a, x ∋ Σ_a R_{:,a}U_a. This is the exact form of a deterministic input
      /// Σ_a U_a I_a(t) (the Gaussian u of InputKernel = Σ_a I_aI_aᵀ, with the weights kept as variables), needed where
      /// an input acts at a point without a field slot (the first step of each condition of a multi-condition task,
      /// docs/dmft-multi-condition.md). m = 0 (an n×0 array) for every single-trajectory problem.
      InputWeightResponse: float[,]
      /// Targets y*_a on the grid (one array of n values per output and condition); C^y = Σ_a y*_a y*_aᵀ.
      Targets: float[][] }
    /// Number of grid points n.
    member p.Points = p.X0Response.Length
    /// Number m of per-neuron input weights carried as variables (columns of InputWeightResponse).
    member p.InputWeights = p.InputWeightResponse.GetLength 1
    /// C^y = Σ_a y*_a y*_aᵀ (n×n).
    member p.TargetKernel =
        let n = p.Points
        Array2D.init n n (fun k l -> p.Targets |> Array.sumBy (fun y -> y.[k] * y.[l]))

/// Options of the paper's task (Clark et al. 2026, Fig. 3): no input, target one period of sin(2πt/T).
/// All discretisation choices are reconstructed (note §3.4, §8.8) and exposed here with the documented defaults.
type SinusoidTask =
    { /// Period T of the target sin(2πt/T); the training window is [0, T). Default 10 [paper].
      Period: float
      /// Grid step Δt. Default 0.1, 100 points per period [reconstructed, note §3.4]; at least 10 points per period.
      Dt: float
      /// σ0² of x0; None = the stationary SCS variance Δ0(g) [reconstructed default, note §3.3].
      X0Variance: float option
      /// x0 trained (tilted). Default true [reconstructed].
      X0Tilted: bool
      /// Nonlinearity. Default tanh [paper].
      Phi: SiteNonlinearity
      /// Process noise σ: every field is s = η + σξ with ξ white per grid step, a trained (tilted) input with
      /// C^I = σ²I. It regularises the window kernel (C of noise-free smooth paths is numerically singular, eigenvalues
      /// to 1e-16 at Δt = 0.2) and is the same model as the finite-N posterior sampler's process noise, so that the
      /// N = ∞ saddle point is the N → ∞ limit of that posterior. 0 = noise-free (then only φ = identity problems
      /// with an input are well posed). Default 0.01 [reconstructed regulariser].
      ProcessNoise: float }
    /// T = 10, Δt = 0.1, x0 ~ N(0, Δ0(g)) tilted, tanh, process noise 0.01.
    static member Default = { Period = 10.0; Dt = 0.1; X0Variance = None; X0Tilted = true; Phi = Tanh; ProcessNoise = 0.01 }
    /// A copy with another grid step (C# callers: F# record copy-and-update).
    member t.WithDt(dt: float) = { t with Dt = dt }
    /// A copy with another process noise.
    member t.WithProcessNoise(sigma: float) = { t with ProcessNoise = sigma }

/// Constructors of <see cref="TiltedProblem"/>.
[<AbstractClass; Sealed>]
type TiltedProblems private () =

    /// Validates a time grid: Δt &gt; 0, Δt &lt; T and at least 10 points per period (note §3.4).
    static member ValidateGrid(period: float, dt: float) =
        Validate.Positive("T", period) |> ignore
        Validate.Positive("dt", dt) |> ignore
        if dt >= period then raise (ParameterOutOfDomainException("dt", string dt, sprintf "0 < dt < T = %g" period))
        if period / dt < 10.0 - 1e-9 then
            raise (ParameterOutOfDomainException("dt", string dt, sprintf "dt <= T/10 = %g (at least 10 points per period)" (period / 10.0)))

    /// Exponential-Euler propagator and x0 response on n points (note §3.4): x_{k+1} = e x_k + (1−e) s_k.
    static member ExponentialEuler(dt: float, n: int) =
        let e = Math.Exp(-dt)
        let p = Array2D.init n n (fun k j -> if j < k then (1.0 - e) * Math.Pow(e, float (k - 1 - j)) else 0.0)
        let r = Array.init n (fun k -> Math.Pow(e, float k))
        p, r

    /// A general problem on an exponential-Euler grid of n points.
    static member OnGrid(phi: SiteNonlinearity, g: float, gamma: float, dt: float, n: int, x0Variance: float, x0Tilted: bool,
                         inputKernel: float[,] option, inputTilted: bool, targets: float[][]) : TiltedProblem =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("dt", dt) |> ignore
        Validate.AtLeast("points", n, 2) |> ignore
        Validate.NonNegative("x0Variance", x0Variance) |> ignore
        for y in targets do
            if y.Length <> n then raise (ParameterOutOfDomainException("targets", sprintf "length %d" y.Length, sprintf "length %d" n))
            Validate.AllFinite("targets", y) |> ignore
        let p, r = TiltedProblems.ExponentialEuler(dt, n)
        { G = g; Gamma = gamma; Phi = phi; Dt = dt; Propagator = p; X0Response = r; X0Variance = x0Variance
          X0Tilted = x0Tilted; InputKernel = inputKernel; InputTilted = inputTilted; Targets = targets
          InputWeightResponse = Array2D.zeroCreate n 0 }

    /// The paper's sinusoid task at (g, γ): n = T/Δt points t_k = kΔt on [0, T), y*_k = sin(2πt_k/T), no input other
    /// than the process noise (a trained white input σ²I).
    static member Sinusoid(g: float, gamma: float, task: SinusoidTask) : TiltedProblem =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        TiltedProblems.ValidateGrid(task.Period, task.Dt)
        let n = int (Math.Floor(task.Period / task.Dt + 1e-9))
        let y = Array.init n (fun k -> Math.Sin(2.0 * Math.PI * float k * task.Dt / task.Period))
        let s0 =
            match task.X0Variance with
            | Some v -> Validate.NonNegative("x0Variance", v)
            | None -> StationaryScsVariance.delta0 g
        Validate.NonNegative("processNoise", task.ProcessNoise) |> ignore
        let noise = if task.ProcessNoise > 0.0 then Some(Array2D.init n n (fun i j -> if i = j then task.ProcessNoise * task.ProcessNoise else 0.0)) else None
        TiltedProblems.OnGrid(task.Phi, g, gamma, task.Dt, n, s0, task.X0Tilted, noise, true, [| y |])

    /// One frequency mode of a stationary linear network (note §4, §7.4): x = s/√a with a = 1 + ω², field variance
    /// g²c + c_I and target power c_y. A 1×1 instance of the matrix equations; its saddle point is the closed form.
    static member SingleMode(phi: SiteNonlinearity, g: float, gamma: float, a: float, cI: float, cy: float, inputTilted: bool) =
        Validate.Positive("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("a", a) |> ignore
        Validate.NonNegative("cI", cI) |> ignore
        Validate.NonNegative("cy", cy) |> ignore
        { G = g; Gamma = gamma; Phi = phi; Dt = 1.0; Propagator = array2D [ [ 1.0 / Math.Sqrt a ] ]; X0Response = [| 0.0 |]
          X0Variance = 0.0; X0Tilted = true; InputKernel = (if cI > 0.0 then Some(array2D [ [ cI ] ]) else None)
          InputTilted = inputTilted; Targets = [| [| Math.Sqrt cy |] |]; InputWeightResponse = Array2D.zeroCreate 1 0 }

namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open MathNet.Numerics.LinearAlgebra
open Theory.Core

/// A linear leaky RNN controller of the tracking task as flat row-major arrays: W (N×N), M (N×4; columns
/// p^x, p^y, r_x, r_y), Z (N×2), leak a = Δ/τ ∈ (0, 1]. The same layout as the engine's `TrackingEngine.Weights`.
type TrackingController =
    { W: float[]
      M: float[]
      Z: float[]
      Leak: float }
    /// Number of units N.
    member c.N = c.Z.Length / 2

/// One sinusoidal component of the tracking reference: frequency f (Hz), axis (0 = x, 1 = y), amplitude.
type TrackingComponent = { Frequency: float; Axis: int; Amplitude: float }

/// Steady-state (frequency-domain) theory of the linear tracking task of Ger &amp; Barak 2025, App. D, for a linear
/// RNN controller and no clamping. The paper writes the closed loop as one block transition matrix ("Closed-loop
/// dynamics", App. D); this module gives it in the engine's timing and derives from it (linear-systems algebra, not
/// stated in the paper) the per-frequency steady-state losses of closed-loop deployment and of open-loop
/// (teacher–student) training. The paper gives no formula for these losses; they are checked against simulation.
///
/// Timing (engine): in_i = (p_i; r_i), h_{i+1} = L h_i + a M in_i with L = (1 − a)I + aW, u_i = Zᵀh_{i+1},
/// x_{i+1} = A x_i + B u_i; loss terms ‖p_{i+1} − r_i‖².
module TrackingTheory =
    let private validate (c: TrackingController) =
        let n = c.N
        if n <= 0 || c.Z.Length <> 2 * n then raise (ParameterOutOfDomainException("Z", sprintf "%d entries" c.Z.Length, "N x 2 (N >= 1)"))
        if c.W.Length <> n * n then raise (ParameterOutOfDomainException("W", sprintf "%d entries" c.W.Length, sprintf "%d (N x N)" (n * n)))
        if c.M.Length <> 4 * n then raise (ParameterOutOfDomainException("M", sprintf "%d entries" c.M.Length, sprintf "%d (N x 4)" (4 * n)))
        Validate.InRange("a", c.Leak, Double.Epsilon, 1.0) |> ignore
        Validate.AllFinite("W", c.W) |> ignore
        Validate.AllFinite("M", c.M) |> ignore
        Validate.AllFinite("Z", c.Z) |> ignore
        n

    /// L = (1 − a)I + aW (N × N).
    let private leakMatrix (c: TrackingController) =
        let n = c.N
        Array2D.init n n (fun i j -> c.Leak * c.W.[i * n + j] + (if i = j then 1.0 - c.Leak else 0.0))

    /// Joint closed-loop system s_{i+1} = P s_i + G r_i of plant (p^x, v^x, p^y, v^y) and RNN state h (App. D
    /// "Closed-loop dynamics", engine timing): with M = [M_p | M_r],
    /// P = [[A + aBZᵀM_pC, BZᵀL], [aM_pC, L]], G = [[aBZᵀM_r], [aM_r]]; A = blkdiag([[1, Δ], [0, 1]]²),
    /// B puts Δ on both velocities, C picks the two positions. Returns (P, G), sizes (N+4)² and (N+4)×2.
    [<CompiledName("JointSystem")>]
    let jointSystem (dt: float) (c: TrackingController) =
        Validate.Positive("dt", dt) |> ignore
        let n = validate c
        let a = c.Leak
        let l = leakMatrix c
        let p = Array2D.zeroCreate (n + 4) (n + 4)
        let g = Array2D.zeroCreate (n + 4) 2
        // plant block A
        p.[0, 0] <- 1.0; p.[0, 1] <- dt; p.[1, 1] <- 1.0
        p.[2, 2] <- 1.0; p.[2, 3] <- dt; p.[3, 3] <- 1.0
        let vel = [| 1; 3 |]     // B: Δ on velocity of axis k
        let pos = [| 0; 2 |]     // C: position of axis q
        for k in 0 .. 1 do
            for q in 0 .. 1 do
                // (a B Zᵀ M_p C)[vel k, pos q] = a Δ Σ_j Z[j,k] M[j,q]
                let mutable s = 0.0
                for j in 0 .. n - 1 do
                    s <- s + c.Z.[j * 2 + k] * c.M.[j * 4 + q]
                p.[vel.[k], pos.[q]] <- p.[vel.[k], pos.[q]] + a * dt * s
                // G plant rows: a Δ Σ_j Z[j,k] M[j, 2+q]
                let mutable sr = 0.0
                for j in 0 .. n - 1 do
                    sr <- sr + c.Z.[j * 2 + k] * c.M.[j * 4 + 2 + q]
                g.[vel.[k], q] <- a * dt * sr
            // B Zᵀ L: row vel k, columns h
            for col in 0 .. n - 1 do
                let mutable s = 0.0
                for j in 0 .. n - 1 do
                    s <- s + c.Z.[j * 2 + k] * l.[j, col]
                p.[vel.[k], 4 + col] <- dt * s
        for i in 0 .. n - 1 do
            for q in 0 .. 1 do
                p.[4 + i, pos.[q]] <- a * c.M.[i * 4 + q]
                g.[4 + i, q] <- a * c.M.[i * 4 + 2 + q]
            for j in 0 .. n - 1 do
                p.[4 + i, 4 + j] <- l.[i, j]
        p, g

    /// Spectral radius of the joint matrix P: the deployed closed loop is stable (bounded response to the
    /// reference, steady state exists) iff it is below 1.
    [<CompiledName("SpectralRadius")>]
    let spectralRadius (dt: float) (c: TrackingController) = Linalg.spectralRadius (fst (jointSystem dt c))

    let private solve (p: float[,]) (z: Complex) (rhs: Complex[]) =
        let n = Array2D.length1 p
        let m = Matrix<Complex>.Build.Dense(n, n, fun i j -> (if i = j then z else Complex.Zero) - Complex(p.[i, j], 0.0))
        m.Solve(Vector<Complex>.Build.DenseOfArray rhs).ToArray()

    let private checkComponent dt (k: TrackingComponent) =
        Validate.Positive("frequency", k.Frequency) |> ignore
        Validate.Finite("amplitude", k.Amplitude) |> ignore
        if k.Axis <> 0 && k.Axis <> 1 then raise (ParameterOutOfDomainException("axis", string k.Axis, "0 (x) or 1 (y)"))
        let theta = 2.0 * Math.PI * k.Frequency * dt
        if Math.Abs(Math.Sin theta) < 1e-12 then
            raise (ParameterOutOfDomainException("frequency", string k.Frequency, "not a multiple of the Nyquist frequency 1/(2 dt)"))
        theta

    let private requireStable name (p: float[,]) =
        let rho = Linalg.spectralRadius p
        if not (rho < 1.0) then
            raise (NoSolutionException(sprintf "%s closed loop is unstable (spectral radius of P = %.6g >= 1): no steady state" name rho))

    /// Steady-state state phasor S = (e^{iθ}I − P)⁻¹ G a e_axis of the closed loop driven by one component.
    let private statePhasor (p: float[,]) (g: float[,]) (theta: float) (k: TrackingComponent) =
        let z = Complex.FromPolarCoordinates(1.0, theta)
        solve p z (Array.init (Array2D.length1 g) (fun i -> Complex(g.[i, k.Axis] * k.Amplitude, 0.0)))

    /// Steady-state error phasor of deployment: E = (e^{iθ} C (e^{iθ}I − P)⁻¹ G − I) a e_axis, θ = 2πfΔ.
    [<CompiledName("ErrorPhasor")>]
    let errorPhasor (dt: float) (c: TrackingController) (k: TrackingComponent) =
        let theta = checkComponent dt k
        let p, g = jointSystem dt c
        requireStable "deployed" p
        let s = statePhasor p g theta k
        let z = Complex.FromPolarCoordinates(1.0, theta)
        [| for q in 0 .. 1 -> z * s.[2 * q] - (if q = k.Axis then Complex(k.Amplitude, 0.0) else Complex.Zero) |]

    /// Steady-state per-frequency deployed loss of one component (random phase): the time average of
    /// Δ‖p_{i+1} − r_i‖² is Δ‖E‖²/2 (derived). Raises NoSolutionException when ρ(P) ≥ 1.
    [<CompiledName("ComponentLoss")>]
    let componentLoss (dt: float) (c: TrackingController) (k: TrackingComponent) =
        let e = errorPhasor dt c k
        dt * 0.5 * (e |> Array.sumBy (fun x -> x.Magnitude * x.Magnitude))

    /// Steady-state deployed loss on a multi-component reference: the sum of the component losses (cross terms of
    /// distinct frequencies average out over a long episode; derived).
    [<CompiledName("DeployedLoss")>]
    let deployedLoss (dt: float) (c: TrackingController) (ks: TrackingComponent seq) =
        ks |> Seq.sumBy (componentLoss dt c)

    /// Steady-state control phasor of a controller driven by the input phasor v ∈ C⁴ (p^x, p^y, r_x, r_y) at angle θ:
    /// U = e^{iθ} Zᵀ (e^{iθ}I − L)⁻¹ a M v (the controller's frequency response; derived).
    let private controlPhasor (c: TrackingController) (theta: float) (v: Complex[]) =
        let n = c.N
        let z = Complex.FromPolarCoordinates(1.0, theta)
        let rhs = Array.init n (fun j -> Array.fold2 (fun acc (mq: float) vq -> acc + c.Leak * mq * vq) Complex.Zero c.M.[j * 4 .. j * 4 + 3] v)
        let h = solve (leakMatrix c) z rhs
        [| for k in 0 .. 1 -> z * (Array.fold2 (fun acc (zk: float) hj -> acc + zk * hj) Complex.Zero [| for j in 0 .. n - 1 -> c.Z.[j * 2 + k] |] h) |]

    /// Steady-state open-loop (teacher–student) loss of one component: the teacher drives the plant, both networks
    /// receive the teacher's input phasor v = (C S_T; a e_axis), and the time average of Δ‖u^S_i − u^T_i‖² is
    /// Δ‖U_S(v) − U_T(v)‖²/2 (derived). Requires a stable teacher loop and a stable student recurrence ρ(L_S) &lt; 1.
    [<CompiledName("OpenLoopComponentLoss")>]
    let openLoopComponentLoss (dt: float) (teacher: TrackingController) (student: TrackingController) (k: TrackingComponent) =
        let theta = checkComponent dt k
        let pt, gt = jointSystem dt teacher
        validate student |> ignore
        requireStable "teacher" pt
        let rhoL = Linalg.spectralRadius (leakMatrix student)
        if not (rhoL < 1.0) then raise (NoSolutionException(sprintf "student recurrence is unstable (spectral radius of (1-a)I + aW = %.6g >= 1)" rhoL))
        let s = statePhasor pt gt theta k
        let v = [| s.[0]; s.[2]; (if k.Axis = 0 then Complex(k.Amplitude, 0.0) else Complex.Zero); (if k.Axis = 1 then Complex(k.Amplitude, 0.0) else Complex.Zero) |]
        let ut = controlPhasor teacher theta v
        let us = controlPhasor student theta v
        dt * 0.5 * (Array.map2 (fun (x: Complex) (y: Complex) -> (x - y).Magnitude ** 2.0) us ut |> Array.sum)

    /// Steady-state open-loop loss on a multi-component reference: the sum over components (derived).
    [<CompiledName("OpenLoopLoss")>]
    let openLoopLoss (dt: float) (teacher: TrackingController) (student: TrackingController) (ks: TrackingComponent seq) =
        ks |> Seq.sumBy (openLoopComponentLoss dt teacher student)

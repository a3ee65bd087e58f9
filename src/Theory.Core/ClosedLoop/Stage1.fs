namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open Theory.Core

/// Stage-1 stability verdict of the proportional controller u = σ_zm x⁽¹⁾ (Eq. 10).
type Stage1Verdict =
    /// σ_zm &gt; 0: real roots, λ₊ = 1 + √σ_zm &gt; 1.
    | RealUnstable
    /// σ_zm &lt; 0: complex roots 1 ± i√|σ_zm| with |λ|² = 1 + |σ_zm| &gt; 1.
    | OscillatoryUnstable
    /// σ_zm = 0: double root 1 (linear growth).
    | Marginal

/// Stage 1 of closed-loop learning: the negative-position policy (Ger &amp; Barak 2025, Eq. 10, App. C.5).
/// W ≈ 0, so h_t = m C x_t and u_t = σ_zm x⁽¹⁾_t: gains (k₁, k₂) = (σ_zm, 0).
module Stage1 =
    /// Descending coefficients of q(λ) = λ² − 2λ + (1 − σ_zm).
    [<CompiledName("Quadratic")>]
    let quadratic (szm: float) = [| 1.0; -2.0; 1.0 - Validate.Finite("szm", szm) |]

    /// λ± = 1 ± √σ_zm (principal complex square root), λ₊ first.
    [<CompiledName("Eigenvalues")>]
    let eigenvalues (szm: float) =
        let s = Complex.Sqrt(Complex(Validate.Finite("szm", szm), 0.0))
        [| 1.0 + s; 1.0 - s |]

    /// Stability verdict; stage 1 can never be strictly stable.
    [<CompiledName("Verdict")>]
    let verdict (szm: float) =
        if Validate.Finite("szm", szm) > 0.0 then RealUnstable
        elif szm < 0.0 then OscillatoryUnstable
        else Marginal

    /// Growth factor per step r = |1 + √σ_zm|²: (1 + √σ_zm)² for σ_zm &gt; 0, 1 − σ_zm for σ_zm ≤ 0.
    [<CompiledName("GrowthFactor")>]
    let growthFactor (szm: float) =
        let l = (eigenvalues szm).[0]
        l.Magnitude * l.Magnitude

    /// Loss approximation of Fig. 3 (geometric series in the dominant mode; prefactors, initial-state and oscillatory
    /// terms dropped): ½ Σ_{t=0}^{T′−1} r^t = ½ (1 − r^{T′})/(1 − r). Code default T′ = 101. Captures log L only.
    [<CompiledName("LossApproximation")>]
    let lossApproximation (szm: float) (terms: int) =
        Validate.PositiveInt("terms", terms) |> ignore
        let r = growthFactor szm
        if abs (r - 1.0) < 1e-12 then 0.5 * float terms else 0.5 * (1.0 - Math.Pow(r, float terms)) / (1.0 - r)

    /// Exact stage-1 transition matrix power: M^t for M = A + B kᵀ, k = (σ_zm, 0), Δ = 1, in closed form
    /// M^t = [[c_t, d_t], [σ_zm d_t, c_t]], c_t = ((1+s)^t + (1−s)^t)/2, d_t = ((1+s)^t − (1−s)^t)/(2s), s = √σ_zm (derived).
    [<CompiledName("TransitionPower")>]
    let transitionPower (szm: float) (t: int) =
        Validate.AtLeast("t", t, 0) |> ignore
        let s = Complex.Sqrt(Complex(Validate.Finite("szm", szm), 0.0))
        let p = Complex.Pow(1.0 + s, float t)
        let q = Complex.Pow(1.0 - s, float t)
        let c = ((p + q) / 2.0).Real
        let d = if s = Complex.Zero then float t else ((p - q) / (2.0 * s)).Real
        array2D [ [ c; d ]; [ szm * d; c ] ]

    /// Stage-1 trajectory x_0 .. x_{steps−1} with the episode timing of the code (u₀ = 0: x₁ = A x₀, then
    /// x_{t+1} = A x_t + B σ_zm x⁽¹⁾_t), by direct iteration.
    [<CompiledName("Trajectory")>]
    let trajectory (szm: float) (x0: float[]) (steps: int) =
        Validate.PositiveInt("steps", steps) |> ignore
        let xs = Array.zeroCreate steps
        xs.[0] <- Array.copy x0
        let mutable x = x0
        for t in 1 .. steps - 1 do
            let u = if t = 1 then 0.0 else szm * x.[0]
            x <- [| x.[0] + x.[1]; x.[1] + u |]
            xs.[t] <- x
        xs

    /// Simulated ½ Σ_{t=0}^{steps−1} ‖x_t‖² (Fig. 3 "empirical" curve; code: x₀ = (1, −1), 100 steps).
    [<CompiledName("SimulatedLoss")>]
    let simulatedLoss (szm: float) (x0: float[]) (steps: int) =
        trajectory szm x0 steps |> Array.sumBy (fun x -> 0.5 * (x.[0] * x.[0] + x.[1] * x.[1]))

    /// Exact expected training loss with only σ_zm active, x₀ ~ U(−c, c)², theory normalisation
    /// (1/(2T)) Σ_{t=0}^{T−1} E‖x_t‖² = (c²/3)(1/(2T)) Σ_t ‖M^{t−1}A‖²_F (derived; closed form of M^t).
    [<CompiledName("ExpectedLoss")>]
    let expectedLoss (szm: float) (halfWidth: float) (episode: int) =
        Validate.Positive("halfWidth", halfWidth) |> ignore
        Validate.PositiveInt("episode", episode) |> ignore
        let a = array2D [ [ 1.0; 1.0 ]; [ 0.0; 1.0 ] ]
        let var = halfWidth * halfWidth / 3.0
        let mutable s = 2.0 * var // t = 0: ‖I‖²_F = 2
        for t in 1 .. episode - 1 do
            s <- s + var * Math.Pow(Linalg.frobenius (Linalg.mul (transitionPower szm (t - 1)) a), 2.0)
        s / (2.0 * float episode)

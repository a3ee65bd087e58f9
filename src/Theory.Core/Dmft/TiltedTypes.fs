namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Single-site nonlinearity φ of the learned-network DMFT (research note dmft-learned.md §1).
type SiteNonlinearity =
    /// φ = tanh (the paper's nonlinear networks).
    | Tanh
    /// φ = identity (the linear networks of the closed form, note §4).
    | Identity

/// φ and φ' for a <see cref="SiteNonlinearity"/>.
module SiteNonlinearity =
    /// φ(x).
    let inline apply (phi: SiteNonlinearity) (x: float) =
        match phi with
        | Tanh -> Math.Tanh x
        | Identity -> x

    /// φ'(x).
    let inline derivative (phi: SiteNonlinearity) (x: float) =
        match phi with
        | Tanh ->
            let t = Math.Tanh x
            1.0 - t * t
        | Identity -> 1.0

    /// φ'(x) from the value v = φ(x) (tanh: 1 − v²), so that a loop that already has φ needs no second tanh.
    let inline derivativeFromValue (phi: SiteNonlinearity) (v: float) =
        match phi with
        | Tanh -> 1.0 - v * v
        | Identity -> 1.0

    /// y[i] = φ(x[i]) for i < n, vectorised for tanh (SmallDense.tanhInto; a few 1e-16 from Math.Tanh).
    let internal applyInto (phi: SiteNonlinearity) (x: float[]) (y: float[]) (n: int) =
        match phi with
        | Tanh -> SmallDense.tanhInto x y n
        | Identity -> Array.blit x 0 y 0 n

/// The stationary SCS variance Δ0(g) (note §2.2), the documented default x0 law N(0, Δ0(g)) of the learned-network
/// solver: delegates to ScsStationary.SolveStationaryVariance (energy condition Δ0²/2 = g² Var[ln cosh], Brent).
module internal StationaryScsVariance =
    /// Δ0(g) for g > 1; 0 for g ≤ 1 (the quiescent fixed point). Raises NotConvergedException when Brent fails.
    let delta0 (g: float) = ScsStationary.SolveStationaryVariance(g).Delta0

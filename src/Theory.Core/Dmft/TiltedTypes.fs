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

/// A private helper for the stationary SCS variance Δ0(g) (note §2.2): Δ0²/2 = g² Var_{N(0,Δ0)}[ln cosh x].
/// It exists only so that the learned-network solver has its documented default x0 law N(0, Δ0(g)) before the
/// SCS stationary module (issue 2) is merged; the lead will wire the default to that module at merge.
module internal StationaryScsVariance =
    let private lnCosh (x: float) =
        let a = abs x
        a + Math.Log(1.0 + Math.Exp(-2.0 * a)) - Math.Log 2.0

    /// Δ0(g) for g > 1; 0 for g ≤ 1 (the quiescent fixed point).
    let delta0 (g: float) =
        Validate.NonNegative("g", g) |> ignore
        if g <= 1.0 then 0.0
        else
            let rule = GaussianQuadrature.Default
            let f (d: float) =
                let m1 = GaussianQuadrature.Expect(rule, d, Func<float, float> lnCosh)
                let m2 = GaussianQuadrature.Expect(rule, d, Func<float, float>(fun x -> let l = lnCosh x in l * l))
                d * d / 2.0 - g * g * (m2 - m1 * m1)
            // F < 0 just above 0 (Δ0²/2 < g²Δ²/2 for g > 1) and F > 0 for large Δ.
            match RootFinding.Brent(Func<float, float> f, 1e-9 * (g - 1.0) * (g - 1.0) + 1e-12, 200.0, 1e-13, 300) with
            | Ok r -> r.Root
            | Error e -> raise (NotConvergedException e)

namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open Theory.Core

/// Dynamical region of a static gain k under x_{t+1} = (A + B kᵀ) x_t (Ger &amp; Barak 2025, Fig. 2b, App. B.4).
type Region =
    /// Both eigenvalues strictly inside the unit circle.
    | Stable
    /// Complex pair with |λ| ≥ 1 (growing oscillation).
    | OscillatoryUnstable
    /// A real eigenvalue with |λ| ≥ 1 (monotone growth or sign-flipping divergence).
    | RealUnstable
    /// The CLI / JSON name: "stable", "oscillatory-unstable", "real-unstable".
    member r.Name =
        match r with
        | Stable -> "stable"
        | OscillatoryUnstable -> "oscillatory-unstable"
        | RealUnstable -> "real-unstable"

/// A named curve in the (k₁, k₂) plane, for plotting the region boundaries.
type BoundaryCurve = { Name: string; K1: float[]; K2: float[] }

/// Static state feedback u = kᵀx = k₁x⁽¹⁾ + k₂x⁽²⁾ on the double integrator (paper Eq. 5).
/// Sign convention (library-wide, as in the authors' code): u = kᵀx, so stabilising gains are negative;
/// the control-textbook gain K of u = −Kx is K = −k.
module StaticFeedback =
    /// Closed-loop matrix M = A + B kᵀ = [[1, Δ], [Δk₁, 1 + Δk₂]] (Eq. 5).
    [<CompiledName("ClosedLoopMatrix")>]
    let closedLoopMatrix (dt: float) (k1: float) (k2: float) =
        Validate.Positive("dt", dt) |> ignore
        Validate.Finite("k1", k1) |> ignore
        Validate.Finite("k2", k2) |> ignore
        array2D [ [ 1.0; dt ]; [ dt * k1; 1.0 + dt * k2 ] ]

    /// Eigenvalues λ± = 1 + Δk₂/2 ± Δ√(k₂²/4 + k₁) of M (closed form of Eq. 5), the + root first
    /// (for a complex pair, the one with positive imaginary part first).
    [<CompiledName("Eigenvalues")>]
    let eigenvalues (dt: float) (k1: float) (k2: float) : Complex[] =
        closedLoopMatrix dt k1 k2 |> ignore
        let c = 1.0 + dt * k2 / 2.0
        let disc = k2 * k2 / 4.0 + k1
        if disc >= 0.0 then
            let s = dt * sqrt disc
            [| Complex(c + s, 0.0); Complex(c - s, 0.0) |]
        else
            let s = dt * sqrt -disc
            [| Complex(c, s); Complex(c, -s) |]

    /// Spectral radius of M.
    [<CompiledName("SpectralRadius")>]
    let spectralRadius dt k1 k2 = eigenvalues dt k1 k2 |> Array.map (fun z -> z.Magnitude) |> Array.max

    /// Region of the gain: stable (both |λ| &lt; 1), oscillatory-unstable (complex, |λ| ≥ 1), real-unstable (a real
    /// |λ| ≥ 1). Marginal cases |λ| = 1 count as unstable.
    [<CompiledName("Classify")>]
    let region (dt: float) (k1: float) (k2: float) =
        let ev = eigenvalues dt k1 k2
        let rho = ev |> Array.map (fun z -> z.Magnitude) |> Array.max
        if rho < 1.0 then Stable
        elif ev.[0].Imaginary <> 0.0 then OscillatoryUnstable
        else RealUnstable

    /// Jury conditions for strict stability (derived; Δ = 1 gives the triangle with vertices (0,0), (0,−2), (−4,−4)):
    /// k₁ &lt; 0, k₂ &lt; Δk₁, k₂ &gt; (Δ²k₁ − 4)/(2Δ). Independent of the eigenvalue computation.
    [<CompiledName("IsStableByJury")>]
    let isStableByJury (dt: float) (k1: float) (k2: float) =
        k1 < 0.0 && k2 < dt * k1 && k2 > (dt * dt * k1 - 4.0) / (2.0 * dt)

    /// The region boundaries as curves over k₁ ∈ [k1Min, k1Max] (points each): the three sides of the stable
    /// triangle, the discriminant parabola k₁ = −k₂²/4 (real/complex eigenvalues) and the line |λ|² = 1
    /// (k₂ = Δk₁) separating stable from oscillatory-unstable gains inside the parabola.
    [<CompiledName("BoundaryCurves")>]
    let boundaries (dt: float) (k1Min: float) (k1Max: float) (points: int) : BoundaryCurve list =
        Validate.Positive("dt", dt) |> ignore
        Validate.AtLeast("points", points, 2) |> ignore
        if not (k1Min < k1Max) then raise (ParameterOutOfDomainException("k1Min", string k1Min, "< k1Max"))
        let lin a b = Array.init points (fun i -> a + (b - a) * float i / float (points - 1))
        let v = -4.0 / (dt * dt)
        let tri1 = lin v 0.0
        let k2max = 2.0 * sqrt (max (-k1Min) 0.0) / 1.0
        let k2s = lin (-k2max) k2max
        [ { Name = "k1 = 0 (lambda = 1)"; K1 = [| 0.0; 0.0 |]; K2 = [| -2.0 / dt; 0.0 |] }
          { Name = "k2 = dt k1 (|lambda|^2 = 1)"; K1 = tri1; K2 = tri1 |> Array.map (fun k -> dt * k) }
          { Name = "k2 = (dt^2 k1 - 4)/(2 dt) (lambda = -1)"; K1 = tri1; K2 = tri1 |> Array.map (fun k -> (dt * dt * k - 4.0) / (2.0 * dt)) }
          { Name = "k1 = -k2^2/4 (real/complex)"; K1 = k2s |> Array.map (fun k -> -k * k / 4.0); K2 = k2s }
          { Name = "k2 = dt k1 extended"; K1 = lin k1Min k1Max; K2 = lin k1Min k1Max |> Array.map (fun k -> dt * k) } ]

    /// Rollout under u = kᵀx from x₀ for T steps: log((1/T) Σ_{t=1}^{T} ‖x_t‖²), the background map of Fig. 2b
    /// (code: x₀ = (1, 1), T = 50).
    [<CompiledName("LogLandscape")>]
    let logLandscape (dt: float) (k1: float) (k2: float) (x0: float[]) (steps: int) =
        let m = closedLoopMatrix dt k1 k2
        let mutable x = Array.copy x0
        let mutable s = 0.0
        for _ in 1 .. steps do
            x <- [| m.[0, 0] * x.[0] + m.[0, 1] * x.[1]; m.[1, 0] * x.[0] + m.[1, 1] * x.[1] |]
            s <- s + x.[0] * x.[0] + x.[1] * x.[1]
        Math.Log(s / float steps)

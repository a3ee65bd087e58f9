namespace Theory.Core.Numerics

open System
open Theory.Core

/// A quadrature rule for expectations over the standard normal measure Dz = e^{-z²/2}/√(2π) dz:
/// E[f(z)] ≈ Σ_i Weights[i] f(Nodes[i]). Weights sum to 1.
type GaussianRule =
    { Nodes: float[]
      Weights: float[] }
    /// Number of nodes.
    member r.Count = r.Nodes.Length

/// Gaussian expectations by quadrature.
///
/// Accuracy (documented, and checked in tests against closed forms):
/// * `Trapezoid(h, zMax)`: the trapezoidal rule on |z| ≤ zMax is spectrally accurate for integrands analytic in a strip
///   (tanh, sech², ln cosh of √Δ z are analytic in |Im z| < π/(2√Δ)). The error is ≈ exp(-π·π/(2√Δ h)) plus the
///   truncated tail ≈ exp(-zMax²/2). With the default h = 0.1, zMax = 9.5 (191 nodes) it is below 1e-12 for √Δ ≤ 3
///   (Δ ≤ 9) and below 1e-7 for Δ ≤ 20 (g ≤ 5 in the SCS problem). This is the default of the SCS solver.
/// * `Hermite(n)`: n-point Gauss–Hermite (probabilists'), exact for polynomials of degree ≤ 2n−1. For tanh-type
///   integrands it under-resolves once √Δ ≳ 3 (research note §6.1): at g = 5, 81 nodes are off by ≈ 1.5e-3 in ⟨tanh²⟩.
[<AbstractClass; Sealed>]
type GaussianQuadrature private () =

    /// Trapezoidal rule with spacing h on [-zMax, zMax], weights normalised to sum exactly to 1.
    static member Trapezoid(h: float, zMax: float) : GaussianRule =
        Validate.Positive("h", h) |> ignore
        Validate.Positive("zMax", zMax) |> ignore
        let m = int (Math.Floor(zMax / h + 1e-9))
        let nodes = Array.init (2 * m + 1) (fun i -> float (i - m) * h)
        let w = nodes |> Array.map (fun z -> Math.Exp(-0.5 * z * z))
        let s = Array.sum w
        { Nodes = nodes; Weights = w |> Array.map (fun x -> x / s) }

    /// The default rule: trapezoid h = 0.1 on |z| ≤ 9.5 (191 nodes).
    static member Default : GaussianRule = GaussianQuadrature.Trapezoid(0.1, 9.5)

    /// Probabilists' Gauss–Hermite rule with n nodes (Newton iteration on the physicists' Hermite polynomials,
    /// Numerical Recipes §4.6, then z = √2 x, w = w_phys/√π). Stable for n ≤ 200.
    static member Hermite(n: int) : GaussianRule =
        Validate.PositiveInt("n", n) |> ignore
        if n > 200 then raise (ParameterOutOfDomainException("n", string n, "1..200 Gauss-Hermite nodes"))
        let x = Array.zeroCreate n
        let w = Array.zeroCreate n
        let pim4 = 0.7511255444649425 // π^{-1/4}
        let m = (n + 1) / 2
        let mutable z = 0.0
        for i in 0 .. m - 1 do
            z <-
                if i = 0 then Math.Sqrt(float (2 * n + 1)) - 1.85575 * Math.Pow(float (2 * n + 1), -0.16667)
                elif i = 1 then z - 1.14 * Math.Pow(float n, 0.426) / z
                elif i = 2 then 1.86 * z - 0.86 * x.[0]
                elif i = 3 then 1.91 * z - 0.91 * x.[1]
                else 2.0 * z - x.[i - 2]
            let mutable pp = 0.0
            let mutable iter = 0
            let mutable fin = false
            while not fin do
                let mutable p1 = pim4
                let mutable p2 = 0.0
                for j in 1 .. n do
                    let p3 = p2
                    p2 <- p1
                    p1 <- z * Math.Sqrt(2.0 / float j) * p2 - Math.Sqrt(float (j - 1) / float j) * p3
                pp <- Math.Sqrt(2.0 * float n) * p2
                let z1 = z
                z <- z1 - p1 / pp
                iter <- iter + 1
                if abs (z - z1) <= 3e-15 * max 1.0 (abs z) || iter > 100 then fin <- true
            x.[i] <- z
            x.[n - 1 - i] <- -z
            w.[i] <- 2.0 / (pp * pp)
            w.[n - 1 - i] <- w.[i]
        let sq = Math.Sqrt Math.PI
        let nodes = x |> Array.map (fun v -> v * Math.Sqrt 2.0) |> Array.rev
        let weights = w |> Array.map (fun v -> v / sq) |> Array.rev
        { Nodes = nodes; Weights = weights }

    /// E[f(√variance · z)], z ~ N(0,1).
    static member Expect(rule: GaussianRule, variance: float, f: Func<float, float>) =
        if variance < 0.0 then raise (ParameterOutOfDomainException("variance", string variance, ">= 0"))
        let s = Math.Sqrt variance
        let mutable acc = 0.0
        for i in 0 .. rule.Nodes.Length - 1 do
            acc <- acc + rule.Weights.[i] * f.Invoke(s * rule.Nodes.[i])
        acc

    /// The nested Gaussian expectation ∫Dz [∫Dy f(√(var0 − cov)·y + √cov·z)]² = E[f(a) f(b)] for (a, b) jointly
    /// Gaussian with equal variances var0 and covariance cov, 0 ≤ cov ≤ var0 (the SCS form, research note §2.2).
    static member NestedSquare(rule: GaussianRule, cov: float, var0: float, f: Func<float, float>) =
        if not (cov >= 0.0 && cov <= var0 * (1.0 + 1e-12)) then
            raise (ParameterOutOfDomainException("cov", string cov, sprintf "[0, var0 = %g]" var0))
        let a = Math.Sqrt(max 0.0 (var0 - cov))
        let b = Math.Sqrt cov
        let n = rule.Nodes.Length
        let mutable outer = 0.0
        for i in 0 .. n - 1 do
            let bz = b * rule.Nodes.[i]
            let mutable inner = 0.0
            for j in 0 .. n - 1 do
                inner <- inner + rule.Weights.[j] * f.Invoke(a * rule.Nodes.[j] + bz)
            outer <- outer + rule.Weights.[i] * inner * inner
        outer

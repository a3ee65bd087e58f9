namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// The SCS two-time (transient / driven) solution on a time grid (research note dmft-learned.md §2.1, algorithm §6.2).
type ScsTransientSolution =
    { /// Grid step Δt.
      Dt: float
      /// Coupling g.
      G: float
      /// Initial variance σ0² of x(0) ~ N(0, σ0²).
      X0Variance: float
      /// Preactivation kernel Δ(t_k, t_l), k, l = 0..n−1.
      Delta: float[,]
      /// Activity kernel C(t_k, t_l) = E[φ(x_k) φ(x_l)].
      C: float[,] }
    /// Number of grid points n.
    member s.Points = s.Delta.GetLength 0

/// The deterministic march of the SCS two-time equations (note §6.2). With exponential Euler and a piecewise-constant
/// field, e = e^{−Δt}, R_{kl} = E[x_k s_l], s = η + u, Σ = g²C + C^I:
///   Δ_{k+1,l+1} = e²Δ_{kl} + e(1−e)(R_{kl} + R_{lk}) + (1−e)²Σ_{kl},  Δ_{k+1,0} = eΔ_{k0},
///   R_{k+1,l} = eR_{kl} + (1−e)Σ_{kl},  R_{0,l} = 0,
/// and C_{kl} = E[φ(x_k)φ(x_l)] by bivariate Gauss–Hermite quadrature. This is exactly the γ = 0 solution of the
/// discretised learned-network problem (note §3.4) on the same grid: the starting point of the continuation in γ
/// (note §6.4) and the reference of the §7.2 numbers. Error O(Δt) with respect to the continuum.
[<AbstractClass; Sealed>]
type ScsTransient private () =

    /// E[φ(a)φ(b)] for (a, b) zero-mean Gaussian with variances va, vb and covariance cab (product Gauss–Hermite).
    static member internal Bivariate(phi: SiteNonlinearity, rule: GaussianRule, va: float, vb: float, cab: float) =
        match phi with
        | Identity -> cab
        | Tanh ->
            if va <= 0.0 || vb <= 0.0 then 0.0
            else
                let sa = Math.Sqrt va
                let sb = Math.Sqrt vb
                let rho = max -1.0 (min 1.0 (cab / (sa * sb)))
                let rc = Math.Sqrt(max 0.0 (1.0 - rho * rho))
                let z = rule.Nodes
                let w = rule.Weights
                let mutable acc = 0.0
                for i in 0 .. z.Length - 1 do
                    let fa = Math.Tanh(sa * z.[i])
                    let bz = sb * rho * z.[i]
                    let mutable inner = 0.0
                    for j in 0 .. z.Length - 1 do
                        inner <- inner + w.[j] * Math.Tanh(bz + sb * rc * z.[j])
                    acc <- acc + w.[i] * fa * inner
                acc

    /// Marches the SCS two-time equations on the grid t_k = kΔt, k = 0..points−1.
    /// <param name="phi">nonlinearity (tanh, or identity where C = Δ).</param>
    /// <param name="g">coupling, ≥ 0.</param>
    /// <param name="dt">grid step Δt &gt; 0.</param>
    /// <param name="points">number of grid points n ≥ 2.</param>
    /// <param name="x0Variance">σ0² ≥ 0 of x(0) ~ N(0, σ0²), drawn independently of the field.</param>
    /// <param name="inputKernel">C^I on the grid (n×n), or None for no input.</param>
    /// <param name="quadratureNodes">Gauss–Hermite nodes per axis (note §6.2: 30–65; default 48).</param>
    static member Solve(phi: SiteNonlinearity, g: float, dt: float, points: int, x0Variance: float,
                        inputKernel: float[,] option, quadratureNodes: int) : ScsTransientSolution =
        Validate.NonNegative("g", g) |> ignore
        Validate.Positive("dt", dt) |> ignore
        Validate.AtLeast("points", points, 2) |> ignore
        Validate.NonNegative("x0Variance", x0Variance) |> ignore
        Validate.AtLeast("quadratureNodes", quadratureNodes, 8) |> ignore
        let n = points
        match inputKernel with
        | Some ci when ci.GetLength 0 <> n || ci.GetLength 1 <> n ->
            raise (ParameterOutOfDomainException("inputKernel", sprintf "%dx%d" (ci.GetLength 0) (ci.GetLength 1), sprintf "an %dx%d matrix" n n))
        | _ -> ()
        let rule = GaussianQuadrature.Hermite quadratureNodes
        let e = Math.Exp(-dt)
        let d = Array2D.zeroCreate n n
        let c = Array2D.zeroCreate n n
        let r = Array2D.zeroCreate n n // R[k, l] = E[x_k s_l]
        let sigma k l =
            g * g * c.[k, l] + (match inputKernel with Some ci -> ci.[k, l] | None -> 0.0)
        d.[0, 0] <- x0Variance
        c.[0, 0] <- ScsTransient.Bivariate(phi, rule, x0Variance, x0Variance, x0Variance)
        for k in 0 .. n - 2 do
            // R_{k,l} and R_{l,k} for l ≤ k (rows/columns up to k are known; C_{ij}, i, j ≤ k are known).
            if k > 0 then
                // Column k first (R_{l,k}, l < k; R_{0,k} = 0, recursion in the first index), then row k.
                for l in 0 .. k - 1 do
                    r.[l, k] <- if l = 0 then 0.0 else e * r.[l - 1, k] + (1.0 - e) * sigma (l - 1) k
                for l in 0 .. k do
                    r.[k, l] <- e * r.[k - 1, l] + (1.0 - e) * sigma (k - 1) l
            // Row k+1 of Δ.
            d.[k + 1, 0] <- e * d.[k, 0]
            d.[0, k + 1] <- d.[k + 1, 0]
            for l in 0 .. k do
                let v = e * e * d.[k, l] + e * (1.0 - e) * (r.[k, l] + r.[l, k]) + (1.0 - e) * (1.0 - e) * sigma k l
                d.[k + 1, l + 1] <- v
                d.[l + 1, k + 1] <- v
            let vkk = d.[k + 1, k + 1]
            for l in 0 .. k + 1 do
                let v = ScsTransient.Bivariate(phi, rule, vkk, d.[l, l], d.[k + 1, l])
                c.[k + 1, l] <- v
                c.[l, k + 1] <- v
        { Dt = dt; G = g; X0Variance = x0Variance; Delta = d; C = c }

    /// The march for an autonomous tanh network (no input), 48 quadrature nodes.
    static member Solve(g: float, dt: float, points: int, x0Variance: float) =
        ScsTransient.Solve(Tanh, g, dt, points, x0Variance, None, 48)

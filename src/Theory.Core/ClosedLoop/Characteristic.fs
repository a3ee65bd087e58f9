namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open Theory.Core

/// The roots of the characteristic cubic, split into the real root λ_r and the complex pair λ_c (when present).
type CubicRoots =
    { /// All three roots, sorted by modulus (descending).
      Roots: Complex[]
      /// The complex root with positive imaginary part, if the cubic has a complex pair.
      ComplexPair: Complex option
      /// The real root paired with the complex pair (λ_r); when all roots are real, the one nearest σ_vu.
      RealRoot: float }

/// Closed-form cubic roots (Cardano / trigonometric form, then Newton polishing on the original polynomial).
module Polynomial =
    let private evalC (c: float[]) (z: Complex) =
        // descending coefficients
        let mutable s = Complex.Zero
        for a in c do
            s <- s * z + a
        s

    let private evalDC (c: float[]) (z: Complex) =
        let n = c.Length - 1
        let mutable s = Complex.Zero
        for i in 0 .. n - 1 do
            s <- s * z + c.[i] * float (n - i)
        s

    /// Value of a polynomial with descending real coefficients at a complex point.
    [<CompiledName("Evaluate")>]
    let evaluate (c: float[]) (z: Complex) = evalC c z

    let private polish (c: float[]) (z0: Complex) =
        let mutable z = z0
        let mutable k = 0
        let mutable fin = false
        while not fin && k < 8 do
            let d = evalDC c z
            if d = Complex.Zero then fin <- true
            else
                let step = evalC c z / d
                let zn = z - step
                if (evalC c zn).Magnitude < (evalC c z).Magnitude then z <- zn else fin <- true
                if step.Magnitude <= 1e-17 * max 1.0 z.Magnitude then fin <- true
            k <- k + 1
        z

    /// Roots of the monic cubic λ³ + bλ² + cλ + d (closed form, polished), unsorted: the first is real.
    [<CompiledName("MonicCubicRoots")>]
    let monicCubic (b: float) (c: float) (d: float) : Complex[] =
        for (n, x) in [ "b", b; "c", c; "d", d ] do Validate.Finite(n, x) |> ignore
        let coeffs = [| 1.0; b; c; d |]
        let p = c - b * b / 3.0
        let q = 2.0 * b * b * b / 27.0 - b * c / 3.0 + d
        let disc = (q / 2.0) * (q / 2.0) + (p / 3.0) * (p / 3.0) * (p / 3.0)
        let shift = -b / 3.0
        let roots =
            if disc > 0.0 then
                let sd = sqrt disc
                let r = Math.Cbrt(-q / 2.0 + sd) + Math.Cbrt(-q / 2.0 - sd) + shift
                let r = (polish coeffs (Complex(r, 0.0))).Real
                // deflate: (λ − r)(λ² + e1 λ + e0)
                let e1 = b + r
                let e0 = c + r * e1
                let dq = e1 * e1 / 4.0 - e0
                let pair =
                    if dq < 0.0 then [| Complex(-e1 / 2.0, sqrt -dq); Complex(-e1 / 2.0, -sqrt -dq) |]
                    else [| Complex(-e1 / 2.0 + sqrt dq, 0.0); Complex(-e1 / 2.0 - sqrt dq, 0.0) |]
                Array.append [| Complex(r, 0.0) |] pair
            else
                let m = 2.0 * sqrt (max 0.0 (-p / 3.0))
                if m = 0.0 then [| Complex(shift, 0.0); Complex(shift, 0.0); Complex(shift, 0.0) |]
                else
                    let arg = max -1.0 (min 1.0 (3.0 * q / (p * m)))
                    let th = Math.Acos(arg) / 3.0
                    Array.init 3 (fun k -> Complex(m * Math.Cos(th - 2.0 * Math.PI * float k / 3.0) + shift, 0.0))
        let polished = roots |> Array.map (polish coeffs)
        // keep conjugate symmetry exact for a complex pair
        if polished.[1].Imaginary <> 0.0 then
            let z = polished.[1]
            [| Complex(polished.[0].Real, 0.0); Complex(z.Real, abs z.Imaginary); Complex(z.Real, -abs z.Imaginary) |]
        else polished |> Array.map (fun z -> Complex(z.Real, 0.0))

/// The characteristic polynomial of the rank-one closed loop (Ger &amp; Barak 2025, Eq. 9, App. C.4) and its leaky form.
module Characteristic =
    /// Descending coefficients of χ(λ) = λ³ − (σ_vu + 2)λ² + (1 + 2σ_vu − σ_zm)λ + (σ_vuσ_zm − σ_vu − σ_vmσ_zu)
    /// (Eq. 9; det(λI − P_eff) = λ χ(λ)).
    [<CompiledName("Coefficients")>]
    let coefficients (o: Overlaps) =
        [| 1.0; -(o.Svu + 2.0); 1.0 + 2.0 * o.Svu - o.Szm; o.Svu * o.Szm - o.Svu - o.Svm * o.Szu |]

    /// χ(λ) at a complex point.
    [<CompiledName("Chi")>]
    let chi (o: Overlaps) (lambda: Complex) = Polynomial.evaluate (coefficients o) lambda

    /// The stage-1 quadratic q(λ) = λ² − 2λ + 1 − σ_zm (Eq. 10).
    [<CompiledName("Q")>]
    let q (o: Overlaps) (lambda: Complex) = lambda * lambda - 2.0 * lambda + 1.0 - o.Szm

    /// Residual of the factorised form (λ − σ_vu) q(λ) − σ_vm σ_zu − χ(λ) (derived; identically zero).
    [<CompiledName("FactorisationResidual")>]
    let factorisationResidual (o: Overlaps) (lambda: Complex) =
        (lambda - o.Svu) * q o lambda - o.Epsilon - chi o lambda

    /// Roots of χ (closed form), split into λ_r and λ_c.
    [<CompiledName("Roots")>]
    let roots (o: Overlaps) : CubicRoots =
        let c = coefficients o
        let r = Polynomial.monicCubic c.[1] c.[2] c.[3]
        let sorted = r |> Array.sortWith (fun x y -> if abs (x.Magnitude - y.Magnitude) > 1e-15 then compare y.Magnitude x.Magnitude else compare y.Imaginary x.Imaginary)
        if r.[1].Imaginary <> 0.0 then
            { Roots = sorted; ComplexPair = Some r.[1]; RealRoot = r.[0].Real }
        else
            let nearest = r |> Array.minBy (fun z -> abs (z.Real - o.Svu))
            { Roots = sorted; ComplexPair = None; RealRoot = nearest.Real }

    /// Ascending-free helper: product of two descending-coefficient polynomials.
    let private pmul (p: float[]) (q: float[]) =
        let r = Array.zeroCreate (p.Length + q.Length - 1)
        for i in 0 .. p.Length - 1 do
            for j in 0 .. q.Length - 1 do
                r.[i + j] <- r.[i + j] + p.[i] * q.[j]
        r

    /// Descending coefficients of the leaky characteristic quartic (derived, general a = Δ/τ and Δ):
    /// (λ − 1)²(λ − 1 + a)(λ − 1 + a − aσ_vu) − aΔ²λ[σ_zm(λ − 1 + a − aσ_vu) + aσ_vmσ_zu] = det(λI − P_eff(a, Δ)).
    /// The remaining N − 2 eigenvalues of the full leaky P equal 1 − a.
    [<CompiledName("LeakyCoefficients")>]
    let leakyCoefficients (dt: float) (a: float) (o: Overlaps) =
        Validate.Positive("dt", dt) |> ignore
        Validate.InRange("a", a, Double.Epsilon, 1.0) |> ignore
        let c = a - 1.0 - a * o.Svu
        let lhs = pmul (pmul [| 1.0; -2.0; 1.0 |] [| 1.0; a - 1.0 |]) [| 1.0; c |]
        let k = a * dt * dt
        // k λ [σ_zm λ + σ_zm c + a ε] = k σ_zm λ² + k(σ_zm c + a ε) λ
        let rhs = [| 0.0; 0.0; k * o.Szm; k * (o.Szm * c + a * o.Epsilon); 0.0 |]
        Array.map2 (-) lhs rhs

    /// Roots of the leaky quartic (MathNet companion-matrix roots), sorted by modulus (descending).
    [<CompiledName("LeakyRoots")>]
    let leakyRoots (dt: float) (a: float) (o: Overlaps) =
        let c = leakyCoefficients dt a o
        MathNet.Numerics.FindRoots.Polynomial(Array.rev c)
        |> Array.sortWith (fun x y -> if abs (x.Magnitude - y.Magnitude) > 1e-15 then compare y.Magnitude x.Magnitude else compare y.Imaginary x.Imaginary)

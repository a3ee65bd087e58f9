namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// Why the stationary linear learned-network spectrum does not exist at one frequency.
type NoStationarySolution =
    { /// The frequency ω (NaN when the caller gave the transfer a = |d(ω)|² directly).
      Omega: float
      /// The transfer a = |d(ω)|² used (1 + ω² in continuous time).
      Transfer: float
      /// The scalar D(ω) = a − g² − γ²g⁴R ≤ 0 that makes the admissible root disappear.
      D: float
      /// γ_c(ω) = √((a − g²)/(g⁴R)) (+∞ when R = 0 or g = 0; 0 when a ≤ g²).
      GammaCritical: float }
    /// The message used by <see cref="NoSolutionException"/>.
    member s.Message =
        let at = if Double.IsNaN s.Omega then sprintf "transfer a = %g" s.Transfer else sprintf "ω = %g" s.Omega
        sprintf
            "no stationary solution at %s: the condition D(ω) = 1+ω²−g²−γ²g⁴R > 0 fails (D = %g; learned outlier mode unstable, γ_c(ω) = %g)"
            at s.D s.GammaCritical

/// Closed-form stationary power spectrum of a trained linear (φ = identity) rate network
/// (Clark, Bordelon, Zavatone-Veth & Pehlevan 2026, "Linear networks" formula; derivation in
/// shared/research/dmft-learned.md §4):
///
///   C(ω)/Cᴵ(ω) = [1 + 2γ²g²R + √(1 + 4γ²(1+ω²)R)] / [2(1 + ω² − g² − γ²g⁴R)],   R = Cʸ(ω)/Cᴵ(ω).
///
/// Every function also exists in a "transfer" form taking a = |d(ω)|² instead of ω, where d(ω) is the symbol of the
/// leak operator D = 1 + ∂ₜ: a = 1 + ω² in continuous time, a = |d_k|² for a time-discretised network (see
/// <see cref="LinearKernels"/>). The per-frequency equation (★) of note §4 depends on ω only through a, so the same
/// formula is exact for the discrete-time network on a periodic grid.
[<RequireQualifiedAccess>]
module LinearSpectrum =

    let private checkCommon (g: float) (gamma: float) (a: float) (r: float) =
        Validate.NonNegative("g", g) |> ignore
        Validate.NonNegative("gamma", gamma) |> ignore
        Validate.Positive("transfer a = |d(omega)|^2", a) |> ignore
        Validate.NonNegative("ratio R = Cy/CI", r) |> ignore

    /// The scalar domain function D = a − g² − γ²g⁴R (a = 1 + ω² in continuous time). The admissible (positive) root
    /// exists iff D > 0 (note §4, "Pole and no-solution domain").
    [<CompiledName("DomainTransfer")>]
    let domainTransfer (g: float, gamma: float, a: float, r: float) = a - g * g - gamma * gamma * g ** 4.0 * r

    /// D(ω) = 1 + ω² − g² − γ²g⁴R.
    [<CompiledName("Domain")>]
    let domain (g: float, gamma: float, omega: float, r: float) = domainTransfer (g, gamma, 1.0 + omega * omega, r)

    /// γ_c = √((a − g²)/(g⁴R)): C diverges as γ ↑ γ_c (+∞ when g = 0 or R = 0; 0 when a ≤ g²).
    [<CompiledName("GammaCriticalTransfer")>]
    let gammaCriticalTransfer (g: float, a: float, r: float) =
        if a <= g * g then 0.0
        elif g = 0.0 || r = 0.0 then Double.PositiveInfinity
        else sqrt ((a - g * g) / (g ** 4.0 * r))

    /// γ_c(ω) = √((1 + ω² − g²)/(g⁴R)).
    [<CompiledName("GammaCritical")>]
    let gammaCritical (g: float, omega: float, r: float) = gammaCriticalTransfer (g, 1.0 + omega * omega, r)

    /// C/Cᴵ given the transfer a, or the typed reason why there is no stationary solution.
    /// Evaluates the first (numerically stable) form of the formula; the second form is 0/0 at γ = 0.
    [<CompiledName("TryRatioTransfer")>]
    let tryRatioTransfer (g: float, gamma: float, a: float, r: float) : Result<float, NoStationarySolution> =
        checkCommon g gamma a r
        let d = domainTransfer (g, gamma, a, r)
        if not (d > 0.0) then
            Error { Omega = nan; Transfer = a; D = d; GammaCritical = gammaCriticalTransfer (g, a, r) }
        else
            let g2 = g * g
            let gr = gamma * gamma * r
            Ok((1.0 + 2.0 * gr * g2 + sqrt (1.0 + 4.0 * gr * a)) / (2.0 * d))

    /// C(ω)/Cᴵ(ω) in continuous time, or the typed "no stationary solution at ω" reason.
    [<CompiledName("TryRatio")>]
    let tryRatio (g: float, gamma: float, omega: float, r: float) : Result<float, NoStationarySolution> =
        Validate.Finite("omega", omega) |> ignore
        tryRatioTransfer (g, gamma, 1.0 + omega * omega, r)
        |> Result.mapError (fun e -> { e with Omega = omega })

    let private orRaise (res: Result<float, NoStationarySolution>) =
        match res with
        | Ok v -> v
        | Error e -> raise (NoSolutionException e.Message)

    /// C/Cᴵ for transfer a; raises <see cref="NoSolutionException"/> when D ≤ 0.
    [<CompiledName("RatioTransfer")>]
    let ratioTransfer (g: float, gamma: float, a: float, r: float) = tryRatioTransfer (g, gamma, a, r) |> orRaise

    /// C(ω)/Cᴵ(ω) (continuous time); raises <see cref="NoSolutionException"/> naming ω and the condition D(ω) > 0.
    [<CompiledName("Ratio")>]
    let ratio (g: float, gamma: float, omega: float, r: float) = tryRatio (g, gamma, omega, r) |> orRaise

    /// C(ω) for given Cᴵ(ω) > 0 and Cʸ(ω) ≥ 0 (continuous time).
    [<CompiledName("Value")>]
    let value (g: float, gamma: float, omega: float, cI: float, cy: float) =
        Validate.Positive("CI(omega)", cI) |> ignore
        Validate.NonNegative("Cy(omega)", cy) |> ignore
        cI * ratio (g, gamma, omega, cy / cI)

    /// γ = 0 (random linear network, reservoir): C/Cᴵ = 1/(a − g²); needs a > g².
    [<CompiledName("RandomNetworkRatioTransfer")>]
    let randomNetworkRatioTransfer (g: float, a: float) = ratioTransfer (g, 0.0, a, 0.0)

    /// First order in γ²: C/Cᴵ ≈ 1/(a−g²) + γ²R a²/(a−g²)² (note §4, "First order").
    [<CompiledName("FirstOrderRatioTransfer")>]
    let firstOrderRatioTransfer (g: float, gamma: float, a: float, r: float) =
        checkCommon g gamma a r
        let d0 = a - g * g
        if not (d0 > 0.0) then
            raise (NoSolutionException(sprintf "no stationary random-network solution: a − g² = %g ≤ 0" d0))
        1.0 / d0 + gamma * gamma * r * a * a / (d0 * d0)

    /// The per-frequency quadratic of note §4 in x = C/Cᴵ: (a − g² − γ²g⁴R)x² − (1 + 2γ²g²R)x − γ²R. The closed form is
    /// its positive root. Exposed for identity tests.
    [<CompiledName("QuadraticResidual")>]
    let quadraticResidual (g: float, gamma: float, a: float, r: float, x: float) =
        let gr = gamma * gamma * r
        domainTransfer (g, gamma, a, r) * x * x - (1.0 + 2.0 * gr * g * g) * x - gr

    /// The stationarity residual (★) of note §4 evaluated per mode (u tilted):
    /// g²c²·a·c/s0² + c − g²c²/s0 + γ²c_y − c²a/s0, s0 = g²c + c_I. Zero at the closed form.
    [<CompiledName("StarResidual")>]
    let starResidual (g: float, gamma: float, a: float, cI: float, cy: float, c: float) =
        let g2 = g * g
        let s0 = g2 * c + cI
        g2 * c * c * a * c / (s0 * s0) + c - g2 * c * c / s0 + gamma * gamma * cy - c * c * a / s0

    /// Residual of the fixed-U (input not tilted) per-frequency equations of note §3.3 as a function of c, with Λ and
    /// K_η eliminated: q solves c_I q² + v q = a c (v = g²c), K_η = c_I(q−1)² + v q, Λ = a(1 − 1/q)/v, residual
    /// Λc² − K_η/g² + c − γ²c_y. Needs g > 0.
    [<CompiledName("FixedInputResidual")>]
    let fixedInputResidual (g: float, gamma: float, a: float, cI: float, cy: float, c: float) =
        let g2 = g * g
        let v = g2 * c
        let q = (-v + sqrt (v * v + 4.0 * cI * a * c)) / (2.0 * cI)
        let k = cI * (q - 1.0) * (q - 1.0) + v * q
        let lam = a * (1.0 - 1.0 / q) / v
        lam * c * c - k / g2 + c - gamma * gamma * cy

    /// C/Cᴵ when the input weights U are NOT trained (quenched; option inputTilted = false, note §3.3) for transfer a.
    /// The equations have no closed form; solved by Brent on the residual of <see cref="fixedInputResidual"/>, which
    /// equals −γ²R at the random-network value 1/(a−g²) and tends to (a−g²)/g⁴ − γ²R as c → ∞, so the domain is the
    /// same D > 0 as with U trained. Needs g > 0 (at g = 0 the tilt has no recurrent channel). Accurate to 1e-13 relative.
    [<CompiledName("TryFixedInputRatioTransfer")>]
    let tryFixedInputRatioTransfer (g: float, gamma: float, a: float, r: float) : Result<float, NoStationarySolution> =
        checkCommon g gamma a r
        Validate.Positive("g (fixed-U variant)", g) |> ignore
        let d = domainTransfer (g, gamma, a, r)
        if not (d > 0.0) then
            Error { Omega = nan; Transfer = a; D = d; GammaCritical = gammaCriticalTransfer (g, a, r) }
        elif gamma = 0.0 || r = 0.0 then Ok(1.0 / (a - g * g))
        else
            let f = Func<float, float>(fun c -> fixedInputResidual (g, gamma, a, 1.0, r, c))
            let lo = 1.0 / (a - g * g)
            let mutable hi = 2.0 * lo
            let mutable k = 0
            while f.Invoke hi < 0.0 && k < 200 do
                hi <- 2.0 * hi
                k <- k + 1
            match RootFinding.Brent(f, lo, hi, 1e-15 * hi, 500) with
            | Ok root -> Ok root.Root
            | Error failure -> raise (NotConvergedException failure)

    /// Fixed-U C(ω)/Cᴵ(ω) in continuous time; raises <see cref="NoSolutionException"/> when D(ω) ≤ 0.
    [<CompiledName("FixedInputRatio")>]
    let fixedInputRatio (g: float, gamma: float, omega: float, r: float) =
        Validate.Finite("omega", omega) |> ignore
        tryFixedInputRatioTransfer (g, gamma, 1.0 + omega * omega, r)
        |> Result.mapError (fun e -> { e with Omega = omega })
        |> orRaise

    /// Whole spectrum on a frequency array with Cᴵ(ω_k), Cʸ(ω_k) given as arrays (continuous time). Checks D(ω_k) > 0 at
    /// every ω_k first and raises <see cref="NoSolutionException"/> naming the first frequency where it fails.
    [<CompiledName("Spectrum")>]
    let spectrum (g: float, gamma: float, omegas: float[], cI: float[], cy: float[]) : float[] =
        if omegas.Length <> cI.Length || omegas.Length <> cy.Length then
            invalidArg "cI" (sprintf "omegas (%d), CI (%d) and Cy (%d) must have equal lengths" omegas.Length cI.Length cy.Length)
        Validate.AllFinite("omega", omegas) |> ignore
        Array.init omegas.Length (fun k ->
            Validate.Positive(sprintf "CI(omega[%d])" k, cI.[k]) |> ignore
            Validate.NonNegative(sprintf "Cy(omega[%d])" k, cy.[k]) |> ignore
            cI.[k] * ratio (g, gamma, omegas.[k], cy.[k] / cI.[k]))

    /// Whole spectrum with Cᴵ and Cʸ given as functions of ω.
    [<CompiledName("SpectrumOf")>]
    let spectrumOf (g: float, gamma: float, omegas: float[], cI: Func<float, float>, cy: Func<float, float>) =
        spectrum (g, gamma, omegas, omegas |> Array.map cI.Invoke, omegas |> Array.map cy.Invoke)

    /// Whole spectrum given per-mode transfers a_k (for example |d_k|² of a discretised network) and Cᴵ_k, Cʸ_k.
    [<CompiledName("SpectrumTransfer")>]
    let spectrumTransfer (g: float, gamma: float, transfers: float[], cI: float[], cy: float[], inputTrained: bool) =
        if transfers.Length <> cI.Length || transfers.Length <> cy.Length then
            invalidArg "cI" "transfers, CI and Cy must have equal lengths"
        Array.init transfers.Length (fun k ->
            Validate.Positive(sprintf "CI[%d]" k, cI.[k]) |> ignore
            Validate.NonNegative(sprintf "Cy[%d]" k, cy.[k]) |> ignore
            let r = cy.[k] / cI.[k]
            let res =
                if inputTrained then tryRatioTransfer (g, gamma, transfers.[k], r)
                else tryFixedInputRatioTransfer (g, gamma, transfers.[k], r)
            match res with
            | Ok x -> cI.[k] * x
            | Error e -> raise (NoSolutionException(sprintf "mode %d: %s" k e.Message)))

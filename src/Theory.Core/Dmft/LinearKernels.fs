namespace Theory.Core.Dmft

open System
open Theory.Core

/// Turning targets and inputs into the kernels Cʸ, Cᴵ of the learned-network DMFT (Clark et al. 2026;
/// shared/research/dmft-learned.md §1, §3.4, §4), on a time grid and as spectra, plus the leak-operator symbols
/// a(ω) = |d(ω)|² that enter the linear closed form.
///
/// Grid conventions. A periodic grid has n points t_k = kΔt, period T = nΔt, Fourier frequencies
/// ω_k = 2πk/T for k ≤ n/2 and ω_k = −2π(n−k)/T above (signed). A stationary (circulant) grid kernel K is stored as a
/// dense n×n array and its "grid spectrum" is its eigenvalue on mode k,
/// S_k = Σ_m K(0, m) cos(ω_k mΔt) (the circularised kernel is used when K is not exactly circulant). The continuous
/// spectrum is S(ω_k) ≈ Δt·S_k·(…); the linear formula is homogeneous of degree 1, so any common normalisation works.
[<RequireQualifiedAccess>]
module LinearKernels =

    /// a(ω) = 1 + ω²: the continuous-time leak symbol |1 + iω|².
    [<CompiledName("ContinuousTransfer")>]
    let continuousTransfer (omega: float) = 1.0 + omega * omega

    /// a(ω) = |d(ω)|² for the exponential-Euler network x_{k+1} = e x_k + (1−e) s_k, e = e^{−Δt}, the discretisation of
    /// the training engine and of note §3.4: d(ω) = (e^{iωΔt} − e)/(1 − e), |d|² = (1 − 2e cos ωΔt + e²)/(1 − e)².
    /// Tends to 1 + ω² as Δt → 0.
    [<CompiledName("ExponentialEulerTransfer")>]
    let exponentialEulerTransfer (dt: float, omega: float) =
        Validate.Positive("dt", dt) |> ignore
        let e = exp (-dt)
        (1.0 - 2.0 * e * cos (omega * dt) + e * e) / ((1.0 - e) * (1.0 - e))

    /// The signed Fourier frequencies ω_k of a periodic grid of n points and step Δt.
    [<CompiledName("Frequencies")>]
    let frequencies (n: int, dt: float) =
        Validate.AtLeast("n", n, 2) |> ignore
        Validate.Positive("dt", dt) |> ignore
        let period = float n * dt
        Array.init n (fun k -> 2.0 * Math.PI * float (if k <= n / 2 then k else k - n) / period)

    /// The circulant kernel whose eigenvalue on mode k is spectrum[k] (spectrum must be even: spectrum[k] =
    /// spectrum[n−k]): K(t, t') = (1/n) Σ_k S_k cos(ω_k (t − t')).
    [<CompiledName("CirculantFromModes")>]
    let circulantFromModes (spectrum: float[]) : float[,] =
        let n = spectrum.Length
        Validate.AllFinite("spectrum", spectrum) |> ignore
        for k in 1 .. n - 1 do
            if abs (spectrum.[k] - spectrum.[n - k]) > 1e-12 * (abs spectrum.[k] + abs spectrum.[n - k] + 1e-300) then
                invalidArg "spectrum" (sprintf "mode spectrum must be even (S_k = S_{n-k}); fails at k = %d" k)
        let c = Array.init n (fun m -> (Array.sum (Array.init n (fun k -> spectrum.[k] * cos (2.0 * Math.PI * float (k * m) / float n)))) / float n)
        Array2D.init n n (fun i j -> c.[((j - i) % n + n) % n])

    /// The circulant kernel of a spectrum given as a function of ω on the periodic grid (n, Δt); the function is
    /// evaluated at the signed ω_k and must be even.
    [<CompiledName("CirculantFromSpectrum")>]
    let circulantFromSpectrum (n: int, dt: float, spectrum: Func<float, float>) =
        frequencies (n, dt) |> Array.map spectrum.Invoke |> circulantFromModes

    /// The grid spectrum of a (possibly estimated, not exactly circulant) n×n kernel: the eigenvalue of its
    /// circularised version on each mode, S_k = Σ_m c(m) cos(2πkm/n), c(m) = mean_t K(t, t+m mod n). For an exactly
    /// circulant kernel these are its eigenvalues; for an estimate they are the diagonal of its Fourier transform.
    [<CompiledName("ModeSpectrum")>]
    let modeSpectrum (kernel: float[,]) =
        let n = Array2D.length1 kernel
        if Array2D.length2 kernel <> n then invalidArg "kernel" "kernel must be square"
        let c = Array.init n (fun m -> (Array.sum (Array.init n (fun t -> kernel.[t, (t + m) % n]))) / float n)
        Array.init n (fun k -> Array.sum (Array.init n (fun m -> c.[m] * cos (2.0 * Math.PI * float (k * m) / float n))))

    /// Real Fourier channels F (n × n, rows = grid times, columns = channels) with F Fᵀ = circulantFromModes spectrum:
    /// a constant channel √S₀, pairs √(2S_k)cos(ω_k t), √(2S_k)sin(ω_k t) for 0 < k < n/2, and √S_{n/2}(−1)^t for even n,
    /// all divided by √n. Used to build multi-channel inputs and targets whose kernels Σ_a I_a(t)I_a(t') are exactly
    /// stationary on the periodic window. Negative modes are refused.
    [<CompiledName("FourierChannels")>]
    let fourierChannels (spectrum: float[]) : float[,] =
        let n = spectrum.Length
        Validate.AtLeast("n", n, 2) |> ignore
        spectrum |> Array.iteri (fun k s -> Validate.NonNegative(sprintf "spectrum[%d]" k, s) |> ignore)
        let f = Array2D.zeroCreate n n
        let sq = 1.0 / sqrt (float n)
        for t in 0 .. n - 1 do
            f.[t, 0] <- sqrt spectrum.[0] * sq
        let mutable col = 1
        for k in 1 .. (n - 1) / 2 do
            let amp = sqrt (2.0 * spectrum.[k]) * sq
            for t in 0 .. n - 1 do
                let ph = 2.0 * Math.PI * float (k * t) / float n
                f.[t, col] <- amp * cos ph
                f.[t, col + 1] <- amp * sin ph
            col <- col + 2
        if n % 2 = 0 then
            for t in 0 .. n - 1 do
                f.[t, col] <- sqrt spectrum.[n / 2] * sq * (if t % 2 = 0 then 1.0 else -1.0)
        f

    /// The kernel of a set of trajectories: K = Y Yᵀ, K(t, t') = Σ_a Y(t, a) Y(t', a) (rows = times, columns = outputs
    /// or input channels, and conditions stacked as extra columns). This is Cʸ (targets) or Cᴵ (inputs) of note §1.
    [<CompiledName("KernelOfTrajectories")>]
    let kernelOfTrajectories (y: float[,]) : float[,] =
        let n = Array2D.length1 y
        let d = Array2D.length2 y
        Array2D.init n n (fun i j ->
            let mutable s = 0.0
            for a in 0 .. d - 1 do
                s <- s + y.[i, a] * y.[j, a]
            s)

    /// The paper's Fig. 2 target, "power concentrated around a preferred frequency" [reconstructed: the public text
    /// shows the figure but not the formula]: Cʸ(ω) = amplitude·exp(−(|ω| − ω₀)²/(2·width²)) + floor.
    [<CompiledName("PeakedTarget")>]
    let peakedTarget (omega0: float, width: float, amplitude: float, floor: float, omega: float) =
        Validate.NonNegative("omega0", omega0) |> ignore
        Validate.Positive("width", width) |> ignore
        Validate.NonNegative("amplitude", amplitude) |> ignore
        Validate.NonNegative("floor", floor) |> ignore
        let z = (abs omega - omega0) / width
        amplitude * exp (-0.5 * z * z) + floor

    /// White input of level σ² (Cᴵ(ω) = σ² at every ω) [reconstructed default for Fig. 2: σ² = 1].
    [<CompiledName("WhiteInput")>]
    let whiteInput (level: float, _omega: float) = Validate.Positive("input level", level)

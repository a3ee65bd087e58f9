namespace Theory.Core.Dmft

open System
open Theory.Core
open Theory.Core.Numerics

/// A γ estimate by kernel alignment.
type GammaEstimate =
    { /// γ̂ = argmax_γ CKA(network kernel, C_DMFT(γ)) over the interpolated reference family.
      Gamma: float
      /// CKA at γ̂.
      Alignment: float
      /// The fine γ grid the profile was evaluated on.
      Grid: float[]
      /// CKA(network kernel, C(γ)) on the grid.
      Profile: float[]
      /// γ̂ is the first or last grid point (the maximum may lie outside the reference range).
      AtBoundary: bool }

/// A γ estimate with a bootstrap error over neurons.
type GammaBootstrap =
    { Estimate: GammaEstimate
      /// Standard deviation of γ̂ over the bootstrap resamples (neurons drawn with replacement).
      StdDev: float
      /// γ̂ of each resample.
      Resamples: float[] }

/// The γ estimator of a network of unknown γ (Clark et al. 2026 compare networks and data by CKA; the estimator is
/// [reconstructed]): γ̂ = argmax_γ CKA(K, C(γ)), K = φφᵀ/N the network's window kernel (time × time) and C(γ) the DMFT
/// order parameter C(t, t') of the same task and grid at γ. The reference family is known at a few γ_j (saddle-point
/// solves) and interpolated linearly in γ between neighbours (<c>subdivisions</c> points per interval, default 20) —
/// a documented choice; CKA is smooth in the kernel, so the interpolation error is second order in the grid step.
/// The error bar is a bootstrap over neurons (the network's finite-N fluctuation; O(N^{-1/2})). CKA is scale-free,
/// so only the shape of the kernel informs γ̂; the finite-N bias of CKA (O(1/N), positive for noise) is reported by the
/// paper-check on networks of known γ, not corrected here.
[<AbstractClass; Sealed>]
type KernelAlignment private () =

    static member private CheckReferences(references: (float * float[,])[]) =
        if references.Length < 2 then
            raise (ParameterOutOfDomainException("references", string references.Length, "at least 2 reference kernels (gamma, C)"))
        for i in 0 .. references.Length - 1 do
            let g, c = references.[i]
            Validate.NonNegative("reference gamma", g) |> ignore
            if i > 0 && g <= fst references.[i - 1] then
                raise (ParameterOutOfDomainException("references", "gammas not strictly ascending", "strictly ascending gammas"))
            if c.GetLength 0 <> (snd references.[0]).GetLength 0 || c.GetLength 1 <> c.GetLength 0 then
                raise (ParameterOutOfDomainException("references", "kernels of different sizes", "square kernels on one grid"))

    /// γ̂ for a window kernel (time × time) against reference DMFT kernels (γ_j, C_j), γ_j strictly ascending.
    static member Estimate(kernel: float[,], references: (float * float[,])[], subdivisions: int) : GammaEstimate =
        KernelAlignment.CheckReferences references
        Validate.AtLeast("subdivisions", subdivisions, 1) |> ignore
        let n = (snd references.[0]).GetLength 0
        if kernel.GetLength 0 <> n || kernel.GetLength 1 <> n then
            raise (ParameterOutOfDomainException("kernel", sprintf "%dx%d" (kernel.GetLength 0) (kernel.GetLength 1), sprintf "%dx%d (the reference grid)" n n))
        let pts =
            [| for j in 0 .. references.Length - 2 do
                 let g0, c0 = references.[j]
                 let g1, c1 = references.[j + 1]
                 for s in 0 .. subdivisions - 1 do
                     let w = float s / float subdivisions
                     yield g0 + w * (g1 - g0), Array2D.init n n (fun a b -> (1.0 - w) * c0.[a, b] + w * c1.[a, b])
               yield references.[references.Length - 1] |]
        let grid = pts |> Array.map fst
        let profile = pts |> Array.map (fun (_, c) -> Cka.OfKernels(kernel, c))
        let best = profile |> Array.indexed |> Array.maxBy snd |> fst
        { Gamma = grid.[best]; Alignment = profile.[best]; Grid = grid; Profile = profile
          AtBoundary = (best = 0 || best = grid.Length - 1) }

    /// Window kernel K = φφᵀ/N (time × time) of rates (time × neurons).
    static member KernelOfRates(rates: float[,]) : float[,] =
        let n = rates.GetLength 1
        if n < 1 then raise (ParameterOutOfDomainException("rates", "no neurons", "time x neurons with at least one neuron"))
        Cka.Gram rates |> Array2D.map (fun v -> v / float n)

    /// γ̂ of the rates (time × neurons) with a bootstrap s.d. over neurons (<c>resamples</c> ≥ 2, seeded).
    static member EstimateFromRates(rates: float[,], references: (float * float[,])[], subdivisions: int, resamples: int, seed: int64) : GammaBootstrap =
        Validate.AtLeast("resamples", resamples, 2) |> ignore
        let t = rates.GetLength 0
        let nn = rates.GetLength 1
        let est = KernelAlignment.Estimate(KernelAlignment.KernelOfRates rates, references, subdivisions)
        let rng = Rng.ForStream(seed, 4100L)
        let draws =
            Array.init resamples (fun _ ->
                let idx = Array.init nn (fun _ -> rng.NextInt nn)
                let r = Array2D.init t nn (fun k i -> rates.[k, idx.[i]])
                KernelAlignment.Estimate(KernelAlignment.KernelOfRates r, references, subdivisions).Gamma)
        let m = Array.average draws
        let sd = Math.Sqrt(draws |> Array.sumBy (fun x -> (x - m) * (x - m)) |> fun s -> s / float (resamples - 1))
        { Estimate = est; StdDev = sd; Resamples = draws }

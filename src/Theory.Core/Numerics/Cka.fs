namespace Theory.Core.Numerics

open System
open Theory.Core

/// Linear centred kernel alignment (CKA; Kornblith, Norouzi, Lee &amp; Hinton 2019, eq. for linear HSIC), the
/// representation similarity used by Clark et al. (2026) to compare network and neural population activity.
/// For representations X (n samples × p features) and Y (n × q), with H = I − 11ᵀ/n centring over samples,
///   CKA(X, Y) = ⟨HKH, HLH⟩_F / (‖HKH‖_F ‖HLH‖_F),  K = XXᵀ, L = YYᵀ  (= ‖YᵀHX‖_F² / (‖XᵀHX‖_F ‖YᵀHY‖_F)).
/// Here samples are time points and features neurons, so K is the (unnormalised) time × time kernel φφᵀ and a DMFT
/// kernel C(t, t') can stand in for it directly (the 1/N normalisation cancels). Properties (tested): CKA(X, X) = 1,
/// CKA ∈ [0, 1] (centred Grams are positive semi-definite), invariant to X ↦ XQ (Q orthogonal) and X ↦ cX (c ≠ 0).
[<AbstractClass; Sealed>]
type Cka private () =

    static let checkKernel (name: string) (k: float[,]) =
        let n = k.GetLength 0
        if n < 2 || k.GetLength 1 <> n then
            raise (ParameterOutOfDomainException(name, sprintf "%dx%d" n (k.GetLength 1), "a square kernel of at least 2x2 (samples x samples)"))
        for i in 0 .. n - 1 do
            for j in 0 .. n - 1 do
                if not (Double.IsFinite k.[i, j]) then
                    raise (ParameterOutOfDomainException(name, sprintf "entry (%d,%d) = %g" i j k.[i, j], "finite entries"))
        n

    /// Double centring HKH of a square kernel (row, column and grand means removed).
    static member Center(k: float[,]) : float[,] =
        let n = checkKernel "kernel" k
        let rows = Array.init n (fun i -> Seq.init n (fun j -> k.[i, j]) |> Seq.average)
        let cols = Array.init n (fun j -> Seq.init n (fun i -> k.[i, j]) |> Seq.average)
        let all = Array.average rows
        Array2D.init n n (fun i j -> k.[i, j] - rows.[i] - cols.[j] + all)

    /// Gram matrix XXᵀ (samples × samples) of a representation X (samples × features).
    static member Gram(x: float[,]) : float[,] =
        let n = x.GetLength 0
        let p = x.GetLength 1
        if n < 2 || p < 1 then raise (ParameterOutOfDomainException("representation", sprintf "%dx%d" n p, "at least 2 samples and 1 feature"))
        let g = Array2D.zeroCreate n n
        for i in 0 .. n - 1 do
            for j in i .. n - 1 do
                let mutable s = 0.0
                for f in 0 .. p - 1 do s <- s + x.[i, f] * x.[j, f]
                g.[i, j] <- s
                g.[j, i] <- s
        g

    /// Linear CKA of two kernels over the same samples (square, same size). A kernel whose centred version vanishes (a
    /// representation constant over samples) has no alignment: ParameterOutOfDomainException.
    static member OfKernels(k: float[,], l: float[,]) : float =
        let n = checkKernel "kernel" k
        if checkKernel "kernel2" l <> n then
            raise (ParameterOutOfDomainException("kernel2", sprintf "%dx%d" (l.GetLength 0) (l.GetLength 1), sprintf "the first kernel's size %dx%d" n n))
        let kc = Cka.Center k
        let lc = Cka.Center l
        let mutable kl = 0.0
        let mutable kk = 0.0
        let mutable ll = 0.0
        for i in 0 .. n - 1 do
            for j in 0 .. n - 1 do
                kl <- kl + kc.[i, j] * lc.[i, j]
                kk <- kk + kc.[i, j] * kc.[i, j]
                ll <- ll + lc.[i, j] * lc.[i, j]
        let scale = max (Seq.max (Seq.cast<float> k |> Seq.map abs)) (Seq.max (Seq.cast<float> l |> Seq.map abs))
        if kk <= (1e-14 * scale * float n) ** 2.0 || ll <= (1e-14 * scale * float n) ** 2.0 then
            raise (ParameterOutOfDomainException("kernel", "constant over samples (centred kernel = 0)", "a representation that varies over samples"))
        // Clamp rounding only: for PSD kernels the exact value lies in [0, 1].
        kl / Math.Sqrt(kk * ll) |> max -1.0 |> min 1.0

    /// Linear CKA of two representations (samples × features each, same number of samples).
    static member OfFeatures(x: float[,], y: float[,]) : float =
        if x.GetLength 0 <> y.GetLength 0 then
            raise (ParameterOutOfDomainException("representation2", sprintf "%d samples" (y.GetLength 0), sprintf "the first representation's %d samples" (x.GetLength 0)))
        Cka.OfKernels(Cka.Gram x, Cka.Gram y)

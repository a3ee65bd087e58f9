namespace Theory.Core.MeanField

open System
open Theory.Core

/// Block (population) structure of a random coupling matrix for the mean-field theory: K populations of sizes
/// n_b; every element W_ij with receiver i in population a and sender j in population b is an independent draw
/// with mean Mean[a,b] and variance Variance[a,b]. K = 1 is the i.i.d. matrix of the issue; modularity (block
/// variances) and Dale's column-sign structure are K > 1 instances (see <see cref="CouplingStatistics"/>).
type BlockStructure =
    { /// Population sizes n_b (sum = N).
      Sizes: int[]
      /// Element mean μ_ab (receiver a, sender b).
      Mean: float[,]
      /// Element variance σ²_ab.
      Variance: float[,] }
    /// Number of neurons N = Σ n_b.
    member s.N = Array.sum s.Sizes
    /// Number of populations K.
    member s.K = s.Sizes.Length

/// Coupling statistics derived from the control parameters of Metzner et al. (2025), §2.5 (research note A3).
/// Conventions shared with the engine: W_ij is the weight from sender j (column) to receiver i (row); magnitudes
/// |g|, g ~ N(0, w²), so E|W| = w√(2/π) and E W² = w² for a non-zero element; the probability of a positive sign is
/// p⁺ = (1 + b)/2 [reconstructed mapping, makes E[B] = b].
[<AbstractClass; Sealed>]
type CouplingStatistics private () =
    static let sqrt2pi = Math.Sqrt(2.0 / Math.PI)

    static member private CheckCommon(w: float, d: float, b: float) =
        Validate.NonNegative("w", w) |> ignore
        Validate.InRange("d", d, 0.0, 1.0) |> ignore
        Validate.InRange("b", b, -1.0, 1.0) |> ignore

    /// Mean of one element of the pure matrix: μ = d·b·w·√(2/π) [derived from A3].
    static member PureMean(w: float, d: float, b: float) =
        CouplingStatistics.CheckCommon(w, d, b)
        d * b * w * sqrt2pi

    /// Variance of one element of the pure matrix: σ² = d·w²·(1 − d·b²·2/π) [derived from A3].
    static member PureVariance(w: float, d: float, b: float) =
        CouplingStatistics.CheckCommon(w, d, b)
        d * w * w * (1.0 - d * b * b * 2.0 / Math.PI)

    /// The i.i.d. (K = 1) structure of the pure (and, for the mean field, the Hopfield) matrix of size n.
    static member Pure(n: int, w: float, d: float, b: float) : BlockStructure =
        Validate.PositiveInt("N", n) |> ignore
        { Sizes = [| n |]
          Mean = Array2D.create 1 1 (CouplingStatistics.PureMean(w, d, b))
          Variance = Array2D.create 1 1 (CouplingStatistics.PureVariance(w, d, b)) }

    /// Dale (column-sign) structure with homogeneity h: two sender populations, the columns with Dale sign τ = +1
    /// (size nPlus) and τ = −1 (size n − nPlus). Element mean in a τ-column: d·w·√(2/π)·(h·τ + (1 − h)·b); variance
    /// d·w² − mean² (elements are Dale-signed with probability h, otherwise pure). Pass the realised count of
    /// positive columns, or use <see cref="DaleExpected"/> for nPlus = round(n·(1 + b)/2).
    /// Receivers are statistically identical, so the receiver side has one population; the structure is
    /// represented with K = 2 (rows repeated) so that it fits the block mean field.
    static member Dale(n: int, nPlus: int, w: float, d: float, b: float, h: float) : BlockStructure =
        Validate.PositiveInt("N", n) |> ignore
        if nPlus < 0 || nPlus > n then raise (ParameterOutOfDomainException("nPlus", string nPlus, sprintf "0..%d" n))
        CouplingStatistics.CheckCommon(w, d, b)
        Validate.InRange("h", h, 0.0, 1.0) |> ignore
        let mE = d * w * sqrt2pi * (h + (1.0 - h) * b)
        let mI = d * w * sqrt2pi * (-h + (1.0 - h) * b)
        let vE = d * w * w - mE * mE
        let vI = d * w * w - mI * mI
        { Sizes = [| nPlus; n - nPlus |]
          Mean = array2D [ [ mE; mI ]; [ mE; mI ] ]
          Variance = array2D [ [ vE; vI ]; [ vE; vI ] ] }

    /// Dale structure with the expected number of positive columns round(n·(1 + b)/2).
    static member DaleExpected(n: int, w: float, d: float, b: float, h: float) =
        Validate.PositiveInt("N", n) |> ignore
        Validate.InRange("b", b, -1.0, 1.0) |> ignore
        CouplingStatistics.Dale(n, int (Math.Round(float n * (1.0 + b) / 2.0)), w, d, b, h)

    /// Weak-block scale factor c_w(m). <c>sqrtScaling = true</c> (default [reconstructed]): c_w = √(1 − m);
    /// otherwise the alternative c_w = 1 − m. Both give c_w = 1 at m = 0 and 0 at m = 1, as the paper states.
    static member WeakScale(m: float, sqrtScaling: bool) =
        Validate.InRange("m", m, 0.0, 1.0) |> ignore
        if sqrtScaling then Math.Sqrt(1.0 - m) else 1.0 - m

    /// Strong-block scale factor c_s = √((1 − f_w·c_w²)/f_s), f_w = 1 − f_s, which keeps the total standard
    /// deviation of the matrix at w (paper §2.5: f_s c_s² + f_w c_w² = 1).
    static member StrongScale(m: float, strongFraction: float, sqrtScaling: bool) =
        Validate.InRange("strongFraction", strongFraction, Double.Epsilon, 1.0) |> ignore
        let cw = CouplingStatistics.WeakScale(m, sqrtScaling)
        let fw = 1.0 - strongFraction
        Math.Sqrt((1.0 - fw * cw * cw) / strongFraction)

    /// Modular structure (paper §2.5): K = N/M modules of size M; <paramref name="strong"/> is the K×K label matrix
    /// (receiver module a, sender module b; true = strong block). Elements are |V|·sign with V ~ N(0, (c·w)²) and a
    /// positive sign with probability (1 + b)/2; the matrix is dense (the density d is not used). Block mean
    /// b·c·w·√(2/π), variance c²w² − mean².
    static member Modular(blockSize: int, strong: bool[,], w: float, b: float, m: float, sqrtScaling: bool) : BlockStructure =
        Validate.PositiveInt("M", blockSize) |> ignore
        CouplingStatistics.CheckCommon(w, 1.0, b)
        let k = Array2D.length1 strong
        if Array2D.length2 strong <> k then invalidArg "strong" "the block-label matrix must be square"
        let nStrong = Seq.cast<bool> strong |> Seq.filter id |> Seq.length
        if nStrong = 0 then raise (NoSolutionException "modular structure without any strong block (f_s = 0): the scale c_s is undefined")
        let fs = float nStrong / float (k * k)
        let cw = CouplingStatistics.WeakScale(m, sqrtScaling)
        let cs = CouplingStatistics.StrongScale(m, fs, sqrtScaling)
        let scale a c = if strong.[a, c] then cs else cw
        { Sizes = Array.create k blockSize
          Mean = Array2D.init k k (fun a c -> b * scale a c * w * sqrt2pi)
          Variance = Array2D.init k k (fun a c -> let s = scale a c * w in s * s * (1.0 - b * b * 2.0 / Math.PI)) }

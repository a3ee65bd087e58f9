namespace Theory.Core.RandomMatrix

open System
open Theory.Core
open Theory.Core.MeanField

/// Spectra of random matrices with a block variance profile (Rajan & Abbott 2006; Aljadeff, Stern & Sharpee 2015):
/// for independent elements with block variances σ²_ab and population sizes n_b the bulk is a disc of radius
/// √ρ(n_b σ²_ab); the block means add the eigenvalues of the K×K matrix n_b μ_ab as outliers when they lie outside
/// the disc (low-rank perturbation). Used for modularity (Metzner et al. 2025, §2.5) and, as a lower bound, for Dale:
/// there the column-sign mean is a large non-normal rank-one term whose realised fluctuations push eigenvalues
/// beyond the disc (research note A3), so the disc radius is not the spectral radius.
[<AbstractClass; Sealed>]
type VarianceProfile private () =

    /// Bulk radius √ρ(n_b σ²_ab).
    static member BulkRadius(s: BlockStructure) = BlockMeanField.BulkRadius s

    /// Eigenvalues (real, imaginary) of the mean-coupling matrix n_b μ_ab.
    static member MeanEigenvalues(s: BlockStructure) : (float * float)[] =
        let a = Array2D.init s.K s.K (fun i j -> float s.Sizes.[j] * s.Mean.[i, j])
        if s.K = 1 then [| a.[0, 0], 0.0 |]
        else
            let m = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray a
            m.Evd().EigenValues |> Seq.map (fun c -> c.Real, c.Imaginary) |> Seq.toArray

    /// Predicted outliers: eigenvalues of n_b μ_ab with modulus above the bulk radius.
    static member Outliers(s: BlockStructure) =
        let r = VarianceProfile.BulkRadius s
        VarianceProfile.MeanEigenvalues s |> Array.filter (fun (x, y) -> Math.Sqrt(x * x + y * y) > r)

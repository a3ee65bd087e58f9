namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open MathNet.Numerics.LinearAlgebra

/// Small dense linear-algebra helpers on float[,] used by the closed-loop theory (managed MathNet underneath).
module Linalg =
    /// Matrix product of two float[,] arrays.
    [<CompiledName("Multiply")>]
    let mul (a: float[,]) (b: float[,]) =
        let n, k, m = Array2D.length1 a, Array2D.length2 a, Array2D.length2 b
        if Array2D.length1 b <> k then invalidArg "b" (sprintf "inner dimensions differ: %d vs %d" k (Array2D.length1 b))
        Array2D.init n m (fun i j ->
            let mutable s = 0.0
            for l in 0 .. k - 1 do
                s <- s + a.[i, l] * b.[l, j]
            s)

    /// Identity matrix of size n.
    [<CompiledName("Identity")>]
    let identity n = Array2D.init n n (fun i j -> if i = j then 1.0 else 0.0)

    /// Matrix power a^n (n ≥ 0) by repeated multiplication.
    [<CompiledName("Power")>]
    let power (a: float[,]) (n: int) =
        let mutable r = identity (Array2D.length1 a)
        for _ in 1 .. n do
            r <- mul r a
        r

    /// Transpose.
    [<CompiledName("Transpose")>]
    let transpose (a: float[,]) = Array2D.init (Array2D.length2 a) (Array2D.length1 a) (fun i j -> a.[j, i])

    /// Frobenius norm.
    [<CompiledName("FrobeniusNorm")>]
    let frobenius (a: float[,]) =
        let mutable s = 0.0
        a |> Array2D.iter (fun x -> s <- s + x * x)
        sqrt s

    /// Converts to a MathNet dense matrix.
    let toMatrix (a: float[,]) = Matrix<float>.Build.DenseOfArray a

    /// Eigenvalues of a real square matrix, sorted by modulus (descending), ties by imaginary part (descending).
    [<CompiledName("Eigenvalues")>]
    let eigenvalues (a: float[,]) : Complex[] =
        if Array2D.length1 a <> Array2D.length2 a then invalidArg "a" "matrix must be square"
        let ev = (toMatrix a).Evd().EigenValues.ToArray()
        ev |> Array.sortWith (fun x y ->
            let c = compare y.Magnitude x.Magnitude
            if abs (y.Magnitude - x.Magnitude) > 1e-14 then c else compare y.Imaginary x.Imaginary)

    /// Spectral radius max |λ|.
    [<CompiledName("SpectralRadius")>]
    let spectralRadius (a: float[,]) = eigenvalues a |> Array.map (fun z -> z.Magnitude) |> Array.max

    /// A unit null vector of the complex matrix (a − λI): the right singular vector of the smallest singular value.
    /// Used to compute eigenvectors of an eigenvalue λ found independently.
    [<CompiledName("NullVector")>]
    let eigenvector (a: float[,]) (lambda: Complex) : Complex[] =
        let n = Array2D.length1 a
        let m = Matrix<Complex>.Build.Dense(n, n, fun i j -> Complex(a.[i, j], 0.0) - (if i = j then lambda else Complex.Zero))
        let svd = m.Svd(true)
        let vt = svd.VT
        Array.init n (fun j -> Complex.Conjugate vt.[n - 1, j])

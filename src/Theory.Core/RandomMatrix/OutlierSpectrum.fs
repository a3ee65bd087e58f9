namespace Theory.Core.RandomMatrix

open System
open System.Numerics
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// Eigen-decomposition of a real square matrix A = V D V⁻¹ in MathNet's real block form (2×2 blocks for complex
/// pairs), with each eigenvalue's conjugate partner.
type SpectralDecomposition =
    { /// The matrix decomposed (N×N).
      Matrix: float[,]
      /// Eigenvalues, in MathNet's order (a complex pair occupies two adjacent slots).
      Eigenvalues: Complex[]
      /// Index of the conjugate partner of each eigenvalue (itself for a real eigenvalue).
      Partner: int[]
      /// Real eigenvector matrix V (the two columns of a pair hold the real and imaginary parts).
      Vectors: Matrix<float>
      /// Block-diagonal D with A V = V D.
      Blocks: Matrix<float> }

/// The learned low-rank component and the outliers it predicts.
type OutlierPrediction =
    { /// Rank r of the truncated SVD P_r = A Bᵀ of the perturbation (A = U_r Σ_r, B = V_r).
      Rank: int
      /// All singular values of the perturbation, descending.
      SingularValues: float[]
      /// Fraction of ‖P‖_F² kept by the rank-r truncation.
      RetainedEnergy: float
      /// Order K of the resolvent (Neumann) hierarchy: 0 = eigenvalues of P_r alone (bulk and structure independent).
      Order: int
      /// Every root of det(λ^{K+1} I − Σ_{k≤K} λ^{K−k} M_k) = 0, M_k = Bᵀ X^k A ((K+1)·r values), by |λ| descending.
      Roots: Complex[]
      /// The roots outside the bulk threshold (the predicted outliers), by |λ| descending.
      Outliers: Complex[] }

/// One measured outlier matched to its nearest predicted root.
type OutlierMatch =
    { Measured: Complex
      Predicted: Complex
      /// |measured − predicted|.
      Error: float
      /// The N^{-1/2} fluctuation scale σ_λ at the measured outlier (see OutlierSpectrum.Fluctuation).
      Fluctuation: float }

/// Measured outliers against a prediction.
type OutlierComparison =
    { Matches: OutlierMatch[]
      /// Number of measured outliers.
      MeasuredCount: int
      /// Number of predicted outliers (roots outside the threshold).
      PredictedCount: int
      /// max over matches of Error / Fluctuation (0 when there is no outlier).
      MaxScaledError: float
      /// Mean |measured − predicted| over the matches (NaN-free: 0 when there is no outlier).
      MeanError: float }

/// A matrix with a set of eigenvalues removed (set to zero) by subtracting their spectral component.
type Ablation =
    { /// A − Σ_{k∈S} (spectral component of λ_k): the eigenvalues in S become 0, all others and their eigenvectors stay.
      Matrix: float[,]
      /// The eigenvalues removed (closed under conjugation).
      Removed: Complex[]
      /// Frobenius norm of the subtracted component.
      RemovedNorm: float }

/// <summary>Outlier eigenvalues of a random bulk plus a (learned) low-rank structure (Clark et al. 2026: "outlier eigenvalues
/// emerge from the random bulk, several in complex-conjugate pairs"; note dmft-learned.md §3.5).
/// <para>Bulk: X = (g/√N)J0 with i.i.d. unit-variance J0 has the circular law of radius g. At finite N the density falls
/// off over a width O(g/√N) at the edge (complex Ginibre: ½erfc(√(2N)(|z|/g − 1)), Forrester &amp; Nagao); an eigenvalue
/// is an outlier when |λ| &gt; g(1 + κ/√N), κ = 2 by default [reconstructed choice]: the expected number of Ginibre
/// eigenvalues beyond it is N·∫ erfc(√(2N)(r−1)) r dr ≈ √(N/2)·∫_{2√2}^∞ erfc ≈ 1e-4·√N (tested on random matrices).</para>
/// <para>Prediction: for X + P with P = A Bᵀ of rank r, an eigenvalue λ outside the spectrum of X solves
/// det(I_r − Bᵀ(λ − X)⁻¹A) = 0 (determinant lemma; Rajan &amp; Abbott 2006, Tao 2013). Expanding the resolvent,
/// Bᵀ(λ − X)⁻¹A = Σ_k M_k/λ^{k+1}, M_k = Bᵀ X^k A. Truncating at order K gives a polynomial eigenproblem, solved by its
/// block-companion linearisation. Order 0 is Tao's outlier theorem (P independent of the bulk): the outliers are the
/// eigenvalues of P with |λ| &gt; g, up to O(N^{-1/2}). Orders K ≥ 1 add the bulk–structure overlaps M_k, which a
/// learned ΔJ has because training sees J0 (Schuessler et al. 2020); as K → ∞ the roots outside the bulk converge to
/// the outliers of X + P_r exactly.</para></summary>
[<AbstractClass; Sealed>]
type OutlierSpectrum private () =

    static let toMatrix (a: float[,]) = Matrix<float>.Build.DenseOfArray a

    static let checkSquare (name: string) (a: float[,]) =
        let n = a.GetLength 0
        if n < 1 || a.GetLength 1 <> n then
            raise (ParameterOutOfDomainException(name, sprintf "%dx%d" n (a.GetLength 1), "a non-empty square matrix"))
        for i in 0 .. n - 1 do
            for j in 0 .. n - 1 do
                if not (Double.IsFinite a.[i, j]) then
                    raise (ParameterOutOfDomainException(name, sprintf "entry (%d,%d) = %g" i j a.[i, j], "finite entries"))
        n

    static let byModulus (zs: Complex[]) = zs |> Array.sortByDescending (fun z -> z.Magnitude)

    /// Default κ of the outside-the-bulk threshold g(1 + κ/√N).
    static member DefaultKappa = 2.0

    /// The outside-the-bulk threshold g(1 + κ/√N) for a bulk of radius g and size N.
    static member Threshold(g: float, n: int, kappa: float) : float =
        Validate.Positive("g", g) |> ignore
        Validate.PositiveInt("N", n) |> ignore
        Validate.NonNegative("kappa", kappa) |> ignore
        g * (1.0 + kappa / Math.Sqrt(float n))

    /// Standard deviation scale of an outlier's position at finite N, σ_λ = g|λ| / √(N(|λ|² − g²)): for X + θuuᵀ with
    /// u independent of X, uᵀ(λ−X)⁻¹u = 1/λ + ε with Var ε ≈ Σ_{k≥1} g^{2k}/(N|λ|^{2k+2}) = g²/(N|λ|²(|λ|²−g²)), and
    /// θ(1/λ + ε) = 1 moves the root by δλ ≈ λ²ε (derived; the constant is exact for a normal rank-one structure,
    /// indicative otherwise). +∞ for |λ| ≤ g (inside the bulk there is no outlier to locate).
    static member Fluctuation(g: float, n: int, lambda: Complex) : float =
        Validate.Positive("g", g) |> ignore
        Validate.PositiveInt("N", n) |> ignore
        let m = lambda.Magnitude
        if m <= g then Double.PositiveInfinity else g * m / Math.Sqrt(float n * (m * m - g * g))

    /// Eigen-decomposition (MathNet's nonsymmetric EVD, managed; ≈ 1 s at N = 400).
    static member Decompose(a: float[,]) : SpectralDecomposition =
        let n = checkSquare "matrix" a
        let evd = (toMatrix a).Evd(Symmetricity.Asymmetric)
        let d = evd.D
        let partner =
            Array.init n (fun i ->
                if i + 1 < n && d.[i, i + 1] <> 0.0 then i + 1
                elif i > 0 && d.[i, i - 1] <> 0.0 then i - 1
                else i)
        { Matrix = Array2D.copy a
          Eigenvalues = evd.EigenValues.ToArray()
          Partner = partner
          Vectors = evd.EigenVectors
          Blocks = d }

    /// Eigenvalues of a real square matrix.
    static member Eigenvalues(a: float[,]) : Complex[] =
        checkSquare "matrix" a |> ignore
        (toMatrix a).Evd(Symmetricity.Asymmetric).EigenValues.ToArray()

    /// The eigenvalues with |λ| &gt; g(1 + κ/√N), by modulus descending.
    static member Outliers(eigenvalues: Complex[], g: float, n: int, kappa: float) : Complex[] =
        let t = OutlierSpectrum.Threshold(g, n, kappa)
        eigenvalues |> Array.filter (fun z -> z.Magnitude > t) |> byModulus

    /// Indices (into a decomposition) of its outliers, |λ| &gt; g(1 + κ/√N) with N the matrix size.
    static member OutlierIndices(dec: SpectralDecomposition, g: float, kappa: float) : int[] =
        let n = dec.Eigenvalues.Length
        let t = OutlierSpectrum.Threshold(g, n, kappa)
        [| for i in 0 .. n - 1 do if dec.Eigenvalues.[i].Magnitude > t then yield i |]

    /// Truncated SVD P_r = A Bᵀ of a perturbation: A = U_r Σ_r and B = V_r (N×r each), the singular values and the
    /// retained fraction of ‖P‖_F².
    static member LowRank(p: float[,], rank: int) : float[,] * float[,] * float[] * float =
        let n = checkSquare "perturbation" p
        Validate.AtLeast("rank", rank, 1) |> ignore
        if rank > n then raise (ParameterOutOfDomainException("rank", string rank, sprintf "1 .. N = %d" n))
        let svd = (toMatrix p).Svd(true)
        let s = svd.S.ToArray()
        let u = svd.U
        let vt = svd.VT
        let a = Array2D.init n rank (fun i k -> u.[i, k] * s.[k])
        let b = Array2D.init n rank (fun i k -> vt.[k, i])
        let total = s |> Array.sumBy (fun x -> x * x)
        let kept = s |> Array.take rank |> Array.sumBy (fun x -> x * x)
        a, b, s, (if total > 0.0 then kept / total else 1.0)

    /// Smallest rank whose truncated SVD keeps at least <c>energy</c> of ‖P‖_F², capped at <c>maxRank</c>.
    static member ChooseRank(singularValues: float[], energy: float, maxRank: int) : int =
        Validate.InRange("energy", energy, 0.0, 1.0) |> ignore
        Validate.AtLeast("maxRank", maxRank, 1) |> ignore
        let total = singularValues |> Array.sumBy (fun x -> x * x)
        if total = 0.0 then 1
        else
            let mutable acc = 0.0
            let mutable r = 0
            while r < singularValues.Length && r < maxRank && acc < energy * total do
                acc <- acc + singularValues.[r] * singularValues.[r]
                r <- r + 1
            max 1 r

    /// Outliers of bulk + perturbation predicted from the rank-r truncation of the perturbation at resolvent order K
    /// (see the type). <c>bulk</c> is X (e.g. (g/√N)J0), <c>perturbation</c> P (e.g. (g/√N)(J − J0)); g is the bulk
    /// radius used for the threshold g(1 + κ/√N).
    static member Predict(bulk: float[,], perturbation: float[,], rank: int, order: int, g: float, kappa: float) : OutlierPrediction =
        let n = checkSquare "bulk" bulk
        if checkSquare "perturbation" perturbation <> n then
            raise (ParameterOutOfDomainException("perturbation", "size differs from the bulk", "the same N×N size"))
        Validate.AtLeast("order", order, 0) |> ignore
        let t = OutlierSpectrum.Threshold(g, n, kappa)
        let a, b, s, retained = OutlierSpectrum.LowRank(perturbation, rank)
        let x = toMatrix bulk
        let am = toMatrix a
        let bt = (toMatrix b).Transpose()
        // M_k = Bᵀ X^k A, k = 0..K.
        let ms = Array.zeroCreate (order + 1)
        let mutable y = am
        for k in 0 .. order do
            ms.[k] <- bt * y
            if k < order then y <- x * y
        let r = rank
        let size = (order + 1) * r
        let comp = Matrix<float>.Build.Dense(size, size)
        for k in 0 .. order do
            comp.SetSubMatrix(0, k * r, ms.[k])
        for blk in 1 .. order do
            for i in 0 .. r - 1 do
                comp.[blk * r + i, (blk - 1) * r + i] <- 1.0
        let roots = comp.Evd(Symmetricity.Asymmetric).EigenValues.ToArray() |> byModulus
        { Rank = r
          SingularValues = s
          RetainedEnergy = retained
          Order = order
          Roots = roots
          Outliers = roots |> Array.filter (fun z -> z.Magnitude > t) }

    /// Matches every measured outlier to its nearest root of the prediction (greedy on distance, each root used once;
    /// when there are more outliers than roots the rest stay unmatched and count as a mismatch).
    static member Compare(measured: Complex[], prediction: OutlierPrediction, g: float, n: int) : OutlierComparison =
        let roots = prediction.Roots
        let pairs =
            [| for i in 0 .. measured.Length - 1 do
                 for j in 0 .. roots.Length - 1 -> (Complex.Abs(measured.[i] - roots.[j]), i, j) |]
            |> Array.sortBy (fun (d, _, _) -> d)
        let usedM = Array.zeroCreate measured.Length
        let usedP = Array.zeroCreate roots.Length
        let matches = Collections.Generic.List<OutlierMatch>()
        for (d, i, j) in pairs do
            if not usedM.[i] && not usedP.[j] then
                usedM.[i] <- true
                usedP.[j] <- true
                matches.Add { Measured = measured.[i]; Predicted = roots.[j]; Error = d; Fluctuation = OutlierSpectrum.Fluctuation(g, n, measured.[i]) }
        let ms = matches.ToArray() |> Array.sortByDescending (fun m -> m.Measured.Magnitude)
        { Matches = ms
          MeasuredCount = measured.Length
          PredictedCount = prediction.Outliers.Length
          MaxScaledError = (if ms.Length = 0 then 0.0 else ms |> Array.map (fun m -> m.Error / m.Fluctuation) |> Array.max)
          MeanError = (if ms.Length = 0 then 0.0 else ms |> Array.averageBy (fun m -> m.Error)) }

    /// Closes an index set under conjugation (a pair is removed together, so the ablated matrix stays real).
    static member Close(dec: SpectralDecomposition, indices: int[]) : int[] =
        let n = dec.Eigenvalues.Length
        for i in indices do
            if i < 0 || i >= n then raise (ParameterOutOfDomainException("indices", string i, sprintf "0 .. %d" (n - 1)))
        indices |> Array.collect (fun i -> [| i; dec.Partner.[i] |]) |> Array.distinct |> Array.sort

    /// Removes the eigenvalues with the given indices (closed under conjugation): A − V D_S V⁻¹, with D_S the blocks of
    /// the selected eigenvalues. The removed eigenvalues become 0; every other eigenpair is unchanged.
    static member Ablate(dec: SpectralDecomposition, indices: int[]) : Ablation =
        let sel = OutlierSpectrum.Close(dec, indices)
        let n = dec.Eigenvalues.Length
        if sel.Length = 0 then { Matrix = Array2D.copy dec.Matrix; Removed = [||]; RemovedNorm = 0.0 }
        else
            let v = dec.Vectors
            // Rows of V⁻¹ for the selected indices: solve Vᵀ L = E_S.
            let e = Matrix<float>.Build.Dense(n, sel.Length, fun i c -> if i = sel.[c] then 1.0 else 0.0)
            let l = v.Transpose().LU().Solve(e) // column c = row sel[c] of V⁻¹
            // V D_S restricted to the selected columns: (V D)[:, s] = Σ_{t∈S} V[:, t] D[t, s] (blocks stay inside S).
            let vd = Matrix<float>.Build.Dense(n, sel.Length)
            for c in 0 .. sel.Length - 1 do
                for c2 in 0 .. sel.Length - 1 do
                    let dts = dec.Blocks.[sel.[c2], sel.[c]]
                    if dts <> 0.0 then vd.SetColumn(c, vd.Column(c) + dts * v.Column(sel.[c2]))
            let comp = vd * l.Transpose()
            let m = Array2D.init n n (fun i j -> dec.Matrix.[i, j] - comp.[i, j])
            { Matrix = m; Removed = sel |> Array.map (fun i -> dec.Eigenvalues.[i]); RemovedNorm = comp.FrobeniusNorm() }

    /// A random set of bulk eigenvalues (|λ| ≤ g(1 + κ/√N)) with <c>count</c> members, closed under conjugation: bulk
    /// eigenvalues (a pair as one unit of two) in a seeded random order, each taken if it still fits; the size can fall
    /// short of <c>count</c> by one when only pairs remain.
    static member RandomBulkIndices(dec: SpectralDecomposition, count: int, g: float, kappa: float, rng: Rng) : int[] =
        Validate.AtLeast("count", count, 0) |> ignore
        let n = dec.Eigenvalues.Length
        let t = OutlierSpectrum.Threshold(g, n, kappa)
        let units = [| for i in 0 .. n - 1 do if dec.Eigenvalues.[i].Magnitude <= t && dec.Partner.[i] >= i then yield i |]
        // Fisher–Yates with the seeded generator.
        for i in units.Length - 1 .. -1 .. 1 do
            let j = rng.NextInt(i + 1)
            let tmp = units.[i]
            units.[i] <- units.[j]
            units.[j] <- tmp
        let chosen = Collections.Generic.List<int>()
        for u in units do
            let size = if dec.Partner.[u] = u then 1 else 2
            if chosen.Count + size <= count then
                chosen.Add u
                if size = 2 then chosen.Add dec.Partner.[u]
        chosen.ToArray() |> Array.sort

    /// A random rank-r matrix Σ_k a_k b_kᵀ (Gaussian a, b, seeded) scaled to Frobenius norm <c>norm</c>: the
    /// "random direction" control of an ablation.
    static member RandomDirection(n: int, rank: int, norm: float, rng: Rng) : float[,] =
        Validate.PositiveInt("N", n) |> ignore
        Validate.AtLeast("rank", rank, 1) |> ignore
        Validate.NonNegative("norm", norm) |> ignore
        let a = Array.init rank (fun _ -> rng.Gaussians n)
        let b = Array.init rank (fun _ -> rng.Gaussians n)
        let m = Array2D.init n n (fun i j -> Array.fold2 (fun s (ak: float[]) (bk: float[]) -> s + ak.[i] * bk.[j]) 0.0 a b)
        let f = Math.Sqrt(Seq.sum (seq { for i in 0 .. n - 1 do for j in 0 .. n - 1 -> m.[i, j] * m.[i, j] }))
        if f = 0.0 then m else Array2D.map (fun x -> x * norm / f) m

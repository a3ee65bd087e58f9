/// Outlier eigenvalues (bulk threshold, low-rank prediction, ablation), linear CKA and the kernel-alignment γ estimator
/// (docs/dmft-spectrum.md).
module Theory.Tests.DmftSpectrumTests

open System
open System.Numerics
open Expecto
open FsCheck
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.Dmft
open Theory.Core.RandomMatrix
open Theory.Tests.TestUtil

/// (g/√N)·Ginibre, seeded.
let private ginibre (n: int) (g: float) (seed: int64) =
    let rng = Rng.ForStream(seed, 1L)
    let c = g / Math.Sqrt(float n)
    Array2D.init n n (fun _ _ -> c * rng.NextGaussian())

/// N×r matrix with orthonormal columns, independent of the bulk (its own stream).
let private orthonormal (n: int) (r: int) (seed: int64) =
    let rng = Rng.ForStream(seed, 2L)
    let z = Matrix<float>.Build.Dense(n, r, fun _ _ -> rng.NextGaussian())
    z.QR().Q.SubMatrix(0, n, 0, r)

/// Planted normal structure Q D Qᵀ with eigenvalues 1.8 and 1.3 ± 0.9i (g = 1).
let private planted (n: int) (seed: int64) =
    let d = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.8; 0.0; 0.0 ]; [ 0.0; 1.3; -0.9 ]; [ 0.0; 0.9; 1.3 ] ])
    let q = orthonormal n 3 seed
    (q * d * q.Transpose()).ToArray()

let private truth = [| Complex(1.8, 0.0); Complex(1.3, 0.9); Complex(1.3, -0.9) |]

let private add (a: float[,]) (b: float[,]) = Array2D.init (a.GetLength 0) (a.GetLength 1) (fun i j -> a.[i, j] + b.[i, j])

let private fsConfig = { FsCheckConfig.defaultConfig with maxTest = 60 }

let private randomMatrix (seed: int) (rows: int) (cols: int) =
    let rng = Rng.ForStream(int64 seed, 9L)
    Array2D.init rows cols (fun _ _ -> rng.NextGaussian())

[<Tests>]
let tests =
    testList "DmftSpectrum" [
        test "no Ginibre eigenvalue beyond the threshold g(1 + 2/sqrt N), and the edge is reached (N = 100, 200; 4 seeds)" {
            // Expected count beyond the threshold ≈ 1e-4·√N (erfc edge, see OutlierSpectrum): none may appear; the
            // largest modulus must still come within 3/√N of g, or the threshold would be testing nothing.
            for n in [ 100; 200 ] do
                for s in 1L .. 4L do
                    let g = 1.5
                    let eig = OutlierSpectrum.Eigenvalues(ginibre n g s)
                    Expect.isEmpty (OutlierSpectrum.Outliers(eig, g, n, OutlierSpectrum.DefaultKappa)) (sprintf "N = %d, seed %d" n s)
                    let rmax = eig |> Array.map (fun z -> z.Magnitude) |> Array.max
                    Expect.isGreaterThan rmax (g * (1.0 - 3.0 / Math.Sqrt(float n))) "the bulk reaches the edge"
        }
        test "planted independent low rank: order-0 prediction within 5 sigma_lambda, error shrinking with N (N = 100, 400; 3 seeds)" {
            // σ_λ = g|λ|/√(N(|λ|²−g²)) is the N^{-1/2} outlier fluctuation (OutlierSpectrum.Fluctuation); going from
            // N = 100 to 400 halves it, so the mean error must fall (ratio expected 0.5; bound 0.8 for 9 outliers).
            let meanErr n =
                [ for s in 1L .. 3L do
                    let x = ginibre n 1.0 (100L + s)
                    let p = planted n (100L + s)
                    let eig = OutlierSpectrum.Eigenvalues(add x p)
                    let outs = OutlierSpectrum.Outliers(eig, 1.0, n, 2.0)
                    Expect.equal outs.Length 3 (sprintf "three outliers at N = %d" n)
                    let pred = OutlierSpectrum.Predict(x, p, 3, 0, 1.0, 2.0)
                    for z in truth do
                        Expect.isTrue (pred.Roots |> Array.exists (fun r -> Complex.Abs(r - z) < 1e-10)) "order 0 = eigenvalues of P"
                    let cmp = OutlierSpectrum.Compare(outs, pred, 1.0, n)
                    Expect.isLessThanOrEqual cmp.MaxScaledError 5.0 (sprintf "within 5 sigma at N = %d" n)
                    yield cmp.MeanError ] |> List.average
            let e100 = meanErr 100
            let e400 = meanErr 400
            Expect.isLessThan e400 (0.8 * e100) (sprintf "mean error %g (N = 400) vs %g (N = 100)" e400 e100)
        }
        test "resolvent hierarchy converges to the exact outliers of a structure correlated with the bulk" {
            // P = A Bᵀ with A built from X itself: order 0 ignores Bᵀ X^k A; order 60 must reproduce eig(X + P) outside
            // the bulk to 1e-6 (Neumann series at |λ| ≥ 2 vs spectral radius ≈ 1: ratio ≲ 0.55 per order).
            let n = 120
            let x = ginibre n 1.0 7L
            let xm = Matrix<float>.Build.DenseOfArray x
            let q = orthonormal n 2 7L
            let u1, u2 = q.Column 0, q.Column 1
            let a1 = 2.6 * u1 + xm * u1
            let a2 = 2.2 * u2 + xm * (xm * u2)
            let a = Matrix<float>.Build.DenseOfColumnVectors [ a1; a2 ]
            let p = (a * q.Transpose()).ToArray()
            let outs = OutlierSpectrum.Outliers(OutlierSpectrum.Eigenvalues(add x p), 1.0, n, 2.0) |> Array.filter (fun z -> z.Magnitude > 1.8)
            Expect.isGreaterThanOrEqual outs.Length 1 "an outlier far from the bulk"
            let predK = OutlierSpectrum.Predict(x, p, 2, 60, 1.0, 2.0)
            let cmp = OutlierSpectrum.Compare(outs, predK, 1.0, n)
            for m in cmp.Matches do Expect.isLessThan m.Error 1e-6 (sprintf "outlier %O vs root %O" m.Measured m.Predicted)
        }
        test "ablation removes exactly the selected eigenvalues; draws are reproducible" {
            let n = 80
            let a = add (ginibre n 1.0 11L) (planted n 11L)
            let dec = OutlierSpectrum.Decompose a
            let idx = OutlierSpectrum.OutlierIndices(dec, 1.0, 2.0)
            Expect.equal idx.Length 3 "three outliers"
            let abl = OutlierSpectrum.Ablate(dec, idx)
            let after = OutlierSpectrum.Eigenvalues abl.Matrix
            let expected = dec.Eigenvalues |> Array.mapi (fun i z -> if Array.contains i idx then Complex.Zero else z)
            // Multiset equality by greedy nearest matching (each computed eigenvalue used once).
            let used = Array.zeroCreate after.Length
            for e in expected do
                let j = [| 0 .. after.Length - 1 |] |> Array.filter (fun j -> not used.[j]) |> Array.minBy (fun j -> Complex.Abs(after.[j] - e))
                used.[j] <- true
                Expect.isLessThan (Complex.Abs(after.[j] - e)) 1e-8 "remaining spectrum unchanged, removed ones at 0"
            Expect.isGreaterThan abl.RemovedNorm 0.0 "a non-zero component removed"
            // Selecting one member of a conjugate pair removes both (the matrix stays real).
            let pairIdx = idx |> Array.find (fun i -> dec.Eigenvalues.[i].Imaginary <> 0.0)
            Expect.equal (OutlierSpectrum.Close(dec, [| pairIdx |]).Length) 2 "pair closed under conjugation"
            let b1 = OutlierSpectrum.RandomBulkIndices(dec, 3, 1.0, 2.0, Rng.ForStream(5L, 1L))
            let b2 = OutlierSpectrum.RandomBulkIndices(dec, 3, 1.0, 2.0, Rng.ForStream(5L, 1L))
            let b3 = OutlierSpectrum.RandomBulkIndices(dec, 3, 1.0, 2.0, Rng.ForStream(6L, 1L))
            Expect.equal b1 b2 "same seed, same bulk draw"
            Expect.notEqual b1 b3 "another seed, another draw"
            Expect.isTrue (b1.Length >= 2 && b1.Length <= 3) "count matched up to one (pairs)"
            Expect.isTrue (b1 |> Array.forall (fun i -> not (Array.contains i idx))) "bulk draws avoid the outliers"
            let r1 = OutlierSpectrum.RandomDirection(n, 3, 2.5, Rng.ForStream(5L, 2L))
            let r2 = OutlierSpectrum.RandomDirection(n, 3, 2.5, Rng.ForStream(5L, 2L))
            Expect.equal r1 r2 "same seed, same bits"
            Expect.floatClose { absolute = 1e-12; relative = 1e-12 } (Matrix<float>.Build.DenseOfArray(r1).FrobeniusNorm()) 2.5 "Frobenius norm as asked"
            Expect.equal (Matrix<float>.Build.DenseOfArray(r1).Rank()) 3 "rank as asked"
        }
        test "spectral functions reject bad input" {
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.Threshold(0.0, 10, 2.0) |> ignore) "g = 0"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.Eigenvalues(Array2D.zeroCreate 2 3) |> ignore) "not square"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.Eigenvalues(array2D [ [ nan ] ]) |> ignore) "NaN entry"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.LowRank(ginibre 5 1.0 1L, 6) |> ignore) "rank > N"
            let dec = OutlierSpectrum.Decompose(ginibre 5 1.0 1L)
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.Ablate(dec, [| 5 |]) |> ignore) "index out of range"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> OutlierSpectrum.Predict(ginibre 5 1.0 1L, ginibre 4 1.0 1L, 1, 0, 1.0, 2.0) |> ignore) "sizes differ"
        }
        testPropertyWithConfig fsConfig "CKA(X, X) = 1, CKA in [0, 1], invariant to orthogonal transforms and isotropic scaling" <| fun (seed: int) (scale: NormalFloat) ->
            let c = let v = abs scale.Get % 10.0 in if v < 1e-3 then 1.7 else v
            let x = randomMatrix seed 8 5
            let y = randomMatrix (seed + 1) 8 3
            let rng = Rng.ForStream(int64 seed, 10L)
            let q = Matrix<float>.Build.Dense(5, 5, fun _ _ -> rng.NextGaussian()).QR().Q
            let xq = (Matrix<float>.Build.DenseOfArray x * q * c).ToArray()
            let k = Cka.OfFeatures(x, y)
            abs (Cka.OfFeatures(x, x) - 1.0) < 1e-12
            && k >= 0.0 && k <= 1.0
            && abs (Cka.OfFeatures(xq, y) - k) < 1e-10
            && abs (Cka.OfFeatures(y, x) - k) < 1e-12
        test "CKA closed form on a hand case: one feature each, CKA = squared correlation = 3/4" {
            // centred x = (−1, 0, 1), y = (2, −1, −1)/3: (x·y)² / (|x|²|y|²) = 1 / (2 · 6/9) = 3/4.
            let k = Cka.OfFeatures(array2D [ [ 1.0 ]; [ 2.0 ]; [ 3.0 ] ], array2D [ [ 1.0 ]; [ 0.0 ]; [ 0.0 ] ])
            Expect.floatClose { absolute = 1e-14; relative = 0.0 } k 0.75 "3/4"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Cka.OfFeatures(array2D [ [ 1.0 ]; [ 1.0 ] ], array2D [ [ 1.0 ]; [ 2.0 ] ]) |> ignore) "constant representation"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> Cka.OfKernels(Array2D.zeroCreate 3 3, Array2D.zeroCreate 2 2) |> ignore) "size mismatch"
        }
        test "gamma estimator recovers gamma on synthetic Gaussian networks (C(gamma) = C0 + gamma^2 y y^T, N = 2000)" {
            // Neurons i.i.d. N(0, C(γ_true)); K → C(γ_true) with O(N^{-1/2}) error; the references are interpolated
            // linearly in γ (step 0.25: interpolation error in γ ≲ 0.02). Tolerance: 3 bootstrap s.d. + 0.03.
            let n = 30
            let c0 = Array2D.init n n (fun a b -> Math.Exp(-abs (float (a - b)) / 4.0))
            let y = Array.init n (fun k -> Math.Sin(2.0 * Math.PI * float k / float n))
            let cOf gm = Array2D.init n n (fun a b -> c0.[a, b] + gm * gm * y.[a] * y.[b])
            let refs = Array.init 9 (fun j -> let gm = 0.25 * float j in gm, cOf gm)
            for gTrue in [ 0.6; 1.3 ] do
                let chol = Matrix<float>.Build.DenseOfArray(cOf gTrue).Cholesky().Factor
                let rng = Rng.ForStream(31L, int64 (gTrue * 10.0))
                let nn = 2000
                let z = Matrix<float>.Build.Dense(n, nn, fun _ _ -> rng.NextGaussian())
                let rates = (chol * z).ToArray()
                let est = KernelAlignment.EstimateFromRates(rates, refs, 20, 20, 5L)
                Expect.isLessThanOrEqual (abs (est.Estimate.Gamma - gTrue)) (3.0 * est.StdDev + 0.03) (sprintf "gamma-hat %g ± %g vs %g" est.Estimate.Gamma est.StdDev gTrue)
                Expect.isFalse est.Estimate.AtBoundary "interior maximum"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> KernelAlignment.Estimate(c0, [| 0.0, c0 |], 10) |> ignore) "one reference"
            Expect.throwsT<ParameterOutOfDomainException> (fun () -> KernelAlignment.Estimate(c0, [| 1.0, c0; 0.5, c0 |], 10) |> ignore) "descending"
        }
        test "CLI: dmft outliers and dmft cka reject bad input with exit 2" {
            let code, _, err = runCli [ "dmft"; "outliers"; "--g"; "1.5"; "--gamma"; "-1"; "--json" ]
            Expect.equal code 2 (sprintf "negative gamma: %s" err)
            let code2, _, err2 = runCli [ "dmft"; "cka"; "--g"; "1.5"; "--gammas"; "1,0.5"; "--true-gamma"; "1"; "--json" ]
            Expect.equal code2 2 (sprintf "descending gammas: %s" err2)
        }
    ]

module Theory.Tests.NumericsTests

open System
open Expecto
open FsCheck
open Theory.Core
open Theory.Core.Numerics
open Theory.Tests.TestUtil

let private f (g: float -> float) = Func<float, float> g

[<Tests>]
let tests =
    testList "Numerics" [
        testList "GaussianQuadrature" [
            test "trapezoid moments of N(0,1) are exact to 1e-14" {
                let r = GaussianQuadrature.Default
                Expect.floatClose (accuracy 1e-14 0.0) (Array.sum r.Weights) 1.0 "weights sum"
                Expect.floatClose (accuracy 1e-13 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z * z))) 1.0 "E z^2"
                Expect.floatClose (accuracy 1e-12 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 4.0))) 3.0 "E z^4"
                Expect.floatClose (accuracy 1e-11 0.0) (GaussianQuadrature.Expect(r, 2.0, f (fun z -> z ** 6.0))) (15.0 * 8.0) "E x^6, var 2"
            }
            test "Gauss-Hermite is exact for polynomials of degree <= 2n-1" {
                let r = GaussianQuadrature.Hermite 10
                Expect.floatClose (accuracy 1e-13 0.0) (Array.sum r.Weights) 1.0 "weights sum"
                Expect.floatClose (accuracy 0.0 1e-12) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 18.0))) 34459425.0 "E z^18 = 17!!"
                Expect.floatClose (accuracy 1e-14 0.0) (GaussianQuadrature.Expect(r, 1.0, f (fun z -> z ** 7.0))) 0.0 "odd moment"
            }
            test "E[cos(a z)] = exp(-a^2/2) by both rules" {
                for a in [ 0.5; 1.0; 2.0 ] do
                    let exact = Math.Exp(-a * a / 2.0)
                    Expect.floatClose (accuracy 1e-14 0.0) (GaussianQuadrature.Expect(GaussianQuadrature.Default, 1.0, f (fun z -> cos (a * z)))) exact "trapezoid"
                    Expect.floatClose (accuracy 1e-12 0.0) (GaussianQuadrature.Expect(GaussianQuadrature.Hermite 60, 1.0, f (fun z -> cos (a * z)))) exact "Gauss-Hermite 60"
            }
            test "nested square: E[x1 x2] = cov for jointly Gaussian pairs" {
                let v = GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 0.7, 2.0, f id)
                Expect.floatClose (accuracy 1e-13 0.0) v 0.7 "E[ab] = cov"
                // E[cos a cos b] = e^{-var0} cosh(cov)
                let w = GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 0.3, 1.2, f cos)
                Expect.floatClose (accuracy 1e-13 0.0) w (Math.Exp(-1.2) * Math.Cosh 0.3) "E[cos a cos b]"
            }
            test "nested square rejects cov outside [0, var0]" {
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> GaussianQuadrature.NestedSquare(GaussianQuadrature.Default, 1.5, 1.0, f id) |> ignore) "cov > var0"
            }
        ]
        testList "RootFinding" [
            test "Brent finds sqrt 2 and cos x = x" {
                match RootFinding.Brent(f (fun x -> x * x - 2.0), 0.0, 2.0) with
                | Ok r -> Expect.floatClose (accuracy 1e-14 0.0) r.Root (sqrt 2.0) "sqrt 2"
                | Error e -> failtestf "%O" e
                match RootFinding.Brent(f (fun x -> cos x - x), 0.0, 1.0) with
                | Ok r -> Expect.floatClose (accuracy 1e-14 0.0) r.Root 0.7390851332151607 "Dottie number"
                | Error e -> failtestf "%O" e
            }
            test "Brent returns a typed failure when no root is bracketed" {
                match RootFinding.Brent(f (fun x -> x * x + 1.0), -1.0, 1.0) with
                | Ok r -> failtestf "found a root %g of x^2+1" r.Root
                | Error e ->
                    Expect.equal e.Solver "Brent" "solver"
                    Expect.stringContains e.Reason "no sign change" "reason"
            }
            test "Bisection agrees with Brent" {
                let g = f (fun x -> x ** 3.0 - x - 1.0)
                match RootFinding.Bisection(g, 1.0, 2.0, 1e-13, 200), RootFinding.Brent(g, 1.0, 2.0) with
                | Ok a, Ok b -> Expect.floatClose (accuracy 1e-12 0.0) a.Root b.Root "plastic number"
                | _ -> failtest "did not converge"
            }
            testProperty "Brent solves x^3 = c for any c in [-100, 100]" <| fun (NormalFloat c0) ->
                let c = max -100.0 (min 100.0 c0)
                match RootFinding.Brent(f (fun x -> x * x * x - c), -5.0, 5.0) with
                | Ok r -> abs (r.Root - Math.Cbrt c) < 1e-12
                | Error _ -> false
        ]
        testList "Dual" [
            testProperty "d/dx tanh(x^2) sin x matches the closed form" <| fun (NormalFloat x0) ->
                let x = max -3.0 (min 3.0 x0)
                let d = Dual.Var x
                let y = Dual.Tanh(d * d) * Dual.Sin d
                let t = tanh (x * x)
                let exact = (1.0 - t * t) * 2.0 * x * sin x + t * cos x
                abs (y.Derivative - exact) < 1e-12
        ]
        testList "Rng" [
            test "same seed, same bits; different seeds differ" {
                let a = Rng(42).Gaussians 100
                let b = Rng(42).Gaussians 100
                let c = Rng(43).Gaussians 100
                Expect.sequenceEqual a b "same seed"
                Expect.isFalse (a = c) "different seed"
            }
            test "Gaussian deviates have mean 0 and variance 1 within 5 standard errors" {
                let n = 200000
                let xs = Rng(7).Gaussians n
                let m = Array.average xs
                let v = xs |> Array.averageBy (fun x -> (x - m) ** 2.0)
                Expect.isLessThan (abs m) (5.0 / sqrt (float n)) "mean"
                Expect.isLessThan (abs (v - 1.0)) (5.0 * sqrt (2.0 / float n)) "variance"
            }
            test "ziggurat: every layer has the common area V to 1e-12 (relative), and V = R f(R) + tail" {
                let x = ZigguratTables.x
                let v = ZigguratTables.layerArea
                let f (t: float) = exp (-0.5 * t * t)
                let r = ZigguratTables.tailStart
                // base strip: the rectangle x[0]·f(R) and, beyond R, the tail ∫_R^∞ f = √(π/2) erfc(R/√2)
                Expect.floatClose { absolute = 0.0; relative = 1e-15 } (x.[0] * f r) v "base strip rectangle"
                let tail = sqrt (Math.PI / 2.0) * MathNet.Numerics.SpecialFunctions.Erfc(r / sqrt 2.0)
                Expect.floatClose { absolute = 0.0; relative = 1e-14 } (r * f r + tail) v "base strip = rectangle to R + tail"
                for i in 1 .. ZigguratTables.layers - 1 do
                    let area = x.[i] * (f x.[i + 1] - f x.[i])
                    Expect.floatClose { absolute = 0.0; relative = 1e-12 } area v (sprintf "layer %d" i)
                Expect.equal x.[ZigguratTables.layers] 0.0 "top"
            }
            test "ziggurat deviates follow N(0, 1): 2·10^6 draws, chi-square over 80 bins and both tails, moments, no serial correlation" {
                let n = 2_000_000
                let rng = Rng(11)
                let z = Array.zeroCreate n
                rng.FillGaussianZiggurat(Span z)
                // bins of width 0.1 on [-4, 4] plus the two tails; expected counts from Φ
                let edges = Array.init 81 (fun i -> -4.0 + 0.1 * float i)
                let counts = Array.zeroCreate 82
                for v in z do
                    let b = if v < -4.0 then 0 elif v >= 4.0 then 81 else 1 + min 79 (int ((v + 4.0) / 0.1))
                    counts.[b] <- counts.[b] + 1
                let cdf (t: float) = MathNet.Numerics.Distributions.Normal.CDF(0.0, 1.0, t)
                let probs =
                    Array.init 82 (fun b ->
                        if b = 0 then cdf -4.0 elif b = 81 then 1.0 - cdf 4.0 else cdf edges.[b] - cdf edges.[b - 1])
                let chi2 = Array.fold2 (fun acc (c: int) p -> let e = float n * p in acc + (float c - e) ** 2.0 / e) 0.0 counts probs
                // 81 degrees of freedom: mean 81, sd √162 ≈ 12.7; 5 sd above the mean
                Expect.isLessThan chi2 (81.0 + 5.0 * sqrt 162.0) "chi-square"
                // the tail beyond R = 3.654 (drawn by Marsaglia's exact tail method): 2(1 − Φ(R)) n ≈ 516 deviates
                let r = ZigguratTables.tailStart
                let tailCount = z |> Array.filter (fun v -> abs v > r) |> Array.length |> float
                let tailExpected = 2.0 * (1.0 - cdf r) * float n
                Expect.isLessThan (abs (tailCount - tailExpected)) (5.0 * sqrt tailExpected) "tail count"
                let m = Array.average z
                let v = z |> Array.averageBy (fun x -> x * x)
                let k4 = z |> Array.averageBy (fun x -> x ** 4.0)
                Expect.isLessThan (abs m) (5.0 / sqrt (float n)) "mean"
                Expect.isLessThan (abs (v - 1.0)) (5.0 * sqrt (2.0 / float n)) "variance"
                // Var(z⁴) = E z⁸ − 9 = 96
                Expect.isLessThan (abs (k4 - 3.0)) (5.0 * sqrt (96.0 / float n)) "fourth moment"
                // the layer index and the uniform share one 64-bit draw: no correlation between successive deviates
                // or their squares
                let lag1 = Array.init (n - 1) (fun i -> z.[i] * z.[i + 1]) |> Array.average
                let lag1sq = Array.init (n - 1) (fun i -> (z.[i] * z.[i] - 1.0) * (z.[i + 1] * z.[i + 1] - 1.0)) |> Array.average
                Expect.isLessThan (abs lag1) (5.0 / sqrt (float n)) "lag-1 correlation"
                Expect.isLessThan (abs lag1sq) (5.0 * 2.0 / sqrt (float n)) "lag-1 correlation of the squares"
            }
            test "ziggurat: same seed, same bits; FillGaussianZiggurat equals successive NextGaussianZiggurat" {
                // 10^5 draws: ≈ 1% take the wedge path and ≈ 26 the tail, where the fill hands its state to the slow path
                let a = Array.zeroCreate 100000
                Rng(5).FillGaussianZiggurat(Span a)
                let r = Rng(5)
                let b = Array.init 100000 (fun _ -> r.NextGaussianZiggurat())
                Expect.sequenceEqual a b "fill = successive draws"
                Expect.isGreaterThan (a |> Array.filter (fun v -> abs v > ZigguratTables.tailStart) |> Array.length) 5 "the tail was drawn"
                // and the generator continues identically after a fill
                let r2 = Rng(5)
                r2.FillGaussianZiggurat(Span(Array.zeroCreate 100000))
                Expect.equal (r2.NextUInt64()) (r.NextUInt64()) "state after the fill"
                let c = Array.zeroCreate 100000
                Rng(6).FillGaussianZiggurat(Span c)
                Expect.isFalse (a = c) "different seed"
            }
            test "streams are reproducible and distinct" {
                Expect.equal (Rng.ForStream(1L, 3L).NextUInt64()) (Rng.ForStream(1L, 3L).NextUInt64()) "reproducible"
                Expect.notEqual (Rng.ForStream(1L, 3L).NextUInt64()) (Rng.ForStream(1L, 4L).NextUInt64()) "distinct"
            }
        ]
        testList "Io" [
            test "Csv.Write refuses a non-finite value naming column and row; WriteMeasured writes it as an empty cell" {
                let path = IO.Path.Combine(IO.Path.GetTempPath(), sprintf "theory-csv-%d.csv" (Diagnostics.Process.GetCurrentProcess().Id))
                try
                    let e = Expect.throwsC (fun () -> Io.Csv.Write(path, [ "seed", "1" ], [| "a"; "b" |], [ [| 1.0; 2.0 |]; [| 3.0; nan |] ])) id
                    Expect.stringContains e.Message "column 'b', row 1" "names the cell"
                    Io.Csv.WriteMeasured(path, [ "seed", "1" ], [| "a"; "b" |], [ [| 1.0; 2.5 |]; [| infinity; nan |] ])
                    let lines = IO.File.ReadAllLines path
                    Expect.stringStarts lines.[0] "# theory " "version line"
                    Expect.stringStarts lines.[1] "# denseBackend=" "backend line"
                    Expect.contains lines "# seed=1" "metadata"
                    Expect.contains lines "# empty cell = unmeasured" "convention stated"
                    Expect.equal lines.[lines.Length - 3] "a,b" "header"
                    Expect.equal lines.[lines.Length - 2] "1,2.5" "measured row"
                    Expect.equal lines.[lines.Length - 1] "," "unmeasured cells empty"
                    Expect.isFalse (IO.File.ReadAllText(path).Contains "NaN") "no NaN"
                finally
                    if IO.File.Exists path then IO.File.Delete path
            }
            test "Json.Measured is null for a non-finite value and Json.Number refuses one" {
                Expect.isNull (Io.Json.Measured nan) "null = unmeasured"
                Expect.isNotNull (Io.Json.Measured 1.5) "finite"
                Expect.throwsT<InvalidOperationException> (fun () -> Io.Json.Number("x", infinity) |> ignore) "refused"
                let o = Io.Json.Object [ "a", Io.Json.Number("a", 1.0) ]
                Expect.isTrue (o.ContainsKey "version" && o.ContainsKey "denseBackend") "stamped"
            }
        ]
        testList "Validate" [
            test "messages name the parameter and the allowed range" {
                let e = Expect.throwsT<ParameterOutOfDomainException> (fun () -> Validate.NonNegative("g", -1.0) |> ignore) "negative g"
                ()
                try Validate.NonNegative("g", -1.0) |> ignore with :? ParameterOutOfDomainException as e ->
                    Expect.stringContains e.Message "g = -1" "names g"
                    Expect.stringContains e.Message ">= 0" "allowed range"
                e
            }
        ]
        testList "Gmres" [
            let rand (seed: int) (len: int) = let r = Rng.ForStream(int64 seed, 91L) in Array.init len (fun _ -> r.NextGaussian())
            testProperty "matrix-free GMRES with a full Krylov space solves nonsymmetric systems like MathNet's LU (1e-8)" <| fun (seed: int) (k: int) ->
                let n = 1 + (abs k % 40)
                // A = I + 0.4·G/√n (G Gaussian, nonsymmetric): eigenvalues in a disc of radius ≈ 0.4 about 1.
                let g = rand seed (n * n)
                let a = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, n, fun r c -> (if r = c then 1.0 else 0.0) + 0.4 * g.[r * n + c] / Math.Sqrt(float n))
                let b = rand (seed + 1) n
                let applied = ref 0
                let apply = Func<float[], float[]>(fun v -> applied.Value <- applied.Value + 1; (a * MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray v).ToArray())
                let r = Gmres.Solve(apply, b, 1e-12, n)
                let x = a.Solve(MathNet.Numerics.LinearAlgebra.Vector<float>.Build.DenseOfArray b)
                for i in 0 .. n - 1 do Expect.floatClose (accuracy 1e-8 1e-8) r.Solution.[i] x.[i] (sprintf "x[%d]" i)
                Expect.isLessThanOrEqual r.Iterations n "at most n Krylov vectors"
                Expect.equal applied.Value r.Iterations "one product per Krylov vector"
                Expect.isLessThanOrEqual r.RelativeResidual 1e-8 "reported residual"
            test "GMRES stops at its budget and reports the residual it reached" {
                // A = diag(1..50): the residual after 5 Krylov vectors is far from 1e-14, and it is reported honestly.
                let n = 50
                let apply = Func<float[], float[]>(fun v -> Array.mapi (fun i x -> float (i + 1) * x) v)
                let b = Array.create n 1.0
                let r = Gmres.Solve(apply, b, 1e-14, 5)
                Expect.equal r.Iterations 5 "budget"
                let ax = apply.Invoke r.Solution
                let trueRel = Math.Sqrt(Array.fold2 (fun s p q -> s + (p - q) ** 2.0) 0.0 ax b) / Math.Sqrt(float n)
                Expect.floatClose (accuracy 1e-10 1e-8) r.RelativeResidual trueRel "Givens residual = true residual"
                Expect.isGreaterThan r.RelativeResidual 1e-3 "not converged in 5"
                Expect.throwsT<ParameterOutOfDomainException> (fun () -> Gmres.Solve(apply, b, 0.0, 5) |> ignore) "tolerance > 0"
                Expect.equal (Gmres.Solve(apply, Array.zeroCreate n, 1e-8, 5)).Solution (Array.zeroCreate n) "b = 0 gives x = 0"
            }
        ]
        testList "Richardson" [
            let rand (seed: int) = Rng.ForStream(int64 seed, 93L)
            testProperty "x(S) = a + b/S exactly: the bias b/S and the limit a are recovered for any S' < S" <| fun (seed: int) (k: int) ->
                let r = rand seed
                let a, b = r.NextGaussian(), 50.0 * r.NextGaussian()
                let s = 2 + abs k % 5000
                let s' = 1 + abs (seed / 7) % (s - 1)
                let x n = a + b / float n
                let e = RichardsonEstimate.Of(s, x s, 0.0, s', x s', 0.0)
                Expect.floatClose (accuracy 1e-9 1e-9) e.Bias (b / float s) "bias of x(S) = b/S"
                Expect.floatClose (accuracy 1e-9 1e-9) e.Extrapolated a "limit a"
                Expect.equal e.BiasError 0.0 "no noise, no error"
            testProperty "errors at S' = S/2: bias sqrt(e^2 + e'^2), limit sqrt(4e^2 + e'^2)" <| fun (seed: int) ->
                let r = rand seed
                let e1, e2 = 0.1 + abs (r.NextGaussian()), 0.1 + abs (r.NextGaussian())
                let est = RichardsonEstimate.Of(1000, 1.0 + e1 * r.NextGaussian(), e1, 500, 1.0 + e2 * r.NextGaussian(), e2)
                Expect.floatClose (accuracy 1e-12 1e-12) est.BiasError (sqrt (e1 * e1 + e2 * e2)) "bias error"
                Expect.floatClose (accuracy 1e-12 1e-12) est.ExtrapolatedError (sqrt (4.0 * e1 * e1 + e2 * e2)) "limit error"
                Expect.equal (est.ResolvedWarning "x").IsSome (abs est.Bias > 2.0 * est.BiasError) "a warning exactly when |bias| > 2 s.e."
            test "the errors cover: over 4000 simulated estimators with bias 3/S and noise, the limit is within 2 s.e. 95% of the time" {
                // x(S) = 1 + 3/S + N(0, 0.02²·1000/S): the z-scores of (Extrapolated − 1) are standard normal.
                let r = rand 5
                let zs =
                    Array.init 4000 (fun _ ->
                        let draw n = 1.0 + 3.0 / float n + 0.02 * sqrt (1000.0 / float n) * r.NextGaussian()
                        let e = RichardsonEstimate.Of(1000, draw 1000, 0.02, 500, draw 500, 0.02 * sqrt 2.0)
                        (e.Extrapolated - 1.0) / e.ExtrapolatedError)
                let inside = zs |> Array.filter (fun z -> abs z < 2.0) |> Array.length
                // binomial s.d. of the 95.45% fraction over 4000: 0.33%; 4 s.d.
                Expect.floatClose (accuracy 0.014 0.0) (float inside / 4000.0) 0.9545 "coverage of 2 s.e."
                Expect.floatClose (accuracy 0.05 0.0) (Array.average zs) 0.0 "no residual bias (4 s.e. of the mean z)"
            }
            test "bad input: S' >= S, S' < 1, non-finite values, negative errors" {
                for f in [ (fun () -> RichardsonEstimate.Of(500, 1.0, 0.1, 500, 1.0, 0.1)); (fun () -> RichardsonEstimate.Of(500, 1.0, 0.1, 0, 1.0, 0.1))
                           (fun () -> RichardsonEstimate.Of(500, nan, 0.1, 250, 1.0, 0.1)); (fun () -> RichardsonEstimate.Of(500, 1.0, -0.1, 250, 1.0, 0.1)) ] do
                    Expect.throwsT<ParameterOutOfDomainException> (f >> ignore) "rejected"
            }
        ]
        testList "Concurrent" [
            test "map and init equal their sequential forms; a failure comes back as itself, not an AggregateException" {
                let xs = Array.init 50 id
                Expect.equal (Concurrent.map (fun i -> i * i) xs) (Array.map (fun i -> i * i) xs) "map"
                Expect.equal (Concurrent.init 50 (fun i -> 2 * i)) (Array.init 50 (fun i -> 2 * i)) "init"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> Concurrent.map (fun i -> if i = 17 then raise (ParameterOutOfDomainException("i", "17", "not 17")) else i) xs |> ignore) "map"
                Expect.throwsT<ParameterOutOfDomainException>
                    (fun () -> Concurrent.init 50 (fun i -> if i = 3 then raise (ParameterOutOfDomainException("i", "3", "not 3")) else i) |> ignore) "init"
            }
        ]
        testList "BlockKernels" [
            // Sizes n = 1–70 and chunks of 1–40 rows cover the 512-bit pass (16 columns), the Vector<float> pairs and
            // singles, the masked vector tail of the last n mod 4 columns (n ≥ 4) or the scalar columns (n < 4), and the
            // leftover rows (rows mod 4); seeded inputs, naive sums and fixed-order FMA chains as references.
            let rand (seed: int) (len: int) = let r = Rng.ForStream(int64 seed, 78L) in Array.init len (fun _ -> r.NextGaussian())
            let close (a: float[]) (b: float[]) (tol: float) msg =
                for i in 0 .. a.Length - 1 do Expect.floatClose (accuracy tol tol) a.[i] b.[i] (sprintf "%s [%d]" msg i)
            testProperty "gemm and gemmUpperB equal the naive products (1e-12); gemmUpperB = gemm bit for bit on a triangular B" <| fun (seed: int) (k1: int) (k2: int) (k3: int) ->
                let rows, k, n = 1 + abs k1 % 40, 1 + abs k2 % 70, 1 + abs k3 % 70
                let aOff, cOff = abs seed % 5, abs seed % 3
                let a = rand seed (aOff + rows * k)
                let b = rand (seed + 1) (k * n)
                let c = Array.create (cOff + rows * n) nan
                BlockKernels.gemm a aOff rows k b n c cOff
                let naive = Array.init (rows * n) (fun e -> let i, j = e / n, e % n in Seq.sum (seq { for p in 0 .. k - 1 -> a.[aOff + i * k + p] * b.[p * n + j] }))
                close c.[cOff ..] naive 1e-12 "gemm"
                Expect.isTrue (c.[.. cOff - 1] |> Array.forall Double.IsNaN) "entries before cOff untouched"
                let upper = Array.init (k * n) (fun e -> if e / n <= e % n then b.[e] else 0.0)
                let full, tri = Array.zeroCreate (rows * n), Array.zeroCreate (rows * n)
                BlockKernels.gemm a aOff rows k upper n full 0
                BlockKernels.gemmUpperB a aOff rows k upper n tri 0
                Expect.sequenceEqual tri full "same bits"
            testProperty "addOuterUpper: on and above the diagonal every entry is c + the fixed-order FMA chain, bit for bit, and chunk-invariant in law" <| fun (seed: int) (k1: int) (k2: int) ->
                let rows, n = 1 + abs k1 % 40, 1 + abs k2 % 70
                let a, b, c0 = rand seed (rows * n), rand (seed + 1) (rows * n), rand (seed + 2) (n * n)
                let c = Array.copy c0
                BlockKernels.addOuterUpper a 0 b 0 rows n c 0
                for r in 0 .. n - 1 do
                    for col in r .. n - 1 do
                        let mutable chain = 0.0
                        for i in 0 .. rows - 1 do chain <- Math.FusedMultiplyAdd(a.[i * n + r], b.[i * n + col], chain)
                        let expected = c0.[r * n + col] + chain
                        if c.[r * n + col] <> expected then failtestf "(%d, %d): %.17g, expected %.17g" r col c.[r * n + col] expected
                // two chunks give the same sum up to rounding
                let split = rows / 2
                let c2 = Array.copy c0
                BlockKernels.addOuterUpper a 0 b 0 split n c2 0
                BlockKernels.addOuterUpper a (split * n) b (split * n) (rows - split) n c2 0
                for r in 0 .. n - 1 do
                    for col in r .. n - 1 do Expect.floatClose (accuracy 1e-12 1e-12) c2.[r * n + col] c.[r * n + col] "chunked"
            // The kernels' contract, on which the solver's bits rest: every output element is the fixed-order FMA chain
            // (zero start, p or i ascending), whichever pass (512-bit, Vector<float>, masked tail, scalar) computes it.
            let fmaChain (len: int) (x: int -> float) (y: int -> float) =
                let mutable s = 0.0
                for p in 0 .. len - 1 do s <- Math.FusedMultiplyAdd(x p, y p, s)
                s
            testProperty "gemm and gemmUpperB: every element is the fixed-order FMA chain, bit for bit (all passes and tails)" <| fun (seed: int) (k1: int) (k2: int) (k3: int) ->
                let rows, k, n = 1 + abs k1 % 40, 1 + abs k2 % 70, 1 + abs k3 % 70
                let a = rand seed (rows * k)
                let b = rand (seed + 1) (k * n)
                let c = Array.zeroCreate (rows * n)
                BlockKernels.gemm a 0 rows k b n c 0
                let expected = Array.init (rows * n) (fun e -> let i, j = e / n, e % n in fmaChain k (fun p -> a.[i * k + p]) (fun p -> b.[p * n + j]))
                Expect.sequenceEqual c expected "gemm"
                if k = n then
                    let upper = Array.init (n * n) (fun e -> if e / n <= e % n then b.[e] else 0.0)
                    let tri = Array.zeroCreate (rows * n)
                    BlockKernels.gemmUpperB a 0 rows n upper n tri 0
                    // the chain over p ≤ column (the zeros below the diagonal add nothing)
                    let expectedTri = Array.init (rows * n) (fun e -> let i, j = e / n, e % n in fmaChain (j + 1) (fun p -> a.[i * n + p]) (fun p -> upper.[p * n + j]))
                    Expect.sequenceEqual tri expectedTri "gemmUpperB"
            testProperty "quadraticFormsUpperFactor equals ||x_i B||^2 for an upper-triangular B (1e-11), the same bits in any chunking" <| fun (seed: int) (k1: int) (k2: int) ->
                let rows, n = 1 + abs k1 % 40, 1 + abs k2 % 70
                let x = rand seed ((rows + 2) * n)
                let bFull = rand (seed + 1) (n * n)
                let b = Array.init (n * n) (fun e -> if e / n <= e % n then bFull.[e] else 0.0)
                let out = Array.zeroCreate rows
                BlockKernels.quadraticFormsUpperFactor x 2 rows n b (Array.zeroCreate (rows * n)) out 0
                for i in 0 .. rows - 1 do
                    let o = (2 + i) * n
                    let y = Array.init n (fun col -> Seq.sum (seq { for p in 0 .. n - 1 -> x.[o + p] * b.[p * n + col] }))
                    Expect.floatClose (accuracy 1e-11 1e-11) out.[i] (Array.sumBy (fun v -> v * v) y) (sprintf "row %d" i)
                let single = Array.zeroCreate rows
                for i in 0 .. rows - 1 do BlockKernels.quadraticFormsUpperFactor x (2 + i) 1 n b (Array.zeroCreate n) single i
                Expect.sequenceEqual single out "chunk-invariant bits"
            testProperty "quadraticForms equals x_i' M x_i (1e-11) for every row, in any chunking" <| fun (seed: int) (k1: int) (k2: int) ->
                let rows, n = 1 + abs k1 % 40, 1 + abs k2 % 70
                let x, m = rand seed ((rows + 3) * n), rand (seed + 1) (n * n)
                let out = Array.zeroCreate rows
                BlockKernels.quadraticForms x 3 rows n m (Array.zeroCreate (rows * n)) out 0
                for i in 0 .. rows - 1 do
                    let o = (3 + i) * n
                    let expected = Seq.sum (seq { for r in 0 .. n - 1 do for c in 0 .. n - 1 -> x.[o + r] * m.[r * n + c] * x.[o + c] })
                    Expect.floatClose (accuracy 1e-11 1e-11) out.[i] expected (sprintf "row %d" i)
                // one row at a time: the same bits (each output is one fixed-order reduction)
                let single = Array.zeroCreate rows
                for i in 0 .. rows - 1 do BlockKernels.quadraticForms x (3 + i) 1 n m (Array.zeroCreate n) single i
                Expect.sequenceEqual single out "chunk-invariant bits"
            test "bad ranges are rejected" {
                Expect.throwsT<ArgumentException> (fun () -> BlockKernels.gemm (Array.zeroCreate 3) 0 2 2 (Array.zeroCreate 4) 2 (Array.zeroCreate 4) 0) "a too short"
                Expect.throwsT<ArgumentException> (fun () -> BlockKernels.addOuterUpper (Array.zeroCreate 4) 0 (Array.zeroCreate 4) 0 2 2 (Array.zeroCreate 3) 0) "c too short"
            }
        ]
        testList "SmallDense" [
            // Sizes 1–70 cover the SIMD tails (4 lanes) and the 4-row / 2-row blocks; seeded inputs.
            let rand (seed: int) (len: int) = let r = Rng.ForStream(int64 seed, 77L) in Array.init len (fun _ -> r.NextGaussian())
            let size (k: int) = 1 + (abs k % 70)
            let close (a: float[]) (b: float[]) (tol: float) msg =
                for i in 0 .. a.Length - 1 do Expect.floatClose (accuracy tol tol) a.[i] b.[i] (sprintf "%s [%d]" msg i)
            let naiveMv (m: float[]) (v: float[]) n = Array.init n (fun r -> Seq.sum (seq { for c in 0 .. n - 1 -> m.[r * n + c] * v.[c] }))
            testProperty "dotPair gives the bits of two dots over a shared operand, for any two lengths (the extension's fused pass)" <| fun (seed: int) (k1: int) (k2: int) ->
                let la, lc = size k1, size k2
                let b = rand seed (max la lc + 5)
                let a, c = rand (seed + 1) la, rand (seed + 2) lc
                let struct (x, y) = SmallDense.dotPair a la c lc b
                Expect.equal x (SmallDense.dot a 0 b 0 la) "first sum, same bits"
                Expect.equal y (SmallDense.dot c 0 b 0 lc) "second sum, same bits"
                Expect.floatClose (accuracy 1e-12 1e-12) x (Seq.sum (seq { for i in 0 .. la - 1 -> a.[i] * b.[i] })) "first sum, naive"
            testProperty "dot, axpy, matVec, matVec2 and matVecPairRows equal the naive sums (1e-12)" <| fun (seed: int) (k: int) ->
                let n = size k
                let m1, m2, v, w = rand seed (n * n), rand (seed + 1) (n * n), rand (seed + 2) n, rand (seed + 3) n
                Expect.floatClose (accuracy 1e-12 1e-12) (SmallDense.dot v 0 w 0 n) (Array.fold2 (fun s a b -> s + a * b) 0.0 v w) "dot"
                let y = Array.copy w
                SmallDense.axpy 0.7 v 0 y 0 n
                close y (Array.map2 (fun a b -> b + 0.7 * a) v w) 1e-12 "axpy"
                let o1, o2 = Array.zeroCreate n, Array.zeroCreate n
                SmallDense.matVec m1 v o1 n
                close o1 (naiveMv m1 v n) 1e-12 "matVec"
                SmallDense.matVec2 m1 m2 v o1 o2 n
                close o1 (naiveMv m1 v n) 1e-12 "matVec2 first"
                close o2 (naiveMv m2 v n) 1e-12 "matVec2 second"
                let p1, p2 = Array.create n nan, Array.create n nan
                let r0 = (abs seed) % n
                SmallDense.matVecPairRows m1 n v w p1 p2 r0 n
                close p1.[r0 ..] (naiveMv m1 v n).[r0 ..] 1e-12 "pair rows x1"
                close p2.[r0 ..] (naiveMv m1 w n).[r0 ..] 1e-12 "pair rows x2"
                Expect.isTrue (p1.[.. r0 - 1] |> Array.forall Double.IsNaN) "rows before r0 untouched"
            testProperty "rankTwo, addOuterUpper and mirrorUpper equal the naive updates (1e-12)" <| fun (seed: int) (k: int) ->
                let n = size k
                let m, x1, y1, x2, y2 = rand seed (n * n), rand (seed + 1) n, rand (seed + 2) n, rand (seed + 3) n, rand (seed + 4) n
                let a1, a2, b1, b2 = 0.3, -1.1, 0.7, 2.0
                let expected = Array.init (n * n) (fun i ->
                    let r, c = i / n, i % n
                    m.[i] + (a1 * x1.[r] + b1 * y1.[r]) * x2.[c] + (a2 * x1.[r] + b2 * y1.[r]) * y2.[c])
                let got = Array.copy m
                SmallDense.rankTwo got n x1 y1 a1 a2 b1 b2 x2 y2
                close got expected 1e-12 "rankTwo"
                let gram = Array.zeroCreate (n * n)
                SmallDense.addOuterUpper gram n x1
                SmallDense.addOuterUpper gram n y1
                SmallDense.mirrorUpper gram n
                close gram (Array.init (n * n) (fun i -> let r, c = i / n, i % n in x1.[r] * x1.[c] + y1.[r] * y1.[c])) 1e-12 "Gram"
            testProperty "choleskyInPlace and inverseFromCholesky agree with MathNet (1e-9 relative)" <| fun (seed: int) (k: int) ->
                let n = size k
                // A = BBᵀ/n + I/2: well conditioned, symmetric positive definite.
                let b = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(n, n, fun r c -> (rand seed (n * n)).[r * n + c])
                let a = b * b.Transpose() / float n + MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseIdentity(n) * 0.5
                let l = Array.init (n * n) (fun i -> a.[i / n, i % n])
                let ld = SmallDense.choleskyInPlace l n
                let ch = a.Cholesky()
                Expect.floatClose (accuracy 1e-9 1e-9) ld ch.DeterminantLn "ln det"
                close l (Array.init (n * n) (fun i -> ch.Factor.[i / n, i % n])) 1e-9 "factor"
                let inv = Array.zeroCreate (n * n)
                SmallDense.inverseFromCholesky l inv (Array.zeroCreate (n * n)) n
                let ai = a.Inverse()
                close inv (Array.init (n * n) (fun i -> ai.[i / n, i % n])) 1e-9 "inverse"
            test "choleskyInPlace reports an indefinite matrix as NaN" {
                let a = [| 1.0; 2.0; 2.0; 1.0 |]
                Expect.isTrue (Double.IsNaN(SmallDense.choleskyInPlace a 2)) "eigenvalues 3 and -1"
            }
            // The scalar reference: the LINPACK (dchud) recursion on a row-major lower factor, as the posterior sampler
            // ran it before stop 31 (its column access is strided).
            let lowerUpdate (l: float[]) (n: int) (x: float[]) (sign: float) =
                let mutable ok = true
                let mutable k = 0
                while ok && k < n do
                    let lkk = l.[k * n + k]
                    let r2 = lkk * lkk + sign * x.[k] * x.[k]
                    if not (r2 > 0.0) then ok <- false
                    else
                        let r = Math.Sqrt r2
                        let c = r / lkk
                        let s = x.[k] / lkk
                        l.[k * n + k] <- r
                        for i in k + 1 .. n - 1 do
                            let lik = (l.[i * n + k] + sign * s * x.[i]) / c
                            l.[i * n + k] <- lik
                            x.[i] <- c * x.[i] - s * lik
                    k <- k + 1
                ok
            testProperty "choleskyUpdateUpper: the transposed bits of the scalar lower-factor recursion, and UᵀU ± xxᵀ (1e-9)" <| fun (seed: int) (k: int) ->
                let n = size k
                // A = BBᵀ/n + I: symmetric positive definite; L its lower factor (strict upper triangle zeroed).
                let b = rand seed (n * n)
                let a = Array.init (n * n) (fun i ->
                    let r, c = i / n, i % n
                    (Seq.sum (seq { for j in 0 .. n - 1 -> b.[r * n + j] * b.[c * n + j] })) / float n + (if r = c then 1.0 else 0.0))
                let l = Array.copy a
                SmallDense.choleskyInPlace l n |> ignore
                for i in 0 .. n * n - 1 do if i % n > i / n then l.[i] <- 0.0
                let gramLower (f: float[]) = Array.init (n * n) (fun i ->
                    let r, c = i / n, i % n in Seq.sum (seq { for j in 0 .. n - 1 -> f.[r * n + j] * f.[c * n + j] }))
                let x = rand (seed + 1) n
                let lowerOf (u: float[]) = Array.init (n * n) (fun i -> let r, c = i / n, i % n in if c <= r then u.[c * n + r] else 0.0)
                // update: LLᵀ + xxᵀ
                let l1, x1 = Array.copy l, Array.copy x
                let u1, x2 = BlockKernels.transpose l n, Array.copy x
                Expect.isTrue (lowerUpdate l1 n x1 1.0) "scalar update"
                Expect.isTrue (SmallDense.choleskyUpdateUpper u1 n x2 1.0) "vector update"
                Expect.sequenceEqual (lowerOf u1) l1 "update: the bits of the scalar recursion (transposed)"
                Expect.sequenceEqual x2 x1 "update: the same work vector"
                close (gramLower l1) (Array.init (n * n) (fun i -> a.[i] + x.[i / n] * x.[i % n])) 1e-9 "LLᵀ + xxᵀ"
                // downdate back to A
                let x3, x4 = Array.copy x, Array.copy x
                Expect.isTrue (lowerUpdate l1 n x3 -1.0) "scalar downdate"
                Expect.isTrue (SmallDense.choleskyUpdateUpper u1 n x4 -1.0) "vector downdate"
                Expect.sequenceEqual (lowerOf u1) l1 "downdate: the bits of the scalar recursion (transposed)"
                close (gramLower l1) a 1e-9 "back to A"
                // a downdate that loses definiteness: A − zzᵀ with z = 2·(first column of L) has zᵀA⁻¹z = 4
                let z = Array.init n (fun r -> 2.0 * l.[r * n])
                Expect.isFalse (lowerUpdate (Array.copy l) n (Array.copy z) -1.0) "scalar: indefinite"
                Expect.isFalse (SmallDense.choleskyUpdateUpper (BlockKernels.transpose l n) n (Array.copy z) -1.0) "vector: indefinite"
                let back = Array.create (n * n) nan
                SmallDense.lowerFromUpper u1 back n
                Expect.sequenceEqual (Array.init (n * n) (fun i -> if i % n <= i / n then back.[i] else 0.0)) l1 "lowerFromUpper"
            test "Math.SinCos gives the bits of Math.Sin and Math.Cos (the slice sweeps take both from one call)" {
                let r = Rng.ForStream(9L, 77L)
                let special = [| 0.0; Math.PI; -Math.PI; 0.5 * Math.PI; 2.0 * Math.PI; 1e-300; 1e-8; -3.0 |]
                for theta in Array.append special (Array.init 200000 (fun _ -> 8.0 * Math.PI * (r.NextDouble() - 0.5))) do
                    let struct (s, c) = Math.SinCos theta
                    if s <> Math.Sin theta || c <> Math.Cos theta then failtestf "theta = %.17g: SinCos (%.17g, %.17g), Sin/Cos (%.17g, %.17g)" theta s c (Math.Sin theta) (Math.Cos theta)
            }
            test "SpanKernels.tanh: the 512-bit pass gives the bits of the Vector<float> pass (lengths 1-70, x in [-40, 40])" {
                let r = Rng.ForStream(5L, 77L)
                for len in 1 .. 70 do
                    for _ in 1 .. 20 do
                        let x = Array.init len (fun _ -> 80.0 * r.NextDouble() - 40.0 |> fun v -> v * r.NextDouble())
                        let wide, narrow = Array.zeroCreate len, Array.zeroCreate len
                        SpanKernels.tanh (ReadOnlySpan x) (Span wide)
                        SpanKernels.tanhNarrow (ReadOnlySpan x) (Span narrow)
                        Expect.sequenceEqual wide narrow (sprintf "length %d" len)
            }
            test "tanhInto matches Math.Tanh to 1e-15 absolute over [-40, 40]" {
                let n = 8001 // odd: exercises the scalar tail
                let x = Array.init n (fun i -> -40.0 + 80.0 * float i / float (n - 1))
                let y = Array.zeroCreate n
                SmallDense.tanhInto x y n
                let worst = Array.fold2 (fun m a b -> max m (abs (Math.Tanh a - b))) 0.0 x y
                Expect.isLessThan worst 1e-15 "max |error|"
                let tiny = [| 1e-300; -1e-12; 0.0; 3e-9 |]
                let yt = Array.zeroCreate 4
                SmallDense.tanhInto tiny yt 4
                close yt (tiny |> Array.map Math.Tanh) 1e-16 "near zero"
            }
            test "kernels reject out-of-range arrays" {
                Expect.throwsT<ArgumentException> (fun () -> SmallDense.matVec (Array.zeroCreate 8) (Array.zeroCreate 3) (Array.zeroCreate 3) 3) "m too short"
                Expect.throwsT<ArgumentException> (fun () -> SmallDense.dot (Array.zeroCreate 3) 1 (Array.zeroCreate 3) 0 3 |> ignore) "offset"
            }
        ]
        // The backend is process-wide: these run sequenced (alone), and put the backend back.
        testSequenced <| testList "DenseKernels" [
            let backends = [ yield DenseBackend.Managed; if DenseKernels.OpenBlasAvailable then yield DenseBackend.OpenBlas ]
            let withBackend b (body: unit -> unit) =
                let saved = DenseKernels.Backend
                DenseKernels.Backend <- b
                try body () finally DenseKernels.Backend <- saved
            let rng = Rng(21L)
            let randoms k = Array.init k (fun _ -> rng.NextGaussian())
            // Rounding of a length-m dot product of O(1) terms: a few m·ε; 1e-12 relative to the row norm is generous.
            let naiveMatVec (a: float[]) rows cols (x: float[]) = Array.init rows (fun r -> Seq.sum (seq { for c in 0 .. cols - 1 -> a.[r * cols + c] * x.[c] }))
            test "MatVec on arrays equals the naive product on every backend (serial and row-parallel sizes)" {
                for (rows, cols) in [ 7, 5; 37, 41; 403, 397 ] do
                    let a = randoms (rows * cols)
                    let x = randoms cols
                    let want = naiveMatVec a rows cols x
                    for b in backends do
                        withBackend b (fun () ->
                            let y = Array.zeroCreate rows
                            DenseKernels.MatVec(a, rows, cols, x, y, 0.5)
                            for r in 0 .. rows - 1 do
                                Expect.floatClose (accuracy 1e-12 1e-12) y.[r] (0.5 * want.[r]) (sprintf "%A %dx%d row %d" b rows cols r))
            }
            test "managed MatVec is bit-identical run to run" {
                let n = 300
                let a = randoms (n * n)
                let x = randoms n
                withBackend DenseBackend.Managed (fun () ->
                    let y1 = Array.zeroCreate n
                    let y2 = Array.zeroCreate n
                    DenseKernels.MatVec(a, n, n, x, y1, 1.0)
                    DenseKernels.MatVec(a, n, n, x, y2, 1.0)
                    Expect.sequenceEqual y2 y1 "same bits")
            }
            test "MatVecBatch with offsets equals per-vector products on every backend" {
                let n, batch = 70, 6
                let m = randoms (n * n)
                let r = randoms (3 + n * batch)
                for b in backends do
                    withBackend b (fun () ->
                        let out = Array.zeroCreate (5 + n * batch)
                        DenseKernels.MatVecBatch(m, n, r, 3, out, 5, batch, 2.0)
                        for k in 0 .. batch - 1 do
                            let want = naiveMatVec m n n r.[3 + k * n .. 3 + (k + 1) * n - 1]
                            for i in 0 .. n - 1 do
                                Expect.floatClose (accuracy 1e-12 1e-12) out.[5 + k * n + i] (2.0 * want.[i]) (sprintf "%A batch %d row %d" b k i))
            }
            test "SpanKernels.combineInto: every element has the bits of x*a + y*b, for all lengths 1-70, also in place" {
                for len in 1 .. 70 do
                    let x = randoms len
                    let y = randoms (len + 3)
                    let a, b = Math.Cos(0.3 * float len), Math.Sin(0.3 * float len)
                    let expected = Array.init len (fun i -> x.[i] * a + y.[3 + i] * b)
                    let out = Array.zeroCreate len
                    SpanKernels.combineInto (ReadOnlySpan x) a (ReadOnlySpan<float>(y, 3, len)) b (Span out)
                    Expect.sequenceEqual out expected (sprintf "length %d" len)
                    let inPlace = Array.copy x
                    SpanKernels.combineInto (ReadOnlySpan inPlace) a (ReadOnlySpan<float>(y, 3, len)) b (Span inPlace)
                    Expect.sequenceEqual inPlace expected (sprintf "in place, length %d" len)
            }
            test "span Dot and Axpy agree with the array face, and sizes are checked" {
                let v = randoms 53
                let w = randoms 53
                Expect.equal (DenseKernels.Dot(ReadOnlySpan v, ReadOnlySpan w)) (SmallDense.dot v 0 w 0 53) "one implementation, same bits"
                let y1 = Array.copy w
                let y2 = Array.copy w
                DenseKernels.Axpy(0.3, ReadOnlySpan v, Span y1)
                SmallDense.axpy 0.3 v 0 y2 0 53
                Expect.sequenceEqual y1 y2 "axpy same bits"
                Expect.throwsT<ArgumentException> (fun () -> DenseKernels.Dot(ReadOnlySpan v, ReadOnlySpan(w, 0, 52)) |> ignore) "lengths differ"
                Expect.throwsT<ArgumentException> (fun () -> DenseKernels.MatVec(Array.zeroCreate 10, 3, 4, Array.zeroCreate 4, Array.zeroCreate 3, 1.0)) "A too short"
            }
            test "managed mat-vecs give the same bits per row on arrays, spans, with a second vector, and in parallel" {
                for (rows, cols) in [ 50, 50; 13, 29; 301, 301 ] do
                    let a = randoms (rows * cols)
                    let x = randoms cols
                    let v = randoms cols
                    let y1 = Array.zeroCreate rows
                    DenseKernels.MatVecManaged(a, rows, cols, x, y1)
                    let y2 = Array.zeroCreate rows
                    DenseKernels.MatVecManaged(ReadOnlySpan a, rows, ReadOnlySpan x, Span y2)
                    let y3 = Array.zeroCreate rows
                    let t3 = Array.zeroCreate rows
                    DenseKernels.MatVec2Managed(a, rows, cols, x, v, y3, t3)
                    let t4 = Array.zeroCreate rows
                    DenseKernels.MatVecManaged(a, rows, cols, v, t4)
                    Expect.sequenceEqual y2 y1 "span = array"
                    Expect.sequenceEqual y3 y1 "first of the pair"
                    Expect.sequenceEqual t3 t4 "second of the pair"
                    withBackend DenseBackend.Managed (fun () ->
                        let y5 = Array.zeroCreate rows
                        DenseKernels.MatVec(a, rows, cols, x, y5, 1.0)
                        Expect.sequenceEqual y5 y1 "row-parallel managed MatVec")
                    let want = naiveMatVec a rows cols x
                    for r in 0 .. rows - 1 do Expect.floatClose (accuracy 1e-12 1e-12) y1.[r] want.[r] "vs naive"
                let z = randoms 23 |> Array.map (fun q -> 3.0 * q)
                let za = Array.zeroCreate 23
                DenseKernels.Tanh(z, za, 23)
                let zs = Array.copy z
                DenseKernels.Tanh(ReadOnlySpan zs, Span zs)
                Expect.sequenceEqual zs za "span tanh (in place) = array tanh"
            }
            test "THEORY_BLAS: auto/managed/openblas in any case; a bad value or a missing library is a clear domain error" {
                Expect.equal (DenseBackendChoice.parse null true) DenseBackend.OpenBlas "unset, library present"
                Expect.equal (DenseBackendChoice.parse "" false) DenseBackend.Managed "empty, no library"
                Expect.equal (DenseBackendChoice.parse " Auto " false) DenseBackend.Managed "auto without the library"
                Expect.equal (DenseBackendChoice.parse "MANAGED" true) DenseBackend.Managed "managed"
                Expect.equal (DenseBackendChoice.parse "openblas" true) DenseBackend.OpenBlas "openblas"
                let bad = Expect.throwsC (fun () -> DenseBackendChoice.parse "mkl" true |> ignore) id
                Expect.stringContains bad.Message "auto, managed or openblas" "allowed values"
                let missing = Expect.throwsC (fun () -> DenseBackendChoice.parse "openblas" false |> ignore) id
                Expect.stringContains missing.Message "libopenblas0-pthread" "says what to install"
                Expect.isTrue (bad :? ParameterOutOfDomainException && missing :? ParameterOutOfDomainException) "domain errors (CLI exit 2)"
            }
            test "selecting OpenBLAS where it is missing is a clear error" {
                if not DenseKernels.OpenBlasAvailable then
                    let e = Expect.throwsC (fun () -> DenseKernels.Backend <- DenseBackend.OpenBlas) id
                    Expect.stringContains e.Message "libopenblas" "says what to install"
                else
                    withBackend DenseBackend.OpenBlas (fun () -> Expect.equal DenseKernels.Backend DenseBackend.OpenBlas "selected")
            }
        ]
    ]

namespace Theory.Core.Numerics

open System.Numerics
open System.Runtime.InteropServices

/// Kernels for small dense row-major matrices (n ≈ 20–200) in hot loops: no allocation, SIMD, four rows per pass so
/// that four independent accumulators hide the FMA latency (a one-row dot of length 50 is latency-bound). Callers
/// guarantee the index ranges; each kernel checks them once (ArgumentException), not per element.
module internal SmallDense =

    let inline private load (a: float[]) (i: int) =
        Vector.LoadUnsafe(&MemoryMarshal.GetArrayDataReference(a), unativeint i)

    let inline private store (v: Vector<float>) (a: float[]) (i: int) =
        Vector.StoreUnsafe(v, &MemoryMarshal.GetArrayDataReference(a), unativeint i)

    let private check (name: string) (a: float[]) (offset: int) (len: int) =
        if offset < 0 || len < 0 || offset + len > a.Length then
            invalidArg name (sprintf "range [%d, %d) outside an array of length %d" offset (offset + len) a.Length)

    /// Σ_i a[ao+i]·b[bo+i], i < len.
    let dot (a: float[]) (ao: int) (b: float[]) (bo: int) (len: int) =
        check "a" a ao len
        check "b" b bo len
        let w = Vector<float>.Count
        let mutable acc0 = Vector<float>.Zero
        let mutable acc1 = Vector<float>.Zero
        let mutable i = 0
        while i <= len - 2 * w do
            acc0 <- Vector.FusedMultiplyAdd(load a (ao + i), load b (bo + i), acc0)
            acc1 <- Vector.FusedMultiplyAdd(load a (ao + i + w), load b (bo + i + w), acc1)
            i <- i + 2 * w
        if i <= len - w then
            acc0 <- Vector.FusedMultiplyAdd(load a (ao + i), load b (bo + i), acc0)
            i <- i + w
        let mutable s = Vector.Sum(acc0 + acc1)
        while i < len do
            s <- s + a.[ao + i] * b.[bo + i]
            i <- i + 1
        s

    /// y[yo+i] += alpha·x[xo+i], i < len.
    let axpy (alpha: float) (x: float[]) (xo: int) (y: float[]) (yo: int) (len: int) =
        check "x" x xo len
        check "y" y yo len
        let w = Vector<float>.Count
        let va = Vector<float>(alpha)
        let mutable i = 0
        while i <= len - w do
            store (Vector.FusedMultiplyAdd(va, load x (xo + i), load y (yo + i))) y (yo + i)
            i <- i + w
        while i < len do
            y.[yo + i] <- y.[yo + i] + alpha * x.[xo + i]
            i <- i + 1

    /// out[r] = Σ_c m[r·n + c]·v[c] for r < n (m is n×n row-major).
    let matVec (m: float[]) (v: float[]) (out: float[]) (n: int) =
        check "m" m 0 (n * n)
        check "v" v 0 n
        check "out" out 0 n
        let w = Vector<float>.Count
        let tail = n - n % w
        let mutable r = 0
        while r + 3 < n do
            let o0, o1, o2, o3 = r * n, (r + 1) * n, (r + 2) * n, (r + 3) * n
            let mutable a0 = Vector<float>.Zero
            let mutable a1 = Vector<float>.Zero
            let mutable a2 = Vector<float>.Zero
            let mutable a3 = Vector<float>.Zero
            let mutable c = 0
            while c < tail do
                let x = load v c
                a0 <- Vector.FusedMultiplyAdd(load m (o0 + c), x, a0)
                a1 <- Vector.FusedMultiplyAdd(load m (o1 + c), x, a1)
                a2 <- Vector.FusedMultiplyAdd(load m (o2 + c), x, a2)
                a3 <- Vector.FusedMultiplyAdd(load m (o3 + c), x, a3)
                c <- c + w
            let mutable s0 = Vector.Sum a0
            let mutable s1 = Vector.Sum a1
            let mutable s2 = Vector.Sum a2
            let mutable s3 = Vector.Sum a3
            while c < n do
                let x = v.[c]
                s0 <- s0 + m.[o0 + c] * x
                s1 <- s1 + m.[o1 + c] * x
                s2 <- s2 + m.[o2 + c] * x
                s3 <- s3 + m.[o3 + c] * x
                c <- c + 1
            out.[r] <- s0
            out.[r + 1] <- s1
            out.[r + 2] <- s2
            out.[r + 3] <- s3
            r <- r + 4
        while r < n do
            out.[r] <- dot m (r * n) v 0 n
            r <- r + 1

    /// out1 = m1·v and out2 = m2·v in one pass over v (both n×n row-major).
    let matVec2 (m1: float[]) (m2: float[]) (v: float[]) (out1: float[]) (out2: float[]) (n: int) =
        check "m1" m1 0 (n * n)
        check "m2" m2 0 (n * n)
        check "v" v 0 n
        check "out1" out1 0 n
        check "out2" out2 0 n
        let w = Vector<float>.Count
        let tail = n - n % w
        let mutable r = 0
        while r + 1 < n do
            let o0, o1 = r * n, (r + 1) * n
            let mutable a0 = Vector<float>.Zero
            let mutable a1 = Vector<float>.Zero
            let mutable b0 = Vector<float>.Zero
            let mutable b1 = Vector<float>.Zero
            let mutable c = 0
            while c < tail do
                let x = load v c
                a0 <- Vector.FusedMultiplyAdd(load m1 (o0 + c), x, a0)
                a1 <- Vector.FusedMultiplyAdd(load m1 (o1 + c), x, a1)
                b0 <- Vector.FusedMultiplyAdd(load m2 (o0 + c), x, b0)
                b1 <- Vector.FusedMultiplyAdd(load m2 (o1 + c), x, b1)
                c <- c + w
            let mutable s0 = Vector.Sum a0
            let mutable s1 = Vector.Sum a1
            let mutable t0 = Vector.Sum b0
            let mutable t1 = Vector.Sum b1
            while c < n do
                let x = v.[c]
                s0 <- s0 + m1.[o0 + c] * x
                s1 <- s1 + m1.[o1 + c] * x
                t0 <- t0 + m2.[o0 + c] * x
                t1 <- t1 + m2.[o1 + c] * x
                c <- c + 1
            out1.[r] <- s0
            out1.[r + 1] <- s1
            out2.[r] <- t0
            out2.[r + 1] <- t1
            r <- r + 2
        if r < n then
            out1.[r] <- dot m1 (r * n) v 0 n
            out2.[r] <- dot m2 (r * n) v 0 n

    /// m[r·n + c] += (a1·x1[r] + b1·y1[r])·x2[c] + (a2·x1[r] + b2·y1[r])·y2[c] for all r, c < n: the symmetric
    /// rank-two update m += [x1 y1]·[[a1 a2]; [b1 b2]]·[x2 y2]ᵀ in one pass over m.
    let rankTwo (m: float[]) (n: int) (x1: float[]) (y1: float[]) (a1: float) (a2: float) (b1: float) (b2: float)
                (x2: float[]) (y2: float[]) =
        check "m" m 0 (n * n)
        check "x1" x1 0 n
        check "y1" y1 0 n
        check "x2" x2 0 n
        check "y2" y2 0 n
        let w = Vector<float>.Count
        let tail = n - n % w
        for r in 0 .. n - 1 do
            let p = a1 * x1.[r] + b1 * y1.[r]
            let q = a2 * x1.[r] + b2 * y1.[r]
            let vp = Vector<float>(p)
            let vq = Vector<float>(q)
            let o = r * n
            let mutable c = 0
            while c < tail do
                store (Vector.FusedMultiplyAdd(vq, load y2 c, Vector.FusedMultiplyAdd(vp, load x2 c, load m (o + c)))) m (o + c)
                c <- c + w
            while c < n do
                m.[o + c] <- m.[o + c] + p * x2.[c] + q * y2.[c]
                c <- c + 1

    /// m[r·n + c] += x[r]·x[c] for r ≤ c (upper triangle; callers mirror it): the rank-one accumulation of a Gram sum.
    let addOuterUpper (m: float[]) (n: int) (x: float[]) =
        check "m" m 0 (n * n)
        check "x" x 0 n
        let w = Vector<float>.Count
        for r in 0 .. n - 1 do
            let vp = Vector<float>(x.[r])
            let o = r * n
            let mutable c = r
            while c <= n - w do
                store (Vector.FusedMultiplyAdd(vp, load x c, load m (o + c))) m (o + c)
                c <- c + w
            while c < n do
                m.[o + c] <- m.[o + c] + x.[r] * x.[c]
                c <- c + 1

    /// Copies the upper triangle of an n×n row-major matrix into its lower triangle.
    let mirrorUpper (m: float[]) (n: int) =
        check "m" m 0 (n * n)
        for r in 1 .. n - 1 do
            for c in 0 .. r - 1 do
                m.[r * n + c] <- m.[c * n + r]

    /// y[i] = tanh(x[i]) for i < n, vectorised as sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|) (absolute error a few
    /// 1e-16 against Math.Tanh; tested).
    let tanhInto (x: float[]) (y: float[]) (n: int) =
        check "x" x 0 n
        check "y" y 0 n
        let w = Vector<float>.Count
        let one = Vector<float>.One
        let m2 = Vector<float>(-2.0)
        let mutable i = 0
        while i <= n - w do
            let v = load x i
            let t = Vector.Exp(m2 * Vector.Abs v)
            let r = (one - t) / (one + t)
            store (Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), -r, r)) y i
            i <- i + w
        while i < n do
            y.[i] <- System.Math.Tanh x.[i]
            i <- i + 1

    /// In-place Cholesky factorisation of a symmetric positive-definite n×n row-major matrix: on success the lower
    /// triangle holds L (A = LLᵀ), the strict upper triangle is zeroed, and ln det A is returned; a non-positive pivot
    /// returns NaN (the matrix is then partly overwritten).
    let choleskyInPlace (a: float[]) (n: int) =
        check "a" a 0 (n * n)
        let mutable logDet = 0.0
        let mutable ok = true
        let mutable j = 0
        while ok && j < n do
            let rj = j * n
            let d = a.[rj + j] - dot a rj a rj j
            if not (d > 0.0) || System.Double.IsInfinity d then ok <- false
            else
                let ljj = sqrt d
                a.[rj + j] <- ljj
                logDet <- logDet + 2.0 * log ljj
                for i in j + 1 .. n - 1 do
                    let ri = i * n
                    a.[ri + j] <- (a.[ri + j] - dot a ri a rj j) / ljj
                for c in j + 1 .. n - 1 do a.[rj + c] <- 0.0
                j <- j + 1
        if ok then logDet else nan

    /// A⁻¹ = L⁻ᵀL⁻¹ from the lower Cholesky factor l (row-major, upper triangle zero) into inv (n×n, symmetric);
    /// work is an n×n scratch array (receives L⁻¹ transposed).
    let inverseFromCholesky (l: float[]) (inv: float[]) (work: float[]) (n: int) =
        check "l" l 0 (n * n)
        check "inv" inv 0 (n * n)
        check "work" work 0 (n * n)
        // work row c = column c of L⁻¹ (zero above the diagonal index c): forward substitution L·v = e_c.
        System.Array.Clear(work, 0, n * n)
        for c in 0 .. n - 1 do
            let rc = c * n
            work.[rc + c] <- 1.0 / l.[c * n + c]
            for i in c + 1 .. n - 1 do
                let ri = i * n
                work.[rc + i] <- -(dot l (ri + c) work (rc + c) (i - c)) / l.[ri + i]
        // (L⁻ᵀL⁻¹)_{rc} = Σ_k L⁻¹_{kr} L⁻¹_{kc} = (column r of L⁻¹)·(column c of L⁻¹), nonzero from k = max(r, c).
        for r in 0 .. n - 1 do
            for c in r .. n - 1 do
                let v = dot work (r * n + c) work (c * n + c) (n - c)
                inv.[r * n + c] <- v
                inv.[c * n + r] <- v

    /// y1 = m·x1 and y2 = m·x2 for the rows r0 ≤ r < r1 of an n×n row-major matrix, each row read once.
    let matVecPairRows (m: float[]) (n: int) (x1: float[]) (x2: float[]) (y1: float[]) (y2: float[]) (r0: int) (r1: int) =
        check "m" m 0 (n * n)
        check "x1" x1 0 n
        check "x2" x2 0 n
        check "y1" y1 0 n
        check "y2" y2 0 n
        if r0 < 0 || r1 > n || r0 > r1 then invalidArg "r0" (sprintf "row range [%d, %d) outside [0, %d)" r0 r1 n)
        let w = Vector<float>.Count
        let tail = n - n % w
        let mutable r = r0
        while r + 1 < r1 do
            let o0, o1 = r * n, (r + 1) * n
            let mutable a0 = Vector<float>.Zero
            let mutable a1 = Vector<float>.Zero
            let mutable b0 = Vector<float>.Zero
            let mutable b1 = Vector<float>.Zero
            let mutable c = 0
            while c < tail do
                let u = load x1 c
                let v = load x2 c
                let m0 = load m (o0 + c)
                let m1 = load m (o1 + c)
                a0 <- Vector.FusedMultiplyAdd(m0, u, a0)
                a1 <- Vector.FusedMultiplyAdd(m1, u, a1)
                b0 <- Vector.FusedMultiplyAdd(m0, v, b0)
                b1 <- Vector.FusedMultiplyAdd(m1, v, b1)
                c <- c + w
            let mutable s0 = Vector.Sum a0
            let mutable s1 = Vector.Sum a1
            let mutable t0 = Vector.Sum b0
            let mutable t1 = Vector.Sum b1
            while c < n do
                s0 <- s0 + m.[o0 + c] * x1.[c]
                s1 <- s1 + m.[o1 + c] * x1.[c]
                t0 <- t0 + m.[o0 + c] * x2.[c]
                t1 <- t1 + m.[o1 + c] * x2.[c]
                c <- c + 1
            y1.[r] <- s0
            y1.[r + 1] <- s1
            y2.[r] <- t0
            y2.[r + 1] <- t1
            r <- r + 2
        if r < r1 then
            y1.[r] <- dot m (r * n) x1 0 n
            y2.[r] <- dot m (r * n) x2 0 n

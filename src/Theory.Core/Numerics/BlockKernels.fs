namespace Theory.Core.Numerics

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// Register-blocked matrix–matrix kernels for many small vectors at once (the particle clouds of the saddle-point
/// solver: S rows of length n ≈ 20–200, in chunks of a few dozen rows). One n×n matrix against a chunk of rows is a
/// small GEMM: four rows × two SIMD vectors of columns per pass, so each loaded column vector feeds four FMAs and
/// eight independent accumulators hide the FMA latency (a one-row mat-vec of length 50 is latency- and load-bound).
/// Every output element is one fixed-order reduction over the inner index (zero start, FMA, in order), so results
/// do not depend on the thread count, on how callers chunk the rows, or on which vector width computes an element
/// (a 512-bit pass of 16 columns runs first where Vector512 is hardware-accelerated and Vector&lt;float&gt; is narrower;
/// each lane is an independent element). The last n mod Vector&lt;float&gt;.Count columns go through one masked vector
/// pass that ends at column n, eight rows (eight FMA chains) at a time, instead of scalar chains (at n = 50 the two
/// scalar columns cost as much as the 48 vector ones); each lane is the same fixed-order chain, so the bits are those of
/// the scalar tail (FsCheck-tested element by element). Results can differ from the row-wise kernels of SmallDense by
/// rounding.
/// Row-major arrays throughout; each kernel checks its ranges once (ArgumentException), not per element.
module internal BlockKernels =

    let private check (name: string) (a: float[]) (offset: int) (len: int) =
        if offset < 0 || len < 0 || offset + len > a.Length then
            invalidArg name (sprintf "range [%d, %d) outside an array of length %d" offset (offset + len) a.Length)

    /// c[off + l] = v[l] for the lanes l where keep is set (the other lanes of c keep their values).
    let private storeLanes (c: float[]) (off: int) (keep: Vector<int64>) (v: Vector<float>) =
        Vector.ConditionalSelect(keep, v, Vector<float>(c, off)).CopyTo(c, off)

    /// c[off + l] += v[l] for the lanes l where keep is set (the other lanes of c keep their values).
    let private addLanes (c: float[]) (off: int) (keep: Vector<int64>) (v: Vector<float>) =
        let old = Vector<float>(c, off)
        Vector.ConditionalSelect(keep, old + v, old).CopyTo(c, off)

    /// C = A·B (see gemm); upperB: B is upper triangular (B[p, col] = 0 for p > col), so the inner loop of a column
    /// chunk stops at its last column (half the work of a triangular B; for finite A the same bits as with the zeros
    /// summed, since FMA(a, 0, s) = s).
    let private gemmCore (upperB: bool) (a: float[]) (aOff: int) (rows: int) (k: int) (b: float[]) (n: int) (c: float[]) (cOff: int) =
        check "a" a aOff (rows * k)
        check "b" b 0 (k * n)
        check "c" c cOff (rows * n)
        let w = Vector<float>.Count
        let pairs = n - n % (2 * w)
        let singles = n - n % w
        let wide = Vector512.IsHardwareAccelerated && w < 8
        // with n ≥ w the last n − singles columns go through one masked vector pass at the end instead of scalar
        // FMA chains (which cost as much as all the vector passes at n = 50)
        let vecTail = n >= w && singles < n
        let ra = &MemoryMarshal.GetArrayDataReference(a)
        let rb = &MemoryMarshal.GetArrayDataReference(b)
        let rc = &MemoryMarshal.GetArrayDataReference(c)
        let mutable i = 0
        while i + 3 < rows do
            let a0 = aOff + i * k
            let a1 = a0 + k
            let a2 = a1 + k
            let a3 = a2 + k
            let c0 = cOff + i * n
            let mutable j = 0
            // 512-bit pass where the hardware has it (16 columns × 4 rows per pass); the Vector<float> passes below
            // take the columns left (the per-element arithmetic is the same: zero start, FMA over p in order)
            if wide then
                while j + 16 <= n do
                    let pEnd = if upperB then min k (j + 16) else k
                    let mutable s00 = Vector512<float>.Zero
                    let mutable s01 = Vector512<float>.Zero
                    let mutable s10 = Vector512<float>.Zero
                    let mutable s11 = Vector512<float>.Zero
                    let mutable s20 = Vector512<float>.Zero
                    let mutable s21 = Vector512<float>.Zero
                    let mutable s30 = Vector512<float>.Zero
                    let mutable s31 = Vector512<float>.Zero
                    for p in 0 .. pEnd - 1 do
                        let ob = unativeint (p * n + j)
                        let b0 = Vector512.LoadUnsafe(&rb, ob)
                        let b1 = Vector512.LoadUnsafe(&rb, ob + 8un)
                        let x0 = Vector512.Create(Unsafe.Add(&ra, a0 + p))
                        let x1 = Vector512.Create(Unsafe.Add(&ra, a1 + p))
                        let x2 = Vector512.Create(Unsafe.Add(&ra, a2 + p))
                        let x3 = Vector512.Create(Unsafe.Add(&ra, a3 + p))
                        s00 <- Vector512.FusedMultiplyAdd(x0, b0, s00)
                        s01 <- Vector512.FusedMultiplyAdd(x0, b1, s01)
                        s10 <- Vector512.FusedMultiplyAdd(x1, b0, s10)
                        s11 <- Vector512.FusedMultiplyAdd(x1, b1, s11)
                        s20 <- Vector512.FusedMultiplyAdd(x2, b0, s20)
                        s21 <- Vector512.FusedMultiplyAdd(x2, b1, s21)
                        s30 <- Vector512.FusedMultiplyAdd(x3, b0, s30)
                        s31 <- Vector512.FusedMultiplyAdd(x3, b1, s31)
                    let oc = unativeint (c0 + j)
                    let un = unativeint n
                    Vector512.StoreUnsafe(s00, &rc, oc)
                    Vector512.StoreUnsafe(s01, &rc, oc + 8un)
                    Vector512.StoreUnsafe(s10, &rc, oc + un)
                    Vector512.StoreUnsafe(s11, &rc, oc + un + 8un)
                    Vector512.StoreUnsafe(s20, &rc, oc + 2un * un)
                    Vector512.StoreUnsafe(s21, &rc, oc + 2un * un + 8un)
                    Vector512.StoreUnsafe(s30, &rc, oc + 3un * un)
                    Vector512.StoreUnsafe(s31, &rc, oc + 3un * un + 8un)
                    j <- j + 16
            while j + 2 * w <= pairs do
                let pEnd = if upperB then min k (j + 2 * w) else k
                let mutable s00 = Vector<float>.Zero
                let mutable s01 = Vector<float>.Zero
                let mutable s10 = Vector<float>.Zero
                let mutable s11 = Vector<float>.Zero
                let mutable s20 = Vector<float>.Zero
                let mutable s21 = Vector<float>.Zero
                let mutable s30 = Vector<float>.Zero
                let mutable s31 = Vector<float>.Zero
                for p in 0 .. pEnd - 1 do
                    let ob = unativeint (p * n + j)
                    let b0 = Vector.LoadUnsafe(&rb, ob)
                    let b1 = Vector.LoadUnsafe(&rb, ob + unativeint w)
                    let x0 = Vector<float>(Unsafe.Add(&ra, a0 + p))
                    let x1 = Vector<float>(Unsafe.Add(&ra, a1 + p))
                    let x2 = Vector<float>(Unsafe.Add(&ra, a2 + p))
                    let x3 = Vector<float>(Unsafe.Add(&ra, a3 + p))
                    s00 <- Vector.FusedMultiplyAdd(x0, b0, s00)
                    s01 <- Vector.FusedMultiplyAdd(x0, b1, s01)
                    s10 <- Vector.FusedMultiplyAdd(x1, b0, s10)
                    s11 <- Vector.FusedMultiplyAdd(x1, b1, s11)
                    s20 <- Vector.FusedMultiplyAdd(x2, b0, s20)
                    s21 <- Vector.FusedMultiplyAdd(x2, b1, s21)
                    s30 <- Vector.FusedMultiplyAdd(x3, b0, s30)
                    s31 <- Vector.FusedMultiplyAdd(x3, b1, s31)
                let oc = unativeint (c0 + j)
                let un = unativeint n
                let uw = unativeint w
                Vector.StoreUnsafe(s00, &rc, oc)
                Vector.StoreUnsafe(s01, &rc, oc + uw)
                Vector.StoreUnsafe(s10, &rc, oc + un)
                Vector.StoreUnsafe(s11, &rc, oc + un + uw)
                Vector.StoreUnsafe(s20, &rc, oc + 2un * un)
                Vector.StoreUnsafe(s21, &rc, oc + 2un * un + uw)
                Vector.StoreUnsafe(s30, &rc, oc + 3un * un)
                Vector.StoreUnsafe(s31, &rc, oc + 3un * un + uw)
                j <- j + 2 * w
            while j < singles do
                let pEnd = if upperB then min k (j + w) else k
                let mutable s0 = Vector<float>.Zero
                let mutable s1 = Vector<float>.Zero
                let mutable s2 = Vector<float>.Zero
                let mutable s3 = Vector<float>.Zero
                for p in 0 .. pEnd - 1 do
                    let b0 = Vector.LoadUnsafe(&rb, unativeint (p * n + j))
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + p)), b0, s0)
                    s1 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a1 + p)), b0, s1)
                    s2 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a2 + p)), b0, s2)
                    s3 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a3 + p)), b0, s3)
                let oc = unativeint (c0 + j)
                let un = unativeint n
                Vector.StoreUnsafe(s0, &rc, oc)
                Vector.StoreUnsafe(s1, &rc, oc + un)
                Vector.StoreUnsafe(s2, &rc, oc + 2un * un)
                Vector.StoreUnsafe(s3, &rc, oc + 3un * un)
                j <- j + w
            while not vecTail && j < n do
                let pEnd = if upperB then min k (j + 1) else k
                let mutable s0 = 0.0
                let mutable s1 = 0.0
                let mutable s2 = 0.0
                let mutable s3 = 0.0
                for p in 0 .. pEnd - 1 do
                    let v = b.[p * n + j]
                    s0 <- Math.FusedMultiplyAdd(a.[a0 + p], v, s0)
                    s1 <- Math.FusedMultiplyAdd(a.[a1 + p], v, s1)
                    s2 <- Math.FusedMultiplyAdd(a.[a2 + p], v, s2)
                    s3 <- Math.FusedMultiplyAdd(a.[a3 + p], v, s3)
                c.[c0 + j] <- s0
                c.[c0 + n + j] <- s1
                c.[c0 + 2 * n + j] <- s2
                c.[c0 + 3 * n + j] <- s3
                j <- j + 1
            i <- i + 4
        // leftover rows, one at a time (same per-element arithmetic: zero start, FMA over p in order)
        while i < rows do
            let a0 = aOff + i * k
            let c0 = cOff + i * n
            let mutable j = 0
            while j < singles do
                let pEnd = if upperB then min k (j + w) else k
                let mutable s0 = Vector<float>.Zero
                for p in 0 .. pEnd - 1 do
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + p)), Vector.LoadUnsafe(&rb, unativeint (p * n + j)), s0)
                Vector.StoreUnsafe(s0, &rc, unativeint (c0 + j))
                j <- j + w
            while not vecTail && j < n do
                let pEnd = if upperB then min k (j + 1) else k
                let mutable s0 = 0.0
                for p in 0 .. pEnd - 1 do s0 <- Math.FusedMultiplyAdd(a.[a0 + p], b.[p * n + j], s0)
                c.[c0 + j] <- s0
                j <- j + 1
            i <- i + 1
        // the last n − singles (< w) columns of every row: one Vector<float> ending at column n, eight rows (eight
        // independent FMA chains) per pass, storing only the lanes of those columns (the others were written above
        // with the same values)
        if vecTail then
            let t0 = n - w
            let pEnd = if upperB then min k n else k
            let keep = Vector.GreaterThanOrEqual(Vector<float>.Indices + Vector<float>(float t0), Vector<float>(float singles))
            let mutable i = 0
            while i + 7 < rows do
                let a0 = aOff + i * k
                let mutable s0 = Vector<float>.Zero
                let mutable s1 = Vector<float>.Zero
                let mutable s2 = Vector<float>.Zero
                let mutable s3 = Vector<float>.Zero
                let mutable s4 = Vector<float>.Zero
                let mutable s5 = Vector<float>.Zero
                let mutable s6 = Vector<float>.Zero
                let mutable s7 = Vector<float>.Zero
                for p in 0 .. pEnd - 1 do
                    let b0 = Vector.LoadUnsafe(&rb, unativeint (p * n + t0))
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + p)), b0, s0)
                    s1 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + k + p)), b0, s1)
                    s2 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 2 * k + p)), b0, s2)
                    s3 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 3 * k + p)), b0, s3)
                    s4 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 4 * k + p)), b0, s4)
                    s5 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 5 * k + p)), b0, s5)
                    s6 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 6 * k + p)), b0, s6)
                    s7 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + 7 * k + p)), b0, s7)
                storeLanes c (cOff + i * n + t0) keep s0
                storeLanes c (cOff + (i + 1) * n + t0) keep s1
                storeLanes c (cOff + (i + 2) * n + t0) keep s2
                storeLanes c (cOff + (i + 3) * n + t0) keep s3
                storeLanes c (cOff + (i + 4) * n + t0) keep s4
                storeLanes c (cOff + (i + 5) * n + t0) keep s5
                storeLanes c (cOff + (i + 6) * n + t0) keep s6
                storeLanes c (cOff + (i + 7) * n + t0) keep s7
                i <- i + 8
            while i < rows do
                let a0 = aOff + i * k
                let mutable s0 = Vector<float>.Zero
                for p in 0 .. pEnd - 1 do
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, a0 + p)), Vector.LoadUnsafe(&rb, unativeint (p * n + t0)), s0)
                storeLanes c (cOff + i * n + t0) keep s0
                i <- i + 1

    /// C = A·B: A has `rows` rows of length k (row stride k, from aOff), B is k×n, C has `rows` rows of length n (row
    /// stride n, from cOff). C must not alias A or B.
    let gemm (a: float[]) (aOff: int) (rows: int) (k: int) (b: float[]) (n: int) (c: float[]) (cOff: int) =
        gemmCore false a aOff rows k b n c cOff

    /// gemm for an upper-triangular B (B[p, col] = 0 for p > col; the zeros are skipped, not read): for finite A the
    /// same bits as gemm, about half the work when k = n.
    let gemmUpperB (a: float[]) (aOff: int) (rows: int) (k: int) (b: float[]) (n: int) (c: float[]) (cOff: int) =
        gemmCore true a aOff rows k b n c cOff

    /// C += Σ_{i &lt; rows} a_i b_iᵀ for rows a_i, b_i of length n (A and B row-major with row stride n, from aOff and
    /// bOff; C is n×n from cOff): a weighted second-moment sum over a chunk of particles. Only the upper triangle is
    /// computed (entries (r, col) with col ≥ r, and a few below the diagonal inside each four-row block, which callers
    /// must ignore).
    let addOuterUpper (a: float[]) (aOff: int) (b: float[]) (bOff: int) (rows: int) (n: int) (c: float[]) (cOff: int) =
        check "a" a aOff (rows * n)
        check "b" b bOff (rows * n)
        check "c" c cOff (n * n)
        let w = Vector<float>.Count
        let pairs = n - n % (2 * w)
        let singles = n - n % w
        let ra = &MemoryMarshal.GetArrayDataReference(a)
        let rb = &MemoryMarshal.GetArrayDataReference(b)
        let rc = &MemoryMarshal.GetArrayDataReference(c)
        let un = unativeint n
        let uw = unativeint w
        let wide = Vector512.IsHardwareAccelerated && w < 8
        // with n ≥ w the last n − singles columns (and the leftover rows) go through one masked vector pass at the end
        // (see gemm)
        let vecTail = n >= w && singles < n
        let mutable r = 0
        while r + 3 < n do
            // first column chunk that reaches column r
            let mutable j = r - r % w
            // 512-bit pass where the hardware has it (see gemm)
            if wide then
                while j + 16 <= n do
                    let mutable s00 = Vector512<float>.Zero
                    let mutable s01 = Vector512<float>.Zero
                    let mutable s10 = Vector512<float>.Zero
                    let mutable s11 = Vector512<float>.Zero
                    let mutable s20 = Vector512<float>.Zero
                    let mutable s21 = Vector512<float>.Zero
                    let mutable s30 = Vector512<float>.Zero
                    let mutable s31 = Vector512<float>.Zero
                    for i in 0 .. rows - 1 do
                        let oa = aOff + i * n + r
                        let ob = unativeint (bOff + i * n + j)
                        let b0 = Vector512.LoadUnsafe(&rb, ob)
                        let b1 = Vector512.LoadUnsafe(&rb, ob + 8un)
                        let x0 = Vector512.Create(Unsafe.Add(&ra, oa))
                        let x1 = Vector512.Create(Unsafe.Add(&ra, oa + 1))
                        let x2 = Vector512.Create(Unsafe.Add(&ra, oa + 2))
                        let x3 = Vector512.Create(Unsafe.Add(&ra, oa + 3))
                        s00 <- Vector512.FusedMultiplyAdd(x0, b0, s00)
                        s01 <- Vector512.FusedMultiplyAdd(x0, b1, s01)
                        s10 <- Vector512.FusedMultiplyAdd(x1, b0, s10)
                        s11 <- Vector512.FusedMultiplyAdd(x1, b1, s11)
                        s20 <- Vector512.FusedMultiplyAdd(x2, b0, s20)
                        s21 <- Vector512.FusedMultiplyAdd(x2, b1, s21)
                        s30 <- Vector512.FusedMultiplyAdd(x3, b0, s30)
                        s31 <- Vector512.FusedMultiplyAdd(x3, b1, s31)
                    let oc = unativeint (cOff + r * n + j)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc) + s00, &rc, oc)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + 8un) + s01, &rc, oc + 8un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + un) + s10, &rc, oc + un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + un + 8un) + s11, &rc, oc + un + 8un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + 2un * un) + s20, &rc, oc + 2un * un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + 2un * un + 8un) + s21, &rc, oc + 2un * un + 8un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + 3un * un) + s30, &rc, oc + 3un * un)
                    Vector512.StoreUnsafe(Vector512.LoadUnsafe(&rc, oc + 3un * un + 8un) + s31, &rc, oc + 3un * un + 8un)
                    j <- j + 16
            while j + 2 * w <= pairs do
                let mutable s00 = Vector<float>.Zero
                let mutable s01 = Vector<float>.Zero
                let mutable s10 = Vector<float>.Zero
                let mutable s11 = Vector<float>.Zero
                let mutable s20 = Vector<float>.Zero
                let mutable s21 = Vector<float>.Zero
                let mutable s30 = Vector<float>.Zero
                let mutable s31 = Vector<float>.Zero
                for i in 0 .. rows - 1 do
                    let oa = aOff + i * n + r
                    let ob = unativeint (bOff + i * n + j)
                    let b0 = Vector.LoadUnsafe(&rb, ob)
                    let b1 = Vector.LoadUnsafe(&rb, ob + uw)
                    let x0 = Vector<float>(Unsafe.Add(&ra, oa))
                    let x1 = Vector<float>(Unsafe.Add(&ra, oa + 1))
                    let x2 = Vector<float>(Unsafe.Add(&ra, oa + 2))
                    let x3 = Vector<float>(Unsafe.Add(&ra, oa + 3))
                    s00 <- Vector.FusedMultiplyAdd(x0, b0, s00)
                    s01 <- Vector.FusedMultiplyAdd(x0, b1, s01)
                    s10 <- Vector.FusedMultiplyAdd(x1, b0, s10)
                    s11 <- Vector.FusedMultiplyAdd(x1, b1, s11)
                    s20 <- Vector.FusedMultiplyAdd(x2, b0, s20)
                    s21 <- Vector.FusedMultiplyAdd(x2, b1, s21)
                    s30 <- Vector.FusedMultiplyAdd(x3, b0, s30)
                    s31 <- Vector.FusedMultiplyAdd(x3, b1, s31)
                let oc = unativeint (cOff + r * n + j)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc) + s00, &rc, oc)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + uw) + s01, &rc, oc + uw)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + un) + s10, &rc, oc + un)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + un + uw) + s11, &rc, oc + un + uw)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 2un * un) + s20, &rc, oc + 2un * un)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 2un * un + uw) + s21, &rc, oc + 2un * un + uw)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 3un * un) + s30, &rc, oc + 3un * un)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 3un * un + uw) + s31, &rc, oc + 3un * un + uw)
                j <- j + 2 * w
            while j + w <= singles do
                let mutable s0 = Vector<float>.Zero
                let mutable s1 = Vector<float>.Zero
                let mutable s2 = Vector<float>.Zero
                let mutable s3 = Vector<float>.Zero
                for i in 0 .. rows - 1 do
                    let oa = aOff + i * n + r
                    let b0 = Vector.LoadUnsafe(&rb, unativeint (bOff + i * n + j))
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa)), b0, s0)
                    s1 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 1)), b0, s1)
                    s2 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 2)), b0, s2)
                    s3 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 3)), b0, s3)
                let oc = unativeint (cOff + r * n + j)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc) + s0, &rc, oc)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + un) + s1, &rc, oc + un)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 2un * un) + s2, &rc, oc + 2un * un)
                Vector.StoreUnsafe(Vector.LoadUnsafe(&rc, oc + 3un * un) + s3, &rc, oc + 3un * un)
                j <- j + w
            while not vecTail && j < n do
                let mutable s0 = 0.0
                let mutable s1 = 0.0
                let mutable s2 = 0.0
                let mutable s3 = 0.0
                for i in 0 .. rows - 1 do
                    let oa = aOff + i * n + r
                    let v = b.[bOff + i * n + j]
                    s0 <- Math.FusedMultiplyAdd(a.[oa], v, s0)
                    s1 <- Math.FusedMultiplyAdd(a.[oa + 1], v, s1)
                    s2 <- Math.FusedMultiplyAdd(a.[oa + 2], v, s2)
                    s3 <- Math.FusedMultiplyAdd(a.[oa + 3], v, s3)
                let oc = cOff + r * n + j
                c.[oc] <- c.[oc] + s0
                c.[oc + n] <- c.[oc + n] + s1
                c.[oc + 2 * n] <- c.[oc + 2 * n] + s2
                c.[oc + 3 * n] <- c.[oc + 3 * n] + s3
                j <- j + 1
            r <- r + 4
        let rMain = r
        // leftover rows (n mod 4), columns col ≥ r (without the vector tail)
        while not vecTail && r < n do
            for j in r .. n - 1 do
                let mutable s0 = 0.0
                for i in 0 .. rows - 1 do s0 <- Math.FusedMultiplyAdd(a.[aOff + i * n + r], b.[bOff + i * n + j], s0)
                let oc = cOff + r * n + j
                c.[oc] <- c.[oc] + s0
            r <- r + 1
        // the last n − singles (< w) columns of every row of C: one Vector<float> ending at column n, eight rows of C
        // (eight independent FMA chains) per pass; a row of a four-row block adds only the lanes of columns ≥ singles
        // (the others were added above), a leftover row (≥ rMain, n mod 4 of them) only those of columns ≥ its own
        // index, which this pass covers (rMain ≥ n − 3 ≥ n − w)
        if vecTail then
            let t0 = n - w
            let lanes = Vector<float>.Indices + Vector<float>(float t0)
            let keepMain = Vector.GreaterThanOrEqual(lanes, Vector<float>(float singles))
            // lanes to add in row `row` of C
            let inline keepFrom (row: int) =
                if row < rMain then keepMain else Vector.GreaterThanOrEqual(lanes, Vector<float>(float row))
            let mutable q = 0
            while q + 7 < n do
                let mutable s0 = Vector<float>.Zero
                let mutable s1 = Vector<float>.Zero
                let mutable s2 = Vector<float>.Zero
                let mutable s3 = Vector<float>.Zero
                let mutable s4 = Vector<float>.Zero
                let mutable s5 = Vector<float>.Zero
                let mutable s6 = Vector<float>.Zero
                let mutable s7 = Vector<float>.Zero
                for i in 0 .. rows - 1 do
                    let oa = aOff + i * n + q
                    let b0 = Vector.LoadUnsafe(&rb, unativeint (bOff + i * n + t0))
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa)), b0, s0)
                    s1 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 1)), b0, s1)
                    s2 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 2)), b0, s2)
                    s3 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 3)), b0, s3)
                    s4 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 4)), b0, s4)
                    s5 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 5)), b0, s5)
                    s6 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 6)), b0, s6)
                    s7 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, oa + 7)), b0, s7)
                addLanes c (cOff + q * n + t0) (keepFrom q) s0
                addLanes c (cOff + (q + 1) * n + t0) (keepFrom (q + 1)) s1
                addLanes c (cOff + (q + 2) * n + t0) (keepFrom (q + 2)) s2
                addLanes c (cOff + (q + 3) * n + t0) (keepFrom (q + 3)) s3
                addLanes c (cOff + (q + 4) * n + t0) (keepFrom (q + 4)) s4
                addLanes c (cOff + (q + 5) * n + t0) (keepFrom (q + 5)) s5
                addLanes c (cOff + (q + 6) * n + t0) (keepFrom (q + 6)) s6
                addLanes c (cOff + (q + 7) * n + t0) (keepFrom (q + 7)) s7
                q <- q + 8
            while q < n do
                let mutable s0 = Vector<float>.Zero
                for i in 0 .. rows - 1 do
                    s0 <- Vector.FusedMultiplyAdd(Vector<float>(Unsafe.Add(&ra, aOff + i * n + q)), Vector.LoadUnsafe(&rb, unativeint (bOff + i * n + t0)), s0)
                addLanes c (cOff + q * n + t0) (keepFrom q) s0
                q <- q + 1

    /// out[i] = x_iᵀ M x_i for the rows x_i (length n, row stride n, rows [row0, row0 + rows) of x) and an n×n M;
    /// `scratch` holds rows·n values (x M, by gemm), and the row dots use one vector accumulator in column order.
    let quadraticForms (x: float[]) (row0: int) (rows: int) (n: int) (m: float[]) (scratch: float[]) (out: float[]) (outOff: int) =
        check "out" out outOff rows
        gemm x (row0 * n) rows n m n scratch 0
        for i in 0 .. rows - 1 do
            out.[outOff + i] <- SpanKernels.rowDot (ReadOnlySpan<float>(scratch, i * n, n)) (ReadOnlySpan<float>(x, (row0 + i) * n, n))

    /// out[i] = ‖x_i B‖² = x_i (B Bᵀ) x_iᵀ for the rows x_i (as in quadraticForms) and an upper-triangular n×n B (a
    /// quadratic form with M = BBᵀ given by its factor, e.g. sᵀΣ⁻¹s with B = (L⁻¹)ᵀ for Σ = LLᵀ): `scratch` holds rows·n
    /// values (x B, by gemmUpperB: half the work of quadraticForms), and the squares are summed with one vector
    /// accumulator in column order.
    let quadraticFormsUpperFactor (x: float[]) (row0: int) (rows: int) (n: int) (b: float[]) (scratch: float[]) (out: float[]) (outOff: int) =
        check "out" out outOff rows
        gemmUpperB x (row0 * n) rows n b n scratch 0
        for i in 0 .. rows - 1 do
            let y = ReadOnlySpan<float>(scratch, i * n, n)
            out.[outOff + i] <- SpanKernels.rowDot y y

    /// A copy of the n×n row-major a, transposed.
    let transpose (a: float[]) (n: int) =
        check "a" a 0 (n * n)
        Array.init (n * n) (fun i -> a.[(i % n) * n + i / n])

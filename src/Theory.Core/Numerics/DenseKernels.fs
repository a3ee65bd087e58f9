namespace Theory.Core.Numerics

open System
open System.Numerics
open System.Runtime.InteropServices
open System.Runtime.Intrinsics
open System.Threading.Tasks
open Theory.Core
open Microsoft.FSharp.NativeInterop

#nowarn "9" // NativePtr: the arrays are pinned by `fixed` for the duration of each native call

/// Which implementation runs the large matrix–vector and matrix–matrix products of the simulation engines.
type DenseBackend =
    /// Managed SIMD (System.Numerics.Vector), rows split across cores. Bit-identical for any thread count and on every
    /// machine with the same vector width (each output element is one thread's fixed-order reduction).
    | Managed = 0
    /// Debian's libopenblas (cblas_dgemv / cblas_dgemm through P/Invoke). Differs from Managed by rounding only; the
    /// bits can depend on the OpenBLAS build and its thread count.
    | OpenBlas = 1

/// P/Invoke bindings to the C interface of a system OpenBLAS (Debian: libopenblas0-pthread, libopenblas.so.0).
/// Only loaded when asked for; IsAvailable reports whether the library could be loaded.
module internal NativeBlas =
    [<Literal>]
    let Library = "libopenblas.so.0"
    // CBLAS enums: row-major 101, no transpose 111, transpose 112.
    [<Literal>]
    let RowMajor = 101
    [<Literal>]
    let NoTrans = 111
    [<Literal>]
    let Trans = 112

    [<DllImport(Library, EntryPoint = "cblas_dgemv")>]
    extern void dgemv(int order, int trans, int m, int n, float alpha, nativeint a, int lda, nativeint x, int incx, float beta, nativeint y, int incy)

    [<DllImport(Library, EntryPoint = "cblas_dgemm")>]
    extern void dgemm(int order, int transA, int transB, int m, int n, int k, float alpha, nativeint a, int lda, nativeint b, int ldb, float beta, nativeint c, int ldc)

    let private loaded =
        lazy
            (let mutable h = IntPtr.Zero
             NativeLibrary.TryLoad(Library, &h))

    /// True when libopenblas.so.0 loads on this machine.
    let isAvailable () = loaded.Force()

/// The span kernels every other kernel builds on (one implementation of the dot product and of axpy).
module internal SpanKernels =
    /// Σ a_i b_i (equal lengths): two vector accumulators with FMA, then the scalar tail.
    let dot (a: ReadOnlySpan<float>) (b: ReadOnlySpan<float>) =
        let va = MemoryMarshal.Cast<float, Vector<float>>(a)
        let vb = MemoryMarshal.Cast<float, Vector<float>>(b)
        let mutable acc0 = Vector<float>.Zero
        let mutable acc1 = Vector<float>.Zero
        let mutable v = 0
        while v + 1 < va.Length do
            acc0 <- Vector.FusedMultiplyAdd(va.[v], vb.[v], acc0)
            acc1 <- Vector.FusedMultiplyAdd(va.[v + 1], vb.[v + 1], acc1)
            v <- v + 2
        if v < va.Length then acc0 <- Vector.FusedMultiplyAdd(va.[v], vb.[v], acc0)
        let mutable s = Vector.Sum(acc0 + acc1)
        for i in va.Length * Vector<float>.Count .. a.Length - 1 do
            s <- s + a.[i] * b.[i]
        s

    /// (Σ_{i<a.Length} a_i b_i, Σ_{i<c.Length} c_i b_i) in one pass over the shared b (a.Length, c.Length ≤ b.Length):
    /// each sum is computed exactly as `dot` computes it (same accumulators, same order), so the bits equal two calls
    /// of `dot`, at one read of b.
    let dotPair (a: ReadOnlySpan<float>) (c: ReadOnlySpan<float>) (b: ReadOnlySpan<float>) =
        let w = Vector<float>.Count
        let va = MemoryMarshal.Cast<float, Vector<float>>(a)
        let vc = MemoryMarshal.Cast<float, Vector<float>>(c)
        let vb = MemoryMarshal.Cast<float, Vector<float>>(b)
        let na, nc = va.Length, vc.Length
        let mutable a0 = Vector<float>.Zero
        let mutable a1 = Vector<float>.Zero
        let mutable c0 = Vector<float>.Zero
        let mutable c1 = Vector<float>.Zero
        let mutable v = 0
        while v + 1 < na && v + 1 < nc do
            a0 <- Vector.FusedMultiplyAdd(va.[v], vb.[v], a0)
            a1 <- Vector.FusedMultiplyAdd(va.[v + 1], vb.[v + 1], a1)
            c0 <- Vector.FusedMultiplyAdd(vc.[v], vb.[v], c0)
            c1 <- Vector.FusedMultiplyAdd(vc.[v + 1], vb.[v + 1], c1)
            v <- v + 2
        // the longer one goes on alone with the same pairing (pairs start at even v in both)
        let mutable u = v
        while u + 1 < na do
            a0 <- Vector.FusedMultiplyAdd(va.[u], vb.[u], a0)
            a1 <- Vector.FusedMultiplyAdd(va.[u + 1], vb.[u + 1], a1)
            u <- u + 2
        if u < na then a0 <- Vector.FusedMultiplyAdd(va.[u], vb.[u], a0)
        u <- v
        while u + 1 < nc do
            c0 <- Vector.FusedMultiplyAdd(vc.[u], vb.[u], c0)
            c1 <- Vector.FusedMultiplyAdd(vc.[u + 1], vb.[u + 1], c1)
            u <- u + 2
        if u < nc then c0 <- Vector.FusedMultiplyAdd(vc.[u], vb.[u], c0)
        let mutable sa = Vector.Sum(a0 + a1)
        for i in na * w .. a.Length - 1 do
            sa <- sa + a.[i] * b.[i]
        let mutable sc = Vector.Sum(c0 + c1)
        for i in nc * w .. c.Length - 1 do
            sc <- sc + c.[i] * b.[i]
        struct (sa, sc)

    /// y += alpha·x (equal lengths).
    let axpy (alpha: float) (x: ReadOnlySpan<float>) (y: Span<float>) =
        let vx = MemoryMarshal.Cast<float, Vector<float>>(x)
        let vy = MemoryMarshal.Cast<float, Vector<float>>(y)
        let va = Vector<float>(alpha)
        for v in 0 .. vx.Length - 1 do
            vy.[v] <- Vector.FusedMultiplyAdd(va, vx.[v], vy.[v])
        for i in vx.Length * Vector<float>.Count .. x.Length - 1 do
            y.[i] <- y.[i] + alpha * x.[i]

    /// out_i = x_i·a + y_i·b: two products and their sum, lane by lane (no fused multiply-add), so every element has
    /// the bits of the scalar expression x.[i] * a + y.[i] * b. out may be x or y (equal lengths).
    let combineInto (x: ReadOnlySpan<float>) (a: float) (y: ReadOnlySpan<float>) (b: float) (out: Span<float>) =
        let vx = MemoryMarshal.Cast<float, Vector<float>>(x)
        let vy = MemoryMarshal.Cast<float, Vector<float>>(y)
        let vo = MemoryMarshal.Cast<float, Vector<float>>(out)
        let va = Vector<float>(a)
        let vb = Vector<float>(b)
        for v in 0 .. vx.Length - 1 do
            vo.[v] <- vx.[v] * va + vy.[v] * vb
        for i in vx.Length * Vector<float>.Count .. x.Length - 1 do
            out.[i] <- x.[i] * a + y.[i] * b

    /// Σ a_i x_i with ONE vector accumulator (FMA, chunks in order), Vector.Sum, then the scalar tail: the per-row
    /// arithmetic of every managed mat-vec below (row-blocked or not), so they all give the same bits per row.
    let rowDot (a: ReadOnlySpan<float>) (x: ReadOnlySpan<float>) =
        let va = MemoryMarshal.Cast<float, Vector<float>>(a)
        let vx = MemoryMarshal.Cast<float, Vector<float>>(x)
        let mutable acc = Vector<float>.Zero
        for v in 0 .. va.Length - 1 do
            acc <- Vector.FusedMultiplyAdd(va.[v], vx.[v], acc)
        let mutable s = Vector.Sum acc
        for i in va.Length * Vector<float>.Count .. a.Length - 1 do
            s <- s + a.[i] * x.[i]
        s

    /// tanh with Vector&lt;float&gt; only: sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|), the scalar tail by Math.Tanh
    /// (the second half of tanh, and the reference of its width-independence test). y may be x.
    let tanhNarrow (x: ReadOnlySpan<float>) (y: Span<float>) =
        let vx = MemoryMarshal.Cast<float, Vector<float>>(x)
        let vy = MemoryMarshal.Cast<float, Vector<float>>(y)
        let one = Vector<float>.One
        let m2 = Vector<float>(-2.0)
        for k in 0 .. vx.Length - 1 do
            let v = vx.[k]
            let t = Vector.Exp(m2 * Vector.Abs v)
            let r = (one - t) / (one + t)
            vy.[k] <- Vector.ConditionalSelect(Vector.LessThan(v, Vector<float>.Zero), -r, r)
        for i in vx.Length * Vector<float>.Count .. x.Length - 1 do
            y.[i] <- Math.Tanh x.[i]

    /// y_i = tanh(x_i), vectorised as sign(x)·(1 − e)/(1 + e) with e = exp(−2|x|) (absolute error a few 1e-16 against
    /// Math.Tanh; tested); the scalar tail uses Math.Tanh. y may be x. The first ⌊len/8⌋·8 elements go 512 bits at a
    /// time where Vector512 is hardware-accelerated (and Vector&lt;float&gt; is narrower), the rest through tanhNarrow;
    /// the per-lane arithmetic (the runtime's vector exp, then the same divisions and selects) is that of the
    /// Vector&lt;float&gt; pass, and the same ⌊len/w⌋·w elements are vectorised either way, so the bits do not depend on
    /// the width (tested).
    let tanh (x: ReadOnlySpan<float>) (y: Span<float>) =
        let mutable start = 0
        if Vector512.IsHardwareAccelerated && Vector<float>.Count < 8 then
            let wx = MemoryMarshal.Cast<float, Vector512<float>>(x)
            let wy = MemoryMarshal.Cast<float, Vector512<float>>(y)
            let one = Vector512<float>.One
            let m2 = Vector512.Create(-2.0)
            for k in 0 .. wx.Length - 1 do
                let v = wx.[k]
                let t = Vector512.Exp(m2 * Vector512.Abs v)
                let r = (one - t) / (one + t)
                wy.[k] <- Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), -r, r)
            start <- wx.Length * 8
        tanhNarrow (x.Slice start) (y.Slice start)

/// Row-blocked managed mat-vecs on row-major arrays with one per-row arithmetic (one vector accumulator, chunks in
/// order, Vector.Sum, scalar tail), so every caller (serial, row-parallel, with or without a second vector) gets the
/// same bits per row. Callers check the ranges.
module internal RowKernels =
    /// Σ_c a[o + c]·x[c] with one vector accumulator (FMA, chunks in order), Vector.Sum, then the scalar tail: the
    /// per-row arithmetic shared by matVecRows and matVec2Rows.
    let rowDot (a: float[]) (o: int) (x: float[]) (cols: int) =
        SpanKernels.rowDot (ReadOnlySpan<float>(a, o, cols)) (ReadOnlySpan<float>(x, 0, cols))

    /// Rows [r0, r1) of y = scale·A x for a row-major A with `cols` columns, four rows per pass (x loaded once for
    /// four rows; four accumulators hide the FMA latency).
    let matVecRows (a: float[]) (cols: int) (x: float[]) (y: float[]) (scale: float) (r0: int) (r1: int) =
        let w = Vector<float>.Count
        let tail = cols - cols % w
        let ra = &MemoryMarshal.GetArrayDataReference(a)
        let rx = &MemoryMarshal.GetArrayDataReference(x)
        let mutable r = r0
        while r + 3 < r1 do
            let o0 = unativeint (r * cols)
            let o1 = o0 + unativeint cols
            let o2 = o1 + unativeint cols
            let o3 = o2 + unativeint cols
            let mutable a0 = Vector<float>.Zero
            let mutable a1 = Vector<float>.Zero
            let mutable a2 = Vector<float>.Zero
            let mutable a3 = Vector<float>.Zero
            let mutable c = 0
            while c < tail do
                let uc = unativeint c
                let v = Vector.LoadUnsafe(&rx, uc)
                a0 <- Vector.FusedMultiplyAdd(Vector.LoadUnsafe(&ra, o0 + uc), v, a0)
                a1 <- Vector.FusedMultiplyAdd(Vector.LoadUnsafe(&ra, o1 + uc), v, a1)
                a2 <- Vector.FusedMultiplyAdd(Vector.LoadUnsafe(&ra, o2 + uc), v, a2)
                a3 <- Vector.FusedMultiplyAdd(Vector.LoadUnsafe(&ra, o3 + uc), v, a3)
                c <- c + w
            let mutable s0 = Vector.Sum a0
            let mutable s1 = Vector.Sum a1
            let mutable s2 = Vector.Sum a2
            let mutable s3 = Vector.Sum a3
            let b0 = r * cols
            while c < cols do
                let v = x.[c]
                s0 <- s0 + a.[b0 + c] * v
                s1 <- s1 + a.[b0 + cols + c] * v
                s2 <- s2 + a.[b0 + 2 * cols + c] * v
                s3 <- s3 + a.[b0 + 3 * cols + c] * v
                c <- c + 1
            y.[r] <- scale * s0
            y.[r + 1] <- scale * s1
            y.[r + 2] <- scale * s2
            y.[r + 3] <- scale * s3
            r <- r + 4
        while r < r1 do
            y.[r] <- scale * rowDot a (r * cols) x cols
            r <- r + 1

    /// Rows [r0, r1) of y1 = A x1 and y2 = A x2 in one pass over A, with exactly the per-row arithmetic of matVecRows
    /// (so a state-only step and a state-and-tangent step give the same state bits).
    let matVec2Rows (a: float[]) (cols: int) (x1: float[]) (x2: float[]) (y1: float[]) (y2: float[]) (r0: int) (r1: int) =
        let w = Vector<float>.Count
        let tail = cols - cols % w
        let ra = &MemoryMarshal.GetArrayDataReference(a)
        let rx = &MemoryMarshal.GetArrayDataReference(x1)
        let rv = &MemoryMarshal.GetArrayDataReference(x2)
        let mutable r = r0
        while r + 1 < r1 do
            let o0 = unativeint (r * cols)
            let o1 = o0 + unativeint cols
            let mutable a0 = Vector<float>.Zero
            let mutable a1 = Vector<float>.Zero
            let mutable b0 = Vector<float>.Zero
            let mutable b1 = Vector<float>.Zero
            let mutable c = 0
            while c < tail do
                let uc = unativeint c
                let u = Vector.LoadUnsafe(&rx, uc)
                let v = Vector.LoadUnsafe(&rv, uc)
                let m0 = Vector.LoadUnsafe(&ra, o0 + uc)
                let m1 = Vector.LoadUnsafe(&ra, o1 + uc)
                a0 <- Vector.FusedMultiplyAdd(m0, u, a0)
                a1 <- Vector.FusedMultiplyAdd(m1, u, a1)
                b0 <- Vector.FusedMultiplyAdd(m0, v, b0)
                b1 <- Vector.FusedMultiplyAdd(m1, v, b1)
                c <- c + w
            let mutable s0 = Vector.Sum a0
            let mutable s1 = Vector.Sum a1
            let mutable t0 = Vector.Sum b0
            let mutable t1 = Vector.Sum b1
            let b = r * cols
            while c < cols do
                s0 <- s0 + a.[b + c] * x1.[c]
                s1 <- s1 + a.[b + cols + c] * x1.[c]
                t0 <- t0 + a.[b + c] * x2.[c]
                t1 <- t1 + a.[b + cols + c] * x2.[c]
                c <- c + 1
            y1.[r] <- s0
            y1.[r + 1] <- s1
            y2.[r] <- t0
            y2.[r + 1] <- t1
            r <- r + 2
        if r < r1 then
            y1.[r] <- rowDot a (r * cols) x1 cols
            y2.[r] <- rowDot a (r * cols) x2 cols

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

    /// Σ_i a[ao+i]·b[bo+i], i < len (the span kernel SpanKernels.dot: two accumulators, FMA).
    let dot (a: float[]) (ao: int) (b: float[]) (bo: int) (len: int) =
        check "a" a ao len
        check "b" b bo len
        SpanKernels.dot (ReadOnlySpan<float>(a, ao, len)) (ReadOnlySpan<float>(b, bo, len))

    /// (Σ_{i<la} a[i]·b[i], Σ_{i<lc} c[i]·b[i]) in one pass over b (SpanKernels.dotPair): the same bits as two calls
    /// of `dot`.
    let dotPair (a: float[]) (la: int) (c: float[]) (lc: int) (b: float[]) =
        check "a" a 0 la
        check "c" c 0 lc
        check "b" b 0 (max la lc)
        SpanKernels.dotPair (ReadOnlySpan<float>(a, 0, la)) (ReadOnlySpan<float>(c, 0, lc)) (ReadOnlySpan<float>(b, 0, max la lc))

    /// y[yo+i] += alpha·x[xo+i], i < len (the span kernel SpanKernels.axpy).
    let axpy (alpha: float) (x: float[]) (xo: int) (y: float[]) (yo: int) (len: int) =
        check "x" x xo len
        check "y" y yo len
        SpanKernels.axpy alpha (ReadOnlySpan<float>(x, xo, len)) (Span<float>(y, yo, len))

    /// out[r] = Σ_c m[r·n + c]·v[c] for r < n (m is n×n row-major): RowKernels.matVecRows.
    let matVec (m: float[]) (v: float[]) (out: float[]) (n: int) =
        check "m" m 0 (n * n)
        check "v" v 0 n
        check "out" out 0 n
        RowKernels.matVecRows m n v out 1.0 0 n

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

    /// In-place rank-one update (sign +1: UᵀU + xxᵀ) or downdate (sign −1: UᵀU − xxᵀ) of an upper Cholesky factor U
    /// (row-major, U = Lᵀ; x is overwritten). False when a downdate would lose positive definiteness (U is then
    /// unusable). The classical column recursion (LINPACK dchud): for each k, r = √(U_kk² ± x_k²), c = r/U_kk,
    /// s = x_k/U_kk, and for i &gt; k U_ki ← (U_ki ± s·x_i)/c, x_i ← c·x_i − s·U_ki. Stored as U the k-th column of L is
    /// the contiguous row k, so the i-loop runs in SIMD vectors; each element is the scalar expression evaluated in
    /// the same order (no FMA), so U is bit for bit the transpose of the row-major lower-factor recursion (tested).
    let choleskyUpdateUpper (u: float[]) (n: int) (x: float[]) (sign: float) : bool =
        check "u" u 0 (n * n)
        check "x" x 0 n
        let w = Vector<float>.Count
        let mutable ok = true
        let mutable k = 0
        while ok && k < n do
            let o = k * n
            let ukk = u.[o + k]
            let r2 = ukk * ukk + sign * x.[k] * x.[k]
            if not (r2 > 0.0) then ok <- false
            else
                let r = Math.Sqrt r2
                let c = r / ukk
                let s = x.[k] / ukk
                let ss = sign * s
                u.[o + k] <- r
                let mutable i = k + 1
                if n - i >= w then
                    let vss = Vector<float>(ss)
                    let vc = Vector<float>(c)
                    let vs = Vector<float>(s)
                    while i + w <= n do
                        let xi = load x i
                        let uki = (load u (o + i) + vss * xi) / vc
                        store uki u (o + i)
                        store (vc * xi - vs * uki) x i
                        i <- i + w
                while i < n do
                    let uki = (u.[o + i] + ss * x.[i]) / c
                    u.[o + i] <- uki
                    x.[i] <- c * x.[i] - s * uki
                    i <- i + 1
            k <- k + 1
        ok

    /// l[r·n + c] = u[c·n + r] for c ≤ r: the lower triangle of l from the upper triangle of u (l = uᵀ there; the strict
    /// upper triangle of l is left as it is).
    let lowerFromUpper (u: float[]) (l: float[]) (n: int) =
        check "u" u 0 (n * n)
        check "l" l 0 (n * n)
        for c in 0 .. n - 1 do
            let o = c * n
            for r in c .. n - 1 do
                l.[r * n + c] <- u.[o + r]

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
        SpanKernels.tanh (ReadOnlySpan<float>(x, 0, n)) (Span<float>(y, 0, n))

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

    /// y1 = m·x1 and y2 = m·x2 for the rows r0 ≤ r < r1 of an n×n row-major matrix, each row read once:
    /// RowKernels.matVec2Rows (the same per-row bits as matVec).
    let matVecPairRows (m: float[]) (n: int) (x1: float[]) (x2: float[]) (y1: float[]) (y2: float[]) (r0: int) (r1: int) =
        check "m" m 0 (n * n)
        check "x1" x1 0 n
        check "x2" x2 0 n
        check "y1" y1 0 n
        check "y2" y2 0 n
        if r0 < 0 || r1 > n || r0 > r1 then invalidArg "r0" (sprintf "row range [%d, %d) outside [0, %d)" r0 r1 n)
        RowKernels.matVec2Rows m n x1 x2 y1 y2 r0 r1

/// The backend named by the environment variable THEORY_BLAS (internal; DenseKernels.Backend reads it once).
module internal DenseBackendChoice =
    /// auto (or unset/empty): OpenBLAS where it loads, managed elsewhere; managed; openblas (needs the library). Case
    /// does not matter. Anything else, or openblas without libopenblas.so.0, raises ParameterOutOfDomainException.
    let parse (value: string) (openBlasAvailable: bool) =
        let v = if isNull value then "" else value.Trim().ToLowerInvariant()
        match v with
        | "" | "auto" -> if openBlasAvailable then DenseBackend.OpenBlas else DenseBackend.Managed
        | "managed" -> DenseBackend.Managed
        | "openblas" when openBlasAvailable -> DenseBackend.OpenBlas
        | "openblas" ->
            raise (ParameterOutOfDomainException("THEORY_BLAS", value,
                    "auto or managed on this machine: libopenblas.so.0 is not installed (Debian: apt-get install libopenblas0-pthread)"))
        | _ -> raise (ParameterOutOfDomainException("THEORY_BLAS", value, "auto, managed or openblas"))

/// The one set of dense SIMD kernels of the library, shared by the core and the engines (C# face; the F# core calls
/// the array-and-offset face SmallDense above, built on the same SpanKernels) (row-major arrays and spans,
/// managed System.Numerics.Vector, no allocation per call). Large products split rows across cores; every output
/// element is written by exactly one thread with a fixed reduction order, so results do not depend on the thread
/// count. The large matrix–vector product can run on a native OpenBLAS instead (Backend); everything else is managed.
[<AbstractClass; Sealed>]
type DenseKernels private () =
    // Resolved on first use (not in the type initialiser, where a bad THEORY_BLAS would surface as a
    // TypeInitializationException and leave the type unusable).
    static let mutable backend : DenseBackend voption = ValueNone

    static let workers () = Math.Min(Environment.ProcessorCount, 16)

    static let checkRange (name: string) (length: int) (offset: int) (count: int) =
        if offset < 0 || count < 0 || offset + count > length then
            invalidArg name (sprintf "range [%d, %d) outside an array of length %d" offset (offset + count) length)

    /// Splits [0, n) into SIMD-aligned chunks, one per worker, when the work is large enough; otherwise runs inline.
    static let runRows (n: int) (work: int64) (body: int -> int -> unit) =
        let k = workers ()
        if work < DenseKernels.ParallelThreshold || k <= 1 || n < 64 then body 0 n
        else
            let w = Vector<float>.Count
            let chunk = ((n + k - 1) / k + w - 1) / w * w
            let count = (n + chunk - 1) / chunk
            Parallel.For(0, count, fun c -> body (c * chunk) (min n ((c + 1) * chunk))) |> ignore

    /// Minimum rows·cols·batch work before the kernels go parallel (below it a thread hand-off costs more than it saves).
    static member ParallelThreshold = 1L <<< 17

    /// The backend of the large products (MatVec on arrays, MatVecBatch). Default: the environment variable
    /// THEORY_BLAS = auto | managed | openblas; auto (or unset) takes OpenBLAS where libopenblas.so.0 loads (faster at
    /// N ≲ 1000, equal above; bench/compare-rate-step.sh) and Managed elsewhere. Managed gives the same bits on every
    /// machine with the same vector width; OpenBLAS the same bits run to run on one machine. Setting OpenBlas on a machine without libopenblas.so.0 raises
    /// InvalidOperationException saying how to install it.
    static member Backend
        with get () =
            match backend with
            | ValueSome b -> b
            | ValueNone ->
                let b = DenseBackendChoice.parse (Environment.GetEnvironmentVariable "THEORY_BLAS") (NativeBlas.isAvailable ())
                backend <- ValueSome b
                b
        and set (value: DenseBackend) =
            if value = DenseBackend.OpenBlas && not (NativeBlas.isAvailable ()) then
                raise (InvalidOperationException "the OpenBLAS backend needs libopenblas.so.0 (Debian: apt-get install libopenblas0-pthread)")
            backend <- ValueSome value

    /// True when the native OpenBLAS backend can be selected on this machine.
    static member OpenBlasAvailable = NativeBlas.isAvailable ()

    /// Σ a_i b_i over two equal-length spans.
    static member Dot(a: ReadOnlySpan<float>, b: ReadOnlySpan<float>) : float =
        if a.Length <> b.Length then invalidArg "b" (sprintf "length %d differs from a's %d" b.Length a.Length)
        SpanKernels.dot a b

    /// Euclidean norm of a span.
    static member Norm(x: ReadOnlySpan<float>) = Math.Sqrt(DenseKernels.Dot(x, x))

    /// y += alpha·x (equal lengths).
    static member Axpy(alpha: float, x: ReadOnlySpan<float>, y: Span<float>) =
        if x.Length <> y.Length then invalidArg "y" (sprintf "length %d differs from x's %d" y.Length x.Length)
        SpanKernels.axpy alpha x y

    /// y = A x for a row-major rows×m matrix A given as a span (m = x.Length); serial, two rows per pass.
    static member MatVec(a: ReadOnlySpan<float>, rows: int, x: ReadOnlySpan<float>, y: Span<float>) =
        let m = x.Length
        if a.Length <> rows * m || y.Length <> rows then
            invalidArg "a" (sprintf "MatVec: A has %d entries, x %d, y %d (need rows*m = %d and y = rows = %d)" a.Length m y.Length (rows * m) rows)
        for r in 0 .. rows - 1 do
            y.[r] <- DenseKernels.Dot(a.Slice(r * m, m), x)

    /// y = scale·A x for a row-major rows×cols array A (arrays, so rows can be split across cores). With the OpenBlas
    /// backend this is one cblas_dgemv. Allocation-free.
    static member MatVec(a: float[], rows: int, cols: int, x: float[], y: float[], scale: float) =
        checkRange "a" a.Length 0 (rows * cols)
        checkRange "x" x.Length 0 cols
        checkRange "y" y.Length 0 rows
        if DenseKernels.Backend = DenseBackend.OpenBlas && rows > 0 && cols > 0 then
            use pa = fixed a
            use px = fixed x
            use py = fixed y
            NativeBlas.dgemv(NativeBlas.RowMajor, NativeBlas.NoTrans, rows, cols, scale, NativePtr.toNativeInt pa, cols,
                             NativePtr.toNativeInt px, 1, 0.0, NativePtr.toNativeInt py, 1)
        else runRows rows (int64 rows * int64 cols) (fun r0 r1 -> RowKernels.matVecRows a cols x y scale r0 r1)

    /// y = A x for a row-major rows×cols array, serial and always managed (whatever Backend says): for small
    /// networks stepped inside a parallel sweep, and where the bits must match MatVec2Managed. Allocation-free.
    static member MatVecManaged(a: float[], rows: int, cols: int, x: float[], y: float[]) =
        checkRange "a" a.Length 0 (rows * cols)
        checkRange "x" x.Length 0 cols
        checkRange "y" y.Length 0 rows
        RowKernels.matVecRows a cols x y 1.0 0 rows

    /// y = A x for a row-major rows×m span (m = x.Length), serial and managed, with the same bits per row as the
    /// array overload.
    static member MatVecManaged(a: ReadOnlySpan<float>, rows: int, x: ReadOnlySpan<float>, y: Span<float>) =
        let m = x.Length
        if a.Length <> rows * m || y.Length <> rows then
            invalidArg "a" (sprintf "MatVecManaged: A has %d entries, x %d, y %d (need rows*m = %d and y = rows = %d)" a.Length m y.Length (rows * m) rows)
        for r in 0 .. rows - 1 do
            y.[r] <- SpanKernels.rowDot (a.Slice(r * m, m)) x

    /// y1 = A x1 and y2 = A x2 in one pass over A (row-major rows×cols arrays), serial and managed; y1 has the same
    /// bits as MatVecManaged(a, rows, cols, x1, y1) (a state step with and without its tangent vector agree).
    static member MatVec2Managed(a: float[], rows: int, cols: int, x1: float[], x2: float[], y1: float[], y2: float[]) =
        checkRange "a" a.Length 0 (rows * cols)
        checkRange "x1" x1.Length 0 cols
        checkRange "x2" x2.Length 0 cols
        checkRange "y1" y1.Length 0 rows
        checkRange "y2" y2.Length 0 rows
        RowKernels.matVec2Rows a cols x1 x2 y1 y2 0 rows

    /// y1 = A x1 and y2 = A x2 in one pass over A (row-major, rows×m with m = x1.Length); serial.
    static member MatVec2(a: ReadOnlySpan<float>, rows: int, x1: ReadOnlySpan<float>, x2: ReadOnlySpan<float>, y1: Span<float>, y2: Span<float>) =
        let m = x1.Length
        if a.Length <> rows * m || x2.Length <> m || y1.Length <> rows || y2.Length <> rows then
            invalidArg "a" "MatVec2: inconsistent sizes"
        let w = Vector<float>.Count
        let v1 = MemoryMarshal.Cast<float, Vector<float>>(x1)
        let v2 = MemoryMarshal.Cast<float, Vector<float>>(x2)
        let vecEnd = v1.Length * w
        for r in 0 .. rows - 1 do
            let row = a.Slice(r * m, m)
            let vr = MemoryMarshal.Cast<float, Vector<float>>(row)
            let mutable a1 = Vector<float>.Zero
            let mutable a2 = Vector<float>.Zero
            let mutable b1 = Vector<float>.Zero
            let mutable b2 = Vector<float>.Zero
            let mutable k = 0
            while k + 1 < v1.Length do
                a1 <- Vector.FusedMultiplyAdd(vr.[k], v1.[k], a1)
                b1 <- Vector.FusedMultiplyAdd(vr.[k], v2.[k], b1)
                a2 <- Vector.FusedMultiplyAdd(vr.[k + 1], v1.[k + 1], a2)
                b2 <- Vector.FusedMultiplyAdd(vr.[k + 1], v2.[k + 1], b2)
                k <- k + 2
            if k < v1.Length then
                a1 <- Vector.FusedMultiplyAdd(vr.[k], v1.[k], a1)
                b1 <- Vector.FusedMultiplyAdd(vr.[k], v2.[k], b1)
            let mutable s1 = Vector.Sum(a1 + a2)
            let mutable s2 = Vector.Sum(b1 + b2)
            for i in vecEnd .. m - 1 do
                s1 <- s1 + row.[i] * x1.[i]
                s2 <- s2 + row.[i] * x2.[i]
            y1.[r] <- s1
            y2.[r] <- s2

    /// For each of `batch` vectors r_b (rows of r from rOffset, length n): out_b = scale·M r_b, M n×n row-major. The
    /// product of M with an n×batch matrix (ensembles of states that share M). With the OpenBlas backend one dgemm.
    static member MatVecBatch(m: float[], n: int, r: float[], rOffset: int, output: float[], outOffset: int, batch: int, scale: float) =
        checkRange "m" m.Length 0 (n * n)
        checkRange "r" r.Length rOffset (n * batch)
        checkRange "output" output.Length outOffset (n * batch)
        if DenseKernels.Backend = DenseBackend.OpenBlas && n > 0 && batch > 0 then
            // out (batch×n) = scale · r (batch×n) · Mᵀ
            use pm = fixed m
            use pr = fixed &r.[rOffset]
            use po = fixed &output.[outOffset]
            NativeBlas.dgemm(NativeBlas.RowMajor, NativeBlas.NoTrans, NativeBlas.Trans, batch, n, n, scale, NativePtr.toNativeInt pr, n,
                             NativePtr.toNativeInt pm, n, 0.0, NativePtr.toNativeInt po, n)
        else
            runRows n (int64 n * int64 n * int64 batch) (fun i0 i1 ->
                let rm = &MemoryMarshal.GetArrayDataReference(m)
                let rr = &MemoryMarshal.GetArrayDataReference(r)
                let w = Vector<float>.Count
                let tail = n - n % w
                for i in i0 .. i1 - 1 do
                    let row = unativeint (i * n)
                    let mutable b = 0
                    // Four batch vectors per pass: each chunk of the row is loaded once for four dot products.
                    while b + 3 < batch do
                        let q0 = unativeint (rOffset + b * n)
                        let q1 = q0 + unativeint n
                        let q2 = q1 + unativeint n
                        let q3 = q2 + unativeint n
                        let mutable s0 = Vector<float>.Zero
                        let mutable s1 = Vector<float>.Zero
                        let mutable s2 = Vector<float>.Zero
                        let mutable s3 = Vector<float>.Zero
                        let mutable c = 0
                        while c < tail do
                            let uc = unativeint c
                            let x = Vector.LoadUnsafe(&rm, row + uc)
                            s0 <- Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(&rr, q0 + uc), s0)
                            s1 <- Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(&rr, q1 + uc), s1)
                            s2 <- Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(&rr, q2 + uc), s2)
                            s3 <- Vector.FusedMultiplyAdd(x, Vector.LoadUnsafe(&rr, q3 + uc), s3)
                            c <- c + w
                        let mutable d0 = Vector.Sum s0
                        let mutable d1 = Vector.Sum s1
                        let mutable d2 = Vector.Sum s2
                        let mutable d3 = Vector.Sum s3
                        let p = rOffset + b * n
                        while c < n do
                            let x = m.[i * n + c]
                            d0 <- d0 + x * r.[p + c]
                            d1 <- d1 + x * r.[p + n + c]
                            d2 <- d2 + x * r.[p + 2 * n + c]
                            d3 <- d3 + x * r.[p + 3 * n + c]
                            c <- c + 1
                        output.[outOffset + b * n + i] <- scale * d0
                        output.[outOffset + (b + 1) * n + i] <- scale * d1
                        output.[outOffset + (b + 2) * n + i] <- scale * d2
                        output.[outOffset + (b + 3) * n + i] <- scale * d3
                        b <- b + 4
                    while b < batch do
                        output.[outOffset + b * n + i] <- scale * SmallDense.dot m (i * n) r (rOffset + b * n) n
                        b <- b + 1)

    /// For each of `batch` vectors a_b: out_b = scale·Mᵀ a_b (overwrites out); M n×n row-major.
    static member MatTVecBatch(m: float[], n: int, a: float[], aOffset: int, output: float[], outOffset: int, batch: int, scale: float) =
        checkRange "m" m.Length 0 (n * n)
        checkRange "a" a.Length aOffset (n * batch)
        checkRange "output" output.Length outOffset (n * batch)
        // Column blocks: each thread owns out[·, j0..j1) and streams all rows of M.
        runRows n (int64 n * int64 n * int64 batch) (fun j0 j1 ->
            let len = j1 - j0
            for b in 0 .. batch - 1 do Array.Clear(output, outOffset + b * n + j0, len)
            for i in 0 .. n - 1 do
                for b in 0 .. batch - 1 do
                    let ai = a.[aOffset + b * n + i]
                    if ai <> 0.0 then SmallDense.axpy (scale * ai) m (i * n + j0) output (outOffset + b * n + j0) len)

    /// M += scale·Σ_b a_b r_bᵀ (rank-batch update of the n×n row-major M).
    static member RankUpdateBatch(m: float[], n: int, a: float[], aOffset: int, r: float[], rOffset: int, batch: int, scale: float) =
        checkRange "m" m.Length 0 (n * n)
        checkRange "a" a.Length aOffset (n * batch)
        checkRange "r" r.Length rOffset (n * batch)
        runRows n (int64 n * int64 n * int64 batch) (fun i0 i1 ->
            let rm = &MemoryMarshal.GetArrayDataReference(m)
            let rr = &MemoryMarshal.GetArrayDataReference(r)
            let w = Vector<float>.Count
            let tail = n - n % w
            for i in i0 .. i1 - 1 do
                let row = unativeint (i * n)
                // The row chunk stays in a register while all batch vectors are added (one load/store per chunk).
                let mutable c = 0
                while c < tail do
                    let uc = unativeint c
                    let mutable acc = Vector.LoadUnsafe(&rm, row + uc)
                    for b in 0 .. batch - 1 do
                        let coef = scale * a.[aOffset + b * n + i]
                        acc <- Vector.FusedMultiplyAdd(Vector<float>(coef), Vector.LoadUnsafe(&rr, unativeint (rOffset + b * n) + uc), acc)
                    Vector.StoreUnsafe(acc, &rm, row + uc)
                    c <- c + w
                while c < n do
                    let mutable acc = m.[i * n + c]
                    for b in 0 .. batch - 1 do
                        acc <- acc + scale * a.[aOffset + b * n + i] * r.[rOffset + b * n + c]
                    m.[i * n + c] <- acc
                    c <- c + 1)

    /// y[i] = tanh(x[i]), i < n: vectorised, absolute error a few 1e-16 against Math.Tanh (y may be x).
    static member Tanh(x: float[], y: float[], n: int) = SmallDense.tanhInto x y n

    /// y = tanh(x) elementwise over equal-length spans, the same arithmetic as the array overload (y may be x).
    static member Tanh(x: ReadOnlySpan<float>, y: Span<float>) =
        if x.Length <> y.Length then invalidArg "y" (sprintf "length %d differs from x's %d" y.Length x.Length)
        SpanKernels.tanh x y

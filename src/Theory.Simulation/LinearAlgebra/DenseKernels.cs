using System.Numerics;
using System.Runtime.InteropServices;

namespace Theory.Simulation.LinearAlgebra;

/// <summary>Dense kernels for the training engine on row-major arrays, managed SIMD (<see cref="Vector{T}"/>), no
/// allocation. Rows are split across cores for large sizes; every output element is written by exactly one thread,
/// so results do not depend on the thread count.</summary>
public static class DenseKernels
{
    /// <summary>Minimum n·n·batch work before the kernels go parallel.</summary>
    public const long ParallelThreshold = 1L << 17;

    /// <summary>Dot product of two equal-length spans.</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length, w = Vector<double>.Count, i = 0;
        var acc0 = Vector<double>.Zero; var acc1 = Vector<double>.Zero;
        var va = MemoryMarshal.Cast<double, Vector<double>>(a);
        var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
        int nv = va.Length, v = 0;
        for (; v + 1 < nv; v += 2) { acc0 += va[v] * vb[v]; acc1 += va[v + 1] * vb[v + 1]; }
        for (; v < nv; v++) acc0 += va[v] * vb[v];
        double s = Vector.Sum(acc0 + acc1);
        for (i = nv * w; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>Four dot products of <paramref name="a"/> with b0..b3 (a loaded once).</summary>
    public static void Dot4(ReadOnlySpan<double> a, ReadOnlySpan<double> b0, ReadOnlySpan<double> b1, ReadOnlySpan<double> b2, ReadOnlySpan<double> b3,
        out double d0, out double d1, out double d2, out double d3)
    {
        var va = MemoryMarshal.Cast<double, Vector<double>>(a);
        var v0 = MemoryMarshal.Cast<double, Vector<double>>(b0);
        var v1 = MemoryMarshal.Cast<double, Vector<double>>(b1);
        var v2 = MemoryMarshal.Cast<double, Vector<double>>(b2);
        var v3 = MemoryMarshal.Cast<double, Vector<double>>(b3);
        Vector<double> s0 = default, s1 = default, s2 = default, s3 = default;
        for (int v = 0; v < va.Length; v++)
        {
            var x = va[v];
            s0 += x * v0[v]; s1 += x * v1[v]; s2 += x * v2[v]; s3 += x * v3[v];
        }
        d0 = Vector.Sum(s0); d1 = Vector.Sum(s1); d2 = Vector.Sum(s2); d3 = Vector.Sum(s3);
        for (int i = va.Length * Vector<double>.Count; i < a.Length; i++)
        {
            d0 += a[i] * b0[i]; d1 += a[i] * b1[i]; d2 += a[i] * b2[i]; d3 += a[i] * b3[i];
        }
    }

    /// <summary>y += alpha·x.</summary>
    public static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int n = x.Length, w = Vector<double>.Count;
        var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        var va = new Vector<double>(alpha);
        for (int v = 0; v < vx.Length; v++) vy[v] += va * vx[v];
        for (int i = vx.Length * w; i < n; i++) y[i] += alpha * x[i];
    }

    /// <summary>For each of <paramref name="batch"/> vectors r_b (rows of <paramref name="r"/>, length n):
    /// out_b = scale·M r_b, with M n×n row-major.</summary>
    public static void MatVecBatch(double[] m, int n, double[] r, int rOffset, double[] output, int outOffset, int batch, double scale)
    {
        void Rows(int i0, int i1)
        {
            for (int i = i0; i < i1; i++)
            {
                var row = new ReadOnlySpan<double>(m, i * n, n);
                int b = 0;
                // Four batch vectors per pass: each chunk of the row is loaded once for four dot products.
                for (; b + 3 < batch; b += 4)
                {
                    Dot4(row, new ReadOnlySpan<double>(r, rOffset + b * n, n), new ReadOnlySpan<double>(r, rOffset + (b + 1) * n, n),
                        new ReadOnlySpan<double>(r, rOffset + (b + 2) * n, n), new ReadOnlySpan<double>(r, rOffset + (b + 3) * n, n),
                        out double d0, out double d1, out double d2, out double d3);
                    output[outOffset + b * n + i] = scale * d0;
                    output[outOffset + (b + 1) * n + i] = scale * d1;
                    output[outOffset + (b + 2) * n + i] = scale * d2;
                    output[outOffset + (b + 3) * n + i] = scale * d3;
                }
                for (; b < batch; b++)
                    output[outOffset + b * n + i] = scale * Dot(row, new ReadOnlySpan<double>(r, rOffset + b * n, n));
            }
        }
        RunRows(n, (long)n * n * batch, Rows);
    }

    /// <summary>For each of <paramref name="batch"/> vectors a_b: out_b = scale·Mᵀ a_b (overwrites out).</summary>
    public static void MatTVecBatch(double[] m, int n, double[] a, int aOffset, double[] output, int outOffset, int batch, double scale)
    {
        // Column blocks: each thread owns out[·, j0..j1) and streams all rows of M.
        void Cols(int j0, int j1)
        {
            int len = j1 - j0;
            for (int b = 0; b < batch; b++) new Span<double>(output, outOffset + b * n + j0, len).Clear();
            for (int i = 0; i < n; i++)
            {
                var row = new ReadOnlySpan<double>(m, i * n + j0, len);
                for (int b = 0; b < batch; b++)
                {
                    double ai = a[aOffset + b * n + i];
                    if (ai != 0.0) Axpy(scale * ai, row, new Span<double>(output, outOffset + b * n + j0, len));
                }
            }
        }
        RunRows(n, (long)n * n * batch, Cols);
    }

    /// <summary>M += scale·Σ_b a_b r_bᵀ (rank-batch update of the n×n row-major M).</summary>
    public static void RankUpdateBatch(double[] m, int n, double[] a, int aOffset, double[] r, int rOffset, int batch, double scale)
    {
        void Rows(int i0, int i1)
        {
            Span<double> coef = stackalloc double[batch];
            for (int i = i0; i < i1; i++)
            {
                for (int b = 0; b < batch; b++) coef[b] = scale * a[aOffset + b * n + i];
                var row = new Span<double>(m, i * n, n);
                var vrow = MemoryMarshal.Cast<double, Vector<double>>(row);
                int nv = vrow.Length;
                // The row chunk stays in a register while all batch vectors are added (one load/store per chunk).
                for (int v = 0; v < nv; v++)
                {
                    var acc = vrow[v];
                    for (int b = 0; b < batch; b++)
                        acc += new Vector<double>(coef[b]) * MemoryMarshal.Cast<double, Vector<double>>(new ReadOnlySpan<double>(r, rOffset + b * n, n))[v];
                    vrow[v] = acc;
                }
                for (int j = nv * Vector<double>.Count; j < n; j++)
                {
                    double acc = row[j];
                    for (int b = 0; b < batch; b++) acc += coef[b] * r[rOffset + b * n + j];
                    row[j] = acc;
                }
            }
        }
        RunRows(n, (long)n * n * batch, Rows);
    }

    private static void RunRows(int n, long work, Action<int, int> body)
    {
        int workers = Math.Min(Environment.ProcessorCount, 16);
        if (work < ParallelThreshold || workers <= 1 || n < 64) { body(0, n); return; }
        int chunk = (n + workers - 1) / workers;
        // Keep chunks SIMD-aligned in length where possible.
        int w = Vector<double>.Count;
        chunk = (chunk + w - 1) / w * w;
        int count = (n + chunk - 1) / chunk;
        Parallel.For(0, count, c => body(c * chunk, Math.Min(n, (c + 1) * chunk)));
    }

    /// <summary>y = A x for a row-major n×m matrix A (y has n entries, x has m).</summary>
    public static void MatVec(ReadOnlySpan<double> a, int rows, ReadOnlySpan<double> x, Span<double> y)
    {
        int m = x.Length;
        if (a.Length != rows * m || y.Length != rows) throw new ArgumentException("MatVec: inconsistent sizes");
        for (int r = 0; r < rows; r++) y[r] = Dot(a.Slice(r * m, m), x);
    }

    /// <summary>y1 = A x1 and y2 = A x2 in one pass over A (row-major, square or rectangular).</summary>
    public static void MatVec2(ReadOnlySpan<double> a, int rows, ReadOnlySpan<double> x1, ReadOnlySpan<double> x2,
        Span<double> y1, Span<double> y2)
    {
        int m = x1.Length;
        if (a.Length != rows * m || x2.Length != m || y1.Length != rows || y2.Length != rows)
            throw new ArgumentException("MatVec2: inconsistent sizes");
        int w = Vector<double>.Count;
        var v1 = MemoryMarshal.Cast<double, Vector<double>>(x1);
        var v2 = MemoryMarshal.Cast<double, Vector<double>>(x2);
        int vecEnd = Vector.IsHardwareAccelerated ? v1.Length * w : 0;
        for (int r = 0; r < rows; r++)
        {
            var row = a.Slice(r * m, m);
            double s1 = 0, s2 = 0;
            int i = 0;
            if (vecEnd > 0)
            {
                var vr = MemoryMarshal.Cast<double, Vector<double>>(row);
                Vector<double> a1 = Vector<double>.Zero, a2 = a1, b1 = a1, b2 = a1;
                int k = 0;
                for (; k + 1 < v1.Length; k += 2)
                {
                    a1 += vr[k] * v1[k];
                    b1 += vr[k] * v2[k];
                    a2 += vr[k + 1] * v1[k + 1];
                    b2 += vr[k + 1] * v2[k + 1];
                }
                for (; k < v1.Length; k++) { a1 += vr[k] * v1[k]; b1 += vr[k] * v2[k]; }
                s1 = Vector.Sum(a1 + a2);
                s2 = Vector.Sum(b1 + b2);
                i = vecEnd;
            }
            for (; i < m; i++) { s1 += row[i] * x1[i]; s2 += row[i] * x2[i]; }
            y1[r] = s1;
            y2[r] = s2;
        }
    }

    /// <summary>Euclidean norm.</summary>
    public static double Norm(ReadOnlySpan<double> x) => Math.Sqrt(Dot(x, x));
}

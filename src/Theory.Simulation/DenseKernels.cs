using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Theory.Simulation;

/// <summary>Managed SIMD kernels for dense row-major matrices (no allocation). The fused variant reads the matrix
/// once for two right-hand sides, which halves the memory traffic of a state + tangent step.</summary>
public static class DenseKernels
{
    /// <summary>Dot product of two equal-length spans (SIMD, four accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int n = a.Length;
        int w = Vector<double>.Count;
        int i = 0;
        double sum = 0.0;
        if (Vector.IsHardwareAccelerated && n >= 4 * w)
        {
            var va = MemoryMarshal.Cast<double, Vector<double>>(a);
            var vb = MemoryMarshal.Cast<double, Vector<double>>(b);
            Vector<double> s0 = Vector<double>.Zero, s1 = s0, s2 = s0, s3 = s0;
            int k = 0;
            for (; k + 3 < va.Length; k += 4)
            {
                s0 += va[k] * vb[k];
                s1 += va[k + 1] * vb[k + 1];
                s2 += va[k + 2] * vb[k + 2];
                s3 += va[k + 3] * vb[k + 3];
            }
            for (; k < va.Length; k++) s0 += va[k] * vb[k];
            sum = Vector.Sum((s0 + s1) + (s2 + s3));
            i = va.Length * w;
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
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

using Theory.Core.Numerics;
using MathNet.Numerics.LinearAlgebra;
using Theory.Core;

namespace Theory.Simulation.Reservoir;

/// <summary>Affine readout z = W_out y + b_out trained by the Moore–Penrose pseudoinverse with a bias column
/// (Metzner et al. 2025, Eq. 4, §2.4): X̃ = [X | 1], Ŵ = X̃⁺ Y, W_out = (first N rows of Ŵ)ᵀ, b_out = last row.
/// X̃⁺ = V Σ⁺ Uᵀ from the SVD, taking reciprocals of the singular values above the cutoff and leaving the rest zero
/// [paper]; the relative cutoff ε_rel·σ_max with default ε_rel = max(n, N+1)·2.2e−16 is [reconstructed] (MATLAB's
/// convention). No ridge term [paper]. For n ≥ N+1 the SVD is taken of R from a Householder QR of X̃ (same singular
/// values, X̃⁺ = R⁺Qᵀ; Qᵀ is applied to the targets without being formed), O(n N²) instead of an n×n factor, and R⁺
/// from a one-sided Jacobi SVD (robust for the rank-deficient states of saturated reservoirs).</summary>
public sealed class PseudoInverseReadout
{
    private PseudoInverseReadout(double[,] weights, double[] bias, int rank)
    { Weights = weights; Bias = bias; Rank = rank; }

    /// <summary>W_out, N_out × N.</summary>
    public double[,] Weights { get; }
    /// <summary>b_out, length N_out.</summary>
    public double[] Bias { get; }
    /// <summary>Number of singular values kept.</summary>
    public int Rank { get; }
    /// <summary>Outputs N_out.</summary>
    public int OutputDim => Bias.Length;

    /// <summary>Fits the readout. <paramref name="states"/>: n × N (rows are samples), <paramref name="targets"/>: n × N_out.
    /// <paramref name="relativeCutoff"/>: null → max(n, N+1)·2.2e−16.</summary>
    public static PseudoInverseReadout Fit(double[,] states, double[,] targets, double? relativeCutoff = null)
    {
        ArgumentNullException.ThrowIfNull(states); ArgumentNullException.ThrowIfNull(targets);
        int n = states.GetLength(0), nn = states.GetLength(1), nout = targets.GetLength(1);
        if (targets.GetLength(0) != n) throw new ArgumentException("states and targets need the same number of rows");
        Validate.PositiveInt("samples", n);
        int p = nn + 1;
        for (int i = 0; i < n; i++) for (int j = 0; j < nn; j++) if (!double.IsFinite(states[i, j])) throw new ParameterOutOfDomainException($"states[{i},{j}]", states[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture), "a finite number");
        double eps = relativeCutoff ?? Math.Max(n, p) * 2.220446049250313e-16;
        Validate.NonNegative("relative-cutoff", eps);
        Matrix<double> what; // p × N_out
        int rank;
        if (n >= p)
        {
            // Householder QR of X̃ applied to Y on the fly: X̃ = QR, Ŵ = R⁺ (QᵀY)[0:p] (Q has orthonormal columns)
            var (r, qty) = HouseholderQr(states, targets, n, nn, nout);
            (var rp, rank) = PinvJacobi(r, eps);
            what = rp * qty;
        }
        else
        {
            var xt = Matrix<double>.Build.Dense(n, p, (i, j) => j < nn ? states[i, j] : 1.0);
            (var pinv, rank) = PinvSvd(xt, eps);
            what = pinv * Matrix<double>.Build.DenseOfArray(targets);
        }
        var w = new double[nout, nn];
        var b = new double[nout];
        for (int o = 0; o < nout; o++)
        {
            for (int j = 0; j < nn; j++) w[o, j] = what[j, o];
            b[o] = what[nn, o];
        }
        return new PseudoInverseReadout(w, b, rank);
    }

    /// <summary>Householder QR of [X | 1] (n × p, n ≥ p) without forming Q: returns R (p × p) and the first p rows of QᵀY.
    /// O(n p²) operations on column arrays.</summary>
    private static (Matrix<double> R, Matrix<double> QtY) HouseholderQr(double[,] x, double[,] y, int n, int nn, int nout)
    {
        int p = nn + 1;
        var a = new double[p][];
        for (int j = 0; j < p; j++)
        {
            a[j] = new double[n];
            if (j < nn) for (int i = 0; i < n; i++) a[j][i] = x[i, j];
            else Array.Fill(a[j], 1.0);
        }
        var yc = new double[nout][];
        for (int o = 0; o < nout; o++) { yc[o] = new double[n]; for (int i = 0; i < n; i++) yc[o][i] = y[i, o]; }
        var v = new double[n];
        for (int k = 0; k < p; k++)
        {
            var ak = a[k];
            double norm2 = 0;
            for (int i = k; i < n; i++) norm2 += ak[i] * ak[i];
            double norm = Math.Sqrt(norm2);
            // a sub-column this small is round-off (entries are O(1)): zero it instead of forming a reflector with an
            // overflowing 2/‖v‖²
            if (norm <= 1e-150) { for (int i = k + 1; i < n; i++) ak[i] = 0; continue; }
            double alpha = ak[k] > 0 ? -norm : norm;
            for (int i = k; i < n; i++) v[i] = ak[i];
            v[k] -= alpha;
            double vn2 = 0;
            for (int i = k; i < n; i++) vn2 += v[i] * v[i];
            if (vn2 == 0) continue;
            double scale = 2.0 / vn2;
            var vs = new ReadOnlySpan<double>(v, k, n - k);
            for (int j = k + 1; j < p; j++)
            {
                var aj = new Span<double>(a[j], k, n - k);
                double s = DenseKernels.Dot(vs, aj) * scale;
                for (int i = 0; i < aj.Length; i++) aj[i] -= s * vs[i];
            }
            for (int o = 0; o < nout; o++)
            {
                var yo = new Span<double>(yc[o], k, n - k);
                double s = DenseKernels.Dot(vs, yo) * scale;
                for (int i = 0; i < yo.Length; i++) yo[i] -= s * vs[i];
            }
            ak[k] = alpha;
            for (int i = k + 1; i < n; i++) ak[i] = 0;
        }
        var r = Matrix<double>.Build.Dense(p, p, (i, j) => i <= j ? a[j][i] : 0.0);
        var qty = Matrix<double>.Build.Dense(p, nout, (i, o) => yc[o][i]);
        return (r, qty);
    }

    /// <summary>Pseudoinverse of a square matrix by the one-sided Jacobi SVD (Hestenes 1958): column pairs are rotated
    /// until mutually orthogonal (relative tolerance 1e−15, at most 100 sweeps); σ_j = column norms. Robust on the
    /// rank-deficient R of saturated reservoirs, where MathNet's Golub–Kahan SVD can fail to converge.</summary>
    private static (Matrix<double>, int) PinvJacobi(Matrix<double> a, double eps)
    {
        int m = a.RowCount, n = a.ColumnCount;
        var u = new double[n][];
        var v = new double[n][];
        for (int j = 0; j < n; j++)
        {
            u[j] = new double[m];
            for (int i = 0; i < m; i++) u[j][i] = a[i, j];
            v[j] = new double[n];
            v[j][j] = 1.0;
        }
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int i = 0; i < n - 1; i++)
                for (int j = i + 1; j < n; j++)
                {
                    double alpha = DenseKernels.Dot(u[i], u[i]);
                    double beta = DenseKernels.Dot(u[j], u[j]);
                    double gamma = DenseKernels.Dot(u[i], u[j]);
                    if (alpha == 0 || beta == 0 || gamma == 0) continue;
                    double rel = Math.Abs(gamma) / Math.Sqrt(alpha * beta);
                    if (rel <= 1e-15) continue;
                    off = Math.Max(off, rel);
                    double zeta = (beta - alpha) / (2 * gamma);
                    if (double.IsNaN(zeta)) continue;
                    double t = Math.Sign(zeta == 0 ? 1.0 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double c = 1 / Math.Sqrt(1 + t * t), sn = c * t;
                    Rotate(u[i], u[j], c, sn);
                    Rotate(v[i], v[j], c, sn);
                }
            if (off <= 1e-15) break;
        }
        var sigma = new double[n];
        double smax = 0;
        for (int j = 0; j < n; j++) { sigma[j] = Math.Sqrt(DenseKernels.Dot(u[j], u[j])); smax = Math.Max(smax, sigma[j]); }
        var pinv = Matrix<double>.Build.Dense(n, m);
        int rank = 0;
        for (int k = 0; k < n; k++)
        {
            if (!(sigma[k] > eps * smax && sigma[k] > 0)) continue;
            rank++;
            double inv2 = 1.0 / (sigma[k] * sigma[k]); // u[k] holds σ_k·U_k, so V_k U_kᵀ / σ_k = v[k] u[k]ᵀ / σ_k²
            for (int i = 0; i < n; i++)
            {
                double vi = v[k][i] * inv2;
                if (vi == 0) continue;
                for (int j = 0; j < m; j++) pinv[i, j] += vi * u[k][j];
            }
        }
        return (pinv, rank);
    }

    private static void Rotate(double[] x, double[] y, double c, double s)
    {
        for (int k = 0; k < x.Length; k++)
        {
            double xi = x[k], yi = y[k];
            x[k] = c * xi - s * yi;
            y[k] = s * xi + c * yi;
        }
    }

    private static (Matrix<double>, int) PinvSvd(Matrix<double> a, double eps)
    {
        var svd = a.Svd(true);
        var s = svd.S;
        double smax = s.Count == 0 ? 0 : s.Maximum();
        var u = svd.U; var vt = svd.VT;
        int k = s.Count;
        var sinv = Matrix<double>.Build.Dense(vt.RowCount, u.RowCount);
        int rank = 0;
        for (int i = 0; i < k; i++)
            if (s[i] > eps * smax && s[i] > 0) { sinv[i, i] = 1.0 / s[i]; rank++; }
        return (vt.Transpose() * sinv * u.Transpose(), rank);
    }

    /// <summary>z = W_out y + b_out into <paramref name="output"/>.</summary>
    public void Predict(ReadOnlySpan<double> state, Span<double> output)
    {
        int nn = Weights.GetLength(1);
        if (state.Length != nn) throw new ArgumentException($"state length {state.Length} != {nn}");
        for (int o = 0; o < OutputDim; o++)
        {
            double acc = Bias[o];
            for (int j = 0; j < nn; j++) acc += Weights[o, j] * state[j];
            output[o] = acc;
        }
    }
}

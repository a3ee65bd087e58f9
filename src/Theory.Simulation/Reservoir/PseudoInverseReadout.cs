using MathNet.Numerics.LinearAlgebra;
using Theory.Core;

namespace Theory.Simulation.Reservoir;

/// <summary>Affine readout z = W_out y + b_out trained by the Moore–Penrose pseudoinverse with a bias column
/// (Metzner et al. 2025, Eq. 4, §2.4): X̃ = [X | 1], Ŵ = X̃⁺ Y, W_out = (first N rows of Ŵ)ᵀ, b_out = last row.
/// X̃⁺ = V Σ⁺ Uᵀ from the SVD, taking reciprocals of the singular values above the cutoff and leaving the rest zero
/// [paper]; the relative cutoff ε_rel·σ_max with default ε_rel = max(n, N+1)·2.2e−16 is [reconstructed] (MATLAB's
/// convention). No ridge term [paper]. For n ≥ N+1 the SVD is taken of R from a thin QR of X̃ (same singular values,
/// X̃⁺ = R⁺Qᵀ), which avoids the n×n factor.</summary>
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
        var xt = Matrix<double>.Build.Dense(n, p, (i, j) => j < nn ? states[i, j] : 1.0);
        for (int i = 0; i < n; i++) for (int j = 0; j < nn; j++) if (!double.IsFinite(states[i, j])) throw new ParameterOutOfDomainException($"states[{i},{j}]", states[i, j].ToString(System.Globalization.CultureInfo.InvariantCulture), "a finite number");
        var y = Matrix<double>.Build.DenseOfArray(targets);
        double eps = relativeCutoff ?? Math.Max(n, p) * 2.220446049250313e-16;
        Validate.NonNegative("relative-cutoff", eps);
        Matrix<double> pinv;
        int rank;
        if (n >= p)
        {
            var qr = xt.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
            (var rp, rank) = PinvSvd(qr.R, eps);
            pinv = rp * qr.Q.Transpose();
        }
        else (pinv, rank) = PinvSvd(xt, eps);
        var what = pinv * y; // p × N_out
        var w = new double[nout, nn];
        var b = new double[nout];
        for (int o = 0; o < nout; o++)
        {
            for (int j = 0; j < nn; j++) w[o, j] = what[j, o];
            b[o] = what[nn, o];
        }
        return new PseudoInverseReadout(w, b, rank);
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

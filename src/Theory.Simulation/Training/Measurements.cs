using MathNet.Numerics.LinearAlgebra;

namespace Theory.Simulation.Training;

/// <summary>Measurements on trained networks: output fit, power spectra, eigenvalues of the connectivity.</summary>
public static class Measurements
{
    /// <summary>‖y − y*‖²/‖y*‖² for P × N rates and P × outputs targets.</summary>
    public static double RelativeFitError(RnnWeights w, double[] rates, double[] targets, int p)
    {
        var y = RnnEngine.Readout(w, rates, p);
        double num = 0.0, den = 0.0;
        for (int q = 0; q < y.Length; q++) { num += (y[q] - targets[q]) * (y[q] - targets[q]); den += targets[q] * targets[q]; }
        return den > 0 ? num / den : num;
    }

    /// <summary>Population power spectrum of a window of rates (T × N row-major, one trial): the per-neuron periodogram
    /// S_k = |Σ_t w_t φ_i(t) e^{−2πi kt/T}|² / Σ_t w_t², averaged over neurons, for k = 0..T−1 (grid units: for a
    /// stationary periodic signal and the rectangular window this equals the mode spectrum of the window kernel).
    /// <paramref name="hann"/> selects a Hann taper (for non-periodic windows).</summary>
    public static double[] PowerSpectrum(double[] rates, int t, int n, bool hann)
    {
        var win = new double[t];
        double norm = 0.0;
        for (int s = 0; s < t; s++) { win[s] = hann ? 0.5 - 0.5 * Math.Cos(2 * Math.PI * s / t) : 1.0; norm += win[s] * win[s]; }
        var spec = new double[t];
        var cosT = new double[t * t]; var sinT = new double[t * t];
        for (int k = 0; k < t; k++)
            for (int s = 0; s < t; s++) { double ph = 2 * Math.PI * ((long)k * s % t) / t; cosT[k * t + s] = Math.Cos(ph); sinT[k * t + s] = Math.Sin(ph); }
        for (int i = 0; i < n; i++)
            for (int k = 0; k < t; k++)
            {
                double re = 0, im = 0;
                for (int s = 0; s < t; s++) { double v = win[s] * rates[s * n + i]; re += v * cosT[k * t + s]; im -= v * sinT[k * t + s]; }
                spec[k] += (re * re + im * im) / norm;
            }
        for (int k = 0; k < t; k++) spec[k] /= n;
        return spec;
    }

    /// <summary>Mode spectrum of a P×P window kernel (row-major): eigenvalues of its circularised version (see
    /// Theory.Core.Dmft.LinearKernels.ModeSpectrum).</summary>
    public static double[] KernelModeSpectrum(double[] kernel, int p)
    {
        var k2 = new double[p, p];
        for (int a = 0; a < p; a++) for (int b = 0; b < p; b++) k2[a, b] = kernel[a * p + b];
        return Theory.Core.Dmft.LinearKernels.ModeSpectrum(k2);
    }

    /// <summary>Eigenvalues of the effective connectivity (g/√N)·J (complex, as (re, im) pairs), via MathNet's managed
    /// non-symmetric eigensolver (≈ 1 s at N = 400).</summary>
    public static (double Re, double Im)[] ConnectivityEigenvalues(RnnWeights w)
    {
        int n = w.Config.N;
        double c = w.Config.G / Math.Sqrt(n);
        var m = Matrix<double>.Build.Dense(n, n, (i, j) => c * w.J[i * n + j]);
        return m.Evd().EigenValues.Select(z => (z.Real, z.Imaginary)).ToArray();
    }
}

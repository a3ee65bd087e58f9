using Theory.Core;
using Theory.Core.Dmft;
using Theory.Core.Numerics;

namespace Theory.Simulation.Training;

/// <summary>Task builders.</summary>
public static class Tasks
{
    /// <summary>Stationary-spectrum task on a periodic window of <paramref name="window"/> steps (period T = window·Δt):
    /// one condition whose inputs and targets are the real Fourier channels of the given mode spectra
    /// (<see cref="LinearKernels.FourierChannels"/>), so that Cᴵ and Cʸ are exactly circulant with eigenvalues
    /// inputModes[k], targetModes[k]. Channels with zero power are dropped. The network runs
    /// <paramref name="burnInPeriods"/> periods from x0 = 0 before the window, so the window sees the periodic steady
    /// state (error ∝ e^{−(1−g_eff)·burn-in}).</summary>
    public static TrainingTask PeriodicSpectrum(string name, int window, double dt, int burnInPeriods, double[] inputModes, double[] targetModes)
    {
        Validate.AtLeast("window", window, 2);
        Validate.AtLeast("burnInPeriods", burnInPeriods, 0);
        if (inputModes.Length != window || targetModes.Length != window) throw new ArgumentException("mode spectra must have one entry per window step");
        var fi = NonZeroColumns(LinearKernels.FourierChannels(inputModes));
        var fy = NonZeroColumns(LinearKernels.FourierChannels(targetModes));
        int din = fi.GetLength(1), d = fy.GetLength(1);
        if (d == 0) throw new ArgumentException("the target spectrum has no power");
        int burn = burnInPeriods * window, steps = burn + window;
        var inp = new double[steps * din];
        for (int k = 0; k < steps; k++) for (int a = 0; a < din; a++) inp[k * din + a] = fi[k % window, a];
        var tgt = new double[window * d];
        for (int k = 0; k < window; k++) for (int o = 0; o < d; o++) tgt[k * d + o] = fy[k, o];
        return new TrainingTask(name, din, d, burn, window, dt, new[] { inp }, new[] { tgt }, null);
    }

    /// <summary>Target mode spectrum of the Fig. 2 task on the periodic window: Cʸ_k = amplitude·exp(−(|ω_k|−ω₀)²/(2 width²)),
    /// set to exactly 0 where it is below <paramref name="relativeCutoff"/>·amplitude (default 1e-3). The cut keeps the
    /// number of output channels d small: the exact posterior carries a (d/2) ln det C term that the N → ∞ theory drops,
    /// and with d·Window comparable to N it biases finite-N spectra downwards (measured: −25% at N = 200 with all 64
    /// channels). The theory is evaluated with the same truncated spectrum, so the comparison stays exact.</summary>
    public static double[] PeakedTargetModes(int window, double dt, double omega0, double width, double amplitude, double relativeCutoff = 1e-3)
    {
        Validate.NonNegative("relativeCutoff", relativeCutoff);
        return LinearKernels.Frequencies(window, dt)
            .Select(w => LinearKernels.PeakedTarget(omega0, width, amplitude, 0.0, w))
            .Select(c => c < relativeCutoff * amplitude ? 0.0 : c).ToArray();
    }

    /// <summary>The paper's Fig. 2 task [reconstructed form]: white input of level <paramref name="inputLevel"/>, target
    /// spectrum <see cref="PeakedTargetModes"/> on the periodic window.</summary>
    public static TrainingTask PeakedSpectrum(int window, double dt, int burnInPeriods, double omega0, double width, double amplitude, double inputLevel)
    {
        var ws = LinearKernels.Frequencies(window, dt);
        var ci = ws.Select(w => LinearKernels.WhiteInput(inputLevel, w)).ToArray();
        return PeriodicSpectrum("peaked-spectrum", window, dt, burnInPeriods, ci, PeakedTargetModes(window, dt, omega0, width, amplitude));
    }

    /// <summary>The paper's autonomous sinusoid task: no input, one output y*(t) = sin(2πt/T) on one period
    /// [0, T) (window = round(T/Δt) steps), <paramref name="conditions"/> trials that differ by their initial state
    /// x0 ~ N(0, x0Variance) i.i.d. per neuron (quenched, drawn from <paramref name="rng"/>; note §3.3 default: the
    /// stationary SCS variance Δ0(g), supplied by the caller).</summary>
    public static TrainingTask SinePeriod(int n, double period, double dt, int conditions, double x0Variance, Rng rng)
    {
        Validate.Positive("period", period);
        Validate.AtLeast("conditions", conditions, 1);
        Validate.NonNegative("x0Variance", x0Variance);
        int window = (int)Math.Round(period / dt);
        Validate.AtLeast("period/dt", window, 10);
        var x0 = new double[conditions][];
        var inputs = new double[conditions][];
        var targets = new double[conditions][];
        double sd = Math.Sqrt(x0Variance);
        for (int q = 0; q < conditions; q++)
        {
            x0[q] = new double[n];
            for (int i = 0; i < n; i++) x0[q][i] = sd * rng.NextGaussian();
            inputs[q] = Array.Empty<double>();
            targets[q] = Enumerable.Range(0, window).Select(k => Math.Sin(2 * Math.PI * k * dt / period)).ToArray();
        }
        return new TrainingTask("sine-period", 0, 1, 0, window, dt, inputs, targets, x0);
    }

    private static double[,] NonZeroColumns(double[,] f)
    {
        int rows = f.GetLength(0), cols = f.GetLength(1);
        var keep = Enumerable.Range(0, cols).Where(c => Enumerable.Range(0, rows).Any(r => f[r, c] != 0.0)).ToArray();
        var g = new double[rows, keep.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < keep.Length; c++) g[r, c] = f[r, keep[c]];
        return g;
    }
}

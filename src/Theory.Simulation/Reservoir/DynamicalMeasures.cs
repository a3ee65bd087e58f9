using Theory.Core;
using Theory.Core.MeanField;

namespace Theory.Simulation.Reservoir;

/// <summary>The dynamical measures of an output stream y_i(t) (Metzner et al. 2025, §2.7–2.9; research note A5).
/// States are row-major (step t, neuron i).</summary>
public static class DynamicalMeasures
{
    private static int Steps(ReadOnlySpan<double> states, int n)
    {
        Validate.PositiveInt("n", n);
        if (states.Length == 0 || states.Length % n != 0) throw new ArgumentException("states must hold T·N values with T ≥ 1");
        return states.Length / n;
    }

    /// <summary>Fluctuation F = (1/N) Σ_i std_t y_i(t), population std (ddof 0) so that F ∈ [0, 1] [paper].</summary>
    public static double Fluctuation(ReadOnlySpan<double> states, int n)
    {
        int t = Steps(states, n);
        double f = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0, s2 = 0;
            for (int k = 0; k < t; k++) { double y = states[k * n + i]; s += y; s2 += y * y; }
            double mean = s / t;
            f += Math.Sqrt(Math.Max(0, s2 / t - mean * mean));
        }
        return f / n;
    }

    /// <summary>Population mean ȳ(t) per step.</summary>
    public static double[] PopulationMean(ReadOnlySpan<double> states, int n)
    {
        int t = Steps(states, n);
        var m = new double[t];
        for (int k = 0; k < t; k++)
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += states[k * n + i];
            m[k] = s / n;
        }
        return m;
    }

    /// <summary>Correlation C(Δt) = (1/N²) Σ_ij ⟨y_i(t) y_j(t+Δt)⟩_t = ⟨ȳ(t) ȳ(t+Δt)⟩_t over t = 1…T−Δt: uncentred,
    /// unnormalised [paper], all ordered pairs including i = j [reconstructed]. C ∈ [−1, 1].</summary>
    public static double Correlation(ReadOnlySpan<double> states, int n, int lag)
    {
        int t = Steps(states, n);
        Validate.AtLeast("lag", lag, 0);
        if (lag >= t) throw new ParameterOutOfDomainException("lag", lag.ToString(System.Globalization.CultureInfo.InvariantCulture), $"0..{t - 1} (fewer than T = {t} steps)");
        var m = PopulationMean(states, n);
        double c = 0;
        for (int k = 0; k + lag < t; k++) c += m[k] * m[k + lag];
        return c / (t - lag);
    }

    /// <summary>The direct O(N² T) pair average of <see cref="Correlation"/> (for checking the ȳ identity).</summary>
    public static double CorrelationPairwise(ReadOnlySpan<double> states, int n, int lag)
    {
        int t = Steps(states, n);
        double c = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int k = 0; k + lag < t; k++) s += states[k * n + i] * states[(k + lag) * n + j];
                c += s / (t - lag);
            }
        return c / ((double)n * n);
    }

    /// <summary>Fractions (f_in, f_out) of activations with |y| &lt; lower and |y| &gt; upper, pooled over neurons and steps.</summary>
    public static (double Inner, double Outer) IntervalFractions(ReadOnlySpan<double> states, double lower = 1.0 / 3.0, double upper = 2.0 / 3.0)
    {
        Validate.InRange("lower", lower, 0.0, 1.0);
        Validate.InRange("upper", upper, lower, 1.0);
        if (states.Length == 0) throw new ArgumentException("empty states");
        long a = 0, b = 0;
        foreach (double y in states)
        {
            double ay = Math.Abs(y);
            if (ay < lower) a++;
            else if (ay > upper) b++;
        }
        return (a / (double)states.Length, b / (double)states.Length);
    }

    /// <summary>Nonlinearity N = (f_out − f_in + 1)/2 [formula and cut points 1/3, 2/3 reconstructed; paper: three
    /// intervals; 0 linear, 0.5 intermediate/flat, 1 saturated].</summary>
    public static double Nonlinearity(ReadOnlySpan<double> states, double lower = 1.0 / 3.0, double upper = 2.0 / 3.0)
    {
        var (fin, fout) = IntervalFractions(states, lower, upper);
        return (fout - fin + 1.0) / 2.0;
    }

    /// <summary>Mean |y| over the stream.</summary>
    public static double MeanAbsolute(ReadOnlySpan<double> states)
    {
        double s = 0;
        foreach (double y in states) s += Math.Abs(y);
        return s / states.Length;
    }

    /// <summary>Regime label of a simulated free run: quiescent when mean |y| ≤ <paramref name="activityThreshold"/>
    /// (default 0.1, the onset criterion of research note A3); fixpoint when the last <paramref name="window"/> steps
    /// change by less than <paramref name="tolerance"/>; oscillatory when they repeat with period 2; chaotic when the
    /// Lyapunov exponent is &gt; <paramref name="lyapunovThreshold"/>; otherwise other-periodic.</summary>
    public static Regime Classify(ReadOnlySpan<double> states, int n, double? lyapunov, double activityThreshold = 0.1,
        double tolerance = 1e-6, int window = 10, double lyapunovThreshold = 1e-3)
    {
        int t = Steps(states, n);
        if (MeanAbsolute(states) <= activityThreshold) return Regime.Quiescent;
        int wnd = Math.Min(window, t - 2);
        double d1 = 0, d2 = 0;
        for (int k = t - wnd; k < t; k++)
            for (int i = 0; i < n; i++)
            {
                d1 = Math.Max(d1, Math.Abs(states[k * n + i] - states[(k - 1) * n + i]));
                d2 = Math.Max(d2, Math.Abs(states[k * n + i] - states[(k - 2) * n + i]));
            }
        if (d1 < tolerance) return Regime.Fixpoint;
        if (d2 < tolerance) return Regime.Oscillatory;
        if (lyapunov is double l && l > lyapunovThreshold) return Regime.Chaotic;
        return Regime.OtherPeriodic;
    }
}

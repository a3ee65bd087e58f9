using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Reservoir;

/// <summary>Settings of the standard reservoir benchmarks (not in Metzner et al. 2025; research note B3).</summary>
public sealed record BenchmarkOptions
{
    /// <summary>Input-matrix standard deviation (N×1 Gaussian) (default 0.3, as in the paper's driven runs).</summary>
    public double InputSd { get; init; } = 0.3;
    /// <summary>Bias standard deviation (default 0.01).</summary>
    public double BiasSd { get; init; } = 0.01;
    /// <summary>Discarded steps at the start (default 200).</summary>
    public int Washout { get; init; } = 200;
    /// <summary>Training steps (default 2000).</summary>
    public int Train { get; init; } = 2000;
    /// <summary>Test steps (default 1000).</summary>
    public int Test { get; init; } = 1000;
    /// <summary>Memory capacity: largest delay k_max; 0 → 2N (default).</summary>
    public int MaxDelay { get; init; }
    /// <summary>Memory capacity: inputs u ~ U[−range, range] (default 0.8, reservoirpy's convention).</summary>
    public double MemoryInputRange { get; init; } = 0.8;
}

/// <summary>Memory-capacity result: MC = Σ_k MC_k, MC_k = squared Pearson correlation of u(t−k) and its readout on the test window.</summary>
public sealed record MemoryCapacityResult(double Capacity, double[] PerDelay);

/// <summary>NARMA result: normalised RMS error (RMSE / population std of the test targets).</summary>
public sealed record NarmaResult(double Nrmse, double Rmse, double TargetSd);

/// <summary>Standard reservoir benchmarks users expect: memory capacity (Jaeger 2001) and NARMA10 (Atiya &amp; Parlos
/// 2000), with the paper's network (Eq. 1) and pseudoinverse readout (Eq. 4).</summary>
public static class ReservoirBenchmarks
{
    private static double[,] Drive(WeightMatrix matrix, BenchmarkOptions o, double[] u, Rng rng)
    {
        var net = DiscreteNetwork.Create(matrix, new NetworkOptions { BiasSd = o.BiasSd, InputDim = 1, InputSd = o.InputSd }, rng);
        int n = net.N;
        var x = net.InitialState(rng);
        var next = new double[n];
        var s = new double[1];
        var states = new double[u.Length, n];
        for (int t = 0; t < u.Length; t++)
        {
            s[0] = u[t];
            net.Step(x, s, next);
            (x, next) = (next, x);
            for (int i = 0; i < n; i++) states[t, i] = x[i];
        }
        return states;
    }

    private static double[,] Rows(double[,] a, int start, int count)
    {
        int c = a.GetLength(1);
        var r = new double[count, c];
        for (int i = 0; i < count; i++) for (int j = 0; j < c; j++) r[i, j] = a[start + i, j];
        return r;
    }

    private static void Check(BenchmarkOptions o)
    {
        Validate.NonNegative("input-sd", o.InputSd); Validate.NonNegative("bias-sd", o.BiasSd);
        Validate.AtLeast("washout", o.Washout, 0); Validate.PositiveInt("train", o.Train); Validate.PositiveInt("test", o.Test);
        Validate.AtLeast("max-delay", o.MaxDelay, 0); Validate.Positive("memory-input-range", o.MemoryInputRange);
    }

    /// <summary>Linear memory capacity. Draw order from Rng(seed): biases, U, initial state, inputs. One readout per
    /// delay k = 1…k_max (all fitted with the same pseudoinverse); the state x(t) is driven up to u(t).</summary>
    public static MemoryCapacityResult MemoryCapacity(WeightMatrix matrix, BenchmarkOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(matrix); ArgumentNullException.ThrowIfNull(options);
        Check(options);
        int kmax = options.MaxDelay > 0 ? options.MaxDelay : 2 * matrix.N;
        if (kmax > options.Washout) throw new ParameterOutOfDomainException("max-delay", kmax.ToString(System.Globalization.CultureInfo.InvariantCulture), $"<= washout = {options.Washout}");
        var rng = new Rng(seed);
        int total = options.Washout + options.Train + options.Test;
        // network parts are drawn first inside Drive; inputs afterwards would change the order, so draw inputs with a sub-stream
        var inputRng = Rng.ForStream(seed, 1);
        var u = new double[total];
        for (int t = 0; t < total; t++) u[t] = options.MemoryInputRange * (2 * inputRng.NextDouble() - 1);
        var states = Drive(matrix, options, u, rng);
        var yTrain = new double[options.Train, kmax];
        for (int t = 0; t < options.Train; t++) for (int k = 1; k <= kmax; k++) yTrain[t, k - 1] = u[options.Washout + t - k];
        var readout = PseudoInverseReadout.Fit(Rows(states, options.Washout, options.Train), yTrain);
        var per = new double[kmax];
        int t0 = options.Washout + options.Train;
        var z = new double[kmax];
        var st = new double[matrix.N];
        var pred = new double[options.Test, kmax];
        for (int t = 0; t < options.Test; t++)
        {
            for (int i = 0; i < matrix.N; i++) st[i] = states[t0 + t, i];
            readout.Predict(st, z);
            for (int k = 0; k < kmax; k++) pred[t, k] = z[k];
        }
        for (int k = 1; k <= kmax; k++)
        {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            int m = options.Test;
            for (int t = 0; t < m; t++)
            {
                double a = u[t0 + t - k], b = pred[t, k - 1];
                sa += a; sb += b; saa += a * a; sbb += b * b; sab += a * b;
            }
            double cov = sab / m - sa / m * sb / m, va = saa / m - sa / m * sa / m, vb = sbb / m - sb / m * sb / m;
            per[k - 1] = va > 0 && vb > 0 ? cov * cov / (va * vb) : 0.0;
        }
        return new MemoryCapacityResult(per.Sum(), per);
    }

    /// <summary>The NARMA10 series: y(t+1) = 0.3 y(t) + 0.05 y(t) Σ_{i=0}^{9} y(t−i) + 1.5 u(t−9) u(t) + 0.1, y = 0 for the
    /// first 10 steps. Raises NoSolutionException if it diverges.</summary>
    public static double[] Narma10(ReadOnlySpan<double> u)
    {
        var y = new double[u.Length];
        for (int t = 9; t < u.Length - 1; t++)
        {
            double sum = 0;
            for (int i = 0; i < 10; i++) sum += y[t - i];
            y[t + 1] = 0.3 * y[t] + 0.05 * y[t] * sum + 1.5 * u[t - 9] * u[t] + 0.1;
            if (!double.IsFinite(y[t + 1]) || Math.Abs(y[t + 1]) > 1e6) throw new NoSolutionException($"NARMA10 series diverged at step {t + 1}");
        }
        return y;
    }

    /// <summary>NARMA10 one-step task: inputs u ~ U[0, 0.5] (sub-stream 1 of the seed); the readout maps the state x(t)
    /// (driven up to u(t)) to y(t+1). NRMSE on the test window.</summary>
    public static NarmaResult Narma10Task(WeightMatrix matrix, BenchmarkOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(matrix); ArgumentNullException.ThrowIfNull(options);
        Check(options);
        if (options.Washout < 10) throw new ParameterOutOfDomainException("washout", options.Washout.ToString(System.Globalization.CultureInfo.InvariantCulture), ">= 10 for NARMA10");
        var rng = new Rng(seed);
        int total = options.Washout + options.Train + options.Test + 1;
        var inputRng = Rng.ForStream(seed, 1);
        var u = new double[total];
        for (int t = 0; t < total; t++) u[t] = 0.5 * inputRng.NextDouble();
        var y = Narma10(u);
        var states = Drive(matrix, options, u, rng);
        var yTrain = new double[options.Train, 1];
        for (int t = 0; t < options.Train; t++) yTrain[t, 0] = y[options.Washout + t + 1];
        var readout = PseudoInverseReadout.Fit(Rows(states, options.Washout, options.Train), yTrain);
        int t0 = options.Washout + options.Train;
        double se = 0, s = 0, s2 = 0;
        var st = new double[matrix.N];
        var z = new double[1];
        for (int t = 0; t < options.Test; t++)
        {
            for (int i = 0; i < matrix.N; i++) st[i] = states[t0 + t, i];
            readout.Predict(st, z);
            double target = y[t0 + t + 1];
            se += (z[0] - target) * (z[0] - target); s += target; s2 += target * target;
        }
        int m = options.Test;
        double rmse = Math.Sqrt(se / m);
        double sd = Math.Sqrt(Math.Max(0, s2 / m - (s / m) * (s / m)));
        if (sd == 0) throw new NoSolutionException("NARMA10 test targets have zero spread");
        return new NarmaResult(rmse / sd, rmse, sd);
    }
}

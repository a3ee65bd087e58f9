using System.Numerics;
using Theory.Core;
using Theory.Core.Numerics;
using Theory.Core.Dynamics;

namespace Theory.Simulation.Reservoir;

/// <summary>Settings of a reservoir network besides its weight matrix (Metzner et al. 2025, §2.2; research note A1).</summary>
public sealed record NetworkOptions
{
    /// <summary>Standard deviation σ_β of the biases β_n ~ N(0, σ_β²) [reconstructed default 0.01; paper: small, random].</summary>
    public double BiasSd { get; init; } = 0.01;
    /// <summary>Number of input signals N_in (0 = autonomous, U = 0) [paper: 2 in the driven runs].</summary>
    public int InputDim { get; init; }
    /// <summary>Standard deviation of the dense Gaussian input matrix U [paper: 0.3].</summary>
    public double InputSd { get; init; } = 0.3;
    /// <summary>Initial states are uniform on [−InitialRange, InitialRange] [paper: uniform; range 1 reconstructed].</summary>
    public double InitialRange { get; init; } = 1.0;
}

/// <summary>Result of a free (autonomous) run.</summary>
public sealed class FreeRun
{
    internal FreeRun(int n, int steps, double[] states, double? lyapunov)
    { N = n; Steps = steps; States = states; Lyapunov = lyapunov; }
    /// <summary>Neurons.</summary>
    public int N { get; }
    /// <summary>Recorded steps (after the transient).</summary>
    public int Steps { get; }
    /// <summary>Recorded activations, row-major (step t, neuron i) → <c>States[t*N + i]</c>.</summary>
    public double[] States { get; }
    /// <summary>Maximal Lyapunov exponent per step (tangent method) over the recorded window, when requested.</summary>
    public double? Lyapunov { get; }
}

/// <summary>The discrete-time network of Metzner et al. (2025), Eq. 1: x(t) = tanh(W x(t−1) + U s(t) + β), all neurons
/// updated synchronously, no leak. Immutable after construction; runs allocate only their outputs.</summary>
public sealed class DiscreteNetwork
{
    private readonly double[] _w;
    private readonly double[] _bias;
    private readonly double[] _input; // N × InputDim row-major, empty when autonomous

    /// <summary>A network from explicit parts (W row-major N×N, bias length N, U row-major N×N_in or empty).</summary>
    public DiscreteNetwork(int n, double[] weights, double[] bias, double[] input, int inputDim)
    {
        ArgumentNullException.ThrowIfNull(weights); ArgumentNullException.ThrowIfNull(bias); ArgumentNullException.ThrowIfNull(input);
        Validate.PositiveInt("n", n);
        if (weights.Length != n * n) throw new ArgumentException("weights must have N² elements", nameof(weights));
        if (bias.Length != n) throw new ArgumentException("bias must have N elements", nameof(bias));
        if (inputDim < 0 || input.Length != n * inputDim) throw new ArgumentException("input must have N·inputDim elements", nameof(input));
        Validate.AllFinite("weights", weights); Validate.AllFinite("bias", bias); Validate.AllFinite("input", input);
        N = n; _w = weights; _bias = bias; _input = input; InputDim = inputDim;
    }

    /// <summary>Builds the network for a generated matrix: biases (N normals × σ_β), then U (N·N_in normals × σ_in,
    /// row-major), drawn in this order from <paramref name="rng"/>.</summary>
    public static DiscreteNetwork Create(WeightMatrix matrix, NetworkOptions options, Rng rng)
    {
        ArgumentNullException.ThrowIfNull(matrix); ArgumentNullException.ThrowIfNull(options); ArgumentNullException.ThrowIfNull(rng);
        Validate.NonNegative("bias-sd", options.BiasSd);
        Validate.NonNegative("input-sd", options.InputSd);
        Validate.AtLeast("input-dim", options.InputDim, 0);
        int n = matrix.N;
        var bias = new double[n];
        for (int i = 0; i < n; i++) bias[i] = options.BiasSd * rng.NextGaussian();
        var u = new double[n * options.InputDim];
        for (int k = 0; k < u.Length; k++) u[k] = options.InputSd * rng.NextGaussian();
        return new DiscreteNetwork(n, matrix.Values, bias, u, options.InputDim);
    }

    /// <summary>Neurons.</summary>
    public int N { get; }
    /// <summary>Input dimension N_in.</summary>
    public int InputDim { get; }
    /// <summary>The weights (row-major).</summary>
    public ReadOnlySpan<double> Weights => _w;
    /// <summary>The biases.</summary>
    public ReadOnlySpan<double> Bias => _bias;

    /// <summary>A uniform initial state on [−range, range] (N uniforms from <paramref name="rng"/>).</summary>
    public double[] InitialState(Rng rng, double range = 1.0)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Validate.NonNegative("initial-range", range);
        var x = new double[N];
        for (int i = 0; i < N; i++) x[i] = range * (2.0 * rng.NextDouble() - 1.0);
        return x;
    }

    /// <summary>Local fields h = W x + U s + β into <paramref name="h"/> (s may be empty: no input). W x by the managed
    /// serial kernel (DenseKernels.MatVecManaged: the same bits as the free run's pass, with or without its tangent).</summary>
    public void Fields(ReadOnlySpan<double> x, ReadOnlySpan<double> s, Span<double> h)
    {
        int n = N;
        DenseKernels.MatVecManaged(_w, n, x, h);
        for (int i = 0; i < n; i++)
        {
            double acc = h[i] + _bias[i];
            for (int k = 0; k < s.Length; k++) acc += _input[i * InputDim + k] * s[k];
            h[i] = acc;
        }
    }

    /// <summary>One synchronous update next = tanh(W x + U s + β) (vectorised tanh, a few 1e-16 from Math.Tanh);
    /// <paramref name="next"/> must not alias x.</summary>
    public void Step(ReadOnlySpan<double> x, ReadOnlySpan<double> s, Span<double> next)
    {
        if (s.Length != 0 && s.Length != InputDim) throw new ArgumentException($"input length {s.Length} != N_in = {InputDim}");
        Fields(x, s, next);
        DenseKernels.Tanh(next, next);
    }

    /// <summary>Free run (U s = 0) from x0: discards <paramref name="transient"/> steps, records <paramref name="steps"/>.
    /// With <paramref name="lyapunov"/> the maximal Lyapunov exponent per step is estimated over the recorded window by
    /// the tangent method (<see cref="Benettin"/>): v ← diag(1 − x(t)²) W v, renormalised every step (the initial
    /// tangent vector is (1,…,1)/√N, evolved through the transient too). A step whose tangent norm underflows below
    /// 1e−300 contributes ln 1e−300 (the driver's documented floor) and the vector is reset.</summary>
    public FreeRun RunFree(ReadOnlySpan<double> x0, int transient, int steps, bool lyapunov = false)
    {
        Validate.AtLeast("transient", transient, 0);
        Validate.PositiveInt("steps", steps);
        if (x0.Length != N) throw new ArgumentException("x0 must have N elements");
        var run = new FreeRunMap(this, x0, transient, steps);
        double? exponent = null;
        if (lyapunov)
        {
            var v0 = new double[N];
            Array.Fill(v0, 1.0 / Math.Sqrt(N));
            exponent = Benettin.Largest(run, v0, new BenettinSchedule(0, transient, steps, 1, 1.0)).Exponent;
        }
        else
        {
            for (int t = 0; t < transient + steps; t++) run.Step(t, Array.Empty<double>(), 0);
        }
        return new FreeRun(N, steps, run.States, exponent);
    }

    /// <summary>The free run as a tangent map: the state (and, when asked, the tangent vector) advanced one synchronous
    /// update, the recorded window copied out. Buffers allocated once.</summary>
    private sealed class FreeRunMap : ITangentMap
    {
        private readonly DiscreteNetwork _net;
        private readonly int _transient;
        private readonly double[] _u;
        private double[] _x, _next;

        public FreeRunMap(DiscreteNetwork net, ReadOnlySpan<double> x0, int transient, int steps)
        {
            _net = net; _transient = transient;
            _x = x0.ToArray(); _next = new double[net.N]; _u = new double[net.N];
            States = new double[steps * net.N];
        }

        /// <summary>Recorded activations, row-major (step, neuron).</summary>
        public double[] States { get; }

        public int Dimension => _net.N;

        public void Step(int step, double[] tangents, int vectors)
        {
            int n = _net.N;
            // W x by the managed serial kernels (networks run in parallel sweeps): the state-and-tangent pass has the
            // same per-row arithmetic as the state-only pass, so a run with its Lyapunov exponent has the same states.
            if (vectors > 0) DenseKernels.MatVec2Managed(_net._w, n, n, _x, tangents, _next, _u);
            else DenseKernels.MatVecManaged(_net._w, n, n, _x, _next);
            // y += 1·b in SIMD chunks: the same bits as a scalar loop (1·b is exact, one rounding per element)
            DenseKernels.Axpy(1.0, _net._bias.AsSpan(0, n), _next.AsSpan(0, n));
            DenseKernels.Tanh(_next, _next, n);
            if (vectors > 0)
                for (int i = 0; i < n; i++) tangents[i] = _u[i] * (1.0 - _next[i] * _next[i]);
            (_x, _next) = (_next, _x);
            if (step >= _transient) Array.Copy(_x, 0, States, (step - _transient) * n, n);
        }
    }

    /// <summary>Maximal Lyapunov exponent by the two-trajectory method (Benettin et al. 1980): a copy displaced by d0
    /// is evolved alongside and renormalised to distance d0 every step; the exponent is the mean log growth over
    /// <paramref name="steps"/> steps after <paramref name="transient"/> steps. Independent of the tangent method.</summary>
    public double LyapunovTwoTrajectory(ReadOnlySpan<double> x0, int transient, int steps, double d0 = 1e-8)
    {
        Validate.AtLeast("transient", transient, 0);
        Validate.PositiveInt("steps", steps);
        Validate.Positive("d0", d0);
        int n = N;
        var x = x0.ToArray();
        var y = new double[n];
        var nx = new double[n];
        var ny = new double[n];
        for (int t = 0; t < transient; t++) { Step(x, default, nx); (x, nx) = (nx, x); }
        for (int i = 0; i < n; i++) y[i] = x[i] + d0 / Math.Sqrt(n);
        double logSum = 0;
        for (int t = 0; t < steps; t++)
        {
            Step(x, default, nx); Step(y, default, ny);
            double d2 = 0;
            for (int i = 0; i < n; i++) { double dd = ny[i] - nx[i]; d2 += dd * dd; }
            double d = Math.Max(Math.Sqrt(d2), 1e-300);
            logSum += Math.Log(d / d0);
            for (int i = 0; i < n; i++) ny[i] = nx[i] + (ny[i] - nx[i]) * d0 / d;
            (x, nx) = (nx, x); (y, ny) = (ny, y);
        }
        return logSum / steps;
    }
}

using Theory.Core.Numerics;

namespace Theory.Simulation.Training;

/// <summary>Forward pass and hand-derived adjoint (back-propagation through time) of the μP rate RNN on a task.
/// Holds the workspace for one (architecture, task) pair; not thread-safe (one engine per thread).
/// <para>Forward: x_{k+1} = e x_k + (1−e)[c J φ(x_k) + U I_k], c = g/√N, e = e^{−Δt}.
/// Adjoint with a_k = ∂L/∂x_k: a_k = e a_{k+1} + φ′(x_k) ⊙ [(1−e) c Jᵀ a_{k+1} + ∂L/∂φ(x_k)],
/// ∂L/∂J = (1−e) c Σ_k a_{k+1} φ(x_k)ᵀ, ∂L/∂U = (1−e) Σ_k a_{k+1} I_kᵀ (checked against finite differences in the
/// tests).</para></summary>
public sealed class RnnEngine
{
    private readonly RnnConfig _cfg;
    private readonly TrainingTask _task;
    private readonly int _n, _b, _steps, _din;
    private readonly double _e, _c;
    /// <summary>States x_k, layout [(k·B + b)·N + i], k = 0..Steps.</summary>
    private readonly double[] _x;
    /// <summary>Rates φ(x_k), same layout.</summary>
    private readonly double[] _r;
    private readonly double[] _tmp, _a, _aNext, _dphi;

    /// <summary>Allocates the workspace (O(Steps·B·N) doubles).</summary>
    public RnnEngine(RnnConfig config, TrainingTask task)
    {
        _cfg = config.Validated();
        _task = task;
        if (task.Inputs != config.Inputs) throw new ArgumentException($"task has {task.Inputs} inputs, network {config.Inputs}");
        if (task.Outputs != config.Outputs) throw new ArgumentException($"task has {task.Outputs} outputs, network {config.Outputs}");
        if (task.X0 != null) foreach (var x0 in task.X0) if (x0.Length != config.N) throw new ArgumentException("x0 length must be N");
        _n = config.N; _b = task.Conditions; _steps = task.Steps; _din = config.Inputs;
        _e = Math.Exp(-config.Dt);
        _c = config.G / Math.Sqrt(_n);
        _x = new double[(_steps + 1) * _b * _n];
        _r = new double[_x.Length];
        _tmp = new double[_b * _n]; _a = new double[_b * _n]; _aNext = new double[_b * _n]; _dphi = new double[_n];
    }

    /// <summary>The task.</summary>
    public TrainingTask Task => _task;
    /// <summary>The architecture.</summary>
    public RnnConfig Config => _cfg;
    /// <summary>Number of observed (condition, window-step) pairs P = B·Window.</summary>
    public int Observed => _b * _task.Window;

    /// <summary>Runs the forward pass and stores all states.</summary>
    public void Forward(RnnWeights w)
    {
        int n = _n, b = _b;
        for (int q = 0; q < b; q++)
        {
            var x0 = _task.X0?[q];
            for (int i = 0; i < n; i++) _x[q * n + i] = x0 == null ? 0.0 : x0[i];
        }
        ActivationFunctions.Apply(_cfg.Activation, new ReadOnlySpan<double>(_x, 0, b * n), new Span<double>(_r, 0, b * n));
        double oneMinusE = 1.0 - _e;
        for (int k = 0; k < _steps; k++)
        {
            int cur = k * b * n, next = (k + 1) * b * n;
            DenseKernels.MatVecBatch(w.J, n, _r, cur, _tmp, 0, b, _c);
            for (int q = 0; q < b; q++)
            {
                var inp = _task.InputSeries[q];
                for (int i = 0; i < n; i++)
                {
                    double u = 0.0;
                    int ub = i * _din, ib = k * _din;
                    for (int a = 0; a < _din; a++) u += w.U[ub + a] * inp[ib + a];
                    int idx = q * n + i;
                    _x[next + idx] = _e * _x[cur + idx] + oneMinusE * (_tmp[idx] + u);
                }
            }
            ActivationFunctions.Apply(_cfg.Activation, new ReadOnlySpan<double>(_x, next, b * n), new Span<double>(_r, next, b * n));
        }
    }

    /// <summary>Copies the observed rates into dest as a P × N row-major matrix (row p = b·Window + k').</summary>
    public void ObservedRates(double[] dest)
    {
        int n = _n, wlen = _task.Window;
        for (int q = 0; q < _b; q++)
            for (int k = 0; k < wlen; k++)
                Array.Copy(_r, ((_task.BurnIn + k) * _b + q) * n, dest, (q * wlen + k) * n, n);
    }

    /// <summary>Rates φ(x_k) of condition q at step k (a view into the workspace).</summary>
    public ReadOnlySpan<double> Rates(int k, int q) => new(_r, (k * _b + q) * _n, _n);

    /// <summary>States x_k of condition q at step k.</summary>
    public ReadOnlySpan<double> States(int k, int q) => new(_x, (k * _b + q) * _n, _n);

    /// <summary>Back-propagates dL/dφ(x) on the observed window (P × N, as <see cref="ObservedRates"/>) and writes
    /// dL/dJ into gJ (N×N) and, when gU is not null, dL/dU into gU (N×inputs). Overwrites both. Call after
    /// <see cref="Forward"/> with the same weights.</summary>
    public void Backward(RnnWeights w, double[] dLdR, double[] gJ, double[]? gU)
    {
        int n = _n, b = _b, wlen = _task.Window, burn = _task.BurnIn;
        Array.Clear(gJ);
        if (gU != null) Array.Clear(gU);
        Array.Clear(_a); // a = ∂L/∂x_Steps = 0 (the final state is not observed)
        double oneMinusE = 1.0 - _e;
        for (int k = _steps - 1; k >= 0; k--)
        {
            int cur = k * b * n;
            // _a holds ∂L/∂x_{k+1}.
            DenseKernels.RankUpdateBatch(gJ, n, _a, 0, _r, cur, b, oneMinusE * _c);
            if (gU != null && _din > 0)
                for (int q = 0; q < b; q++)
                {
                    var inp = _task.InputSeries[q];
                    for (int i = 0; i < n; i++)
                    {
                        double ai = oneMinusE * _a[q * n + i];
                        if (ai == 0.0) continue;
                        for (int a = 0; a < _din; a++) gU[i * _din + a] += ai * inp[k * _din + a];
                    }
                }
            if (k == 0) break;
            DenseKernels.MatTVecBatch(w.J, n, _a, 0, _tmp, 0, b, oneMinusE * _c);
            bool observed = k >= burn && k < burn + wlen;
            for (int q = 0; q < b; q++)
            {
                var dphi = _dphi.AsSpan();
                ActivationFunctions.Derivative(_cfg.Activation, new ReadOnlySpan<double>(_x, cur + q * n, n), dphi);
                int obs = observed ? (q * wlen + (k - burn)) * n : -1;
                for (int i = 0; i < n; i++)
                {
                    int idx = q * n + i;
                    double t = _tmp[idx] + (obs >= 0 ? dLdR[obs + i] : 0.0);
                    _aNext[idx] = _e * _a[idx] + dphi[i] * t;
                }
            }
            Array.Copy(_aNext, _a, _a.Length);
        }
    }

    /// <summary>Runs one condition autonomously (inputs zero unless given) from x0 for <paramref name="steps"/> steps and
    /// returns the rates φ(x_k), k = 0..steps, as a (steps+1) × N row-major array. For continuation past the window.</summary>
    public static double[] Rollout(RnnWeights w, double[] x0, int steps, Func<int, double[]>? input = null)
    {
        var cfg = w.Config;
        int n = cfg.N;
        if (x0.Length != n) throw new ArgumentException("x0 length must be N");
        double e = Math.Exp(-cfg.Dt), c = cfg.G / Math.Sqrt(n);
        var rates = new double[(steps + 1) * n];
        var x = (double[])x0.Clone();
        var tmp = new double[n];
        ActivationFunctions.Apply(cfg.Activation, x, rates.AsSpan(0, n));
        for (int k = 0; k < steps; k++)
        {
            DenseKernels.MatVecBatch(w.J, n, rates, k * n, tmp, 0, 1, c);
            var inp = input?.Invoke(k);
            for (int i = 0; i < n; i++)
            {
                double u = 0.0;
                if (inp != null) for (int a = 0; a < cfg.Inputs; a++) u += w.U[i * cfg.Inputs + a] * inp[a];
                x[i] = e * x[i] + (1.0 - e) * (tmp[i] + u);
            }
            ActivationFunctions.Apply(cfg.Activation, x, rates.AsSpan((k + 1) * n, n));
        }
        return rates;
    }

    /// <summary>Readout y = Vᵀφ/(Nγ) for a P × N rate matrix: returns P × outputs.</summary>
    public static double[] Readout(RnnWeights w, double[] rates, int p)
    {
        var cfg = w.Config;
        int n = cfg.N, d = cfg.Outputs;
        var y = new double[p * d];
        double s = 1.0 / (n * cfg.Gamma);
        for (int row = 0; row < p; row++)
            for (int i = 0; i < n; i++)
            {
                double r = rates[row * n + i] * s;
                for (int o = 0; o < d; o++) y[row * d + o] += r * w.V[i * d + o];
            }
        return y;
    }
}

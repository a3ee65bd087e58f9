using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.ClosedLoop;

/// <summary>The 2-D multi-frequency tracking task of Ger &amp; Barak 2025, App. D (values from the authors' code,
/// research note §11): two decoupled double integrators (p^x, v^x, p^y, v^y) with Δ = 0.1 (Euler), state clamped to
/// [−10, 10] after each step; references r_x(t) = ρ(t) Σ_i a cos(2π f^x_i t + φ_i), r_y likewise, a = 2.31,
/// f^x = {0.1, 0.3} Hz, f^y = {0.2, 0.4} Hz, φ ~ U(−π, π) per episode and component, ramp ρ(t) = clip(t/1 s, 0, 1);
/// n = 300 steps, t_i = 0.1 i; initial state 0.</summary>
public sealed class TrackingTask
{
    public double Dt { get; init; } = 0.1;
    public int Steps { get; init; } = 300;
    public double Amplitude { get; init; } = 2.31;
    public double[] FrequenciesX { get; init; } = [0.1, 0.3];
    public double[] FrequenciesY { get; init; } = [0.2, 0.4];
    public double Clamp { get; init; } = 10.0;
    public double RampSeconds { get; init; } = 1.0;

    /// <summary>All four frequencies in increasing order, with their axis (0 = x, 1 = y) and index.</summary>
    public (double f, int axis, int index)[] Components() =>
        FrequenciesX.Select((f, i) => (f, 0, i)).Concat(FrequenciesY.Select((f, i) => (f, 1, i))).OrderBy(c => c.Item1).ToArray();

    /// <summary>References r (Steps × batch × 2, row-major) with random phases; <paramref name="only"/> ≥ 0 keeps a single
    /// component (index into <see cref="Components"/>: the per-frequency probes).</summary>
    public double[] References(Rng rng, int batch, int only = -1)
    {
        Validate.PositiveInt("batch", batch);
        var comps = Components();
        var r = new double[Steps * batch * 2];
        var phase = new double[comps.Length];
        for (int b = 0; b < batch; b++)
        {
            for (int c = 0; c < comps.Length; c++) phase[c] = (2.0 * rng.NextDouble() - 1.0) * Math.PI;
            for (int i = 0; i < Steps; i++)
            {
                double t = i * Dt, ramp = Math.Clamp(t / RampSeconds, 0.0, 1.0);
                for (int c = 0; c < comps.Length; c++)
                {
                    if (only >= 0 && c != only) continue;
                    r[(i * batch + b) * 2 + comps[c].axis] += ramp * Amplitude * Math.Cos(2.0 * Math.PI * comps[c].f * t + phase[c]);
                }
            }
        }
        return r;
    }
}

/// <summary>Linear (or tanh) leaky RNN controller for the tracking task: inputs (p^x_i, p^y_i, r_x(t_i), r_y(t_i)),
/// h_{i+1} = (1−a)h_i + aφ(W h_i + M in_i), output u_i = Zᵀh_{i+1} (two accelerations), x_{i+1} = clamp(A x_i + B u_i);
/// loss (1/n) Σ_i Δ mean_b [(p^x_{i+1} − r_x(t_i))² + (p^y_{i+1} − r_y(t_i))²]. Hand-derived BPTT (the clamp passes
/// no gradient where it is active).</summary>
public sealed class TrackingEngine
{
    private readonly int n, steps;
    private int capacity;
    private double[] hs = [], ds = [], xs = [], mask = [];
    public const int Inputs = 4, Outputs = 2, State = 4;

    public TrackingEngine(int units, int steps)
    {
        n = Validate.PositiveInt("N", units);
        this.steps = Validate.PositiveInt("steps", steps);
    }

    /// <summary>W (N×N), M (N×4), Z (N×2), all row-major.</summary>
    public sealed class Weights
    {
        public double[] W { get; }
        public double[] M { get; }
        public double[] Z { get; }
        public double Leak { get; }
        public Activation Phi { get; }
        public Weights(double[] w, double[] m, double[] z, double leak, Activation phi)
        {
            int n = z.Length / Outputs;
            if (n <= 0 || z.Length != n * Outputs) throw new ParameterOutOfDomainException("Z", $"{z.Length} entries", "N x 2");
            if (w.Length != n * n) throw new ParameterOutOfDomainException("W", $"{w.Length} entries", $"{n * n}");
            if (m.Length != n * Inputs) throw new ParameterOutOfDomainException("M", $"{m.Length} entries", $"{n * Inputs}");
            Validate.InRange("a", leak, double.Epsilon, 1.0);
            W = w; M = m; Z = z; Leak = leak; Phi = phi;
        }
        public int N => Z.Length / Outputs;

        /// <summary>Initialisation of the code (tracking cell 1): W ~ N(0, g²/N), M, Z ~ U(−N^−½, N^−½), a = 0.1.</summary>
        public static Weights Init(int n, double g, Rng rng, double leak = 0.1)
        {
            double s = 1.0 / Math.Sqrt(n);
            var w = new double[n * n]; var m = new double[n * Inputs]; var z = new double[n * Outputs];
            for (int i = 0; i < w.Length; i++) w[i] = g * s * rng.NextGaussian();
            for (int i = 0; i < m.Length; i++) m[i] = (2 * rng.NextDouble() - 1) * s;
            for (int i = 0; i < z.Length; i++) z[i] = (2 * rng.NextDouble() - 1) * s;
            return new Weights(w, m, z, leak, Activation.Identity);
        }
    }

    private void Ensure(int batch)
    {
        if (batch <= capacity) return;
        capacity = batch;
        hs = new double[(steps + 1) * batch * n];
        ds = new double[(steps + 1) * batch * n];
        xs = new double[(steps + 1) * batch * State];
        mask = new double[(steps + 1) * batch * State];
    }

    /// <summary>Forward pass; refs from <see cref="TrackingTask.References"/>. Returns the loss.</summary>
    public double Forward(Weights w, TrackingTask task, double[] refs, int batch)
    {
        if (w.N != n) throw new ParameterOutOfDomainException("N", w.N.ToString(), n.ToString());
        if (batch <= 0) throw new ParameterOutOfDomainException("batch", batch.ToString(), "at least 1");
        if (task.Steps != steps || refs.Length != steps * batch * 2) throw new ParameterOutOfDomainException("refs", $"{refs.Length} entries", $"{steps * batch * 2}");
        Ensure(batch);
        double dt = task.Dt, a = w.Leak, c = dt / (steps * (double)batch), loss = 0.0;
        Span<double> inp = stackalloc double[Inputs];
        Span<double> raw = stackalloc double[State];
        for (int b = 0; b < batch; b++)
        {
            xs.AsSpan(b * State, State).Clear();
            hs.AsSpan(b * n, n).Clear();
            for (int i = 0; i < steps; i++)
            {
                var x = xs.AsSpan((i * batch + b) * State, State);
                inp[0] = x[0]; inp[1] = x[2]; inp[2] = refs[(i * batch + b) * 2]; inp[3] = refs[(i * batch + b) * 2 + 1];
                var h = hs.AsSpan((i * batch + b) * n, n);
                var hn = hs.AsSpan(((i + 1) * batch + b) * n, n);
                var d = ds.AsSpan(((i + 1) * batch + b) * n, n);
                double u0 = 0, u1 = 0;
                for (int j = 0; j < n; j++)
                {
                    double pre = DenseKernels.Dot(w.W.AsSpan(j * n, n), h);
                    for (int q = 0; q < Inputs; q++) pre += w.M[j * Inputs + q] * inp[q];
                    double phi = w.Phi == Activation.Tanh ? Math.Tanh(pre) : pre;
                    d[j] = a * (w.Phi == Activation.Tanh ? 1 - phi * phi : 1.0);
                    hn[j] = (1 - a) * h[j] + a * phi;
                }
                for (int j = 0; j < n; j++) { u0 += w.Z[j * Outputs] * hn[j]; u1 += w.Z[j * Outputs + 1] * hn[j]; }
                var xn = xs.AsSpan(((i + 1) * batch + b) * State, State);
                var mk = mask.AsSpan(((i + 1) * batch + b) * State, State);
                raw[0] = x[0] + dt * x[1]; raw[1] = x[1] + dt * u0; raw[2] = x[2] + dt * x[3]; raw[3] = x[3] + dt * u1;
                for (int q = 0; q < State; q++)
                {
                    mk[q] = Math.Abs(raw[q]) <= task.Clamp ? 1.0 : 0.0;
                    xn[q] = Math.Clamp(raw[q], -task.Clamp, task.Clamp);
                }
                double ex = xn[0] - refs[(i * batch + b) * 2], ey = xn[2] - refs[(i * batch + b) * 2 + 1];
                loss += c * (ex * ex + ey * ey);
            }
        }
        return loss;
    }

    /// <summary>Backward pass after <see cref="Forward"/>: gradients with respect to W, M, Z (cleared first).</summary>
    public void Backward(Weights w, TrackingTask task, double[] refs, int batch, double[] gW, double[] gM, double[] gZ)
    {
        Array.Clear(gW); Array.Clear(gM); Array.Clear(gZ);
        double dt = task.Dt, a = w.Leak, c = dt / (steps * (double)batch);
        var gh = new double[n]; var ghPrev = new double[n]; var gpre = new double[n];
        Span<double> gx = stackalloc double[State];
        Span<double> graw = stackalloc double[State];
        Span<double> inp = stackalloc double[Inputs];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(gh); gx.Clear();
            for (int i = steps - 1; i >= 0; i--)
            {
                // gx holds ∂L/∂x_{i+1} from the future; add the loss term at x_{i+1}
                var xn = xs.AsSpan(((i + 1) * batch + b) * State, State);
                gx[0] += 2 * c * (xn[0] - refs[(i * batch + b) * 2]);
                gx[2] += 2 * c * (xn[2] - refs[(i * batch + b) * 2 + 1]);
                var mk = mask.AsSpan(((i + 1) * batch + b) * State, State);
                for (int q = 0; q < State; q++) graw[q] = gx[q] * mk[q];
                double gu0 = dt * graw[1], gu1 = dt * graw[3];
                var hn = hs.AsSpan(((i + 1) * batch + b) * n, n);
                var h = hs.AsSpan((i * batch + b) * n, n);
                var d = ds.AsSpan(((i + 1) * batch + b) * n, n);
                var x = xs.AsSpan((i * batch + b) * State, State);
                inp[0] = x[0]; inp[1] = x[2]; inp[2] = refs[(i * batch + b) * 2]; inp[3] = refs[(i * batch + b) * 2 + 1];
                for (int j = 0; j < n; j++)
                {
                    gh[j] += w.Z[j * Outputs] * gu0 + w.Z[j * Outputs + 1] * gu1;
                    gZ[j * Outputs] += hn[j] * gu0; gZ[j * Outputs + 1] += hn[j] * gu1;
                    gpre[j] = d[j] * gh[j];
                }
                for (int j = 0; j < n; j++) ghPrev[j] = (1 - a) * gh[j];
                double gin0 = 0, gin1 = 0;
                for (int j = 0; j < n; j++)
                {
                    double gp = gpre[j];
                    if (gp == 0.0) continue;
                    DenseKernels.Axpy(gp, h, gW.AsSpan(j * n, n));
                    DenseKernels.Axpy(gp, w.W.AsSpan(j * n, n), ghPrev);
                    for (int q = 0; q < Inputs; q++) gM[j * Inputs + q] += gp * inp[q];
                    gin0 += w.M[j * Inputs] * gp; gin1 += w.M[j * Inputs + 1] * gp;
                }
                Array.Copy(ghPrev, gh, n);
                // ∂/∂x_i: through raw = A x_i + B u_i and through the inputs (positions)
                double g0 = graw[0] + gin0, g1 = dt * graw[0] + graw[1], g2 = graw[2] + gin1, g3 = dt * graw[2] + graw[3];
                gx[0] = g0; gx[1] = g1; gx[2] = g2; gx[3] = g3;
            }
        }
    }
}

/// <summary>Per-epoch record of tracking training.</summary>
public sealed class TrackingRecord
{
    public int Epoch { get; init; }
    public double TrainLoss { get; init; }
    /// <summary>Test loss on the full multi-frequency reference (fixed test set).</summary>
    public double TestLoss { get; init; }
    /// <summary>Test losses of the single-sinusoid probes, in increasing frequency (NaN-free; empty when not recorded).</summary>
    public double[] ComponentLosses { get; init; } = [];
}

/// <summary>Closed-loop training on the tracking task (App. D): Adam, W and Z trained, M frozen, no clipping by default.
/// <c>onTest</c> (optional) is called with (epoch, current weights) at every test epoch, before the update;
/// <c>onFinish</c> (optional) with the trained weights after the last update.</summary>
public static class TrackingTrainer
{
    public static IReadOnlyList<TrackingRecord> Train(TrackingEngine.Weights initial, TrackingTask task, int epochs, int batch, double learningRate,
        long seed, int testBatch = 50, int testEvery = 10, double clip = 0.0, Action<int, TrackingEngine.Weights>? onTest = null,
        Action<TrackingEngine.Weights>? onFinish = null)
    {
        Validate.PositiveInt("epochs", epochs);
        Validate.PositiveInt("batch", batch);
        Validate.PositiveInt("testEvery", testEvery);
        var w = new TrackingEngine.Weights((double[])initial.W.Clone(), (double[])initial.M.Clone(), (double[])initial.Z.Clone(), initial.Leak, initial.Phi);
        int n = w.N;
        var eng = new TrackingEngine(n, task.Steps);
        var testEng = new TrackingEngine(n, task.Steps);
        var rng = new Rng(seed);
        var testRefs = task.References(Rng.ForStream(seed, 1_000_003), testBatch);
        var probes = Enumerable.Range(0, task.Components().Length).Select(c => task.References(Rng.ForStream(seed, 2_000_000 + c), testBatch, c)).ToArray();
        var gW = new double[n * n]; var gM = new double[w.M.Length]; var gZ = new double[w.Z.Length];
        var opt = new Optimizer(OptimizerKind.Adam, learningRate, clip);
        var recs = new List<TrackingRecord>(epochs);
        for (int e = 0; e < epochs; e++)
        {
            bool test = e % testEvery == 0 || e == epochs - 1;
            if (test) onTest?.Invoke(e, w);
            double testLoss = test ? testEng.Forward(w, task, testRefs, testBatch) : double.NaN;
            double[] comps = test ? probes.Select(p => testEng.Forward(w, task, p, testBatch)).ToArray() : [];
            var refs = task.References(rng, batch);
            double loss = eng.Forward(w, task, refs, batch);
            eng.Backward(w, task, refs, batch, gW, gM, gZ);
            opt.Step(new[] { w.W, w.Z }, new[] { gW, gZ });
            recs.Add(new TrackingRecord { Epoch = e, TrainLoss = loss, TestLoss = testLoss, ComponentLosses = comps });
        }
        onFinish?.Invoke(w);
        return recs;
    }
}

using Theory.Core.Numerics;
using Theory.Core;
using Theory.Core.ClosedLoop;

namespace Theory.Simulation.ClosedLoop;

/// <summary>Loss normalisation of the closed-loop objective (research note §1).</summary>
public enum LossNormalisation
{
    /// <summary>Rank-one theory runs: (1/(2TB)) Σ_b Σ_{t=0}^{T−1} ‖x_t‖² + (β/B) Σ_b Σ_t u_t².</summary>
    Theory,
    /// <summary>Nonlinear run: Σ_t Δ[(1/(2B)) Σ_b ‖x_t‖² + β Σ_b u_t²] (control term summed over the batch, as in the code).</summary>
    Nonlinear,
}

/// <summary>The closed-loop control task: plant, episode length T (states x_0..x_{T−1}), β and normalisation.</summary>
public sealed class ControlTask
{
    /// <summary>The plant (from <c>Theory.Core.ClosedLoop.Plant</c>).</summary>
    public Plant Plant { get; }
    /// <summary>Episode length T (number of states in the loss, t = 0..T−1).</summary>
    public int Steps { get; }
    /// <summary>Control penalty β.</summary>
    public double Beta { get; }
    /// <summary>Loss normalisation.</summary>
    public LossNormalisation Normalisation { get; }

    /// <summary>Creates a task; validates T ≥ 2 and β ≥ 0.</summary>
    public ControlTask(Plant plant, int steps, double beta, LossNormalisation normalisation)
    {
        Plant = plant;
        Steps = Validate.AtLeast("T", steps, 2);
        Beta = Validate.NonNegative("beta", beta);
        Normalisation = normalisation;
    }

    /// <summary>The double integrator with Δ = 1, T = 50, β = 0, theory normalisation (rank-one runs).</summary>
    public static ControlTask TheoryDefault() => new(PlantModule.DoubleIntegrator(1.0), 50, 0.0, LossNormalisation.Theory);

    /// <summary>The nonlinear run: Δ = 1, T = 50, β = 0.005 summed over the batch.</summary>
    public static ControlTask NonlinearDefault() => new(PlantModule.DoubleIntegrator(1.0), 50, 0.005, LossNormalisation.Nonlinear);

    internal (double cx, double cu) Coefficients(int batch) => Normalisation switch
    {
        LossNormalisation.Theory => (1.0 / (2.0 * Steps * batch), Beta / batch),
        _ => (Plant.Dt / (2.0 * batch), Plant.Dt * Beta),
    };
}

/// <summary>Gradients of the loss with respect to the controller's parameters (same shapes).</summary>
public sealed class Gradients
{
    /// <summary>∂L/∂W (row-major N × N); left zero by the rank-one fast path (W = u vᵀ without bulk), which
    /// accumulates ∂L/∂u and ∂L/∂v directly in O(N) per step.</summary>
    public double[] GW { get; }
    /// <summary>∂L/∂m.</summary>
    public double[] GM { get; }
    /// <summary>∂L/∂z.</summary>
    public double[] GZ { get; }
    /// <summary>∂L/∂u = (∂L/∂W) v for a rank-one controller.</summary>
    public double[] GU { get; }
    /// <summary>∂L/∂v = (∂L/∂W)ᵀ u for a rank-one controller.</summary>
    public double[] GV { get; }

    /// <summary>Zero gradients for N units.</summary>
    public Gradients(int n)
    {
        GW = new double[n * n]; GM = new double[n]; GZ = new double[n]; GU = new double[n]; GV = new double[n];
    }

    internal void Clear() { Array.Clear(GW); Array.Clear(GM); Array.Clear(GZ); Array.Clear(GU); Array.Clear(GV); }

    /// <summary>The gradient arrays matching <see cref="RnnController"/>'s trainable parameters, in the same order.</summary>
    internal List<double[]> For(RnnController c)
    {
        var list = new List<double[]>();
        if (c.TrainRecurrent) { if (c.IsRankOne) { if (c.TrainU) list.Add(GU); list.Add(GV); } else list.Add(GW); }
        if (c.TrainM) list.Add(GM);
        if (c.TrainZ) list.Add(GZ);
        return list;
    }
}

/// <summary>Forward episodes and hand-derived backpropagation through time through the differentiable plant
/// (Ger &amp; Barak 2025, §2; research note §14). Episode timing of the code: h_0 = 0, u_0 = 0, x_1 = A x_0;
/// for t ≥ 1: h_t = (1−a)h_{t−1} + aφ(W h_{t−1} + m C x_t), u_t = zᵀh_t, x_{t+1} = A x_t + B u_t.
/// Buffers are reused between calls (no allocation per step). Samples run in parallel over fixed chunks; one engine must not be used by two callers at once.</summary>
public sealed class BpttEngine
{
    private readonly int n, k, steps;
    private int capacity;
    private double[] xs = [], hs = [], ds = [], us = [], ys = [];
    /// <summary>Samples are split into this many fixed chunks (run in parallel, reduced in chunk order), so results do
    /// not depend on the number of threads.</summary>
    public const int Chunks = 8;
    private readonly Scratch[] scratch;
    private readonly Gradients[] partial;
    private readonly double[] chunkLoss = new double[Chunks];

    private sealed class Scratch
    {
        public readonly double[] Gh, GhNext, Gpre, Gx, GxNext;
        public Scratch(int n, int k) { Gh = new double[n]; GhNext = new double[n]; Gpre = new double[n]; Gx = new double[k]; GxNext = new double[k]; }
    }

    private static (int, int) ChunkRange(int chunk, int batch) => (chunk * batch / Chunks, (chunk + 1) * batch / Chunks);

    /// <summary>Runs body(b0, b1, chunk) over the fixed chunks in parallel.</summary>
    private static void ForChunks(int batch, Action<int, int, int> body)
    {
        if (batch < 2 * Chunks) { for (int c = 0; c < Chunks; c++) { var (b0, b1) = ChunkRange(c, batch); body(b0, b1, c); } return; }
        Parallel.For(0, Chunks, c => { var (b0, b1) = ChunkRange(c, batch); body(b0, b1, c); });
    }

    /// <summary>Engine for controllers of N units on a plant of order K with T steps.</summary>
    public BpttEngine(int units, int plantOrder, int steps)
    {
        n = Validate.PositiveInt("N", units);
        k = Validate.PositiveInt("K", plantOrder);
        this.steps = Validate.AtLeast("T", steps, 2);
        scratch = Enumerable.Range(0, Chunks).Select(_ => new Scratch(n, k)).ToArray();
        partial = Enumerable.Range(0, Chunks).Select(_ => new Gradients(n)).ToArray();
    }

    private void Ensure(int batch)
    {
        if (batch <= capacity) return;
        capacity = batch;
        xs = new double[steps * batch * k];
        hs = new double[steps * batch * n];
        ds = new double[steps * batch * n];
        us = new double[steps * batch];
        ys = new double[steps * batch];
    }

    private void Check(RnnController c, int batch)
    {
        if (c.N != n) throw new ParameterOutOfDomainException("N", c.N.ToString(), $"{n} (engine size)");
        if (batch <= 0) throw new ParameterOutOfDomainException("batch", batch.ToString(), "at least 1 initial state");
    }

    /// <summary>State x_t of sample b after a forward pass.</summary>
    public ReadOnlySpan<double> State(int t, int b, int batch) => xs.AsSpan((t * batch + b) * k, k);
    /// <summary>Control u_t of sample b after a forward pass.</summary>
    public double Control(int t, int b, int batch) => us[t * batch + b];
    /// <summary>Hidden state h_t of sample b after a forward pass.</summary>
    public ReadOnlySpan<double> Hidden(int t, int b, int batch) => hs.AsSpan((t * batch + b) * n, n);

    /// <summary>One RNN step for one sample: writes h_t and a φ′(pre) into the buffers and returns u_t.</summary>
    private double RnnStep(RnnController c, int t, int b, int batch, double y)
    {
        var h = hs.AsSpan((t * batch + b) * n, n);
        var d = ds.AsSpan((t * batch + b) * n, n);
        var hp = hs.AsSpan(((t - 1) * batch + b) * n, n);
        double a = c.Leak;
        bool first = t == 1; // h_0 = 0
        var w = c.W;
        // rank-one fast path (W = u vᵀ exactly, J absent): W h = u (vᵀh), O(N) per step
        bool fast = c.U is not null && c.V is not null && c.J is null;
        double vh = fast && !first ? DenseKernels.Dot(c.V!, hp) : 0.0;
        for (int i = 0; i < n; i++)
        {
            double rec = first ? 0.0 : fast ? c.U![i] * vh : DenseKernels.Dot(w.AsSpan(i * n, n), hp);
            double pre = c.M[i] * y + rec;
            double phi, dphi;
            if (c.Phi == Activation.Tanh) { phi = Math.Tanh(pre); dphi = 1.0 - phi * phi; }
            else { phi = pre; dphi = 1.0; }
            h[i] = (first ? 0.0 : (1.0 - a) * hp[i]) + a * phi;
            d[i] = a * dphi;
        }
        return DenseKernels.Dot(c.Z, h);
    }

    /// <summary>Closed-loop forward pass from the initial states x0 (batch × K, row-major); returns the loss.</summary>
    public double ForwardClosedLoop(RnnController c, ControlTask task, ReadOnlySpan<double> x0, int batch)
    {
        Check(c, batch);
        if (task.Plant.Order != k || task.Steps != steps) throw new ParameterOutOfDomainException("task", $"K={task.Plant.Order}, T={task.Steps}", $"K={k}, T={steps}");
        if (x0.Length != batch * k) throw new ParameterOutOfDomainException("x0", $"{x0.Length} entries", $"{batch * k} (batch x K)");
        Ensure(batch);
        var x0a = x0.ToArray();
        ForChunks(batch, (b0, b1, ch) => chunkLoss[ch] = ForwardClosedSamples(c, task, x0a, batch, b0, b1));
        double loss = 0.0;
        for (int ch = 0; ch < Chunks; ch++) loss += chunkLoss[ch];
        if (!double.IsFinite(loss)) throw new NoSolutionException("the closed-loop loss overflowed (the controller drives the plant to infinity); lower the learning rate or the initial weights");
        return loss;
    }

    private double ForwardClosedSamples(RnnController c, ControlTask task, double[] x0, int batch, int b0, int b1)
    {
        var (cx, cu) = task.Coefficients(batch);
        var A = task.Plant.A; var B = task.Plant.B; var C = task.Plant.C;
        double loss = 0.0;
        for (int b = b0; b < b1; b++)
        {
            var x0b = x0.AsSpan(b * k, k);
            x0b.CopyTo(xs.AsSpan(b * k, k));
            us[b] = 0.0;
            loss += cx * DenseKernels.Dot(x0b, x0b);
            for (int t = 1; t < steps; t++)
            {
                var xp = xs.AsSpan(((t - 1) * batch + b) * k, k);
                double up = us[(t - 1) * batch + b];
                var xt = xs.AsSpan((t * batch + b) * k, k);
                double y = 0.0;
                for (int i = 0; i < k; i++)
                {
                    double s = B[i] * up;
                    for (int j = 0; j < k; j++) s += A[i, j] * xp[j];
                    xt[i] = s;
                }
                for (int i = 0; i < k; i++) y += C[i] * xt[i];
                ys[t * batch + b] = y;
                double u = RnnStep(c, t, b, batch, y);
                us[t * batch + b] = u;
                loss += cx * DenseKernels.Dot(xt, xt) + cu * u * u;
            }
        }
        return loss;
    }

    /// <summary>Open-loop forward pass: inputs y_t (t = 1..T−1; entry t·batch + b, row 0 ignored) drive the RNN;
    /// loss = scale Σ_b Σ_{t≥1} (u_t − target_t)².</summary>
    public double ForwardOpenLoop(RnnController c, ReadOnlySpan<double> inputs, ReadOnlySpan<double> targets, int batch, double scale)
    {
        Check(c, batch);
        if (inputs.Length != steps * batch || targets.Length != steps * batch)
            throw new ParameterOutOfDomainException("inputs", $"{inputs.Length}/{targets.Length} entries", $"{steps * batch} (T x batch)");
        Ensure(batch);
        var ina = inputs.ToArray(); var ta = targets.ToArray();
        ForChunks(batch, (b0, b1, ch) => chunkLoss[ch] = ForwardOpenSamples(c, ina, ta, batch, scale, b0, b1));
        double total = 0.0;
        for (int ch = 0; ch < Chunks; ch++) total += chunkLoss[ch];
        return total;
    }

    private double ForwardOpenSamples(RnnController c, double[] inputs, double[] targets, int batch, double scale, int b0, int b1)
    {
        double loss = 0.0;
        for (int b = b0; b < b1; b++)
        {
            us[b] = 0.0;
            for (int t = 1; t < steps; t++)
            {
                double y = inputs[t * batch + b];
                ys[t * batch + b] = y;
                double u = RnnStep(c, t, b, batch, y);
                us[t * batch + b] = u;
                double e = u - targets[t * batch + b];
                loss += scale * e * e;
            }
        }
        return loss;
    }

    /// <summary>Backward pass after <see cref="ForwardClosedLoop"/>: accumulates ∂L/∂(W, m, z) (and u, v for a
    /// rank-one controller) into <paramref name="g"/> (cleared first).</summary>
    public void BackwardClosedLoop(RnnController c, ControlTask task, int batch, Gradients g) => Backward(c, task, batch, g, null, 0.0);

    /// <summary>Backward pass after <see cref="ForwardOpenLoop"/>.</summary>
    public void BackwardOpenLoop(RnnController c, ReadOnlySpan<double> targets, int batch, double scale, Gradients g) => Backward(c, null, batch, g, targets.ToArray(), scale);

    private void Backward(RnnController c, ControlTask? task, int batch, Gradients g, double[]? targets, double scale)
    {
        g.Clear();
        ForChunks(batch, (b0, b1, ch) => { partial[ch].Clear(); BackwardSamples(c, task, batch, partial[ch], targets, scale, b0, b1, scratch[ch]); });
        for (int ch = 0; ch < Chunks; ch++)
        {
            var p = partial[ch];
            DenseKernels.Axpy(1.0, p.GW, g.GW); DenseKernels.Axpy(1.0, p.GM, g.GM); DenseKernels.Axpy(1.0, p.GZ, g.GZ);
            DenseKernels.Axpy(1.0, p.GU, g.GU); DenseKernels.Axpy(1.0, p.GV, g.GV);
        }
        bool fast = c.U is not null && c.V is not null && c.J is null;
        if (c.U is not null && c.V is not null && !fast)
        {
            for (int i = 0; i < n; i++)
            {
                g.GU[i] = DenseKernels.Dot(g.GW.AsSpan(i * n, n), c.V);
                DenseKernels.Axpy(c.U[i], g.GW.AsSpan(i * n, n), g.GV);
            }
        }
    }

    private void BackwardSamples(RnnController c, ControlTask? task, int batch, Gradients g, double[]? targets, double scale, int b0, int b1, Scratch sc)
    {
        var gh = sc.Gh; var ghNext = sc.GhNext; var gpre = sc.Gpre; var gx = sc.Gx; var gxNext = sc.GxNext;
        double a = c.Leak;
        var w = c.W;
        bool fast = c.U is not null && c.V is not null && c.J is null;
        double cx = 0, cu = 0;
        double[,]? A = null; double[]? B = null; double[]? C = null;
        if (task is not null) { (cx, cu) = task.Coefficients(batch); A = task.Plant.A; B = task.Plant.B; C = task.Plant.C; }
        for (int b = b0; b < b1; b++)
        {
            Array.Clear(ghNext);
            Array.Clear(gxNext);
            for (int t = steps - 1; t >= 1; t--)
            {
                int idx = t * batch + b;
                double u = us[idx];
                double gu;
                if (task is not null)
                {
                    gu = 2.0 * cu * u;
                    for (int i = 0; i < k; i++) gu += B![i] * gxNext[i];
                }
                else gu = 2.0 * scale * (u - targets![idx]);
                var h = hs.AsSpan(idx * n, n);
                var d = ds.AsSpan(idx * n, n);
                // gh = ghNext + z gu; gz += gu h
                for (int i = 0; i < n; i++) { gh[i] = ghNext[i] + c.Z[i] * gu; gpre[i] = d[i] * gh[i]; }
                DenseKernels.Axpy(gu, h, g.GZ);
                double y = ys[idx];
                DenseKernels.Axpy(y, gpre, g.GM);
                // ghNext = (1 − a) gh + Wᵀ gpre; gW += gpre h_{t−1}ᵀ
                for (int i = 0; i < n; i++) ghNext[i] = (1.0 - a) * gh[i];
                if (t >= 2 && fast)
                {
                    // W = u vᵀ: Wᵀgpre = v (uᵀgpre); ∂L/∂u += gpre (vᵀh_{t−1}); ∂L/∂v += h_{t−1} (uᵀgpre)
                    var hp = hs.AsSpan(((t - 1) * batch + b) * n, n);
                    double ug = DenseKernels.Dot(c.U!, gpre), vh = DenseKernels.Dot(c.V!, hp);
                    DenseKernels.Axpy(ug, c.V!, ghNext);
                    DenseKernels.Axpy(vh, gpre, g.GU);
                    DenseKernels.Axpy(ug, hp, g.GV);
                }
                else if (t >= 2)
                {
                    var hp = hs.AsSpan(((t - 1) * batch + b) * n, n);
                    for (int i = 0; i < n; i++)
                    {
                        double gi = gpre[i];
                        if (gi == 0.0) continue;
                        DenseKernels.Axpy(gi, hp, g.GW.AsSpan(i * n, n));
                        DenseKernels.Axpy(gi, w.AsSpan(i * n, n), ghNext);
                    }
                }
                if (task is not null)
                {
                    double s = DenseKernels.Dot(c.M, gpre);
                    var xt = xs.AsSpan(idx * k, k);
                    for (int i = 0; i < k; i++)
                    {
                        double v = 2.0 * cx * xt[i] + C![i] * s;
                        for (int j = 0; j < k; j++) v += A![j, i] * gxNext[j];
                        gx[i] = v;
                    }
                    Array.Copy(gx, gxNext, k);
                }
            }
        }
    }
}

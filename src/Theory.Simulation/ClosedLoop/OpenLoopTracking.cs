using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.ClosedLoop;

/// <summary>Training protocol of the tracking task (Ger &amp; Barak 2025, App. D "Training").</summary>
public enum TrackingProtocol
{
    /// <summary>Closed loop: the controller drives the plant and minimises the tracking error (<see cref="TrackingTrainer"/>).</summary>
    ClosedLoop,
    /// <summary>Open loop (teacher–student): the teacher drives the plant, the student receives the teacher's inputs
    /// (p^x, p^y, r_x, r_y) and matches the teacher's accelerations (<see cref="OpenLoopTrackingTrainer"/>).</summary>
    OpenLoop,
}

/// <summary>One closed-loop rollout of a (teacher) controller on the tracking task: the inputs it received and the
/// controls it produced, plus its tracking loss. Layout: inputs (Steps × batch × 4), controls (Steps × batch × 2), row-major.</summary>
public sealed class TrackingRollout
{
    /// <summary>Inputs in_i = (p^x_i, p^y_i, r_x(t_i), r_y(t_i)), entry ((i·batch + b)·4 + q).</summary>
    public required double[] Inputs { get; init; }
    /// <summary>Controls u_i = Zᵀh_{i+1} (two accelerations), entry ((i·batch + b)·2 + k).</summary>
    public required double[] Controls { get; init; }
    /// <summary>Tracking loss (1/n) Σ_i Δ mean_b ‖p_{i+1} − r(t_i)‖² of this rollout (the closed-loop objective).</summary>
    public required double TrackingLoss { get; init; }
    public required int Batch { get; init; }
}

/// <summary>Open-loop (teacher–student) variant of the tracking task, Ger &amp; Barak 2025 App. D "Open-loop": the
/// teacher (a closed-loop-trained controller) drives the plant; student and teacher receive the same inputs
/// in_i = (p^x_i, p^y_i, r_x(t_i), r_y(t_i)) where p evolves under teacher control; the student, a linear (or tanh) leaky
/// RNN h_{i+1} = (1−a)h_i + aφ(W h_i + M in_i), u^S_i = Zᵀh_{i+1}, minimises
/// L_open = c Σ_i Σ_b ‖u^S_i − u^T_i‖² with c = Δ/(n·B) (the time-averaged, batch-averaged squared output difference,
/// normalised like the closed-loop loss: a reconstructed choice, the paper's equation lost its symbols). The student
/// never acts on the plant while it learns. Gradients by hand-derived BPTT (checked against finite differences in the tests).</summary>
public sealed class OpenLoopTrackingEngine
{
    private readonly int n, steps;
    private int capacity;
    private double[] hs = [], ds = [], us = [];
    public const int Inputs = TrackingEngine.Inputs, Outputs = TrackingEngine.Outputs, State = TrackingEngine.State;

    public OpenLoopTrackingEngine(int units, int steps)
    {
        n = Validate.PositiveInt("N", units);
        this.steps = Validate.PositiveInt("steps", steps);
    }

    /// <summary>Runs <paramref name="teacher"/> in closed loop on the references (same dynamics, clamp and loss as
    /// <see cref="TrackingEngine.Forward"/>) and records its inputs and controls.</summary>
    public static TrackingRollout TeacherRollout(TrackingEngine.Weights teacher, TrackingTask task, double[] refs, int batch)
    {
        Validate.PositiveInt("batch", batch);
        int n = teacher.N, steps = task.Steps;
        if (refs.Length != steps * batch * 2) throw new ParameterOutOfDomainException("refs", $"{refs.Length} entries", $"{steps * batch * 2}");
        var inputs = new double[steps * batch * Inputs];
        var controls = new double[steps * batch * Outputs];
        var h = new double[n]; var hn = new double[n];
        Span<double> x = stackalloc double[State];
        Span<double> raw = stackalloc double[State];
        double dt = task.Dt, a = teacher.Leak, c = dt / (steps * (double)batch), loss = 0.0;
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(h); x.Clear();
            for (int i = 0; i < steps; i++)
            {
                int ir = (i * batch + b) * 2, ii = (i * batch + b) * Inputs;
                inputs[ii] = x[0]; inputs[ii + 1] = x[2]; inputs[ii + 2] = refs[ir]; inputs[ii + 3] = refs[ir + 1];
                double u0 = 0, u1 = 0;
                for (int j = 0; j < n; j++)
                {
                    double pre = DenseKernels.Dot(teacher.W.AsSpan(j * n, n), h);
                    for (int q = 0; q < Inputs; q++) pre += teacher.M[j * Inputs + q] * inputs[ii + q];
                    double phi = teacher.Phi == Activation.Tanh ? Math.Tanh(pre) : pre;
                    hn[j] = (1 - a) * h[j] + a * phi;
                }
                for (int j = 0; j < n; j++) { u0 += teacher.Z[j * Outputs] * hn[j]; u1 += teacher.Z[j * Outputs + 1] * hn[j]; }
                controls[(i * batch + b) * Outputs] = u0; controls[(i * batch + b) * Outputs + 1] = u1;
                raw[0] = x[0] + dt * x[1]; raw[1] = x[1] + dt * u0; raw[2] = x[2] + dt * x[3]; raw[3] = x[3] + dt * u1;
                for (int q = 0; q < State; q++) x[q] = Math.Clamp(raw[q], -task.Clamp, task.Clamp);
                double ex = x[0] - refs[ir], ey = x[2] - refs[ir + 1];
                loss += c * (ex * ex + ey * ey);
                (h, hn) = (hn, h);
            }
        }
        if (!double.IsFinite(loss)) throw new NoSolutionException("teacher rollout produced a non-finite loss");
        return new TrackingRollout { Inputs = inputs, Controls = controls, TrackingLoss = loss, Batch = batch };
    }

    private void Ensure(int batch)
    {
        if (batch <= capacity) return;
        capacity = batch;
        hs = new double[(steps + 1) * batch * n];
        ds = new double[(steps + 1) * batch * n];
        us = new double[steps * batch * Outputs];
    }

    /// <summary>Loss scale c = Δ/(n·B) of L_open = c Σ_i Σ_b ‖u^S_i − u^T_i‖².</summary>
    public double Scale(TrackingTask task, int batch) => task.Dt / (steps * (double)batch);

    /// <summary>Student forward pass on the teacher's rollout; returns L_open.</summary>
    public double Forward(TrackingEngine.Weights w, TrackingTask task, TrackingRollout teacher)
    {
        if (w.N != n) throw new ParameterOutOfDomainException("N", w.N.ToString(), n.ToString());
        if (task.Steps != steps) throw new ParameterOutOfDomainException("steps", task.Steps.ToString(), steps.ToString());
        int batch = teacher.Batch;
        if (teacher.Inputs.Length != steps * batch * Inputs || teacher.Controls.Length != steps * batch * Outputs)
            throw new ParameterOutOfDomainException("rollout", $"{teacher.Inputs.Length} inputs", $"{steps * batch * Inputs}");
        Ensure(batch);
        double a = w.Leak, c = Scale(task, batch), loss = 0.0;
        for (int b = 0; b < batch; b++)
        {
            hs.AsSpan(b * n, n).Clear();
            for (int i = 0; i < steps; i++)
            {
                int ii = (i * batch + b) * Inputs, io = (i * batch + b) * Outputs;
                var h = hs.AsSpan((i * batch + b) * n, n);
                var hn = hs.AsSpan(((i + 1) * batch + b) * n, n);
                var d = ds.AsSpan(((i + 1) * batch + b) * n, n);
                double u0 = 0, u1 = 0;
                for (int j = 0; j < n; j++)
                {
                    double pre = DenseKernels.Dot(w.W.AsSpan(j * n, n), h);
                    for (int q = 0; q < Inputs; q++) pre += w.M[j * Inputs + q] * teacher.Inputs[ii + q];
                    double phi = w.Phi == Activation.Tanh ? Math.Tanh(pre) : pre;
                    d[j] = a * (w.Phi == Activation.Tanh ? 1 - phi * phi : 1.0);
                    hn[j] = (1 - a) * h[j] + a * phi;
                }
                for (int j = 0; j < n; j++) { u0 += w.Z[j * Outputs] * hn[j]; u1 += w.Z[j * Outputs + 1] * hn[j]; }
                us[io] = u0; us[io + 1] = u1;
                double e0 = u0 - teacher.Controls[io], e1 = u1 - teacher.Controls[io + 1];
                loss += c * (e0 * e0 + e1 * e1);
            }
        }
        return loss;
    }

    /// <summary>Backward pass after <see cref="Forward"/>: gradients of L_open with respect to W, M, Z (cleared first).
    /// Adjoint: g_u = 2c(u^S − u^T), g_h ← g_h + Z g_u, g_pre = φ'·a·g_h, ∇W += g_pre hᵀ, ∇M += g_pre inᵀ,
    /// g_h(previous) = (1−a)g_h + Wᵀg_pre (the inputs do not depend on the student).</summary>
    public void Backward(TrackingEngine.Weights w, TrackingTask task, TrackingRollout teacher, double[] gW, double[] gM, double[] gZ)
    {
        Array.Clear(gW); Array.Clear(gM); Array.Clear(gZ);
        int batch = teacher.Batch;
        double a = w.Leak, c = Scale(task, batch);
        var gh = new double[n]; var ghPrev = new double[n]; var gpre = new double[n];
        for (int b = 0; b < batch; b++)
        {
            Array.Clear(gh);
            for (int i = steps - 1; i >= 0; i--)
            {
                int ii = (i * batch + b) * Inputs, io = (i * batch + b) * Outputs;
                double gu0 = 2 * c * (us[io] - teacher.Controls[io]), gu1 = 2 * c * (us[io + 1] - teacher.Controls[io + 1]);
                var hn = hs.AsSpan(((i + 1) * batch + b) * n, n);
                var h = hs.AsSpan((i * batch + b) * n, n);
                var d = ds.AsSpan(((i + 1) * batch + b) * n, n);
                for (int j = 0; j < n; j++)
                {
                    gh[j] += w.Z[j * Outputs] * gu0 + w.Z[j * Outputs + 1] * gu1;
                    gZ[j * Outputs] += hn[j] * gu0; gZ[j * Outputs + 1] += hn[j] * gu1;
                    gpre[j] = d[j] * gh[j];
                }
                for (int j = 0; j < n; j++) ghPrev[j] = (1 - a) * gh[j];
                for (int j = 0; j < n; j++)
                {
                    double gp = gpre[j];
                    if (gp == 0.0) continue;
                    DenseKernels.Axpy(gp, h, gW.AsSpan(j * n, n));
                    DenseKernels.Axpy(gp, w.W.AsSpan(j * n, n), ghPrev);
                    for (int q = 0; q < Inputs; q++) gM[j * Inputs + q] += gp * teacher.Inputs[ii + q];
                }
                Array.Copy(ghPrev, gh, n);
            }
        }
    }
}

/// <summary>Open-loop (teacher–student) training on the tracking task (App. D): each epoch draws fresh references
/// (same stream as <see cref="TrackingTrainer"/> for the same seed), runs the teacher in closed loop, and takes an
/// Adam step on the student's W, Z and (by default) M on L_open. Test losses are the student's <b>deployed</b>
/// closed-loop tracking losses on the same fixed test set and single-sinusoid probes as <see cref="TrackingTrainer"/>
/// (streams 1 000 003 and 2 000 000 + c of the seed), so the two protocols are compared on identical test data.</summary>
public static class OpenLoopTrackingTrainer
{
    /// <summary>Trains the student; returns one record per epoch (TrainLoss = L_open, TestLoss = deployed closed-loop
    /// loss at test epochs, NaN otherwise, ComponentLosses = deployed single-sinusoid probe losses at test epochs).
    /// Parameters: initial = student initialisation (the paper: the same as the closed-loop network's); teacher =
    /// teacher controller (the paper: the final closed-loop network); trainInputWeights = train M as well (the paper:
    /// essential in open loop; default true); onTest = called with (epoch, current student weights) at every test
    /// epoch, before the update; clip ≤ 0 disables clipping (App. D: none).</summary>
    public static IReadOnlyList<TrackingRecord> Train(TrackingEngine.Weights initial, TrackingEngine.Weights teacher, TrackingTask task, int epochs, int batch,
        double learningRate, long seed, int testBatch = 50, int testEvery = 10, bool trainInputWeights = true, double clip = 0.0,
        Action<int, TrackingEngine.Weights>? onTest = null)
    {
        Validate.PositiveInt("epochs", epochs);
        Validate.PositiveInt("batch", batch);
        Validate.PositiveInt("testBatch", testBatch);
        Validate.PositiveInt("testEvery", testEvery);
        if (teacher.N <= 0) throw new ParameterOutOfDomainException("teacher.N", teacher.N.ToString(), "at least 1");
        var w = new TrackingEngine.Weights((double[])initial.W.Clone(), (double[])initial.M.Clone(), (double[])initial.Z.Clone(), initial.Leak, initial.Phi);
        int n = w.N;
        var eng = new OpenLoopTrackingEngine(n, task.Steps);
        var testEng = new TrackingEngine(n, task.Steps);
        var rng = new Rng(seed);
        var testRefs = task.References(Rng.ForStream(seed, 1_000_003), testBatch);
        var probes = Enumerable.Range(0, task.Components().Length).Select(c => task.References(Rng.ForStream(seed, 2_000_000 + c), testBatch, c)).ToArray();
        var gW = new double[n * n]; var gM = new double[w.M.Length]; var gZ = new double[w.Z.Length];
        var opt = new Optimizer(OptimizerKind.Adam, learningRate, clip);
        var ps = trainInputWeights ? new[] { w.W, w.M, w.Z } : new[] { w.W, w.Z };
        var gs = trainInputWeights ? new[] { gW, gM, gZ } : new[] { gW, gZ };
        var recs = new List<TrackingRecord>(epochs);
        for (int e = 0; e < epochs; e++)
        {
            bool test = e % testEvery == 0 || e == epochs - 1;
            if (test) onTest?.Invoke(e, w);
            double testLoss = test ? testEng.Forward(w, task, testRefs, testBatch) : double.NaN;
            double[] comps = test ? probes.Select(p => testEng.Forward(w, task, p, testBatch)).ToArray() : [];
            var refs = task.References(rng, batch);
            var roll = OpenLoopTrackingEngine.TeacherRollout(teacher, task, refs, batch);
            double loss = eng.Forward(w, task, roll);
            eng.Backward(w, task, roll, gW, gM, gZ);
            opt.Step(ps, gs);
            recs.Add(new TrackingRecord { Epoch = e, TrainLoss = loss, TestLoss = testLoss, ComponentLosses = comps });
        }
        return recs;
    }
}

/// <summary>Closed- vs open-loop training on the tracking task from one initialisation (App. D protocol): closed-loop
/// training for <c>closedEpochs</c>; its final network is the teacher; an open-loop student starts from the same
/// initial weights and trains for <c>openEpochs</c>. Both are evaluated in closed loop on the same fixed test set.
/// Also records ρ(P) of the deployed joint system (<see cref="Theory.Core.ClosedLoop.TrackingTheory"/>) at every test epoch
/// (linear controllers only).</summary>
public sealed class TrackingComparison
{
    public required IReadOnlyList<TrackingRecord> Closed { get; init; }
    public required IReadOnlyList<TrackingRecord> Open { get; init; }
    /// <summary>ρ(P) of the deployed closed loop at the closed-loop run's test epochs (empty for tanh controllers).</summary>
    public required double[] ClosedRadius { get; init; }
    /// <summary>ρ(P) of the open-loop student's deployed closed loop at its test epochs (empty for tanh controllers).</summary>
    public required double[] OpenRadius { get; init; }
    /// <summary>The teacher: the closed-loop network after its last update.</summary>
    public required TrackingEngine.Weights Teacher { get; init; }

    private static TrackingEngine.Weights Copy(TrackingEngine.Weights w) =>
        new((double[])w.W.Clone(), (double[])w.M.Clone(), (double[])w.Z.Clone(), w.Leak, w.Phi);

    private static double Radius(TrackingTask task, TrackingEngine.Weights w) =>
        Theory.Core.ClosedLoop.TrackingTheory.SpectralRadius(task.Dt, new Theory.Core.ClosedLoop.TrackingController(w.W, w.M, w.Z, w.Leak));

    /// <summary>Deployed-loss peak ratio R = max_e L_e / min_{e′&lt;e} L_{e′} over the test epochs (research note §14.5),
    /// with the epoch of the maximum (−1 when R = 1, i.e. no rise above a running minimum).</summary>
    public static (double ratio, int epoch) PeakRatio(IReadOnlyList<TrackingRecord> records)
    {
        var tested = records.Where(r => r.ComponentLosses.Length > 0).ToArray();
        double best = 1.0; int at = -1;
        if (tested.Length == 0) return (best, at);
        double runMin = tested[0].TestLoss;
        for (int i = 1; i < tested.Length; i++)
        {
            double r = tested[i].TestLoss / runMin;
            if (r > best) { best = r; at = tested[i].Epoch; }
            runMin = Math.Min(runMin, tested[i].TestLoss);
        }
        return (best, at);
    }

    /// <summary>Runs both protocols; <c>openEpochs</c> = 0 skips the student (closed loop only).</summary>
    public static TrackingComparison Run(TrackingEngine.Weights initial, TrackingTask task, int closedEpochs, int openEpochs, int batch,
        double learningRate, long seed, int testBatch = 50, int testEvery = 10, bool trainInputWeights = true)
    {
        Validate.PositiveInt("closedEpochs", closedEpochs);
        Validate.NonNegative("openEpochs", openEpochs);
        bool linear = initial.Phi == Activation.Identity;
        var rc = new List<double>(); var ro = new List<double>();
        TrackingEngine.Weights? teacher = null;
        var closed = TrackingTrainer.Train(initial, task, closedEpochs, batch, learningRate, seed, testBatch, testEvery, 0.0,
            linear ? (e, w) => rc.Add(Radius(task, w)) : null, w => teacher = Copy(w));
        if (teacher is null) throw new InvalidOperationException("closed-loop training returned no weights");
        IReadOnlyList<TrackingRecord> open = [];
        if (openEpochs > 0)
            open = OpenLoopTrackingTrainer.Train(initial, teacher, task, openEpochs, batch, learningRate, seed, testBatch, testEvery, trainInputWeights, 0.0,
                linear ? (e, w) => ro.Add(Radius(task, w)) : null);
        return new TrackingComparison { Closed = closed, Open = open, ClosedRadius = rc.ToArray(), OpenRadius = ro.ToArray(), Teacher = teacher };
    }
}

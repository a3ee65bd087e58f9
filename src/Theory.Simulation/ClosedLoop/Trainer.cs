using System.Numerics;
using Theory.Core;
using Theory.Core.ClosedLoop;
using Theory.Core.Numerics;

namespace Theory.Simulation.ClosedLoop;

/// <summary>How the controller is trained (paper §2).</summary>
public enum TrainingMode
{
    /// <summary>Closed loop: BPTT through the plant on the control objective.</summary>
    ClosedLoop,
    /// <summary>Open-loop teacher–student: white-noise inputs y_t ~ N(0, sd²) into teacher and student; match u.</summary>
    OpenLoopWhiteNoise,
    /// <summary>Open-loop teacher–student, noise-free variant: the teacher drives the plant; the student sees the
    /// teacher's observations and matches its controls.</summary>
    OpenLoopTeacherPlant,
}

/// <summary>Training settings (defaults: the rank-one theory run of the code: SGD lr 10⁻², clip 1, batch 100,
/// x₀ ~ U(−2, 2)², update every epoch).</summary>
public sealed class TrainingSettings
{
    public TrainingMode Mode { get; init; } = TrainingMode.ClosedLoop;
    public int Epochs { get; init; } = 1000;
    public int BatchSize { get; init; } = 100;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public double LearningRate { get; init; } = 1e-2;
    /// <summary>Global 2-norm clip (≤ 0: none).</summary>
    public double Clip { get; init; } = 1.0;
    /// <summary>Training initial states x₀ ~ U(−r, r)^K.</summary>
    public double InitialRange { get; init; } = 2.0;
    /// <summary>Fixed closed-loop test set: size and range.</summary>
    public int TestBatch { get; init; } = 100;
    public double TestRange { get; init; } = 2.0;
    public long Seed { get; init; } = 1;
    /// <summary>The nonlinear run of the code skips the update at epoch 0.</summary>
    public bool UpdateAtEpochZero { get; init; } = true;
    /// <summary>Record the spectrum and effective gain every this many epochs (1 = every epoch).</summary>
    public int DiagnosticsEvery { get; init; } = 1;
    /// <summary>Open loop, white-noise variant: input standard deviation (rank-one code: √2).</summary>
    public double InputNoiseSd { get; init; } = Math.Sqrt(2.0);
    /// <summary>Open loop: loss scale c in c Σ_b Σ_t (u^S_t − u^T_t)²; 0 selects the rank-one code's mean over the
    /// T − 1 steps and the batch, 1/((T − 1)B). The nonlinear run's Σ_t Δ mean_b is Δ/B.</summary>
    public double OpenLoopScale { get; init; } = 0.0;
    /// <summary>Open loop: the teacher (required for the open-loop modes).</summary>
    public RnnController? Teacher { get; init; }
    /// <summary>Trajectories of the test set used for the Eq. 6 regression (code: 10).</summary>
    public int GainFitTrajectories { get; init; } = 10;
}

/// <summary>Per-epoch diagnostics (recorded before that epoch's update).</summary>
public sealed class EpochRecord
{
    public int Epoch { get; init; }
    /// <summary>Training loss on this epoch's batch (closed-loop objective, or the open-loop imitation loss).</summary>
    public double TrainLoss { get; init; }
    /// <summary>Deployed closed-loop loss on the fixed test set (task normalisation).</summary>
    public double TestLoss { get; init; }
    /// <summary>Gradient norm before clipping.</summary>
    public double GradientNorm { get; init; }
    /// <summary>Cosine between this update and the previous one (0 at the first update).</summary>
    public double UpdateCosine { get; init; }
    /// <summary>Eq. 6 least-squares effective gain (u = kᵀx), when the regression is defined.</summary>
    public double[]? EffectiveGain { get; init; }
    /// <summary>Spectral radius of the joint matrix P (linearised at h = 0 for tanh).</summary>
    public double SpectralRadius { get; init; }
    /// <summary>Dominant eigenvalue of P (largest modulus; for a complex pair the one with Im &gt; 0).</summary>
    public Complex Dominant { get; init; }
    /// <summary>The leading eigenvalues of P (up to 6, by decreasing modulus); empty when not recorded.</summary>
    public Complex[] Spectrum { get; init; } = [];
    /// <summary>Rank-one controllers: (σ_zm, σ_zu, σ_vm, σ_vu).</summary>
    public double[]? Overlaps { get; init; }
    /// <summary>Rank-one controllers: the complex root λ_c of χ (Im &gt; 0), if any.</summary>
    public Complex? ComplexRoot { get; init; }
    /// <summary>Rank-one controllers: the real root λ_r of χ.</summary>
    public double? RealRoot { get; init; }
}

/// <summary>Stage boundaries detected from the diagnostics (research note §14).</summary>
public sealed class StageBoundaries
{
    /// <summary>End of stage 1, e₁: first epoch where the dominant pair is complex with a negative position gain
    /// (rank-one: χ has a complex pair and σ_zm &lt; 0; otherwise the Eq. 6 gain leaves the real-unstable region);
    /// −1 if never.</summary>
    public int EndOfStage1 { get; init; } = -1;
    /// <summary>Stabilisation epoch e_s: first recorded epoch from which ρ(P) &lt; 1 at every later record; −1 if the
    /// last record is unstable.</summary>
    public int Stabilisation { get; init; } = -1;
    /// <summary>Stage-2 plateau length e_s − e₁ (−1 when undefined).</summary>
    public int PlateauLength => EndOfStage1 >= 0 && Stabilisation >= EndOfStage1 ? Stabilisation - EndOfStage1 : -1;

    /// <summary>Detects the boundaries from the records.</summary>
    public static StageBoundaries Detect(IReadOnlyList<EpochRecord> records)
    {
        int e1 = -1;
        foreach (var r in records)
        {
            bool hit = r.Overlaps is not null
                ? r.ComplexRoot is not null && r.Overlaps[0] < 0.0
                : r.EffectiveGain is not null && StaticFeedback.Classify(1.0, r.EffectiveGain[0], r.EffectiveGain[1]) != Region.RealUnstable;
            if (hit) { e1 = r.Epoch; break; }
        }
        int es = -1;
        for (int i = records.Count - 1; i >= 0; i--)
        {
            if (records[i].SpectralRadius < 1.0) es = records[i].Epoch;
            else break;
        }
        return new StageBoundaries { EndOfStage1 = e1, Stabilisation = es };
    }
}

/// <summary>Result of a training run.</summary>
public sealed class TrainingResult
{
    public required IReadOnlyList<EpochRecord> Records { get; init; }
    public required RnnController Final { get; init; }
    public required StageBoundaries Stages { get; init; }
}

/// <summary>Closed-loop and open-loop training of the RNN controller (Ger &amp; Barak 2025, §2, App. C).</summary>
public static class ClosedLoopTrainer
{
    /// <summary>Draws batch × K initial states U(−r, r).</summary>
    public static double[] InitialStates(Rng rng, int batch, int order, double range)
    {
        Validate.PositiveInt("batch", batch);
        var x = new double[batch * order];
        for (int i = 0; i < x.Length; i++) x[i] = (2.0 * rng.NextDouble() - 1.0) * range;
        return x;
    }

    /// <summary>Deployed closed-loop loss of a controller on given initial states.</summary>
    public static double TestLoss(RnnController c, ControlTask task, double[] x0)
    {
        var eng = new BpttEngine(c.N, task.Plant.Order, task.Steps);
        return eng.ForwardClosedLoop(c, task, x0, x0.Length / task.Plant.Order);
    }

    /// <summary>The joint matrix P of the controller on the task's plant (double integrator, linearised at h = 0).</summary>
    public static double[,] JointMatrix(RnnController c, ControlTask task) =>
        Theory.Core.ClosedLoop.JointMatrix.Full(task.Plant.Dt, c.Leak, c.WMatrix(), c.M, c.Z);

    /// <summary>Trains a copy of <paramref name="initial"/> and returns per-epoch diagnostics.</summary>
    public static TrainingResult Train(RnnController initial, ControlTask task, TrainingSettings s, Action<EpochRecord>? progress = null)
    {
        Validate.AtLeast("epochs", s.Epochs, 1);
        Validate.PositiveInt("batch", s.BatchSize);
        Validate.PositiveInt("testBatch", s.TestBatch);
        Validate.Positive("initialRange", s.InitialRange);
        Validate.PositiveInt("diagnosticsEvery", s.DiagnosticsEvery);
        if (s.Mode != TrainingMode.ClosedLoop && s.Teacher is null) throw new ParameterOutOfDomainException("teacher", "none", "a teacher controller for open-loop training");
        if (s.Teacher is not null && s.Teacher.N != initial.N) throw new ParameterOutOfDomainException("teacher.N", s.Teacher.N.ToString(), initial.N.ToString());
        var c = initial.Clone();
        int k = task.Plant.Order, T = task.Steps, B = s.BatchSize;
        var rng = new Rng(s.Seed);
        var testX0 = InitialStates(Rng.ForStream(s.Seed, 1_000_003), s.TestBatch, k, s.TestRange);
        var engine = new BpttEngine(c.N, k, T);
        var testEngine = new BpttEngine(c.N, k, T);
        var teacherEngine = s.Teacher is null ? null : new BpttEngine(c.N, k, T);
        var grads = new Gradients(c.N);
        var opt = new Optimizer(s.Optimizer, s.LearningRate, s.Clip);
        var records = new List<EpochRecord>(s.Epochs);
        var inputs = new double[T * B];
        var targets = new double[T * B];
        double[]? prevUpdate = null;
        double openScale = s.OpenLoopScale > 0.0 ? s.OpenLoopScale : 1.0 / ((T - 1) * (double)B);
        for (int e = 0; e < s.Epochs; e++)
        {
            // diagnostics on the fixed test set (deployed closed loop)
            double testLoss = testEngine.ForwardClosedLoop(c, task, testX0, s.TestBatch);
            bool diag = e % s.DiagnosticsEvery == 0 || e == s.Epochs - 1;
            double[]? gain = null;
            double rho = double.NaN;
            Complex dom = Complex.Zero;
            double[]? ov = null; Complex? lc = null; double? lr = null;
            Complex[] spectrum = [];
            if (diag && k == 2)
            {
                gain = EffectiveGain(testEngine, Math.Min(s.GainFitTrajectories, s.TestBatch), s.TestBatch, T);
                if (c.IsRankOne)
                {
                    var o = c.Overlaps();
                    ov = o.ToArray();
                    var roots = Characteristic.Roots(o);
                    lr = roots.RealRoot;
                    if (Microsoft.FSharp.Core.FSharpOption<Complex>.get_IsSome(roots.ComplexPair)) lc = roots.ComplexPair.Value;
                }
                Complex[] ev = c.IsRankOne && c.G == 0.0 && c.Leak == 1.0 && task.Plant.Dt == 1.0
                    ? Characteristic.Roots(c.Overlaps()).Roots
                    : Linalg.Eigenvalues(JointMatrix(c, task));
                spectrum = ev.Take(6).ToArray();
                dom = ev[0];
                if (dom.Imaginary < 0) dom = Complex.Conjugate(dom);
                rho = ev[0].Magnitude;
            }
            // training step
            double loss;
            switch (s.Mode)
            {
                case TrainingMode.ClosedLoop:
                {
                    var x0 = InitialStates(rng, B, k, s.InitialRange);
                    loss = engine.ForwardClosedLoop(c, task, x0, B);
                    engine.BackwardClosedLoop(c, task, B, grads);
                    break;
                }
                case TrainingMode.OpenLoopWhiteNoise:
                {
                    for (int i = 0; i < inputs.Length; i++) inputs[i] = i < B ? 0.0 : s.InputNoiseSd * rng.NextGaussian();
                    teacherEngine!.ForwardOpenLoop(s.Teacher!, inputs, targets, B, 0.0);
                    for (int t = 0; t < T; t++) for (int b = 0; b < B; b++) targets[t * B + b] = teacherEngine.Control(t, b, B);
                    loss = engine.ForwardOpenLoop(c, inputs, targets, B, openScale);
                    engine.BackwardOpenLoop(c, targets, B, openScale, grads);
                    break;
                }
                default:
                {
                    var x0 = InitialStates(rng, B, k, s.InitialRange);
                    teacherEngine!.ForwardClosedLoop(s.Teacher!, task, x0, B);
                    for (int t = 0; t < T; t++)
                        for (int b = 0; b < B; b++)
                        {
                            var xt = teacherEngine.State(t, b, B);
                            double y = 0.0;
                            for (int i = 0; i < k; i++) y += task.Plant.C[i] * xt[i];
                            inputs[t * B + b] = y;
                            targets[t * B + b] = teacherEngine.Control(t, b, B);
                        }
                    loss = engine.ForwardOpenLoop(c, inputs, targets, B, openScale);
                    engine.BackwardOpenLoop(c, targets, B, openScale, grads);
                    break;
                }
            }
            var gl = grads.For(c);
            double norm = Optimizer.Norm(gl);
            double cos = 0.0;
            var flat = Flatten(gl);
            if (prevUpdate is not null)
            {
                double d = DenseKernels.Dot(flat, prevUpdate), n1 = Math.Sqrt(DenseKernels.Dot(flat, flat)), n2 = Math.Sqrt(DenseKernels.Dot(prevUpdate, prevUpdate));
                cos = n1 > 0 && n2 > 0 ? d / (n1 * n2) : 0.0;
            }
            if (e > 0 || s.UpdateAtEpochZero)
            {
                opt.Step(c.Trainable(), gl);
                c.SyncW();
                prevUpdate = flat;
            }
            var rec = new EpochRecord
            {
                Epoch = e, TrainLoss = loss, TestLoss = testLoss, GradientNorm = norm, UpdateCosine = cos,
                EffectiveGain = gain, SpectralRadius = rho, Dominant = dom, Spectrum = spectrum, Overlaps = ov, ComplexRoot = lc, RealRoot = lr,
            };
            records.Add(rec);
            progress?.Invoke(rec);
        }
        var diagRecords = records.Where(r => !double.IsNaN(r.SpectralRadius)).ToList();
        return new TrainingResult { Records = records, Final = c, Stages = StageBoundaries.Detect(diagRecords) };
    }

    private static double[] Flatten(List<double[]> gl)
    {
        var f = new double[gl.Sum(g => g.Length)];
        int o = 0;
        foreach (var g in gl) { Array.Copy(g, 0, f, o, g.Length); o += g.Length; }
        return f;
    }

    /// <summary>Eq. 6 on the last closed-loop forward pass of <paramref name="eng"/>: least squares of u_t on x_t over the
    /// first <paramref name="trajectories"/> samples, t ≥ 1, no intercept. Null when the regression is singular.</summary>
    public static double[]? EffectiveGain(BpttEngine eng, int trajectories, int batch, int steps)
    {
        int n = trajectories * (steps - 1);
        var x1 = new double[n]; var x2 = new double[n]; var u = new double[n];
        int i = 0;
        for (int b = 0; b < trajectories; b++)
            for (int t = 1; t < steps; t++)
            {
                var x = eng.State(t, b, batch);
                x1[i] = x[0]; x2[i] = x[1]; u[i] = eng.Control(t, b, batch); i++;
            }
        try
        {
            var k = GainRecovery.LeastSquares(x1, x2, u);
            return double.IsFinite(k.Item1) && double.IsFinite(k.Item2) ? [k.Item1, k.Item2] : null;
        }
        catch (NoSolutionException) { return null; }
    }
}

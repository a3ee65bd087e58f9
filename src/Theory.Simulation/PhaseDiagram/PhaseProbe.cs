using System.Diagnostics;
using System.Globalization;
using Theory.Core;
using Theory.Core.Numerics;
using Theory.Core.Dynamics;
using Theory.Simulation.Training;

namespace Theory.Simulation.PhaseDiagram;

/// <summary>How the autonomous dynamics of a trained network after the window are classified (research note
/// dmft-learned.md §5c). The numeric codes are written to the sweep CSV.</summary>
public enum PhaseClass
{
    /// <summary>λ̂ &gt; λ_tol: chaotic (the learned oscillation falls apart).</summary>
    Chaotic = 0,
    /// <summary>λ̂ ≤ λ_tol and lag-T autocorrelation of y ≥ ρ_tol: a stable limit cycle with period ≈ T ("ordered").</summary>
    LimitCycle = 1,
    /// <summary>λ̂ ≤ λ_tol and the output stops moving (standard deviation of y below the fixed-point threshold).</summary>
    FixedPoint = 2,
    /// <summary>λ̂ ≤ λ_tol, moving output, lag-T autocorrelation &lt; ρ_tol: another period, quasi-periodic or slow transient.</summary>
    OtherOrdered = 3,
}

/// <summary>Parameters of one phase-diagram probe: train a tanh network on the sine-period task, run it autonomously
/// far past T, measure and classify. Defaults are reconstructed choices (docs/dmft-nonlinear.md, "Simulated phase
/// diagram"); <see cref="Validate"/> names the offending parameter and its allowed range.</summary>
public sealed record PhaseProbeOptions
{
    /// <summary>Network size N. Default 200.</summary>
    public int N { get; init; } = 200;
    /// <summary>Target period T (the window is one period [0, T)). Default 10 (the paper's task).</summary>
    public double Period { get; init; } = 10.0;
    /// <summary>Time step Δt of the exponential-Euler dynamics (training and autonomous run). Default 0.1; at least 10
    /// points per period and Δt &lt; T are required.</summary>
    public double Dt { get; init; } = 0.1;
    /// <summary>Training protocol. Default Adam: the collapsed Langevin sampler is documented unstable on this chaotic
    /// tanh task (docs/dmft-linear.md, "Known limitation"); Langevin is offered but expected to fail at the defaults.</summary>
    public TrainingProtocol Protocol { get; init; } = TrainingProtocol.Adam;
    /// <summary>Training updates. Default 300.</summary>
    public int TrainingSteps { get; init; } = 300;
    /// <summary>η₀ of GD/Adam (μP-scaled as in <see cref="TrainingProtocol"/>). Default 0.05.</summary>
    public double LearningRate { get; init; } = 0.05;
    /// <summary>Langevin step h (only for the Langevin protocol). Default 0.002.</summary>
    public double LangevinStep { get; init; } = 0.002;
    /// <summary>Langevin readout noise σ². Default 1e-5.</summary>
    public double ReadoutNoise { get; init; } = 1e-5;
    /// <summary>Variance of x0 ~ N(0, ·) i.i.d. per neuron; null (default) = the stationary SCS variance Δ0(g) for
    /// g &gt; 1 and 1 for g ≤ 1 (where Δ0 = 0 and a zero state could not be trained) [reconstructed].</summary>
    public double? X0Variance { get; init; }
    /// <summary>Periods of autonomous run after the window that are discarded (transient; the tangent vector aligns
    /// during its second half). Default 10.</summary>
    public int TransientPeriods { get; init; } = 10;
    /// <summary>Periods of autonomous run measured after the transient. Default 100 (the block s.e. of λ̂ at g = 1.5, N = 200 is ≈ 0.004; 30 periods leave weakly chaotic seeds unresolved).</summary>
    public int MeasurePeriods { get; init; } = 100;
    /// <summary>Time between tangent-vector renormalisations (Benettin). Default 1.</summary>
    public double RenormInterval { get; init; } = 1.0;
    /// <summary>Sub-windows (blocks) for the standard error of λ̂. Default 10.</summary>
    public int Blocks { get; init; } = 10;
    /// <summary>λ_tol = max(<see cref="LyapunovSigmas"/>·s.e.(λ̂), <see cref="LyapunovFloor"/>). Default 3.</summary>
    public double LyapunovSigmas { get; init; } = 3.0;
    /// <summary>Floor of λ_tol (1/time units): on a limit cycle λ̂ → 0 only as ln(bounded ratio)/time while the block
    /// s.e. can be tiny, so a zero floor misclassifies exact cycles. Default 0.005 (≈ 5/measurement time at the
    /// defaults).</summary>
    public double LyapunovFloor { get; init; } = 0.005;
    /// <summary>ρ_tol: minimum normalised lag-T autocorrelation of y for a limit cycle with period ≈ T. Default 0.9.</summary>
    public double RhoTolerance { get; init; } = 0.9;
    /// <summary>Standard deviation of y (target amplitude 1) below which an ordered seed is a fixed point. Default 1e-3.</summary>
    public double FixedPointAmplitude { get; init; } = 1e-3;
    /// <summary>Keep the window preactivations x_i(t) (Window × N) in the result (for preactivation histograms).</summary>
    public bool KeepWindowStates { get; init; }

    /// <summary>Window length in steps, round(T/Δt).</summary>
    public int Window => (int)Math.Round(Period / Dt);

    /// <summary>Checks every parameter (ParameterOutOfDomainException naming it and its allowed range).</summary>
    public PhaseProbeOptions Validate()
    {
        Theory.Core.Validate.AtLeast("n", N, 2);
        Theory.Core.Validate.Positive("period", Period);
        Theory.Core.Validate.Positive("dt", Dt);
        if (Dt >= Period) throw new ParameterOutOfDomainException("dt", F(Dt), $"< period T = {F(Period)}");
        if (Period / Dt < 10.0 - 1e-9)
            throw new ParameterOutOfDomainException("dt", F(Dt), $"<= T/10 = {F(Period / 10)} (at least 10 points per period)");
        Theory.Core.Validate.AtLeast("training-steps", TrainingSteps, 1);
        Theory.Core.Validate.Positive("lr", LearningRate);
        Theory.Core.Validate.Positive("langevin-step", LangevinStep);
        Theory.Core.Validate.Positive("readout-noise", ReadoutNoise);
        if (X0Variance is { } v) Theory.Core.Validate.NonNegative("x0-variance", v);
        Theory.Core.Validate.AtLeast("transient-periods", TransientPeriods, 1);
        Theory.Core.Validate.AtLeast("measure-periods", MeasurePeriods, 2);
        Theory.Core.Validate.Positive("renorm-interval", RenormInterval);
        if (RenormInterval < Dt) throw new ParameterOutOfDomainException("renorm-interval", F(RenormInterval), $">= dt = {F(Dt)}");
        Theory.Core.Validate.AtLeast("blocks", Blocks, 2);
        int intervals = (int)(MeasurePeriods * Window / Math.Max(1, (int)Math.Round(RenormInterval / Dt)));
        if (intervals < Blocks)
            throw new ParameterOutOfDomainException("blocks", Blocks.ToString(CultureInfo.InvariantCulture),
                $"<= the number of renormalisation intervals in the measurement ({intervals})");
        Theory.Core.Validate.NonNegative("lyapunov-sigmas", LyapunovSigmas);
        Theory.Core.Validate.NonNegative("lyapunov-floor", LyapunovFloor);
        Theory.Core.Validate.InRange("rho-tolerance", RhoTolerance, -1.0, 1.0);
        Theory.Core.Validate.NonNegative("fixed-point-amplitude", FixedPointAmplitude);
        return this;
    }

    /// <summary>The ensemble kind of networks trained by a protocol, as γ⋆ labels name it: "adam", "gd", "langevin".</summary>
    public static string ProtocolKind(TrainingProtocol protocol) => protocol switch
    {
        TrainingProtocol.Adam => "adam",
        TrainingProtocol.GradientDescent => "gd",
        TrainingProtocol.Langevin => "langevin",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "unknown training protocol"),
    };

    /// <summary>The ensemble of the networks these options train (protocol, N, steps, learning rate), the label every
    /// simulated γ⋆ carries, e.g. "adam (N = 200, 300 steps, lr 0.05)".</summary>
    public Theory.Core.Dmft.GammaStarEnsemble Ensemble =>
        Theory.Core.Dmft.GammaStarEnsemble.NewTrainedNetworks(ProtocolKind(Protocol), N, TrainingSteps, LearningRate);

    /// <summary>The parameters that determine a probe's result, as (key, value) pairs for CSV headers; a sweep can only
    /// be resumed when these match.</summary>
    public IReadOnlyList<(string Key, string Value)> Describe() => new[]
    {
        ("n", N.ToString(CultureInfo.InvariantCulture)), ("period", F(Period)), ("dt", F(Dt)),
        ("protocol", Protocol.ToString()), ("trainingSteps", TrainingSteps.ToString(CultureInfo.InvariantCulture)),
        ("learningRate", F(LearningRate)), ("langevinStep", F(LangevinStep)), ("readoutNoise", F(ReadoutNoise)),
        ("x0Variance", X0Variance is { } v ? F(v) : "Delta0(g) (1 for g <= 1)"),
        ("transientPeriods", TransientPeriods.ToString(CultureInfo.InvariantCulture)),
        ("measurePeriods", MeasurePeriods.ToString(CultureInfo.InvariantCulture)), ("renormInterval", F(RenormInterval)),
        ("blocks", Blocks.ToString(CultureInfo.InvariantCulture)), ("lyapunovSigmas", F(LyapunovSigmas)),
        ("lyapunovFloor", F(LyapunovFloor)), ("rhoTolerance", F(RhoTolerance)), ("fixedPointAmplitude", F(FixedPointAmplitude)),
    };

    internal static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Measurements of the autonomous run of one network after the window.</summary>
public sealed record AutonomousMeasurement
{
    /// <summary>Maximal Lyapunov exponent λ̂ (Benettin, same discrete map, 1/time units).</summary>
    public required double Lyapunov { get; init; }
    /// <summary>Standard error of λ̂ from the block (sub-window) means.</summary>
    public required double LyapunovStdErr { get; init; }
    /// <summary>The tolerance used: max(σ·s.e., floor).</summary>
    public required double LyapunovTolerance { get; init; }
    /// <summary>Normalised (Pearson) autocorrelation of y at lag T over the measurement window (0 when y is constant).</summary>
    public required double LagCorrelation { get; init; }
    /// <summary>Lag in [T/2, 3T/2] of the largest autocorrelation of y (parabolic refinement), time units; reported only.</summary>
    public required double DominantPeriod { get; init; }
    /// <summary>Standard deviation of y over the measurement window.</summary>
    public required double Amplitude { get; init; }
    /// <summary>The classification (note §5c).</summary>
    public required PhaseClass Class { get; init; }
}

/// <summary>Result of one probe at (g, γ, seed).</summary>
public sealed record PhaseProbeResult
{
    /// <summary>Gain g.</summary>
    public required double G { get; init; }
    /// <summary>Richness γ (0 = untrained network, see <see cref="PhaseProbe"/>).</summary>
    public required double Gamma { get; init; }
    /// <summary>Seed index.</summary>
    public required long Seed { get; init; }
    /// <summary>Relative window fit error ‖y − y*‖²/‖y*‖² of the trained network (NaN at γ = 0, untrained).</summary>
    public required double FitError { get; init; }
    /// <summary>The autonomous-run measurements and classification.</summary>
    public required AutonomousMeasurement Measurement { get; init; }
    /// <summary>Wall-clock seconds of the probe (training + run); not part of the deterministic result.</summary>
    public double Seconds { get; init; }
    /// <summary>Window preactivations x_i(t_k), Window × N row-major (only with KeepWindowStates).</summary>
    public double[]? WindowStates { get; init; }

    /// <summary>True for a limit cycle with period ≈ T (the "ordered" fraction counts these).</summary>
    public bool Ordered => Measurement.Class == PhaseClass.LimitCycle;
}

/// <summary>One point of the simulated phase diagram (Clark et al. 2026, Fig. 3; note §5c): for (g, γ, seed), trains a
/// tanh μP network on one period of sin(2πt/T) with no input (the part-1 engine, <see cref="Trainer"/>), then runs it
/// autonomously from the state at the end of the window for <see cref="PhaseProbeOptions.TransientPeriods"/> +
/// <see cref="PhaseProbeOptions.MeasurePeriods"/> periods and classifies the dynamics by the Benettin exponent and the
/// lag-T autocorrelation of the output. γ = 0 is the μP lazy limit, where training moves no weight at O(1): the probe
/// then runs the untrained random network (readout with γ = 1, which only rescales y; the lag correlation is
/// scale-free). Seeded: the seed fixes x0, J, U, V (common random numbers across the grid), so the same seed gives the
/// same bits. Thread-safe (no shared state); one probe runs on one thread.</summary>
public sealed class PhaseProbe
{
    /// <summary>The options (validated).</summary>
    public PhaseProbeOptions Options { get; }

    /// <summary>Validates the options.</summary>
    public PhaseProbe(PhaseProbeOptions options) { Options = options.Validate(); }

    /// <summary>Trains (γ &gt; 0) and classifies one network. Throws ParameterOutOfDomainException for g &lt; 0 or γ &lt; 0,
    /// NotConvergedException when training diverges.</summary>
    public PhaseProbeResult Run(double g, double gamma, long seed)
    {
        Validate.NonNegative("g", g);
        Validate.NonNegative("gamma", gamma);
        var o = Options;
        var sw = Stopwatch.StartNew();
        var rng = Rng.ForStream(seed, 0);
        double x0var = o.X0Variance ?? (g > 1.0 ? Theory.Core.Dmft.ScsStationary.SolveStationaryVariance(g).Delta0 : 1.0);
        var task = Tasks.SinePeriod(o.N, o.Period, o.Dt, 1, x0var, rng);
        var cfg = new RnnConfig(o.N, 0, 1, g, gamma > 0 ? gamma : 1.0, o.Dt, Activation.Tanh);
        var w = RnnWeights.Random(cfg, rng);
        double fit = double.NaN;
        if (gamma > 0)
        {
            var res = Trainer.Train(w, task, new TrainingOptions
            {
                Protocol = o.Protocol, Steps = o.TrainingSteps, LearningRate = o.LearningRate, LangevinStep = o.LangevinStep,
                ReadoutNoise = o.ReadoutNoise, TrainInputWeights = false, Thermalisation = 0.5, SampleEvery = Math.Max(1, o.TrainingSteps),
            }, Rng.ForStream(seed, 1));
            w = res.Weights;
            fit = res.FitError;
        }
        var eng = new RnnEngine(cfg, task);
        eng.Forward(w);
        double[]? states = null;
        if (o.KeepWindowStates)
        {
            states = new double[task.Window * o.N];
            for (int k = 0; k < task.Window; k++) eng.States(k, 0).CopyTo(states.AsSpan(k * o.N, o.N));
        }
        var xEnd = eng.States(task.Steps, 0).ToArray();
        var m = Analyse(w, xEnd, o, Rng.ForStream(seed, 2));
        return new PhaseProbeResult
        {
            G = g, Gamma = gamma, Seed = seed, FitError = fit, Measurement = m, Seconds = sw.Elapsed.TotalSeconds, WindowStates = states,
        };
    }

    /// <summary>Runs any network autonomously (no input) from x0 with the exponential-Euler map
    /// x_{k+1} = e x_k + (1−e) c J φ(x_k) and its tangent δ_{k+1} = e δ_k + (1−e) c J (φ′(x_k) ⊙ δ_k), renormalising δ
    /// every <see cref="PhaseProbeOptions.RenormInterval"/> (the library's one Benettin driver, <see cref="Benettin"/>);
    /// the first <see cref="PhaseProbeOptions.TransientPeriods"/> periods are discarded (δ aligns during their second
    /// half), λ̂ is the mean log growth per unit time over the renormalisation intervals that tile the measurement, its
    /// s.e. from <see cref="PhaseProbeOptions.Blocks"/> block means. Records y = Vᵀφ/(Nγ) for the lag-T
    /// autocorrelation. All buffers are allocated before the loop (no per-step allocation). <paramref name="rng"/> draws
    /// the initial tangent vector.</summary>
    public static AutonomousMeasurement Analyse(RnnWeights w, double[] x0, PhaseProbeOptions options, Rng rng)
    {
        var o = options.Validate();
        var cfg = w.Config;
        int n = cfg.N;
        if (x0.Length != n) throw new ArgumentException("x0 length must be N");
        if (cfg.Activation != Activation.Tanh && cfg.Activation != Activation.Identity) throw new ArgumentException("unsupported activation");
        double dt = cfg.Dt;
        int window = (int)Math.Round(o.Period / dt);
        if (window < 2) throw new ParameterOutOfDomainException("dt", PhaseProbeOptions.F(dt), "<= T/10");
        int renorm = Math.Max(1, (int)Math.Round(o.RenormInterval / dt));
        int transient = o.TransientPeriods * window, measure = o.MeasurePeriods * window;
        int tangentStart = transient / 2;
        var delta = new double[n];
        rng.FillGaussian(delta, 0.0, 1.0);
        var run = new AutonomousMap(w, x0, transient, measure);
        var estimate = Benettin.Largest(run, delta,
            new BenettinSchedule(tangentStart, transient - tangentStart, measure, renorm, dt, o.Blocks));
        double lyap = estimate.Exponent, se = estimate.StandardError;
        var y = run.Output;
        double tol = Math.Max(o.LyapunovSigmas * se, o.LyapunovFloor);

        double mean = y.Average();
        double amp = Math.Sqrt(y.Sum(v => (v - mean) * (v - mean)) / y.Length);
        double rho = LagCorrelation(y, window);
        int lo = Math.Max(1, window / 2), hi = Math.Min(measure - 2, (3 * window) / 2);
        int best = lo;
        double bestR = double.NegativeInfinity;
        for (int l = lo; l <= hi; l++) { double r = LagCorrelation(y, l); if (r > bestR) { bestR = r; best = l; } }
        double lagStar = best;
        if (best > lo && best < hi)
        {
            double r0 = LagCorrelation(y, best - 1), r2 = LagCorrelation(y, best + 1), den = r0 - 2 * bestR + r2;
            if (den < 0) lagStar = best + 0.5 * (r0 - r2) / den;
        }
        var cls = lyap > tol ? PhaseClass.Chaotic
            : amp < o.FixedPointAmplitude ? PhaseClass.FixedPoint
            : rho >= o.RhoTolerance ? PhaseClass.LimitCycle
            : PhaseClass.OtherOrdered;
        return new AutonomousMeasurement
        {
            Lyapunov = lyap, LyapunovStdErr = se, LyapunovTolerance = tol, LagCorrelation = rho,
            DominantPeriod = lagStar * dt, Amplitude = amp, Class = cls,
        };
    }

    /// <summary>Pearson correlation of (y_k, y_{k+lag}) over the series (0 when either part is constant).</summary>
    public static double LagCorrelation(double[] y, int lag)
    {
        int m = y.Length - lag;
        if (lag < 0 || m < 2) throw new ArgumentException("lag must be in [0, length − 2]");
        double ma = 0, mb = 0;
        for (int k = 0; k < m; k++) { ma += y[k]; mb += y[k + lag]; }
        ma /= m; mb /= m;
        double sab = 0, saa = 0, sbb = 0;
        for (int k = 0; k < m; k++)
        {
            double a = y[k] - ma, b = y[k + lag] - mb;
            sab += a * b; saa += a * a; sbb += b * b;
        }
        return saa > 0 && sbb > 0 ? sab / Math.Sqrt(saa * sbb) : 0.0;
    }

    /// <summary>The autonomous exponential-Euler map x_{k+1} = e x_k + (1−e) c J φ(x_k) of a network and its tangent
    /// δ_{k+1} = e δ_k + (1−e) c J (φ′(x_k) ⊙ δ_k) (one pass over J for both), recording y = Vᵀφ/(Nγ) after the
    /// transient. Buffers allocated once.</summary>
    private sealed class AutonomousMap : ITangentMap
    {
        private readonly RnnWeights _w;
        private readonly double[] _x, _phi, _u, _jphi, _ju;
        private readonly int _transient;
        private readonly double _e, _a, _s;
        private readonly bool _tanh;

        public AutonomousMap(RnnWeights w, double[] x0, int transient, int measure)
        {
            var cfg = w.Config;
            int n = cfg.N;
            _w = w; _transient = transient;
            _x = (double[])x0.Clone();
            _phi = new double[n]; _u = new double[n]; _jphi = new double[n]; _ju = new double[n];
            Output = new double[measure];
            _e = Math.Exp(-cfg.Dt);
            _a = (1.0 - _e) * (cfg.G / Math.Sqrt(n));
            _s = 1.0 / (n * cfg.Gamma);
            _tanh = cfg.Activation == Activation.Tanh;
        }

        /// <summary>y over the measurement (after the transient).</summary>
        public double[] Output { get; }

        public int Dimension => _x.Length;

        public void Step(int step, double[] tangents, int vectors)
        {
            int n = _x.Length;
            bool tangent = vectors > 0;
            for (int i = 0; i < n; i++)
            {
                double p = _tanh ? Math.Tanh(_x[i]) : _x[i];
                _phi[i] = p;
                if (tangent) _u[i] = (_tanh ? 1.0 - p * p : 1.0) * tangents[i];
            }
            if (step >= _transient)
            {
                double yk = 0.0;
                for (int i = 0; i < n; i++) yk += _w.V[i] * _phi[i];
                Output[step - _transient] = yk * _s;
            }
            var j = new ReadOnlySpan<double>(_w.J);
            if (tangent) DenseKernels.MatVec2(j, n, _phi, _u, _jphi, _ju);
            else DenseKernels.MatVec(j, n, _phi, _jphi);
            for (int i = 0; i < n; i++) _x[i] = _e * _x[i] + _a * _jphi[i];
            if (tangent) for (int i = 0; i < n; i++) tangents[i] = _e * tangents[i] + _a * _ju[i];
            if (!double.IsFinite(_x[0])) throw new NotConvergedException(new SolverFailure("PhaseProbe", step, double.PositiveInfinity, "autonomous run diverged"));
        }
    }
}

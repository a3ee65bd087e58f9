using System.Linq;
using Theory.Core;
using Theory.Core.Numerics;
using Theory.Core.Dynamics;

namespace Theory.Simulation.Rate;

/// <summary>Time stepper of the rate engine.</summary>
public enum Stepper
{
    /// <summary>Forward Euler, O(dt); stable for dt·(1+g) ≤ 1.</summary>
    Euler,
    /// <summary>Classical Runge–Kutta 4, O(dt⁴); stable for dt·(1+g) ≤ 2.5.</summary>
    RK4,
}

/// <summary>External input u(t) written into <paramref name="u"/> (length N). Called at every stage time; must not allocate.</summary>
public delegate void InputFunction(double t, Span<double> u);

/// <summary>Settings of one simulation run. Times are in units of τ = 1.</summary>
public sealed record RateSimulationOptions
{
    /// <summary>Time step (default 0.1 with RK4).</summary>
    public double Dt { get; init; } = 0.1;
    /// <summary>Stepper (default RK4).</summary>
    public Stepper Stepper { get; init; } = Stepper.RK4;
    /// <summary>Discarded transient before any observable is recorded (default 400: from x(0) ~ N(0, 1) the long-lag
    /// autocorrelation of a chaotic network is still relaxing after 100 time units — measured at g = 2, N = 1000, the
    /// excess over the DMFT at τ = 8 drops from 0.10 to 0.02 between transients 100 and 400; docs/scs.md).</summary>
    public double Transient { get; init; } = 400.0;
    /// <summary>Recording window after the transient (default 300).</summary>
    public double Duration { get; init; } = 300.0;
    /// <summary>Standard deviation σ of additive white noise, dx = (…) dt + σ dW (default 0). Added after each
    /// deterministic step (Euler–Maruyama split step; strong order 1/2 overall).</summary>
    public double NoiseStd { get; init; }
    /// <summary>Optional external input u(t).</summary>
    public InputFunction? Input { get; init; }
    /// <summary>Standard deviation of the initial state x_i(0) ~ N(0, σ0²) (default 1).</summary>
    public double InitialStd { get; init; } = 1.0;
    /// <summary>Sampling interval of the stored trajectory used for autocorrelations (rounded to a whole number of
    /// steps; default 0.2).</summary>
    public double SampleInterval { get; init; } = 0.2;
    /// <summary>Largest autocorrelation lag (default 20; 0 disables trajectory storage).</summary>
    public double MaxLag { get; init; } = 20.0;
    /// <summary>Estimate the maximal Lyapunov exponent by the Benettin method (default true).</summary>
    public bool Lyapunov { get; init; } = true;
    /// <summary>Time between tangent-vector renormalisations (default 1).</summary>
    public double RenormInterval { get; init; } = 1.0;
    /// <summary>Seed of the initial state, the noise and the initial tangent vector (the couplings have their own seed).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Checks every field; raises ParameterOutOfDomainException naming the field and the allowed range.</summary>
    public void Validate(double g)
    {
        Theory.Core.Validate.Positive("dt", Dt);
        double limit = Stepper == Stepper.Euler ? 1.0 / (1.0 + g) : 2.5 / (1.0 + g);
        if (Dt > limit)
            throw new ParameterOutOfDomainException("dt", Dt.ToString("R"),
                $"(0, {limit:G4}] for the {Stepper} stepper at g = {g:G4} (dt*(1+g) <= {(Stepper == Stepper.Euler ? 1.0 : 2.5)})");
        Theory.Core.Validate.NonNegative("transient", Transient);
        Theory.Core.Validate.Positive("duration (t)", Duration);
        if ((Transient + Duration) / Dt > int.MaxValue - 1)
            throw new ParameterOutOfDomainException("duration (t)", Duration.ToString("R"), $"(transient + duration)/dt <= {int.MaxValue - 1} steps");
        Theory.Core.Validate.NonNegative("noise", NoiseStd);
        Theory.Core.Validate.NonNegative("initialStd", InitialStd);
        Theory.Core.Validate.NonNegative("maxLag", MaxLag);
        if (MaxLag > 0)
        {
            Theory.Core.Validate.Positive("sampleInterval", SampleInterval);
            if (SampleInterval < Dt) throw new ParameterOutOfDomainException("sampleInterval", SampleInterval.ToString("R"), $">= dt = {Dt}");
            if (MaxLag >= Duration) throw new ParameterOutOfDomainException("maxLag", MaxLag.ToString("R"), $"< duration = {Duration}");
        }
        if (Lyapunov)
        {
            Theory.Core.Validate.Positive("renormInterval", RenormInterval);
            if (RenormInterval < Dt) throw new ParameterOutOfDomainException("renormInterval", RenormInterval.ToString("R"), $">= dt = {Dt}");
            if (Duration < 10 * RenormInterval)
                throw new ParameterOutOfDomainException("duration (t)", Duration.ToString("R"), $">= 10 renormalisation intervals ({10 * RenormInterval}) for a Lyapunov estimate");
        }
    }
}

/// <summary>Observables of one run, recorded after the transient.</summary>
public sealed record RateSimulationResult
{
    public required int N { get; init; }
    public required double G { get; init; }
    /// <summary>Seed of the couplings.</summary>
    public required long NetworkSeed { get; init; }
    /// <summary>Seed of initial state / noise / tangent.</summary>
    public required long Seed { get; init; }
    /// <summary>Population variance ⟨x_i²⟩ averaged over neurons and time (uncentred, as Δ0 in the DMFT).</summary>
    public required double Variance { get; init; }
    /// <summary>⟨φ(x_i)²⟩ averaged over neurons and time (C_φ(0)).</summary>
    public required double PhiVariance { get; init; }
    /// <summary>Population mean ⟨x_i⟩ over neurons and time.</summary>
    public required double Mean { get; init; }
    /// <summary>Time average m_i of each x_i over the recording window. (1/N)Σ m_i² measures the static part of the
    /// activity: ≈ 2∫₀^∞Δ/T for a process whose autocorrelation decays to 0, larger when the network carries a frozen
    /// (non-decaying) component (docs/scs.md, "Tail excess").</summary>
    public double[] NeuronMeans { get; init; } = Array.Empty<double>();
    /// <summary>Lags τ_k = k·sample interval of the autocorrelations (empty when MaxLag = 0).</summary>
    public required double[] Lags { get; init; }
    /// <summary>Δ(τ_k) = ⟨x_i(t) x_i(t+τ_k)⟩ over neurons and time.</summary>
    public required double[] Autocorrelation { get; init; }
    /// <summary>C_φ(τ_k) = ⟨φ(x_i(t)) φ(x_i(t+τ_k))⟩.</summary>
    public required double[] PhiAutocorrelation { get; init; }
    /// <summary>Maximal Lyapunov exponent (Benettin), NaN-free: 0 weight when not requested (see HasLyapunov).</summary>
    public required double Lyapunov { get; init; }
    /// <summary>Standard error of the Lyapunov estimate from 10 block means.</summary>
    public required double LyapunovStdErr { get; init; }
    /// <summary>True when the Lyapunov exponent was estimated.</summary>
    public required bool HasLyapunov { get; init; }
    /// <summary>max_i |x_i| at the end of the run (quiescence check).</summary>
    public required double FinalMaxAbs { get; init; }
    /// <summary>Number of time steps taken.</summary>
    public required long Steps { get; init; }
}

/// <summary>Simulates a <see cref="RateNetwork"/> and records its observables. No allocation per step: all buffers
/// are allocated once per run.</summary>
public static class RateSimulation
{
    /// <summary>Runs one network from x(0) ~ N(0, σ0²) (seeded) and returns the observables. The Lyapunov exponent is
    /// the library's one Benettin driver (<see cref="Benettin"/>) on this stepper and its variational equation: the
    /// tangent starts halfway through the transient (or 20 time units before recording if longer), is renormalised
    /// every <see cref="RateSimulationOptions.RenormInterval"/>, and is measured over the intervals that tile the
    /// recording window; its s.e. from 10 block means.</summary>
    public static RateSimulationResult Run(RateNetwork net, RateSimulationOptions o)
    {
        o.Validate(net.G);
        int n = net.N;
        double dt = o.Dt;
        int transientSteps = (int)Math.Round(o.Transient / dt);
        int recordSteps = Math.Max(1, (int)Math.Round(o.Duration / dt));
        int total = transientSteps + recordSteps;
        var rng = Rng.ForStream(o.Seed, 1);
        var x = new double[n];
        rng.FillGaussian(x, 0.0, o.InitialStd);
        var run = new RateRun(net, o, x, transientSteps, recordSteps);
        double lyap = 0, lyapErr = 0;
        if (o.Lyapunov)
        {
            int renormEvery = Math.Max(1, (int)Math.Round(o.RenormInterval / dt));
            // tangent alignment starts halfway through the transient (or 20 time units before recording if longer)
            int tangentStart = Math.Max(0, transientSteps - Math.Max(transientSteps / 2, (int)Math.Round(20 / dt)));
            var delta = new double[n];
            rng.FillGaussian(delta, 0.0, 1.0);
            var estimate = Benettin.Largest(run, delta,
                new BenettinSchedule(tangentStart, transientSteps - tangentStart, recordSteps, renormEvery, dt, 10));
            lyap = estimate.Exponent;
            lyapErr = estimate.StandardError;
        }
        else
        {
            for (int step = 0; step < total; step++) run.Step(step, Array.Empty<double>(), 0);
        }

        double[] lags = Array.Empty<double>(), ac = Array.Empty<double>(), acPhi = Array.Empty<double>();
        if (run.Stored > 1)
        {
            int maxLagSamples = Math.Min(run.Stored - 1, (int)Math.Round(o.MaxLag / (run.SampleEvery * dt)));
            lags = new double[maxLagSamples + 1];
            ac = new double[maxLagSamples + 1];
            acPhi = new double[maxLagSamples + 1];
            Autocorrelate(run.TrajX!, run.Stored, n, maxLagSamples, ac);
            Autocorrelate(run.TrajPhi!, run.Stored, n, maxLagSamples, acPhi);
            for (int l = 0; l <= maxLagSamples; l++) lags[l] = l * run.SampleEvery * dt;
        }

        double denom = (double)run.Recorded * n;
        double maxAbs = 0;
        foreach (var v in run.X) maxAbs = Math.Max(maxAbs, Math.Abs(v));
        return new RateSimulationResult
        {
            N = n, G = net.G, NetworkSeed = net.Seed ?? 0, Seed = o.Seed,
            Variance = run.SumX2 / denom, PhiVariance = run.SumPhi2 / denom, Mean = run.SumX / denom,
            NeuronMeans = run.SumXi.Select(v => v / run.Recorded).ToArray(),
            Lags = lags, Autocorrelation = ac, PhiAutocorrelation = acPhi,
            Lyapunov = lyap, LyapunovStdErr = lyapErr, HasLyapunov = o.Lyapunov,
            FinalMaxAbs = maxAbs, Steps = total,
        };
    }

    /// <summary>Runs <paramref name="seeds"/> networks (coupling seeds baseSeed, baseSeed+1, …; run seeds likewise)
    /// in parallel on all cores; results in seed order.</summary>
    public static RateSimulationResult[] RunEnsemble(int n, double g, Activation phi, long baseSeed, int seeds, RateSimulationOptions o)
    {
        Theory.Core.Validate.PositiveInt("seeds", seeds);
        o.Validate(g);
        return Ensemble.Run(seeds, k =>
        {
            var net = new RateNetwork(n, g, phi, baseSeed + k);
            return Run(net, o with { Seed = baseSeed + k });
        });
    }

    private static void Autocorrelate(double[] traj, int samples, int n, int maxLag, double[] result)
    {
        Parallel.For(0, maxLag + 1, lag =>
        {
            double s = 0;
            int count = samples - lag;
            for (int a = 0; a < count; a++)
                s += DenseKernels.Dot(new ReadOnlySpan<double>(traj, a * n, n), new ReadOnlySpan<double>(traj, (a + lag) * n, n));
            result[lag] = s / ((double)count * n);
        });
    }

    /// <summary>One run as a tangent map: a step of the stepper for the state (and, when asked, the tangent vector),
    /// the additive noise, and the observables recorded after the transient. Buffers allocated once.</summary>
    private sealed class RateRun : ITangentMap
    {
        private readonly RateNetwork _net;
        private readonly RateSimulationOptions _o;
        private readonly Workspace _ws;
        private readonly Rng _noise;
        private readonly double _noiseScale;
        private readonly int _transientSteps, _storedSamples;
        private double _t;

        public RateRun(RateNetwork net, RateSimulationOptions o, double[] x0, int transientSteps, int recordSteps)
        {
            int n = net.N;
            _net = net; _o = o; _transientSteps = transientSteps;
            X = x0;
            _noise = Rng.ForStream(o.Seed, 2);
            _noiseScale = o.NoiseStd * Math.Sqrt(o.Dt);
            _ws = new Workspace(n);
            SumXi = new double[n];
            SampleEvery = o.MaxLag > 0 ? Math.Max(1, (int)Math.Round(o.SampleInterval / o.Dt)) : 0;
            _storedSamples = SampleEvery > 0 ? recordSteps / SampleEvery : 0;
            TrajX = _storedSamples > 0 ? new double[(long)_storedSamples * n] : null;
            TrajPhi = _storedSamples > 0 ? new double[(long)_storedSamples * n] : null;
        }

        public double[] X { get; }
        public int SampleEvery { get; }
        public double[]? TrajX { get; }
        public double[]? TrajPhi { get; }
        public int Stored { get; private set; }
        public long Recorded { get; private set; }
        public double SumX2 { get; private set; }
        public double SumPhi2 { get; private set; }
        public double SumX { get; private set; }
        public double[] SumXi { get; }

        public int Dimension => X.Length;

        public void Step(int step, double[] tangents, int vectors)
        {
            int n = X.Length;
            double dt = _o.Dt;
            RateSimulation.Step(_net, _o, X, vectors > 0 ? tangents : null, _t, dt, _ws);
            if (_noiseScale > 0) for (int i = 0; i < n; i++) X[i] += _noiseScale * _noise.NextGaussian();
            _t += dt;
            int k = step + 1;
            if (k > _transientSteps)
            {
                int r = k - _transientSteps;
                double s2 = 0, sp = 0, s1 = 0;
                bool store = SampleEvery > 0 && r % SampleEvery == 0 && Stored < _storedSamples;
                for (int i = 0; i < n; i++)
                {
                    double xi = X[i];
                    double p = _net.Phi == Activation.Tanh ? Math.Tanh(xi) : xi;
                    s1 += xi; s2 += xi * xi; sp += p * p; SumXi[i] += xi;
                    if (store) { TrajX![(long)Stored * n + i] = xi; TrajPhi![(long)Stored * n + i] = p; }
                }
                if (store) Stored++;
                SumX += s1; SumX2 += s2; SumPhi2 += sp;
                Recorded++;
            }
            if (!double.IsFinite(X[0])) throw new InvalidOperationException($"rate network diverged at t = {_t} (dt = {dt} too large?)");
        }
    }

    /// <summary>Buffers for one run.</summary>
    private sealed class Workspace
    {
        public readonly double[] U, Phi, Gated, K1, K2, K3, K4, D1, D2, D3, D4, Xs, Ds;
        public Workspace(int n)
        {
            U = new double[n]; Phi = new double[n]; Gated = new double[n];
            K1 = new double[n]; K2 = new double[n]; K3 = new double[n]; K4 = new double[n];
            D1 = new double[n]; D2 = new double[n]; D3 = new double[n]; D4 = new double[n];
            Xs = new double[n]; Ds = new double[n];
        }
    }

    private static void Eval(RateNetwork net, RateSimulationOptions o, ReadOnlySpan<double> x, double[]? delta, double t,
        Workspace ws, Span<double> kx, Span<double> kd)
    {
        if (o.Input is { } input) input(t, ws.U);
        if (delta is null) net.Derivative(x, ws.U, ws.Phi, kx);
        else net.DerivativeWithTangent(x, delta, ws.U, ws.Phi, ws.Gated, kx, kd);
    }

    /// <summary>One step of the chosen stepper for the state and (optionally) the tangent vector.</summary>
    private static void Step(RateNetwork net, RateSimulationOptions o, double[] x, double[]? delta, double t, double dt, Workspace ws)
    {
        int n = x.Length;
        if (o.Stepper == Stepper.Euler)
        {
            Eval(net, o, x, delta, t, ws, ws.K1, ws.D1);
            for (int i = 0; i < n; i++) x[i] += dt * ws.K1[i];
            if (delta is not null) for (int i = 0; i < n; i++) delta[i] += dt * ws.D1[i];
            return;
        }
        double[]? ds = delta is null ? null : ws.Ds;
        Eval(net, o, x, delta, t, ws, ws.K1, ws.D1);
        Combine(x, ws.K1, 0.5 * dt, ws.Xs); if (delta is not null) Combine(delta, ws.D1, 0.5 * dt, ws.Ds);
        Eval(net, o, ws.Xs, ds, t + 0.5 * dt, ws, ws.K2, ws.D2);
        Combine(x, ws.K2, 0.5 * dt, ws.Xs); if (delta is not null) Combine(delta, ws.D2, 0.5 * dt, ws.Ds);
        Eval(net, o, ws.Xs, ds, t + 0.5 * dt, ws, ws.K3, ws.D3);
        Combine(x, ws.K3, dt, ws.Xs); if (delta is not null) Combine(delta, ws.D3, dt, ws.Ds);
        Eval(net, o, ws.Xs, ds, t + dt, ws, ws.K4, ws.D4);
        double h6 = dt / 6.0;
        for (int i = 0; i < n; i++) x[i] += h6 * (ws.K1[i] + 2 * ws.K2[i] + 2 * ws.K3[i] + ws.K4[i]);
        if (delta is not null)
            for (int i = 0; i < n; i++) delta[i] += h6 * (ws.D1[i] + 2 * ws.D2[i] + 2 * ws.D3[i] + ws.D4[i]);
    }

    private static void Combine(double[] a, double[] k, double h, double[] dst)
    {
        for (int i = 0; i < a.Length; i++) dst[i] = a[i] + h * k[i];
    }
}

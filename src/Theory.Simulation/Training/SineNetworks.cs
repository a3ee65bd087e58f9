using Theory.Core;
using Theory.Core.Numerics;
using Theory.Simulation.PhaseDiagram;

namespace Theory.Simulation.Training;

/// <summary>A network trained on the paper's autonomous sinusoid task, with its initial weights (for ΔJ = J − J0).</summary>
public sealed class TrainedSineNetwork
{
    /// <summary>Weights before training (J0, U, V0).</summary>
    public required RnnWeights Initial { get; init; }
    /// <summary>Weights after training.</summary>
    public required RnnWeights Trained { get; init; }
    /// <summary>The task (one condition, its x0).</summary>
    public required TrainingTask Task { get; init; }
    /// <summary>Relative window fit error ‖y − y*‖²/‖y*‖² of the trained network.</summary>
    public required double FitError { get; init; }
    /// <summary>The seed.</summary>
    public required long Seed { get; init; }
}

/// <summary>Task error and autonomous behaviour of a (possibly ablated) network on the sinusoid task.</summary>
public sealed record NetworkPerformance
{
    /// <summary>Relative window fit error ‖y − y*‖²/‖y*‖² (readout unchanged).</summary>
    public required double FitError { get; init; }
    /// <summary>The autonomous run after the window (λ̂ by Benettin, lag-T autocorrelation, class).</summary>
    public required AutonomousMeasurement Autonomous { get; init; }
}

/// <summary>Training and evaluation helpers for the spectral analysis and ablations of trained networks
/// (docs/dmft-spectrum.md). Training is exactly <see cref="PhaseProbe.Run"/>'s (same streams: seed fixes x0, J0, V0 by
/// stream 0 and the optimiser by stream 1), so a network here is the phase-diagram probe's network.</summary>
public static class SineNetworks
{
    /// <summary>Trains one network at (g, γ &gt; 0, seed) on one period of sin(2πt/T) with the probe's options.</summary>
    public static TrainedSineNetwork Train(PhaseProbeOptions options, double g, double gamma, long seed)
    {
        var o = options.Validate();
        Validate.Positive("g", g);
        Validate.Positive("gamma", gamma);
        var rng = Rng.ForStream(seed, 0);
        double x0var = o.X0Variance ?? (g > 1.0 ? Theory.Core.Dmft.ScsStationary.SolveStationaryVariance(g).Delta0 : 1.0);
        var task = Tasks.SinePeriod(o.N, o.Period, o.Dt, 1, x0var, rng);
        var cfg = new RnnConfig(o.N, 0, 1, g, gamma, o.Dt, Activation.Tanh);
        var w0 = RnnWeights.Random(cfg, rng);
        var res = Trainer.Train(w0, task, new TrainingOptions
        {
            Protocol = o.Protocol, Steps = o.TrainingSteps, LearningRate = o.LearningRate, LangevinStep = o.LangevinStep,
            ReadoutNoise = o.ReadoutNoise, TrainInputWeights = false, Thermalisation = 0.5, SampleEvery = Math.Max(1, o.TrainingSteps),
        }, Rng.ForStream(seed, 1));
        return new TrainedSineNetwork { Initial = w0, Trained = res.Weights, Task = task, FitError = res.FitError, Seed = seed };
    }

    /// <summary>Window rates φ(x_k) of the first condition, Window × N row-major (time × neurons).</summary>
    public static double[] WindowRates(RnnWeights w, TrainingTask task)
    {
        var eng = new RnnEngine(w.Config, task);
        eng.Forward(w);
        var rates = new double[eng.Observed * w.Config.N];
        eng.ObservedRates(rates);
        return rates.AsSpan(0, task.Window * w.Config.N).ToArray();
    }

    /// <summary>Fit error on the window (from the task's x0, readout unchanged) and the autonomous run from the state at
    /// the end of the window (<see cref="PhaseProbe.Analyse"/>, tangent vector from stream 2 of <paramref name="seed"/>).</summary>
    public static NetworkPerformance Evaluate(RnnWeights w, TrainingTask task, PhaseProbeOptions options, long seed)
    {
        var eng = new RnnEngine(w.Config, task);
        eng.Forward(w);
        var rates = new double[eng.Observed * w.Config.N];
        eng.ObservedRates(rates);
        double fit = Measurements.RelativeFitError(w, rates, task.StackedTargets(), eng.Observed);
        var xEnd = eng.States(task.Steps, 0).ToArray();
        foreach (var v in xEnd)
            if (!double.IsFinite(v)) throw new NotConvergedException(new SolverFailure("SineNetworks", 0, double.PositiveInfinity, "window run diverged"));
        var m = PhaseProbe.Analyse(w, xEnd, options, Rng.ForStream(seed, 2));
        return new NetworkPerformance { FitError = fit, Autonomous = m };
    }

    /// <summary>The effective connectivity (g/√N)·J as an N×N array.</summary>
    public static double[,] EffectiveJ(RnnWeights w)
    {
        int n = w.Config.N;
        double c = w.Config.G / Math.Sqrt(n);
        var m = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) m[i, j] = c * w.J[i * n + j];
        return m;
    }

    /// <summary>A copy of the weights with J replaced so that (g/√N)·J equals <paramref name="effective"/> (g &gt; 0).</summary>
    public static RnnWeights WithEffectiveJ(RnnWeights w, double[,] effective)
    {
        int n = w.Config.N;
        if (effective.GetLength(0) != n || effective.GetLength(1) != n) throw new ArgumentException($"effective J must be {n}x{n}");
        Validate.Positive("g", w.Config.G);
        double c = Math.Sqrt(n) / w.Config.G;
        var copy = w.Clone();
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) copy.J[i * n + j] = c * effective[i, j];
        return copy;
    }
}

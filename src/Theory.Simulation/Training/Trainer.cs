using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Training;

/// <summary>Training protocols (note dmft-learned.md §3.5).</summary>
public enum TrainingProtocol
{
    /// <summary>(a) Full-batch gradient descent on the mean squared output error from the random initialisation, μP
    /// learning rate η = η₀·γ²·N for J, U and V.</summary>
    GradientDescent,
    /// <summary>(a′) Adam (β₁ = 0.9, β₂ = 0.999) with μP per-group rates [reconstructed]: η₀γ for V and U, η₀γ/√N for J.</summary>
    Adam,
    /// <summary>(b) Unadjusted Langevin sampling of (J, U) with the readout V integrated out (prior N(0,1) on every
    /// weight, Gaussian output likelihood of precision β = Nγ²/σ²); V is drawn from its Gaussian conditional at the end.
    /// It targets the posterior only approximately (finite readout noise σ², no Metropolis test, so a step-size bias) and
    /// is unstable on the tanh sinusoid task (the likelihood is stiff near singular window kernels: it diverges or does
    /// not fit). For the exact finite-N posterior use the Metropolis-adjusted weight-space sampler
    /// Theory.Core.Dmft.WeightPosterior (`theory train --protocol hmc`, docs/dmft-nonlinear.md, "Weight-space posterior
    /// sampler"); this protocol is kept for the peaked-spectrum (linear) task and for comparison.</summary>
    Langevin,
}

/// <summary>Options of <see cref="Trainer.Train"/>.</summary>
public sealed record TrainingOptions
{
    /// <summary>Protocol.</summary>
    public TrainingProtocol Protocol { get; init; } = TrainingProtocol.Langevin;
    /// <summary>Number of updates.</summary>
    public int Steps { get; init; } = 400;
    /// <summary>η₀ for GD/Adam (scaled as documented on <see cref="TrainingProtocol"/>). Default 0.05.</summary>
    public double LearningRate { get; init; } = 0.05;
    /// <summary>Langevin time step h (in units of the prior relaxation time). Default 0.02.</summary>
    public double LangevinStep { get; init; } = 0.02;
    /// <summary>Readout noise σ² = Nγ²/β of the posterior (Langevin). Default 1e-5; exact conditioning is σ² → 0.</summary>
    public double ReadoutNoise { get; init; } = 1e-5;
    /// <summary>Train the input weights U (default true; the published linear formula needs it, note §3.3).</summary>
    public bool TrainInputWeights { get; init; } = true;
    /// <summary>Fraction of the Langevin steps discarded before kernels are averaged. Default 0.5.</summary>
    public double Thermalisation { get; init; } = 0.5;
    /// <summary>Accumulate the window kernel every this many steps after thermalisation (Langevin) or at the end (GD).</summary>
    public int SampleEvery { get; init; } = 2;
    /// <summary>Progress sink (stderr in the CLI) or null.</summary>
    public Action<string>? Progress { get; init; }
    /// <summary>Report progress every this many steps.</summary>
    public int ProgressEvery { get; init; } = 50;
}

/// <summary>What training returns.</summary>
public sealed class TrainingResult
{
    /// <summary>Final weights (for Langevin, V is an exact draw from its conditional posterior).</summary>
    public required RnnWeights Weights { get; init; }
    /// <summary>Objective per step: MSE (GD/Adam) or collapsed task energy per neuron E/N (Langevin).</summary>
    public required double[] History { get; init; }
    /// <summary>Window kernel C(p, p') = N⁻¹ Σ_i φ_i(p) φ_i(p') (P×P row-major), averaged over the Langevin samples after
    /// thermalisation, or of the final weights for GD/Adam.</summary>
    public required double[] MeanKernel { get; init; }
    /// <summary>Number of kernels averaged.</summary>
    public required int Samples { get; init; }
    /// <summary>Relative output error ‖y − y*‖²/‖y*‖² of the final weights on the window.</summary>
    public required double FitError { get; init; }
}

/// <summary>Trains a <see cref="RnnWeights"/> in place on a task (seeded; results independent of thread count).</summary>
public static class Trainer
{
    /// <summary>Runs the protocol; returns the final weights (a copy), the history and the window kernel.</summary>
    public static TrainingResult Train(RnnWeights initial, TrainingTask task, TrainingOptions options, Rng rng)
    {
        Validate.AtLeast("steps", options.Steps, 1);
        Validate.Positive("learningRate", options.LearningRate);
        Validate.Positive("langevinStep", options.LangevinStep);
        Validate.Positive("readoutNoise", options.ReadoutNoise);
        Validate.InRange("thermalisation", options.Thermalisation, 0.0, 0.99);
        Validate.AtLeast("sampleEvery", options.SampleEvery, 1);
        var w = initial.Clone();
        var cfg = w.Config;
        var engine = new RnnEngine(cfg, task);
        int n = cfg.N, p = engine.Observed, d = cfg.Outputs;
        var rates = new double[p * n];
        var dLdR = new double[p * n];
        var gJ = new double[n * n];
        var gU = options.TrainInputWeights && cfg.Inputs > 0 ? new double[n * cfg.Inputs] : null;
        var gV = new double[n * d];
        var targets = task.StackedTargets();
        var history = new double[options.Steps];
        var kernel = new double[p * p];
        int samples = 0;
        int thermal = (int)(options.Thermalisation * options.Steps);

        // Adam state.
        double[]? mJ = null, vJ = null, mU = null, vU = null, mV = null, vV = null;
        if (options.Protocol == TrainingProtocol.Adam)
        {
            mJ = new double[n * n]; vJ = new double[n * n]; mV = new double[n * d]; vV = new double[n * d];
            if (gU != null) { mU = new double[gU.Length]; vU = new double[gU.Length]; }
        }
        double etaGd = options.LearningRate * cfg.Gamma * cfg.Gamma * n;

        for (int step = 0; step < options.Steps; step++)
        {
            engine.Forward(w);
            engine.ObservedRates(rates);
            CheckFinite(rates, step);
            if (options.Protocol == TrainingProtocol.Langevin)
            {
                history[step] = Losses.CollapsedTaskEnergy(rates, targets, p, n, d, cfg.Gamma, options.ReadoutNoise, dLdR) / n;
                if (step >= thermal && (step - thermal) % options.SampleEvery == 0) { AccumulateKernel(rates, p, n, kernel); samples++; }
                engine.Backward(w, dLdR, gJ, gU);
                double h = options.LangevinStep, decay = Math.Exp(-h), drift = 1.0 - decay, noise = Math.Sqrt(1.0 - decay * decay);
                for (int q = 0; q < gJ.Length; q++) w.J[q] = decay * w.J[q] - drift * gJ[q] + noise * rng.NextGaussian();
                if (gU != null) for (int q = 0; q < gU.Length; q++) w.U[q] = decay * w.U[q] - drift * gU[q] + noise * rng.NextGaussian();
            }
            else
            {
                history[step] = Losses.MeanSquaredError(w, rates, targets, p, dLdR, gV);
                engine.Backward(w, dLdR, gJ, gU);
                if (options.Protocol == TrainingProtocol.GradientDescent)
                {
                    for (int q = 0; q < gJ.Length; q++) w.J[q] -= etaGd * gJ[q];
                    if (gU != null) for (int q = 0; q < gU.Length; q++) w.U[q] -= etaGd * gU[q];
                    for (int q = 0; q < gV.Length; q++) w.V[q] -= etaGd * gV[q];
                }
                else
                {
                    double eta0 = options.LearningRate;
                    AdamStep(w.J, gJ, mJ!, vJ!, eta0 * cfg.Gamma / Math.Sqrt(n), step + 1);
                    if (gU != null) AdamStep(w.U, gU, mU!, vU!, eta0 * cfg.Gamma, step + 1);
                    AdamStep(w.V, gV, mV!, vV!, eta0 * cfg.Gamma, step + 1);
                }
            }
            if (options.Progress != null && (step % options.ProgressEvery == 0 || step == options.Steps - 1))
                options.Progress($"train {options.Protocol} step {step + 1}/{options.Steps}: objective {history[step]:G6}");
        }
        engine.Forward(w);
        engine.ObservedRates(rates);
        CheckFinite(rates, options.Steps);
        if (options.Protocol == TrainingProtocol.Langevin)
            Array.Copy(Losses.SampleReadout(rates, targets, p, n, d, cfg.Gamma, options.ReadoutNoise, rng), w.V, n * d);
        if (samples == 0) { AccumulateKernel(rates, p, n, kernel); samples = 1; }
        for (int q = 0; q < kernel.Length; q++) kernel[q] /= samples;
        return new TrainingResult
        {
            Weights = w,
            History = history,
            MeanKernel = kernel,
            Samples = samples,
            FitError = Measurements.RelativeFitError(w, rates, targets, p),
        };
    }

    private static void CheckFinite(double[] rates, int step)
    {
        foreach (var v in rates)
            if (!double.IsFinite(v))
                throw new NotConvergedException(new SolverFailure("Trainer", step, double.PositiveInfinity,
                    "network activity became non-finite (unstable trained dynamics; reduce the step size or γ)"));
    }

    private static void AccumulateKernel(double[] rates, int p, int n, double[] kernel)
    {
        for (int a = 0; a < p; a++)
            for (int b = a; b < p; b++)
            {
                double s = DenseKernels.Dot(new ReadOnlySpan<double>(rates, a * n, n), new ReadOnlySpan<double>(rates, b * n, n)) / n;
                kernel[a * p + b] += s;
                if (b != a) kernel[b * p + a] += s;
            }
    }

    private static void AdamStep(double[] theta, double[] grad, double[] m, double[] v, double lr, int t)
    {
        const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        double c1 = 1.0 - Math.Pow(b1, t), c2 = 1.0 - Math.Pow(b2, t);
        for (int q = 0; q < theta.Length; q++)
        {
            m[q] = b1 * m[q] + (1 - b1) * grad[q];
            v[q] = b2 * v[q] + (1 - b2) * grad[q] * grad[q];
            theta[q] -= lr * (m[q] / c1) / (Math.Sqrt(v[q] / c2) + eps);
        }
    }
}

using Theory.Core;
using Theory.Core.Dmft;
using Theory.Core.Numerics;

namespace Theory.Simulation.Training;

/// <summary>Multi-condition tasks (Clark et al. 2026, reaching; docs/dmft-multi-condition.md) for the training engine.
/// <see cref="TrainingTask"/> already runs several conditions per batch (one trial per condition, the loss summed over
/// all of them); this file only builds such tasks from <see cref="ConditionSeries"/> with the DMFT's conventions
/// (<see cref="MultiConditionProblem"/>): x(0) = 0 in every condition, the whole trial is the training window.</summary>
public static class MultiConditionTasks
{
    /// <summary>A task with one trial per condition on the grid t_k = kΔt, k = 0..n−1: no burn-in, the window is the
    /// whole trial (the targets include the t = 0 point, where they are 0), inputs I^c(t_k) drive x_k → x_{k+1}, and
    /// every condition starts from x(0) = 0.</summary>
    public static TrainingTask FromSeries(string name, ConditionSeries[] series, double dt)
    {
        var (n, d, din) = MultiConditions.ValidateSeries(series);
        int c = series.Length;
        var inputs = new double[c][];
        var targets = new double[c][];
        for (int q = 0; q < c; q++)
        {
            inputs[q] = new double[n * din];
            targets[q] = new double[n * d];
            for (int k = 0; k < n; k++)
            {
                for (int a = 0; a < din; a++) inputs[q][k * din + a] = series[q].Inputs[k][a];
                for (int o = 0; o < d; o++) targets[q][k * d + o] = series[q].Targets[k][o];
            }
        }
        return new TrainingTask(name, din, d, 0, n, dt, inputs, targets, null);
    }

    /// <summary>The reaching-like task of <see cref="ReachTask"/>.</summary>
    public static TrainingTask Reach(ReachTask task) => FromSeries("reach", task.Series(), task.Dt);
}

/// <summary>One trained network on a multi-condition task, measured on the joint index.</summary>
public sealed class MultiConditionNetwork
{
    /// <summary>Network size N and seed.</summary>
    public required int Neurons { get; init; }
    /// <summary>Seed of the initial weights.</summary>
    public required long Seed { get; init; }
    /// <summary>Relative output error ‖y − y*‖²/‖y*‖² over all conditions.</summary>
    public required double FitError { get; init; }
    /// <summary>Joint kernel C((c,t),(c',t')) = φᵀφ/N on the joint index (shared t = 0 point first).</summary>
    public required double[,] Kernel { get; init; }
    /// <summary>Outputs y^c_o(t_k): [condition][k·d + o].</summary>
    public required double[][] Outputs { get; init; }
    /// <summary>Rates per neuron on the joint index: [neuron][joint point].</summary>
    public required double[][] Rates { get; init; }
    /// <summary>Objective per training step.</summary>
    public required double[] History { get; init; }
}

/// <summary>Trains μP rate networks on a multi-condition task and measures them on the DMFT's joint index.</summary>
public static class MultiConditionNetworks
{
    /// <summary>Trains one network (initial weights from <c>Rng.ForStream(seed, 1)</c>, training draws from stream
    /// 2) with the given protocol and returns its fit, joint kernel, outputs and rates. The network has the problem's φ, g
    /// and γ; U is trained.</summary>
    public static MultiConditionNetwork Train(MultiConditionProblem problem, ConditionSeries[] series, int neurons, long seed, TrainingOptions options)
    {
        Validate.AtLeast("neurons", neurons, 2);
        var p = problem.Problem;
        if (series.Length != problem.Conditions) throw new ParameterOutOfDomainException("series", $"{series.Length} conditions", $"{problem.Conditions} (the problem's)");
        if (!(p.Gamma > 0)) throw new ParameterOutOfDomainException("gamma", p.Gamma.ToString("R"), "> 0 for trained networks (the readout carries 1/(Nγ))");
        var init = Rng.ForStream(seed, 1);
        var act = p.Phi.IsTanh ? Activation.Tanh : Activation.Identity;
        var cfg = new RnnConfig(neurons, problem.Inputs, problem.Outputs, p.G, p.Gamma, p.Dt, act);
        var w0 = RnnWeights.Random(cfg, init);
        var task = MultiConditionTasks.FromSeries("multi-condition", series, p.Dt);
        var result = Trainer.Train(w0, task, options with { TrainInputWeights = true }, Rng.ForStream(seed, 2));
        return Measure(result.Weights, task, problem, seed, result.History);
    }

    /// <summary>Measures a network on a task built by <see cref="MultiConditionTasks.FromSeries"/>: forward pass, fit
    /// error, joint kernel, outputs, rates on the joint index.</summary>
    public static MultiConditionNetwork Measure(RnnWeights w, TrainingTask task, MultiConditionProblem problem, long seed, double[] history)
    {
        int nNeur = w.Config.N, c = task.Conditions, n = task.Window, d = task.Outputs;
        if (c != problem.Conditions || n != problem.Steps) throw new ArgumentException("task and problem differ in conditions or steps");
        var engine = new RnnEngine(w.Config, task);
        engine.Forward(w);
        int pRows = engine.Observed;
        var rates = new double[pRows * nNeur];
        engine.ObservedRates(rates);
        var y = RnnEngine.Readout(w, rates, pRows);
        var stacked = task.StackedTargets();
        double fit = Measurements.RelativeFitError(w, rates, stacked, pRows);
        int nj = problem.JointPoints;
        var perNeuron = new double[nNeur][];
        for (int i = 0; i < nNeur; i++) perNeuron[i] = new double[nj];
        for (int q = 0; q < c; q++)
            for (int k = 1; k < n; k++)
            {
                int j = problem.Index(q, k), row = q * n + k;
                for (int i = 0; i < nNeur; i++) perNeuron[i][j] = rates[row * nNeur + i];
            }
        var kernel = new double[nj, nj];
        for (int a = 0; a < nj; a++)
            for (int b = a; b < nj; b++)
            {
                double s = 0;
                for (int i = 0; i < nNeur; i++) s += perNeuron[i][a] * perNeuron[i][b];
                kernel[a, b] = s / nNeur;
                kernel[b, a] = s / nNeur;
            }
        var outputs = new double[c][];
        for (int q = 0; q < c; q++) { outputs[q] = new double[n * d]; Array.Copy(y, q * n * d, outputs[q], 0, n * d); }
        return new MultiConditionNetwork { Neurons = nNeur, Seed = seed, FitError = fit, Kernel = kernel, Outputs = outputs, Rates = perNeuron, History = history };
    }

    /// <summary>An untrained random network (weights from <c>Rng.ForStream(seed, 1)</c>, as in <see cref="Train"/>)
    /// measured on the task: the γ = 0 reference (its kernel is the SCS kernel on the joint index up to O(N^{-1/2})).</summary>
    public static MultiConditionNetwork Random(MultiConditionProblem problem, ConditionSeries[] series, int neurons, long seed)
    {
        Validate.AtLeast("neurons", neurons, 2);
        var p = problem.Problem;
        var init = Rng.ForStream(seed, 1);
        var act = p.Phi.IsTanh ? Activation.Tanh : Activation.Identity;
        // γ only scales the readout, which the kernel does not use; 1 keeps the config valid at γ = 0.
        var cfg = new RnnConfig(neurons, problem.Inputs, problem.Outputs, p.G, p.Gamma > 0 ? p.Gamma : 1.0, p.Dt, act);
        var w0 = RnnWeights.Random(cfg, init);
        var task = MultiConditionTasks.FromSeries("multi-condition", series, p.Dt);
        return Measure(w0, task, problem, seed, Array.Empty<double>());
    }
}

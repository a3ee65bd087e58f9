using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Reservoir;

/// <summary>Accuracy formula A(E/σ_Y).</summary>
public enum AccuracyFormula
{
    /// <summary>A = max(0, 1 − E/σ_Y) [reconstructed default].</summary>
    Linear,
    /// <summary>A = max(0, 1 − (E/σ_Y)²) [reconstructed alternative, same ordering].</summary>
    Squared,
}

/// <summary>Parameters of the sequence-generation task (Metzner et al. 2025, §2.3; research note A7). All defaults
/// except N_in = 2 and σ_in = 0.3 are [reconstructed].</summary>
public sealed record SequenceTaskOptions
{
    /// <summary>Number of classes C.</summary>
    public int Classes { get; init; } = 5;
    /// <summary>Input dimension N_in [paper: 2].</summary>
    public int InputDim { get; init; } = 2;
    /// <summary>Priming length T_in.</summary>
    public int InputLength { get; init; } = 3;
    /// <summary>Output dimension N_out.</summary>
    public int OutputDim { get; init; } = 2;
    /// <summary>Target length T_out (autonomous steps per episode).</summary>
    public int OutputLength { get; init; } = 5;
    /// <summary>Washout episodes (not used for training or testing).</summary>
    public int WashoutEpisodes { get; init; } = 5;
    /// <summary>Training episodes.</summary>
    public int TrainEpisodes { get; init; } = 200;
    /// <summary>Test episodes.</summary>
    public int TestEpisodes { get; init; } = 100;
    /// <summary>Priming and target components are uniform on [−ValueRange, ValueRange].</summary>
    public double ValueRange { get; init; } = 1.0;
    /// <summary>Input-matrix standard deviation σ_in [paper: 0.3].</summary>
    public double InputSd { get; init; } = 0.3;
    /// <summary>Bias standard deviation σ_β [reconstructed 0.01].</summary>
    public double BiasSd { get; init; } = 0.01;
    /// <summary>Pseudoinverse relative cutoff (null = max(n, N+1)·2.2e−16).</summary>
    public double? RelativeCutoff { get; init; }
    /// <summary>Accuracy formula (default linear).</summary>
    public AccuracyFormula Accuracy { get; init; } = AccuracyFormula.Linear;

    internal void Check()
    {
        Validate.PositiveInt("classes", Classes); Validate.PositiveInt("input-dim", InputDim); Validate.PositiveInt("input-length", InputLength);
        Validate.PositiveInt("output-dim", OutputDim); Validate.PositiveInt("output-length", OutputLength);
        Validate.AtLeast("washout", WashoutEpisodes, 0); Validate.PositiveInt("train-episodes", TrainEpisodes); Validate.PositiveInt("test-episodes", TestEpisodes);
        Validate.Positive("value-range", ValueRange); Validate.NonNegative("input-sd", InputSd); Validate.NonNegative("bias-sd", BiasSd);
    }
}

/// <summary>Outcome of one sequence-generation run.</summary>
/// <param name="Accuracy">A ∈ [0, 1].</param>
/// <param name="Rmse">E: RMS error over all test steps and output components.</param>
/// <param name="TargetSd">σ_Y: population standard deviation of the test targets.</param>
/// <param name="ReadoutRank">Singular values kept by the pseudoinverse.</param>
/// <param name="DrivenFluctuation">F of the whole driven stream.</param>
/// <param name="DrivenCorrelation1">C(1) of the whole driven stream.</param>
/// <param name="DrivenNonlinearity">N of the whole driven stream.</param>
public sealed record SequenceTaskResult(double Accuracy, double Rmse, double TargetSd, int ReadoutRank,
    double DrivenFluctuation, double DrivenCorrelation1, double DrivenNonlinearity);

/// <summary>The sequence-generation task: class-specific priming sequences drive the reservoir for T_in steps, then
/// it evolves autonomously (input 0) for T_out steps; the state after autonomous step k is mapped by one affine
/// readout onto the class's target vector k. Episodes follow each other in one continuous stream without reset.</summary>
public static class SequenceGenerationTask
{
    /// <summary>Runs the task on a matrix. Draw order from <c>Rng(seed)</c>: biases and U (<see cref="DiscreteNetwork.Create"/>),
    /// initial state, priming sequences (C·T_in·N_in uniforms), targets (C·T_out·N_out uniforms), episode classes.</summary>
    public static SequenceTaskResult Run(WeightMatrix matrix, SequenceTaskOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(matrix); ArgumentNullException.ThrowIfNull(options);
        options.Check();
        var rng = new Rng(seed);
        var net = DiscreteNetwork.Create(matrix, new NetworkOptions { BiasSd = options.BiasSd, InputDim = options.InputDim, InputSd = options.InputSd }, rng);
        int n = net.N, c = options.Classes, tin = options.InputLength, tout = options.OutputLength, nin = options.InputDim, nout = options.OutputDim;
        var x = net.InitialState(rng);
        double range = options.ValueRange;
        var priming = new double[c * tin * nin];
        for (int k = 0; k < priming.Length; k++) priming[k] = range * (2 * rng.NextDouble() - 1);
        var targets = new double[c * tout * nout];
        for (int k = 0; k < targets.Length; k++) targets[k] = range * (2 * rng.NextDouble() - 1);
        int episodes = options.WashoutEpisodes + options.TrainEpisodes + options.TestEpisodes;
        var classes = new int[episodes];
        for (int e = 0; e < episodes; e++) classes[e] = rng.NextInt(c);

        int epLen = tin + tout;
        var stream = new double[episodes * epLen * n];
        var next = new double[n];
        var zero = new double[nin];
        int nTrain = options.TrainEpisodes * tout, nTest = options.TestEpisodes * tout;
        var xTrain = new double[nTrain, n]; var yTrain = new double[nTrain, nout];
        var xTest = new double[nTest, n]; var yTest = new double[nTest, nout];
        int step = 0;
        for (int e = 0; e < episodes; e++)
        {
            int cls = classes[e];
            for (int k = 0; k < epLen; k++)
            {
                ReadOnlySpan<double> s = k < tin ? priming.AsSpan((cls * tin + k) * nin, nin) : zero;
                net.Step(x, s, next);
                (x, next) = (next, x);
                Array.Copy(x, 0, stream, step * n, n);
                step++;
                if (k < tin) continue;
                int ka = k - tin; // autonomous step index 0..T_out−1
                int e2 = e - options.WashoutEpisodes;
                if (e2 < 0) continue;
                bool train = e2 < options.TrainEpisodes;
                int row = (train ? e2 : e2 - options.TrainEpisodes) * tout + ka;
                var xs = train ? xTrain : xTest; var ys = train ? yTrain : yTest;
                for (int i = 0; i < n; i++) xs[row, i] = x[i];
                for (int o = 0; o < nout; o++) ys[row, o] = targets[(cls * tout + ka) * nout + o];
            }
        }
        var readout = PseudoInverseReadout.Fit(xTrain, yTrain, options.RelativeCutoff);
        double se = 0, sy = 0, sy2 = 0;
        var z = new double[nout];
        var state = new double[n];
        for (int row = 0; row < nTest; row++)
        {
            for (int i = 0; i < n; i++) state[i] = xTest[row, i];
            readout.Predict(state, z);
            for (int o = 0; o < nout; o++)
            {
                double d = z[o] - yTest[row, o];
                se += d * d; sy += yTest[row, o]; sy2 += yTest[row, o] * yTest[row, o];
            }
        }
        int cnt = nTest * nout;
        double rmse = Math.Sqrt(se / cnt);
        double mean = sy / cnt;
        double sd = Math.Sqrt(Math.Max(0, sy2 / cnt - mean * mean));
        if (sd == 0) throw new NoSolutionException("the test targets have zero spread (σ_Y = 0): the accuracy is undefined; use more classes or test episodes");
        double ratio = rmse / sd;
        double acc = options.Accuracy == AccuracyFormula.Linear ? Math.Max(0, 1 - ratio) : Math.Max(0, 1 - ratio * ratio);
        return new SequenceTaskResult(acc, rmse, sd, readout.Rank,
            DynamicalMeasures.Fluctuation(stream, n), DynamicalMeasures.Correlation(stream, n, 1), DynamicalMeasures.Nonlinearity(stream));
    }
}

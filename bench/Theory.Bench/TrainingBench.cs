using BenchmarkDotNet.Attributes;
using Theory.Core.Numerics;
using Theory.Simulation;
using Theory.Simulation.Training;

namespace Theory.Bench;

/// <summary>One BPTT gradient of the μP rate RNN: N = 400, 200 exponential-Euler steps, batch 8, float64, tanh, one
/// input and one output per condition, loss = mean squared output error on every step. The same computation in
/// PyTorch (autograd) is bench/torch_bptt.py; run both on the same machine and compare
/// (issue 5 target: at least 2× faster than PyTorch on this CPU).</summary>
[MemoryDiagnoser]
public class TrainingBench
{
    private RnnWeights _w = null!;
    private RnnEngine _engine = null!;
    private TrainingTask _task = null!;
    private double[] _rates = null!, _dLdR = null!, _gJ = null!, _gU = null!, _gV = null!, _targets = null!;

    [Params(400)] public int N;
    [Params(200)] public int Steps;
    [Params(8)] public int Batch;

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Rng(1L);
        var inputs = Enumerable.Range(0, Batch).Select(_ => rng.Gaussians(Steps)).ToArray();
        var targets = Enumerable.Range(0, Batch).Select(_ => rng.Gaussians(Steps)).ToArray();
        var x0 = Enumerable.Range(0, Batch).Select(_ => rng.Gaussians(N)).ToArray();
        // Window = all steps: burn-in 0, targets on x_0..x_{Steps−1}.
        _task = new TrainingTask("bench", 1, 1, 0, Steps, 0.1, inputs, targets, x0);
        var cfg = new RnnConfig(N, 1, 1, 1.5, 1.0, 0.1, Activation.Tanh);
        _w = RnnWeights.Random(cfg, rng);
        _engine = new RnnEngine(cfg, _task);
        int p = _engine.Observed;
        _rates = new double[p * N]; _dLdR = new double[p * N];
        _gJ = new double[N * N]; _gU = new double[N]; _gV = new double[N];
        _targets = _task.StackedTargets();
    }

    /// <summary>Forward pass, loss and full gradient (J, U, V).</summary>
    [Benchmark]
    public double BpttGradient()
    {
        _engine.Forward(_w);
        _engine.ObservedRates(_rates);
        double loss = Losses.MeanSquaredError(_w, _rates, _targets, _engine.Observed, _dLdR, _gV);
        _engine.Backward(_w, _dLdR, _gJ, _gU);
        return loss + _gJ[0];
    }
}

using BenchmarkDotNet.Attributes;
using Theory.Core.Numerics;

namespace Theory.Bench;

/// <summary>
/// Standard normal deviates, one sweep's worth of the N = ∞ saddle-point solver (S = 4000 particles × (n + 1) = 51 at
/// n = 50): the Marsaglia polar method (Rng.NextGaussian, one logarithm and one square root per pair) against the
/// 256-layer ziggurat (Rng.NextGaussianZiggurat, one 64-bit draw and one comparison for ≈ 99% of deviates), which the
/// particle sampler uses since stop 29 (docs/dmft-nonlinear.md, "Cost").
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class RngBench
{
    private readonly double[] _target = new double[4000 * 51];
    private Rng _rng = null!;

    [GlobalSetup]
    public void Setup() => _rng = new Rng(1L);

    [Benchmark(Baseline = true)]
    public double Polar()
    {
        var t = _target;
        for (int i = 0; i < t.Length; i++) t[i] = _rng.NextGaussian();
        return t[^1];
    }

    [Benchmark]
    public double Ziggurat()
    {
        _rng.FillGaussianZiggurat(_target);
        return _target[^1];
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Theory.Core.Numerics;
using Theory.Simulation.Reservoir;

namespace Theory.Bench;

/// <summary>Issue 17 item 2, like for like with numpy (bench/numpy_phase_diagram.py): the free runs of the Metzner et al.
/// phase diagram, 21 × 21 (b, w) points × 10 matrices = 4410 networks of N = 50, 2000 steps x ← tanh(W x + β) (1000
/// transient, 1000 recorded) from a uniform initial state, and per network the fluctuation F (mean over neurons of the
/// temporal standard deviation, DynamicalMeasures.Fluctuation). Matrix generation is outside the timed region on both sides (the
/// library's generator with Dale/balance structure, numpy's plain Gaussians of the same size: the same arithmetic).
/// No Lyapunov exponent, no sequence task (RegularitiesBench.PhaseDiagram21x21 times the full sweep). Networks run in
/// parallel on all cores. Side by side: bench/compare-phase-diagram.sh.</summary>
[MemoryDiagnoser]
[Config(typeof(FreeRunConfig))]
public class PhaseDiagramFreeRunBench
{
    private sealed class FreeRunConfig : ManualConfig
    {
        public FreeRunConfig() => AddJob(Job.ShortRun.WithWarmupCount(1).WithIterationCount(5).WithId("free-run"));
    }

    private DiscreteNetwork[] _networks = [];
    private double[][] _x0 = [];

    /// <summary>Number of networks: 21 × 21 × 10.</summary>
    public int Networks => _networks.Length;

    [GlobalSetup]
    public void Setup()
    {
        var list = new List<DiscreteNetwork>();
        var starts = new List<double[]>();
        var rng = new Rng(11L);
        for (int i = 0; i < 21; i++)
            for (int j = 0; j < 21; j++)
                for (int k = 0; k < 10; k++)
                {
                    var spec = new WeightMatrixSpec { N = 50, Balance = -1.0 + 0.1 * i, Width = 0.03 * (j + 1) };
                    var m = WeightMatrixGenerator.Generate(spec, 1000L * (21 * i + j) + k);
                    var net = DiscreteNetwork.Create(m, new NetworkOptions(), rng);
                    list.Add(net);
                    starts.Add(net.InitialState(rng));
                }
        _networks = list.ToArray();
        _x0 = starts.ToArray();
    }

    /// <summary>All 4410 free runs; returns the mean fluctuation (so the work cannot be optimised away).</summary>
    [Benchmark]
    public double FreeRun4410()
    {
        var fluct = new double[_networks.Length];
        Parallel.For(0, _networks.Length, i =>
        {
            var run = _networks[i].RunFree(_x0[i], 1000, 1000);
            fluct[i] = DynamicalMeasures.Fluctuation(run.States, run.N);
        });
        return fluct.Average();
    }
}

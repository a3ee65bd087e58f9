using BenchmarkDotNet.Attributes;
using Theory.Simulation.Reservoir;

namespace Theory.Bench;

/// <summary>Metzner et al. (2025) workloads: one full phase diagram (21 × 21 grid, 10 matrices per point, N = 50,
/// 2000 free-run steps — 1000 transient + 1000 measured, as in the paper-check defaults — plus the sequence task), the
/// target being under one minute on 2 cores; and the single-network building blocks.</summary>
[MemoryDiagnoser]
public class RegularitiesBench
{
    private WeightMatrix _matrix = null!;
    private DiscreteNetwork _network = null!;
    private double[] _x0 = null!;

    [GlobalSetup]
    public void Setup()
    {
        _matrix = WeightMatrixGenerator.Generate(new WeightMatrixSpec { N = 50, Width = 0.3 }, 1);
        var rng = new Theory.Core.Numerics.Rng(2);
        _network = DiscreteNetwork.Create(_matrix, new NetworkOptions(), rng);
        _x0 = _network.InitialState(rng);
    }

    /// <summary>Generation of one N = 50 matrix.</summary>
    [Benchmark]
    public WeightMatrix Generate() => WeightMatrixGenerator.Generate(new WeightMatrixSpec { N = 50, Width = 0.3, Homogeneity = 0.5 }, 3);

    /// <summary>2000 free-run steps with the tangent-space Lyapunov estimate.</summary>
    [Benchmark]
    public FreeRun FreeRun2000() => _network.RunFree(_x0, 1000, 1000, lyapunov: true);

    /// <summary>The sequence-generation task (305 episodes, pseudoinverse readout).</summary>
    [Benchmark]
    public SequenceTaskResult SequenceTask() => SequenceGenerationTask.Run(_matrix, new SequenceTaskOptions(), 4);

    /// <summary>The full 21 × 21 × 10 phase diagram (4410 networks: free run + Lyapunov + task), parallel on all cores.</summary>
    [Benchmark]
    public SweepResult PhaseDiagram21x21()
    {
        var bs = Enumerable.Range(0, 21).Select(i => -1.0 + 0.1 * i).ToArray();
        var ws = Enumerable.Range(0, 21).Select(i => 0.03 * (i + 1)).ToArray();
        return Sweeps.PhaseDiagram(new WeightMatrixSpec { N = 50 }, bs, ws, 10, new MeasureOptions(), 1);
    }
}

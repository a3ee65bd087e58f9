using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Theory.Core.Numerics;
using Theory.Simulation;
using Theory.Simulation.Rate;

namespace Theory.Bench;

/// <summary>Issue 17 item 1: one forward-Euler step x ← x + dt(−x + (g/√N) J tanh x) of the library against numpy +
/// OpenBLAS doing the same work (bench/numpy_rate_step.py), at N = 500, 2000, 4000, on both backends of
/// <see cref="DenseKernels"/> (managed SIMD rows across cores; Debian's libopenblas through P/Invoke). The batched case
/// steps B = 16 states that share J (an ensemble of initial-condition seeds) with one matrix–matrix product, against
/// numpy's X += dt(−X + tanh(X) @ Jᵀ). Run both and print the ratios: bench/compare-rate-step.sh.</summary>
[MemoryDiagnoser]
[Config(typeof(RateStepConfig))]
public class RateStepBench
{
    private sealed class RateStepConfig : ManualConfig
    {
        public RateStepConfig() => AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(8).WithId("rate-step"));
    }

    /// <summary>Batch size of the ensemble step.</summary>
    public const int Batch = 16;
    private const double Dt = 0.1;

    [Params(500, 2000, 4000)]
    public int N { get; set; }

    [Params(DenseBackend.Managed, DenseBackend.OpenBlas)]
    public DenseBackend Backend { get; set; }

    private RateNetwork net = null!;
    private double[] x = [], phi = [], drive = [], xs = [], phis = [], drives = [];

    [GlobalSetup]
    public void Setup()
    {
        if (Backend == DenseBackend.OpenBlas && !DenseKernels.OpenBlasAvailable)
            throw new InvalidOperationException("libopenblas.so.0 not found: apt-get install libopenblas0-pthread");
        DenseKernels.Backend = Backend;
        net = new RateNetwork(N, 1.5, Activation.Tanh, 1L);
        var rng = new Rng(2L);
        x = new double[N];
        for (int i = 0; i < N; i++) x[i] = rng.NextGaussian();
        phi = new double[N];
        drive = new double[N];
        xs = new double[Batch * N];
        for (int i = 0; i < xs.Length; i++) xs[i] = rng.NextGaussian();
        phis = new double[Batch * N];
        drives = new double[Batch * N];
    }

    [GlobalCleanup]
    public void Cleanup() => DenseKernels.Backend = DenseBackend.Managed;

    /// <summary>One Euler step of one network.</summary>
    [Benchmark]
    public void EulerStep() => net.EulerStep(x, Dt, phi, drive);

    /// <summary>One Euler step of 16 states sharing J (reported per batch, i.e. 16 network-steps).</summary>
    [Benchmark]
    public void EulerStepBatch16() => net.EulerStepBatch(xs, Batch, Dt, phis, drives);
}

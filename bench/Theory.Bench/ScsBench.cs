using BenchmarkDotNet.Attributes;
using Theory.Core.Dmft;
using Theory.Simulation;
using Theory.Core.Numerics;
using Theory.Simulation.Rate;

namespace Theory.Bench;

/// <summary>Issue 2 targets: one Euler step of the N = 2000 tanh rate network within 1.5x of one dense matrix-vector
/// product (8·N² bytes of couplings streamed per product: GB/s = 8·N²/time), and a full Δ0(g) solve under 1 ms.
/// Run: dotnet run -c Release --project bench/Theory.Bench -- --filter '*ScsBench*'</summary>
[MemoryDiagnoser]
public class ScsBench
{
    private const int N = 2000;
    private const double Dt = 0.05;
    private RateNetwork net = null!;
    private double[] x = [], input = [], phi = [], dx = [], y = [], j = [];

    [GlobalSetup]
    public void Setup()
    {
        net = new RateNetwork(N, 1.5, Activation.Tanh, 1L);
        j = net.Couplings.ToArray();
        var rng = new Theory.Core.Numerics.Rng(2L);
        x = new double[N];
        for (int i = 0; i < N; i++) x[i] = rng.NextGaussian();
        input = new double[N];
        phi = new double[N];
        dx = new double[N];
        y = new double[N];
    }

    /// <summary>Baseline: y = J x, one pass over the N×N couplings (managed SIMD).</summary>
    [Benchmark(Baseline = true)]
    public void DenseMatVec() => DenseKernels.MatVec(j, N, x, y);

    /// <summary>One forward-Euler step x ← x + dt(−x + g/√N J tanh x).</summary>
    [Benchmark]
    public void EulerStepN2000()
    {
        net.Derivative(x, input, phi, dx);
        for (int i = 0; i < N; i++) x[i] += Dt * dx[i];
    }

    /// <summary>Δ0(g) at g = 1.5 by Brent on the energy condition (default trapezoid rule, 191 nodes).</summary>
    [Benchmark]
    public double Delta0Solve() => ScsStationary.SolveStationaryVariance(1.5).Delta0;

    /// <summary>Δ0(g) at g = 3.</summary>
    [Benchmark]
    public double Delta0SolveG3() => ScsStationary.SolveStationaryVariance(3.0).Delta0;
}

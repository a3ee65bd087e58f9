using BenchmarkDotNet.Attributes;
using Theory.Core.Numerics;
using Theory.Simulation;
using Theory.Simulation.ClosedLoop;

namespace Theory.Bench;

/// <summary>One training epoch of the paper's nonlinear run (Ger &amp; Barak 2025, Figs 1-2): tanh RNN, N = 100, T = 50,
/// batch 100, closed-loop BPTT through the double integrator + clipped SGD step; and the same epoch of the rank-one
/// linear theory model (O(N) fast path). Reference: the same epoch in PyTorch (Debian python3-torch, CPU) takes about
/// 85 ms on the project's machine (issue 4); the target is at least 2x faster.
/// Run: dotnet run -c Release --project bench/Theory.Bench -- --filter '*ClosedLoop*'</summary>
[MemoryDiagnoser]
public class ClosedLoopBench
{
    private RnnController tanhNet = null!;
    private RnnController rankOne = null!;
    private BpttEngine engine = null!;
    private Gradients grads = null!;
    private Optimizer sgdTanh = null!, sgdRankOne = null!;
    private ControlTask nonlinearTask = null!, theoryTask = null!;
    private double[] x0 = [];
    private Rng rng = null!;

    [GlobalSetup]
    public void Setup()
    {
        tanhNet = RnnController.NonlinearInit(100, 0.1, new Rng(1L), Activation.Tanh);
        rankOne = RnnController.RankOneInit(100, new Rng(1L));
        engine = new BpttEngine(100, 2, 50);
        grads = new Gradients(100);
        sgdTanh = new Optimizer(OptimizerKind.Sgd, 1e-2, 1.0);
        sgdRankOne = new Optimizer(OptimizerKind.Sgd, 1e-2, 1.0);
        nonlinearTask = ControlTask.NonlinearDefault();
        theoryTask = ControlTask.TheoryDefault();
        rng = new Rng(2L);
        x0 = ClosedLoopTrainer.InitialStates(rng, 100, 2, 1.0);
    }

    /// <summary>Forward + BPTT + SGD (clip 1) for the tanh network, N = 100, T = 50, batch 100.</summary>
    [Benchmark(Baseline = true)]
    public double TanhEpoch()
    {
        double loss = engine.ForwardClosedLoop(tanhNet, nonlinearTask, x0, 100);
        engine.BackwardClosedLoop(tanhNet, nonlinearTask, 100, grads);
        sgdTanh.Step(new[] { tanhNet.W, tanhNet.M, tanhNet.Z }, new[] { grads.GW, grads.GM, grads.GZ });
        return loss;
    }

    /// <summary>The same epoch for the rank-one linear theory model (W = u vᵀ fast path).</summary>
    [Benchmark]
    public double RankOneEpoch()
    {
        double loss = engine.ForwardClosedLoop(rankOne, theoryTask, x0, 100);
        engine.BackwardClosedLoop(rankOne, theoryTask, 100, grads);
        sgdRankOne.Step(new[] { rankOne.U!, rankOne.V!, rankOne.Z }, new[] { grads.GU, grads.GV, grads.GZ });
        rankOne.SyncW();
        return loss;
    }

    /// <summary>Closed-form cubic roots of the characteristic polynomial (Eq. 9).</summary>
    [Benchmark]
    public double CubicRoots() => Theory.Core.ClosedLoop.Characteristic.Roots(Theory.Core.ClosedLoop.Overlaps.Create(-0.02, 0.1, 0.05, 0.1)).RealRoot;
}

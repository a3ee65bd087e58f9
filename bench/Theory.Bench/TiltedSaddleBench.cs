using BenchmarkDotNet.Attributes;
using Theory.Core.Dmft;

namespace Theory.Bench;

/// <summary>
/// One learned-network saddle-point solve (tanh, sinusoid task) at (g, γ) = (1.5, 1) on a 100-point grid
/// (T = 10, Δt = 0.1), warm-started from the γ = 0 window solution, with the default primal–dual steps.
/// Target (issue 6): under 10 s on 2 cores. Chains S = 1000 and 2000 (the MC floor scales as 1/√S).
/// </summary>
[MemoryDiagnoser]
public class TiltedSaddleBench
{
    [Params(1000, 2000)]
    public int Chains { get; set; }

    private TiltedProblem _problem = null!;
    private TiltedSolverOptions _options = null!;

    [GlobalSetup]
    public void Setup()
    {
        var task = new SinusoidTask(10.0, 0.1, null, true, SiteNonlinearity.Tanh);
        _problem = TiltedProblems.Sinusoid(1.5, 1.0, task);
        var d = TiltedSolverOptions.Default;
        _options = new TiltedSolverOptions(Chains, d.SweepsPerIteration, d.MaxIterations, d.MinIterations, d.Window,
            d.PrimalStep, d.DualStep, d.ReadoutNoise, d.EigenFloor, d.Smoothing, d.ResidualFactor, d.DriftTolerance,
            d.ExactTolerance, d.AdaptiveSteps, d.MaxStepHalvings, 1L, d.Expectation, d.ExactAtZero);
    }

    [Benchmark]
    public double SolveGamma1()
    {
        var r = TiltedSolver.Solve(_problem, _options);
        return r.IsOk ? r.ResultValue.Diagnostics.MeanActivity.Mean : double.NaN;
    }
}

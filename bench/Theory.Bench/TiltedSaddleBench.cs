using BenchmarkDotNet.Attributes;
using Microsoft.FSharp.Core;
using Theory.Core.Dmft;

namespace Theory.Bench;

/// <summary>
/// One learned-network saddle-point solve (tanh, sinusoid task) at (g, γ) = (1.5, 1) on a 100-point grid
/// (T = 10, Δt = 0.1), warm-started from the converged γ = 0.75 solution (continuation step 0.25, as the solver is
/// meant to be used; a cold jump from γ = 0 to 1 on this grid diverges). Default primal–dual steps, S = 1000 chains.
/// Target (issue 6): under 10 s on 2 cores.
/// </summary>
[MemoryDiagnoser]
public class TiltedSaddleBench
{
    private TiltedProblem _problem = null!;
    private TiltedSolverOptions _options = null!;
    private TiltedSolution _warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        var task = new SinusoidTask(10.0, 0.1, FSharpOption<double>.None, true, SiteNonlinearity.Tanh);
        var d = TiltedSolverOptions.Default;
        _options = new TiltedSolverOptions(1000, d.SweepsPerIteration, d.MaxIterations, d.MinIterations, d.Window,
            d.PrimalStep, d.DualStep, d.ReadoutNoise, d.EigenFloor, d.Smoothing, d.ResidualFactor, d.DriftTolerance,
            d.ExactTolerance, d.AdaptiveSteps, d.MaxStepHalvings, 1L, d.Expectation, d.ExactAtZero);
        var (sols, fail) = TiltedSolver.Continue(
            new Func<double, TiltedProblem>(gm => TiltedProblems.Sinusoid(1.5, gm, task)),
            new[] { 0.0, 0.25, 0.5, 0.75 }, _options).ToValueTuple();
        if (fail != null) throw new InvalidOperationException(fail.Value.ToString());
        _warm = Microsoft.FSharp.Collections.ListModule.Last(sols);
        _problem = TiltedProblems.Sinusoid(1.5, 1.0, task);
    }

    [Benchmark]
    public double SolveGamma1()
    {
        var r = TiltedSolver.Solve(_problem, _options, _warm.C, _warm.Lambda, _warm.Chains);
        return r.IsOk ? r.ResultValue.Diagnostics.MeanActivity.Mean : double.NaN;
    }
}

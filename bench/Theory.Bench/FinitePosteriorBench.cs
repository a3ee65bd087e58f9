using BenchmarkDotNet.Attributes;
using Microsoft.FSharp.Core;
using Theory.Core.Dmft;

namespace Theory.Bench;

/// <summary>
/// The finite-N posterior sampler (Clark et al. 2026, Fig. 3; docs/dmft-nonlinear.md): sweeps of elliptical slice
/// updates on the sinusoid task (T = 10, Δt = 0.2, n = 50, g = 1.5, γ = 1, σ = 0.01), and one γ⋆ search with the
/// default posterior criterion at N = 500 (8 samplers, 2 bisections) — the per-g cost of the γ⋆(g) curve
/// (issue 6 target: 9 g values in under 2 minutes on 2 cores).
/// </summary>
[MemoryDiagnoser]
public class FinitePosteriorBench
{
    private static readonly SinusoidTask Task = SinusoidTask.Default.WithDt(0.2);

    [Params(500, 1000)]
    public int N { get; set; }

    /// <summary>A random-network start plus 20 sweeps at γ = 1 (one sampler, one thread).</summary>
    [Benchmark]
    public double TwentySweeps()
    {
        var d = FinitePosteriorOptions.Default;
        var o = new FinitePosteriorOptions(N, d.ProcessNoise, 20, 1L);
        var run = FinitePosterior.Anneal(new Func<double, TiltedProblem>(gm => TiltedProblems.Sinusoid(1.5, gm, Task)),
            new[] { 1.0 }, o, 0L);
        return run[0].Summaries[0];
    }

    /// <summary>γ⋆(1.5) with the posterior criterion (8 samplers of N, 2 bisections; all cores).</summary>
    [Benchmark]
    [IterationCount(1)]
    [WarmupCount(0)]
    public double GammaStarAtG15()
    {
        var d = PhaseBoundaryOptions.Default;
        var o = d.With(Task, GammaStarCriterion.Posterior, 1, 2)
                 .WithSamplers(d.Solver, new FinitePosteriorOptions(N, d.Posterior.ProcessNoise, d.Posterior.Sweeps, 1L));
        var r = TiltedPhaseBoundary.Locate(1.5, o);
        return r.IsOk ? r.ResultValue.GammaStar : double.NaN;
    }
}

using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.PhaseDiagram;

/// <summary>Summary of one (g, γ) grid point over seeds.</summary>
public sealed record PhaseCell
{
    /// <summary>Gain g.</summary>
    public required double G { get; init; }
    /// <summary>Richness γ.</summary>
    public required double Gamma { get; init; }
    /// <summary>Seeds.</summary>
    public required int Seeds { get; init; }
    /// <summary>Seeds classified limit cycle (ordered).</summary>
    public required int LimitCycle { get; init; }
    /// <summary>Seeds classified chaotic.</summary>
    public required int Chaotic { get; init; }
    /// <summary>Seeds classified fixed point.</summary>
    public required int FixedPoint { get; init; }
    /// <summary>Seeds classified other ordered.</summary>
    public required int OtherOrdered { get; init; }
    /// <summary>Fraction ordered f = LimitCycle/Seeds.</summary>
    public double Fraction => (double)LimitCycle / Seeds;
    /// <summary>Binomial standard error √(f(1−f)/n).</summary>
    public double FractionError => Math.Sqrt(Fraction * (1 - Fraction) / Seeds);
    /// <summary>Mean λ̂ over seeds.</summary>
    public required double MeanLyapunov { get; init; }
    /// <summary>Mean lag-T autocorrelation over seeds.</summary>
    public required double MeanLagCorrelation { get; init; }
    /// <summary>Median window fit error over seeds (NaN at γ = 0).</summary>
    public required double MedianFitError { get; init; }
}

/// <summary>γ⋆_sim(g): where the ordered fraction crosses 1/2, with bootstrap error and the 0.1–0.9 band.</summary>
public sealed record GammaStarEstimate
{
    /// <summary>Gain g.</summary>
    public required double G { get; init; }
    /// <summary>γ⋆ (first upward crossing of the level, linear interpolation; the first grid γ when f starts at or above
    /// the level; NaN when f never reaches it).</summary>
    public required double GammaStar { get; init; }
    /// <summary>−1: f(γ₀) ≥ 1/2 already (γ⋆ ≤ first grid value); 0: crossing inside the grid; +1: not reached.</summary>
    public required int Status { get; init; }
    /// <summary>Bootstrap standard deviation of γ⋆ over the resamples with a crossing (NaN when fewer than 2).</summary>
    public required double StdErr { get; init; }
    /// <summary>16th percentile of the bootstrap γ⋆ (resamples without crossing count as +∞).</summary>
    public required double Lower { get; init; }
    /// <summary>84th percentile of the bootstrap γ⋆ (resamples without crossing count as +∞, shown as NaN).</summary>
    public required double Upper { get; init; }
    /// <summary>Fraction of bootstrap resamples with a crossing.</summary>
    public required double BootstrapCrossingFraction { get; init; }
    /// <summary>Transition band: where f first reaches 0.1 …</summary>
    public required double BandLow { get; init; }
    /// <summary>… and where f first reaches 0.9 (NaN when not reached).</summary>
    public required double BandHigh { get; init; }
}

/// <summary>Summaries of a phase-diagram sweep (note §5c): ordered fraction per grid point with its binomial error,
/// γ⋆_sim(g) by linear interpolation where f crosses 1/2, bootstrap error bars by resampling seeds (the same resampled
/// seed set at every γ of a g, since seeds are common random numbers across γ), and the 0.1–0.9 transition band.</summary>
public static class PhaseDiagramAnalysis
{
    /// <summary>Per-(g, γ) summary, sorted by g then γ.</summary>
    public static PhaseCell[] Summarise(IEnumerable<PhaseProbeResult> results) =>
        results.GroupBy(r => (r.G, r.Gamma)).OrderBy(k => k.Key.G).ThenBy(k => k.Key.Gamma).Select(grp =>
        {
            var a = grp.OrderBy(r => r.Seed).ToArray();
            var fits = a.Select(r => r.FitError).Where(double.IsFinite).OrderBy(v => v).ToArray();
            return new PhaseCell
            {
                G = grp.Key.G, Gamma = grp.Key.Gamma, Seeds = a.Length,
                LimitCycle = a.Count(r => r.Measurement.Class == PhaseClass.LimitCycle),
                Chaotic = a.Count(r => r.Measurement.Class == PhaseClass.Chaotic),
                FixedPoint = a.Count(r => r.Measurement.Class == PhaseClass.FixedPoint),
                OtherOrdered = a.Count(r => r.Measurement.Class == PhaseClass.OtherOrdered),
                MeanLyapunov = a.Average(r => r.Measurement.Lyapunov),
                MeanLagCorrelation = a.Average(r => r.Measurement.LagCorrelation),
                MedianFitError = fits.Length == 0 ? double.NaN : fits.Length % 2 == 1 ? fits[fits.Length / 2] : 0.5 * (fits[fits.Length / 2 - 1] + fits[fits.Length / 2]),
            };
        }).ToArray();

    /// <summary>First upward crossing of <paramref name="level"/> by f(γ) on an increasing grid, linearly interpolated
    /// between the last point below and the first point at or above the level. Returns (γ, status): status −1 when
    /// f(γ₀) ≥ level (γ = γ₀), 0 inside, +1 and NaN when never reached.</summary>
    public static (double Gamma, int Status) Crossing(double[] gammas, double[] f, double level)
    {
        if (gammas.Length != f.Length || gammas.Length == 0) throw new ArgumentException("gammas and f must have the same, non-zero length");
        if (f[0] >= level) return (gammas[0], -1);
        for (int i = 1; i < f.Length; i++)
            if (f[i] >= level)
            {
                double t = (level - f[i - 1]) / (f[i] - f[i - 1]);
                return (gammas[i - 1] + t * (gammas[i] - gammas[i - 1]), 0);
            }
        return (double.NaN, 1);
    }

    /// <summary>γ⋆_sim for one g from the per-seed outcomes ordered[γ index][seed index] (true = limit cycle; all γ must
    /// have the same seeds). <paramref name="bootstrap"/> resamples of the seed set (with replacement, generator
    /// <see cref="Rng.ForStream"/>(seed, 0)).</summary>
    public static GammaStarEstimate GammaStar(double g, double[] gammas, bool[][] ordered, int bootstrap, long seed, double level = 0.5,
        double bandLow = 0.1, double bandHigh = 0.9)
    {
        Validate.AtLeast("bootstrap", bootstrap, 0);
        Validate.InRange("level", level, 0.0, 1.0);
        if (ordered.Length != gammas.Length) throw new ArgumentException("one outcome row per gamma is required");
        int s = ordered[0].Length;
        if (s == 0 || ordered.Any(r => r.Length != s)) throw new ArgumentException("every gamma must have the same, non-zero number of seeds");
        double[] Frac(int[] idx) => ordered.Select(row => idx.Average(i => row[i] ? 1.0 : 0.0)).ToArray();
        var all = Enumerable.Range(0, s).ToArray();
        var f = Frac(all);
        var (gs, status) = Crossing(gammas, f, level);
        var rng = Rng.ForStream(seed, 0);
        var boot = new List<double>();
        var idx = new int[s];
        int crossings = 0;
        for (int b = 0; b < bootstrap; b++)
        {
            for (int i = 0; i < s; i++) idx[i] = rng.NextInt(s);
            var (gb, st) = Crossing(gammas, Frac(idx), level);
            if (st != 1) crossings++;
            boot.Add(st == 1 ? double.PositiveInfinity : gb);
        }
        var finite = boot.Where(double.IsFinite).ToArray();
        double sd = double.NaN;
        if (finite.Length >= 2) { double m = finite.Average(); sd = Math.Sqrt(finite.Sum(v => (v - m) * (v - m)) / (finite.Length - 1)); }
        boot.Sort();
        double Pct(double p)
        {
            if (boot.Count == 0) return double.NaN;
            double v = boot[Math.Min(boot.Count - 1, (int)Math.Floor(p * boot.Count))];
            return double.IsFinite(v) ? v : double.NaN;
        }
        return new GammaStarEstimate
        {
            G = g, GammaStar = gs, Status = status, StdErr = sd, Lower = Pct(0.16), Upper = Pct(0.84),
            BootstrapCrossingFraction = bootstrap > 0 ? (double)crossings / bootstrap : double.NaN,
            BandLow = Crossing(gammas, f, bandLow).Gamma, BandHigh = Crossing(gammas, f, bandHigh).Gamma,
        };
    }

    /// <summary>γ⋆_sim for every g of a sweep (seeds common to all γ of a g are used; grid points with missing seeds
    /// use the seeds present everywhere).</summary>
    public static GammaStarEstimate[] GammaStars(IEnumerable<PhaseProbeResult> results, int bootstrap, long seed)
    {
        var list = results.ToArray();
        return list.GroupBy(r => r.G).OrderBy(k => k.Key).Select(grp =>
        {
            var gammas = grp.Select(r => r.Gamma).Distinct().OrderBy(v => v).ToArray();
            var seeds = grp.GroupBy(r => r.Seed).Where(sg => sg.Select(r => r.Gamma).Distinct().Count() == gammas.Length)
                .Select(sg => sg.Key).OrderBy(v => v).ToArray();
            if (seeds.Length == 0) throw new ArgumentException($"g = {grp.Key}: no seed present at every gamma");
            var map = grp.ToDictionary(r => (r.Gamma, r.Seed));
            var ordered = gammas.Select(gm => seeds.Select(sd => map[(gm, sd)].Ordered).ToArray()).ToArray();
            return GammaStar(grp.Key, gammas, ordered, bootstrap, seed);
        }).ToArray();
    }
}

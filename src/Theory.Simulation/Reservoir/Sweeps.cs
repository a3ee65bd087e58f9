using Theory.Core;
using Theory.Core.Io;
using Theory.Core.MeanField;
using Theory.Core.Numerics;

namespace Theory.Simulation.Reservoir;

/// <summary>What is measured on every network of a sweep. Defaults follow research note A8 ([reconstructed] unless
/// the paper fixes them).</summary>
public sealed record MeasureOptions
{
    /// <summary>Discarded steps of the free run (default 1000).</summary>
    public int Transient { get; init; } = 1000;
    /// <summary>Recorded steps of the free run (default 1000).</summary>
    public int Steps { get; init; } = 1000;
    /// <summary>Second correlation lag (the first is always 1) (default 2).</summary>
    public int SecondLag { get; init; } = 2;
    /// <summary>Bias standard deviation σ_β (default 0.01).</summary>
    public double BiasSd { get; init; } = 0.01;
    /// <summary>Estimate the maximal Lyapunov exponent (tangent method) of the free run (default true). When false the
    /// exponent is reported as 0 and the regime classifier cannot return "chaotic" (active irregular runs become other-periodic).</summary>
    public bool Lyapunov { get; init; } = true;
    /// <summary>Run the sequence-generation task (default true). When false, A and the driven F, C1, N are reported as 0.</summary>
    public bool Task { get; init; } = true;
    /// <summary>Task settings.</summary>
    public SequenceTaskOptions TaskOptions { get; init; } = new();
    /// <summary>Nonlinearity cut points (default 1/3, 2/3).</summary>
    public double NonlinearityLower { get; init; } = 1.0 / 3.0;
    /// <summary>Upper cut point.</summary>
    public double NonlinearityUpper { get; init; } = 2.0 / 3.0;
    /// <summary>Regime classification: activity threshold on mean |y| (default 0.1).</summary>
    public double ActivityThreshold { get; init; } = 0.1;
}

/// <summary>Measures of one network.</summary>
public sealed record NetworkMeasures(double Fluctuation, double Correlation1, double Correlation2, double Nonlinearity,
    double Lyapunov, Regime Regime, double Accuracy, double DrivenFluctuation, double DrivenCorrelation1, double DrivenNonlinearity,
    StructureStatistics Structure);

/// <summary>Ensemble summary at one parameter point: means and standard deviations of the measures, regime fractions.</summary>
public sealed class PointSummary
{
    /// <summary>Names of the summarised quantities, in CSV order.</summary>
    public static readonly string[] Quantities =
    { "F", "C1", "C2", "N", "lyapunov", "A", "F_driven", "C1_driven", "N_driven", "D", "B", "H", "R" };

    internal PointSummary(double x, double y, NetworkMeasures[] members)
    {
        X = x; Y = y; Members = members;
        var cols = members.Select(Row).ToArray();
        Mean = new double[Quantities.Length]; Sd = new double[Quantities.Length];
        for (int q = 0; q < Quantities.Length; q++)
        {
            double m = cols.Average(r => r[q]);
            Mean[q] = m;
            Sd[q] = cols.Length > 1 ? Math.Sqrt(cols.Sum(r => (r[q] - m) * (r[q] - m)) / (cols.Length - 1)) : 0.0;
        }
        RegimeFractions = new double[5];
        foreach (var mm in members) RegimeFractions[(int)mm.Regime] += 1.0 / members.Length;
    }

    private static double[] Row(NetworkMeasures m) => new[]
    {
        m.Fluctuation, m.Correlation1, m.Correlation2, m.Nonlinearity, m.Lyapunov, m.Accuracy,
        m.DrivenFluctuation, m.DrivenCorrelation1, m.DrivenNonlinearity,
        m.Structure.Density, m.Structure.Balance, m.Structure.Homogeneity, m.Structure.Reciprocity,
    };

    /// <summary>First coordinate (b in a phase diagram, the regularity value in a scan).</summary>
    public double X { get; }
    /// <summary>Second coordinate (w in a phase diagram, the balance in a scan).</summary>
    public double Y { get; }
    /// <summary>Per-network measures.</summary>
    public NetworkMeasures[] Members { get; }
    /// <summary>Ensemble means, in <see cref="Quantities"/> order.</summary>
    public double[] Mean { get; }
    /// <summary>Ensemble standard deviations (ddof 1).</summary>
    public double[] Sd { get; }
    /// <summary>Fractions of networks per <see cref="Regime"/> (index = enum value).</summary>
    public double[] RegimeFractions { get; }

    /// <summary>Mean of a named quantity.</summary>
    public double MeanOf(string quantity) => Mean[Array.IndexOf(Quantities, quantity)];

    /// <summary>The majority regime.</summary>
    public Regime MajorityRegime
    {
        get { int best = 0; for (int k = 1; k < 5; k++) if (RegimeFractions[k] > RegimeFractions[best]) best = k; return (Regime)best; }
    }
}

/// <summary>Results of a sweep: one summary per point, in row-major order of (X, Y).</summary>
public sealed class SweepResult
{
    internal SweepResult(string xName, string yName, double[] xs, double[] ys, PointSummary[] points, IReadOnlyList<(string, string)> metadata)
    { XName = xName; YName = yName; Xs = xs; Ys = ys; Points = points; Metadata = metadata; }
    /// <summary>Name of the first coordinate.</summary>
    public string XName { get; }
    /// <summary>Name of the second coordinate.</summary>
    public string YName { get; }
    /// <summary>First-coordinate grid.</summary>
    public double[] Xs { get; }
    /// <summary>Second-coordinate grid.</summary>
    public double[] Ys { get; }
    /// <summary>Summaries, index = ix·Ys.Length + iy.</summary>
    public PointSummary[] Points { get; }
    /// <summary>Parameters, seeds, settings (written as CSV metadata).</summary>
    public IReadOnlyList<(string Key, string Value)> Metadata { get; }
    /// <summary>The point at (ix, iy).</summary>
    public PointSummary At(int ix, int iy) => Points[ix * Ys.Length + iy];

    /// <summary>Mean of a quantity as a [ix, iy] array.</summary>
    public double[,] Map(string quantity)
    {
        var a = new double[Xs.Length, Ys.Length];
        for (int i = 0; i < Xs.Length; i++) for (int j = 0; j < Ys.Length; j++) a[i, j] = At(i, j).MeanOf(quantity);
        return a;
    }

    /// <summary>Writes one CSV row per point: coordinates, mean and sd of every quantity, regime fractions.</summary>
    public void WriteCsv(string path)
    {
        var header = new List<string> { XName, YName };
        foreach (var q in PointSummary.Quantities) { header.Add(q + "_mean"); header.Add(q + "_sd"); }
        header.AddRange(new[] { "frac_quiescent", "frac_fixpoint", "frac_oscillatory", "frac_chaotic", "frac_other", "networks" });
        var rows = Points.Select(p =>
        {
            var r = new List<double> { p.X, p.Y };
            for (int q = 0; q < PointSummary.Quantities.Length; q++) { r.Add(p.Mean[q]); r.Add(p.Sd[q]); }
            r.AddRange(p.RegimeFractions);
            r.Add(p.Members.Length);
            return r.ToArray();
        });
        Csv.WriteMeasured(path, Metadata.Select(kv => Tuple.Create(kv.Key, kv.Value)), header.ToArray(), rows);
    }
}

/// <summary>Parameter sweeps of Metzner et al. (2025): phase diagrams over (b, w) for any regularity setting and
/// one-parameter regularity scans, with an ensemble of matrices per point, parallel over cores
/// (<see cref="Ensemble.Run"/>). Network k of every point uses the seed stream (seed, k) — the same ensemble seeds at
/// every point (common random numbers), so maps are smooth and results do not depend on the thread count.</summary>
public static class Sweeps
{
    /// <summary>Seed of ensemble member k.</summary>
    public static long MemberSeed(long seed, int member) => (long)(Rng.ForStream(seed, member).NextUInt64() >> 1);

    /// <summary>Generates the matrix and measures one network: free run (F, C(1), C(lag2), N, λ, regime) from network
    /// stream (memberSeed, 1), task from seed of stream (memberSeed, 2).</summary>
    public static NetworkMeasures Measure(WeightMatrixSpec spec, MeasureOptions o, long memberSeed)
    {
        ArgumentNullException.ThrowIfNull(spec); ArgumentNullException.ThrowIfNull(o);
        Validate.AtLeast("transient", o.Transient, 0); Validate.AtLeast("steps", o.Steps, 3);
        Validate.AtLeast("lag2", o.SecondLag, 0);
        if (o.SecondLag >= o.Steps) throw new ParameterOutOfDomainException("lag2", o.SecondLag.ToString(System.Globalization.CultureInfo.InvariantCulture), "< steps");
        var matrix = WeightMatrixGenerator.Generate(spec, memberSeed);
        var rng = Rng.ForStream(memberSeed, 1);
        var net = DiscreteNetwork.Create(matrix, new NetworkOptions { BiasSd = o.BiasSd }, rng);
        var run = net.RunFree(net.InitialState(rng), o.Transient, o.Steps, o.Lyapunov);
        int n = matrix.N;
        double lyap = run.Lyapunov ?? 0.0;
        var regime = DynamicalMeasures.Classify(run.States, n, run.Lyapunov, o.ActivityThreshold);
        double acc = 0, df = 0, dc = 0, dn = 0;
        if (o.Task)
        {
            var t = SequenceGenerationTask.Run(matrix, o.TaskOptions, (long)(Rng.ForStream(memberSeed, 2).NextUInt64() >> 1));
            acc = t.Accuracy; df = t.DrivenFluctuation; dc = t.DrivenCorrelation1; dn = t.DrivenNonlinearity;
        }
        return new NetworkMeasures(
            DynamicalMeasures.Fluctuation(run.States, n),
            DynamicalMeasures.Correlation(run.States, n, 1),
            DynamicalMeasures.Correlation(run.States, n, o.SecondLag),
            DynamicalMeasures.Nonlinearity(run.States, o.NonlinearityLower, o.NonlinearityUpper),
            lyap, regime, acc, df, dc, dn, StructureStatistics.Of(matrix));
    }

    private static List<(string, string)> Meta(WeightMatrixSpec s, MeasureOptions o, int ensemble, long seed, string kind)
    {
        string F(double x) => x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return new List<(string, string)>
        {
            ("sweep", kind), ("N", s.N.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("w", F(s.Width)), ("d", F(s.Density)), ("b", F(s.Balance)),
            ("h", F(s.Homogeneity)), ("r", F(s.Reciprocity)), ("m", F(s.Modularity)), ("blockSize", s.BlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("f", F(s.StrongProbability)), ("weakScaling", s.WeakScaling.ToString()), ("ensemble", ensemble.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("transient", o.Transient.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("steps", o.Steps.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("lag2", o.SecondLag.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("biasSd", F(o.BiasSd)), ("task", o.Task.ToString()), ("lyapunov", o.Lyapunov.ToString()),
            ("taskClasses", o.TaskOptions.Classes.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("taskTin", o.TaskOptions.InputLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ("taskTout", o.TaskOptions.OutputLength.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
    }

    /// <summary>Generic two-coordinate sweep: <paramref name="specAt"/>(x, y) gives the spec at a point.</summary>
    public static SweepResult Run(string xName, string yName, double[] xs, double[] ys, Func<double, double, WeightMatrixSpec> specAt,
        int ensemble, MeasureOptions options, long seed, IReadOnlyList<(string, string)> metadata, int maxDegreeOfParallelism = -1,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(xs); ArgumentNullException.ThrowIfNull(ys); ArgumentNullException.ThrowIfNull(specAt); ArgumentNullException.ThrowIfNull(options);
        Validate.PositiveInt("ensemble", ensemble);
        if (xs.Length == 0 || ys.Length == 0) throw new ParameterOutOfDomainException("grid", "empty", "at least one value per axis");
        int points = xs.Length * ys.Length;
        // validate every spec up front so bad input fails before any work
        var specs = new WeightMatrixSpec[points];
        for (int i = 0; i < xs.Length; i++) for (int j = 0; j < ys.Length; j++) specs[i * ys.Length + j] = specAt(xs[i], ys[j]).Validated();
        int done = 0;
        var all = Ensemble.Run(points * ensemble, idx =>
        {
            int p = idx / ensemble, k = idx % ensemble;
            var r = Measure(specs[p], options, MemberSeed(seed, k));
            if (progress is not null) { int d = Interlocked.Increment(ref done); progress(d, points * ensemble); }
            return r;
        }, maxDegreeOfParallelism);
        var summaries = new PointSummary[points];
        for (int p = 0; p < points; p++)
            summaries[p] = new PointSummary(xs[p / ys.Length], ys[p % ys.Length], all.Skip(p * ensemble).Take(ensemble).ToArray());
        return new SweepResult(xName, yName, xs, ys, summaries, metadata);
    }

    /// <summary>Phase diagram over (b, w) for the regularity setting of <paramref name="baseSpec"/> (its b and w are replaced).</summary>
    public static SweepResult PhaseDiagram(WeightMatrixSpec baseSpec, double[] bs, double[] ws, int ensemble, MeasureOptions options, long seed,
        int maxDegreeOfParallelism = -1, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(baseSpec); ArgumentNullException.ThrowIfNull(options);
        return Run("b", "w", bs, ws, (b, w) => baseSpec with { Balance = b, Width = w }, ensemble, options, seed,
            Meta(baseSpec, options, ensemble, seed, "phase-diagram"), maxDegreeOfParallelism, progress);
    }

    /// <summary>One-parameter regularity scan: <paramref name="parameter"/> ∈ {"h", "r", "m"} over <paramref name="values"/>,
    /// at each balance in <paramref name="balances"/>, the others at zero (paper §3.7) and w from the base spec.</summary>
    public static SweepResult Scan(WeightMatrixSpec baseSpec, string parameter, double[] values, double[] balances, int ensemble,
        MeasureOptions options, long seed, int maxDegreeOfParallelism = -1, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(baseSpec); ArgumentNullException.ThrowIfNull(options);
        Func<double, double, WeightMatrixSpec> at = parameter switch
        {
            "h" => (v, b) => baseSpec with { Homogeneity = v, Reciprocity = 0, Modularity = 0, Balance = b },
            "r" => (v, b) => baseSpec with { Homogeneity = 0, Reciprocity = v, Modularity = 0, Balance = b },
            "m" => (v, b) => baseSpec with { Homogeneity = 0, Reciprocity = 0, Modularity = v, Balance = b },
            _ => throw new ParameterOutOfDomainException("parameter", parameter, "h, r or m"),
        };
        return Run(parameter, "b", values, balances, at, ensemble, options, seed,
            Meta(baseSpec, options, ensemble, seed, "scan-" + parameter), maxDegreeOfParallelism, progress);
    }
}

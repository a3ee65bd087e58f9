using System.Globalization;
using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.PhaseDiagram;

/// <summary>A (g, γ) grid × seeds sweep of <see cref="PhaseProbe"/>.</summary>
public sealed record PhaseSweepSpec
{
    /// <summary>Gains g (each ≥ 0).</summary>
    public required double[] Gs { get; init; }
    /// <summary>Richness values γ (each ≥ 0, strictly increasing).</summary>
    public required double[] Gammas { get; init; }
    /// <summary>Seeds per grid point; seed indices BaseSeed … BaseSeed + Seeds − 1.</summary>
    public required int Seeds { get; init; }
    /// <summary>First seed. Default 1.</summary>
    public long BaseSeed { get; init; } = 1;
    /// <summary>Probe options.</summary>
    public PhaseProbeOptions Probe { get; init; } = new();
    /// <summary>Concurrent probes (−1 = one per core, Environment.ProcessorCount). Default −1.</summary>
    public int MaxDegreeOfParallelism { get; init; } = -1;

    /// <summary>Checks the grid and the probe options (ParameterOutOfDomainException naming the parameter).</summary>
    public PhaseSweepSpec Validate()
    {
        if (Gs.Length == 0) throw new ParameterOutOfDomainException("g", "(empty)", "at least one value");
        if (Gammas.Length == 0) throw new ParameterOutOfDomainException("gamma", "(empty)", "at least one value");
        foreach (var g in Gs) Theory.Core.Validate.NonNegative("g", g);
        foreach (var gm in Gammas) Theory.Core.Validate.NonNegative("gamma", gm);
        for (int i = 1; i < Gammas.Length; i++)
            if (!(Gammas[i] > Gammas[i - 1]))
                throw new ParameterOutOfDomainException("gamma", string.Join(",", Gammas.Select(PhaseProbeOptions.F)), "strictly increasing values");
        if (Gs.Distinct().Count() != Gs.Length)
            throw new ParameterOutOfDomainException("g", string.Join(",", Gs.Select(PhaseProbeOptions.F)), "distinct values");
        Theory.Core.Validate.AtLeast("seeds", Seeds, 1);
        if (MaxDegreeOfParallelism == 0 || MaxDegreeOfParallelism < -1)
            throw new ParameterOutOfDomainException("threads", MaxDegreeOfParallelism.ToString(CultureInfo.InvariantCulture), "-1 (all cores) or >= 1");
        Probe.Validate();
        return this;
    }
}

/// <summary>Runs a phase-diagram sweep in parallel over the (g, γ, seed) tasks, appending one CSV row per task as it
/// completes (flushed, so an interrupted sweep loses at most the tasks in flight); with resume, rows already in the file
/// are read back and skipped. At the end the file is rewritten in deterministic order (g, γ, seed). The header carries
/// the library version and the probe parameters; resuming with different probe parameters is refused.</summary>
public static class PhaseSweep
{
    /// <summary>CSV columns of the per-seed rows.</summary>
    public static readonly string[] Columns =
    {
        "g", "gamma", "seed", "class", "fitError", "lyapunov", "lyapunovStdErr", "lyapunovTolerance", "lagCorrelation",
        "dominantPeriod", "amplitude", "seconds",
    };

    /// <summary>Runs (or resumes) the sweep; returns every result in (g, γ, seed) order. <paramref name="csvPath"/> may be
    /// null (no file). Without <paramref name="resume"/> an existing file is overwritten.</summary>
    public static PhaseProbeResult[] Run(PhaseSweepSpec spec, string? csvPath, bool resume, Action<string>? progress = null)
    {
        spec.Validate();
        var probe = new PhaseProbe(spec.Probe);
        var header = HeaderLines(spec.Probe);
        var done = new Dictionary<(double, double, long), PhaseProbeResult>();
        if (csvPath != null && resume && File.Exists(csvPath))
        {
            var (meta, rows) = Read(csvPath);
            var expected = header.Where(l => l.StartsWith("# probe.", StringComparison.Ordinal)).ToArray();
            var found = meta.Where(l => l.StartsWith("# probe.", StringComparison.Ordinal)).ToArray();
            if (!expected.SequenceEqual(found))
            {
                var diff = expected.Except(found).Concat(found.Except(expected)).Take(2);
                throw new ArgumentException($"cannot resume {csvPath}: probe parameters differ from the existing file ({string.Join("; ", diff)})");
            }
            foreach (var r in rows) done[(r.G, r.Gamma, r.Seed)] = r;
        }
        var tasks = new List<(double G, double Gamma, long Seed)>();
        foreach (var g in spec.Gs)
            foreach (var gm in spec.Gammas)
                for (int s = 0; s < spec.Seeds; s++)
                    tasks.Add((g, gm, spec.BaseSeed + s));
        var pending = tasks.Where(t => !done.ContainsKey(t)).ToArray();
        progress?.Invoke($"phase-diagram: {tasks.Count} tasks, {tasks.Count - pending.Length} already done, {pending.Length} to run");
        StreamWriter? writer = null;
        if (csvPath != null)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(csvPath));
            if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
            bool append = resume && File.Exists(csvPath);
            bool needsNewline = append && EndsWithoutNewline(csvPath);
            writer = new StreamWriter(csvPath, append);
            if (needsNewline) writer.WriteLine();
            if (!append) { foreach (var l in header) writer.WriteLine(l); writer.WriteLine(string.Join(",", Columns)); writer.Flush(); }
        }
        var gate = new object();
        int completed = 0;
        try
        {
            var results = new PhaseProbeResult[pending.Length];
            // At most one probe per core: the default Parallel.For lets the thread pool grow beyond the core count when
            // the probes' own kernels block, which oversubscribes the machine and inflates the per-probe timings.
            int dop = spec.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : spec.MaxDegreeOfParallelism;
            Parallel.For(0, pending.Length, new ParallelOptions { MaxDegreeOfParallelism = dop }, i =>
            {
                var t = pending[i];
                var r = probe.Run(t.G, t.Gamma, t.Seed);
                results[i] = r;
                lock (gate)
                {
                    writer?.WriteLine(FormatRow(r));
                    writer?.Flush();
                    completed++;
                    progress?.Invoke($"  [{completed}/{pending.Length}] g = {PhaseProbeOptions.F(t.G)}, gamma = {PhaseProbeOptions.F(t.Gamma)}, seed {t.Seed}: " +
                        $"{r.Measurement.Class}, lambda = {r.Measurement.Lyapunov:G3} ± {r.Measurement.LyapunovStdErr:G2}, rho(T) = {r.Measurement.LagCorrelation:F3}, fit {r.FitError:G3}, {r.Seconds:F1} s");
                }
            });
            foreach (var r in results) done[(r.G, r.Gamma, r.Seed)] = r;
        }
        finally
        {
            writer?.Dispose();
        }
        var ordered = tasks.Select(t => done[t]).ToArray();
        if (csvPath != null)
        {
            // Rewrite in deterministic order (rows of other grid points from a previous run are kept, sorted).
            WriteCsv(csvPath, header, done.Values);
        }
        return ordered;
    }

    /// <summary>The comment header: library version, then "# probe.key=value" lines.</summary>
    public static string[] HeaderLines(PhaseProbeOptions probe) =>
        new[] { $"# theory {LibraryInfo.Version}", "# command=simulate phase-diagram",
                "# classes=0 chaotic, 1 limit cycle (period ~T, ordered), 2 fixed point, 3 other ordered", "# empty cell = unmeasured" }
            .Concat(probe.Describe().Select(p => $"# probe.{p.Key}={p.Value}")).ToArray();

    /// <summary>Writes a whole sweep CSV (comment header, column line, the rows sorted by g, γ, seed) through a temporary
    /// file and a rename: the final file of <see cref="Run"/>, and the merge of sharded sweeps.</summary>
    public static void WriteCsv(string path, IEnumerable<string> header, IEnumerable<PhaseProbeResult> rows)
    {
        ArgumentNullException.ThrowIfNull(header); ArgumentNullException.ThrowIfNull(rows);
        var tmp = path + ".tmp";
        using (var w = new StreamWriter(tmp, false))
        {
            foreach (var l in header) w.WriteLine(l);
            w.WriteLine(string.Join(",", Columns));
            foreach (var r in rows.OrderBy(r => r.G).ThenBy(r => r.Gamma).ThenBy(r => r.Seed)) w.WriteLine(FormatRow(r));
        }
        File.Move(tmp, path, true);
    }

    /// <summary>One CSV row (round-trip formatting).</summary>
    public static string FormatRow(PhaseProbeResult r)
    {
        // An unmeasured value (e.g. no dominant period) is an empty cell, never "NaN" (the Csv.WriteMeasured convention).
        static string Cell(double x) => double.IsFinite(x) ? F(x) : "";
        var m = r.Measurement;
        return string.Join(",", new[]
        {
            F(r.G), F(r.Gamma), r.Seed.ToString(CultureInfo.InvariantCulture), ((int)m.Class).ToString(CultureInfo.InvariantCulture),
            Cell(r.FitError), Cell(m.Lyapunov), Cell(m.LyapunovStdErr), Cell(m.LyapunovTolerance), Cell(m.LagCorrelation), Cell(m.DominantPeriod),
            Cell(m.Amplitude), Cell(r.Seconds),
        });
    }

    /// <summary>Reads a sweep CSV: the comment lines and the rows (a truncated last line from an interrupted write is
    /// ignored).</summary>
    public static (string[] Meta, PhaseProbeResult[] Rows) Read(string path)
    {
        var meta = new List<string>();
        var rows = new List<PhaseProbeResult>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('#')) { meta.Add(line); continue; }
            if (line.Length == 0 || line.StartsWith("g,", StringComparison.Ordinal)) continue;
            var f = line.Split(',');
            if (f.Length != Columns.Length) continue;
            double P(int i) => f[i].Length == 0 ? double.NaN : double.Parse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture);
            try
            {
                rows.Add(new PhaseProbeResult
                {
                    G = P(0), Gamma = P(1), Seed = long.Parse(f[2], CultureInfo.InvariantCulture), FitError = P(4), Seconds = P(11),
                    Measurement = new AutonomousMeasurement
                    {
                        Class = (PhaseClass)int.Parse(f[3], CultureInfo.InvariantCulture), Lyapunov = P(5), LyapunovStdErr = P(6),
                        LyapunovTolerance = P(7), LagCorrelation = P(8), DominantPeriod = P(9), Amplitude = P(10),
                    },
                });
            }
            catch (FormatException) { /* partial line of an interrupted run */ }
        }
        return (meta.ToArray(), rows.ToArray());
    }

    private static bool EndsWithoutNewline(string path)
    {
        using var fs = File.OpenRead(path);
        if (fs.Length == 0) return false;
        fs.Seek(-1, SeekOrigin.End);
        return fs.ReadByte() != '\n';
    }

    private static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}

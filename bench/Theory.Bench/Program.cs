using BenchmarkDotNet.Running;

namespace Theory.Bench;

/// <summary>Entry point: `dotnet run -c Release --project bench/Theory.Bench -- --filter '*'` (not run in CI).</summary>
public static class Program
{
    public static void Main(string[] args)
    {
        // `-- --quick-bptt`: stopwatch median of 15 BPTT gradients (a quick side-by-side with bench/torch_bptt.py).
        if (args.Length > 0 && args[0] == "--quick-bptt")
        {
            var b = new TrainingBench { N = 400, Steps = 200, Batch = 8 };
            b.Setup();
            b.BpttGradient();
            var times = new List<double>();
            for (int i = 0; i < 15; i++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                b.BpttGradient();
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            Console.WriteLine($"theory BPTT gradient N=400 T=200 B=8: median {times[7]:F1} ms, min {times[0]:F1} ms");
            return;
        }
        // `-- --quick-rate-step`: stopwatch medians of the Euler step (a fast side-by-side with numpy_rate_step.py).
        if (args.Length > 0 && args[0] == "--quick-rate-step")
        {
            foreach (var backend in new[] { Theory.Core.Numerics.DenseBackend.Managed, Theory.Core.Numerics.DenseBackend.OpenBlas })
            {
                if (backend == Theory.Core.Numerics.DenseBackend.OpenBlas && !Theory.Core.Numerics.DenseKernels.OpenBlasAvailable) continue;
                foreach (int n in new[] { 500, 2000, 4000 })
                {
                    var b = new RateStepBench { N = n, Backend = backend };
                    b.Setup();
                    int reps = Math.Max(20, (int)(2e9 / (8.0 * n * n)));
                    double Median(Action step)
                    {
                        // warm up for 0.5 s so that the timed code is the JIT's tier-1 code, not tier 0
                        var warm = System.Diagnostics.Stopwatch.StartNew();
                        while (warm.ElapsedMilliseconds < 500) step();
                        var t = new List<double>();
                        for (int k = 0; k < 7; k++)
                        {
                            var sw = System.Diagnostics.Stopwatch.StartNew();
                            for (int i = 0; i < reps; i++) step();
                            t.Add(sw.Elapsed.TotalMilliseconds / reps);
                        }
                        t.Sort();
                        return t[3];
                    }
                    double single = Median(b.EulerStep), batch = Median(b.EulerStepBatch16);
                    Console.WriteLine($"{backend} N={n}: step {single:F4} ms, batch16 {batch:F4} ms");
                    b.Cleanup();
                }
            }
            return;
        }
        // `-- --quick-phase-diagram`: stopwatch median of 3 runs of the 4410 free runs (side by side with numpy_phase_diagram.py).
        if (args.Length > 0 && args[0] == "--quick-phase-diagram")
        {
            var b = new PhaseDiagramFreeRunBench();
            b.Setup();
            b.FreeRun4410();
            var times = new List<double>();
            double f = 0;
            for (int i = 0; i < 3; i++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                f = b.FreeRun4410();
                times.Add(sw.Elapsed.TotalSeconds);
            }
            times.Sort();
            Console.WriteLine($"theory free runs: {b.Networks} networks, median {times[1]:F3} s (mean fluctuation {f:F4})");
            return;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

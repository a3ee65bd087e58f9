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
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}

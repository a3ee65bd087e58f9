using BenchmarkDotNet.Running;

namespace Theory.Bench;

/// <summary>Entry point: `dotnet run -c Release --project bench/Theory.Bench -- --filter '*'` (not run in CI).</summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}

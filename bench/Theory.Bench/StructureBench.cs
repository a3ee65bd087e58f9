using BenchmarkDotNet.Attributes;
using Theory.Core.Dmft;
using Theory.Core.Numerics;
using Theory.Core.RandomMatrix;

namespace Theory.Bench;

/// <summary>Seeded inputs shared by the structure benchmarks (issue 16 item 6; every draw from an explicit seed).</summary>
internal static class StructureInputs
{
    /// <summary>An m × p matrix of N(0, 1) draws from Rng.ForStream(seed, stream).</summary>
    public static double[,] Gaussian(int m, int p, long seed, long stream)
    {
        var rng = Rng.ForStream(seed, stream);
        var x = new double[m, p];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < p; j++)
                x[i, j] = rng.NextGaussian();
        return x;
    }

    /// <summary>
    /// Rates of a smooth population response (points × neurons): tanh of a random combination of slow and fast sines
    /// plus noise, so that the kernel has the low-rank-plus-noise shape of a network window kernel.
    /// </summary>
    public static double[,] Rates(int points, int neurons, double mix, long seed, long stream)
    {
        var rng = Rng.ForStream(seed, stream);
        var r = new double[points, neurons];
        for (int i = 0; i < neurons; i++)
        {
            double a = rng.NextGaussian(), b = rng.NextGaussian(), ph = 2 * Math.PI * rng.NextDouble();
            for (int k = 0; k < points; k++)
            {
                double t = 10.0 * k / points;
                r[k, i] = Math.Tanh(a * Math.Sin(2 * Math.PI * t / 10.0 + ph) + mix * b * Math.Sin(2 * Math.PI * t / 2.5) + 0.3 * rng.NextGaussian());
            }
        }
        return r;
    }

    /// <summary>The window kernel K = φφᵀ/N (points × points) of rates (points × neurons).</summary>
    public static double[,] Kernel(double[,] rates) => KernelAlignment.KernelOfRates(rates);

    /// <summary>Rates φ_i on n points, one array per neuron (the layout of RepresentationalDrift).</summary>
    public static double[][] RatesPerNeuron(int neurons, int points, long seed, long stream)
    {
        var rng = Rng.ForStream(seed, stream);
        var phi = new double[neurons][];
        for (int i = 0; i < neurons; i++)
        {
            phi[i] = new double[points];
            double a = rng.NextGaussian(), ph = 2 * Math.PI * rng.NextDouble();
            for (int k = 0; k < points; k++)
                phi[i][k] = Math.Tanh(a * Math.Sin(2 * Math.PI * k / points + ph) + 0.3 * rng.NextGaussian());
        }
        return phi;
    }
}

/// <summary>
/// Linear centred CKA between two window kernels (Cka.OfKernels, Cka.Center; docs/dmft-structure.md): the cost of one
/// comparison of a network kernel with a DMFT kernel C(t, t') on n = 50, 100, 200 points — the inner loop of the
/// γ estimator (one call per grid point of its γ profile) and of the CKA paper-check tables. O(n²) with a centring pass.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class CkaBench
{
    private double[,] _k = null!;
    private double[,] _l = null!;

    [Params(50, 100, 200)]
    public int Points { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _k = StructureInputs.Kernel(StructureInputs.Rates(Points, 500, 0.5, 1L, 16001L));
        _l = StructureInputs.Kernel(StructureInputs.Rates(Points, 500, 1.0, 1L, 16002L));
    }

    /// <summary>CKA(K, L) of two n × n kernels (centring both included).</summary>
    [Benchmark]
    public double OfKernels() => Cka.OfKernels(_k, _l);

    /// <summary>HKH of one n × n kernel.</summary>
    [Benchmark]
    public double Center() => Cka.Center(_k)[0, 0];
}

/// <summary>
/// Linear CKA of two representations (samples × features, Cka.OfFeatures = two Gram matrices XXᵀ, YYᵀ then CKA of the
/// kernels): the scaling with the number of points n = 50, 100, 200 and of neurons P = 100, 1000 — the comparison of
/// two recorded populations (network vs network, or network vs data) without a DMFT kernel. O(n²P).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class CkaFeaturesBench
{
    private double[,] _x = null!;
    private double[,] _y = null!;

    [Params(50, 100, 200)]
    public int Points { get; set; }

    [Params(100, 1000)]
    public int Neurons { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _x = StructureInputs.Rates(Points, Neurons, 0.5, 2L, 16003L);
        _y = StructureInputs.Rates(Points, Neurons, 1.0, 2L, 16004L);
    }

    /// <summary>CKA(X, Y) of two n × P representations.</summary>
    [Benchmark]
    public double OfFeatures() => Cka.OfFeatures(_x, _y);
}

/// <summary>
/// The kernel-alignment γ estimator (KernelAlignment; docs/dmft-structure.md): γ̂ = argmax_γ CKA(K, C(γ)) against 5
/// reference kernels interpolated with 20 subdivisions per interval (81 CKA evaluations), on n = 50 and 100 points, and
/// the same with a 20-resample bootstrap over N = 200 neurons (EstimateFromRates: 21 estimates and 21 window kernels).
/// The reference kernels are window kernels of seeded synthetic rates, not DMFT solutions: the cost does not depend on
/// the kernels' values.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class KernelAlignmentBench
{
    private const int Neurons = 200;
    private Tuple<double, double[,]>[] _references = null!;
    private double[,] _rates = null!;
    private double[,] _kernel = null!;

    [Params(50, 100)]
    public int Points { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _references = new Tuple<double, double[,]>[5];
        for (int j = 0; j < 5; j++)
            _references[j] = Tuple.Create(0.5 * j, StructureInputs.Kernel(StructureInputs.Rates(Points, 1000, 0.4 * j, 3L, 16010L + j)));
        _rates = StructureInputs.Rates(Points, Neurons, 0.7, 3L, 16020L);
        _kernel = StructureInputs.Kernel(_rates);
    }

    /// <summary>γ̂ of one window kernel (81 CKA evaluations).</summary>
    [Benchmark]
    public double Estimate() => KernelAlignment.Estimate(_kernel, _references, 20).Gamma;

    /// <summary>γ̂ with a 20-resample bootstrap over the 200 neurons (seed 1).</summary>
    [Benchmark]
    public double EstimateFromRates20() => KernelAlignment.EstimateFromRates(_rates, _references, 20, 20, 1L).StdDev;
}

/// <summary>
/// The outlier spectrum of a trained coupling matrix (OutlierSpectrum; docs/dmft-structure.md): all eigenvalues of an
/// N × N matrix J = X + P (MathNet's managed nonsymmetric EVD, eigenvalues only) and the outliers |λ| &gt; g(1 + 2/√N),
/// for N = 200, 500, 1000. X has i.i.d. N(0, g²/N) entries (g = 1.5, bulk radius g) and P = Σ_{r=1}^{3} θ_r u_r v_rᵀ
/// a rank-3 perturbation with unit-norm Gaussian u_r, v_r and θ = 3, 2.5, 2 (outliers outside the bulk). The EVD is
/// O(N³) and dominates; the outlier filter is O(N).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Monitoring, iterationCount: 2, warmupCount: 0)]
public class OutlierSpectrumBench
{
    private const double G = 1.5;
    private double[,] _j = null!;

    [Params(200, 500, 1000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup() => _j = Coupling(N);

    /// <summary>J = X + P at size n (seed 4; the same matrix for every benchmark of that size).</summary>
    internal static double[,] Coupling(int n)
    {
        var x = StructureInputs.Gaussian(n, n, 4L, 16030L);
        double sd = G / Math.Sqrt(n);
        var rng = Rng.ForStream(4L, 16031L);
        double[] thetas = { 3.0, 2.5, 2.0 };
        var u = new double[thetas.Length][];
        var v = new double[thetas.Length][];
        for (int r = 0; r < thetas.Length; r++)
        {
            u[r] = UnitGaussian(rng, n);
            v[r] = UnitGaussian(rng, n);
        }
        var j = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++)
            {
                double p = 0.0;
                for (int r = 0; r < thetas.Length; r++) p += thetas[r] * u[r][i] * v[r][k];
                j[i, k] = sd * x[i, k] + p;
            }
        return j;
    }

    private static double[] UnitGaussian(Rng rng, int n)
    {
        var z = new double[n];
        double s = 0.0;
        for (int i = 0; i < n; i++) { z[i] = rng.NextGaussian(); s += z[i] * z[i]; }
        s = Math.Sqrt(s);
        for (int i = 0; i < n; i++) z[i] /= s;
        return z;
    }

    /// <summary>Eigenvalues of J and its outliers (returns the number of outliers).</summary>
    [Benchmark]
    public int EigenvaluesAndOutliers()
    {
        var ev = OutlierSpectrum.Eigenvalues(_j);
        return OutlierSpectrum.Outliers(ev, G, N, OutlierSpectrum.DefaultKappa).Length;
    }

}

/// <summary>
/// The full decomposition of the same J as <see cref="OutlierSpectrumBench"/> (OutlierSpectrum.Decompose: eigenvalues,
/// eigenvectors and the real Schur-form blocks — the input of the outlier ablations) and the outlier indices, for
/// N = 200, 500 (the eigenvectors roughly double to triple the EVD's cost; N = 1000 left out to keep the run short).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Monitoring, iterationCount: 2, warmupCount: 0)]
public class OutlierDecomposeBench
{
    private const double G = 1.5;
    private double[,] _j = null!;

    [Params(200, 500)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup() => _j = OutlierSpectrumBench.Coupling(N);

    /// <summary>Decomposition and outlier indices (returns the number of outliers).</summary>
    [Benchmark]
    public int DecomposeAndOutliers()
    {
        var dec = OutlierSpectrum.Decompose(_j);
        return OutlierSpectrum.OutlierIndices(dec, G, OutlierSpectrum.DefaultKappa).Length;
    }
}

/// <summary>
/// Statistics of tilted single-neuron distributions (SingleNeuronStatistics; docs/dmft-structure.md): the exact
/// two-sample Wasserstein-1 and Kolmogorov–Smirnov distances (two sorts and one merge) and the four moments (MathNet)
/// on M = 10⁴ and 10⁵ samples per side — the size of a pooled N = ∞ particle cloud or of a few finite networks' neurons
/// × time points. The samples are seeded Gaussian and tanh-of-Gaussian draws.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class DistributionStatsBench
{
    private double[] _a = null!;
    private double[] _b = null!;

    [Params(10_000, 100_000)]
    public int Samples { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var ra = Rng.ForStream(5L, 16040L);
        var rb = Rng.ForStream(5L, 16041L);
        _a = new double[Samples];
        _b = new double[Samples];
        for (int i = 0; i < Samples; i++)
        {
            _a[i] = Math.Tanh(1.5 * ra.NextGaussian());
            _b[i] = Math.Tanh(1.2 * rb.NextGaussian() + 0.1);
        }
    }

    /// <summary>W1 between the two samples.</summary>
    [Benchmark]
    public double Wasserstein1() => SingleNeuronStatistics.Wasserstein1(_a, _b);

    /// <summary>Two-sample KS distance.</summary>
    [Benchmark]
    public double KolmogorovSmirnov() => SingleNeuronStatistics.KolmogorovSmirnov(_a, _b);

    /// <summary>Mean, variance, skewness, excess kurtosis of one sample.</summary>
    [Benchmark]
    public double Moments() => SingleNeuronStatistics.Moments(_a).ExcessKurtosis;
}

/// <summary>
/// The representational-drift kernels (RepresentationalDrift; docs/dmft-structure.md): the window kernel
/// C = (1/N) Σ_i φ_iφ_iᵀ of one state (O(Nn²/2)), the kernel distance of two states (O(n²)) and the per-neuron overlaps
/// ρ₁, ρ₂ and tuning correlation of two states (O(Nn)), for N = 500, 2000 neurons on n = 50 points (T = 10, Δt = 0.2) —
/// the per-snapshot cost of a drift run. Seeded synthetic rates.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class DriftKernelBench
{
    private const int Points = 50;
    private double[][] _a = null!;
    private double[][] _b = null!;
    private double[,] _ca = null!;
    private double[,] _cb = null!;

    [Params(500, 2000)]
    public int Neurons { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _a = StructureInputs.RatesPerNeuron(Neurons, Points, 6L, 16050L);
        _b = StructureInputs.RatesPerNeuron(Neurons, Points, 6L, 16051L);
        _ca = RepresentationalDrift.Kernel(_a);
        _cb = RepresentationalDrift.Kernel(_b);
    }

    /// <summary>The n × n kernel of one state of N neurons.</summary>
    [Benchmark]
    public double Kernel() => RepresentationalDrift.Kernel(_a)[0, 0];

    /// <summary>‖C_a − C_b‖_F / √(‖C_a‖_F‖C_b‖_F) (independent of N: n × n kernels).</summary>
    [Benchmark]
    public double KernelDistance() => RepresentationalDrift.KernelDistance(_ca, _cb);

    /// <summary>ρ₁, ρ₂ and the tuning correlation of two states.</summary>
    [Benchmark]
    public double Overlaps() => RepresentationalDrift.Overlaps(_a, _b).Squared;
}

/// <summary>
/// One cold N = ∞ saddle-point solve of the multi-condition (reaching) DMFT (MultiConditions.Solve;
/// docs/dmft-multi-condition.md): tanh, g = 1.5, γ = 0.5, ReachTask.Default (C = 4 conditions × n = 16 points, Δt =
/// 0.25: a 64-point stacked grid plus the per-neuron input weights), process noise 0.1, S = 1000 particles, seed 1, from
/// the joint-index γ = 0 kernel to the Monte Carlo floor (throws if the solve fails). One iteration (≈ 30 s on an idle
/// machine).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Monitoring, iterationCount: 1, warmupCount: 0)]
public class MultiConditionSolveBench
{
    [Benchmark]
    public double ColdSolveReach()
    {
        var m = MultiConditions.Reach(SiteNonlinearity.Tanh, 1.5, 0.5, ReachTask.Default, 0.1);
        var r = MultiConditions.Solve(m, TiltedSolverOptions.Default.WithChains(1000, 1L));
        // a failed solve is an error of the benchmark, not a time
        if (!r.IsOk) throw new InvalidOperationException(r.ErrorValue.ToString());
        return r.ResultValue.Diagnostics.MeanActivity.Mean;
    }
}

/// <summary>
/// The unit of cost of the weight-space HMC posterior sampler (WeightPosterior; docs/dmft-nonlinear.md): one likelihood
/// potential U_L(θ) and its adjoint (BPTT) gradient at γ = 1 (WeightPosterior.Potential, which also allocates the model's
/// workspace) at a prior draw θ ~ N(0, I) (seed 7), on the sinusoid task (T = 10, Δt = 0.2, n = 50, g = 1.5,
/// σ = 0.01) at N = 100, 250 (θ = [J; ξ; u0] of dimension N² + nN + N). O(nN²).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 2, iterationCount: 8)]
public class WeightPosteriorGradientBench
{
    private TiltedProblem _problem = null!;
    private double[] _theta = null!;
    private double[] _grad = null!;
    private double[] _x0 = null!;

    [Params(100, 250)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _problem = TiltedProblems.Sinusoid(1.5, 1.0, SinusoidTask.Default.WithDt(0.2));
        int n = _problem.Points;
        int dim = N * N + n * N + (_problem.X0Tilted ? N : 0);
        var rng = Rng.ForStream(7L, 16060L);
        _theta = new double[dim];
        for (int i = 0; i < dim; i++) _theta[i] = rng.NextGaussian();
        _grad = new double[dim];
        _x0 = new double[N];
    }

    /// <summary>U_L(θ) and ∂U_L/∂θ at γ = 1.</summary>
    [Benchmark]
    public double Gradient() => WeightPosterior.Potential(_problem, N, 0.01, _x0, _theta, 1.0, _grad);
}

/// <summary>
/// One HMC iteration of the weight-space posterior sampler (WeightPosterior.Anneal; docs/dmft-nonlinear.md), same task
/// and sizes as <see cref="WeightPosteriorGradientBench"/> (N = 100, 250; default 16 leapfrog steps, seed 1):
/// <list type="bullet">
/// <item><c>AnnealStart</c>: Anneal over γ = [0] (the exact γ = 0 draw and its snapshot, no HMC).</item>
/// <item><c>AnnealFourIterations</c>: Anneal over γ = [1] with 4 HMC iterations (start, 1 + 4·16 gradients, 5 forward
/// passes, snapshot; the first 2 iterations adapt the step size). One HMC iteration ≈ (AnnealFourIterations −
/// AnnealStart)/4 (16 gradients and one forward pass); the docs state that division.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Monitoring, iterationCount: 3, warmupCount: 1)]
public class WeightPosteriorBench
{
    private static readonly SinusoidTask Task = SinusoidTask.Default.WithDt(0.2);

    [Params(100, 250)]
    public int N { get; set; }

    private WeightPosteriorOptions Options(int iterations)
    {
        var d = WeightPosteriorOptions.Default;
        return new WeightPosteriorOptions(N, d.ProcessNoise, iterations, d.LeapfrogSteps, d.StepSize, d.TargetAcceptance, 1L);
    }

    /// <summary>The γ = 0 start and snapshot (the fixed cost subtracted from AnnealFourIterations).</summary>
    [Benchmark]
    public double AnnealStart()
    {
        var s = WeightPosterior.Anneal(new Func<double, TiltedProblem>(gm => TiltedProblems.Sinusoid(1.5, gm, Task)), new[] { 0.0 }, Options(2), 0L);
        return s[0].LogDensity;
    }

    /// <summary>Start plus 4 HMC iterations (16 leapfrog steps each) at γ = 1.</summary>
    [Benchmark]
    public double AnnealFourIterations()
    {
        var s = WeightPosterior.Anneal(new Func<double, TiltedProblem>(gm => TiltedProblems.Sinusoid(1.5, gm, Task)), new[] { 1.0 }, Options(4), 0L);
        return s[0].Acceptance;
    }
}

using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Reservoir;

/// <summary>Seeded weight-matrix generator of Metzner et al. (2025), §2.5. One xoshiro256** stream per matrix with a
/// fixed draw order, so a seed fixes the matrix bit for bit:
/// <list type="bullet">
/// <item>non-modular (m = 0): magnitudes |g_ij|·w (N² normals, row-major) → mask A_ij ~ Bernoulli(d) (N² uniforms) →
/// signs S_ij = +1 with p⁺ = (1+b)/2 (N² uniforms) → Dale column signs τ_j with p⁺ (N uniforms) → Dale picks
/// (N² uniforms, W_ij := G_ij A_ij τ_j with probability h) → Hopfield picks (N(N−1)/2 uniforms over i &lt; j in
/// row-major order, W_ji := W^pure_ij with probability r). All draws are made for every matrix, so matrices with
/// the same seed share their pure part across h and r (common random numbers).</item>
/// <item>modular (m &gt; 0): block labels (K² uniforms, strong with probability f; redrawn while none is strong) →
/// values V_ij ~ N(0, (c w)²) with c = c_s or c_w by block (N² normals) → W_ij = |V_ij| made negative with probability
/// p⁻ = (1 − b)/2 (N² uniforms): "all elements are made positive and then flipped to negative" [paper]. Dense (d unused).</item>
/// </list></summary>
public static class WeightMatrixGenerator
{
    /// <summary>Generates one matrix from the spec and the seed.</summary>
    public static WeightMatrix Generate(WeightMatrixSpec spec, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validated();
        var rng = new Rng(seed);
        return spec.Modularity > 0 ? Modular(spec, seed, rng) : NonModular(spec, seed, rng);
    }

    private static WeightMatrix NonModular(WeightMatrixSpec s, long seed, Rng rng)
    {
        int n = s.N;
        int nn = n * n;
        double w = s.Width, d = s.Density, pPlus = (1.0 + s.Balance) / 2.0;
        var g = new double[nn];
        for (int k = 0; k < nn; k++) g[k] = Math.Abs(rng.NextGaussian()) * w;
        for (int k = 0; k < nn; k++) if (!(rng.NextDouble() < d)) g[k] = 0.0;           // G ⊙ A
        var pure = new double[nn];
        for (int k = 0; k < nn; k++) pure[k] = rng.NextDouble() < pPlus ? g[k] : -g[k];  // ⊙ S
        var tau = new int[n];
        for (int j = 0; j < n; j++) tau[j] = rng.NextDouble() < pPlus ? 1 : -1;
        var values = (double[])pure.Clone();
        double h = s.Homogeneity;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (rng.NextDouble() < h) values[i * n + j] = g[i * n + j] * tau[j];
        double r = s.Reciprocity;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                if (rng.NextDouble() < r) values[j * n + i] = pure[i * n + j];
        return new WeightMatrix(s, seed, values, null, tau);
    }

    private static WeightMatrix Modular(WeightMatrixSpec s, long seed, Rng rng)
    {
        int n = s.N, mBlock = s.BlockSize, k = s.Modules;
        var labels = new bool[k * k];
        int nStrong = 0;
        for (int attempt = 0; ; attempt++)
        {
            nStrong = 0;
            for (int q = 0; q < k * k; q++) { labels[q] = rng.NextDouble() < s.StrongProbability; if (labels[q]) nStrong++; }
            if (nStrong > 0) break;
            if (!s.RedrawIfNoStrongBlock)
                throw new NoSolutionException("modular matrix: no block was drawn strong (f_s = 0), so the strong-block scale c_s is undefined; enable redrawing or raise f");
            if (attempt > 100000)
                throw new NoSolutionException($"modular matrix: no strong block in 100000 redraws (f = {s.StrongProbability}, K² = {k * k})");
        }
        double fs = nStrong / (double)(k * k);
        bool sqrt = s.WeakScaling == WeakBlockScaling.Sqrt;
        double cw = Theory.Core.MeanField.CouplingStatistics.WeakScale(s.Modularity, sqrt);
        double cs = Theory.Core.MeanField.CouplingStatistics.StrongScale(s.Modularity, fs, sqrt);
        var values = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double c = labels[(i / mBlock) * k + j / mBlock] ? cs : cw;
                values[i * n + j] = Math.Abs(rng.NextGaussian() * c * s.Width);
            }
        double pMinus = (1.0 - s.Balance) / 2.0;
        for (int q = 0; q < n * n; q++) if (rng.NextDouble() < pMinus) values[q] = -values[q];
        return new WeightMatrix(s, seed, values, labels, null);
    }
}

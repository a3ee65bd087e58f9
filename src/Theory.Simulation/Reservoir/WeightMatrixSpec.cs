using Theory.Core;

namespace Theory.Simulation.Reservoir;

/// <summary>Weak-block scaling c_w(m) of the modular construction.</summary>
public enum WeakBlockScaling
{
    /// <summary>c_w = √(1 − m) [reconstructed default; research note A3].</summary>
    Sqrt,
    /// <summary>c_w = 1 − m [reconstructed alternative].</summary>
    Linear,
}

/// <summary>Control parameters of the weight-matrix generator of Metzner, Schilling, Maier &amp; Krauss (2025), §2.5:
/// width w, density d, balance b and the regularities Dale homogeneity h, Hopfield reciprocity r, modularity m
/// (block size M, strong-block probability f). At most one of h, r, m may be non-zero (the paper never combines them).
/// Reconstructed choices are parameters with the documented defaults.</summary>
public sealed record WeightMatrixSpec
{
    /// <summary>Number of neurons N (paper: 50).</summary>
    public int N { get; init; } = 50;
    /// <summary>Width w: the magnitudes are |g|, g ~ N(0, w²).</summary>
    public double Width { get; init; } = 0.3;
    /// <summary>Density d ∈ [0, 1]: probability that an element is non-zero (not used by the modular construction).</summary>
    public double Density { get; init; } = 1.0;
    /// <summary>Balance b ∈ [−1, 1]; positive sign with probability p⁺ = (1 + b)/2 [reconstructed mapping, E[B] = b].</summary>
    public double Balance { get; init; }
    /// <summary>Dale homogeneity h ∈ [0, 1]: element-wise probability of taking the column-signed (Dale) value.</summary>
    public double Homogeneity { get; init; }
    /// <summary>Hopfield reciprocity r ∈ [0, 1]: element-wise probability of taking the symmetrised (Hopfield) value.</summary>
    public double Reciprocity { get; init; }
    /// <summary>Modularity m ∈ [0, 1]: variance contrast of strong and weak blocks.</summary>
    public double Modularity { get; init; }
    /// <summary>Block size M (must divide N when m &gt; 0) [reconstructed default 10].</summary>
    public int BlockSize { get; init; } = 10;
    /// <summary>Probability f ∈ (0, 1] that a block is strong [reconstructed default 0.2].</summary>
    public double StrongProbability { get; init; } = 0.2;
    /// <summary>Weak-block scaling c_w(m) (default √(1 − m)).</summary>
    public WeakBlockScaling WeakScaling { get; init; } = WeakBlockScaling.Sqrt;
    /// <summary>Redraw the block labels when no block came out strong (f_s = 0 leaves c_s undefined) [reconstructed, default true];
    /// when false such a draw raises NoSolutionException.</summary>
    public bool RedrawIfNoStrongBlock { get; init; } = true;

    /// <summary>Number of modules K = N/M.</summary>
    public int Modules => N / BlockSize;

    /// <summary>Checks every domain; raises <see cref="ParameterOutOfDomainException"/> naming the parameter.</summary>
    public WeightMatrixSpec Validated()
    {
        Validate.PositiveInt("n", N);
        Validate.NonNegative("w", Width);
        Validate.InRange("d", Density, 0.0, 1.0);
        Validate.InRange("b", Balance, -1.0, 1.0);
        Validate.InRange("h", Homogeneity, 0.0, 1.0);
        Validate.InRange("r", Reciprocity, 0.0, 1.0);
        Validate.InRange("m", Modularity, 0.0, 1.0);
        Validate.PositiveInt("block-size", BlockSize);
        Validate.InRange("f", StrongProbability, 0.0, 1.0);
        int nonZero = (Homogeneity > 0 ? 1 : 0) + (Reciprocity > 0 ? 1 : 0) + (Modularity > 0 ? 1 : 0);
        if (nonZero > 1)
            throw new ParameterOutOfDomainException("h, r, m", $"h={Homogeneity}, r={Reciprocity}, m={Modularity}",
                "at most one of h, r, m non-zero (the paper never applies the regularities simultaneously)");
        if (Modularity > 0)
        {
            if (N % BlockSize != 0)
                throw new ParameterOutOfDomainException("block-size", BlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    $"a divisor of N = {N} (N must be divisible by the block size)");
            if (StrongProbability <= 0)
                throw new ParameterOutOfDomainException("f", "0", "(0, 1] when m > 0 (at least one strong block is needed)");
        }
        return this;
    }
}

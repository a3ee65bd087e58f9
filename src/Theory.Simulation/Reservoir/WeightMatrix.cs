namespace Theory.Simulation.Reservoir;

/// <summary>A generated N×N weight matrix, row-major: <c>Values[i*N + j]</c> is W_ij, the weight from sender j
/// (column) to receiver i (row) [paper: "each column (corresponding to one sending neuron)"].</summary>
public sealed class WeightMatrix
{
    internal WeightMatrix(WeightMatrixSpec spec, long seed, double[] values, bool[]? strongBlocks, int[]? columnSigns)
    {
        Spec = spec;
        Seed = seed;
        Values = values;
        StrongBlocks = strongBlocks;
        ColumnSigns = columnSigns;
    }

    /// <summary>The control parameters.</summary>
    public WeightMatrixSpec Spec { get; }
    /// <summary>The seed it was generated from.</summary>
    public long Seed { get; }
    /// <summary>Number of neurons.</summary>
    public int N => Spec.N;
    /// <summary>Row-major elements (length N²).</summary>
    public double[] Values { get; }
    /// <summary>Modular construction only: K×K block labels, row-major (receiver module, sender module), true = strong; else null.</summary>
    public bool[]? StrongBlocks { get; }
    /// <summary>Dale column signs τ_j (±1) drawn by the generator (always drawn for the non-modular construction; null for modular).</summary>
    public int[]? ColumnSigns { get; }

    /// <summary>W_ij.</summary>
    public double this[int i, int j] => Values[i * N + j];

    /// <summary>Realised strong-block fraction f_s (modular construction), else NaN.</summary>
    public double StrongFraction => StrongBlocks is null ? double.NaN : StrongBlocks.Count(x => x) / (double)StrongBlocks.Length;

    /// <summary>Realised weak-block fraction f_w = 1 − f_s (modular construction), else NaN.</summary>
    public double WeakFraction => 1.0 - StrongFraction;

    /// <summary>Block labels as a K×K array (modular construction), else null.</summary>
    public bool[,]? StrongBlockMatrix()
    {
        if (StrongBlocks is null) return null;
        int k = Spec.Modules;
        var a = new bool[k, k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) a[i, j] = StrongBlocks[i * k + j];
        return a;
    }

    /// <summary>A MathNet dense copy.</summary>
    public MathNet.Numerics.LinearAlgebra.Matrix<double> ToMatrix()
    {
        int n = N;
        var vals = Values;
        return MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(n, n, (i, j) => vals[i * n + j]);
    }

    /// <summary>All eigenvalues (MathNet managed EVD).</summary>
    public System.Numerics.Complex[] Eigenvalues() => ToMatrix().Evd().EigenValues.ToArray();

    /// <summary>Spectral radius max |λ|.</summary>
    public double SpectralRadius() => Eigenvalues().Max(c => c.Magnitude);

    /// <summary>Empirical modularity M_emp = 1 − ⟨W²⟩_weak/⟨W²⟩_all (not in the paper; E[M_emp] = 1 − c_w² = m for the
    /// default √ scaling). NaN for non-modular matrices.</summary>
    public double EmpiricalModularity()
    {
        if (StrongBlocks is null) return double.NaN;
        int n = N, m = Spec.BlockSize, k = Spec.Modules;
        double weak = 0, all = 0; long nWeak = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double v = Values[i * n + j] * Values[i * n + j];
                all += v;
                if (!StrongBlocks[(i / m) * k + j / m]) { weak += v; nWeak++; }
            }
        if (nWeak == 0 || all == 0) return double.NaN;
        return 1.0 - (weak / nWeak) / (all / ((double)n * n));
    }
}

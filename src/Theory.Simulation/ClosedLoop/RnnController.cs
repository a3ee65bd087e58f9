using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.ClosedLoop;

/// <summary>RNN controller of Ger &amp; Barak 2025 (Eq. 4, leaky form App. A.1):
/// h_{t+1} = (1 − a) h_t + a φ(W h_t + m y_{t+1}), u = zᵀh. Scalar input y = Cx and scalar output u.
/// Optionally rank-one parameterised, W = u vᵀ + g J with J frozen (the theory model of §2).</summary>
public sealed class RnnController
{
    /// <summary>Number of units N.</summary>
    public int N { get; }
    /// <summary>Recurrent weights W, row-major N × N (recomputed from U, V, J for a rank-one controller).</summary>
    public double[] W { get; }
    /// <summary>Input weights m (N).</summary>
    public double[] M { get; }
    /// <summary>Readout z (N).</summary>
    public double[] Z { get; }
    /// <summary>Left vector u of W = u vᵀ + gJ (rank-one parameterisation), else null.</summary>
    public double[]? U { get; }
    /// <summary>Right vector v of W = u vᵀ + gJ, else null.</summary>
    public double[]? V { get; }
    /// <summary>Frozen random bulk J (row-major), null when g = 0 or full rank.</summary>
    public double[]? J { get; }
    /// <summary>Bulk strength g of W = u vᵀ + g J.</summary>
    public double G { get; }
    /// <summary>Leak a = Δ/τ ∈ (0, 1] (1 gives Eq. 4).</summary>
    public double Leak { get; }
    /// <summary>Nonlinearity φ.</summary>
    public Activation Phi { get; }
    /// <summary>Whether m is trained (frozen in the rank-one theory model).</summary>
    public bool TrainM { get; set; } = true;
    /// <summary>Whether z is trained.</summary>
    public bool TrainZ { get; set; } = true;
    /// <summary>Whether the recurrent weights (W, or u and v) are trained.</summary>
    public bool TrainRecurrent { get; set; } = true;

    /// <summary>Rank-one controllers: whether u is trained (false with m = e₁, u = e₂ in N = 2 realises gradient
    /// descent on the four overlaps of P_eff directly, σ_zm = z₁, σ_zu = z₂, σ_vm = v₁, σ_vu = v₂).</summary>
    public bool TrainU { get; set; } = true;

    /// <summary>True for W = u vᵀ + gJ.</summary>
    public bool IsRankOne => U is not null;

    private RnnController(int n, double[] w, double[] m, double[] z, double[]? u, double[]? v, double[]? j, double g, double leak, Activation phi)
    {
        N = n; W = w; M = m; Z = z; U = u; V = v; J = j; G = g; Leak = leak; Phi = phi;
    }

    /// <summary>Full-rank controller from explicit weights (copied).</summary>
    public static RnnController Full(double[] w, double[] m, double[] z, double leak, Activation phi)
    {
        int n = m.Length;
        Validate.PositiveInt("N", n);
        if (w.Length != n * n) throw new ParameterOutOfDomainException("W", $"{w.Length} entries", $"{n * n} entries (N x N, N = length of m)");
        if (z.Length != n) throw new ParameterOutOfDomainException("z", $"length {z.Length}", $"length {n} (as m)");
        Validate.InRange("a", leak, double.Epsilon, 1.0);
        Validate.AllFinite("W", w); Validate.AllFinite("m", m); Validate.AllFinite("z", z);
        return new RnnController(n, (double[])w.Clone(), (double[])m.Clone(), (double[])z.Clone(), null, null, null, 0.0, leak, phi);
    }

    /// <summary>Rank-one controller W = u vᵀ + g J (copied); J may be null when g = 0.</summary>
    public static RnnController RankOne(double[] u, double[] v, double[] m, double[] z, double g, double[]? j, double leak, Activation phi)
    {
        int n = m.Length;
        Validate.PositiveInt("N", n);
        foreach (var (name, x) in new[] { ("u", u), ("v", v), ("z", z) })
            if (x.Length != n) throw new ParameterOutOfDomainException(name, $"length {x.Length}", $"length {n} (as m)");
        if (g != 0.0 && (j is null || j.Length != n * n)) throw new ParameterOutOfDomainException("J", j is null ? "null" : $"{j.Length} entries", $"{n * n} entries when g != 0");
        Validate.InRange("a", leak, double.Epsilon, 1.0);
        var c = new RnnController(n, new double[n * n], (double[])m.Clone(), (double[])z.Clone(), (double[])u.Clone(), (double[])v.Clone(),
            j is null ? null : (double[])j.Clone(), g, leak, phi) { TrainM = false };
        c.SyncW();
        return c;
    }

    /// <summary>Initialisation of the nonlinear full-rank run (code, small_scale=True): W_ij ~ N(0, g²/N),
    /// m_i, z_i ~ N(0, 1/N²); all trained.</summary>
    public static RnnController NonlinearInit(int n, double g, Rng rng, Activation phi = Activation.Tanh, double leak = 1.0)
    {
        Validate.PositiveInt("N", n);
        Validate.NonNegative("g", g);
        var w = new double[n * n];
        for (int i = 0; i < w.Length; i++) w[i] = g / Math.Sqrt(n) * rng.NextGaussian();
        var m = new double[n];
        var z = new double[n];
        for (int i = 0; i < n; i++) m[i] = rng.NextGaussian() / n;
        for (int i = 0; i < n; i++) z[i] = rng.NextGaussian() / n;
        return Full(w, m, z, leak, phi);
    }

    /// <summary>Initialisation of the rank-one theory run (code, theory cell 2): u_i, v_i ~ N(0, 1/N),
    /// m_i, z_i ~ U(−N^−½, N^−½), J_ij ~ N(0, 1/N); m frozen; linear φ.</summary>
    public static RnnController RankOneInit(int n, Rng rng, double g = 0.0, double leak = 1.0, Activation phi = Activation.Identity)
    {
        Validate.PositiveInt("N", n);
        double s = 1.0 / Math.Sqrt(n);
        var m = new double[n]; var z = new double[n]; var u = new double[n]; var v = new double[n];
        for (int i = 0; i < n; i++) m[i] = (2.0 * rng.NextDouble() - 1.0) * s;
        for (int i = 0; i < n; i++) z[i] = (2.0 * rng.NextDouble() - 1.0) * s;
        for (int i = 0; i < n; i++) u[i] = s * rng.NextGaussian();
        for (int i = 0; i < n; i++) v[i] = s * rng.NextGaussian();
        double[]? j = null;
        if (g != 0.0)
        {
            j = new double[n * n];
            for (int i = 0; i < j.Length; i++) j[i] = s * rng.NextGaussian();
        }
        return RankOne(u, v, m, z, g, j, leak, phi);
    }

    /// <summary>The reduced model P_eff as a trainable controller: N = 2, m = e₁, u = e₂ frozen, z = (σ_zm, σ_zu),
    /// v = (σ_vm, σ_vu), linear φ. Training z and v is gradient descent on the four overlaps (paper §6, Stage 3).</summary>
    public static RnnController ReducedModel(Theory.Core.ClosedLoop.Overlaps o)
    {
        var c = RankOne([0.0, 1.0], [o.Svm, o.Svu], [1.0, 0.0], [o.Szm, o.Szu], 0.0, null, 1.0, Activation.Identity);
        c.TrainU = false;
        return c;
    }

    /// <summary>Recomputes W = u vᵀ + g J after u or v changed (no-op for a full-rank controller).</summary>
    public void SyncW()
    {
        if (U is null || V is null) return;
        for (int i = 0; i < N; i++)
            for (int k = 0; k < N; k++)
                W[i * N + k] = U[i] * V[k] + (J is null ? 0.0 : G * J[i * N + k]);
    }

    /// <summary>Deep copy.</summary>
    public RnnController Clone() =>
        new(N, (double[])W.Clone(), (double[])M.Clone(), (double[])Z.Clone(), (double[]?)U?.Clone(), (double[]?)V?.Clone(), (double[]?)J?.Clone(), G, Leak, Phi)
        { TrainM = TrainM, TrainZ = TrainZ, TrainRecurrent = TrainRecurrent, TrainU = TrainU };

    /// <summary>W as a 2-D array.</summary>
    public double[,] WMatrix()
    {
        var w = new double[N, N];
        for (int i = 0; i < N; i++) for (int k = 0; k < N; k++) w[i, k] = W[i * N + k];
        return w;
    }

    /// <summary>The overlaps (σ_zm, σ_zu, σ_vm, σ_vu) of a rank-one controller (raw dot products).</summary>
    public Theory.Core.ClosedLoop.Overlaps Overlaps()
    {
        if (U is null || V is null) throw new InvalidOperationException("overlaps are defined for a rank-one controller only");
        return Theory.Core.ClosedLoop.Overlaps.OfVectors(M, Z, U, V);
    }

    /// <summary>The trainable parameter arrays, in a fixed order (recurrent, m, z).</summary>
    internal List<double[]> Trainable()
    {
        var list = new List<double[]>();
        if (TrainRecurrent) { if (U is not null && V is not null) { if (TrainU) list.Add(U); list.Add(V); } else list.Add(W); }
        if (TrainM) list.Add(M);
        if (TrainZ) list.Add(Z);
        return list;
    }
}

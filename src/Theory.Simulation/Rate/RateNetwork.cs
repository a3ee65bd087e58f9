using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Rate;

/// <summary>The continuous-time random rate network τ dx/dt = −x + (g/√N) J φ(x) + u(t) (+ white noise), τ = 1,
/// with J_ij ~ N(0, 1) i.i.d. drawn from an explicit seed (Sompolinsky, Crisanti &amp; Sommers 1988). The stored
/// coupling matrix already carries the g/√N factor (row-major, N×N).</summary>
public sealed class RateNetwork
{
    private readonly double[] _couplings;

    /// <summary>Number of neurons.</summary>
    public int N { get; }
    /// <summary>Coupling gain g.</summary>
    public double G { get; }
    /// <summary>Nonlinearity φ.</summary>
    public Activation Phi { get; }
    /// <summary>Seed of the couplings (null when the matrix was supplied).</summary>
    public long? Seed { get; }

    /// <summary>The scaled couplings (g/√N) J, row-major.</summary>
    public ReadOnlySpan<double> Couplings => _couplings;

    /// <summary>Draws J_ij ~ N(0,1) from <paramref name="seed"/> (stream 0 of <see cref="Rng.ForStream"/>).</summary>
    public RateNetwork(int n, double g, Activation phi, long seed)
    {
        Validate.PositiveInt("N", n);
        Validate.NonNegative("g", g);
        N = n; G = g; Phi = phi; Seed = seed;
        _couplings = new double[checked(n * n)];
        var rng = Rng.ForStream(seed, 0);
        rng.FillGaussian(_couplings, 0.0, g / Math.Sqrt(n));
    }

    /// <summary>Uses a supplied unscaled matrix J (row-major N×N); the network applies g/√N.</summary>
    public RateNetwork(double g, Activation phi, double[] j, int n)
    {
        Validate.PositiveInt("N", n);
        Validate.NonNegative("g", g);
        if (j.Length != n * n) throw new ParameterOutOfDomainException("J", $"{j.Length} entries", $"N*N = {n * n} entries");
        Validate.AllFinite("J", j);
        N = n; G = g; Phi = phi;
        double s = g / Math.Sqrt(n);
        _couplings = j.Select(v => v * s).ToArray();
    }

    /// <summary>dx = −x + W φ(x) + u, with scratch buffer <paramref name="phi"/> (length N). No allocation.</summary>
    public void Derivative(ReadOnlySpan<double> x, ReadOnlySpan<double> input, Span<double> phi, Span<double> dx)
    {
        ActivationFunctions.Apply(Phi, x, phi);
        DenseKernels.MatVec(_couplings, N, phi, dx);
        for (int i = 0; i < N; i++) dx[i] += input[i] - x[i];
    }

    /// <summary>State and tangent derivatives in one pass over the couplings: dx = −x + Wφ(x) + u,
    /// dδ = −δ + W(φ′(x) ⊙ δ). Scratch buffers phi and gated have length N.</summary>
    public void DerivativeWithTangent(ReadOnlySpan<double> x, ReadOnlySpan<double> delta, ReadOnlySpan<double> input,
        Span<double> phi, Span<double> gated, Span<double> dx, Span<double> dDelta)
    {
        if (Phi == Activation.Identity)
        {
            x.CopyTo(phi);
            delta.CopyTo(gated);
        }
        else
        {
            for (int i = 0; i < N; i++)
            {
                double t = Math.Tanh(x[i]);
                phi[i] = t;
                gated[i] = (1.0 - t * t) * delta[i];
            }
        }
        DenseKernels.MatVec2(_couplings, N, phi, gated, dx, dDelta);
        for (int i = 0; i < N; i++)
        {
            dx[i] += input[i] - x[i];
            dDelta[i] -= delta[i];
        }
    }

    /// <summary>One forward-Euler step of the autonomous network, x ← x + dt·(−x + Wφ(x)), in place. φ is the
    /// vectorised tanh (absolute error a few 1e-16 against Math.Tanh) and Wφ runs on
    /// <see cref="DenseKernels"/> (rows across cores, or OpenBLAS when selected). Scratch buffers
    /// <paramref name="phi"/> and <paramref name="drive"/> have length N. No allocation.</summary>
    public void EulerStep(double[] x, double dt, double[] phi, double[] drive)
    {
        if (x.Length != N || phi.Length != N || drive.Length != N)
            throw new ArgumentException($"EulerStep: x, phi and drive need N = {N} entries (got {x.Length}, {phi.Length}, {drive.Length})");
        ApplyPhi(x, phi, N);
        DenseKernels.MatVec(_couplings, N, N, phi, drive, 1.0);
        Relax(x, drive, dt, N);
    }

    /// <summary>One forward-Euler step of <paramref name="batch"/> states that share this network (an ensemble of
    /// initial conditions or noise seeds): rows of <paramref name="xs"/> (batch×N row-major), each
    /// x_b ← x_b + dt·(−x_b + Wφ(x_b)). The coupling product is one matrix–matrix product W·Φ, so the couplings are
    /// read once per four states instead of once per state. Scratch buffers have batch·N entries. No allocation.</summary>
    public void EulerStepBatch(double[] xs, int batch, double dt, double[] phis, double[] drives)
    {
        Validate.PositiveInt("batch", batch);
        long len = (long)batch * N;
        if (xs.Length != len || phis.Length != len || drives.Length != len)
            throw new ArgumentException($"EulerStepBatch: xs, phis and drives need batch*N = {len} entries (got {xs.Length}, {phis.Length}, {drives.Length})");
        ApplyPhi(xs, phis, (int)len);
        DenseKernels.MatVecBatch(_couplings, N, phis, 0, drives, 0, batch, 1.0);
        Relax(xs, drives, dt, (int)len);
    }

    private void ApplyPhi(double[] x, double[] phi, int count)
    {
        if (Phi == Activation.Identity) Array.Copy(x, phi, count);
        else DenseKernels.Tanh(x, phi, count);
    }

    /// <summary>x ← x + dt·(drive − x), vectorised.</summary>
    private static void Relax(double[] x, double[] drive, double dt, int count)
    {
        var vx = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(x.AsSpan(0, count));
        var vd = System.Runtime.InteropServices.MemoryMarshal.Cast<double, System.Numerics.Vector<double>>(drive.AsSpan(0, count));
        var h = new System.Numerics.Vector<double>(dt);
        for (int v = 0; v < vx.Length; v++) vx[v] += h * (vd[v] - vx[v]);
        for (int i = vx.Length * System.Numerics.Vector<double>.Count; i < count; i++) x[i] += dt * (drive[i] - x[i]);
    }
}

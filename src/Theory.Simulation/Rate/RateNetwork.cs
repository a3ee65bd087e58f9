using Theory.Simulation.LinearAlgebra;
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
}

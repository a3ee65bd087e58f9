namespace Theory.Simulation;

/// <summary>Single-neuron nonlinearity φ used by the rate engines.</summary>
public enum Activation
{
    /// <summary>φ(x) = tanh x.</summary>
    Tanh,
    /// <summary>φ(x) = x (linear network).</summary>
    Identity,
}

/// <summary>Vectorised φ and φ′ over spans (no allocation).</summary>
public static class ActivationFunctions
{
    /// <summary>dst[i] = φ(src[i]).</summary>
    public static void Apply(Activation activation, ReadOnlySpan<double> src, Span<double> dst)
    {
        if (activation == Activation.Identity) { src.CopyTo(dst); return; }
        for (int i = 0; i < src.Length; i++) dst[i] = Math.Tanh(src[i]);
    }

    /// <summary>dst[i] = φ′(src[i]).</summary>
    public static void Derivative(Activation activation, ReadOnlySpan<double> src, Span<double> dst)
    {
        if (activation == Activation.Identity) { dst.Fill(1.0); return; }
        for (int i = 0; i < src.Length; i++) { double t = Math.Tanh(src[i]); dst[i] = 1.0 - t * t; }
    }

    /// <summary>Parses "tanh" or "identity"/"linear".</summary>
    public static Activation Parse(string name) => name.ToLowerInvariant() switch
    {
        "tanh" => Activation.Tanh,
        "identity" or "linear" => Activation.Identity,
        _ => throw new Theory.Core.ParameterOutOfDomainException("phi", name, "tanh or identity"),
    };
}

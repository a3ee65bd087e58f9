using System.Buffers.Binary;
using Theory.Core;
using Theory.Core.Numerics;

namespace Theory.Simulation.Training;

/// <summary>Architecture of the μP, γ-parameterised rate RNN of Clark, Bordelon, Zavatone-Veth &amp; Pehlevan (2026):
/// τ ẋ = −x + (g/√N) J φ(x) + U I(t), readout y = Vᵀφ(x)/(Nγ), τ = 1, discretised by exponential Euler
/// x_{k+1} = e x_k + (1−e)[(g/√N) J φ(x_k) + U I_k], e = e^{−Δt} (note dmft-learned.md §3.4).</summary>
public sealed record RnnConfig(int N, int Inputs, int Outputs, double G, double Gamma, double Dt, Activation Activation)
{
    /// <summary>Validates every field (ParameterOutOfDomainException naming the field).</summary>
    public RnnConfig Validated()
    {
        Validate.AtLeast("N", N, 1);
        Validate.AtLeast("inputs", Inputs, 0);
        Validate.AtLeast("outputs", Outputs, 1);
        Validate.NonNegative("g", G);
        Validate.Positive("gamma", Gamma);
        Validate.Positive("dt", Dt);
        return this;
    }
}

/// <summary>The learnable weights J (N×N), U (N×inputs), V (N×outputs), all row-major float64. Prior and initialisation:
/// i.i.d. N(0, 1) entries [reconstructed standard initialisation, note §1].
/// <para>File format (little-endian): 8-byte magic "THRNNW01"; int32 N, inputs, outputs, activation (0 = tanh,
/// 1 = identity); float64 g, γ, Δt; then J, U, V as float64 row-major (N·N + N·inputs + N·outputs values).</para></summary>
public sealed class RnnWeights
{
    private static readonly byte[] Magic = "THRNNW01"u8.ToArray();

    /// <summary>The architecture.</summary>
    public RnnConfig Config { get; }
    /// <summary>Recurrent weights, row-major N×N (the dynamics use (g/√N)·J).</summary>
    public double[] J { get; }
    /// <summary>Input weights, row-major N×inputs.</summary>
    public double[] U { get; }
    /// <summary>Readout weights, row-major N×outputs (the readout uses V/(Nγ)).</summary>
    public double[] V { get; }

    /// <summary>Weights from arrays (copied by reference; lengths checked).</summary>
    public RnnWeights(RnnConfig config, double[] j, double[] u, double[] v)
    {
        Config = config.Validated();
        int n = config.N;
        if (j.Length != n * n) throw new ArgumentException($"J must have N·N = {n * n} entries");
        if (u.Length != n * config.Inputs) throw new ArgumentException($"U must have N·inputs = {n * config.Inputs} entries");
        if (v.Length != n * config.Outputs) throw new ArgumentException($"V must have N·outputs = {n * config.Outputs} entries");
        J = j; U = u; V = v;
    }

    /// <summary>Draws J, U, V i.i.d. N(0,1) from the generator (J first, then U, then V).</summary>
    public static RnnWeights Random(RnnConfig config, Rng rng)
    {
        config.Validated();
        int n = config.N;
        var j = rng.Gaussians(n * n);
        var u = rng.Gaussians(n * config.Inputs);
        var v = rng.Gaussians(n * config.Outputs);
        return new RnnWeights(config, j, u, v);
    }

    /// <summary>A deep copy.</summary>
    public RnnWeights Clone() => new(Config, (double[])J.Clone(), (double[])U.Clone(), (double[])V.Clone());

    /// <summary>Writes the documented binary format.</summary>
    public void Save(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        using var s = File.Create(path);
        using var w = new BinaryWriter(s);
        w.Write(Magic);
        w.Write(Config.N); w.Write(Config.Inputs); w.Write(Config.Outputs);
        w.Write(Config.Activation == Activation.Tanh ? 0 : 1);
        w.Write(Config.G); w.Write(Config.Gamma); w.Write(Config.Dt);
        foreach (var arr in new[] { J, U, V })
        {
            var bytes = new byte[arr.Length * 8];
            for (int i = 0; i < arr.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), arr[i]);
            w.Write(bytes);
        }
    }

    /// <summary>Reads the binary format written by <see cref="Save"/>.</summary>
    public static RnnWeights Load(string path)
    {
        using var s = File.OpenRead(path);
        using var r = new BinaryReader(s);
        var magic = r.ReadBytes(8);
        if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a THRNNW01 weights file");
        int n = r.ReadInt32(), inputs = r.ReadInt32(), outputs = r.ReadInt32(), act = r.ReadInt32();
        double g = r.ReadDouble(), gamma = r.ReadDouble(), dt = r.ReadDouble();
        var cfg = new RnnConfig(n, inputs, outputs, g, gamma, dt, act == 0 ? Activation.Tanh : Activation.Identity);
        double[] Read(int count)
        {
            var bytes = r.ReadBytes(count * 8);
            if (bytes.Length != count * 8) throw new InvalidDataException($"{path}: truncated");
            var a = new double[count];
            for (int i = 0; i < count; i++) a[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(i * 8));
            return a;
        }
        var j = Read(n * n); var u = Read(n * inputs); var v = Read(n * outputs);
        return new RnnWeights(cfg, j, u, v);
    }
}

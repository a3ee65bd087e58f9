using Theory.Core.Numerics;
using Theory.Core;

namespace Theory.Simulation.ClosedLoop;

/// <summary>Optimiser kind.</summary>
public enum OptimizerKind
{
    /// <summary>Plain SGD θ ← θ − η g.</summary>
    Sgd,
    /// <summary>Adam (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸, bias-corrected, as torch.optim.Adam).</summary>
    Adam,
}

/// <summary>SGD / Adam over a list of parameter arrays with global 2-norm gradient clipping
/// (torch rule: scale = min(1, clip/(‖g‖ + 10⁻⁶)); clip ≤ 0 disables).</summary>
public sealed class Optimizer
{
    private readonly OptimizerKind kind;
    private readonly double lr, clip;
    private List<double[]>? m1, m2;
    private int step;

    /// <summary>Creates an optimiser; the learning rate must be positive.</summary>
    public Optimizer(OptimizerKind kind, double learningRate, double clip)
    {
        this.kind = kind;
        lr = Validate.Positive("learningRate", learningRate);
        this.clip = Validate.Finite("clip", clip);
    }

    /// <summary>Global 2-norm of the gradients.</summary>
    public static double Norm(IReadOnlyList<double[]> grads)
    {
        double s = 0.0;
        foreach (var g in grads) s += DenseKernels.Dot(g, g);
        return Math.Sqrt(s);
    }

    /// <summary>Applies one update in place and returns the gradient norm before clipping. Raises
    /// NoSolutionException on a non-finite gradient.</summary>
    public double Step(IReadOnlyList<double[]> parameters, IReadOnlyList<double[]> grads)
    {
        if (parameters.Count != grads.Count) throw new ArgumentException("parameter and gradient lists differ in length");
        double norm = Norm(grads);
        if (!double.IsFinite(norm)) throw new NoSolutionException("non-finite gradient: training diverged");
        double scale = clip > 0.0 ? Math.Min(1.0, clip / (norm + 1e-6)) : 1.0;
        step++;
        if (kind == OptimizerKind.Sgd)
        {
            for (int p = 0; p < parameters.Count; p++) DenseKernels.Axpy(-lr * scale, grads[p], parameters[p]);
            return norm;
        }
        m1 ??= parameters.Select(p => new double[p.Length]).ToList();
        m2 ??= parameters.Select(p => new double[p.Length]).ToList();
        const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
        double c1 = 1.0 - Math.Pow(b1, step), c2 = 1.0 - Math.Pow(b2, step);
        for (int p = 0; p < parameters.Count; p++)
        {
            var th = parameters[p]; var g = grads[p]; var a = m1[p]; var v = m2[p];
            for (int i = 0; i < th.Length; i++)
            {
                double gi = g[i] * scale;
                a[i] = b1 * a[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                th[i] -= lr * (a[i] / c1) / (Math.Sqrt(v[i] / c2) + eps);
            }
        }
        return norm;
    }
}

using MathNet.Numerics.LinearAlgebra;

namespace Theory.Simulation.Training;

/// <summary>Objectives on the observed rates R (P × N row-major, P = conditions·window) and their gradients.</summary>
public static class Losses
{
    /// <summary>Mean squared output error L = (1/2P) Σ_{p,o} (y_{po} − y*_{po})², y = R V/(Nγ). Returns L and writes
    /// dL/dR (P×N) and dL/dV (N×outputs).</summary>
    public static double MeanSquaredError(RnnWeights w, double[] rates, double[] targets, int p, double[] dLdR, double[] dLdV)
    {
        var cfg = w.Config;
        int n = cfg.N, d = cfg.Outputs;
        var y = RnnEngine.Readout(w, rates, p);
        double s = 1.0 / (n * cfg.Gamma), loss = 0.0;
        var err = new double[p * d];
        for (int q = 0; q < p * d; q++) { err[q] = (y[q] - targets[q]) / p; loss += 0.5 * (y[q] - targets[q]) * (y[q] - targets[q]) / p; }
        Array.Clear(dLdV);
        for (int row = 0; row < p; row++)
            for (int i = 0; i < n; i++)
            {
                double g = 0.0, r = rates[row * n + i] * s;
                for (int o = 0; o < d; o++) { g += err[row * d + o] * w.V[i * d + o]; dLdV[i * d + o] += r * err[row * d + o]; }
                dLdR[row * n + i] = g * s;
            }
        return loss;
    }

    /// <summary>The task energy of the posterior with the readout V integrated out exactly (note dmft-learned.md §3.1):
    /// with V ~ N(0, I) and output likelihood of precision β, y* ~ N(0, C/(Nγ²) + I/β) per output, so
    /// E(R) = (Nγ²/2) tr[(C + σ²I)⁻¹ Cʸ] + (d/2) ln det(C + σ²I), C = R Rᵀ/N, Cʸ = Y* Y*ᵀ, σ² = Nγ²/β (readout noise).
    /// Returns E and writes dE/dR = (2/N)(dE/dC) R, dE/dC = −(Nγ²/2) A Aᵀ + (d/2)(C+σ²I)⁻¹, A = (C+σ²I)⁻¹Y*.
    /// Raises InvalidOperationException when C + σ²I is not positive definite.</summary>
    public static double CollapsedTaskEnergy(double[] rates, double[] targets, int p, int n, int d, double gamma, double readoutNoise, double[] dEdR)
    {
        var r = Matrix<double>.Build.Dense(p, n, (row, col) => rates[row * n + col]);
        var y = Matrix<double>.Build.Dense(p, d, (row, col) => targets[row * d + col]);
        var c = r.TransposeAndMultiply(r) / n;
        for (int q = 0; q < p; q++) c[q, q] += readoutNoise;
        var chol = c.Cholesky();
        var a = chol.Solve(y);
        double ng2 = n * gamma * gamma;
        double energy = 0.5 * ng2 * y.PointwiseMultiply(a).Enumerate().Sum() + 0.5 * d * chol.DeterminantLn;
        var cInv = chol.Solve(Matrix<double>.Build.DenseIdentity(p));
        var dEdC = a.TransposeAndMultiply(a) * (-0.5 * ng2) + cInv * (0.5 * d);
        var g = dEdC * r * (2.0 / n);
        for (int row = 0; row < p; row++)
            for (int col = 0; col < n; col++) dEdR[row * n + col] = g[row, col];
        return energy;
    }

    /// <summary>Exact draw of V from its Gaussian posterior given the rates (Matheron's rule): prior N(0, I), outputs
    /// y = R V/(Nγ) observed as y* with noise variance σ²/(Nγ²) (σ² = readout noise):
    /// V = ξ + γ Rᵀ(C + σ²I)⁻¹(y* − Rξ/(Nγ) − ε), ξ ~ N(0, I_N), ε ~ N(0, σ²/(Nγ²)). Posterior mean γ Rᵀ(C+σ²I)⁻¹y*.</summary>
    public static double[] SampleReadout(double[] rates, double[] targets, int p, int n, int d, double gamma, double readoutNoise, Theory.Core.Numerics.Rng rng)
    {
        var r = Matrix<double>.Build.Dense(p, n, (row, col) => rates[row * n + col]);
        var c = r.TransposeAndMultiply(r) / n;
        for (int q = 0; q < p; q++) c[q, q] += readoutNoise;
        var chol = c.Cholesky();
        var v = new double[n * d];
        double noiseSd = Math.Sqrt(readoutNoise) / (Math.Sqrt(n) * gamma);
        for (int o = 0; o < d; o++)
        {
            var xi = Vector<double>.Build.Dense(n, _ => rng.NextGaussian());
            var resid = Vector<double>.Build.Dense(p, row => targets[row * d + o]) - r * xi / (n * gamma);
            for (int q = 0; q < p; q++) resid[q] -= noiseSd * rng.NextGaussian();
            var corr = r.TransposeThisAndMultiply(chol.Solve(resid)) * gamma;
            for (int i = 0; i < n; i++) v[i * d + o] = xi[i] + corr[i];
        }
        return v;
    }
}

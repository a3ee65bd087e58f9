using System.Numerics;
using Theory.Core;
using Theory.Core.Numerics;
using Theory.Core.RandomMatrix;
using Theory.Simulation.PhaseDiagram;

namespace Theory.Simulation.Training;

/// <summary>Options of <see cref="SpectrumAnalysis.Analyse"/> (docs/dmft-spectrum.md). All are reconstructed choices
/// (the paper states none) with documented defaults.</summary>
public sealed record SpectrumOptions
{
    /// <summary>κ of the outside-the-bulk threshold g(1 + κ/√N). Default 2 (<see cref="OutlierSpectrum.DefaultKappa"/>).</summary>
    public double Kappa { get; init; } = 2.0;
    /// <summary>Fraction of ‖ΔJ_eff‖_F² the rank-r truncation keeps (the rank is the smallest that reaches it). Default 0.95.</summary>
    public double Energy { get; init; } = 0.95;
    /// <summary>Cap on the rank r. Default 10.</summary>
    public int MaxRank { get; init; } = 10;
    /// <summary>Order K of the resolvent hierarchy for the correlated prediction. Default 8.</summary>
    public int Order { get; init; } = 8;
    /// <summary>Random bulk ablations (same number of eigenvalues as the outliers), seeded. Default 3.</summary>
    public int BulkDraws { get; init; } = 3;
    /// <summary>Random-direction ablations (rank = number of outliers, Frobenius norm of the outlier component). Default 3.</summary>
    public int RandomDraws { get; init; } = 3;

    /// <summary>Checks every field (ParameterOutOfDomainException naming it).</summary>
    public SpectrumOptions Validate()
    {
        Theory.Core.Validate.NonNegative("kappa", Kappa);
        Theory.Core.Validate.InRange("energy", Energy, 0.0, 1.0);
        Theory.Core.Validate.AtLeast("max-rank", MaxRank, 1);
        Theory.Core.Validate.AtLeast("order", Order, 0);
        Theory.Core.Validate.AtLeast("bulk-draws", BulkDraws, 0);
        Theory.Core.Validate.AtLeast("random-draws", RandomDraws, 0);
        return this;
    }
}

/// <summary>One ablated network: what was removed and how the network performs without it.</summary>
public sealed record AblationRecord
{
    /// <summary>"outliers", "bulk" (random bulk eigenvalues, same count) or "random" (random rank-r direction, same norm).</summary>
    public required string Kind { get; init; }
    /// <summary>Draw index (0 for "outliers").</summary>
    public required int Draw { get; init; }
    /// <summary>Eigenvalues removed (or the rank of the random direction).</summary>
    public required int Removed { get; init; }
    /// <summary>Frobenius norm of the component subtracted from (g/√N)J.</summary>
    public required double Norm { get; init; }
    /// <summary>Window fit error and autonomous run of the ablated network.</summary>
    public required NetworkPerformance Performance { get; init; }
}

/// <summary>Spectrum, outlier predictions and ablations of one trained network.</summary>
public sealed record NetworkSpectrum
{
    /// <summary>The network.</summary>
    public required TrainedSineNetwork Network { get; init; }
    /// <summary>Eigenvalues of the trained (g/√N)J.</summary>
    public required Complex[] Eigenvalues { get; init; }
    /// <summary>Eigenvalues of the initial (g/√N)J0 (the random bulk).</summary>
    public required Complex[] InitialEigenvalues { get; init; }
    /// <summary>The threshold g(1 + κ/√N).</summary>
    public required double Threshold { get; init; }
    /// <summary>Outliers of the trained matrix, by modulus.</summary>
    public required Complex[] Outliers { get; init; }
    /// <summary>Outliers of the initial matrix (expected none).</summary>
    public required Complex[] InitialOutliers { get; init; }
    /// <summary>Order-0 prediction: eigenvalues of the rank-r learned component alone (bulk independent; Tao 2013).</summary>
    public required OutlierPrediction Independent { get; init; }
    /// <summary>Order-K prediction with the bulk–structure overlaps Bᵀ X^k A.</summary>
    public required OutlierPrediction Correlated { get; init; }
    /// <summary>Measured outliers against the order-0 prediction.</summary>
    public required OutlierComparison IndependentComparison { get; init; }
    /// <summary>Measured outliers against the order-K prediction.</summary>
    public required OutlierComparison CorrelatedComparison { get; init; }
    /// <summary>The intact network's window fit and autonomous run.</summary>
    public required NetworkPerformance Intact { get; init; }
    /// <summary>Ablations (empty when the trained matrix has no outlier).</summary>
    public required AblationRecord[] Ablations { get; init; }
}

/// <summary>Outlier eigenvalues of trained networks, their low-rank prediction and their ablation (Clark et al. 2026:
/// "Outlier eigenvalues emerge from the random bulk, several in complex-conjugate pairs ... Ablating these outliers
/// degrades performance substantially; ablating bulk eigenvalues has negligible effect").</summary>
public static class SpectrumAnalysis
{
    /// <summary>Analyses one trained network: eigenvalues of (g/√N)J and (g/√N)J0, outliers beyond g(1 + κ/√N), the
    /// order-0 and order-K predictions from the rank-r truncated SVD of (g/√N)(J − J0) on the bulk (g/√N)J0, and,
    /// when there are outliers, the ablations: outliers removed (spectral component subtracted), the same number of
    /// random bulk eigenvalues removed (<see cref="SpectrumOptions.BulkDraws"/> draws) and a random rank-r direction of
    /// the outlier component's Frobenius norm subtracted (<see cref="SpectrumOptions.RandomDraws"/> draws), each
    /// evaluated by <see cref="SineNetworks.Evaluate"/> with <paramref name="evaluation"/>. Seeded by the network's seed.</summary>
    public static NetworkSpectrum Analyse(TrainedSineNetwork net, PhaseProbeOptions evaluation, SpectrumOptions options)
    {
        var so = options.Validate();
        var w = net.Trained;
        int n = w.Config.N;
        double g = w.Config.G;
        Theory.Core.Validate.Positive("g", g);
        var j = SineNetworks.EffectiveJ(w);
        var j0 = SineNetworks.EffectiveJ(net.Initial);
        var p = new double[n, n];
        for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) p[a, b] = j[a, b] - j0[a, b];
        var dec = OutlierSpectrum.Decompose(j);
        var eig0 = OutlierSpectrum.Eigenvalues(j0);
        var outliers = OutlierSpectrum.Outliers(dec.Eigenvalues, g, n, so.Kappa);
        var (_, _, sv, _) = OutlierSpectrum.LowRank(p, 1).ToValueTuple();
        int rank = OutlierSpectrum.ChooseRank(sv, so.Energy, so.MaxRank);
        var indep = OutlierSpectrum.Predict(j0, p, rank, 0, g, so.Kappa);
        var corr = OutlierSpectrum.Predict(j0, p, rank, so.Order, g, so.Kappa);
        var intact = SineNetworks.Evaluate(w, net.Task, evaluation, net.Seed);
        var ablations = new List<AblationRecord>();
        var idx = OutlierSpectrum.OutlierIndices(dec, g, so.Kappa);
        if (idx.Length > 0)
        {
            var outAbl = OutlierSpectrum.Ablate(dec, idx);
            ablations.Add(new AblationRecord
            {
                Kind = "outliers", Draw = 0, Removed = outAbl.Removed.Length, Norm = outAbl.RemovedNorm,
                Performance = SineNetworks.Evaluate(SineNetworks.WithEffectiveJ(w, outAbl.Matrix), net.Task, evaluation, net.Seed),
            });
            for (int d = 0; d < so.BulkDraws; d++)
            {
                var sel = OutlierSpectrum.RandomBulkIndices(dec, outAbl.Removed.Length, g, so.Kappa, Rng.ForStream(net.Seed, 7100 + d));
                var abl = OutlierSpectrum.Ablate(dec, sel);
                ablations.Add(new AblationRecord
                {
                    Kind = "bulk", Draw = d, Removed = abl.Removed.Length, Norm = abl.RemovedNorm,
                    Performance = SineNetworks.Evaluate(SineNetworks.WithEffectiveJ(w, abl.Matrix), net.Task, evaluation, net.Seed),
                });
            }
            for (int d = 0; d < so.RandomDraws; d++)
            {
                var dir = OutlierSpectrum.RandomDirection(n, outAbl.Removed.Length, outAbl.RemovedNorm, Rng.ForStream(net.Seed, 7200 + d));
                var m = new double[n, n];
                for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) m[a, b] = j[a, b] - dir[a, b];
                ablations.Add(new AblationRecord
                {
                    Kind = "random", Draw = d, Removed = outAbl.Removed.Length, Norm = outAbl.RemovedNorm,
                    Performance = SineNetworks.Evaluate(SineNetworks.WithEffectiveJ(w, m), net.Task, evaluation, net.Seed),
                });
            }
        }
        return new NetworkSpectrum
        {
            Network = net, Eigenvalues = dec.Eigenvalues, InitialEigenvalues = eig0, Threshold = OutlierSpectrum.Threshold(g, n, so.Kappa),
            Outliers = outliers, InitialOutliers = OutlierSpectrum.Outliers(eig0, g, n, so.Kappa),
            Independent = indep, Correlated = corr,
            IndependentComparison = OutlierSpectrum.Compare(outliers, indep, g, n),
            CorrelatedComparison = OutlierSpectrum.Compare(outliers, corr, g, n),
            Intact = intact, Ablations = ablations.ToArray(),
        };
    }
}

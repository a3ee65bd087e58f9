namespace Theory.Simulation.Reservoir;

/// <summary>Empirical structure statistics of a weight matrix (Metzner et al. 2025, §2.6; research note A4).</summary>
/// <param name="Density">D = fraction of non-zero elements.</param>
/// <param name="Balance">B = (n⁺ − n⁻)/(n⁺ + n⁻) [expression reconstructed]; 0 for an all-zero matrix (convention).</param>
/// <param name="Homogeneity">H = mean over columns of |n⁺_j − n⁻_j|/(n⁺_j + n⁻_j), all-zero column → c_H.</param>
/// <param name="Reciprocity">R = mean over pairs i &lt; j of 1 − |W_ij − W_ji|/(|W_ij| + |W_ji|), both zero → c_R.</param>
/// <param name="BalanceCorrectedHomogeneity">H* (not in the paper): tracks h for any b and d (research note A4).</param>
public sealed record StructureStatistics(double Density, double Balance, double Homogeneity, double Reciprocity, double BalanceCorrectedHomogeneity)
{
    /// <summary>Computes D, B, H, R, H* of an N×N row-major matrix. <paramref name="cH"/>, <paramref name="cR"/>: the
    /// conventions for all-zero columns and all-zero pairs [paper: a convention exists; value 1 reconstructed].</summary>
    public static StructureStatistics Compute(ReadOnlySpan<double> w, int n, double cH = 1.0, double cR = 1.0)
    {
        if (n <= 0 || w.Length != n * n)
            throw new Theory.Core.ParameterOutOfDomainException("n", n.ToString(System.Globalization.CultureInfo.InvariantCulture), $"N with N² = {w.Length} elements");
        Theory.Core.Validate.InRange("cH", cH, 0.0, 1.0);
        Theory.Core.Validate.InRange("cR", cR, 0.0, 1.0);
        long plus = 0, minus = 0;
        double hSum = 0;
        // column statistics for H and H*
        double pSum = 0, pSqSum = 0, binomSum = 0;
        int colsWithData = 0;
        for (int j = 0; j < n; j++)
        {
            int cp = 0, cm = 0;
            for (int i = 0; i < n; i++)
            {
                double v = w[i * n + j];
                if (v > 0) cp++; else if (v < 0) cm++;
            }
            plus += cp; minus += cm;
            int nj = cp + cm;
            hSum += nj == 0 ? cH : Math.Abs(cp - cm) / (double)nj;
            if (nj >= 2)
            {
                double p = cp / (double)nj;
                pSum += p; pSqSum += p * p; binomSum += p * (1 - p) / (nj - 1);
                colsWithData++;
            }
        }
        double total = plus + minus;
        double density = total / ((double)n * n);
        double balance = total == 0 ? 0.0 : (plus - minus) / total;
        double homogeneity = hSum / n;
        double rSum = 0;
        long pairs = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
            {
                double a = w[i * n + j], b = w[j * n + i];
                double den = Math.Abs(a) + Math.Abs(b);
                rSum += den == 0 ? cR : 1.0 - Math.Abs(a - b) / den;
                pairs++;
            }
        double reciprocity = pairs == 0 ? cR : rSum / pairs;
        double hStar = 0;
        if (colsWithData > 1 && total > 0)
        {
            double pBar = pSum / colsWithData;
            double varP = pSqSum / colsWithData - pBar * pBar;
            double bigP = plus / total;
            double denom = bigP * (1 - bigP);
            hStar = denom <= 0 ? 1.0 : Math.Sqrt(Math.Max(0, varP - binomSum / colsWithData) / denom);
        }
        return new StructureStatistics(density, balance, homogeneity, reciprocity, hStar);
    }

    /// <summary>Statistics of a generated matrix.</summary>
    public static StructureStatistics Of(WeightMatrix m, double cH = 1.0, double cR = 1.0)
    {
        ArgumentNullException.ThrowIfNull(m);
        return Compute(m.Values, m.N, cH, cR);
    }
}

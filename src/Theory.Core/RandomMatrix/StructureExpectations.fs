namespace Theory.Core.RandomMatrix

open System
open Theory.Core

/// Exact expectations of the empirical structure statistics of Metzner et al. (2025) weight matrices (research note
/// regularities.md A4): the references against which the generator's D, B, H, R are validated (tests and Fig. 2).
module StructureExpectations =
    /// E[H] at density d = 1 for N×N matrices with balance b and Dale homogeneity h, exact at finite N: a column of sign
    /// τ has n⁺ ~ Binomial(N, q_τ) positive entries with q₊ = h + (1 − h)p₊, q₋ = (1 − h)p₊, p₊ = (1 + b)/2, and
    /// H = E|2n⁺ − N|/N averaged over the column signs.
    [<CompiledName("ExpectedHomogeneity")>]
    let expectedH (n: int) (b: float) (h: float) =
        Validate.AtLeast("n", n, 1) |> ignore
        Validate.InRange("b", b, -1.0, 1.0) |> ignore
        Validate.InRange("h", h, 0.0, 1.0) |> ignore
        let pPlus = (1.0 + b) / 2.0
        let e q =
            let d = MathNet.Numerics.Distributions.Binomial(q, n)
            Seq.sum (seq { for k in 0 .. n -> d.Probability k * abs (2.0 * float k - float n) / float n })
        pPlus * e (h + (1.0 - h) * pPlus) + (1.0 - pPlus) * e ((1.0 - h) * pPlus)

    /// E[R] with the convention c_R = 1 (research note A4): r + (1 − r)[d²(1 + b²)/2 · (1 − (2/π) ln 2) + (1 − d)²]
    /// for reciprocity r, balance b and density d.
    [<CompiledName("ExpectedReciprocity")>]
    let expectedR (r: float) (b: float) (d: float) =
        Validate.InRange("r", r, 0.0, 1.0) |> ignore
        Validate.InRange("b", b, -1.0, 1.0) |> ignore
        Validate.InRange("d", d, 0.0, 1.0) |> ignore
        r + (1.0 - r) * (d * d * (1.0 + b * b) / 2.0 * (1.0 - 2.0 / Math.PI * Math.Log 2.0) + (1.0 - d) ** 2.0)

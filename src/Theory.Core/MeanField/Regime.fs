namespace Theory.Core.MeanField

/// Dynamical regime of a free-running discrete-time tanh network (Metzner et al. 2025, §3.2; Krauss et al. 2019).
/// The mean-field theory returns only the first four; <c>OtherPeriodic</c> is the label of a simulated run that is
/// active, not of period ≤ 2 and not chaotic (λ ≤ 0), e.g. a longer cycle.
type Regime =
    /// All activations stay small (set by the biases): the trivial state is linearly stable.
    | Quiescent = 0
    /// A static, saturated (non-trivial) fixed point.
    | Fixpoint = 1
    /// A global period-2 oscillation (mean activity flips sign every step).
    | Oscillatory = 2
    /// Irregular activity with a positive maximal Lyapunov exponent.
    | Chaotic = 3
    /// Simulation only: active, periodic with period > 2 or quasi-periodic, λ ≤ 0.
    | OtherPeriodic = 4

/// Names of the regimes for outputs.
module RegimeNames =
    /// Lower-case name ("quiescent", "fixpoint", "oscillatory", "chaotic", "other-periodic").
    [<CompiledName("Name")>]
    let name (r: Regime) =
        match r with
        | Regime.Quiescent -> "quiescent"
        | Regime.Fixpoint -> "fixpoint"
        | Regime.Oscillatory -> "oscillatory"
        | Regime.Chaotic -> "chaotic"
        | _ -> "other-periodic"

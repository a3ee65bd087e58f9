namespace Theory.Core

open System

/// A parameter lies outside the domain of the formula or engine it was passed to.
/// The message names the parameter, the value received and the allowed range.
/// The CLI maps it to exit code 2.
type ParameterOutOfDomainException(parameter: string, value: string, allowed: string) =
    inherit ArgumentException(sprintf "%s = %s is out of range; allowed: %s" parameter value allowed, parameter)
    /// The parameter's name as the user knows it (e.g. "g", "dt", "N").
    member _.Parameter = parameter
    /// The value received, formatted.
    member _.Value = value
    /// The allowed range, in words.
    member _.Allowed = allowed

/// The parameters are valid, but the equations have no admissible solution there
/// (for example no stationary solution because a denominator changes sign).
/// The message names the condition that fails. The CLI maps it to exit code 2.
type NoSolutionException(message: string) =
    inherit Exception(message)

/// Convergence diagnostics every iterative solver reports.
type ConvergenceInfo =
    { /// Iterations (or function evaluations) used.
      Iterations: int
      /// Final residual in the solver's own norm (documented per solver).
      Residual: float }

/// Why an iterative solver stopped without a solution.
type SolverFailure =
    { /// Name of the solver (e.g. "Brent", "ScsDelta0").
      Solver: string
      /// Iterations used before giving up.
      Iterations: int
      /// Residual when it gave up (may be +infinity when no bracket exists).
      Residual: float
      /// What went wrong, in words.
      Reason: string }
    override this.ToString() =
        sprintf "%s did not converge: %s (iterations %d, residual %.3g)" this.Solver this.Reason this.Iterations this.Residual

/// Raised by the throwing variants of solvers when they do not converge. The CLI maps it to exit code 3.
type NotConvergedException(failure: SolverFailure) =
    inherit Exception(failure.ToString())
    /// The typed failure.
    member _.Failure = failure

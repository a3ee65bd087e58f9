namespace Theory.Core.Dmft

open System
open MathNet.Numerics.Interpolation
open Theory.Core
open Theory.Core.Numerics

/// Numerical settings of the SCS stationary solver (research note dmft-learned.md §6.1). The defaults reproduce the
/// note's §7.1 reference table to its stated tolerances for 1.1 ≤ g ≤ 5.
type ScsSettings =
    { /// Gaussian rule for all expectations (default: trapezoid h = 0.1 on |z| ≤ 9.5; see GaussianQuadrature).
      Rule: GaussianRule
      /// Intervals uniform in s = √(Δ0 − Δ) from Δ0 down to 0.19 Δ0 (default 120).
      UniformLevels: int
      /// Intervals uniform in ln Δ from 0.19 Δ0 down to LogFloor·Δ0 (default 120).
      LogLevels: int
      /// Smallest tabulated Δ/Δ0 (default 1e-5); below it Δ(τ) follows the exact tail e^{−κτ}.
      LogFloor: float
      /// Grid step of the Schrödinger operator for λ_max (default 0.02).
      EigenStep: float
      /// Smallest half-width L of the τ-window of the Schrödinger operator (default 60); the solver uses
      /// max(MinHalfWidth, 12/κ), capped at MaxHalfWidth.
      MinHalfWidth: float
      /// Largest half-width (default 400).
      MaxHalfWidth: float }
    /// The documented defaults.
    static member Default =
        { Rule = GaussianQuadrature.Default
          UniformLevels = 120
          LogLevels = 120
          LogFloor = 1e-5
          EigenStep = 0.02
          MinHalfWidth = 60.0
          MaxHalfWidth = 400.0 }

/// Δ0 with its root-finder report.
type ScsDelta0 =
    { G: float
      /// Stationary variance Δ0 = ⟨x²⟩ (0 for g ≤ 1).
      Delta0: float
      Convergence: ConvergenceInfo }

/// The stationary SCS solution for τ ẋ = −x + g/√N J tanh(x) (τ = 1): Δ0, the autocorrelation Δ(τ) (tabulated by
/// energy quadrature and interpolated), C_φ(τ) and scalar summaries. Sompolinsky, Crisanti & Sommers, PRL 61, 259
/// (1988); research note §2.2.
type ScsSolution =
    { G: float
      /// Stationary variance Δ0 (0 in the quiescent phase g ≤ 1).
      Delta0: float
      /// C_φ(0) = ⟨tanh²(x)⟩.
      PhiVariance: float
      /// Tail rate κ = √(1 − g²⟨φ′⟩²): Δ(τ) ∝ e^{−κτ} as τ → ∞.
      TailRate: float
      /// τ½, the lag at which Δ(τ) = Δ0/2 (the reported correlation time); +∞ is never returned: None when g ≤ 1.
      HalfTime: float option
      /// Tabulated lags τ_k (increasing from 0) and Δ(τ_k).
      TableTau: float[]
      TableDelta: float[]
      /// Δ0 root-finder report.
      Delta0Convergence: ConvergenceInfo
      /// Settings used.
      Settings: ScsSettings }
    /// True in the chaotic phase (g > 1).
    member s.IsChaotic = s.Delta0 > 0.0

/// Stationary SCS dynamical mean-field theory of the random tanh rate network (research note §2.2, §6.1).
[<AbstractClass; Sealed>]
type ScsStationary private () =

    static let splineCache = System.Runtime.CompilerServices.ConditionalWeakTable<float[], IInterpolation>()

    /// log(1 + y) accurate for small y (Goldberg's trick; .NET has no accurate log1p).
    static member Log1p(y: float) =
        let u = 1.0 + y
        if u = 1.0 then y else Math.Log u * y / (u - 1.0)

    /// ln cosh x, accurate for small and large |x|: log1p(2 sinh²(x/2)) for |x| < 1, |x| + log1p(e^{−2|x|}) − ln 2 otherwise.
    static member LogCosh(x: float) =
        let a = abs x
        if a < 1.0 then
            let s = Math.Sinh(0.5 * x)
            ScsStationary.Log1p(2.0 * s * s)
        else a + ScsStationary.Log1p(Math.Exp(-2.0 * a)) - 0.6931471805599453

    static member private ValidateG(g: float) = Validate.NonNegative("g", g) |> ignore

    /// F(Δ)/Δ² for the energy condition Δ²/2 = g² Var[ln cosh(√Δ z)] (research note §2.2): returns
    /// 1/2 − g² Var[ln cosh]/Δ², whose positive root is Δ0.
    static member private ScaledEnergyMismatch(rule: GaussianRule, g: float, delta: float) =
        let s = Math.Sqrt delta
        let mutable m = 0.0
        for i in 0 .. rule.Count - 1 do
            m <- m + rule.Weights.[i] * ScsStationary.LogCosh(s * rule.Nodes.[i])
        let mutable v = 0.0
        for i in 0 .. rule.Count - 1 do
            let d = ScsStationary.LogCosh(s * rule.Nodes.[i]) - m
            v <- v + rule.Weights.[i] * d * d
        0.5 - g * g * v / (delta * delta)

    /// Δ0(g) with a typed failure: Brent on 1/2 − g² Var[ln cosh(√Δ z)]/Δ² (the energy-conservation condition
    /// V(Δ0) = V(0)). Δ0 = 0 for g ≤ 1 (quiescent fixed point). Research note §2.2, §6.1 step 2.
    static member TrySolveStationaryVariance(g: float, rule: GaussianRule) : Result<ScsDelta0, SolverFailure> =
        ScsStationary.ValidateG g
        if g <= 1.0 then Ok { G = g; Delta0 = 0.0; Convergence = { Iterations = 0; Residual = 0.0 } }
        else
            let f = Func<float, float>(fun d -> ScsStationary.ScaledEnergyMismatch(rule, g, d))
            let mutable lo = (g * g - 1.0) / (8.0 * g * g)
            let mutable k = 0
            while f.Invoke lo >= 0.0 && k < 60 do
                lo <- lo / 4.0
                k <- k + 1
            let mutable hi = 2.0 * g * g + 1.0
            k <- 0
            while f.Invoke hi <= 0.0 && k < 30 do
                hi <- hi * 2.0
                k <- k + 1
            match RootFinding.Brent(f, lo, hi, 1e-15 * hi, 300) with
            | Ok r -> Ok { G = g; Delta0 = r.Root; Convergence = { Iterations = r.Iterations; Residual = abs r.Value } }
            | Error e -> Error { e with Solver = "ScsStationary.Delta0" }

    /// Δ0(g) with the default rule; raises NotConvergedException on failure.
    static member SolveStationaryVariance(g: float) : ScsDelta0 =
        match ScsStationary.TrySolveStationaryVariance(g, GaussianQuadrature.Default) with
        | Ok r -> r
        | Error e -> raise (NotConvergedException e)

    /// C_f(Δ; Δ0) = E[f(a) f(b)] for jointly Gaussian (a, b) with variances Δ0 and covariance Δ.
    static member CorrelationOf(rule: GaussianRule, f: Func<float, float>, delta: float, delta0: float) =
        GaussianQuadrature.NestedSquare(rule, min delta delta0, delta0, f)

    /// The potential V(Δ; Δ0) = −Δ²/2 + g² E[Φ(a)Φ(b)], Φ = ln cosh (research note §2.2).
    static member Potential(rule: GaussianRule, g: float, delta: float, delta0: float) =
        -0.5 * delta * delta + g * g * ScsStationary.CorrelationOf(rule, Func<float, float>(ScsStationary.LogCosh), delta, delta0)

    /// Full stationary solution: Δ0, Δ(τ) by energy quadrature τ(Δ) = ∫_Δ^{Δ0} dΔ′/√(2[V(Δ0) − V(Δ′)]) (never by
    /// shooting: the solution lies on a separatrix), tail rate κ and τ½. Research note §2.2 and §6.1 step 3.
    static member Solve(g: float, settings: ScsSettings) : ScsSolution =
        let rule = settings.Rule
        Validate.AtLeast("UniformLevels", settings.UniformLevels, 4) |> ignore
        Validate.AtLeast("LogLevels", settings.LogLevels, 4) |> ignore
        Validate.InRange("LogFloor", settings.LogFloor, 1e-12, 0.1) |> ignore
        let d0r =
            match ScsStationary.TrySolveStationaryVariance(g, rule) with
            | Ok r -> r
            | Error e -> raise (NotConvergedException e)
        let d0 = d0r.Delta0
        let dphi = Func<float, float>(fun x -> let t = Math.Tanh x in 1.0 - t * t)
        if d0 = 0.0 then
            { G = g; Delta0 = 0.0; PhiVariance = 0.0; TailRate = Math.Sqrt(max 0.0 (1.0 - g * g)); HalfTime = None
              TableTau = [| 0.0 |]; TableDelta = [| 0.0 |]; Delta0Convergence = d0r.Convergence; Settings = settings }
        else
            let meanDphi = GaussianQuadrature.Expect(rule, d0, dphi)
            let kappa2 = 1.0 - g * g * meanDphi * meanDphi
            if not (kappa2 > 0.0) then
                raise (NoSolutionException(sprintf "SCS: tail rate κ² = 1 − g²⟨φ′⟩² = %g ≤ 0 at g = %g" kappa2 g))
            let kappa = Math.Sqrt kappa2
            let v0 = ScsStationary.Potential(rule, g, d0, d0)
            let gap (delta: float) = max 0.0 (v0 - ScsStationary.Potential(rule, g, delta, d0))
            // 4-point Gauss–Legendre on [0,1]
            let glx = [| 0.0694318442029737; 0.3300094782075719; 0.6699905217924281; 0.9305681557970263 |]
            let glw = [| 0.1739274225687269; 0.3260725774312731; 0.3260725774312731; 0.1739274225687269 |]
            // Segment A: s ∈ [0, sA], Δ = Δ0 − s², dτ = 2s ds / √(2 gap)
            let nA = settings.UniformLevels
            let sA = Math.Sqrt(0.81 * d0)
            let hA = sA / float nA
            let incA =
                Array.Parallel.init nA (fun k ->
                    let a = float k * hA
                    let mutable acc = 0.0
                    for q in 0 .. 3 do
                        let s = a + glx.[q] * hA
                        acc <- acc + glw.[q] * 2.0 * s / Math.Sqrt(2.0 * gap (d0 - s * s))
                    acc * hA)
            // Segment B: u = ln Δ from ln(0.19Δ0) down to ln(floor·Δ0), dτ = Δ du / √(2 gap)
            let nB = settings.LogLevels
            let uTop = Math.Log(0.19 * d0)
            let uBot = Math.Log(settings.LogFloor * d0)
            let hB = (uTop - uBot) / float nB
            let incB =
                Array.Parallel.init nB (fun k ->
                    let top = uTop - float k * hB
                    let mutable acc = 0.0
                    for q in 0 .. 3 do
                        let u = top - glx.[q] * hB
                        let delta = Math.Exp u
                        acc <- acc + glw.[q] * delta / Math.Sqrt(2.0 * gap delta)
                    acc * hB)
            let taus = Array.zeroCreate (nA + nB + 1)
            let deltas = Array.zeroCreate (nA + nB + 1)
            deltas.[0] <- d0
            for k in 1 .. nA do
                taus.[k] <- taus.[k - 1] + incA.[k - 1]
                let s = float k * hA
                deltas.[k] <- d0 - s * s
            for k in 1 .. nB do
                taus.[nA + k] <- taus.[nA + k - 1] + incB.[k - 1]
                deltas.[nA + k] <- Math.Exp(uTop - float k * hB)
            let sol =
                { G = g; Delta0 = d0; PhiVariance = GaussianQuadrature.Expect(rule, d0, Func<float, float>(fun x -> let t = Math.Tanh x in t * t))
                  TailRate = kappa; HalfTime = None; TableTau = taus; TableDelta = deltas
                  Delta0Convergence = d0r.Convergence; Settings = settings }
            let half =
                match RootFinding.Brent(Func<float, float>(fun t -> ScsStationary.Autocorrelation(sol, t) - 0.5 * d0), 0.0, taus.[taus.Length - 1]) with
                | Ok r -> r.Root
                | Error e -> raise (NotConvergedException { e with Solver = "ScsStationary.HalfTime" })
            { sol with HalfTime = Some half }

    /// Solve with the default settings.
    static member Solve(g: float) = ScsStationary.Solve(g, ScsSettings.Default)

    /// Interpolant of ln Δ(τ) over the table (cubic spline, zero slope at τ = 0), built once per solution.
    static member private Spline(sol: ScsSolution) : IInterpolation =
        splineCache.GetValue(
            sol.TableTau,
            fun _ ->
                let lnD = sol.TableDelta |> Array.map Math.Log
                CubicSpline.InterpolateBoundariesSorted(
                    sol.TableTau, lnD, SplineBoundaryCondition.FirstDerivative, 0.0,
                    SplineBoundaryCondition.FirstDerivative, -sol.TailRate) :> IInterpolation)

    /// Δ(τ) at any lag (even in τ): spline on the energy-quadrature table, exact tail e^{−κτ} beyond it.
    static member Autocorrelation(sol: ScsSolution, tau: float) =
        if not (Double.IsFinite tau) then raise (ParameterOutOfDomainException("tau", string tau, "a finite lag"))
        if sol.Delta0 = 0.0 then 0.0
        else
            let t = abs tau
            let last = sol.TableTau.Length - 1
            if t >= sol.TableTau.[last] then sol.TableDelta.[last] * Math.Exp(-sol.TailRate * (t - sol.TableTau.[last]))
            else Math.Exp((ScsStationary.Spline sol).Interpolate t)

    /// C_φ(τ) = ⟨tanh x(t) tanh x(t+τ)⟩ = C(Δ(τ); Δ0) (research note §2.2).
    static member PhiAutocorrelation(sol: ScsSolution, tau: float) =
        if sol.Delta0 = 0.0 then 0.0
        else
            ScsStationary.CorrelationOf(sol.Settings.Rule, Func<float, float>(Math.Tanh), ScsStationary.Autocorrelation(sol, tau), sol.Delta0)

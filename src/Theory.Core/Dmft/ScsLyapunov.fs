namespace Theory.Core.Dmft

open System
open MathNet.Numerics.Interpolation
open Theory.Core
open Theory.Core.Numerics

/// Maximal Lyapunov exponent from the DMFT with its self-test.
type ScsLyapunovResult =
    { G: float
      /// λ_max = −1 + √(1 − E0) (g − 1 in the quiescent phase).
      LambdaMax: float
      /// Ground-state energy E0 of H = −∂τ² + 1 − g² C_φ′(τ).
      GroundEnergy: float
      /// Second eigenvalue E1: the time-translation zero mode ψ = Δ′(τ), so E1 ≈ 0 is the solver's self-test.
      ZeroModeEnergy: float
      /// Half-width L of the τ-window and grid step used.
      HalfWidth: float
      Step: float }

/// Maximal Lyapunov exponent of the random tanh network from the DMFT: the Schrödinger-type eigenproblem of the
/// linearised two-replica dynamics, H ψ = [−∂τ² + 1 − g² C_φ′(τ)] ψ = E ψ, λ_max = −1 + √(1 − E0)
/// (Sompolinsky, Crisanti & Sommers 1988; Crisanti & Sompolinsky 2018; research note §2.3, §6.1 step 4).
[<AbstractClass; Sealed>]
type ScsLyapunov private () =

    /// Number of eigenvalues below x of the symmetric tridiagonal matrix (diag d, constant off-diagonal e) — Sturm count.
    static member SturmCount(diag: float[], off: float, x: float) =
        let e2 = off * off
        let mutable q = diag.[0] - x
        let mutable count = if q < 0.0 then 1 else 0
        for i in 1 .. diag.Length - 1 do
            let qq = if q = 0.0 then 1e-300 else q
            q <- diag.[i] - x - e2 / qq
            if q < 0.0 then count <- count + 1
        count

    /// The k-th smallest eigenvalue (k = 0, 1, …) of a symmetric tridiagonal matrix with constant off-diagonal, by
    /// Sturm bisection to absolute tolerance tol.
    static member TridiagonalEigenvalue(diag: float[], off: float, k: int, tol: float) =
        let mutable lo = Array.min diag - 2.0 * abs off - 1.0
        let mutable hi = Array.max diag + 2.0 * abs off + 1.0
        while hi - lo > tol do
            let mid = 0.5 * (lo + hi)
            if ScsLyapunov.SturmCount(diag, off, mid) > k then hi <- mid else lo <- mid
        0.5 * (lo + hi)

    /// λ_max for a solved stationary state.
    static member Solve(sol: ScsSolution) : ScsLyapunovResult =
        let g = sol.G
        let st = sol.Settings
        if sol.Delta0 = 0.0 then
            // quiescent: C_φ′ ≡ φ′(0)² = 1, H = −∂² + 1 − g², E0 = 1 − g², λ = g − 1 (the circular-law edge)
            { G = g; LambdaMax = g - 1.0; GroundEnergy = 1.0 - g * g; ZeroModeEnergy = 0.0
              HalfWidth = 0.0; Step = st.EigenStep }
        else
            let rule = st.Rule
            let dphi = Func<float, float>(fun x -> let t = Math.Tanh x in 1.0 - t * t)
            // C_φ′ as a function of Δ on the tabulated levels (plus Δ = 0), spline in Δ.
            let levels = Array.append [| 0.0 |] (Array.rev sol.TableDelta)
            let cdphi = levels |> Array.Parallel.map (fun d -> ScsStationary.CorrelationOf(rule, dphi, d, sol.Delta0))
            let spline = CubicSpline.InterpolateNaturalSorted(levels, cdphi)
            let L = min st.MaxHalfWidth (max st.MinHalfWidth (12.0 / sol.TailRate))
            let h = st.EigenStep
            let n = int (Math.Round(2.0 * L / h)) - 1
            let diag =
                Array.init n (fun i ->
                    let tau = -L + float (i + 1) * h
                    let d = ScsStationary.Autocorrelation(sol, tau)
                    2.0 / (h * h) + 1.0 - g * g * spline.Interpolate d)
            let off = -1.0 / (h * h)
            let e0 = ScsLyapunov.TridiagonalEigenvalue(diag, off, 0, 1e-13)
            let e1 = ScsLyapunov.TridiagonalEigenvalue(diag, off, 1, 1e-13)
            { G = g; LambdaMax = -1.0 + Math.Sqrt(1.0 - e0); GroundEnergy = e0; ZeroModeEnergy = e1; HalfWidth = L; Step = h }

    /// λ_max(g) with default settings.
    static member Solve(g: float) = ScsLyapunov.Solve(ScsStationary.Solve g)

namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open Theory.Core

/// Joint closed-loop matrix of double integrator + linear RNN controller (Ger &amp; Barak 2025, Eq. 7, 8, App. A.1, C.2).
/// State s = (x; h); the episode timing h₀ = 0, u₀ = 0 is reproduced by s_{t+1} = P s_t from s₀ = (x₀; 0).
module JointMatrix =
    let private checkA (a: float) = Validate.InRange("a", a, Double.Epsilon, 1.0) |> ignore

    /// Full joint matrix for a general W (N × N), input m and readout z, leaky factor a = Δ/τ ∈ (0, 1], step Δ:
    /// P = [[A, B zᵀ], [a m C A, (1 − a)I + aW + a m C B zᵀ]] (CB = 0 for the double integrator).
    /// a = Δ = 1 gives Eq. 7.
    [<CompiledName("Full")>]
    let full (dt: float) (a: float) (w: float[,]) (m: float[]) (z: float[]) =
        Validate.Positive("dt", dt) |> ignore
        checkA a
        let n = m.Length
        if Array2D.length1 w <> n || Array2D.length2 w <> n then
            raise (ParameterOutOfDomainException("W", sprintf "%dx%d" (Array2D.length1 w) (Array2D.length2 w), sprintf "%dx%d (N = length of m)" n n))
        if z.Length <> n then raise (ParameterOutOfDomainException("z", sprintf "length %d" z.Length, sprintf "length %d (as m)" n))
        Validate.AllFinite("m", m) |> ignore
        Validate.AllFinite("z", z) |> ignore
        let p = Array2D.zeroCreate (n + 2) (n + 2)
        p.[0, 0] <- 1.0
        p.[0, 1] <- dt
        p.[1, 1] <- 1.0
        for j in 0 .. n - 1 do
            p.[1, 2 + j] <- dt * z.[j]          // B zᵀ, B = (0, Δ)
        for i in 0 .. n - 1 do
            p.[2 + i, 0] <- a * m.[i]            // a m C A, C A = (1, Δ)
            p.[2 + i, 1] <- a * m.[i] * dt
            for j in 0 .. n - 1 do
                let wij = w.[i, j]
                if not (Double.IsFinite wij) then raise (ParameterOutOfDomainException(sprintf "W[%d,%d]" i j, string wij, "a finite number"))
                p.[2 + i, 2 + j] <- a * wij + (if i = j then 1.0 - a else 0.0)
        p

    /// W = u vᵀ + g J (rank one plus random bulk).
    [<CompiledName("RankOne")>]
    let rankOne (u: float[]) (v: float[]) = Array2D.init u.Length v.Length (fun i j -> u.[i] * v.[j])

    /// Exact 4×4 reduction on R² ⊕ span{m, u} for W = u vᵀ (Eq. 8; leaky form App. A.1, derived), coordinates
    /// ξ = (x⁽¹⁾, x⁽²⁾, κ^m, κ^u) with h = κ^m m + κ^u u:
    /// [[1, Δ, 0, 0], [0, 1, Δσ_zm, Δσ_zu], [a, aΔ, 1 − a, 0], [0, 0, aσ_vm, 1 − a + aσ_vu]].
    [<CompiledName("Reduced")>]
    let reduced (dt: float) (a: float) (o: Overlaps) =
        Validate.Positive("dt", dt) |> ignore
        checkA a
        array2D [ [ 1.0; dt; 0.0; 0.0 ]
                  [ 0.0; 1.0; dt * o.Szm; dt * o.Szu ]
                  [ a; a * dt; 1.0 - a; 0.0 ]
                  [ 0.0; 0.0; a * o.Svm; 1.0 - a + a * o.Svu ] ]

    /// P_eff of Eq. 8 (Δ = a = 1).
    [<CompiledName("Peff")>]
    let peff (o: Overlaps) = reduced 1.0 1.0 o

    /// Residual of the self-consistent eigenvalue equation of App. C.2 (derived, a = 1):
    /// (λ − 1)² − Δ²λ zᵀ(λI − W)⁻¹m, which vanishes at every eigenvalue of P not in spec(W).
    [<CompiledName("SelfConsistentResidual")>]
    let selfConsistentResidual (dt: float) (w: float[,]) (m: float[]) (z: float[]) (lambda: Complex) =
        let n = m.Length
        let mat = MathNet.Numerics.LinearAlgebra.Matrix<Complex>.Build.Dense(n, n, fun i j -> (if i = j then lambda else Complex.Zero) - Complex(w.[i, j], 0.0))
        let rhs = MathNet.Numerics.LinearAlgebra.Vector<Complex>.Build.Dense(n, fun i -> Complex(m.[i], 0.0))
        let sol = mat.Solve rhs
        let mutable s = Complex.Zero
        for i in 0 .. n - 1 do
            s <- s + z.[i] * sol.[i]
        (lambda - 1.0) * (lambda - 1.0) - dt * dt * lambda * s

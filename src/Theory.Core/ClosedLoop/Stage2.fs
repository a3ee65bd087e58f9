namespace Theory.Core.ClosedLoop

open System
open System.Numerics
open Theory.Core
open Theory.Core.Numerics

/// One gradient-descent step on the overlaps under the blended loss L_α (Eq. 14).
type Stage2Step =
    { Step: int
      Overlaps: Overlaps
      /// L_α, L_∞^T and L₀ at these overlaps.
      Loss: float
      LInfinity: float
      L0: float
      /// ∂L_α/∂(σ_zm, σ_zu, σ_vm, σ_vu) (exact, forward-mode dual numbers).
      Gradient: float[]
      /// The complex root λ_c of χ (Im &gt; 0), if χ has a complex pair.
      ComplexRoot: Complex option
      /// The real root λ_r.
      RealRoot: float }

/// Settings of the α-model (paper §6 protocol; figure defaults T = 10, n = 3, lr 10⁻³, clip 1).
type AlphaModelSettings =
    { /// Blend α ∈ [0, 1].
      Alpha: float
      /// Exponent T of L_∞^T (plays the role of the episode length).
      Horizon: int
      /// Early step n of the surrogate L₀ = ‖[P_eff^n]_xx‖²_F (code: 3; reconstructed, exposed as a parameter).
      EarlyStep: int
      LearningRate: float
      /// Global 2-norm clip of the gradient (torch rule: scale = min(1, clip/(‖g‖ + 10⁻⁶))); ≤ 0 disables.
      Clip: float
      Steps: int }
    static member Default(alpha: float) =
        { Alpha = alpha; Horizon = 10; EarlyStep = 3; LearningRate = 1e-3; Clip = 1.0; Steps = 240 }

/// Stage 2 of closed-loop learning: Vieta relations, perturbation of the real root, surrogate losses and the
/// α-model (Ger &amp; Barak 2025, Eq. 11–14, App. C.6).
module Stage2 =
    /// Residuals of the three Vieta relations for roots λ_r, λ_c (derived):
    /// λ_r + 2Re λ_c − (σ_vu + 2); |λ_c|² + 2λ_r Re λ_c − (1 + 2σ_vu − σ_zm); λ_r|λ_c|² − (σ_vu(1 − σ_zm) + σ_vmσ_zu).
    [<CompiledName("VietaResiduals")>]
    let vietaResiduals (o: Overlaps) (lr: float) (lc: Complex) =
        let m2 = lc.Magnitude * lc.Magnitude
        [| lr + 2.0 * lc.Real - (o.Svu + 2.0)
           m2 + 2.0 * lr * lc.Real - (1.0 + 2.0 * o.Svu - o.Szm)
           lr * m2 - (o.Svu * (1.0 - o.Szm) + o.Epsilon) |]

    // ---- dual-number forms (exact derivatives) ----
    let private d (x: float) = Dual.Const x

    /// Eq. 11, first form (Vieta 1 and 2): |λ_c|² = λ_r² − (σ_vu + 2)λ_r + 1 + 2σ_vu − σ_zm.
    let eq11D (o: Dual[]) (lr: Dual) = lr * lr - (o.[3] + 2.0) * lr + 1.0 + 2.0 * o.[3] - o.[0]

    /// Eq. 12: λ_r ≈ σ_vu + σ_vmσ_zu / q(σ_vu), q(σ_vu) = σ_vu² − 2σ_vu + 1 − σ_zm.
    let eq12D (o: Dual[]) = o.[3] + o.[2] * o.[1] / (o.[3] * o.[3] - 2.0 * o.[3] + 1.0 - o.[0])

    /// L_∞^T = (|λ_c|²~)^T with Eq. 12 substituted into Eq. 11.
    let lInfD (horizon: int) (o: Dual[]) = Dual.Pow(eq11D o (eq12D o), float horizon)

    /// L₀ = ‖[P_eff^n]_xx‖²_F (Eq. 13) by 4×4 dual-number matrix powers.
    let l0D (n: int) (o: Dual[]) =
        let z = d 0.0
        let one = d 1.0
        let p = [| [| one; one; z; z |]; [| z; one; o.[0]; o.[1] |]; [| one; one; z; z |]; [| z; z; o.[2]; o.[3] |] |]
        let mul (a: Dual[][]) (b: Dual[][]) =
            Array.init 4 (fun i -> Array.init 4 (fun j ->
                let mutable s = d 0.0
                for k in 0 .. 3 do
                    s <- s + a.[i].[k] * b.[k].[j]
                s))
        let mutable r = Array.init 4 (fun i -> Array.init 4 (fun j -> if i = j then one else z))
        for _ in 1 .. n do
            r <- mul r p
        r.[0].[0] * r.[0].[0] + r.[0].[1] * r.[0].[1] + r.[1].[0] * r.[1].[0] + r.[1].[1] * r.[1].[1]

    let private lAlphaD (s: AlphaModelSettings) (o: Dual[]) =
        s.Alpha * lInfD s.Horizon o + (1.0 - s.Alpha) * l0D s.EarlyStep o

    let private consts (o: Overlaps) = o.ToArray() |> Array.map d

    /// Eq. 11, first form.
    [<CompiledName("ComplexModulusSquared")>]
    let eq11 (o: Overlaps) (lr: float) = (eq11D (consts o) (d lr)).Value

    /// Eq. 11, second form (third Vieta relation): |λ_c|² = (σ_vu(1 − σ_zm) + σ_vmσ_zu)/λ_r.
    [<CompiledName("ComplexModulusSquaredVieta3")>]
    let eq11Alt (o: Overlaps) (lr: float) =
        if lr = 0.0 then raise (NoSolutionException "the second form of Eq. 11 needs lambda_r != 0")
        (o.Svu * (1.0 - o.Szm) + o.Epsilon) / lr

    /// Eq. 12, first-order perturbation of λ_r about σ_vu. Raises NoSolutionException when q(σ_vu) = 0.
    [<CompiledName("RealRootApproximation")>]
    let eq12 (o: Overlaps) =
        let qv = o.Svu * o.Svu - 2.0 * o.Svu + 1.0 - o.Szm
        if qv = 0.0 then raise (NoSolutionException "Eq. 12 is singular: q(svu) = 0")
        (eq12D (consts o)).Value

    /// Eq. 11 with Eq. 12 substituted: the long-horizon estimate of |λ_c|².
    [<CompiledName("ComplexModulusSquaredApproximation")>]
    let modulusSquaredApprox (o: Overlaps) = eq11 o (eq12 o)

    /// Long-horizon loss L_∞^T.
    [<CompiledName("LInfinity")>]
    let lInfinity (horizon: int) (o: Overlaps) =
        Validate.PositiveInt("horizon", horizon) |> ignore
        (lInfD horizon (consts o)).Value

    /// Short-time surrogate L₀ = ‖[P_eff^n]_xx‖²_F (Eq. 13; n = 3 in the code).
    [<CompiledName("L0")>]
    let l0 (n: int) (o: Overlaps) =
        Validate.AtLeast("n", n, 0) |> ignore
        (l0D n (consts o)).Value

    /// Closed form of L₀ for n = 3 (derived): (1 + σ_zm)² + (3 + σ_zm)² + (2σ_zm + ε)² + (1 + 3σ_zm + ε)².
    [<CompiledName("L0ClosedForm")>]
    let l0n3 (o: Overlaps) =
        let e = o.Epsilon
        (1.0 + o.Szm) ** 2.0 + (3.0 + o.Szm) ** 2.0 + (2.0 * o.Szm + e) ** 2.0 + (1.0 + 3.0 * o.Szm + e) ** 2.0

    /// Blended loss L_α = α L_∞^T + (1 − α) L₀ (Eq. 14).
    [<CompiledName("LAlpha")>]
    let lAlpha (s: AlphaModelSettings) (o: Overlaps) =
        Validate.InRange("alpha", s.Alpha, 0.0, 1.0) |> ignore
        (lAlphaD s (consts o)).Value

    /// Exact gradient of L_α with respect to (σ_zm, σ_zu, σ_vm, σ_vu) by forward-mode dual numbers.
    [<CompiledName("Gradient")>]
    let gradient (s: AlphaModelSettings) (o: Overlaps) =
        let x = o.ToArray()
        Array.init 4 (fun i -> (lAlphaD s (Array.init 4 (fun j -> Dual(x.[j], (if i = j then 1.0 else 0.0))))).Derivative)

    /// Plain gradient descent on the four overlaps under L_α with global-norm clipping (§6 protocol),
    /// returning the path (step 0 = start) with the roots of χ at every step.
    [<CompiledName("Descend")>]
    let descend (s: AlphaModelSettings) (start: Overlaps) =
        Validate.InRange("alpha", s.Alpha, 0.0, 1.0) |> ignore
        Validate.PositiveInt("horizon", s.Horizon) |> ignore
        Validate.Positive("learningRate", s.LearningRate) |> ignore
        Validate.AtLeast("steps", s.Steps, 0) |> ignore
        Validate.Finite("clip", s.Clip) |> ignore
        let record k (o: Overlaps) =
            let od = consts o
            let li = (lInfD s.Horizon od).Value
            let l0v = (l0D s.EarlyStep od).Value
            let r = Characteristic.roots o
            { Step = k; Overlaps = o; Loss = s.Alpha * li + (1.0 - s.Alpha) * l0v; LInfinity = li; L0 = l0v
              Gradient = gradient s o; ComplexRoot = r.ComplexPair; RealRoot = r.RealRoot }
        let path = Collections.Generic.List<Stage2Step>()
        let mutable cur = record 0 start
        path.Add cur
        for k in 1 .. s.Steps do
            let g = cur.Gradient
            let norm = sqrt (g |> Array.sumBy (fun x -> x * x))
            if not (Double.IsFinite norm) then
                raise (NoSolutionException(sprintf "the gradient of L_alpha became non-finite at step %d" k))
            let scale = if s.Clip > 0.0 then min 1.0 (s.Clip / (norm + 1e-6)) else 1.0
            let x = cur.Overlaps.ToArray()
            let next = Array.init 4 (fun i -> x.[i] - s.LearningRate * scale * g.[i])
            cur <- record k (Overlaps.OfArray next)
            path.Add cur
        path.ToArray()

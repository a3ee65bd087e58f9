namespace Theory.Core.ClosedLoop

open Theory.Core

/// Linear plant x_{t+1} = A x_t + B u_t, y_t = C x_t (Ger &amp; Barak 2025, Eq. 1–2).
/// The double integrator is the order-2 case: A = [[1, Δ], [0, 1]], B = (0, Δ) (Euler form, as in the authors'
/// code, not zero-order hold), C = (1, 0): only position is observed.
type Plant =
    { /// Time step Δ.
      Dt: float
      /// Integrator order K (2 = double integrator).
      Order: int
      /// State matrix (K × K): identity plus Δ on the super-diagonal.
      A: float[,]
      /// Input vector (K): Δ on the last coordinate.
      B: float[]
      /// Observation row (K): (1, 0, …, 0).
      C: float[] }

/// Constructors and one-step dynamics of the plant.
module Plant =
    /// K-th order discrete integrator with step Δ: A_{i,i} = 1, A_{i,i+1} = Δ, B_K = Δ, C = e₁ (paper Eq. 1–2; code
    /// utils.py:31-42).
    [<CompiledName("Integrator")>]
    let integrator (order: int) (dt: float) =
        Validate.AtLeast("order", order, 1) |> ignore
        Validate.Positive("dt", dt) |> ignore
        { Dt = dt
          Order = order
          A = Array2D.init order order (fun i j -> if i = j then 1.0 elif j = i + 1 then dt else 0.0)
          B = Array.init order (fun i -> if i = order - 1 then dt else 0.0)
          C = Array.init order (fun i -> if i = 0 then 1.0 else 0.0) }

    /// The double integrator (K = 2) with step Δ.
    [<CompiledName("DoubleIntegrator")>]
    let doubleIntegrator (dt: float) = integrator 2 dt

    /// One step A x + B u.
    [<CompiledName("Step")>]
    let step (p: Plant) (x: float[]) (u: float) =
        Array.init p.Order (fun i ->
            let mutable s = p.B.[i] * u
            for j in 0 .. p.Order - 1 do
                s <- s + p.A.[i, j] * x.[j]
            s)

    /// Observation y = C x.
    [<CompiledName("Observe")>]
    let observe (p: Plant) (x: float[]) = Array.fold2 (fun s c xi -> s + c * xi) 0.0 p.C x

namespace Theory.Core.Numerics

open System
open Theory.Core

/// Result of a GMRES solve: the solution, the Krylov dimension used and the relative residual ‖b − Ax‖/‖b‖.
type GmresResult =
    { Solution: float[]
      Iterations: int
      RelativeResidual: float }

/// Matrix-free GMRES (Saad & Schultz 1986) from x0 = 0, without restarts: Arnoldi with modified Gram–Schmidt and
/// Givens rotations. The operator is only applied (A·v), so Jacobian-vector products by finite differences serve.
[<AbstractClass; Sealed>]
type Gmres private () =

    /// Solves A·x = b to the relative residual `tolerance` or `maxIterations` Krylov vectors, whichever comes first.
    /// `apply v` must return A·v (a fresh array of b's length). b = 0 returns x = 0.
    static member Solve(apply: Func<float[], float[]>, b: float[], tolerance: float, maxIterations: int) : GmresResult =
        Validate.Positive("tolerance", tolerance) |> ignore
        Validate.AtLeast("maxIterations", maxIterations, 1) |> ignore
        let dim = b.Length
        let norm (v: float[]) = Math.Sqrt(Array.sumBy (fun x -> x * x) v)
        let beta = norm b
        if beta = 0.0 || not (Double.IsFinite beta) then
            { Solution = Array.zeroCreate dim; Iterations = 0; RelativeResidual = (if beta = 0.0 then 0.0 else nan) }
        else
            let m = min maxIterations dim
            let basis = Collections.Generic.List<float[]>()
            basis.Add(Array.map (fun x -> x / beta) b)
            let h = Array2D.zeroCreate (m + 1) m
            let cs = Array.zeroCreate m
            let sn = Array.zeroCreate m
            let g = Array.zeroCreate (m + 1)
            g.[0] <- beta
            let mutable j = 0
            let mutable rel = 1.0
            let mutable stop = false
            while not stop && j < m do
                let w = apply.Invoke basis.[j]
                if w.Length <> dim then raise (ParameterOutOfDomainException("apply", sprintf "a vector of length %d" w.Length, sprintf "length %d (b's)" dim))
                for i in 0 .. j do
                    let vi = basis.[i]
                    let mutable d = 0.0
                    for k in 0 .. dim - 1 do d <- d + w.[k] * vi.[k]
                    h.[i, j] <- d
                    for k in 0 .. dim - 1 do w.[k] <- w.[k] - d * vi.[k]
                let hn = norm w
                h.[j + 1, j] <- hn
                // previous rotations on the new column, then the one that zeroes h[j+1, j]
                for i in 0 .. j - 1 do
                    let t = cs.[i] * h.[i, j] + sn.[i] * h.[i + 1, j]
                    h.[i + 1, j] <- -sn.[i] * h.[i, j] + cs.[i] * h.[i + 1, j]
                    h.[i, j] <- t
                let r = Math.Sqrt(h.[j, j] * h.[j, j] + hn * hn)
                cs.[j] <- (if r = 0.0 then 1.0 else h.[j, j] / r)
                sn.[j] <- (if r = 0.0 then 0.0 else hn / r)
                h.[j, j] <- r
                h.[j + 1, j] <- 0.0
                g.[j + 1] <- -sn.[j] * g.[j]
                g.[j] <- cs.[j] * g.[j]
                rel <- abs g.[j + 1] / beta
                j <- j + 1
                // happy breakdown (the Krylov space is invariant) or converged
                if hn <= 1e-14 * beta || rel <= tolerance then stop <- true
                else basis.Add(Array.map (fun x -> x / hn) w)
            // back substitution on the j×j upper triangle
            let y = Array.zeroCreate j
            for i in j - 1 .. -1 .. 0 do
                let mutable s = g.[i]
                for l in i + 1 .. j - 1 do s <- s - h.[i, l] * y.[l]
                y.[i] <- if h.[i, i] = 0.0 then 0.0 else s / h.[i, i]
            let x = Array.zeroCreate dim
            for i in 0 .. j - 1 do
                let vi = basis.[i]
                for k in 0 .. dim - 1 do x.[k] <- x.[k] + y.[i] * vi.[k]
            { Solution = x; Iterations = j; RelativeResidual = rel }

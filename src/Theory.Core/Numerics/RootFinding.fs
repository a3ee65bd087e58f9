namespace Theory.Core.Numerics

open System
open Theory.Core

/// A root with its convergence report.
type RootResult =
    { Root: float
      /// f(Root).
      Value: float
      Iterations: int }

/// Bracketing root finders. They never extrapolate: without a sign change on the bracket they return a typed
/// failure ("no bracket"), and they report the iteration count and the final residual.
[<AbstractClass; Sealed>]
type RootFinding private () =

    static member private NoBracket(solver, a: float, b: float, fa: float, fb: float) =
        Error
            { Solver = solver
              Iterations = 0
              Residual = Double.PositiveInfinity
              Reason = sprintf "no sign change on [%g, %g] (f = %g, %g): no root bracketed" a b fa fb }

    /// Brent's method (Brent 1973, zeroin) on [a, b] with f(a)·f(b) ≤ 0. Stops when the bracket is below
    /// 2·eps·|x| + tol/2 or f = 0. Returns Error when there is no sign change, f is not finite, or maxIter is hit.
    static member Brent(f: Func<float, float>, a: float, b: float, tol: float, maxIter: int) : Result<RootResult, SolverFailure> =
        let mutable a = a
        let mutable b = b
        let mutable fa = f.Invoke a
        let mutable fb = f.Invoke b
        if not (Double.IsFinite fa && Double.IsFinite fb) then
            Error { Solver = "Brent"; Iterations = 0; Residual = nan; Reason = sprintf "f is not finite at the bracket ends [%g, %g]" a b }
        elif fa * fb > 0.0 then RootFinding.NoBracket("Brent", a, b, fa, fb)
        elif fa = 0.0 then Ok { Root = a; Value = 0.0; Iterations = 0 }
        elif fb = 0.0 then Ok { Root = b; Value = 0.0; Iterations = 0 }
        else
            let mutable c = a
            let mutable fc = fa
            let mutable d = b - a
            let mutable e = d
            let mutable iter = 0
            let mutable result = None
            while result.IsNone do
                iter <- iter + 1
                if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) then
                    c <- a; fc <- fa; d <- b - a; e <- d
                if abs fc < abs fb then
                    a <- b; b <- c; c <- a
                    fa <- fb; fb <- fc; fc <- fa
                let tol1 = 2.0 * Double.Epsilon + 2.0 * 2.2e-16 * abs b + 0.5 * tol
                let xm = 0.5 * (c - b)
                if abs xm <= tol1 || fb = 0.0 then
                    result <- Some(Ok { Root = b; Value = fb; Iterations = iter })
                elif iter > maxIter then
                    result <- Some(Error { Solver = "Brent"; Iterations = iter; Residual = abs fb; Reason = "iteration limit reached" })
                else
                    if abs e >= tol1 && abs fa > abs fb then
                        let s = fb / fa
                        let mutable p = 0.0
                        let mutable q = 0.0
                        if a = c then
                            p <- 2.0 * xm * s
                            q <- 1.0 - s
                        else
                            let q0 = fa / fc
                            let r = fb / fc
                            p <- s * (2.0 * xm * q0 * (q0 - r) - (b - a) * (r - 1.0))
                            q <- (q0 - 1.0) * (r - 1.0) * (s - 1.0)
                        if p > 0.0 then q <- -q
                        p <- abs p
                        let min1 = 3.0 * xm * q - abs (tol1 * q)
                        let min2 = abs (e * q)
                        if 2.0 * p < min min1 min2 then
                            e <- d
                            d <- p / q
                        else
                            d <- xm
                            e <- d
                    else
                        d <- xm
                        e <- d
                    a <- b
                    fa <- fb
                    b <- if abs d > tol1 then b + d else b + (if xm >= 0.0 then tol1 else -tol1)
                    fb <- f.Invoke b
                    if not (Double.IsFinite fb) then
                        result <- Some(Error { Solver = "Brent"; Iterations = iter; Residual = nan; Reason = sprintf "f is not finite at x = %g" b })
            result.Value

    /// Bisection on [a, b]; halves until the bracket is below tol. Robust fallback with the same failure modes as Brent.
    static member Bisection(f: Func<float, float>, a: float, b: float, tol: float, maxIter: int) : Result<RootResult, SolverFailure> =
        let mutable lo = a
        let mutable hi = b
        let mutable flo = f.Invoke lo
        let fhi = f.Invoke hi
        if flo * fhi > 0.0 then RootFinding.NoBracket("Bisection", a, b, flo, fhi)
        else
            let mutable iter = 0
            while abs (hi - lo) > tol && iter < maxIter do
                let mid = 0.5 * (lo + hi)
                let fm = f.Invoke mid
                if fm = 0.0 then
                    lo <- mid
                    hi <- mid
                elif (fm < 0.0) = (flo < 0.0) then
                    lo <- mid
                    flo <- fm
                else hi <- mid
                iter <- iter + 1
            let x = 0.5 * (lo + hi)
            if abs (hi - lo) > tol then
                Error { Solver = "Bisection"; Iterations = iter; Residual = abs (f.Invoke x); Reason = "iteration limit reached" }
            else Ok { Root = x; Value = f.Invoke x; Iterations = iter }

    /// Brent with default tolerance 1e-14·max(1,|b|) and 200 iterations.
    static member Brent(f: Func<float, float>, a: float, b: float) =
        RootFinding.Brent(f, a, b, 1e-14 * max 1.0 (max (abs a) (abs b)), 200)

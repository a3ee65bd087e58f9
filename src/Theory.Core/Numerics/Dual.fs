namespace Theory.Core.Numerics

open System

/// Forward-mode dual number a + b ε (ε² = 0) for exact first derivatives of theory-side formulas.
/// Seed the variable of interest with Dual(x, 1.0); the Derivative of the result is d/dx.
[<Struct; CustomEquality; NoComparison>]
type Dual =
    val Value: float
    val Derivative: float
    new(v, d) = { Value = v; Derivative = d }
    /// A constant (zero derivative).
    static member Const(v: float) = Dual(v, 0.0)
    /// The independent variable (unit derivative).
    static member Var(v: float) = Dual(v, 1.0)
    static member (+)(a: Dual, b: Dual) = Dual(a.Value + b.Value, a.Derivative + b.Derivative)
    static member (-)(a: Dual, b: Dual) = Dual(a.Value - b.Value, a.Derivative - b.Derivative)
    static member (*)(a: Dual, b: Dual) = Dual(a.Value * b.Value, a.Derivative * b.Value + a.Value * b.Derivative)
    static member (/)(a: Dual, b: Dual) =
        Dual(a.Value / b.Value, (a.Derivative * b.Value - a.Value * b.Derivative) / (b.Value * b.Value))
    static member (~-)(a: Dual) = Dual(-a.Value, -a.Derivative)
    static member (+)(a: Dual, c: float) = Dual(a.Value + c, a.Derivative)
    static member (+)(c: float, a: Dual) = Dual(a.Value + c, a.Derivative)
    static member (-)(a: Dual, c: float) = Dual(a.Value - c, a.Derivative)
    static member (-)(c: float, a: Dual) = Dual(c - a.Value, -a.Derivative)
    static member (*)(a: Dual, c: float) = Dual(a.Value * c, a.Derivative * c)
    static member (*)(c: float, a: Dual) = Dual(a.Value * c, a.Derivative * c)
    static member (/)(a: Dual, c: float) = Dual(a.Value / c, a.Derivative / c)
    static member Sqrt(a: Dual) =
        let s = Math.Sqrt a.Value
        Dual(s, a.Derivative / (2.0 * s))
    static member Exp(a: Dual) =
        let e = Math.Exp a.Value
        Dual(e, a.Derivative * e)
    static member Log(a: Dual) = Dual(Math.Log a.Value, a.Derivative / a.Value)
    static member Tanh(a: Dual) =
        let t = Math.Tanh a.Value
        Dual(t, a.Derivative * (1.0 - t * t))
    static member Sin(a: Dual) = Dual(Math.Sin a.Value, a.Derivative * Math.Cos a.Value)
    static member Cos(a: Dual) = Dual(Math.Cos a.Value, -a.Derivative * Math.Sin a.Value)
    static member Pow(a: Dual, p: float) =
        Dual(Math.Pow(a.Value, p), a.Derivative * p * Math.Pow(a.Value, p - 1.0))
    static member Abs(a: Dual) = if a.Value >= 0.0 then a else -a
    override this.Equals(o: obj) =
        match o with
        | :? Dual as d -> d.Value = this.Value && d.Derivative = this.Derivative
        | _ -> false
    override this.GetHashCode() = HashCode.Combine(this.Value, this.Derivative)
    override this.ToString() = sprintf "%g + %gε" this.Value this.Derivative

namespace Theory.Core

open System
open System.Globalization

/// Parameter-domain checks shared by the theory and the engines. Each raises
/// <see cref="ParameterOutOfDomainException"/> naming the parameter and the allowed range.
[<AbstractClass; Sealed>]
type Validate private () =
    static member private Fmt(x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    /// Requires a finite value.
    static member Finite(name: string, x: float) =
        if not (Double.IsFinite x) then raise (ParameterOutOfDomainException(name, Validate.Fmt x, "a finite number"))
        x

    /// Requires a finite value ≥ 0.
    static member NonNegative(name: string, x: float) =
        if not (Double.IsFinite x) || x < 0.0 then
            raise (ParameterOutOfDomainException(name, Validate.Fmt x, "a finite number >= 0"))
        x

    /// Requires a finite value > 0.
    static member Positive(name: string, x: float) =
        if not (Double.IsFinite x) || x <= 0.0 then
            raise (ParameterOutOfDomainException(name, Validate.Fmt x, "a finite number > 0"))
        x

    /// Requires lo ≤ x ≤ hi (finite).
    static member InRange(name: string, x: float, lo: float, hi: float) =
        if not (Double.IsFinite x) || x < lo || x > hi then
            raise (ParameterOutOfDomainException(name, Validate.Fmt x, sprintf "[%s, %s]" (Validate.Fmt lo) (Validate.Fmt hi)))
        x

    /// Requires an integer ≥ 1.
    static member PositiveInt(name: string, n: int) =
        if n <= 0 then raise (ParameterOutOfDomainException(name, string n, "an integer >= 1"))
        n

    /// Requires an integer ≥ lo.
    static member AtLeast(name: string, n: int, lo: int) =
        if n < lo then raise (ParameterOutOfDomainException(name, string n, sprintf "an integer >= %d" lo))
        n

    /// Requires every entry finite.
    static member AllFinite(name: string, xs: float[]) =
        for i in 0 .. xs.Length - 1 do
            if not (Double.IsFinite xs.[i]) then
                raise (ParameterOutOfDomainException(sprintf "%s[%d]" name i, Validate.Fmt xs.[i], "a finite number"))
        xs

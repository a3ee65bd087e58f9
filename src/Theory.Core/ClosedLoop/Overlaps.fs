namespace Theory.Core.ClosedLoop

open System
open Theory.Core

/// The four overlaps of the rank-one linear agent W = u vᵀ (Ger &amp; Barak 2025, Eq. 8): raw dot products, no 1/N.
/// Ordered (σ_zm, σ_zu, σ_vm, σ_vu) everywhere in the library.
type Overlaps =
    { /// σ_zm = zᵀm: the direct position gain (stage 1: k₁ = σ_zm).
      Szm: float
      /// σ_zu = zᵀu.
      Szu: float
      /// σ_vm = vᵀm.
      Svm: float
      /// σ_vu = vᵀu: the non-zero eigenvalue of W = u vᵀ.
      Svu: float }
    /// As an array (σ_zm, σ_zu, σ_vm, σ_vu).
    member o.ToArray() = [| o.Szm; o.Szu; o.Svm; o.Svu |]
    /// ε = σ_vm σ_zu, the coupling of the stage-1 quadratic to the RNN mode.
    member o.Epsilon = o.Svm * o.Szu
    /// From an array (σ_zm, σ_zu, σ_vm, σ_vu); every entry must be finite.
    static member OfArray(a: float[]) =
        if a.Length <> 4 then raise (ParameterOutOfDomainException("overlaps", sprintf "%d entries" a.Length, "4 entries (szm, szu, svm, svu)"))
        { Szm = Validate.Finite("szm", a.[0]); Szu = Validate.Finite("szu", a.[1]); Svm = Validate.Finite("svm", a.[2]); Svu = Validate.Finite("svu", a.[3]) }
    /// Validated constructor.
    static member Create(szm: float, szu: float, svm: float, svu: float) = Overlaps.OfArray [| szm; szu; svm; svu |]
    /// The overlaps of vectors m, z, u, v (equal lengths).
    static member OfVectors(m: float[], z: float[], u: float[], v: float[]) =
        let n = m.Length
        for (name, x: float[]) in [ "z", z; "u", u; "v", v ] do
            if x.Length <> n then raise (ParameterOutOfDomainException(name, sprintf "length %d" x.Length, sprintf "length %d (as m)" n))
        let dot (a: float[]) (b: float[]) = Array.fold2 (fun s x y -> s + x * y) 0.0 a b
        Overlaps.OfArray [| dot z m; dot z u; dot v m; dot v u |]

namespace Theory.Core

open System.Reflection

/// Version and provenance stamped into every JSON/CSV output.
[<AbstractClass; Sealed>]
type LibraryInfo private () =
    /// The library version (the assembly's informational version without the source-revision suffix).
    static member Version: string =
        let asm = typeof<LibraryInfo>.Assembly
        match asm.GetCustomAttribute<AssemblyInformationalVersionAttribute>() with
        | null -> string (asm.GetName().Version)
        | a ->
            let v = a.InformationalVersion
            match v.IndexOf '+' with
            | -1 -> v
            | i -> v.Substring(0, i)

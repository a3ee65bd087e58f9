namespace Theory.Core.Io

open System
open System.Globalization
open System.IO
open Theory.Core

/// CSV outputs: a comment header with the parameters, the seed and the library version, then a header row and rows
/// in invariant culture with round-trip precision.
[<AbstractClass; Sealed>]
type Csv private () =
    /// Formats a float with round-trip precision (invariant culture).
    static member Format(x: float) = x.ToString("R", CultureInfo.InvariantCulture)

    /// Writes `# key=value` metadata lines (library version added), a header and the rows.
    static member Write(path: string, metadata: (string * string) seq, header: string[], rows: float[] seq) =
        let dir = Path.GetDirectoryName(Path.GetFullPath path)
        if not (String.IsNullOrEmpty dir) then Directory.CreateDirectory dir |> ignore
        use w = new StreamWriter(path)
        w.WriteLine(sprintf "# theory %s" LibraryInfo.Version)
        w.WriteLine(sprintf "# denseBackend=%s" (Numerics.DenseKernels.Backend.ToString().ToLowerInvariant()))
        for (k, v) in metadata do
            w.WriteLine(sprintf "# %s=%s" k v)
        w.WriteLine(String.Join(",", header))
        rows |> Seq.iteri (fun i r ->
            if r.Length <> header.Length then
                raise (ArgumentException(sprintf "CSV row has %d columns, header has %d" r.Length header.Length))
            r |> Array.iteri (fun j x ->
                if not (Double.IsFinite x) then
                    raise (InvalidOperationException(sprintf "non-finite value %g in CSV column '%s', row %d (use Csv.WriteMeasured for unmeasured cells)" x header.[j] i)))
            w.WriteLine(String.Join(",", r |> Array.map Csv.Format)))

    /// As Write, but a non-finite value is an unmeasured cell and is written empty (the CSV form of the JSON null of
    /// Json.Measured); NaN never appears in the file.
    static member WriteMeasured(path: string, metadata: (string * string) seq, header: string[], rows: float[] seq) =
        let dir = Path.GetDirectoryName(Path.GetFullPath path)
        if not (String.IsNullOrEmpty dir) then Directory.CreateDirectory dir |> ignore
        use w = new StreamWriter(path)
        w.WriteLine(sprintf "# theory %s" LibraryInfo.Version)
        w.WriteLine(sprintf "# denseBackend=%s" (Numerics.DenseKernels.Backend.ToString().ToLowerInvariant()))
        for (k, v) in metadata do
            w.WriteLine(sprintf "# %s=%s" k v)
        w.WriteLine("# empty cell = unmeasured")
        w.WriteLine(String.Join(",", header))
        for r in rows do
            if r.Length <> header.Length then
                raise (ArgumentException(sprintf "CSV row has %d columns, header has %d" r.Length header.Length))
            w.WriteLine(String.Join(",", r |> Array.map (fun x -> if Double.IsFinite x then Csv.Format x else "")))

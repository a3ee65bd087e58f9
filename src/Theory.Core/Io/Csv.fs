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

    /// The one writer: comment header (version, dense backend, metadata, extra lines), header row, rows through `cell`.
    static member private WriteWith(path: string, metadata: (string * string) seq, extra: string list, header: string[],
                                    rows: float[] seq, cell: int -> int -> float -> string) =
        let dir = Path.GetDirectoryName(Path.GetFullPath path)
        if not (String.IsNullOrEmpty dir) then Directory.CreateDirectory dir |> ignore
        use w = new StreamWriter(path)
        w.WriteLine(sprintf "# theory %s" LibraryInfo.Version)
        w.WriteLine(sprintf "# denseBackend=%s" (Numerics.DenseKernels.Backend.ToString().ToLowerInvariant()))
        for (k, v) in metadata do
            w.WriteLine(sprintf "# %s=%s" k v)
        for line in extra do w.WriteLine line
        w.WriteLine(String.Join(",", header))
        rows |> Seq.iteri (fun i r ->
            if r.Length <> header.Length then
                raise (ArgumentException(sprintf "CSV row has %d columns, header has %d" r.Length header.Length))
            w.WriteLine(String.Join(",", r |> Array.mapi (fun j x -> cell i j x))))

    /// Writes `# key=value` metadata lines (library version and dense backend added), a header and the rows. A
    /// non-finite value raises InvalidOperationException naming the column and row (use WriteMeasured for unmeasured
    /// cells).
    static member Write(path: string, metadata: (string * string) seq, header: string[], rows: float[] seq) =
        Csv.WriteWith(path, metadata, [], header, rows, fun i j x ->
            if not (Double.IsFinite x) then
                raise (InvalidOperationException(sprintf "non-finite value %g in CSV column '%s', row %d (use Csv.WriteMeasured for unmeasured cells)" x header.[j] i))
            Csv.Format x)

    /// As Write, but a non-finite value is an unmeasured cell and is written empty (the CSV form of the JSON null of
    /// Json.Measured); NaN never appears in the file.
    static member WriteMeasured(path: string, metadata: (string * string) seq, header: string[], rows: float[] seq) =
        Csv.WriteWith(path, metadata, [ "# empty cell = unmeasured" ], header, rows, fun _ _ x -> if Double.IsFinite x then Csv.Format x else "")

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
        for (k, v) in metadata do
            w.WriteLine(sprintf "# %s=%s" k v)
        w.WriteLine(String.Join(",", header))
        for r in rows do
            if r.Length <> header.Length then
                raise (ArgumentException(sprintf "CSV row has %d columns, header has %d" r.Length header.Length))
            w.WriteLine(String.Join(",", r |> Array.map Csv.Format))

namespace Theory.PaperChecks

open System.Text.Json.Nodes

/// What a check is given: where to write figures, whether to run the quick (CI-sized) variant, the base seed,
/// and a progress sink (stderr).
type CheckContext =
    { OutDir: string
      Quick: bool
      Seed: int
      Progress: string -> unit }
    /// Path of a file inside the output folder.
    member c.File(name: string) = System.IO.Path.Combine(c.OutDir, name)

/// One claim of a paper, stated so that it can fail, with what was measured and the verdict.
type Claim =
    { Statement: string
      Measured: string
      Pass: bool }

/// A figure written by a check (file name relative to the report folder).
type Figure = { File: string; Caption: string }

/// The outcome of one check.
type CheckResult =
    { Name: string
      Paper: string
      Title: string
      /// Parameters and seeds used, as strings for the report.
      Parameters: (string * string) list
      Claims: Claim list
      Figures: Figure list
      /// Measured numbers for results.json (keys → JSON values, finite only).
      Numbers: (string * JsonNode) list
      /// Free-text notes (cost, caveats, deviations from the paper).
      Notes: string list
      ElapsedSeconds: float }
    /// PASS when every claim passes.
    member r.Pass = not r.Claims.IsEmpty && r.Claims |> List.forall (fun c -> c.Pass)

/// A registered check.
type PaperCheck =
    { /// Short unique name used by --only (e.g. "scs").
      Name: string
      /// Paper in short form (e.g. "Sompolinsky, Crisanti & Sommers 1988").
      Paper: string
      Title: string
      Run: CheckContext -> CheckResult }

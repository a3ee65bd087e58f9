namespace Theory.PaperChecks

open System
open System.Text.Json.Nodes
open System.Threading

/// What the runner and the checks report while they run. The CLI shows it on stderr: progress bars on a terminal,
/// timestamped lines otherwise (it owns the display; this project only says what happens).
type ProgressEvent =
    /// A line of text.
    | Note of text: string
    /// A counted piece of work begins: its name (unique while it runs) and its total units (0: unknown).
    | Begin of name: string * total: int
    /// Units of the named piece of work done so far.
    | Reached of name: string * completed: int
    /// The named piece of work is over: done, or stopped by a failure.
    | End of name: string * finished: bool

/// A counted piece of work of a check (`use` it): Tick per unit done (thread-safe), Done at the end; disposing it
/// before Done reports it stopped.
type ProgressCounter(report: ProgressEvent -> unit, name: string, total: int) =
    let mutable completed = 0
    let mutable over = 0
    do report (Begin(name, total))
    /// One more unit done.
    member _.Tick() = report (Reached(name, Interlocked.Increment(&completed)))
    /// The piece of work is over.
    member _.Done() = if Interlocked.Exchange(&over, 1) = 0 then report (End(name, true))
    interface IDisposable with
        member _.Dispose() = if Interlocked.Exchange(&over, 1) = 0 then report (End(name, false))

/// What a check is given: where to write figures, whether to run the quick (CI-sized) variant, the base seed,
/// and where to report progress (the CLI's stderr display).
type CheckContext =
    { OutDir: string
      Quick: bool
      Seed: int
      /// A line of progress text.
      Progress: string -> unit
      /// Progress events (Count wraps them for counted work).
      Report: ProgressEvent -> unit }
    /// Path of a file inside the output folder.
    member c.File(name: string) = System.IO.Path.Combine(c.OutDir, name)
    /// A counted piece of work (its name and total units), shown as a progress bar on a terminal.
    member c.Count(name: string, total: int) = new ProgressCounter(c.Report, name, total)

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

/// Runs checks, catching each one's failure so one broken check does not hide the others' results.
module Theory.PaperChecks.Runner

open System
open System.Diagnostics
open System.IO

/// Runs the checks in order, reporting progress through `report` (the CLI's stderr display): one counted piece of work
/// "paper-checks" over the checks, one of unknown size per check while it runs, and the checks' own counters and notes.
let run (checks: PaperCheck list) (outDir: string) (quick: bool) (seed: int) (report: ProgressEvent -> unit) : CheckResult list =
    Directory.CreateDirectory outDir |> ignore
    let progress (s: string) = report (Note s)
    let ctx = { OutDir = outDir; Quick = quick; Seed = seed; Progress = progress; Report = report }
    use overall = ctx.Count("paper-checks", checks.Length)
    let results =
        checks
        |> List.mapi (fun i c ->
            progress (sprintf "[%d/%d] %s: %s" (i + 1) checks.Length c.Name c.Title)
            let sw = Stopwatch.StartNew()
            let r =
                try
                    use current = ctx.Count(c.Name, 0)
                    let r = c.Run ctx
                    current.Done()
                    r
                with e ->
                    { Name = c.Name
                      Paper = c.Paper
                      Title = c.Title
                      Parameters = []
                      Claims = [ { Statement = "the check runs to completion"; Measured = sprintf "%s: %s" (e.GetType().Name) e.Message; Pass = false } ]
                      Figures = []
                      Numbers = []
                      Notes = [ e.ToString() ]
                      ElapsedSeconds = 0.0 }
            let r = { r with ElapsedSeconds = sw.Elapsed.TotalSeconds }
            progress (sprintf "[%d/%d] %s: %s (%.1f s)" (i + 1) checks.Length c.Name (if r.Pass then "PASS" else "FAIL") r.ElapsedSeconds)
            overall.Tick()
            // write after every check so an interrupted run still leaves a report
            r)
    Report.write outDir results quick seed
    overall.Done()
    results

/// Runs the checks once per base seed (seed, seed + 100, …: `PassRates.baseSeeds`), each run's report in DIR/seed-K,
/// and writes DIR/pass-rates.md and pass-rates.json: per claim the passes over the runs with a 95% Wilson interval.
let runSeeds (checks: PaperCheck list) (outDir: string) (quick: bool) (seed: int) (count: int) (report: ProgressEvent -> unit) =
    if count < 1 then invalidArg "count" "the number of seeds must be at least 1"
    let seeds = PassRates.baseSeeds seed count
    let runs =
        seeds |> List.mapi (fun i s ->
            report (Note(sprintf "seed %d (%d/%d)" s (i + 1) count))
            s, run checks (Path.Combine(outDir, sprintf "seed-%d" s)) quick s report)
    let rates = PassRates.tally runs
    PassRates.write outDir rates quick seeds
    runs, rates

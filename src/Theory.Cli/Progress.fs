namespace Theory.Cli

open System
open System.Collections.Generic
open System.Globalization
open System.IO
open System.Threading
open System.Threading.Tasks
open Spectre.Console

/// One counted piece of work of a command (g values, probes, epochs, checks). Thread-safe: engines report from
/// parallel workers. Disposing a task that is not done ends it as stopped (a command that failed part-way).
type IProgressTask =
    inherit IDisposable
    /// `units` more units done.
    abstract Advance: units: int -> unit
    /// `completed` units done so far (engines that count for themselves); never moves backwards.
    abstract Set: completed: int -> unit
    /// The piece of work is over.
    abstract Done: unit -> unit

/// Where a command reports its progress: always stderr, never stdout (stdout carries the result, with --json only
/// the JSON object). One reporter per run, chosen once at start-up (see Progress.chooseMode).
type IProgressReporter =
    /// A counted piece of work begins: its name and its total units (>= 1; 0 or less: unknown, no percentage).
    abstract Start: name: string * total: int -> IProgressTask
    /// A line of text (what an engine or a check says it is doing).
    abstract Message: text: string -> unit
    /// A warning: shown even with --quiet.
    abstract Warning: text: string -> unit
    /// The command is over (or failed): stop any live display so that stdout and error lines come after it.
    abstract Close: unit -> unit

/// How progress is shown.
type ProgressMode =
    /// Spectre.Console bars with elapsed and remaining time, on stderr (an interactive terminal).
    | Live
    /// Timestamped lines on stderr (CI, pipes, files, tests).
    | Plain
    /// Nothing but warnings (--quiet).
    | Silent

/// The plain reporter: one timestamped line per event, in a fixed format (grep-able logs):
///
///     [HH:mm:ss] TEXT                                    a message
///     [HH:mm:ss] warning: TEXT                           a warning
///     [HH:mm:ss] NAME: start, TOTAL units                a task begins (", TOTAL units" omitted when unknown)
///     [HH:mm:ss] NAME: K/TOTAL (P%)                      a task's count, at each new tenth of the total and at the end
///     [HH:mm:ss] NAME: done K/TOTAL in S.S s             a task is over (unknown total: "done K in", or "done in"
///                                                       when nothing was counted)
///     [HH:mm:ss] NAME: stopped at K/TOTAL after S.S s    a task ended before it was done (the command failed; unknown
///                                                       total as for done)
///
/// The clock gives the local time of each line (injected for tests).
type PlainProgressReporter(writer: TextWriter, clock: unit -> DateTime) =
    let gate = obj ()
    let line (text: string) =
        let stamp = clock().ToString("HH:mm:ss", CultureInfo.InvariantCulture)
        lock gate (fun () -> writer.WriteLine(sprintf "[%s] %s" stamp text); writer.Flush())
    let count (k: int) (total: int) = if total > 0 then sprintf "%d/%d" k total else string k
    /// "done K/TOTAL in", "done K in" (unknown total), "done in" (unknown total, nothing counted).
    let ended (verb: string) (k: int) (total: int) (preposition: string) =
        if total <= 0 && k = 0 then sprintf "%s %s" verb preposition else sprintf "%s %s %s" verb (count k total) preposition
    let seconds (t: TimeSpan) = t.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)

    new(writer: TextWriter) = PlainProgressReporter(writer, (fun () -> DateTime.Now))

    interface IProgressReporter with
        member _.Start(name, total) =
            line (if total > 0 then sprintf "%s: start, %d units" name total else sprintf "%s: start" name)
            let started = Diagnostics.Stopwatch.StartNew()
            let taskGate = obj ()
            let mutable completed = 0
            let mutable tenth = 0
            let mutable over = false
            // Prints the count when it reaches a new tenth of the total (or the total); under the task's lock.
            let reached (k: int) =
                if not over && k > completed then
                    completed <- k
                    if total > 0 then
                        let t = min 10 (int (10L * int64 (min k total) / int64 total))
                        if t > tenth then
                            tenth <- t
                            line (sprintf "%s: %s (%d%%)" name (count k total) (int (100L * int64 (min k total) / int64 total)))
            let finish (verb: string) =
                lock taskGate (fun () ->
                    if not over then
                        over <- true
                        if verb = "done" then line (sprintf "%s: %s %s s" name (ended "done" completed total "in") (seconds started.Elapsed))
                        else line (sprintf "%s: %s %s s" name (ended "stopped at" completed total "after") (seconds started.Elapsed)))
            { new IProgressTask with
                member _.Advance units = lock taskGate (fun () -> reached (completed + units))
                member _.Set k = lock taskGate (fun () -> reached k)
                member _.Done() = finish "done"
                member _.Dispose() = finish "stopped" }
        member _.Message text = line text
        member _.Warning text = line ("warning: " + text)
        member _.Close() = ()

/// The silent reporter (--quiet): tasks and messages vanish; warnings still go to stderr as plain lines.
type SilentProgressReporter(writer: TextWriter) =
    let warnings = PlainProgressReporter(writer) :> IProgressReporter
    interface IProgressReporter with
        member _.Start(_, _) =
            { new IProgressTask with
                member _.Advance _ = ()
                member _.Set _ = ()
                member _.Done() = ()
                member _.Dispose() = () }
        member _.Message _ = ()
        member _.Warning text = warnings.Warning text
        member _.Close() = ()

/// The live reporter: Spectre.Console progress bars (name, bar, percentage, elapsed, remaining) on the given console.
/// The display starts with the first task and stops when no task is running, so that anything printed after the work
/// (the result on stdout) never mixes with it. Messages and the end of each task are printed above the bars.
type LiveProgressReporter(console: IAnsiConsole) =
    let gate = obj ()
    /// The running display: its context, the signal that ends it, and its rendering task.
    let mutable session: (ProgressContext * TaskCompletionSource * Task) option = None
    let running = HashSet<ProgressTask>()

    let columns () : ProgressColumn[] =
        [| TaskDescriptionColumn(Alignment = Justify.Left); ProgressBarColumn(); PercentageColumn(); ElapsedTimeColumn()
           RemainingTimeColumn(); SpinnerColumn() |]

    /// The display's context, starting the display if none runs (under gate).
    let context () =
        match session with
        | Some(ctx, _, _) -> ctx
        | None ->
            let ready = TaskCompletionSource<ProgressContext>(TaskCreationOptions.RunContinuationsAsynchronously)
            let stop = TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)
            let display = console.Progress().AutoClear(true).HideCompleted(true).Columns(columns ())
            let render = display.StartAsync(fun ctx -> ready.SetResult ctx; stop.Task)
            // a display that fails before it starts (another live display running) throws here instead of hanging
            Task.WaitAny([| ready.Task :> Task; render |]) |> ignore
            if not ready.Task.IsCompleted then render.GetAwaiter().GetResult()
            let ctx = ready.Task.Result
            session <- Some(ctx, stop, render)
            ctx

    /// Ends the display (under gate): its last frame is cleared, printed lines stay.
    let stopDisplay () =
        match session with
        | Some(_, stop, render) ->
            session <- None
            stop.TrySetResult() |> ignore
            render.Wait()
        | None -> ()

    let print (style: string) (text: string) =
        lock gate (fun () ->
            let escaped = Markup.Escape text
            console.MarkupLine(if style = "" then escaped else sprintf "[%s]%s[/]" style escaped))

    interface IProgressReporter with
        member _.Start(name, total) =
            let task =
                lock gate (fun () ->
                    let ctx = context ()
                    let t = ctx.AddTask(Markup.Escape name, true, (if total > 0 then float total else float Int32.MaxValue))
                    if total <= 0 then t.IsIndeterminate <- true
                    running.Add t |> ignore
                    t)
            let mutable over = 0
            let finish (verb: string) =
                if Interlocked.Exchange(&over, 1) = 0 then
                    let line =
                        let k = int task.Value
                        let counted = if total > 0 then sprintf " %d/%d" k total elif k > 0 then sprintf " %d" k else ""
                        let s = task.ElapsedTime |> Option.ofNullable |> Option.map (fun t -> t.TotalSeconds) |> Option.defaultValue 0.0
                        sprintf "%s: %s%s %s %.1f s" name verb counted (if verb = "done" then "in" else "after") s
                    lock gate (fun () ->
                        task.StopTask()
                        running.Remove task |> ignore
                        match session with
                        | Some(ctx, _, _) -> ctx.RemoveTask task |> ignore
                        | None -> ()
                        if running.Count = 0 then stopDisplay ())
                    print (if verb = "done" then "green" else "yellow") line
            let set (k: float) = if Volatile.Read(&over) = 0 && k > task.Value then task.Value <- min k task.MaxValue
            { new IProgressTask with
                member _.Advance units = lock task (fun () -> set (task.Value + float units))
                member _.Set k = lock task (fun () -> set (float k))
                member _.Done() = finish "done"
                member _.Dispose() = finish "stopped at" }
        member _.Message text = print "" text
        member _.Warning text = print "yellow" ("warning: " + text)
        member _.Close() = lock gate stopDisplay

/// The reporter of this run and the choice of it.
module Progress =
    /// The mode for this run. `--quiet` wins; THEORY_PROGRESS=live|plain|none overrides the detection; otherwise bars
    /// when stderr is an interactive terminal (not redirected, TERM not "dumb") and plain lines when it is not.
    let chooseMode (quiet: bool) (overrideMode: string option) (stderrRedirected: bool) (term: string option) =
        if quiet then Silent
        else
            match overrideMode |> Option.map (fun s -> s.Trim().ToLowerInvariant()) with
            | Some "live" -> Live
            | Some "plain" -> Plain
            | Some("none" | "quiet") -> Silent
            | _ -> if stderrRedirected || term = Some "dumb" then Plain else Live

    /// The mode from this process's environment (THEORY_PROGRESS, TERM, whether stderr is redirected).
    let detectMode (quiet: bool) =
        let env name = match Environment.GetEnvironmentVariable name with null | "" -> None | v -> Some v
        chooseMode quiet (env "THEORY_PROGRESS") Console.IsErrorRedirected (env "TERM")

    /// A reporter writing to `err` (stderr) in the given mode.
    let create (mode: ProgressMode) (err: TextWriter) : IProgressReporter =
        match mode with
        | Silent -> SilentProgressReporter(err)
        | Plain -> PlainProgressReporter(err)
        | Live ->
            let settings =
                AnsiConsoleSettings(Out = AnsiConsoleOutput(err), Ansi = AnsiSupport.Detect, ColorSystem = ColorSystemSupport.Detect,
                                    Interactive = InteractionSupport.Yes)
            LiveProgressReporter(AnsiConsole.Create settings)

    let mutable private reporter: IProgressReporter = PlainProgressReporter(TextWriter.Null)

    /// Makes `r` the reporter of this run (Program.main, once per invocation) and returns it.
    let install (r: IProgressReporter) =
        reporter <- r
        r

    /// The reporter of this run.
    let current () = reporter

    /// A counted piece of work begins (`use` it: disposing before Done reports it stopped).
    let start (name: string) (total: int) = reporter.Start(name, total)
    /// A line of progress text.
    let message (text: string) = reporter.Message text
    /// A warning (shown even with --quiet).
    let warning (text: string) = reporter.Warning text

    /// "K/N" in an engine's message ("[3/10] g = ...", "step 11/100: ..."): the first count K of a total N, K <= N.
    let countIn (text: string) =
        let m = Text.RegularExpressions.Regex.Match(text, @"(?<![\d.])(\d+)/(\d+)(?![\d.])")
        if m.Success then
            match Int32.TryParse m.Groups.[1].Value, Int32.TryParse m.Groups.[2].Value with
            | (true, k), (true, n) when n > 0 && k <= n -> Some(k, n)
            | _ -> None
        else None

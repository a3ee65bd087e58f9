module Theory.Tests.CliTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto
open Theory.Cli
open Theory.PaperChecks
open Theory.Tests.TestUtil

/// A progress line of the plain reporter: "[HH:mm:ss] text".
let private plainLine = Regex(@"^\[\d{2}:\d{2}:\d{2}\] \S")

let private lines (s: string) =
    s.Split('\n', StringSplitOptions.RemoveEmptyEntries) |> Array.map (fun l -> l.TrimEnd('\r')) |> Array.filter (fun l -> l <> "")

/// A small training run (well under a second) that reports progress.
let private trainArgs (dir: string) =
    [ "train"; "--task"; "sine-period"; "--n"; "20"; "--g"; "1.5"; "--gamma"; "1"; "--protocol"; "adam"; "--lr"; "0.05"
      "--steps"; "40"; "--out"; dir; "--json" ]

/// A check that counts three units, or fails after one.
let private fakeCheck (fail: bool) =
    { Name = "fake"; Paper = "paper"; Title = "a fake check"
      Run =
        fun ctx ->
            use c = ctx.Count("fake: units", 3)
            c.Tick()
            if fail then failwith "boom"
            c.Tick()
            c.Tick()
            c.Done()
            ctx.Progress "a note"
            { Name = "fake"; Paper = "paper"; Title = "a fake check"; Parameters = []
              Claims = [ { Statement = "s"; Measured = "m"; Pass = true } ]; Figures = []; Numbers = []; Notes = []; ElapsedSeconds = 0.0 } }

let private progressTests =
    testList "progress" [
        test "the plain reporter's lines have a fixed format" {
            let w = new StringWriter()
            let r = PlainProgressReporter(w, (fun () -> DateTime(2026, 1, 2, 3, 4, 5))) :> IProgressReporter
            r.Message "hello"
            r.Warning "careful"
            let t = r.Start("sweep", 20)
            for _ in 1 .. 20 do t.Advance 1
            t.Done()
            t.Dispose() // no-op after Done
            let u = r.Start("solve", 0)
            u.Done()
            let v = r.Start("probes", 4)
            v.Set 1
            v.Set 0 // never backwards
            v.Dispose()
            let got = lines (w.ToString()) |> Array.map (fun l -> Regex.Replace(l, @"\d+\.\d s$", "S s"))
            let expected =
                Array.concat
                    [ [| "[03:04:05] hello"; "[03:04:05] warning: careful"; "[03:04:05] sweep: start, 20 units" |]
                      [| for k in 2 .. 2 .. 20 -> sprintf "[03:04:05] sweep: %d/20 (%d%%)" k (5 * k) |]
                      [| "[03:04:05] sweep: done 20/20 in S s"
                         "[03:04:05] solve: start"
                         "[03:04:05] solve: done in S s"
                         "[03:04:05] probes: start, 4 units"
                         "[03:04:05] probes: 1/4 (25%)"
                         "[03:04:05] probes: stopped at 1/4 after S s" |] ]
            Expect.sequenceEqual got expected "lines"
        }
        test "the plain reporter counts from parallel workers" {
            let w = new StringWriter()
            let r = PlainProgressReporter(w) :> IProgressReporter
            let t = r.Start("parallel", 1000)
            Threading.Tasks.Parallel.For(0, 1000, fun _ -> t.Advance 1) |> ignore
            t.Done()
            let ls = lines (w.ToString())
            Expect.all ls (fun l -> plainLine.IsMatch l) "every line is timestamped"
            Expect.equal ls.Length 12 "start, ten tenths, done"
            Expect.stringContains ls.[10] "parallel: 1000/1000 (100%)" "the last count"
            Expect.stringContains ls.[11] "parallel: done 1000/1000 in" "done"
        }
        test "the live reporter renders tasks and prints messages and ends" {
            let w = new StringWriter()
            let console =
                Spectre.Console.AnsiConsole.Create(
                    Spectre.Console.AnsiConsoleSettings(Out = Spectre.Console.AnsiConsoleOutput(w), Ansi = Spectre.Console.AnsiSupport.No,
                                                       Interactive = Spectre.Console.InteractionSupport.Yes))
            let r = LiveProgressReporter(console) :> IProgressReporter
            let t = r.Start("work [1]", 3)
            r.Message "hello [world]"
            for _ in 1 .. 3 do t.Advance 1
            t.Done()
            let u = r.Start("again", 2)
            u.Dispose()
            r.Close()
            let text = w.ToString()
            Expect.stringContains text "hello [world]" "the message, markup escaped"
            Expect.stringContains text "work [1]: done 3/3 in" "the end of the task"
            Expect.stringContains text "again: stopped at 0/2 after" "a stopped task"
        }
        test "the mode: --quiet, THEORY_PROGRESS, then the terminal test" {
            Expect.equal (Progress.chooseMode false None false (Some "xterm-256color")) Live "terminal"
            Expect.equal (Progress.chooseMode false None false None) Live "terminal without TERM (Windows)"
            Expect.equal (Progress.chooseMode false None true (Some "xterm")) Plain "stderr redirected"
            Expect.equal (Progress.chooseMode false None false (Some "dumb")) Plain "TERM=dumb"
            Expect.equal (Progress.chooseMode false (Some "plain") false (Some "xterm")) Plain "forced plain"
            Expect.equal (Progress.chooseMode false (Some "LIVE") true None) Live "forced live"
            Expect.equal (Progress.chooseMode false (Some "none") false None) Silent "forced off"
            Expect.equal (Progress.chooseMode true (Some "live") false (Some "xterm")) Silent "--quiet wins"
        }
        test "counts in engine messages" {
            Expect.equal (Progress.countIn "  [3/10] g = 1.5, gamma = 0.25, seed 2: chaos") (Some(3, 10)) "sweep line"
            Expect.equal (Progress.countIn "train Adam step 11/100: objective 0.5") (Some(11, 100)) "trainer line"
            Expect.equal (Progress.countIn "g = 1.5/2.5") None "not integers"
            Expect.equal (Progress.countIn "11/10") None "past the total"
            Expect.equal (Progress.countIn "no count") None "none"
        }
        test "the paper-checks runner reports checks and their counters as events" {
            let events = Collections.Generic.List<ProgressEvent>()
            let report e = lock events (fun () -> events.Add e)
            let results = Runner.run [ fakeCheck false ] (tempDir "runner") false 1 report
            Expect.isTrue results.Head.Pass "the check passes"
            let es = List.ofSeq events
            Expect.equal es.Head (Begin("paper-checks", 1)) "the run begins"
            Expect.equal (List.last es) (End("paper-checks", true)) "the run ends"
            for e in [ Begin("fake", 0); Begin("fake: units", 3); Reached("fake: units", 3); End("fake: units", true); Note "a note"
                       End("fake", true); Reached("paper-checks", 1) ] do
                Expect.contains es e (sprintf "%A" e)
            events.Clear()
            let failed = Runner.run [ fakeCheck true ] (tempDir "runner") false 1 report
            Expect.isFalse failed.Head.Pass "the check fails"
            let es = List.ofSeq events
            for e in [ Reached("fake: units", 1); End("fake: units", false); End("fake", false); End("paper-checks", true) ] do
                Expect.contains es e (sprintf "%A" e)
        }
        test "with --json stdout is one JSON object and stderr has the plain progress lines" {
            let code, out, err = runCli (trainArgs (tempDir "progress"))
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out).AsObject()
            Expect.equal (o.["steps"].GetValue<int>()) 40 "the result"
            Expect.isFalse (lines out |> Array.exists (fun l -> plainLine.IsMatch l)) "no progress line on stdout"
            Expect.isFalse (out.Contains "train: ") "no progress text on stdout"
            let errLines = lines err
            Expect.isNonEmpty errLines "progress on stderr"
            Expect.all errLines (fun l -> plainLine.IsMatch l) (sprintf "every stderr line is a plain progress line:\n%s" err)
            Expect.stringContains err "] train: start, 40 units" "the task starts"
            Expect.stringContains err "] train: 40/40 (100%)" "the count"
            Expect.stringContains err "] train: done 40/40 in " "the task ends"
        }
        test "--quiet gives empty stderr on success" {
            let code, out, err = runCli (trainArgs (tempDir "quiet") @ [ "--quiet" ])
            Expect.equal code 0 err
            Expect.equal err "" "nothing on stderr"
            System.Text.Json.Nodes.JsonNode.Parse(out).AsObject() |> ignore
            let code2, _, err2 = runCli ([ "regularities"; "scan"; "-q"; "--param"; "h"; "--n"; "20"; "--values"; "0:1:1"; "--balances"; "0"; "--ensemble"; "2"
                                           "--transient"; "50"; "--steps"; "50"; "--out"; Path.Combine(tempDir "quiet", "scan.csv"); "--json" ])
            Expect.equal code2 0 err2
            Expect.equal err2 "" "nothing on stderr (-q)"
        }
        test "errors still reach stderr with --quiet" {
            let code, _, err = runCli [ "scs"; "--g"; "-1"; "--quiet" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "error:" "the error line"
        }
    ]

[<Tests>]
let tests =
    testSequenced <| testList "Cli" [
        test "unknown command exits 2 with an error line" {
            let code, _, err = runCli [ "no-such-command" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "error:" "message"
            Expect.stringContains err "no-such-command" "names the command"
        }
        test "--help exits 0" {
            let code, out, _ = runCli [ "--help" ]
            Expect.equal code 0 "exit code"
            Expect.stringContains out "paper-checks" "usage lists paper-checks"
            let code2, out2, _ = runCli []
            Expect.equal code2 0 "no arguments: the help"
            Expect.stringContains out2 "closed-loop" "usage lists closed-loop"
        }
        test "--help of a subcommand exits 0 and lists its options with defaults and ranges" {
            let code, out, err = runCli [ "dmft"; "saddle"; "--help" ]
            Expect.equal code 0 err
            for o in [ "--g"; "--gamma"; "--samples"; "--with-extension"; "--json"; "[default: 4000]"; "allowed: >= 100" ] do
                Expect.stringContains out o (sprintf "help lists %s" o)
            let code2, out2, err2 = runCli [ "simulate"; "rate"; "-h" ]
            Expect.equal code2 0 err2
            Expect.stringContains out2 "--stepper <euler|rk4>" "help lists the allowed words"
        }
        test "an unknown option exits 2 with a message naming it" {
            let code, out, err = runCli [ "scs"; "--g"; "1"; "--bogus"; "2" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--bogus" "names the option"
            Expect.equal out "" "nothing on stdout"
        }
        test "a non-numeric value exits 2 naming the option" {
            let code, _, err = runCli [ "scs"; "--g"; "abc"; "--json" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--g" "names the option"
            Expect.stringContains err "not a number" "says what is wrong"
            let code2, _, err2 = runCli [ "simulate"; "rate"; "--n"; "1.5"; "--g"; "1"; "--seed"; "1" ]
            Expect.equal code2 2 "exit code (integer)"
            Expect.stringContains err2 "--n" "names the integer option"
        }
        test "simulate rate-tail-scan: JSON per value, CSV per value × seed × lag, seeds >= 2" {
            let csv = System.IO.Path.Combine(System.IO.Path.GetTempPath(), sprintf "tail-%d.csv" (System.Random.Shared.Next()))
            let code, out, err =
                runCli [ "simulate"; "rate-tail-scan"; "--param"; "n"; "--values"; "30,40"; "--t"; "40"; "--transient"; "20"
                         "--seeds"; "2"; "--lags"; "2,4"; "--csv"; csv; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out).AsObject()
            Expect.equal (o.["points"].AsArray().Count) 2 "one point per value"
            Expect.equal (o.["points"].[1].["n"].GetValue<int>()) 40 "scanned N"
            Expect.equal (o.["points"].[0].["excess"].AsArray().Count) 2 "one excess per lag"
            let rows = System.IO.File.ReadAllLines csv |> Array.filter (fun l -> not (l.StartsWith "#"))
            Expect.equal rows.Length (1 + 2 * 2 * 2) "header + values × seeds × lags"
            System.IO.File.Delete csv
            let code2, _, err2 = runCli [ "simulate"; "rate-tail-scan"; "--param"; "t"; "--values"; "50"; "--seeds"; "1" ]
            Expect.equal code2 2 "exit code"
            Expect.stringContains err2 "seeds" "names the option"
        }
        test "an out-of-domain value exits 2 with the allowed range" {
            let code, _, err = runCli [ "scs"; "--g"; "-1" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "g = -1" "names the option and value"
            Expect.stringContains err "allowed: a finite number >= 0" "gives the allowed range"
            let code2, _, err2 = runCli [ "simulate"; "rate"; "--n"; "10"; "--g"; "1"; "--seed"; "1"; "--stepper"; "leapfrog" ]
            Expect.equal code2 2 "exit code (choice)"
            Expect.stringContains err2 "--stepper" "names the option"
            Expect.stringContains err2 "rk4, euler" "lists the allowed words"
        }
        test "a missing required option or subcommand exits 2 naming it" {
            let code, _, err = runCli [ "scs" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--g" "names the option"
            let code2, _, err2 = runCli [ "dmft" ]
            Expect.equal code2 2 "exit code (no subcommand)"
            Expect.stringContains err2 "saddle" "lists the subcommands"
        }
        test "an option given outside its context exits 2 naming it" {
            let code, _, err = runCli [ "dmft"; "linear-spectrum"; "--g"; "0.5"; "--gamma"; "1"; "--omega"; "0.7"; "--ratio"; "1.3"; "--width"; "0.2" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--width" "names the option"
            Expect.stringContains err "--target peaked" "names the context"
        }
        test "--json puts one JSON object and nothing else on stdout" {
            let code, out, err = runCli [ "scs"; "--g"; "1.5"; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out).AsObject()
            Expect.equal (o.["regime"].GetValue<string>()) "chaotic" "regime"
        }
        test "the [suggest] directive completes subcommands and allowed words" {
            let line = "theory simulate rate --stepper "
            let code, out, err = runCli [ sprintf "[suggest:%d]" line.Length; line ]
            Expect.equal code 0 err
            Expect.stringContains out "euler" "suggests euler"
            Expect.stringContains out "rk4" "suggests rk4"
            let line2 = "theory dmft s"
            let _, out2, _ = runCli [ sprintf "[suggest:%d]" line2.Length; line2 ]
            Expect.stringContains out2 "saddle" "suggests the subcommand"
        }
        progressTests
        test "paper-checks --seeds: Wilson intervals and per-claim pass rates over independent base seeds" {
            let close (a: float, b: float) (x: float, y: float) msg =
                Expect.floatClose Accuracy.medium a x msg
                Expect.floatClose Accuracy.medium b y msg
            // reference values of the 95% Wilson score interval
            close (PassRates.wilson95 2 4) (0.15003898, 0.84996102) "2/4"
            close (PassRates.wilson95 0 10) (0.0, 0.27753280) "0/10"
            close (PassRates.wilson95 10 10) (0.72246720, 1.0) "10/10"
            close (PassRates.wilson95 7 10) (0.39677815, 0.89220873) "7/10"
            Expect.equal (PassRates.baseSeeds 1 4) [ 1; 101; 201; 301 ] "stride 100: closed-loop checks use base .. base + 7"
            // a check whose second claim passes on every other base seed
            let check =
                { Name = "alt"; Paper = "paper"; Title = "alternating"
                  Run =
                    fun ctx ->
                        { Name = "alt"; Paper = "paper"; Title = "alternating"; Parameters = []
                          Claims = [ { Statement = "always"; Measured = ""; Pass = true }; { Statement = "odd hundreds"; Measured = string ctx.Seed; Pass = (ctx.Seed / 100) % 2 = 0 } ]
                          Figures = []; Numbers = []; Notes = []; ElapsedSeconds = 0.0 } }
            let dir = tempDir "seeds"
            let runs, rates = Runner.runSeeds [ check ] dir true 1 4 ignore
            Expect.equal (runs |> List.map fst) [ 1; 101; 201; 301 ] "base seeds"
            let c = rates.Head
            Expect.equal (c.Passed, c.Runs) (2, 4) "whole check"
            Expect.equal (c.Claims |> List.map (fun r -> r.Passed)) [ 4; 2 ] "per claim"
            Expect.equal c.Claims.[1].FailedSeeds [ 101; 301 ] "failing seeds"
            for f in [ "pass-rates.md"; "pass-rates.json"; "seed-1/report.md"; "seed-301/results.json" ] do
                Expect.isTrue (File.Exists(Path.Combine(dir, f))) f
            Expect.stringContains (File.ReadAllText(Path.Combine(dir, "pass-rates.md"))) "| 2 | odd hundreds | 2/4 | 50% | 15%–85% | 101, 301 |" "table row"
            let code, _, err = runCli [ "paper-checks"; "--out"; tempDir "pc0"; "--seeds"; "0" ]
            Expect.equal code 2 "--seeds 0 is a usage error"
            Expect.stringContains err "--seeds" "message"
        }
        test "paper-checks --only with an unknown name exits 2" {
            let code, _, err = runCli [ "paper-checks"; "--out"; tempDir "pc"; "--only"; "nope" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "unknown check" "message"
        }
    ]

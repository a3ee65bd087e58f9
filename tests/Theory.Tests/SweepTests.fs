/// `theory sweep plan|run|run-all|merge` (issue 17): local runs of small sweeps, the bad-input paths of the merge
/// (a missing, corrupted, foreign or failed shard: exit 2 naming the file, nothing written), idempotent merges, the merged
/// result bit for bit equal to the single-process run, and one run through a real SLURM when `sbatch` is there.
module Theory.Tests.SweepTests

open System
open System.Diagnostics
open System.IO
open System.Text.Json.Nodes
open Expecto
open Theory.Tests.TestUtil

/// A cheap γ⋆ curve (two g values; about 6 s on one core): the bit-for-bit comparisons.
let private phaseBoundary =
    [ "dmft"; "phase-boundary"; "--g"; "1.5:2:0.5"; "--samples"; "200"; "--dt"; "0.5"; "--gamma-max"; "0.5"; "--gamma-step"; "0.25"
      "--seeds"; "1"; "--extension"; "10" ]

/// The single-process run of the γ⋆ curve (stdout of `--json`), computed once.
let private singleProcess =
    lazy
        (let code, out, err = runCli (phaseBoundary @ [ "--json" ])
         if code <> 0 then failtestf "single-process run failed (%d): %s" code err
         out)

/// A cheap sweep (milliseconds): closed-loop feedback over three k1 values in two shards, planned in a fresh folder.
let private planFeedback (values: string) =
    let dir = tempDir "sweep"
    let code, _, err =
        runCli [ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--over"; "--k1"; "--values"; values; "--"; "closed-loop"; "feedback"; "--k1"; "-0.5"; "--k2"; "-1" ]
    if code <> 0 then failtestf "plan failed (%d): %s" code err
    dir, Path.Combine(dir, "manifest.json")

let private runAll (manifest: string) =
    let code, _, err = runCli [ "sweep"; "run-all"; "--manifest"; manifest ]
    if code <> 0 then failtestf "run-all failed (%d): %s" code err

let private merge (manifest: string) = runCli [ "sweep"; "merge"; "--manifest"; manifest ]

/// merged.json and result.json are absent (a failed merge wrote nothing).
let private nothingMerged (dir: string) =
    Expect.isFalse (File.Exists(Path.Combine(dir, "merged.json"))) "no merged.json"
    Expect.isFalse (File.Exists(Path.Combine(dir, "result.json"))) "no result.json"

/// A planned and run feedback sweep with its merge outputs removed (for the merge's bad-input paths).
let private ranFeedback () =
    let dir, manifest = planFeedback "-0.5,-0.4,-0.3"
    runAll manifest
    File.Delete(Path.Combine(dir, "merged.json"))
    File.Delete(Path.Combine(dir, "result.json"))
    dir, manifest

/// Runs a program and returns (exit code, stdout, stderr); None if it cannot be started.
let private exec (file: string) (args: string list) =
    try
        let psi = ProcessStartInfo(file, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
        for a in args do psi.ArgumentList.Add a
        use p = Process.Start psi
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEnd()
        if not (p.WaitForExit 20000) then
            p.Kill()
            None
        else Some(p.ExitCode, out.Result, err)
    with _ -> None

/// Why a real SLURM cannot be used here (None when sbatch is on PATH and sinfo answers).
let private noSlurm () =
    let onPath name =
        (Environment.GetEnvironmentVariable "PATH" |> Option.ofObj |> Option.defaultValue "").Split(Path.PathSeparator)
        |> Array.exists (fun d -> d <> "" && File.Exists(Path.Combine(d, name)))
    if not (onPath "sbatch") then Some "sbatch is not on PATH (no SLURM here; scripts/slurm-local.sh start sets one up)"
    else
        match exec "sinfo" [ "-h"; "-o"; "%a %t" ] with
        | Some(0, out, _) when out.Contains "up" -> None
        | Some(code, out, err) -> Some(sprintf "sinfo does not show an available partition (exit %d: %s%s); scripts/slurm-local.sh start" code (out.Trim()) (err.Trim()))
        | None -> Some "sinfo did not answer (slurmctld not running?); scripts/slurm-local.sh start"

[<Tests>]
let tests =
    testSequenced <| testList "Sweep" [
        test "plan writes the manifest and a job-array script that runs each shard with the built CLI" {
            let dir, manifest = planFeedback "-0.5,-0.4,-0.3"
            let m = JsonNode.Parse(File.ReadAllText manifest).AsObject()
            Expect.equal (m.["format"].GetValue<string>()) "theory-sweep-manifest/1" "format"
            Expect.equal (m.["shards"].GetValue<int>()) 2 "shards"
            Expect.equal (m.["units"].AsArray().Count) 3 "units"
            Expect.equal [ for u in m.["units"].AsArray() -> u.["shard"].GetValue<int>() ] [ 0; 1; 0 ] "round-robin assignment"
            Expect.isNotNull m.["version"] "version"
            Expect.equal (m.["hash"].GetValue<string>().Length) 64 "SHA-256"
            let script = File.ReadAllText(Path.Combine(dir, "sweep.sbatch"))
            for s in [ "#SBATCH --array=0-1"; "#SBATCH --cpus-per-task=2"; "#SBATCH --time=01:00:00"; "#SBATCH --job-name=theory-sweep"
                       "#SBATCH --output="; "sweep run --manifest"; "--shard \"$SLURM_ARRAY_TASK_ID\" --of 2"; "theory.dll" ] do
                Expect.stringContains script s (sprintf "script has %s" s)
            let dll = script.Split('\n') |> Array.find (fun l -> l.StartsWith "exec ") |> fun l -> l.Split(' ').[2]
            Expect.isTrue (File.Exists dll) (sprintf "the script's theory.dll exists: %s" dll)
        }
        test "plan: bad input exits 2" {
            let dir = tempDir "sweep-bad"
            for args, what in
                [ [ "--shards"; "0"; "--"; "dmft"; "phase-boundary"; "--g"; "1.5:2:0.5" ], "shards"
                  [ "--shards"; "3"; "--"; "dmft"; "phase-boundary"; "--g"; "1.5:2:0.5" ], "shards"
                  [ "--shards"; "1" ], "--"
                  [ "--shards"; "1"; "--"; "dmft" ], "dmft"
                  [ "--shards"; "1"; "--"; "closed-loop"; "feedback"; "--k1"; "1"; "--k2"; "1" ], "--over"
                  [ "--shards"; "1"; "--over"; "--bogus"; "--values"; "1,2"; "--"; "closed-loop"; "feedback"; "--k1"; "1"; "--k2"; "1" ], "--bogus"
                  [ "--shards"; "1"; "--over"; "--k1"; "--values"; "1,x"; "--"; "closed-loop"; "feedback"; "--k1"; "1"; "--k2"; "1" ], "--k1"
                  [ "--shards"; "1"; "--"; "sweep"; "merge"; "--manifest"; "m.json" ], "sweep"
                  [ "--shards"; "1"; "--"; "dmft"; "phase-boundary"; "--g"; "1.5"; "--csv"; "x.csv" ], "--csv" ] do
                let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir ] @ args)
                Expect.equal code 2 (sprintf "exit code for %A (stderr: %s)" args err)
                Expect.stringContains err what (sprintf "names %s" what)
        }
        test "run: a shard index out of range or a wrong shard count exits 2 naming the manifest" {
            let _, manifest = planFeedback "-0.5,-0.4,-0.3"
            for shard, ofK, what in [ "2", "2", "--shard 2 out of range"; "-1", "2", "--shard -1 out of range"; "0", "3", "--of 3 does not match" ] do
                let code, _, err = runCli [ "sweep"; "run"; "--manifest"; manifest; "--shard"; shard; "--of"; ofK ]
                Expect.equal code 2 (sprintf "exit code (stderr: %s)" err)
                Expect.stringContains err what "says what is wrong"
                Expect.stringContains err manifest "names the manifest"
            let code, _, err = runCli [ "sweep"; "run"; "--manifest"; manifest + ".missing"; "--shard"; "0"; "--of"; "2" ]
            Expect.equal code 2 "a missing manifest"
            Expect.stringContains err (manifest + ".missing") "names it"
        }
        test "merge: a missing shard exits 2 naming the file; nothing merged" {
            let dir, manifest = ranFeedback ()
            let missing = Path.Combine(dir, "shard-1.json")
            File.Delete missing
            let code, out, err = merge manifest
            Expect.equal code 2 (sprintf "exit code (stderr: %s)" err)
            Expect.stringContains err missing "names the missing file"
            Expect.stringContains err "missing" "says it is missing"
            Expect.equal out "" "nothing on stdout"
            nothingMerged dir
        }
        test "merge: a corrupted shard exits 2 naming the file; nothing merged" {
            let dir, manifest = ranFeedback ()
            let file = Path.Combine(dir, "shard-0.json")
            let text = File.ReadAllText file
            File.WriteAllText(file, text.Substring(0, text.Length / 2))
            let code, _, err = merge manifest
            Expect.equal code 2 (sprintf "exit code (stderr: %s)" err)
            Expect.stringContains err file "names the corrupted file"
            Expect.stringContains err "corrupted" "says it is corrupted"
            nothingMerged dir
            // a shard that parses but lost a unit
            File.WriteAllText(file, text.Replace("\"status\": \"ok\"", "\"status\": \"??\""))
            let code2, _, err2 = merge manifest
            Expect.equal code2 2 "a unit without status ok"
            Expect.stringContains err2 file "names the file"
            nothingMerged dir
        }
        test "merge: a shard from a different manifest, or an edited manifest, exits 2 naming the file" {
            let dir, manifest = ranFeedback ()
            let otherDir, other = planFeedback "-0.5,-0.4,-0.2"
            runAll other
            File.Copy(Path.Combine(otherDir, "shard-1.json"), Path.Combine(dir, "shard-1.json"), true)
            let code, _, err = merge manifest
            Expect.equal code 2 (sprintf "exit code (stderr: %s)" err)
            Expect.stringContains err (Path.Combine(dir, "shard-1.json")) "names the foreign shard"
            Expect.stringContains err "different manifest" "says why"
            nothingMerged dir
            File.WriteAllText(other, File.ReadAllText(other).Replace("\"-0.2\"", "\"-0.1\""))
            let code2, _, err2 = merge other
            Expect.equal code2 2 "edited manifest"
            Expect.stringContains err2 other "names the manifest"
            Expect.stringContains err2 "hash" "says its hash does not match"
        }
        test "merge: a failed unit is reported with its shard file and error; nothing merged until the shard is re-run" {
            let dir = tempDir "sweep-fail"
            let manifest = Path.Combine(dir, "manifest.json")
            let code0, _, err0 =
                runCli [ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--over"; "--r"; "--values"; "1,-1"; "--"; "closed-loop"; "lqr"; "--r"; "1" ]
            Expect.equal code0 0 err0
            let code1, _, err1 = runCli [ "sweep"; "run"; "--manifest"; manifest; "--shard"; "1"; "--of"; "2" ]
            Expect.equal code1 2 (sprintf "the shard exits with its failed unit's code (stderr: %s)" err1)
            Expect.stringContains (File.ReadAllText(Path.Combine(dir, "shard-1.json"))) "\"status\": \"failed\"" "the shard file records the failure"
            let code2, _, _ = runCli [ "sweep"; "run"; "--manifest"; manifest; "--shard"; "0"; "--of"; "2" ]
            Expect.equal code2 0 "shard 0 is fine"
            let code, _, err = merge manifest
            Expect.equal code 2 (sprintf "exit code (stderr: %s)" err)
            Expect.stringContains err (Path.Combine(dir, "shard-1.json")) "names the shard file"
            Expect.stringContains err "unit 1 (--r -1) failed" "names the unit"
            nothingMerged dir
        }
        test "merge twice gives the same bytes; the list result holds each unit's single run" {
            let dir, manifest = planFeedback "-0.5,-0.4,-0.3"
            for s in [ "1"; "0" ] do
                let c, _, e = runCli [ "sweep"; "run"; "--manifest"; manifest; "--shard"; s; "--of"; "2" ]
                Expect.equal c 0 e
            let c1, _, e1 = merge manifest
            Expect.equal c1 0 e1
            let read () = File.ReadAllBytes(Path.Combine(dir, "merged.json")), File.ReadAllBytes(Path.Combine(dir, "result.json"))
            let first = read ()
            let c2, _, e2 = merge manifest
            Expect.equal c2 0 e2
            Expect.equal (read ()) first "identical bytes"
            let result = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "result.json")))
            for (i, k1) in List.indexed [ "-0.5"; "-0.4"; "-0.3" ] do
                let _, single, _ = runCli [ "closed-loop"; "feedback"; "--k1"; k1; "--k2"; "-1"; "--json" ]
                Expect.equal (result.["results"].[i].ToJsonString()) (JsonNode.Parse(single).ToJsonString()) (sprintf "unit %d = its single run" i)
        }
        test "a sharded γ* curve merges to the single-process run, bit for bit" {
            let dir = tempDir "sweep-pb"
            let manifest = Path.Combine(dir, "manifest.json")
            let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--" ] @ phaseBoundary)
            Expect.equal code 0 err
            // the shards in reverse order: the assignment, not the order of the runs, decides the result
            for s in [ "1"; "0" ] do
                let c, _, e = runCli [ "sweep"; "run"; "--manifest"; manifest; "--shard"; s; "--of"; "2" ]
                Expect.equal c 0 e
            let c, _, e = merge manifest
            Expect.equal c 0 e
            Expect.equal (File.ReadAllText(Path.Combine(dir, "result.json"))) singleProcess.Value "result.json = stdout of the single-process --json run"
        }
        test "a sharded finite-size scaling (per g) merges to the single-process run, bit for bit" {
            let finiteSize =
                [ "dmft"; "finite-size"; "--g"; "1.5,2"; "--neurons"; "40,60"; "--dt"; "0.5"; "--sweeps"; "40"
                  "--gamma-max"; "1.5"; "--gamma-step"; "0.5"; "--realisations"; "4" ]
            let code0, single, err0 = runCli (finiteSize @ [ "--json" ])
            Expect.equal code0 0 err0
            Expect.stringContains single "\"extrapolated\"" "a g with a posterior γ* at both N (the fits are part of the result)"
            let dir = tempDir "sweep-fs"
            let manifest = Path.Combine(dir, "manifest.json")
            let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--" ] @ finiteSize)
            Expect.equal code 0 err
            runAll manifest
            Expect.equal (File.ReadAllText(Path.Combine(dir, "result.json"))) single "result.json = stdout of the single-process --json run"
        }
        test "a grid sweep over (g, N) of the posterior γ*: one unit per pair, and finite-size --from the merge equals the direct fit" {
            let common = [ "--dt"; "0.5"; "--sweeps"; "40"; "--gamma-max"; "1.5"; "--gamma-step"; "0.5"; "--realisations"; "4" ]
            let direct = [ "dmft"; "finite-size"; "--g"; "1.5,2"; "--neurons"; "40,60" ] @ common
            let c0, single, e0 = runCli (direct @ [ "--json" ])
            Expect.equal c0 0 e0
            let dir = tempDir "sweep-grid"
            let manifest = Path.Combine(dir, "manifest.json")
            let code, _, err =
                runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "3"; "--over"; "--g,--neurons"; "--values"; "1.5,2;40,60"; "--"
                          "dmft"; "phase-boundary"; "--g"; "1.5"; "--criterion"; "posterior" ] @ common)
            Expect.equal code 0 err
            let m = JsonNode.Parse(File.ReadAllText manifest)
            Expect.equal [ for u in m.["units"].AsArray() -> u.["value"].GetValue<string>() ] [ "1.5,40"; "1.5,60"; "2,40"; "2,60" ] "the grid, first option outermost"
            Expect.equal (m.["combine"].GetValue<string>()) "list" "a grid lists the units (their N differ)"
            runAll manifest
            let c1, fromMerge, e1 = runCli [ "dmft"; "finite-size"; "--from"; Path.Combine(dir, "merged.json"); "--json" ]
            Expect.equal c1 0 e1
            let a, b = JsonNode.Parse single, JsonNode.Parse fromMerge
            let fitted = [ for r in a.["results"].AsArray() do if not (isNull r.["extrapolated"]) then yield r ]
            Expect.isNonEmpty fitted "a g with a posterior γ* at both N"
            for ra in fitted do
                let g = ra.["g"].GetValue<float>()
                let rb = b.["results"].AsArray() |> Seq.find (fun r -> r.["g"].GetValue<float>() = g)
                Expect.equal (rb.["source"].GetValue<string>()) "posterior" "source ensemble"
                for k in [ "extrapolated"; "extrapolatedError" ] do
                    Expect.equal (rb.[k].GetValue<float>()) (ra.[k].GetValue<float>()) (sprintf "g = %g: %s from the sweep = the direct run" g k)
            // the figures from the stored results: both PNGs written, the folder named in the JSON, the fits unchanged
            let figs = Path.Combine(dir, "figures")
            let c3, withPng, e3 = runCli [ "dmft"; "finite-size"; "--from"; Path.Combine(dir, "merged.json"); "--png"; figs; "--json" ]
            Expect.equal c3 0 e3
            for f in [ "finite-size-scaling.png"; "gamma-star-curve.png" ] do
                Expect.isTrue (File.Exists(Path.Combine(figs, f)) && FileInfo(Path.Combine(figs, f)).Length > 1000L) (sprintf "%s written" f)
            let p = JsonNode.Parse withPng
            Expect.equal (p.["figures"].GetValue<string>()) figs "the figure folder in the JSON"
            Expect.equal (p.["results"].ToJsonString()) (b.["results"].ToJsonString()) "the same fits with --png"
            // a file that is not there: exit 2 naming it
            let c2, _, e2 = runCli [ "dmft"; "finite-size"; "--from"; Path.Combine(dir, "unit-free-does-not-exist.json") ]
            Expect.equal c2 2 "a missing file is bad input"
            Expect.stringContains e2 "not found" "names the problem"
        }
        test "a sharded simulate phase-diagram (per g) combines to the single-process CSVs and figure" {
            let args out = [ "simulate"; "phase-diagram"; "--g"; "1.5,2"; "--gamma"; "0,1"; "--n"; "30"; "--seeds"; "2"; "--steps"; "20"
                             "--measure-periods"; "2"; "--transient-periods"; "1"; "--bootstrap"; "50"; "--out"; out ]
            let single = tempDir "pd-single"
            let c0, _, e0 = runCli (args single)
            Expect.equal c0 0 e0
            let dir = tempDir "sweep-pd"
            let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--" ] @ args (Path.Combine(dir, "units")))
            Expect.equal code 0 err
            runAll (Path.Combine(dir, "manifest.json"))
            let combined = Path.Combine(dir, "combined")
            for f in [ "phase-summary.csv"; "gamma-star-sim.csv" ] do
                Expect.equal (File.ReadAllText(Path.Combine(combined, f))) (File.ReadAllText(Path.Combine(single, f))) (sprintf "%s = the single-process run's" f)
            // probe rows equal except the wall-clock column
            let rows (d: string) = File.ReadAllLines(Path.Combine(d, "phase-diagram.csv")) |> Array.map (fun l -> if l.StartsWith "#" then l else l.Substring(0, l.LastIndexOf ','))
            Expect.equal (rows combined) (rows single) "probe rows (less seconds) = the single-process run's"
            Expect.isTrue (File.Exists(Path.Combine(combined, "phase-diagram.png"))) "the combined figure"
        }
        test "a sharded regularities phase-diagram (per b range) combines to the single-process CSV and heatmaps" {
            let args (b: string) out = [ "regularities"; "phase-diagram"; "--setting"; "dale"; "--n"; "10"; "--ensemble"; "1"; "--b-range=" + b
                                         "--w-range"; "0.05:0.25:0.1"; "--out"; out ]
            let single = tempDir "rg-single"
            let c0, _, e0 = runCli (args "-0.4:0.4:0.2" single)
            Expect.equal c0 0 e0
            let dir = tempDir "sweep-rg"
            let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--values=-0.4:-0.2:0.2,0:0.4:0.2"; "--" ] @ args "-0.4:0.4:0.2" (Path.Combine(dir, "units")))
            Expect.equal code 0 err
            runAll (Path.Combine(dir, "manifest.json"))
            let combined = Path.Combine(dir, "combined")
            Expect.equal (File.ReadAllText(Path.Combine(combined, "phase-dale.csv"))) (File.ReadAllText(Path.Combine(single, "phase-dale.csv"))) "CSV = the single-process run's"
            for q in [ "N"; "F"; "C1"; "A" ] do
                let f = sprintf "phase-dale-%s.png" q
                Expect.equal (File.ReadAllBytes(Path.Combine(combined, f))) (File.ReadAllBytes(Path.Combine(single, f))) (sprintf "%s = the single-process run's" f)
        }
        test "through a real SLURM (sbatch job array), the merge equals the single-process run bit for bit" {
            match noSlurm () with
            | Some why -> skiptest why
            | None ->
                let dir = tempDir "sweep-slurm"
                let manifest = Path.Combine(dir, "manifest.json")
                let code, _, err = runCli ([ "sweep"; "plan"; "--out"; dir; "--shards"; "2"; "--cpus"; "1"; "--time"; "00:05:00"; "--" ] @ phaseBoundary)
                Expect.equal code 0 err
                match exec "sbatch" [ "--parsable"; Path.Combine(dir, "sweep.sbatch") ] with
                | Some(0, out, _) ->
                    let job = out.Trim().Split(';').[0]
                    let sw = Stopwatch.StartNew()
                    let queued () =
                        match exec "squeue" [ "-h"; "-j"; job; "-o"; "%i %t" ] with
                        | Some(0, o, _) -> o.Trim() <> ""
                        | _ -> false
                    while queued () && sw.Elapsed.TotalSeconds < 300.0 do Threading.Thread.Sleep 1000
                    Expect.isFalse (queued ()) (sprintf "job %s finished within 300 s" job)
                    let c, _, e = merge manifest
                    Expect.equal c 0 (sprintf "merge of job %s (stderr: %s; logs in %s)" job e (Path.Combine(dir, "logs")))
                    Expect.stringContains (File.ReadAllText(Path.Combine(dir, "shard-1.json"))) (sprintf "\"slurmJobId\": \"%s\"" job) "the shard ran under SLURM"
                    Expect.equal (File.ReadAllText(Path.Combine(dir, "result.json"))) singleProcess.Value "result.json = the single-process run"
                | other -> failtestf "sbatch failed: %A" other
        }
    ]

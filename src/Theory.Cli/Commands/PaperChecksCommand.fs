module Theory.Cli.Commands.PaperChecksCommand

open System.Collections.Generic
open Theory.Cli
open Theory.PaperChecks

/// The runner's progress events on the run's reporter: named pieces of work become tasks (bars or lines).
let private reportTo (reporter: IProgressReporter) : ProgressEvent -> unit =
    let tasks = Dictionary<string, IProgressTask>()
    fun e ->
        match e with
        | Note text -> reporter.Message text
        | Begin(name, total) ->
            let t = reporter.Start(name, total)
            lock tasks (fun () -> tasks.[name] <- t)
        | Reached(name, k) ->
            match lock tasks (fun () -> match tasks.TryGetValue name with | true, t -> Some t | _ -> None) with
            | Some t -> t.Set k
            | None -> ()
        | End(name, finished) ->
            let taken =
                lock tasks (fun () ->
                    match tasks.TryGetValue name with
                    | true, t -> tasks.Remove name |> ignore; Some t
                    | _ -> None)
            match taken with
            | Some t -> if finished then t.Done() else t.Dispose()
            | None -> ()

/// theory paper-checks --out DIR [--only NAME[,NAME]] [--quick] [--seed K] [--seeds S] [--list]
let command () =
    Cli.command "paper-checks" "reproduce the papers' claims: DIR/report.md, results.json, PNG figures" (fun cmd ->
        let out = Cli.string cmd "--out" "report" "output folder DIR (report.md, results.json, figures)"
        let only = Cli.optionalString cmd "--only" "run only these checks: NAME[,NAME…] (see --list; default: all)"
        Cli.suggest only (fun () -> Registry.all |> Seq.map (fun c -> c.Name))
        let quick = Cli.flag cmd "--quick" "smaller, faster runs"
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let seeds = Cli.int cmd "--seeds" 1 "run S times with base seeds K, K+100, …: DIR/seed-K/ per run and DIR/pass-rates.md, pass-rates.json (per claim: passes, rate, 95% Wilson interval)"
        let list = Cli.flag cmd "--list" "list the checks and exit (takes no other option)"
        fun r ->
            if r.GetValue list then
                Cli.onlyWith r "without --list" [ out; only; quick; seed; seeds ]
                for c in Registry.all do
                    printfn "%-28s %s — %s" c.Name c.Paper c.Title
                0
            else
                let out = r.GetValue out
                let quick = r.GetValue quick
                let seed = r.GetValue seed
                let selected =
                    match r.GetValue only with
                    | None -> Registry.all
                    | Some names ->
                        let wanted = names.Split(',') |> Array.map (fun s -> s.Trim()) |> Set.ofArray
                        let unknown = wanted |> Set.filter (fun n -> not (Registry.all |> List.exists (fun c -> c.Name = n)))
                        if not unknown.IsEmpty then
                            raise (UsageError(sprintf "--only: unknown check(s) %s; known: %s" (String.concat ", " unknown) (Registry.all |> List.map (fun c -> c.Name) |> String.concat ", ")))
                        Registry.all |> List.filter (fun c -> wanted.Contains c.Name)
                let count = r.GetValue seeds
                if count < 1 then raise (UsageError(sprintf "--seeds: must be at least 1 (got %d)" count))
                if count = 1 then
                    let results = Runner.run selected out quick seed (reportTo (Progress.current ()))
                    let failed = results |> List.filter (fun r -> not r.Pass) |> List.length
                    Output.progress (sprintf "paper-checks: %d run, %d PASS, %d FAIL; report in %s/report.md" results.Length (results.Length - failed) failed out)
                else
                    let _, rates = Runner.runSeeds selected out quick seed count (reportTo (Progress.current ()))
                    for c in rates do
                        Output.progress (sprintf "paper-checks: %s passes on %d/%d seeds" c.Name c.Passed c.Runs)
                    Output.progress (sprintf "paper-checks: pass rates in %s/pass-rates.md" out)
                0)

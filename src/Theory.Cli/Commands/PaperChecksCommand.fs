module Theory.Cli.Commands.PaperChecksCommand

open Theory.Cli
open Theory.PaperChecks

/// theory paper-checks --out DIR [--only NAME[,NAME]] [--quick] [--seed K] [--list]
let run (args: Args) =
    if args.Flag "list" then
        args.Finish()
        for c in Registry.all do
            printfn "%-28s %s — %s" c.Name c.Paper c.Title
        0
    else
        let out = args.String("out", "report")
        let only = args.TryString "only"
        let quick = args.Flag "quick"
        let seed = args.Int("seed", 1)
        args.Finish()
        let selected =
            match only with
            | None -> Registry.all
            | Some names ->
                let wanted = names.Split(',') |> Array.map (fun s -> s.Trim()) |> Set.ofArray
                let unknown = wanted |> Set.filter (fun n -> not (Registry.all |> List.exists (fun c -> c.Name = n)))
                if not unknown.IsEmpty then
                    raise (UsageError(sprintf "--only: unknown check(s) %s; known: %s" (String.concat ", " unknown) (Registry.all |> List.map (fun c -> c.Name) |> String.concat ", ")))
                Registry.all |> List.filter (fun c -> wanted.Contains c.Name)
        let results = Runner.run selected out quick seed
        let failed = results |> List.filter (fun r -> not r.Pass) |> List.length
        Output.progress (sprintf "paper-checks: %d run, %d PASS, %d FAIL; report in %s/report.md" results.Length (results.Length - failed) failed out)
        0

namespace Theory.PaperChecks

open System
open System.IO
open System.Text
open System.Text.Json.Nodes
open Theory.Core.Io

/// Pass rates of the claims of checks run over several independent base seeds, with Wilson score intervals.
module PassRates =
    /// Distance between successive base seeds of a multi-seed run: larger than the number of seeds any check draws
    /// from its base seed (the closed-loop checks use base .. base + 7), so the runs share no seed and are independent.
    let seedStride = 100

    /// The base seeds of a multi-seed run: seed, seed + 100, …, S of them.
    let baseSeeds (seed: int) (count: int) = [ for i in 0 .. count - 1 -> seed + seedStride * i ]

    /// Wilson score interval of a binomial proportion k/n at normal quantile z (1.959964 for 95%); (0, 1) when n = 0.
    let wilson (z: float) (k: int) (n: int) =
        if n <= 0 then 0.0, 1.0
        else
            let nf = float n
            let p = float k / nf
            let z2 = z * z
            let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf)
            let half = z / (1.0 + z2 / nf) * Math.Sqrt(p * (1.0 - p) / nf + z2 / (4.0 * nf * nf))
            max 0.0 (centre - half), min 1.0 (centre + half)

    /// The 95% Wilson interval.
    let wilson95 k n = wilson 1.959963984540054 k n

    /// One claim's tally over the seeds.
    type ClaimRate =
        { Check: string
          /// Position of the claim in the check's list (claims are matched by position and statement).
          Index: int
          Statement: string
          Passed: int
          Runs: int
          /// Base seeds on which the claim failed.
          FailedSeeds: int list }
        member r.Rate = if r.Runs = 0 then 0.0 else float r.Passed / float r.Runs
        member r.Interval = wilson95 r.Passed r.Runs

    /// One check's tally: whole-check verdicts and the time of each run.
    type CheckRate =
        { Name: string
          Passed: int
          Runs: int
          MeanSeconds: float
          Claims: ClaimRate list }

    /// Tallies the results of one run per base seed ((base seed, results of that run) pairs).
    let tally (runs: (int * CheckResult list) list) : CheckRate list =
        let names = runs |> List.collect (fun (_, rs) -> rs |> List.map (fun r -> r.Name)) |> List.distinct
        [ for name in names do
            let per = runs |> List.choose (fun (s, rs) -> rs |> List.tryFind (fun r -> r.Name = name) |> Option.map (fun r -> s, r))
            let nClaims = per |> List.map (fun (_, r) -> r.Claims.Length) |> List.max
            let claims =
                [ for i in 0 .. nClaims - 1 do
                    let at = per |> List.choose (fun (s, r) -> List.tryItem i r.Claims |> Option.map (fun c -> s, c))
                    let statement = (snd at.Head).Statement
                    // a run whose i-th claim says something else (e.g. a check that failed to run) counts as a failure
                    let ok (c: Claim) = c.Pass && c.Statement = statement
                    yield
                        { Check = name
                          Index = i
                          Statement = statement
                          Passed = at |> List.filter (snd >> ok) |> List.length
                          Runs = per.Length
                          FailedSeeds = per |> List.filter (fun (s, _) -> not (at |> List.exists (fun (s', c) -> s' = s && ok c))) |> List.map fst } ]
            yield
                { Name = name
                  Passed = per |> List.filter (fun (_, r) -> r.Pass) |> List.length
                  Runs = per.Length
                  MeanSeconds = per |> List.averageBy (fun (_, r) -> r.ElapsedSeconds)
                  Claims = claims } ]

    let private pct (x: float) = sprintf "%.0f%%" (100.0 * x)

    /// pass-rates.md: per check and claim, passes/runs, rate and 95% Wilson interval, failing base seeds.
    let markdown (rates: CheckRate list) (quick: bool) (seeds: int list) =
        let sb = StringBuilder()
        let ln (s: string) = sb.AppendLine s |> ignore
        ln "# Theory paper-checks pass rates over seeds"
        ln ""
        ln (sprintf "Mode %s · %d base seeds: %s (stride %d, so the runs share no seed) · interval: 95%% Wilson score"
                (if quick then "quick" else "full") seeds.Length (seeds |> List.map string |> String.concat ", ") seedStride)
        for c in rates do
            let lo, hi = wilson95 c.Passed c.Runs
            ln ""
            ln (sprintf "## %s — all claims pass in %d/%d runs (%s, 95%% CI %s–%s); mean run time %.1f s" c.Name c.Passed c.Runs (pct (float c.Passed / float c.Runs)) (pct lo) (pct hi) c.MeanSeconds)
            ln ""
            ln "| # | claim | passed | rate | 95% Wilson | failed on base seeds |"
            ln "|---|---|---|---|---|---|"
            for r in c.Claims do
                let lo, hi = r.Interval
                ln (sprintf "| %d | %s | %d/%d | %s | %s–%s | %s |" (r.Index + 1) (r.Statement.Replace("|", "\\|")) r.Passed r.Runs (pct r.Rate) (pct lo) (pct hi)
                        (if r.FailedSeeds.IsEmpty then "—" else r.FailedSeeds |> List.map string |> String.concat ", "))
        sb.ToString()

    /// pass-rates.json: the same numbers.
    let json (rates: CheckRate list) (quick: bool) (seeds: int list) =
        let checks = JsonArray()
        for c in rates do
            let claims = JsonArray()
            for r in c.Claims do
                let lo, hi = r.Interval
                let failed = JsonArray()
                for s in r.FailedSeeds do failed.Add(JsonValue.Create s)
                claims.Add(
                    Json.Nested
                        [ "statement", Json.String r.Statement; "passed", Json.Int(int64 r.Passed); "runs", Json.Int(int64 r.Runs)
                          "rate", Json.Number("rate", r.Rate); "wilson95", Json.Numbers("wilson95", [ lo; hi ]); "failedSeeds", (failed :> JsonNode) ])
            let lo, hi = wilson95 c.Passed c.Runs
            checks.Add(
                Json.Nested
                    [ "name", Json.String c.Name; "passed", Json.Int(int64 c.Passed); "runs", Json.Int(int64 c.Runs)
                      "wilson95", Json.Numbers("wilson95", [ lo; hi ]); "meanSeconds", Json.Number("meanSeconds", c.MeanSeconds)
                      "claims", (claims :> JsonNode) ])
        let ss = JsonArray()
        for s in seeds do ss.Add(JsonValue.Create s)
        Json.Object [ "mode", Json.String(if quick then "quick" else "full"); "baseSeeds", (ss :> JsonNode); "checks", (checks :> JsonNode) ]

    /// Writes pass-rates.md and pass-rates.json into dir.
    let write (dir: string) (rates: CheckRate list) (quick: bool) (seeds: int list) =
        Directory.CreateDirectory dir |> ignore
        File.WriteAllText(Path.Combine(dir, "pass-rates.md"), markdown rates quick seeds)
        File.WriteAllText(Path.Combine(dir, "pass-rates.json"), Json.Serialize(json rates quick seeds))

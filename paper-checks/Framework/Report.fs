namespace Theory.PaperChecks

open System
open System.IO
open System.Text
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io

/// Writes report.md and results.json for a list of check results.
module Report =
    let private verdict (r: CheckResult) = if r.Pass then "PASS" else "FAIL"

    /// Markdown report: per check, the claim(s), the measured numbers, the verdict and the figures.
    let markdown (results: CheckResult list) (quick: bool) (seed: int) =
        let sb = StringBuilder()
        let ln (s: string) = sb.AppendLine s |> ignore
        ln "# Theory paper-checks report"
        ln ""
        ln (sprintf "Library version %s · mode %s · base seed %d · generated %s UTC" LibraryInfo.Version (if quick then "quick" else "full") seed (DateTime.UtcNow.ToString "yyyy-MM-dd HH:mm"))
        ln ""
        ln "| check | paper | verdict | claims passed | time (s) |"
        ln "|---|---|---|---|---|"
        for r in results do
            let np = r.Claims |> List.filter (fun c -> c.Pass) |> List.length
            ln (sprintf "| %s | %s | **%s** | %d/%d | %.1f |" r.Name r.Paper (verdict r) np r.Claims.Length r.ElapsedSeconds)
        for r in results do
            ln ""
            ln (sprintf "## %s — %s" r.Name r.Title)
            ln ""
            ln (sprintf "*%s* · verdict **%s**" r.Paper (verdict r))
            ln ""
            if not r.Parameters.IsEmpty then
                ln ("Parameters: " + (r.Parameters |> List.map (fun (k, v) -> sprintf "%s = %s" k v) |> String.concat "; "))
                ln ""
            ln "| claim | measured | verdict |"
            ln "|---|---|---|"
            for c in r.Claims do
                ln (sprintf "| %s | %s | %s |" (c.Statement.Replace("|", "\\|")) (c.Measured.Replace("|", "\\|")) (if c.Pass then "PASS" else "FAIL"))
            for n in r.Notes do
                ln ""
                ln ("> " + n)
            for f in r.Figures do
                ln ""
                ln (sprintf "![%s](%s)" f.Caption f.File)
                ln ""
                ln (sprintf "*%s*" f.Caption)
        sb.ToString()

    /// results.json: one object with the version, mode, seed and per-check numbers and verdicts.
    let json (results: CheckResult list) (quick: bool) (seed: int) =
        let checks = JsonArray()
        for r in results do
            let claims = JsonArray()
            for c in r.Claims do
                claims.Add(Json.Nested [ "statement", Json.String c.Statement; "measured", Json.String c.Measured; "pass", Json.Bool c.Pass ])
            let pars = JsonObject()
            for (k, v) in r.Parameters do pars.[k] <- JsonValue.Create v
            let nums = JsonObject()
            for (k, v) in r.Numbers do nums.[k] <- v
            let figures = JsonArray()
            for f in r.Figures do figures.Add(JsonValue.Create f.File)
            checks.Add(
                Json.Nested
                    [ "name", Json.String r.Name
                      "paper", Json.String r.Paper
                      "title", Json.String r.Title
                      "verdict", Json.String(verdict r)
                      "parameters", (pars :> JsonNode)
                      "claims", (claims :> JsonNode)
                      "numbers", (nums :> JsonNode)
                      "figures", (figures :> JsonNode)
                      "elapsedSeconds", Json.Number("elapsedSeconds", r.ElapsedSeconds) ])
        Json.Object [ "mode", Json.String(if quick then "quick" else "full"); "seed", Json.Int(int64 seed); "checks", (checks :> JsonNode) ]

    /// Writes both files into dir.
    let write (dir: string) (results: CheckResult list) (quick: bool) (seed: int) =
        Directory.CreateDirectory dir |> ignore
        File.WriteAllText(Path.Combine(dir, "report.md"), markdown results quick seed)
        File.WriteAllText(Path.Combine(dir, "results.json"), Json.Serialize(json results quick seed))

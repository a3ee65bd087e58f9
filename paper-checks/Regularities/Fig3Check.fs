/// Metzner et al. (2025) Fig. 3: phase diagrams of N, F, C(1) and A over (b, w) for the standard, Hopfield, Dale and
/// modular settings, with the mean-field boundaries on top, and the claims of §3.2–3.6.
module Theory.PaperChecks.Regularities.Fig3Check

open System
open Theory.Core.Io
open Theory.Core.MeanField
open Theory.PaperChecks
open Theory.Simulation.Reservoir

let private claim s m p = { Statement = s; Measured = m; Pass = p }

type private Cell = { B: float; W: float; P: PointSummary }

let private cells (s: SweepResult) =
    [ for i in 0 .. s.Xs.Length - 1 do for j in 0 .. s.Ys.Length - 1 -> { B = s.Xs.[i]; W = s.Ys.[j]; P = s.At(i, j) } ]

let private avg (q: string) (cs: Cell list) = if cs.IsEmpty then nan else cs |> List.averageBy (fun c -> c.P.MeanOf q)

let run (ctx: CheckContext) : CheckResult =
    let n = 50
    let bs, ws, ens, o =
        if ctx.Quick then
            [| -0.6; -0.4; -0.2; 0.0; 0.2; 0.4; 0.6 |], [| 0.1; 0.2; 0.3; 0.4 |], 3, MeasureOptions(Transient = 400, Steps = 400)
        else
            Array.init 21 (fun i -> Math.Round(-1.0 + 0.1 * float i, 10)), Array.init 12 (fun i -> Math.Round(0.05 * float (i + 1), 10)), 10, MeasureOptions()
    let seed = int64 ctx.Seed
    let settings = [ "standard"; "hopfield"; "dale"; "modular" ]
    let results =
        settings
        |> List.map (fun s ->
            ctx.Progress (sprintf "  fig3: %s (%d × %d points × %d networks)" s bs.Length ws.Length ens)
            let spec = RegularitiesFigures.settingSpec s n 1.0
            use counter = ctx.Count(sprintf "fig3: %s networks" s, bs.Length * ws.Length * ens)
            let sweep = Sweeps.PhaseDiagram(spec, bs, ws, ens, o, seed, -1, (fun _ _ -> counter.Tick()))
            counter.Done()
            s, spec, sweep)
        |> List.map (fun (s, spec, sw) -> s, (spec, sw))
        |> Map.ofList
    let figures =
        [ for s in settings do
            let spec, sw = results.[s]
            let curves = RegularitiesFigures.boundaries s spec bs ws seed
            for (q, label, lo, hi) in RegularitiesFigures.fig3Quantities do
                let file = sprintf "reg-fig3-%s-%s.png" s q
                RegularitiesFigures.heatmap sw q (sprintf "%s: %s" s label) curves lo hi (ctx.File file)
                yield { File = file; Caption = sprintf "Fig. 3 (%s): %s over (b, w); white dots: mean-field boundaries" s label } ]
    let std = cells (snd results.["standard"])
    let hop = cells (snd results.["hopfield"])
    let dal = cells (snd results.["dale"])
    let modu = cells (snd results.["modular"])
    let wTop = ws.[ws.Length - 1]
    let strongW (c: Cell) = c.W >= 0.25
    // quiescent cells with a 10% margin below w_c(b): at N = 50 the finite-N bulk edge lets simulated onsets fall up to
    // ≈ 0.015 below the mean-field boundary (research note A3), so cells right at the boundary are excluded
    let mfQuiescent (c: Cell) =
        (DiscreteMeanField.Regime(c.B, c.W, n, 1.0)).Regime = Regime.Quiescent && c.W <= 0.9 * DiscreteMeanField.QuiescentBoundary(c.B, n, 1.0)
    let quiet = std |> List.filter mfQuiescent
    let fixW = std |> List.filter (fun c -> c.B >= 0.5 && strongW c)
    let oscW = std |> List.filter (fun c -> c.B <= -0.5 && strongW c)
    let chaosC (cs: Cell list) = cs |> List.filter (fun c -> abs c.B < 0.05 && strongW c)
    let chaos = chaosC std
    let maxOf q (cs: Cell list) = cs |> List.map (fun c -> abs (c.P.MeanOf q)) |> List.max
    // regime agreement (standard): simulated majority label vs mean field on interior cells of the MF label grid
    let mfLabels = Array2D.init bs.Length ws.Length (fun i j -> (DiscreteMeanField.Regime(bs.[i], ws.[j], n, 1.0)).Regime)
    let interior = PhaseBoundaries.Interior mfLabels
    let sws = snd results.["standard"]
    let inter = [ for i in 0 .. bs.Length - 1 do for j in 0 .. ws.Length - 1 do if interior.[i, j] then yield (sws.At(i, j)).MajorityRegime = mfLabels.[i, j] ]
    let agreement = float (inter |> List.filter id |> List.length) / float (max 1 inter.Length)
    let countQuiet (cs: Cell list) = cs |> List.filter (fun c -> c.P.MajorityRegime = Regime.Quiescent) |> List.length
    let countSat (cs: Cell list) = cs |> List.filter (fun c -> abs (c.P.MeanOf "C1") > 0.8) |> List.length
    let edgeGain =
        [ for w in ws do
            if w >= 0.25 then
                let row = std |> List.filter (fun c -> c.W = w)
                let centre = row |> List.filter (fun c -> abs c.B < 0.05) |> avg "A"
                let edge = row |> List.filter (fun c -> abs c.B >= 0.15 && abs c.B <= 0.45) |> List.map (fun c -> c.P.MeanOf "A") |> List.max
                yield w, edge - centre ]
    let largestW (cs: Cell list) = cs |> List.filter (fun c -> abs c.B < 0.05 && c.P.MeanOf "A" > 0.5) |> List.map (fun c -> c.W) |> fun l -> if l.IsEmpty then 0.0 else List.max l
    let claims =
        [ claim "§3.2 quiescent region (MF-quiescent cells, w ≤ 0.9 w_c(b)): F ≈ 0, N ≈ 0, C ≈ 0" (sprintf "%d cells: max F %.4f, max N %.4f, max |C1| %.4f" quiet.Length (maxOf "F" quiet) (maxOf "N" quiet) (maxOf "C1" quiet)) (not quiet.IsEmpty && maxOf "F" quiet < 0.01 && maxOf "N" quiet < 0.05 && maxOf "C1" quiet < 0.02)
          claim "§3.2 fixpoint wing (b ≥ 0.5, w ≥ 0.25): F ≈ 0, N ≈ 1, C ≈ +1" (sprintf "%d cells: F %.3f, N %.3f, C1 %.3f" fixW.Length (avg "F" fixW) (avg "N" fixW) (avg "C1" fixW)) (avg "F" fixW < 0.05 && avg "N" fixW > 0.9 && avg "C1" fixW > 0.8)
          claim "§3.2 oscillatory wing (b ≤ −0.5, w ≥ 0.25): high F, N ≈ 1, C ≈ −1" (sprintf "%d cells: F %.3f, N %.3f, C1 %.3f" oscW.Length (avg "F" oscW) (avg "N" oscW) (avg "C1" oscW)) (avg "F" oscW > 0.9 && avg "N" oscW > 0.9 && avg "C1" oscW < -0.8)
          claim "§3.2 chaotic region (b = 0, w ≥ 0.25): C ≈ 0, N between linear and digital, F below the oscillatory value" (sprintf "C1 %.3f, N %.3f, F %.3f (oscillatory F %.3f)" (avg "C1" chaos) (avg "N" chaos) (avg "F" chaos) (avg "F" oscW)) (abs (avg "C1" chaos) < 0.1 && avg "N" chaos > 0.3 && avg "N" chaos < 0.95 && avg "F" chaos < avg "F" oscW)
          claim "mean-field regimes agree with the simulated majority regime on interior cells (standard)" (sprintf "%.0f%% of %d interior cells" (100.0 * agreement) inter.Length) (agreement >= 0.8)
          claim "§3.3 with input, the N and C diagrams barely change (mean |driven − free| < 0.1)" (sprintf "mean |ΔN| = %.3f, mean |ΔC1| = %.3f" (std |> List.averageBy (fun c -> abs (c.P.MeanOf "N_driven" - c.P.MeanOf "N"))) (std |> List.averageBy (fun c -> abs (c.P.MeanOf "C1_driven" - c.P.MeanOf "C1")))) ((std |> List.averageBy (fun c -> abs (c.P.MeanOf "N_driven" - c.P.MeanOf "N"))) < 0.1 && (std |> List.averageBy (fun c -> abs (c.P.MeanOf "C1_driven" - c.P.MeanOf "C1"))) < 0.1)
          claim "§3.3 only F in the quiescent region is slightly elevated by the input" (sprintf "quiescent cells: free F %.4f, driven F %.4f" (avg "F" quiet) (avg "F_driven" quiet)) (avg "F_driven" quiet > avg "F" quiet && avg "F_driven" quiet < 0.3)
          claim "§3.3 accuracy ≈ 1 throughout the quiescent region" (sprintf "mean A over %d MF-quiescent cells = %.3f (min %.3f)" quiet.Length (avg "A" quiet) (quiet |> List.map (fun c -> c.P.MeanOf "A") |> List.min)) (avg "A" quiet > 0.9)
          claim "§3.3 accuracy drops in the chaotic region" (sprintf "A(b = 0, w ≥ 0.25) = %.3f" (avg "A" chaos)) (avg "A" chaos < 0.3)
          claim "§3.3 accuracy drops in the upper/outer oscillatory and fixpoint regions" (sprintf "A at |b| ≥ 0.5, w = %.2f: %.3f" wTop (avg "A" (std |> List.filter (fun c -> abs c.B >= 0.5 && c.W = wTop)))) (avg "A" (std |> List.filter (fun c -> abs c.B >= 0.5 && c.W = wTop)) < 0.6)
          claim "§3.3 edges of chaos: accuracy stays high between chaos and the oscillatory/fixpoint wings" (edgeGain |> List.map (fun (w, g) -> sprintf "w=%.2f: edge − centre = %+.2f" w g) |> String.concat "; ") (edgeGain |> List.forall (fun (_, g) -> g > 0.2))
          claim "§3.4 Hopfield r = 1 shrinks the quiescent region" (sprintf "quiescent cells: standard %d, hopfield %d" (countQuiet std) (countQuiet hop)) (countQuiet hop < countQuiet std)
          claim "§3.4 Hopfield raises N in the chaotic region" (sprintf "N(b = 0, w ≥ 0.25): standard %.3f, hopfield %.3f" (avg "N" chaos) (avg "N" (chaosC hop))) (avg "N" (chaosC hop) > avg "N" chaos + 0.03)
          claim "§3.4 Hopfield reduces F in the chaotic region" (sprintf "F: standard %.3f, hopfield %.3f" (avg "F" chaos) (avg "F" (chaosC hop))) (avg "F" (chaosC hop) < avg "F" chaos - 0.03)
          claim "§3.4 no differences between the correlation diagrams (standard vs Hopfield)" (sprintf "mean |ΔC1| over the grid = %.3f" (List.map2 (fun (a: Cell) (b: Cell) -> abs (a.P.MeanOf "C1" - b.P.MeanOf "C1")) std hop |> List.average)) ((List.map2 (fun (a: Cell) (b: Cell) -> abs (a.P.MeanOf "C1" - b.P.MeanOf "C1")) std hop |> List.average) < 0.1)
          claim "§3.4 Hopfield accuracy in the chaotic region drops below the standard case" (sprintf "A(b = 0, w ≥ 0.25): standard %.3f, hopfield %.3f" (avg "A" chaos) (avg "A" (chaosC hop))) (avg "A" (chaosC hop) < avg "A" chaos)
          claim "§3.5 Dale h = 1 improves accuracy beyond the standard case" (sprintf "mean A over the diagram: standard %.3f, dale %.3f" (avg "A" std) (avg "A" dal)) (avg "A" dal > avg "A" std)
          claim "§3.5 Dale: the chaotic region tolerates larger w (largest w at b = 0 with A > 0.5)" (sprintf "standard %.2f, dale %.2f" (largestW std) (largestW dal)) (largestW dal > largestW std)
          claim "§3.6 modularity shrinks the oscillatory and fixpoint regions (cells with |C1| > 0.8)" (sprintf "standard %d, modular %d" (countSat std) (countSat modu)) (countSat modu < countSat std)
          claim "§3.6 modular: the chaotic region turns into moderate N and F with low C" (sprintf "b = 0, w ≥ 0.25: N %.3f (std %.3f), F %.3f (std %.3f), C1 %.3f" (avg "N" (chaosC modu)) (avg "N" chaos) (avg "F" (chaosC modu)) (avg "F" chaos) (avg "C1" (chaosC modu))) (avg "N" (chaosC modu) < avg "N" chaos && avg "F" (chaosC modu) < avg "F" chaos && abs (avg "C1" (chaosC modu)) < 0.1)
          claim "§3.6 modular: accuracy very high across almost the whole diagram (≥ 80% of cells with A > 0.8)" (sprintf "%.0f%% of cells (standard %.0f%%)" (100.0 * float (modu |> List.filter (fun c -> c.P.MeanOf "A" > 0.8) |> List.length) / float modu.Length) (100.0 * float (std |> List.filter (fun c -> c.P.MeanOf "A" > 0.8) |> List.length) / float std.Length)) (float (modu |> List.filter (fun c -> c.P.MeanOf "A" > 0.8) |> List.length) / float modu.Length >= 0.8) ]
    // CSVs next to the report
    for s in settings do (snd results.[s]).WriteCsv(ctx.File(sprintf "reg-fig3-%s.csv" s))
    { Name = "regularities-fig3"
      Paper = "Metzner, Schilling, Maier & Krauss 2025"
      Title = "Fig. 3: phase diagrams (N, F, C, A) for standard, Hopfield, Dale, modular"
      Parameters =
        [ "N", string n; "d", "1"; "b grid", sprintf "%g..%g (%d)" bs.[0] bs.[bs.Length - 1] bs.Length; "w grid", sprintf "%g..%g (%d)" ws.[0] wTop ws.Length
          "networks per cell", string ens; "transient/steps", sprintf "%d/%d" o.Transient o.Steps; "seed", string seed
          "strong values", "r = 1, h = 1, m = 0.8 (M = 10, f = 0.2)" ]
      Claims = claims
      Figures = figures
      Numbers =
        [ "regimeAgreement", Json.Number("regimeAgreement", agreement)
          "A_mean_standard", Json.Number("A_mean_standard", avg "A" std); "A_mean_hopfield", Json.Number("A_mean_hopfield", avg "A" hop)
          "A_mean_dale", Json.Number("A_mean_dale", avg "A" dal); "A_mean_modular", Json.Number("A_mean_modular", avg "A" modu) ]
      Notes =
        [ "Task, strong regularity values, grids, transient and ensemble size are reconstructed (research note A7, A8); accuracy depends strongly on the task parameters, so the accuracy claims are reported as reproduced or not, not tuned."
          "Mean-field boundaries: homogeneous mean field (standard), column-sign two-population mean field (Dale; it ignores the non-normal column-sign term), block mean field on the first matrix's labels (modular), elliptic-law quiescent boundary only (Hopfield: symmetric couplings break the i.i.d. closure)."
          "Cost: quick 7×4 cells × 3 networks × 4 settings (≈ 35 s); full 21×12 cells × 10 networks × 4 settings, 1000+1000 steps plus the task: ≈ 4.5 min of CPU time, measured 8.6 min wall on the shared 2-core machine under a load average of ≈ 20 (≈ 2.5 min on two idle cores)." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "regularities-fig3"; Paper = "Metzner, Schilling, Maier & Krauss 2025"; Title = "Fig. 3: phase diagrams with mean-field boundaries"; Run = run }

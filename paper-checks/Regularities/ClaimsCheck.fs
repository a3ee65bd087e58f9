/// Metzner et al. (2025): the qualitative claims of the abstract and §3.8/§4, plus the mean-field quiescent boundary
/// ("Mt Fuji") against simulated onsets.
module Theory.PaperChecks.Regularities.ClaimsCheck

open System
open ScottPlot
open Theory.Core.Io
open Theory.Core.MeanField
open Theory.Core.Numerics
open Theory.Core.RandomMatrix
open Theory.PaperChecks
open Theory.Simulation
open Theory.Simulation.Reservoir

let private claim s m p = { Statement = s; Measured = m; Pass = p }

/// Simulated onset: smallest w on the grid where mean |y| > 0.1 in at least half of the networks (research note A3).
let private onset (spec: float -> WeightMatrixSpec) (ws: float[]) (nets: int) (seed: int64) =
    let active =
        Ensemble.Run(ws.Length, fun i ->
            let cnt =
                [ for k in 0 .. nets - 1 do
                    let m = WeightMatrixGenerator.Generate(spec ws.[i], Sweeps.MemberSeed(seed, k))
                    let rng = Rng.ForStream(Sweeps.MemberSeed(seed, k), 1)
                    let net = DiscreteNetwork.Create(m, NetworkOptions(), rng)
                    let run = net.RunFree(net.InitialState rng, 2000, 200)
                    yield DynamicalMeasures.MeanAbsolute(run.States) > 0.1 ]
                |> List.filter id |> List.length
            2 * cnt >= nets)
    match Array.tryFindIndex id active with
    | Some i -> ws.[i]
    | None -> nan

let run (ctx: CheckContext) : CheckResult =
    let n = 50
    let seed = int64 ctx.Seed
    let ens = if ctx.Quick then 10 else 40
    let nets = if ctx.Quick then 6 else 10
    // 1. quiescent boundary: mean field / random-matrix formula vs simulated onset
    ctx.Progress "  claims: quiescent boundary (Mt Fuji)"
    let cases =
        [ for b in [ -0.5; -0.3; 0.0; 0.1; 0.3; 0.5 ] -> sprintf "b=%g" b, DiscreteMeanField.QuiescentBoundary(b, n, 1.0), (fun w -> WeightMatrixSpec(N = n, Width = w, Balance = b))
          for r in [ 0.5; 1.0 ] ->
            let p = EllipticLaw.ForRegularities(n, 1.0, 1.0, 0.0, r)
            sprintf "b=0, r=%g" r, 1.0 / p.SemiAxisReal, (fun w -> WeightMatrixSpec(N = n, Width = w, Reciprocity = r)) ]
    let onsets =
        cases |> List.map (fun (lab, wc, mk) ->
            let ws = Array.init 41 (fun i -> Math.Round(wc * (0.6 + 0.02 * float i), 6))
            lab, wc, onset mk ws nets seed)
    // finite-N bulk edges fluctuate: simulated onsets lie up to ≈ 0.015 below the formula at N = 50 (research note A3)
    let onsetOk = onsets |> List.forall (fun (_, wc, ws) -> Double.IsFinite ws && ws <= wc * 1.1 && ws >= wc - 0.02)
    let plt = new Plot()
    let bsF = Array.init 81 (fun i -> -1.0 + 0.025 * float i)
    Plots.line plt bsF (bsF |> Array.map (fun b -> DiscreteMeanField.QuiescentBoundary(b, n, 1.0))) "mean field w_c(b)" |> ignore
    let pureCases = onsets |> List.filter (fun (l, _, _) -> not (l.Contains "r="))
    Plots.points plt (pureCases |> List.map (fun (l, _, _) -> float (l.Substring 2)) |> Array.ofList) (pureCases |> List.map (fun (_, _, s) -> s) |> Array.ofList) "simulated onset" |> ignore
    Plots.labels plt "Quiescent boundary ('Mt Fuji'), N = 50, d = 1" "balance b" "width w"
    let figOnset = { File = Plots.save plt ctx "reg-claims-onset.png" 640 480; Caption = "Mean-field quiescent boundary vs simulated onsets" }
    // 2. regularity effects at (w = 0.3, b = 0) and (w = 0.3, b = 0.2)
    ctx.Progress "  claims: regularity effects on accuracy"
    let o = if ctx.Quick then MeasureOptions(Transient = 400, Steps = 400) else MeasureOptions()
    let settings = [ "standard", WeightMatrixSpec(N = n, Width = 0.3); "dale", WeightMatrixSpec(N = n, Width = 0.3, Homogeneity = 1.0)
                     "hopfield", WeightMatrixSpec(N = n, Width = 0.3, Reciprocity = 1.0); "modular", WeightMatrixSpec(N = n, Width = 0.3, Modularity = 0.8, BlockSize = 10, StrongProbability = 0.2) ]
    let res =
        settings |> List.map (fun (name, s) ->
            name, Sweeps.Run("setting", "b", [| 0.0 |], [| 0.0; 0.2 |], (fun _ b -> WeightMatrixSpec(N = s.N, Width = s.Width, Balance = b, Homogeneity = s.Homogeneity, Reciprocity = s.Reciprocity, Modularity = s.Modularity, BlockSize = s.BlockSize, StrongProbability = s.StrongProbability)), ens, o, seed, []))
        |> Map.ofList
    let acc name jb =
        let p = (res.[name]).At(0, jb)
        let k = Array.IndexOf(PointSummary.Quantities, "A")
        p.Mean.[k], p.Sd.[k] / Math.Sqrt(float p.Members.Length)
    let cmp name jb = let (a, sa), (b, sb) = acc name jb, acc "standard" jb in a - b, Math.Sqrt(sa * sa + sb * sb)
    let fmt (x: float, s: float) = sprintf "%+.3f ± %.3f" x s
    let better name = let d0, s0 = cmp name 0 in let d1, s1 = cmp name 1 in d0 > 2.0 * s0 && d1 > 2.0 * s1
    let worse name = let d0, s0 = cmp name 0 in let d1, s1 = cmp name 1 in d0 < -2.0 * s0 && d1 < -2.0 * s1
    // 3. Hopfield r = 1 attractors: frozen and period-2 neurons, no chaos
    let hop = (res.["hopfield"]).At(0, 0).Members
    let period2 = hop |> Array.filter (fun m -> m.Regime = Regime.Oscillatory || m.Regime = Regime.Fixpoint) |> Array.length
    let chaoticHop = hop |> Array.filter (fun m -> m.Lyapunov > 1e-3) |> Array.length
    let dale = (res.["dale"]).At(0, 0).Members
    let daleOther = dale |> Array.filter (fun m -> m.Regime = Regime.OtherPeriodic || (m.Regime = Regime.Chaotic && m.Lyapunov < 0.02)) |> Array.length
    let claims =
        [ claim "mean-field quiescent boundary w_c(b) = 1/max(√(N(1 − b²2/π)), N|b|√(2/π)) (and 1/((1+r)√N) for reciprocity) matches the simulated onset (within +10% / −0.02)"
              (onsets |> List.map (fun (l, wc, ws) -> sprintf "%s: MF %.3f, sim %.3f" l wc ws) |> String.concat "; ") onsetOk
          claim "Hopfield reciprocity significantly shrinks the quiescent region (onset at b = 0 falls with r)"
              (onsets |> List.filter (fun (l, _, _) -> l = "b=0" || l.StartsWith "b=0,") |> List.map (fun (l, _, ws) -> sprintf "%s: %.3f" l ws) |> String.concat "; ")
              (let o0 = onsets |> List.find (fun (l, _, _) -> l = "b=0") |> fun (_, _, w) -> w in let o1 = onsets |> List.find (fun (l, _, _) -> l = "b=0, r=1") |> fun (_, _, w) -> w in o1 < 0.7 * o0)
          claim "abstract: Dale monopolarity significantly enhances task accuracy (w = 0.3, b = 0 and 0.2)" (sprintf "ΔA vs standard: b=0 %s, b=0.2 %s" (fmt (cmp "dale" 0)) (fmt (cmp "dale" 1))) (better "dale")
          claim "abstract: modularity significantly enhances task accuracy (m = 0.8, M = 10)" (sprintf "ΔA vs standard: b=0 %s, b=0.2 %s" (fmt (cmp "modular" 0)) (fmt (cmp "modular" 1))) (better "modular")
          claim "abstract: Hopfield reciprocity tends to reduce accuracy (r = 1)" (sprintf "ΔA vs standard: b=0 %s, b=0.2 %s" (fmt (cmp "hopfield" 0)) (fmt (cmp "hopfield" 1))) (worse "hopfield")
          claim "§3.8: at r = 1 the dynamics is ordered — neurons frozen or in period 2, no chaos" (sprintf "%d/%d networks with period ≤ 2, %d with λ > 0" period2 hop.Length chaoticHop) (period2 = hop.Length && chaoticHop = 0)
          claim "§3.8: at h = 1 (b = 0) the dynamics is approximately periodic with period > 2 (not period ≤ 2, λ ≈ 0)" (sprintf "%d/%d networks other-periodic or marginally chaotic (λ < 0.02); regimes: %s" daleOther dale.Length (dale |> Array.countBy (fun m -> RegimeNames.name m.Regime) |> Array.map (fun (k, c) -> sprintf "%s %d" k c) |> String.concat ", ")) (2 * daleOther >= dale.Length) ]
    { Name = "regularities-claims"
      Paper = "Metzner, Schilling, Maier & Krauss 2025"
      Title = "Qualitative claims: regularity effects, attractors, quiescent boundary"
      Parameters = [ "N", string n; "w (effects)", "0.3"; "networks per setting", string ens; "onset networks", string nets; "seed", string seed ]
      Claims = claims
      Figures = [ figOnset ]
      Numbers =
        [ for name in [ "dale"; "modular"; "hopfield" ] do
            for jb in 0 .. 1 do
                let key = sprintf "dA_%s_b%d" name jb
                yield key, Json.Number(key, fst (cmp name jb)) ]
      Notes =
        [ "Not checked: §3.8's modular groups with longer-period oscillations (no quantitative criterion in the text)."
          "Hopfield: symmetric couplings with synchronous updates admit only fixed points and period-2 cycles (Marcus & Westervelt 1989), which makes responses reproducible; with the reconstructed task this raises accuracy instead of lowering it (research note A10)."
          "Cost: quick 10 networks per setting (≈ 20 s); full 40 (≈ 1 min)." ]
      ElapsedSeconds = 0.0 }

let check: PaperCheck =
    { Name = "regularities-claims"; Paper = "Metzner, Schilling, Maier & Krauss 2025"; Title = "Qualitative claims with honest verdicts"; Run = run }

/// `theory dmft …`: the learned-network DMFT (Clark et al. 2026). This file implements `dmft linear-spectrum`;
/// other `dmft` sub-commands live in their own files (e.g. Commands/DmftNonlinear.fs) and are dispatched by their
/// own line in Program.fs.
module Theory.Cli.Commands.Dmft

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

/// theory dmft linear-spectrum --g G --gamma Γ (--omega W --ratio R | --target peaked --omega0 W0 --width S --csv FILE)
///   [--fixed-u] [--amplitude A] [--floor F] [--input-level L] [--omega-max M] [--points P] [--json]
let linearSpectrum (args: Args) =
    let asJson = args.Flag "json"
    let g = args.RequireFloat "g"
    let gamma = args.RequireFloat "gamma"
    let fixedU = args.Flag "fixed-u"
    match args.TryString "target" with
    | None ->
        let omega = args.RequireFloat "omega"
        let ratio = args.RequireFloat "ratio"
        args.Finish()
        let value =
            if fixedU then LinearSpectrum.fixedInputRatio (g, gamma, omega, ratio)
            else LinearSpectrum.ratio (g, gamma, omega, ratio)
        let gc = LinearSpectrum.gammaCritical (g, omega, ratio)
        Output.emit
            asJson
            [ Output.num "spectrumRatio" value
              Output.num "g" g
              Output.num "gamma" gamma
              Output.num "omega" omega
              Output.num "ratio" ratio
              Output.num "D" (LinearSpectrum.domain (g, gamma, omega, ratio))
              (if Double.IsFinite gc then Output.num "gammaCritical" gc else Output.str "gammaCritical" "infinity")
              Output.str "inputWeights" (if fixedU then "fixed" else "trained")
              Output.str "equation" "Clark et al. 2026 linear formula (note dmft-learned.md §4; fixed U: §3.3)" ]
        0
    | Some "peaked" ->
        let omega0 = args.RequireFloat "omega0"
        let width = args.RequireFloat "width"
        let amplitude = args.Float("amplitude", 1.0)
        let floor = args.Float("floor", 0.0)
        let level = args.Float("input-level", 1.0)
        let omegaMax = args.Float("omega-max", max 3.0 (omega0 + 6.0 * width))
        let points = args.Int("points", 301)
        let csv = args.TryString "csv"
        args.Finish()
        Validate.Positive("omega-max", omegaMax) |> ignore
        Validate.AtLeast("points", points, 2) |> ignore
        let omegas = Array.init points (fun k -> omegaMax * float k / float (points - 1))
        let cI = omegas |> Array.map (fun w -> LinearKernels.whiteInput (level, w))
        let cy = omegas |> Array.map (fun w -> LinearKernels.peakedTarget (omega0, width, amplitude, floor, w))
        let c =
            if fixedU then Array.init points (fun k -> cI.[k] * LinearSpectrum.fixedInputRatio (g, gamma, omegas.[k], cy.[k] / cI.[k]))
            else LinearSpectrum.spectrum (g, gamma, omegas, cI, cy)
        let c0 = Array.init points (fun k -> cI.[k] * LinearSpectrum.ratio (g, 0.0, omegas.[k], 0.0))
        let kPeak = Array.init points id |> Array.maxBy (fun k -> c.[k] / c0.[k])
        match csv with
        | Some path ->
            Csv.Write(
                path,
                [ "command", "dmft linear-spectrum"
                  "g", Csv.Format g
                  "gamma", Csv.Format gamma
                  "target", "peaked"
                  "omega0", Csv.Format omega0
                  "width", Csv.Format width
                  "amplitude", Csv.Format amplitude
                  "floor", Csv.Format floor
                  "inputLevel", Csv.Format level
                  "inputWeights", (if fixedU then "fixed" else "trained") ],
                [| "omega"; "CI"; "Cy"; "C"; "C_over_CI"; "C_gamma0" |],
                Seq.init points (fun k -> [| omegas.[k]; cI.[k]; cy.[k]; c.[k]; c.[k] / cI.[k]; c0.[k] |])
            )
        | None -> ()
        Output.emit
            asJson
            [ Output.num "g" g
              Output.num "gamma" gamma
              Output.str "target" "peaked"
              Output.num "omega0" omega0
              Output.num "width" width
              Output.num "amplitude" amplitude
              Output.num "inputLevel" level
              Output.int "points" points
              Output.num "peakOmega" omegas.[kPeak]
              Output.num "peakGain" (c.[kPeak] / c0.[kPeak])
              Output.num "peakSpectrum" c.[kPeak]
              Output.str "inputWeights" (if fixedU then "fixed" else "trained")
              Output.str "csv" (defaultArg csv "") ]
        0
    | Some other -> raise (UsageError(sprintf "--target: unknown target '%s' (known: peaked)" other))

/// `theory dmft …`: the learned-network DMFT (Clark et al. 2026). This file implements `dmft linear-spectrum`;
/// other `dmft` sub-commands live in their own files (e.g. Commands/DmftNonlinear.fs); Program.fs groups them under
/// `dmft`.
module Theory.Cli.Commands.Dmft

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Cli

/// theory dmft linear-spectrum --g G --gamma Γ (--omega W --ratio R | --target peaked --omega0 W0 --width S --csv FILE)
///   [--fixed-u] [--amplitude A] [--floor F] [--input-level L] [--omega-max M] [--points P] [--json]
let command () =
    Cli.command "linear-spectrum" "trained linear network power spectrum C(ω)/Cᴵ(ω) (Clark et al. 2026): at one ω (--omega, --ratio) or over ω for a target (--target peaked)" (fun cmd ->
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: >= 0 (D(ω) > 0 needed)"
        let gamma = Cli.requiredFloat cmd "--gamma" "feature-learning strength γ; allowed: >= 0"
        let omega = Cli.optionalFloat cmd "--omega" "frequency ω (required without --target)"
        let ratio = Cli.optionalFloat cmd "--ratio" "target-to-input spectral ratio Cʸ(ω)/Cᴵ(ω) (required without --target)"
        let target = Cli.optionalString cmd "--target" "spectrum over ω for a target shape; allowed: peaked"
        let omega0 = Cli.optionalFloat cmd "--omega0" "peak frequency of the peaked target (required with --target peaked)"
        let width = Cli.optionalFloat cmd "--width" "width of the peaked target (required with --target peaked)"
        let amplitude = Cli.float cmd "--amplitude" 1.0 "peak amplitude of the target (--target peaked)"
        let floor = Cli.float cmd "--floor" 0.0 "floor of the target spectrum (--target peaked)"
        let level = Cli.float cmd "--input-level" 1.0 "white input level Cᴵ (--target peaked)"
        let omegaMax = Cli.optionalFloat cmd "--omega-max" "largest ω of the table (--target peaked); default max(3, ω0 + 6·width); allowed: > 0"
        let points = Cli.int cmd "--points" 301 "points of the ω table (--target peaked); allowed: >= 2"
        let csv = Cli.optionalString cmd "--csv" "write the ω table to this CSV file (--target peaked; default: none)"
        let fixedU = Cli.flag cmd "--fixed-u" "input weights U fixed (not trained)"
        let json = Cli.json cmd
        fun r ->
            let peakedOnly : System.CommandLine.Option list = [ amplitude; floor; level; omegaMax; points; csv; omega0; width ]
            let asJson = r.GetValue json
            let g = r.GetValue g
            let gamma = r.GetValue gamma
            let fixedU = r.GetValue fixedU
            match r.GetValue target with
            | None ->
                Cli.onlyWith r "with --target peaked" peakedOnly
                let omega = Cli.need r "(or --target peaked)" omega
                let ratio = Cli.need r "(or --target peaked)" ratio
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
                Cli.onlyWith r "without --target" [ omega; ratio ]
                let omega0 = Cli.need r "with --target peaked" omega0
                let width = Cli.need r "with --target peaked" width
                let amplitude = r.GetValue amplitude
                let floor = r.GetValue floor
                let level = r.GetValue level
                let omegaMax = r.GetValue omegaMax |> Option.defaultValue (max 3.0 (omega0 + 6.0 * width))
                let points = r.GetValue points
                let csv = r.GetValue csv
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
            | Some other -> raise (UsageError(sprintf "--target: unknown target '%s' (known: peaked)" other)))

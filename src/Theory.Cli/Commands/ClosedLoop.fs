/// `theory closed-loop feedback|cubic|lqr|train` (Ger & Barak 2025). Gains follow the library convention u = kᵀx
/// (stabilising gains are negative); LQR reports the textbook K of u = −Kx (k = −K).
module Theory.Cli.Commands.ClosedLoopCommand

open System
open System.Numerics
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io
open Theory.Core.ClosedLoop
open Theory.Cli

let private complexList (field: string) (zs: Complex seq) : JsonNode =
    let arr = JsonArray()
    zs |> Seq.iteri (fun i z ->
        let o = JsonObject()
        o.["re"] <- Json.Number(sprintf "%s[%d].re" field i, z.Real)
        o.["im"] <- Json.Number(sprintf "%s[%d].im" field i, z.Imaginary)
        arr.Add(o))
    arr

let private matrixRows (field: string) (m: float[,]) : JsonNode =
    let arr = JsonArray()
    for i in 0 .. Array2D.length1 m - 1 do
        arr.Add(Json.Numbers(sprintf "%s[%d]" field i, [ for j in 0 .. Array2D.length2 m - 1 -> m.[i, j] ]))
    arr

/// closed-loop feedback --k1 K1 --k2 K2 [--dt 1]
let feedback (args: Args) =
    let asJson = args.Flag "json"
    let k1 = args.RequireFloat "k1"
    let k2 = args.RequireFloat "k2"
    let dt = args.Float("dt", 1.0)
    args.Finish()
    let ev = StaticFeedback.eigenvalues dt k1 k2
    let region = StaticFeedback.region dt k1 k2
    Output.emit asJson
        [ Output.num "k1" k1
          Output.num "k2" k2
          Output.num "dt" dt
          "eigenvalues", complexList "eigenvalues" ev
          Output.num "spectralRadius" (StaticFeedback.spectralRadius dt k1 k2)
          Output.str "region" region.Name
          Output.str "convention" "u = k1*x1 + k2*x2 (u = k'x)" ]
    0

/// closed-loop cubic --szm --szu --svm --svu
let cubic (args: Args) =
    let asJson = args.Flag "json"
    let o = Overlaps.Create(args.RequireFloat "szm", args.RequireFloat "szu", args.RequireFloat "svm", args.RequireFloat "svu")
    args.Finish()
    let r = Characteristic.roots o
    let fields =
        [ Output.nums "overlaps" (o.ToArray())
          Output.nums "coefficients" (Characteristic.coefficients o)
          "roots", complexList "roots" r.Roots
          Output.num "lambdaReal" r.RealRoot
          Output.num "lambdaRealApprox" (Stage2.eq12 o)
          Output.num "lambdaComplexModulusSquared" (Stage2.eq11 o r.RealRoot)
          Output.num "lambdaComplexModulusSquaredApprox" (Stage2.modulusSquaredApprox o)
          Output.num "spectralRadius" (r.Roots |> Array.map (fun z -> z.Magnitude) |> Array.max)
          Output.num "l0" (Stage2.l0 3 o)
          Output.num "lInfinity10" (Stage2.lInfinity 10 o) ]
    let pair =
        match r.ComplexPair with
        | Some lc ->
            let k1, k2 = GainRecovery.fromEigenvalues 1.0 lc
            [ "complexRoot", complexList "complexRoot" [ lc ]; Output.nums "effectiveGain" [ k1; k2 ] ]
        | None -> [ Output.str "complexRoot" "none (all roots real)" ]
    Output.emit asJson (fields @ pair)
    0

/// closed-loop lqr --q q11,q12,q21,q22 --r R [--dt 1] [--horizon T]
let lqr (args: Args) =
    let asJson = args.Flag "json"
    let q = defaultArg (args.TryFloatList "q") [| 1.0; 0.0; 0.0; 1.0 |]
    let r = args.RequireFloat "r"
    let dt = args.Float("dt", 1.0)
    let horizon = args.TryInt "horizon"
    args.Finish()
    if q.Length <> 4 then raise (ParameterOutOfDomainException("q", sprintf "%d entries" q.Length, "4 entries q11,q12,q21,q22"))
    Validate.AllFinite("q", q) |> ignore
    Validate.NonNegative("r", r) |> ignore
    let plant = Plant.doubleIntegrator dt
    let b = Array2D.init 2 1 (fun i _ -> plant.B.[i])
    let qm = array2D [ [ q.[0]; q.[1] ]; [ q.[2]; q.[3] ] ]
    let rm = array2D [ [ r ] ]
    let s = Lqr.solveDareOrRaise plant.A b qm rm
    let cl = Linalg.eigenvalues (Array2D.init 2 2 (fun i j -> plant.A.[i, j] - plant.B.[i] * s.K.[0, j]))
    let finite =
        match horizon with
        | None -> []
        | Some t ->
            let fh = Lqr.finiteHorizon plant.A b qm rm qm t
            [ Output.nums "finiteHorizonGain0" [ fh.Gains.[0].[0, 0]; fh.Gains.[0].[0, 1] ]; Output.int "horizon" t ]
    Output.emit asJson
        ([ Output.nums "gain" [ s.K.[0, 0]; s.K.[0, 1] ]
           Output.nums "k" [ -s.K.[0, 0]; -s.K.[0, 1] ]
           "riccati", matrixRows "riccati" s.P
           Output.num "residual" s.Residual
           Output.int "iterations" s.Iterations
           "closedLoopEigenvalues", complexList "closedLoopEigenvalues" cl
           Output.num "r" r
           Output.num "dt" dt
           Output.str "convention" "gain K: u = -Kx; k = -K (u = k'x)" ]
         @ finite)
    0

let private usage = "closed-loop: expected a subcommand: feedback | cubic | lqr (run 'theory --help')"

/// Dispatches `closed-loop <sub> …`.
let run (mkArgs: string list -> Args) (argv: string list) =
    match argv with
    | "feedback" :: rest -> feedback (mkArgs rest)
    | "cubic" :: rest -> cubic (mkArgs rest)
    | "lqr" :: rest -> lqr (mkArgs rest)
    | sub :: _ -> raise (UsageError(sprintf "closed-loop: unknown subcommand '%s'; %s" sub usage))
    | [] -> raise (UsageError usage)

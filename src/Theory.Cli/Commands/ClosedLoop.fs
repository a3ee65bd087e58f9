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
let private feedback (k1: float) (k2: float) (dt: float) (asJson: bool) =
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
let private cubic (o: Overlaps) (asJson: bool) =
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
let private lqr (q: float[]) (r: float) (dt: float) (horizon: int option) (asJson: bool) =
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


/// The deployed-loss peak ratio R = max_e L_e / min_{e' < e} L_{e'} (research note §14.5).
let peakRatio (losses: float[]) =
    let mutable best = 1.0
    let mutable runMin = if losses.Length > 0 then losses.[0] else 1.0
    for e in 1 .. losses.Length - 1 do
        best <- max best (losses.[e] / runMin)
        runMin <- min runMin losses.[e]
    best

/// closed-loop train --mode closed|open [--model rank1|nonlinear] [--epochs 1000] [--seed 1] [--out DIR] …
let private train mode model epochs seed (out: string option) n lr optName batch clip (betaOpt: float option) steps teacherEpochs variant diagEvery
                  (asJson: bool) =
    Validate.PositiveInt("epochs", epochs) |> ignore
    Validate.PositiveInt("batch", batch) |> ignore
    Validate.AtLeast("n", n, 2) |> ignore
    let optimizer =
        match optName with
        | "sgd" -> Theory.Simulation.ClosedLoop.OptimizerKind.Sgd
        | "adam" -> Theory.Simulation.ClosedLoop.OptimizerKind.Adam
        | o -> raise (ParameterOutOfDomainException("optimizer", o, "sgd or adam"))
    let rng = Theory.Core.Numerics.Rng(int64 seed)
    let init, task, range, updateAt0 =
        match model with
        | "rank1" ->
            let beta = defaultArg betaOpt 0.0
            Theory.Simulation.ClosedLoop.RnnController.RankOneInit(n, rng), Theory.Simulation.ClosedLoop.ControlTask(Plant.doubleIntegrator 1.0, steps, beta, Theory.Simulation.ClosedLoop.LossNormalisation.Theory), 2.0, true
        | "nonlinear" ->
            let beta = defaultArg betaOpt 0.005
            Theory.Simulation.ClosedLoop.RnnController.NonlinearInit(n, 0.1, rng), Theory.Simulation.ClosedLoop.ControlTask(Plant.doubleIntegrator 1.0, steps, beta, Theory.Simulation.ClosedLoop.LossNormalisation.Nonlinear), 1.0, false
        | m -> raise (ParameterOutOfDomainException("model", m, "rank1 or nonlinear"))
    let settings (m: Theory.Simulation.ClosedLoop.TrainingMode) (teacher: Theory.Simulation.ClosedLoop.RnnController option) (ep: int) =
        Theory.Simulation.ClosedLoop.TrainingSettings(
            Mode = m, Epochs = ep, BatchSize = batch, Optimizer = optimizer, LearningRate = lr, Clip = clip,
            InitialRange = range, TestRange = range, Seed = int64 seed, UpdateAtEpochZero = updateAt0,
            DiagnosticsEvery = diagEvery, Teacher = Option.toObj teacher,
            TestBatch = (if model = "nonlinear" then 10 else 100))
    /// Trains with a progress task over the epochs (a line every 100 epochs).
    let trainWith (name: string) (controller: Theory.Simulation.ClosedLoop.RnnController) (s: Theory.Simulation.ClosedLoop.TrainingSettings) =
        use bar = Progress.start name s.Epochs
        let progress (r: Theory.Simulation.ClosedLoop.EpochRecord) =
            bar.Set(r.Epoch + 1)
            if r.Epoch % 100 = 0 then Output.progress (sprintf "epoch %d: train %.6g, test %.6g" r.Epoch r.TrainLoss r.TestLoss)
        let result = Theory.Simulation.ClosedLoop.ClosedLoopTrainer.Train(controller, task, s, Action<_> progress)
        bar.Done()
        result
    let result, teacherInfo =
        match mode with
        | "closed" -> trainWith "closed-loop train" init (settings Theory.Simulation.ClosedLoop.TrainingMode.ClosedLoop None epochs), []
        | "open" ->
            Output.progress (sprintf "training the closed-loop teacher for %d epochs" teacherEpochs)
            let t = trainWith "closed-loop teacher" init (settings Theory.Simulation.ClosedLoop.TrainingMode.ClosedLoop None teacherEpochs)
            let m =
                match variant with
                | "noise" -> Theory.Simulation.ClosedLoop.TrainingMode.OpenLoopWhiteNoise
                | "plant" -> Theory.Simulation.ClosedLoop.TrainingMode.OpenLoopTeacherPlant
                | v -> raise (ParameterOutOfDomainException("open-variant", v, "noise or plant"))
            let student = init.Clone()
            student.TrainM <- true
            Output.progress "training the open-loop student"
            trainWith "open-loop student" student (settings m (Some t.Final) epochs),
            [ Output.num "teacherFinalTestLoss" t.Records.[t.Records.Count - 1].TestLoss; Output.int "teacherEpochs" teacherEpochs; Output.str "openVariant" variant ]
        | m -> raise (ParameterOutOfDomainException("mode", m, "closed or open"))
    let recs = result.Records |> Seq.toArray
    let last = recs.[recs.Length - 1]
    let rankOne = init.IsRankOne
    let csvPath =
        match out with
        | None -> None
        | Some dir ->
            let path = IO.Path.Combine(dir, sprintf "closed-loop-train-%s-%s-seed%d.csv" mode model seed)
            let header =
                [| "epoch"; "train_loss"; "test_loss"; "grad_norm"; "update_cosine"; "k1"; "k2"; "spectral_radius"; "dominant_re"; "dominant_im" |]
                |> fun h -> if rankOne then Array.append h [| "szm"; "szu"; "svm"; "svu"; "lambda_r" |] else h
            let rows =
                recs
                |> Array.filter (fun r -> not (Double.IsNaN r.SpectralRadius))
                |> Array.map (fun r ->
                    let k = if isNull r.EffectiveGain then [| nan; nan |] else r.EffectiveGain
                    let basic = [| float r.Epoch; r.TrainLoss; r.TestLoss; r.GradientNorm; r.UpdateCosine; k.[0]; k.[1]; r.SpectralRadius; r.Dominant.Real; r.Dominant.Imaginary |]
                    if rankOne then Array.append basic (Array.append r.Overlaps [| r.RealRoot.Value |]) else basic)
            Csv.Write(path,
                      [ "mode", mode; "model", model; "n", string n; "epochs", string epochs; "seed", string seed; "lr", string lr
                        "optimizer", optName; "batch", string batch; "clip", string clip; "steps", string steps
                        "note", "k = Eq. 6 least-squares gain in the u = k'x convention (NaN where the regression is singular)" ],
                      header, rows)
            Some path
    let gain = if isNull last.EffectiveGain then [] else [ Output.nums "finalEffectiveGain" last.EffectiveGain ]
    Output.emit asJson
        ([ Output.str "mode" mode
           Output.str "model" model
           Output.int "n" n
           Output.int "epochs" epochs
           Output.int "seed" seed
           Output.num "learningRate" lr
           Output.str "optimizer" optName
           Output.int "batch" batch
           Output.num "initialTestLoss" recs.[0].TestLoss
           Output.num "finalTrainLoss" last.TrainLoss
           Output.num "finalTestLoss" last.TestLoss
           Output.num "finalSpectralRadius" last.SpectralRadius
           Output.int "endOfStage1" result.Stages.EndOfStage1
           Output.int "stabilisationEpoch" result.Stages.Stabilisation
           Output.int "plateauLength" result.Stages.PlateauLength
           Output.num "deployedPeakRatio" (peakRatio (recs |> Array.map (fun r -> r.TestLoss))) ]
         @ gain @ teacherInfo
         @ (match csvPath with Some p -> [ Output.str "csv" p ] | None -> []))
    0

/// closed-loop track --protocol closed|open [--n 100] [--epochs] [--teacher-epochs] … (App. D tracking task)
let private track (protocol: string) n g epochs teacherEpochs batch lr seed steps testEvery testBatch (freezeInput: bool) (out: string option) (asJson: bool) =
    Validate.PositiveInt("n", n) |> ignore
    Validate.NonNegative("g", g) |> ignore
    Validate.PositiveInt("epochs", epochs) |> ignore
    Validate.PositiveInt("teacher-epochs", teacherEpochs) |> ignore
    Validate.PositiveInt("batch", batch) |> ignore
    Validate.Positive("lr", lr) |> ignore
    Validate.PositiveInt("steps", steps) |> ignore
    Validate.PositiveInt("test-every", testEvery) |> ignore
    Validate.PositiveInt("test-batch", testBatch) |> ignore
    let task = Theory.Simulation.ClosedLoop.TrackingTask(Steps = steps)
    let init = Theory.Simulation.ClosedLoop.TrackingEngine.Weights.Init(n, g, Theory.Core.Numerics.Rng(int64 seed))
    let recs, radius, teacherInfo =
        match protocol with
        | "closed" ->
            Output.progress (sprintf "closed-loop training, %d epochs" epochs)
            let c = Theory.Simulation.ClosedLoop.TrackingComparison.Run(init, task, epochs, 0, batch, lr, int64 seed, testBatch, testEvery)
            c.Closed |> Seq.toArray, c.ClosedRadius, []
        | "open" ->
            Output.progress (sprintf "closed-loop teacher, %d epochs; then the open-loop student, %d epochs" teacherEpochs epochs)
            let c = Theory.Simulation.ClosedLoop.TrackingComparison.Run(init, task, teacherEpochs, epochs, batch, lr, int64 seed, testBatch, testEvery, not freezeInput)
            let tl = c.Closed |> Seq.filter (fun r -> r.ComponentLosses.Length > 0) |> Seq.last
            let struct (tr, te) = Theory.Simulation.ClosedLoop.TrackingComparison.PeakRatio(c.Closed)
            c.Open |> Seq.toArray, c.OpenRadius,
            [ Output.int "teacherEpochs" teacherEpochs
              Output.num "teacherFinalTestLoss" tl.TestLoss
              Output.nums "teacherFinalComponentLosses" tl.ComponentLosses
              Output.num "teacherDeployedPeakRatio" tr
              Output.int "teacherPeakEpoch" te
              Output.bool "trainInputWeights" (not freezeInput) ]
        | p -> raise (ParameterOutOfDomainException("protocol", p, "closed or open"))
    let tested = recs |> Array.filter (fun r -> r.ComponentLosses.Length > 0)
    let last = tested.[tested.Length - 1]
    let struct (ratio, peakEpoch) = Theory.Simulation.ClosedLoop.TrackingComparison.PeakRatio(recs)
    let csvPath =
        match out with
        | None -> None
        | Some dir ->
            let path = IO.Path.Combine(dir, sprintf "closed-loop-track-%s-seed%d.csv" protocol seed)
            let rows =
                tested |> Array.mapi (fun i r ->
                    Array.concat [ [| float r.Epoch; r.TrainLoss; r.TestLoss |]; r.ComponentLosses; [| (if i < radius.Length then radius.[i] else nan) |] ])
            Csv.Write(path,
                      [ "protocol", protocol; "n", string n; "g", string g; "epochs", string epochs; "teacherEpochs", string teacherEpochs
                        "seed", string seed; "lr", string lr; "batch", string batch; "steps", string steps
                        "note", "train_loss: closed = tracking loss, open = imitation loss; test losses are deployed closed-loop losses" ],
                      [| "epoch"; "train_loss"; "test_loss"; "probe_0.1Hz"; "probe_0.2Hz"; "probe_0.3Hz"; "probe_0.4Hz"; "spectral_radius" |], rows)
            Some path
    Output.emit asJson
        ([ Output.str "protocol" protocol
           Output.int "n" n
           Output.num "g" g
           Output.int "epochs" epochs
           Output.int "seed" seed
           Output.num "learningRate" lr
           Output.int "batch" batch
           Output.int "steps" steps
           Output.int "testEvery" testEvery
           Output.int "testBatch" testBatch
           Output.num "initialTestLoss" tested.[0].TestLoss
           Output.num "finalTrainLoss" recs.[recs.Length - 1].TrainLoss
           Output.num "finalTestLoss" last.TestLoss
           Output.nums "finalComponentLosses" last.ComponentLosses
           Output.nums "componentFrequencies" (task.Components() |> Array.map (fun struct (f, _, _) -> f))
           Output.num "deployedPeakRatio" ratio
           Output.int "peakEpoch" peakEpoch
           Output.num "finalSpectralRadius" radius.[radius.Length - 1] ]
         @ teacherInfo
         @ (match csvPath with Some p -> [ Output.str "csv" p ] | None -> []))
    0

/// `theory closed-loop feedback|cubic|lqr|train`.
let command () =
    Cli.group "closed-loop" "closed-loop control by RNNs (Ger & Barak 2025): static gains, the rank-one cubic, LQR, BPTT training, tracking" [
        Cli.command "feedback" "static gain u = k'x on the double integrator: eigenvalues, radius, region" (fun cmd ->
            let k1 = Cli.requiredFloat cmd "--k1" "gain on the position x1 (u = k1·x1 + k2·x2; stabilising gains are negative)"
            let k2 = Cli.requiredFloat cmd "--k2" "gain on the velocity x2"
            let dt = Cli.float cmd "--dt" 1.0 "time step of the discretised plant; allowed: > 0"
            let json = Cli.json cmd
            fun r -> feedback (r.GetValue k1) (r.GetValue k2) (r.GetValue dt) (r.GetValue json))
        Cli.command "cubic" "rank-one closed loop (Ger & Barak 2025): cubic, roots, Eq. 11/12" (fun cmd ->
            let szm = Cli.requiredFloat cmd "--szm" "overlap σ_zm; allowed: finite"
            let szu = Cli.requiredFloat cmd "--szu" "overlap σ_zu; allowed: finite"
            let svm = Cli.requiredFloat cmd "--svm" "overlap σ_vm; allowed: finite"
            let svu = Cli.requiredFloat cmd "--svu" "overlap σ_vu; allowed: finite"
            let json = Cli.json cmd
            fun r -> cubic (Overlaps.Create(r.GetValue szm, r.GetValue szu, r.GetValue svm, r.GetValue svu)) (r.GetValue json))
        Cli.command "lqr" "DARE gain K (u = -Kx), Riccati matrix, residual" (fun cmd ->
            let q = Cli.floatList cmd "--q" "state cost Q as q11,q12,q21,q22; default 1,0,0,1; allowed: 4 finite entries"
            let rr = Cli.requiredFloat cmd "--r" "control cost R; allowed: >= 0 (R = 0 needs a non-singular problem)"
            let dt = Cli.float cmd "--dt" 1.0 "time step of the discretised plant; allowed: > 0"
            let horizon = Cli.optionalInt cmd "--horizon" "also the finite-horizon gain over T steps (default: none)"
            let json = Cli.json cmd
            fun r ->
                let q = r.GetValue q |> Option.defaultValue [| 1.0; 0.0; 0.0; 1.0 |]
                lqr q (r.GetValue rr) (r.GetValue dt) (r.GetValue horizon) (r.GetValue json))
        Cli.command "track" "tracking task (App. D): closed- or open-loop (teacher-student) training, deployed test losses" (fun cmd ->
            let protocol = Cli.choice cmd "--protocol" "closed" [ "closed"; "open" ] "closed loop, or open loop (student of the closed-loop teacher, same initialisation)"
            let n = Cli.int cmd "--n" 100 "number of neurons N; allowed: >= 1"
            let g = Cli.float cmd "--g" 0.2 "initial recurrent strength g; allowed: >= 0"
            let epochs = Cli.int cmd "--epochs" 1000 "training epochs (open: of the student); allowed: >= 1"
            let teacherEpochs = Cli.optionalInt cmd "--teacher-epochs" "closed-loop epochs of the teacher (open protocol); default: --epochs"
            let batch = Cli.int cmd "--batch" 100 "batch size; allowed: >= 1"
            let lr = Cli.float cmd "--lr" 1e-3 "Adam learning rate; allowed: > 0"
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let steps = Cli.int cmd "--steps" 300 "steps per episode (Δ = 0.1 s); allowed: >= 1"
            let testEvery = Cli.int cmd "--test-every" 10 "epochs between deployed test evaluations; allowed: >= 1"
            let testBatch = Cli.int cmd "--test-batch" 50 "test references per evaluation; allowed: >= 1"
            let freeze = Cli.flag cmd "--freeze-input" "open protocol: keep the student's input weights M fixed (the paper trains them)"
            let out = Cli.optionalString cmd "--out" "write the per-test-epoch CSV into this folder (default: none)"
            let json = Cli.json cmd
            fun r ->
                let epochs = r.GetValue epochs
                track (r.GetValue protocol) (r.GetValue n) (r.GetValue g) epochs (r.GetValue teacherEpochs |> Option.defaultValue epochs) (r.GetValue batch)
                      (r.GetValue lr) (r.GetValue seed) (r.GetValue steps) (r.GetValue testEvery) (r.GetValue testBatch) (r.GetValue freeze) (r.GetValue out) (r.GetValue json))
        Cli.command "train" "train the RNN controller by BPTT: summary JSON + per-epoch CSV" (fun cmd ->
            let mode = Cli.choice cmd "--mode" "closed" [ "closed"; "open" ] "closed loop, or open loop (a student of a closed-loop teacher)"
            let model = Cli.choice cmd "--model" "rank1" [ "rank1"; "nonlinear" ] "controller model"
            let epochs = Cli.int cmd "--epochs" 1000 "training epochs; allowed: >= 1"
            let seed = Cli.int cmd "--seed" 1 "random seed"
            let out = Cli.optionalString cmd "--out" "write the per-epoch CSV into this folder (default: none)"
            let n = Cli.int cmd "--n" 100 "number of neurons N; allowed: >= 2"
            let lr = Cli.float cmd "--lr" 1e-2 "learning rate; allowed: > 0"
            let optimizer = Cli.choice cmd "--optimizer" "sgd" [ "sgd"; "adam" ] "optimizer"
            let batch = Cli.int cmd "--batch" 100 "batch size; allowed: >= 1"
            let clip = Cli.float cmd "--clip" 1.0 "gradient-norm clip"
            let beta = Cli.optionalFloat cmd "--beta" "control-effort weight β; default 0 (rank1) or 0.005 (nonlinear)"
            let steps = Cli.int cmd "--steps" 50 "steps per trial; allowed: >= 1"
            let teacherEpochs = Cli.optionalInt cmd "--teacher-epochs" "epochs of the closed-loop teacher (open mode); default: --epochs"
            let variant = Cli.choice cmd "--open-variant" "noise" [ "noise"; "plant" ] "open-loop student inputs: white noise or the teacher's plant"
            let diagEvery = Cli.int cmd "--diag-every" 1 "epochs between diagnostics; allowed: >= 1"
            let json = Cli.json cmd
            fun r ->
                let epochs = r.GetValue epochs
                train (r.GetValue mode) (r.GetValue model) epochs (r.GetValue seed) (r.GetValue out) (r.GetValue n) (r.GetValue lr)
                      (r.GetValue optimizer) (r.GetValue batch) (r.GetValue clip) (r.GetValue beta) (r.GetValue steps)
                      (r.GetValue teacherEpochs |> Option.defaultValue epochs) (r.GetValue variant) (r.GetValue diagEvery) (r.GetValue json)) ]

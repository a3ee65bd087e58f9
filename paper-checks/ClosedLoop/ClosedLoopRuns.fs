/// Shared, memoised training runs for the closed-loop paper-checks (Ger & Barak 2025): the rank-one linear model of
/// the theory notebook (N = 100, SGD lr 1e-2, clip 1, batch 100, T = 50, x0 ~ U(-2,2)^2), one run per seed.
module Theory.PaperChecks.ClosedLoopRuns

open System
open System.Collections.Concurrent
open Theory.Core
open Theory.Core.Numerics
open Theory.Core.ClosedLoop
open Theory.Simulation.ClosedLoop

let n = 100

/// The initial rank-one controller of a seed.
let initial (seed: int) = RnnController.RankOneInit(n, Rng(int64 seed))

let private closedCache = ConcurrentDictionary<(int * int), TrainingResult>()
let private betaCache = ConcurrentDictionary<(int * float * int), TrainingResult>()

/// Closed-loop training of the seed's rank-one controller for the given epochs (memoised).
let closedRun (seed: int) (epochs: int) =
    closedCache.GetOrAdd((seed, epochs), fun _ ->
        ClosedLoopTrainer.Train(initial seed, ControlTask.TheoryDefault(), TrainingSettings(Epochs = epochs, Seed = int64 seed)))

/// Closed-loop run with control penalty beta (theory normalisation: + (beta/B) sum_b sum_t u_t^2) (memoised).
let closedRunBeta (seed: int) (beta: float) (epochs: int) =
    if beta = 0.0 then closedRun seed epochs
    else
        betaCache.GetOrAdd((seed, beta, epochs), fun _ ->
            ClosedLoopTrainer.Train(initial seed, ControlTask(Plant.doubleIntegrator 1.0, 50, beta, LossNormalisation.Theory), TrainingSettings(Epochs = epochs, Seed = int64 seed)))

let private openCache = ConcurrentDictionary<(int * int * int), TrainingResult>()

/// Open-loop white-noise teacher-student run: teacher = the closed-loop run's final controller, student = the same
/// initialisation (m trainable), inputs N(0, 2) (research note §10), SGD lr 1e-2, clip 1 (memoised).
let openRun (seed: int) (teacherEpochs: int) (epochs: int) =
    openCache.GetOrAdd((seed, teacherEpochs, epochs), fun _ ->
        let teacher = (closedRun seed teacherEpochs).Final
        let student = initial seed
        student.TrainM <- true
        ClosedLoopTrainer.Train(student, ControlTask.TheoryDefault(),
            TrainingSettings(Mode = TrainingMode.OpenLoopWhiteNoise, Epochs = epochs, Seed = int64 seed + 7919L, Teacher = teacher)))

/// R = max_e L_e / min_{e' < e} L_{e'} and the epoch of that maximum.
let peakRatio (losses: float[]) =
    let mutable best = 1.0
    let mutable at = 0
    let mutable runMin = losses.[0]
    for e in 1 .. losses.Length - 1 do
        let r = losses.[e] / runMin
        if r > best then
            best <- r
            at <- e
        runMin <- min runMin losses.[e]
    best, at

/// Mean of a sequence (0 when empty).
let mean (xs: float seq) = if Seq.isEmpty xs then 0.0 else Seq.average xs

/// Median of an array (0 when empty).
let median (xs: float[]) =
    if xs.Length = 0 then 0.0
    else
        let s = Array.sort xs
        if s.Length % 2 = 1 then s.[s.Length / 2] else 0.5 * (s.[s.Length / 2 - 1] + s.[s.Length / 2])

/// First epoch at which the Eq. 6 gain lies in the stable triangle and stays there; -1 if never.
let stableGainEpoch (r: TrainingResult) =
    let recs = r.Records |> Seq.filter (fun x -> not (isNull x.EffectiveGain)) |> Seq.toArray
    let mutable e = -1
    for i in recs.Length - 1 .. -1 .. 0 do
        let k = recs.[i].EffectiveGain
        if e = i + 1 || i = recs.Length - 1 then
            if StaticFeedback.region 1.0 k.[0] k.[1] = Stable then e <- i
    if e >= 0 then recs.[e].Epoch else -1

let fmt (x: float) = x.ToString("G4", Globalization.CultureInfo.InvariantCulture)
let fmtList (xs: float seq) = xs |> Seq.map fmt |> String.concat ", "
let fmtInts (xs: int seq) = xs |> Seq.map string |> String.concat ", "

let private tanhCache = ConcurrentDictionary<(int * int), TrainingResult * TrainingResult>()

/// The paper's nonlinear setting (Figs 1-2): tanh, full rank, N = 100, g = 0.1, m, z ~ N(0, 1/N^2), beta = 0.005
/// summed over the batch, x0 ~ U(-1,1)^2, no update at epoch 0, test batch 10; closed-loop run, then the open-loop
/// student (same initialisation) on scalar white-noise inputs N(0, 1), loss sum_t Delta mean_b (u_S - u_T)^2.
/// Returns (closed, open) (memoised). Expensive: full variant only.
let tanhRuns (seed: int) (epochs: int) =
    tanhCache.GetOrAdd((seed, epochs), fun _ ->
        let init = RnnController.NonlinearInit(n, 0.1, Rng(int64 seed))
        let task = ControlTask.NonlinearDefault()
        let settings mode teacher =
            TrainingSettings(Mode = mode, Epochs = epochs, Seed = int64 seed, InitialRange = 1.0, TestRange = 1.0, TestBatch = 10,
                             UpdateAtEpochZero = false, Teacher = teacher, InputNoiseSd = 1.0, OpenLoopScale = 1.0 / 100.0)
        let closed = ClosedLoopTrainer.Train(init, task, settings TrainingMode.ClosedLoop null)
        let opened = ClosedLoopTrainer.Train(init, task, settings TrainingMode.OpenLoopWhiteNoise closed.Final)
        closed, opened)

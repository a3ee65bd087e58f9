namespace Theory.Core.Dynamics

open System
open System.Runtime.InteropServices
open Theory.Core
open Theory.Core.Numerics

/// A dynamical system (a map, or one step of an integrated flow) that <see cref="Benettin"/> advances one step at a
/// time, in place, together with tangent vectors. The implementation owns the state; the driver owns the tangent
/// vectors and renormalises them between steps.
type ITangentMap =
    /// Dimension n of the state, and the length of each tangent vector.
    abstract Dimension: int
    /// Advances the state from step <c>step</c> to <c>step + 1</c> (steps count from 0 over the whole run). The first
    /// <c>vectors</c> tangent vectors are stored contiguously in <c>tangents</c> (vector j in [j·n, (j+1)·n)); each is
    /// to be replaced by its image under the derivative of this step taken along the trajectory (for a map
    /// x ↦ f(x): v ↦ Df(x) v at the pre-step state; for an integrated flow, the same integrator applied to the
    /// variational equation). <c>vectors</c> = 0 during the state-only prefix: the tangents are then left alone
    /// (and need not be computed). Must not allocate: it is called once per step.
    abstract Step: step: int * tangents: float[] * vectors: int -> unit

/// When <see cref="Benettin"/> evolves, renormalises and measures the tangent vectors, in steps of the map:
/// steps [0, S) advance the state alone (S = StateOnlySteps: a transient the tangents need not see); steps [S, S + A)
/// (A = AlignmentSteps) also evolve the tangents, renormalised every RenormaliseEvery steps and once more at the end,
/// so that they align with the leading Lyapunov directions — their growth is discarded; the last MeasuredSteps steps
/// are measured: the log-growth of each complete interval of RenormaliseEvery steps, counted from the start of the
/// measurement (a trailing partial interval is run but not measured). One step lasts StepDuration time units, so the
/// exponents are per unit time (1: per step of a map). The standard error comes from min(Blocks, intervals)
/// consecutive block means.
[<Sealed>]
type BenettinSchedule
    (
        stateOnlySteps: int,
        alignmentSteps: int,
        measuredSteps: int,
        renormaliseEvery: int,
        stepDuration: float,
        [<Optional; DefaultParameterValue(10)>] blocks: int
    ) =
    do
        Validate.AtLeast("stateOnlySteps", stateOnlySteps, 0) |> ignore
        Validate.AtLeast("alignmentSteps", alignmentSteps, 0) |> ignore
        Validate.PositiveInt("measuredSteps", measuredSteps) |> ignore
        Validate.PositiveInt("renormaliseEvery", renormaliseEvery) |> ignore
        // At least one complete interval is measured, else there is no estimate at all.
        Validate.AtLeast("measuredSteps", measuredSteps, renormaliseEvery) |> ignore
        Validate.Positive("stepDuration", stepDuration) |> ignore
        Validate.PositiveInt("blocks", blocks) |> ignore
        if int64 stateOnlySteps + int64 alignmentSteps + int64 measuredSteps > int64 Int32.MaxValue then
            raise (ParameterOutOfDomainException("stateOnlySteps + alignmentSteps + measuredSteps",
                                                 string (int64 stateOnlySteps + int64 alignmentSteps + int64 measuredSteps),
                                                 sprintf "<= %d" Int32.MaxValue))

    /// Steps advancing the state alone, before the tangents start.
    member _.StateOnlySteps = stateOnlySteps
    /// Steps evolving the tangents whose growth is discarded (alignment with the Lyapunov directions).
    member _.AlignmentSteps = alignmentSteps
    /// Steps measured after the alignment.
    member _.MeasuredSteps = measuredSteps
    /// Steps between renormalisations of the tangent vectors.
    member _.RenormaliseEvery = renormaliseEvery
    /// Time units per step (1 for a map measured per step).
    member _.StepDuration = stepDuration
    /// Requested number of blocks for the standard error (capped by the number of measured intervals).
    member _.Blocks = blocks
    /// Complete renormalisation intervals in the measurement, ⌊MeasuredSteps / RenormaliseEvery⌋.
    member _.Intervals = measuredSteps / renormaliseEvery
    /// All steps of the run, StateOnlySteps + AlignmentSteps + MeasuredSteps.
    member _.TotalSteps = stateOnlySteps + alignmentSteps + measuredSteps

/// The largest Lyapunov exponent from one renormalised tangent vector.
type LyapunovEstimate =
    { /// λ̂ = Σ_q ln‖v_q‖ / (intervals · RenormaliseEvery · StepDuration): mean log-growth per unit time.
      Exponent: float
      /// Standard error of λ̂ from the spread of min(Blocks, intervals) consecutive block means (NaN below 2 blocks).
      StandardError: float
      /// Measured renormalisation intervals.
      Intervals: int }

/// Several Lyapunov exponents from renormalised tangent vectors (QR by modified Gram–Schmidt), largest first.
type LyapunovSpectrum =
    { /// λ̂_j = Σ_q ln R_jj(q) / (intervals · RenormaliseEvery · StepDuration), j = 0 … vectors − 1.
      Exponents: float[]
      /// Standard error of each λ̂_j from block means (NaN below 2 blocks).
      StandardErrors: float[]
      /// Measured renormalisation intervals.
      Intervals: int }

/// Lyapunov exponents by the tangent-renormalisation method of Benettin, Galgani, Giorgilli & Strelcyn (1980): tangent
/// vectors evolve with the linearised dynamics along a trajectory, and every k steps they are re-orthonormalised
/// (QR by modified Gram–Schmidt; for one vector, normalisation); the exponents are the mean logarithms of the
/// diagonal of R per unit time. The one implementation of the library: the engines (rate network, reservoir,
/// phase-diagram probe) and the core's realised networks supply their step as an <see cref="ITangentMap"/>.
/// Allocates only once per run (tangents, the per-interval logs), never per step. A tangent vector that collapses
/// below 1e−300 in one interval contributes ln 1e−300 (a documented floor: the exponent is then −∞ in effect) and is
/// reset to a fixed unit vector orthogonal to the previous ones, so that the run goes on.
[<AbstractClass; Sealed>]
type Benettin private () =

    /// Norm below which a tangent vector counts as collapsed.
    static let floor = 1e-300

    /// Orthogonalises vector j of v against vectors 0 … j−1 (already orthonormal) and returns its norm.
    static let orthogonalise (v: float[]) (n: int) (j: int) =
        let oj = j * n
        for i in 0 .. j - 1 do
            let d = SmallDense.dot v (i * n) v oj n
            SmallDense.axpy (-d) v (i * n) v oj n
        Math.Sqrt(SmallDense.dot v oj v oj n)

    /// Divides vector j by its norm (division, not multiplication by the reciprocal: one rounding per element).
    static let scale (v: float[]) (n: int) (j: int) (norm: float) =
        let oj = j * n
        for i in 0 .. n - 1 do v.[oj + i] <- v.[oj + i] / norm

    /// Replaces a collapsed vector j by the first of (1, …, 1)/√n, e_0, e_1, … that stays well away from the span of
    /// vectors 0 … j−1 (one always does for j &lt; n), orthonormalised.
    static let reset (v: float[]) (n: int) (j: int) =
        let oj = j * n
        let mutable candidate = -1
        let mutable accepted = false
        while not accepted do
            for i in 0 .. n - 1 do
                v.[oj + i] <- (if candidate < 0 then 1.0 / Math.Sqrt(float n) elif i = candidate then 1.0 else 0.0)
            let norm = orthogonalise v n j
            if norm > 0.5 then
                scale v n j norm
                accepted <- true
            else candidate <- candidate + 1

    /// QR step: orthonormalises the `vectors` tangent vectors in place and writes ln R_jj into logs[at + j].
    static let renormalise (v: float[]) (n: int) (vectors: int) (logs: float[]) (at: int) =
        for j in 0 .. vectors - 1 do
            let norm = orthogonalise v n j
            if norm < floor then
                if at >= 0 then logs.[at + j] <- Math.Log floor
                reset v n j
            else
                // NaN (a diverged run) passes through and shows in the exponent.
                scale v n j norm
                if at >= 0 then logs.[at + j] <- Math.Log norm

    /// Mean log-growth per unit time of exponent j and its block standard error.
    static let estimate (logs: float[]) (vectors: int) (j: int) (count: int) (interval: float) (blocks: int) =
        let mutable sum = 0.0
        for q in 0 .. count - 1 do sum <- sum + logs.[q * vectors + j]
        let exponent = sum / (float count * interval)
        let b = min blocks count
        let se =
            if b < 2 then nan
            else
                let per = count / b
                let means =
                    Array.init b (fun k ->
                        let mutable s = 0.0
                        for q in k * per .. (k + 1) * per - 1 do s <- s + logs.[q * vectors + j]
                        s / (float per * interval))
                let mean = Array.average means
                Math.Sqrt((means |> Array.sumBy (fun m -> (m - mean) * (m - mean))) / float (b - 1) / float b)
        exponent, se

    /// Runs the schedule: the state alone, then the tangents with renormalisation (alignment discarded, measurement
    /// logged per interval). Returns the per-interval logs, interval-major (logs[q·vectors + j]).
    static let run (map: ITangentMap) (initialTangents: float[]) (vectors: int) (schedule: BenettinSchedule) =
        if isNull (box map) then nullArg "map"
        if isNull initialTangents then nullArg "initialTangents"
        if isNull (box schedule) then nullArg "schedule"
        let n = Validate.PositiveInt("dimension", map.Dimension)
        Validate.PositiveInt("vectors", vectors) |> ignore
        if vectors > n then
            raise (ParameterOutOfDomainException("vectors", string vectors, sprintf "<= the dimension %d" n))
        if initialTangents.Length <> vectors * n then
            raise (ParameterOutOfDomainException("initialTangents", sprintf "length %d" initialTangents.Length,
                                                 sprintf "length vectors * dimension = %d" (vectors * n)))
        Validate.AllFinite("initialTangents", initialTangents) |> ignore
        let v = Array.copy initialTangents
        for j in 0 .. vectors - 1 do
            let norm = orthogonalise v n j
            if not (norm > 0.0) then
                raise (ParameterOutOfDomainException("initialTangents", sprintf "vector %d dependent on the previous ones" j,
                                                     "linearly independent vectors"))
            scale v n j norm
        let r = schedule.RenormaliseEvery
        let start = schedule.StateOnlySteps
        let measureFrom = start + schedule.AlignmentSteps
        let total = schedule.TotalSteps
        let count = schedule.Intervals
        let logs = Array.zeroCreate (count * vectors)
        let mutable recorded = 0
        for k in 0 .. start - 1 do map.Step(k, v, 0)
        for k in start .. total - 1 do
            map.Step(k, v, vectors)
            let reached = k + 1
            if reached <= measureFrom then
                // Alignment: renormalised on the same grid, and at its end so that the measured intervals tile the
                // measurement from its first step (no interval straddles the discarded transient).
                if (reached - start) % r = 0 || reached = measureFrom then renormalise v n vectors logs -1
            elif (reached - measureFrom) % r = 0 then
                renormalise v n vectors logs (recorded * vectors)
                recorded <- recorded + 1
        logs, count

    /// The largest Lyapunov exponent from one tangent vector started at `initialTangent` (any nonzero vector of
    /// length Dimension; it is normalised first), with the schedule's transient, alignment, renormalisation
    /// interval and measurement. Raises ParameterOutOfDomainException (an ArgumentException) for a zero or
    /// wrongly sized initial vector.
    static member Largest(map: ITangentMap, initialTangent: float[], schedule: BenettinSchedule) : LyapunovEstimate =
        let logs, count = run map initialTangent 1 schedule
        let interval = float schedule.RenormaliseEvery * schedule.StepDuration
        let exponent, se = estimate logs 1 0 count interval schedule.Blocks
        { Exponent = exponent; StandardError = se; Intervals = count }

    /// The `vectors` largest Lyapunov exponents (1 ≤ vectors ≤ Dimension), largest first, from tangent vectors
    /// started at `initialTangents` (vectors·Dimension values, vector j contiguous; linearly independent, they are
    /// orthonormalised first) and re-orthonormalised by modified Gram–Schmidt every RenormaliseEvery steps.
    static member Spectrum(map: ITangentMap, initialTangents: float[], vectors: int, schedule: BenettinSchedule) : LyapunovSpectrum =
        let logs, count = run map initialTangents vectors schedule
        let interval = float schedule.RenormaliseEvery * schedule.StepDuration
        let pairs = Array.init vectors (fun j -> estimate logs vectors j count interval schedule.Blocks)
        { Exponents = Array.map fst pairs; StandardErrors = Array.map snd pairs; Intervals = count }

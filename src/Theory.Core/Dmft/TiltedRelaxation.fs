namespace Theory.Core.Dmft

open System
open MathNet.Numerics.LinearAlgebra
open Theory.Core
open Theory.Core.Numerics

/// The stochastic-approximation iteration of the N = ∞ saddle point (the algorithm in <see cref="TiltedSolver"/>'s
/// summary): tempering in γ, exact reweighting, sweeps, the preconditioned step under an ESS trust region, the
/// stationarity test and Polyak–Ruppert averaging; the γ = 0 shortcut; conversion between particle clouds and samples.
[<AbstractClass; Sealed>]
type internal TiltedRelaxation private () =

    /// The input kernel C^I as a flat n×n array (zeros without input).
    static member internal InputKernelArray(problem: TiltedProblem) =
        let n = problem.Points
        match problem.InputKernel with
        | Some k -> Array.init (n * n) (fun i -> k.[i / n, i % n])
        | None -> Array.zeroCreate (n * n)

    /// The data-term preconditioner: solves X + t(XB + BᵀX) = R with B = Σ_a α_a y*_aᵀ, t = aγ² (the implicit step for
    /// the stiff response of Ĉ to Λ_data = γ²C⁻¹C^yC⁻¹ under a Gaussian closure, δĈ ≈ −γ²(δC·B + Bᵀ·δC)).
    static member internal PreconditionData(r: float[], alpha: float[][], targets: float[][], t: float, n: int) =
        let d = alpha.Length
        if t <= 0.0 || d = 0 then r
        else
            // U = X·A (n×d); W = AᵀU (d×d, symmetric); Q = YᵀA.
            let ra = Array.init d (fun a -> let v = Array.zeroCreate n in SmallDense.matVec r alpha.[a] v n; v)
            let q = Array2D.init d d (fun a b -> SmallDense.dot targets.[a] 0 alpha.[b] 0 n)
            let ara = Array2D.init d d (fun a b -> SmallDense.dot alpha.[a] 0 ra.[b] 0 n)
            // W(I + tQ) + tQᵀW = AᵀRA (W symmetric): vectorised d²×d² system.
            let dim = d * d
            let sys = Matrix<float>.Build.Dense(dim, dim)
            let rhs = Vector<float>.Build.Dense(dim)
            for i in 0 .. d - 1 do
                for j in 0 .. d - 1 do
                    let row = i * d + j
                    rhs.[row] <- ara.[i, j]
                    // (W(I+tQ))_ij = Σ_k W_ik (δ_kj + t Q_kj); (tQᵀW)_ij = t Σ_k Q_ki W_kj
                    for k in 0 .. d - 1 do
                        sys.[row, i * d + k] <- sys.[row, i * d + k] + (if k = j then 1.0 else 0.0) + t * q.[k, j]
                        sys.[row, k * d + j] <- sys.[row, k * d + j] + t * q.[k, i]
            let wv = sys.Solve(rhs)
            // U = (RA − tYW)(I + tQ)⁻¹
            let iq = Matrix<float>.Build.Dense(d, d, fun a b -> (if a = b then 1.0 else 0.0) + t * q.[a, b]).Inverse()
            let tmp = Array.init d (fun b -> Array.init n (fun k -> ra.[b].[k] - t * (Seq.init d (fun a -> targets.[a].[k] * wv.[a * d + b]) |> Seq.sum)))
            let u = Array.init d (fun b -> Array.init n (fun k -> Seq.init d (fun a -> tmp.[a].[k] * iq.[a, b]) |> Seq.sum))
            // X = R − t(UYᵀ + YUᵀ)
            let x = Array.copy r
            for a in 0 .. d - 1 do
                for rr in 0 .. n - 1 do
                    SmallDense.axpy (-t * u.[a].[rr]) targets.[a] 0 x (rr * n) n
                    SmallDense.axpy (-t * targets.[a].[rr]) u.[a] 0 x (rr * n) n
            x

    static member internal Frob(a: float[]) = Math.Sqrt(a |> Array.sumBy (fun v -> v * v))
    static member internal To2D(a: float[], n: int) = Array2D.init n n (fun r c -> a.[r * n + c])

    /// Equal-weight samples of a cloud (resampled copy; the cloud itself is not changed).
    static member internal SamplesOf(cloud: ParticleCloud) : TiltedSamples =
        let n = cloud.Problem.Points
        let c = { cloud with Fields = Array.copy cloud.Fields; X0 = Array.copy cloud.X0; Weights = Array.copy cloud.Weights; X = Array.copy cloud.X; Phi = Array.copy cloud.Phi
                             LogWeight = Array.copy cloud.LogWeight; BaseLog = Array.copy cloud.BaseLog; ResampleRng = Rng.ForStream(0L, 4242L) }
        if Particles.ess c < float c.Count * 0.999999 then Particles.resample c |> ignore
        let rows (a: float[]) = Array.init c.Count (fun i -> Array.sub a (i * n) n)
        let m = cloud.Problem.InputWeights
        { Fields = rows c.Fields; InitialStates = Array.copy c.X0; InputWeights = Array.init c.Count (fun i -> Array.sub c.Weights (i * m) m)
          Paths = rows c.X; Rates = rows c.Phi }

    /// A particle cloud from equal-weight samples (warm start).
    static member internal CloudOf(problem: TiltedProblem, samples: TiltedSamples, seed: int64) : ParticleCloud =
        let n = problem.Points
        let S = samples.Count
        let flat (rows: float[][]) = Array.init (S * n) (fun i -> rows.[i / n].[i % n])
        let m = problem.InputWeights
        if samples.InputWeights.Length <> S || samples.InputWeights |> Array.exists (fun w -> w.Length <> m) then
            raise (ParameterOutOfDomainException("samples", "input weights of another width", sprintf "%d input weights per sample (the problem's)" m))
        { Problem = problem; Count = S; Fields = flat samples.Fields; X0 = Array.copy samples.InitialStates
          Weights = Array.init (S * m) (fun i -> samples.InputWeights.[i / m].[i % m])
          X = flat samples.Paths; Phi = flat samples.Rates; LogWeight = Array.zeroCreate S; BaseLog = Array.zeroCreate S
          Rngs = Array.init Particles.blockCount (fun b -> Rng.ForStream(seed, int64 (1000 + b)))
          ResampleRng = Rng.ForStream(seed, 999L) }

    /// γ = 0 exact shortcut: C is the march, K = Σ, the particles are exact prior draws (one moments pass for the floors).
    static member internal ExactZero(problem: TiltedProblem, options: TiltedSolverOptions, c0: float[], k0: float[], t0: TiltField, cloud: ParticleCloud) =
        let n = problem.Points
        let m = Particles.moments t0 cloud
        let s = TiltedStopping.Summaries(problem, c0)
        let stat v = { Mean = v; Sd = 0.0; StandardError = 0.0 }
        let normC = TiltedRelaxation.Frob c0
        let normK = TiltedRelaxation.Frob k0
        Ok { Problem = problem; C = TiltedRelaxation.To2D(c0, n); K = TiltedRelaxation.To2D(k0, n); Lambda = TiltedRelaxation.To2D(t0.Lambda, n)
             CHat = TiltedRelaxation.To2D(m.C, n); KHat = TiltedRelaxation.To2D(m.K, n); Samples = TiltedRelaxation.SamplesOf cloud
             Diagnostics =
                { Iterations = 0; TemperingIterations = 0
                  CResidual = TiltedRelaxation.Frob(Array.map2 (-) m.C c0) / normC; CNoiseFloor = m.CError / normC
                  KResidual = TiltedRelaxation.Frob(Array.map2 (-) m.K k0) / normK
                  KNoiseFloor = Math.Sqrt(m.KError ** 2.0 + (problem.G * problem.G * m.CError) ** 2.0) / normK
                  EffectiveSampleSize = m.Ess; MinimumEffectiveSampleSize = m.Ess; Resamplings = 0; ProposalsPerUpdate = 0.0
                  Samples = cloud.Count; Seed = options.Seed; Step = 0.0; StepReductions = 0; SnisBias = m.SnisBias / normC; DriftZ = 0.0
                  RelaxationTime = 0.0; NewtonJumps = 0; Warnings = []; StabilityMargin = nan; MeanActivity = stat s.[0]; TargetAlignment = stat s.[1]; HalfWindowCorrelation = stat s.[2]; MidWindowMoments = None } }

    /// The stochastic-approximation relaxation (see TiltedSolver's summary) from θ = (c0, k0) at γ = gammaStart.
    static member internal Relax(problem: TiltedProblem, options: TiltedSolverOptions, c0: float[], k0: float[], gammaStart: float,
                                cloud: ParticleCloud, streamSeed: int64) : Result<TiltedSolution, SaddleFailure> =
        let n = problem.Points
        let nn = n * n
        let g2 = problem.G * problem.G
        let S = cloud.Count
        let ci = TiltedRelaxation.InputKernelArray problem
        let mutable c = Array.copy c0
        let mutable k = Array.copy k0
        let mutable gamma = gammaStart
        let mutable step = options.Step
        // the step the trust region grows back to: options.Step, halved after ResidualStallChecks stalled checks
        let mutable stepCap = options.Step
        let mutable stalledChecks = 0
        let mutable capWarning : string option = None
        let mutable calm = 0
        // Whether the last step was taken at its full size: the tempering advances γ only then (below).
        let mutable lastStepFull = true
        let mutable reductions = 0
        let mutable resamplings = 0
        let mutable it = 0
        let mutable temperIts = 0
        let mutable phase = 0 // 0 tempering and relaxing, 1 averaging, 2 done
        let mutable atTarget = 0
        let mutable avgCount = 0
        let avgC = Array.zeroCreate nn
        let avgK = Array.zeroCreate nn
        let avgCHat = Array.zeroCreate nn
        let avgKHat = Array.zeroCreate nn
        let rows = Collections.Generic.List<float[]>() // per iteration: cRes, cFloor, kRes, kFloor, act, align, half
        let avgRows = Collections.Generic.List<float[]>()
        let essTrace = Collections.Generic.List<float>()
        let mutable proposals = 0.0
        let mutable sweepsDone = 0
        let mutable snisSum = 0.0
        let mutable stepSum = 0.0
        let mutable failure : string option = None
        // the last healthy state: θ, γ and the particles (one cloud allocated once and overwritten, not a fresh ≈ 5 MB
        // copy every 20 iterations; restore copies its arrays back and keeps the cloud's own random streams)
        let snapshotCloud = Particles.copy cloud problem streamSeed
        let mutable snapshot = (Array.copy c, Array.copy k, gamma)
        let mutable driftStart : (float[] * float[]) option = None
        let mutable targetRow = 0 // rows index where the target γ was reached
        let mutable relaxTau = 0.0
        let mutable lagWarning : string option = None
        // Slow-mode Newton jumps: sums of θ_i = (C, K/g²) and of Ĥ(θ_i) − θ_i over the current window (phase 0, at the
        // target γ), and the jumps taken.
        let ew = options.NewtonWindow
        let winTheta = Array.zeroCreate (2 * nn)
        let winResid = Array.zeroCreate (2 * nn)
        let mutable winCount = 0
        // The midpoint preactivation's weighted power sums over the averaging phase, per particle group (MidWindowMoments).
        let midStep = n / 2
        let midSums = Array.init MidWindowMoments.Groups (fun _ -> Array.zeroCreate 5)
        let accumulateMidWindow () =
            let w, _ = Particles.normalised cloud.LogWeight
            let groups = MidWindowMoments.Groups
            for gi in 0 .. groups - 1 do
                let acc = midSums.[gi]
                for i in gi * S / groups .. (gi + 1) * S / groups - 1 do
                    let x = cloud.X.[i * n + midStep]
                    let wx = w.[i] * x
                    let wx2 = wx * x
                    acc.[0] <- acc.[0] + w.[i]
                    acc.[1] <- acc.[1] + wx
                    acc.[2] <- acc.[2] + wx2
                    acc.[3] <- acc.[3] + wx2 * x
                    acc.[4] <- acc.[4] + wx2 * x * x
        let clearWindow () =
            Array.Clear(winTheta, 0, winTheta.Length)
            Array.Clear(winResid, 0, winResid.Length)
            winCount <- 0
        let mutable newtonJumps = 0
        // The part of a Newton jump not yet taken (θ-space displacement): the trust region admits a long jump
        // in pieces, one per iteration, with a sweep between them (like the tempering in γ).
        let mutable pending : float[] option = None
        // Newton jumps run until the first window whose jump is within the noise; then the relaxation and its tests
        // take over (later jumps would only move θ by its Monte Carlo noise, amplified along the slow modes).
        let mutable newtonActive = ew > 0
        // The log targets of the last accepted step's tilt on the (then unchanged) particles, with the θ arrays and γ
        // they belong to: the next iteration commits to that same tilt, so they are reused (same bits, one
        // quadratic-form pass fewer per iteration).
        let mutable acceptedTargets : (float[] * float[] * float * float[]) option = None
        let debug = Environment.GetEnvironmentVariable "THEORY_DEBUG" = "1"
        // Λφ of every particle after the iteration's sweep, reused by its moments
        let lambdaPhi = Array.zeroCreate (S * n)
        // Λφ and φᵀΛφ of every particle under the tilt of a trust-region trial (trial*) and of the last accepted one
        // (accepted*, belonging to acceptedTargets): the next iteration's sweep starts from them when it commits to that
        // tilt without resampling (same bits, one quadratic-form pass fewer per iteration); a passing trial swaps the
        // two pairs.
        let mutable trialLambdaPhi = Array.zeroCreate (S * n)
        let mutable trialTiltForm = Array.zeroCreate S
        let mutable acceptedLambdaPhi = Array.zeroCreate (S * n)
        let mutable acceptedTiltForm = Array.zeroCreate S
        // Λφ under the tilts of the Newton products and the stability margin, for their moments
        let productLambdaPhi = Array.zeroCreate (S * n)
        let restore (why: string) =
            let sc, sk, sg = snapshot
            c <- Array.copy sc
            k <- Array.copy sk
            gamma <- sg
            Particles.copyState snapshotCloud cloud
            step <- step / 2.0
            reductions <- reductions + 1
            rows.Clear()
            clearWindow ()
            pending <- None
            acceptedTargets <- None
            atTarget <- 0
            driftStart <- None
            if step < options.MinStep then failure <- Some why
        // The moments (Ĉ, K̂) at θ = (cc, kk) reweighted on the current particles (no sweeps, no block errors): the
        // Jacobian-vector products of the Newton jumps and of the stability margin. None when the tilt is undefined or
        // the reweighting's conditional ESS is below essFloor (0: no floor).
        let reweightedMoments (cc: float[]) (kk: float[]) (essFloor: float) =
            match TiltFields.derive problem ci cc kk gamma with
            | None -> None
            | Some tn ->
                let lw = Particles.logWeightsFor (Particles.logTargetsKeeping tn cloud productLambdaPhi null) cloud
                if essFloor > 0.0 && Particles.conditionalEssOf cloud lw < essFloor then None
                else
                    let mm = Particles.momentsOnly tn cloud lw productLambdaPhi
                    Some(mm.C, mm.K)
        // The trust region: θ = (cNew, kNew) is admissible when its tilt exists and reweighting the particles to it keeps
        // the conditional ESS ≥ TrustEss; its log targets are then cached in acceptedTargets for the next commit.
        let admissible (cNew: float[]) (kNew: float[]) =
            match TiltFields.derive problem ci cNew kNew gamma with
            | None -> false
            | Some tn ->
                let lt = Particles.logTargetsKeeping tn cloud trialLambdaPhi trialTiltForm
                let pass = Particles.conditionalEssOf cloud (Particles.logWeightsFor lt cloud) >= options.TrustEss
                if pass then
                    acceptedTargets <- Some(cNew, kNew, gamma, lt)
                    let lp, tf = acceptedLambdaPhi, acceptedTiltForm
                    acceptedLambdaPhi <- trialLambdaPhi
                    acceptedTiltForm <- trialTiltForm
                    trialLambdaPhi <- lp
                    trialTiltForm <- tf
                pass
        // Newton jump along the slow modes (options.NewtonWindow): over a window at the target γ, θ̄ = mean θ_i and
        // r̄ = mean (Ĥ(θ_i) − θ_i) ≈ r(θ̄) (r is smooth; the mean cuts the Monte Carlo noise). The Newton step solves
        // (I − J)δ = r̄, J = ∂H/∂θ at θ̄, by matrix-free GMRES; J·v is a forward difference of the moments reweighted on
        // the current particles (common random numbers: no sweeps, no fresh noise). Where the relaxation is slow
        // (1 − λ small), δ carries the slow modes to the fixed point in one step; θ then moves to θ̄ + δ in admissible
        // pieces. When the predicted change of every summary is within 3 standard errors of its window mean there is no
        // jump, and no further jumps in this solve (newtonActive). Coordinates (C, K/g²), as in the stability margin.
        // Returns true when a jump was scheduled.
        let tryNewtonJump () =
            let dim = 2 * nn
            let w = float winCount
            let thBar = Array.map (fun v -> v / w) winTheta
            let rBar = Array.map (fun v -> v / w) winResid
            let split (th: float[]) = Array.sub th 0 nn, Array.init nn (fun i -> g2 * th.[nn + i])
            let hOf (th: float[]) =
                let cc, kk = split th
                reweightedMoments cc kk (0.5 * options.TrustEss) |> Option.map (fun (mc, mk) -> Array.append mc (Array.map (fun v -> v / g2) mk))
            match hOf thBar with
            | None ->
                if debug then eprintfn "  newton it=%d: no tilt at the window mean" it
                false
            | Some hBar ->
                let normTh = TiltedRelaxation.Frob thBar
                let mutable failedProduct = false
                let apply (v: float[]) =
                    let nv = TiltedRelaxation.Frob v
                    if nv = 0.0 || failedProduct then Array.zeroCreate dim
                    else
                        let eps = 1e-6 * normTh / nv
                        match hOf (Array.init dim (fun i -> thBar.[i] + eps * v.[i])) with
                        | None ->
                            failedProduct <- true
                            Array.zeroCreate dim
                        | Some hv -> Array.init dim (fun i -> v.[i] - (hv.[i] - hBar.[i]) / eps)
                let sol = Gmres.Solve(Func<float[], float[]>(apply), rBar, options.NewtonTolerance, 40)
                let delta = sol.Solution
                let nd = TiltedRelaxation.Frob delta
                if failedProduct || not (Double.IsFinite nd) then
                    if debug then eprintfn "  newton it=%d: failed product %b, |delta| %g" it failedProduct nd
                    false
                else
                    let delta = if nd > 0.5 * normTh then Array.map (fun v -> v * 0.5 * normTh / nd) delta else delta
                    let target = Array.init dim (fun i -> thBar.[i] + delta.[i])
                    // significance: the predicted summaries against the window's standard errors
                    let win = [| for i in rows.Count - winCount .. rows.Count - 1 -> rows.[i].[4 ..] |]
                    let sBar = TiltedStopping.Summaries(problem, Array.sub thBar 0 nn)
                    let sNew = TiltedStopping.Summaries(problem, Array.sub target 0 nn)
                    let z =
                        [ 0 .. sBar.Length - 1 ] |> List.map (fun j ->
                            let se = (TiltedStopping.SeriesStat(win |> Array.map (fun r -> r.[j]))).StandardError
                            if se > 0.0 then abs (sNew.[j] - sBar.[j]) / se else 0.0) |> List.max
                    if debug then
                        eprintfn "  newton it=%d gamma=%g |r|/|th| %.4f |delta|/|th| %.4f gmres %d (rel %.3f) z %.1f act %.4f -> %.4f align %.3f -> %.3f half %.4f -> %.4f" it gamma (TiltedRelaxation.Frob rBar / normTh) (nd / normTh) sol.Iterations sol.RelativeResidual z sBar.[0] sNew.[0] sBar.[1] sNew.[1] sBar.[2] sNew.[2]
                    // An undefined prediction (the target's C is not positive definite: a summary is NaN) is no
                    // evidence of convergence: skip this jump and try again on the next window.
                    if Array.exists Double.IsNaN sNew || not (Double.IsFinite z) then false
                    elif z < 3.0 then
                        newtonActive <- false
                        false
                    else
                        let th = Array.append c (Array.map (fun v -> v / g2) k)
                        pending <- Some(Array.init dim (fun i -> target.[i] - th.[i]))
                        true
        // Takes the largest piece (1, 1/2, …, 1/32) of the pending jump that keeps the trust ESS; drops the jump when
        // none does. Returns true when the jump is complete (or dropped).
        let advanceJump () =
            match pending with
            | None -> true
            | Some d ->
                let rec attempt (f: float) (tries: int) =
                    let cNew = Array.init nn (fun i -> c.[i] + f * d.[i])
                    let kNew = Array.init nn (fun i -> k.[i] + f * g2 * d.[nn + i])
                    if admissible cNew kNew then
                        c <- cNew
                        k <- kNew
                        if f = 1.0 then pending <- None else pending <- Some(Array.map (fun v -> (1.0 - f) * v) d)
                    elif tries >= 5 then pending <- None
                    else attempt (f / 2.0) (tries + 1)
                attempt 1.0 0
                pending.IsNone
        // One iteration at the current θ and γ (tempering already applied).
        let iterate (t: TiltField) =
            // Exact reweighting to the current tilt; resampling when the ESS is low.
            let committedToAccepted =
                match acceptedTargets with
                | Some(cc, kc, gc, lt) when obj.ReferenceEquals(cc, c) && obj.ReferenceEquals(kc, k) && gc = gamma ->
                    Particles.commitTargets lt cloud
                    true
                | _ ->
                    Particles.commit t cloud
                    false
            acceptedTargets <- None
            let ess0 = Particles.ess cloud
            // A few particles carrying all the weight: resampling would collapse the cloud faster than sweeps restore it.
            if not (Double.IsFinite ess0) || ess0 < 0.05 * float S then restore "the importance weights degenerated (ESS below 5% of the particles)"
            else
                let resampled = ess0 < options.ResampleEss * float S
                if resampled then
                    Particles.resample cloud |> ignore
                    resamplings <- resamplings + 1
                // One elliptical-slice sweep (leaves the weighted law invariant), then the moments Ĥ(θ). Committed to
                // the accepted trial's tilt without resampling, the sweep's slice levels come from that trial's pass.
                let lp, tf = if committedToAccepted && not resampled then acceptedLambdaPhi, acceptedTiltForm else lambdaPhi, null
                proposals <- proposals + Particles.sweepKeepingFrom t cloud options.SweepsPerIteration lp tf
                sweepsDone <- sweepsDone + 1
                // the SNIS bias is read only in the averaging phase (phase changes after the moments)
                let m = Particles.momentsKeeping t cloud lp (phase = 1)
                essTrace.Add m.Ess
                let normC = TiltedRelaxation.Frob c
                let normK = TiltedRelaxation.Frob k
                let dC = Array.map2 (-) m.C c
                let dK = Array.map2 (-) m.K k
                let cRes = TiltedRelaxation.Frob dC / normC
                let kRes = TiltedRelaxation.Frob dK / normK
                if not (Double.IsFinite cRes && Double.IsFinite kRes) then restore "non-finite moments"
                else
                    let summ = TiltedStopping.Summaries(problem, c)
                    // K̂ = Σ(C) + ΣM̂Σ moves with the iterate C through Σ = g²C + C^I: its floor includes g²·(C's noise).
                    let kFloor = Math.Sqrt(m.KError ** 2.0 + (g2 * m.CError) ** 2.0) / normK
                    let row = [| cRes; m.CError / normC; kRes; kFloor; summ.[0]; summ.[1]; summ.[2] |]
                    rows.Add row
                    // θ of this iteration, before its step (the step replaces the arrays, it does not write into them)
                    let cBefore, kBefore = c, k
                    // Step: data preconditioner, ESS trust region; decreasing steps while averaging.
                    let aMax = if phase = 1 then step / (1.0 + float avgCount / float (max 1 (options.AverageIterations / 4))) else step
                    let mutable a = aMax
                    let mutable accepted = None
                    let mutable tries = 0
                    while accepted.IsNone do
                        let pc = TiltedRelaxation.PreconditionData(dC, t.Alpha, problem.Targets, a * gamma * gamma, n)
                        let cNew = Array.init nn (fun i -> c.[i] + a * pc.[i])
                        let kNew = Array.init nn (fun i -> k.[i] + a * dK.[i])
                        if admissible cNew kNew then accepted <- Some(cNew, kNew, a)
                        elif a / 2.0 < options.MinStep then accepted <- Some(c, k, 0.0)
                        else
                            a <- a / 2.0
                            tries <- tries + 1
                    let cNew, kNew, aUsed = accepted.Value
                    lastStepFull <- tries = 0 && aUsed > 0.0
                    if phase = 0 then
                        if tries > 0 then
                            calm <- 0
                            step <- max options.MinStep (step * 0.7)
                        else
                            calm <- calm + 1
                            if calm >= 10 then step <- min stepCap (step * 1.25)
                        if aUsed = 0.0 && step <= options.MinStep * 1.0001 then failure <- Some "trust"
                    c <- cNew
                    k <- kNew
                    if it % 20 = 0 && phase = 0 then
                        snapshot <- (Array.copy c, Array.copy k, gamma)
                        Particles.copyState cloud snapshotCloud
                    if gamma >= problem.Gamma then
                        if phase = 0 then
                            atTarget <- atTarget + 1
                            if atTarget = 1 then
                                driftStart <- Some(Array.copy c, Array.copy k)
                                targetRow <- rows.Count - 1
                            let first = max options.MinIterations (2 * options.Window)
                            let due = atTarget >= first && (atTarget - first) % options.Window = 0
                            // rows since the arrival at the target, or since the last Newton jump
                            if due && pending.IsNone && rows.Count - targetRow >= 2 * options.Window then
                                // Two consecutive windows: residuals at their floors in the last one, and the summaries'
                                // means of the two windows within DriftTolerance standard errors (a slow drift shows
                                // across windows far better than between the halves of one).
                                let win = [| for i in rows.Count - options.Window .. rows.Count - 1 -> rows.[i] |]
                                let mean j = win |> Array.averageBy (fun r -> r.[j])
                                let drift = TiltedStopping.DriftZ([| for i in rows.Count - 2 * options.Window .. rows.Count - 1 -> rows.[i].[4 ..] |])
                                if debug then
                                    eprintfn "  check it=%d gamma=%g cRes %.4f floor %.4f kRes %.4f floor %.4f drift %.2f tau %.0f step %.3g ess %.0f act %.4f align %.3f half %.4f" it gamma (mean 0) (mean 1) (mean 2) (mean 3) drift (TiltedStopping.RelaxationTimeOf(rows.ToArray().[targetRow ..] |> Array.map (fun r -> r.[4 ..]))) step m.Ess (mean 4) (mean 5) (mean 6)
                                let tau = TiltedStopping.RelaxationTimeOf(rows.ToArray().[targetRow ..] |> Array.map (fun r -> r.[4 ..]))
                                let length = float (rows.Count - targetRow)
                                let residualsOk = mean 0 <= options.ResidualFactor * mean 1 && mean 2 <= options.ResidualFactor * mean 3
                                // Residuals stuck above their floors check after check: a part set by the step, not noise
                                // (ResidualStallChecks); halve the step the trust region grows back to.
                                if residualsOk then stalledChecks <- 0
                                else
                                    stalledChecks <- stalledChecks + 1
                                    if options.ResidualStallChecks > 0 && stalledChecks >= options.ResidualStallChecks && stepCap / 2.0 >= options.MinStep then
                                        stepCap <- stepCap / 2.0
                                        step <- min step stepCap
                                        stalledChecks <- 0
                                        capWarning <-
                                            Some(sprintf "largest step halved to %g at iteration %d: the residuals stayed above %g times their Monte Carlo floors for %d stationarity checks (C %.1fx, K %.1fx in the last window), a part of the residual set by the step, not Monte Carlo noise (docs/dmft-nonlinear.md, Known limitations)"
                                                     stepCap it options.ResidualFactor options.ResidualStallChecks (mean 0 / mean 1) (mean 2 / mean 3))
                                        if debug then eprintfn "  step cap %g at it=%d" stepCap it
                                let relaxed = drift <= options.DriftTolerance && options.RelaxationFactor * tau <= length
                                if residualsOk && relaxed then
                                    relaxTau <- tau
                                    phase <- 1
                                elif residualsOk && atTarget >= options.MaxRelaxation then
                                    relaxTau <- tau
                                    lagWarning <-
                                        Some(sprintf "still relaxing after %d iterations at gamma = %g: relaxation time about %s iterations, drift %.1f s.e. between the last windows; the solution lags towards the previous gamma (increase MaxRelaxation)"
                                                 atTarget gamma (if Double.IsFinite tau then sprintf "%.0f" tau else "unbounded") drift)
                                    phase <- 1
                            // The jumps end in time for the cap: a jump restarts the stationarity tests, which need two
                            // windows after it, so jumps every window would keep MaxRelaxation from ever ending a solve
                            // that still relaxes, and run it into its iteration budget.
                            if phase = 0 && newtonActive && pending.IsNone && atTarget + 2 * options.Window > options.MaxRelaxation then
                                newtonActive <- false
                            if phase = 0 && newtonActive then
                                if pending.IsSome then
                                    // the relaxation and drift tests restart after the jump is complete
                                    if advanceJump () then
                                        targetRow <- rows.Count
                                        if debug then
                                            let sm = TiltedStopping.Summaries(problem, c)
                                            eprintfn "  jump done it=%d act %.4f align %.3f half %.4f" it sm.[0] sm.[1] sm.[2]
                                else
                                    // θ_i and Ĥ(θ_i) − θ_i of this iteration (before its step)
                                    for i in 0 .. nn - 1 do
                                        winTheta.[i] <- winTheta.[i] + cBefore.[i]
                                        winTheta.[nn + i] <- winTheta.[nn + i] + kBefore.[i] / g2
                                        winResid.[i] <- winResid.[i] + dC.[i]
                                        winResid.[nn + i] <- winResid.[nn + i] + dK.[i] / g2
                                    winCount <- winCount + 1
                                    if winCount = ew then
                                        if tryNewtonJump () then
                                            newtonJumps <- newtonJumps + 1
                                            if advanceJump () then
                                                targetRow <- rows.Count
                                                if debug then eprintfn "  jump done at once it=%d" it
                                        clearWindow ()
                        elif phase = 1 then
                            avgCount <- avgCount + 1
                            for i in 0 .. nn - 1 do
                                avgC.[i] <- avgC.[i] + c.[i]
                                avgK.[i] <- avgK.[i] + k.[i]
                                avgCHat.[i] <- avgCHat.[i] + m.C.[i]
                                avgKHat.[i] <- avgKHat.[i] + m.K.[i]
                            snisSum <- snisSum + m.SnisBias / normC
                            stepSum <- stepSum + aUsed
                            avgRows.Add row
                            accumulateMidWindow ()
                            if avgCount >= options.AverageIterations then phase <- 2
        while phase < 2 && failure.IsNone do
            it <- it + 1
            if it > options.MaxIterations then failure <- Some "budget"
            else
                // Tempering: the largest γ increment that keeps the conditional ESS, taken only after a full-size step.
                // When the trust region cuts the steps, θ is falling behind the tilt; raising γ further would leave it
                // at the low-γ state with a residual so large that no step is admissible (measured at (1.5, 2), S = 2000,
                // cold: γ reached 2 in 29 iterations while C stayed at γ ≈ 0, then every step was rejected for 6000
                // iterations, for about half of seeds 1–6). Holding γ lets θ catch up.
                if gamma < problem.Gamma then temperIts <- temperIts + 1
                if gamma < problem.Gamma && lastStepFull then
                    match TiltFields.derive problem ci c k gamma with
                    | None -> ()
                    | Some t ->
                        let q = Particles.alignmentSquares t cloud
                        let target =
                            if Particles.conditionalEss cloud q gamma problem.Gamma >= options.TemperingEss then problem.Gamma
                            else
                                let mutable lo = gamma
                                let mutable hi = problem.Gamma
                                for _ in 1 .. 40 do
                                    let mid = 0.5 * (lo + hi)
                                    if Particles.conditionalEss cloud q gamma mid >= options.TemperingEss then lo <- mid else hi <- mid
                                max lo (gamma + 1e-6 * max 1.0 problem.Gamma)
                        gamma <- min problem.Gamma target
                match TiltFields.derive problem ci c k gamma with
                | None -> restore "the order parameter C or the field covariance lost positive definiteness"
                | Some t -> iterate t
        // Stability margin along the slow (drift) direction: Rayleigh quotient of the linearised map on common particles.
        let measureMargin () =
            match driftStart, TiltFields.derive problem ci c k gamma with
            | Some(c1, k1), Some _ ->
                let dc = Array.map2 (-) c c1
                let dk = Array.map2 (fun a b -> (a - b) / g2) k k1
                let nd = Math.Sqrt(TiltedRelaxation.Frob dc ** 2.0 + TiltedRelaxation.Frob dk ** 2.0)
                let floor = if rows.Count > 0 then rows.[rows.Count - 1].[1] * TiltedRelaxation.Frob c else 0.0
                if nd <= 3.0 * floor || nd = 0.0 then nan
                else
                    let eps = 0.05
                    let eval (s: float) =
                        let cc = Array.init nn (fun i -> c.[i] + s * eps * dc.[i])
                        let kk = Array.init nn (fun i -> k.[i] + s * eps * g2 * dk.[i])
                        reweightedMoments cc kk 0.0
                    match eval 1.0, eval -1.0 with
                    | Some(cp, kp), Some(cm, km) ->
                        let jd = Array.append (Array.init nn (fun i -> (cp.[i] - cm.[i]) / (2.0 * eps))) (Array.init nn (fun i -> (kp.[i] - km.[i]) / (2.0 * eps * g2)))
                        let d = Array.append dc dk
                        1.0 - (Array.map2 (*) jd d |> Array.sum) / (Array.map2 (*) d d |> Array.sum)
                    | _ -> nan
            | _ -> nan
        let failWith kind reason residual margin ess =
            Error { Kind = kind; Gamma = problem.Gamma; GammaReached = gamma; StabilityMargin = margin; EffectiveSampleSize = ess
                    Failure = { Solver = "TiltedSaddle"; Iterations = it; Residual = residual; Reason = reason } }
        match failure with
        | Some why ->
            let sc, sk, sg = snapshot
            c <- sc
            k <- sk
            gamma <- min gamma sg
            let margin = try measureMargin () with _ -> nan
            let essNow = if essTrace.Count > 0 then essTrace.[essTrace.Count - 1] else nan
            let lastRes = if rows.Count > 0 then rows.[rows.Count - 1].[0] else nan
            let marginText = if Double.IsNaN margin then "unmeasured (no drift above noise)" else sprintf "%.3g" margin
            if why = "budget" then
                let all = rows.ToArray() |> Array.map (fun r -> r.[4 ..])
                let drift = TiltedStopping.DriftZ(all.[max 0 (all.Length - options.Window) ..])
                let kind = if Double.IsFinite margin && margin <= 0.05 then LossOfSolution else NotConverged
                failWith kind
                    (sprintf "not stationary after %d iterations at g = %g, gamma = %g (reached %.4g): summaries drift %.1f s.e. over the last window, residual %.3g; stability margin 1 - lambda along the drift %s%s%s"
                        options.MaxIterations problem.G problem.Gamma gamma drift lastRes marginText
                        (match capWarning with Some w -> "; " + w | None -> "")
                        (if kind = LossOfSolution then " (the continued solution is losing stability: loss of a real solution)"
                         elif capWarning.IsSome then "; a smaller Step (--step) or more iterations may help (more particles raised the residuals against their floors at S = 8000)"
                         else "; more iterations or particles may help"))
                    lastRes margin essNow
            else
                let kind = if Double.IsFinite margin && margin <= 0.05 then LossOfSolution else NumericalInstability
                failWith kind
                    (sprintf "%s at g = %g, gamma = %g (reached %.4g): the trust region reduced the step below %g after %d reductions; ESS %.0f of %d; stability margin %s%s"
                        (if why = "trust" then "no step kept the reweighting ESS above the trust level" else why)
                        problem.G problem.Gamma gamma options.MinStep reductions essNow S marginText
                        (if kind = LossOfSolution then " (loss of a real solution)" else " (numerical instability: more particles or a smaller step may help)"))
                    lastRes margin essNow
        | None ->
            let margin = try measureMargin () with _ -> nan
            let fa = float avgCount
            let cm = avgC |> Array.map (fun v -> v / fa)
            let km = avgK |> Array.map (fun v -> v / fa)
            match TiltFields.derive problem ci cm km problem.Gamma with
            | None -> failWith NumericalInstability "the averaged order parameter is not positive definite" nan margin nan
            | Some ta ->
                let ar = avgRows.ToArray()
                let col j = ar |> Array.map (fun r -> r.[j])
                let winRows = rows.ToArray().[max 0 (rows.Count - options.Window) ..]
                let essArr = essTrace.ToArray()
                // Summaries at the averaged θ (no Jensen bias of the nonlinear summaries); standard errors of the series.
                let sm = TiltedStopping.Summaries(problem, cm)
                let atMean j (xs: float[]) = { TiltedStopping.SeriesStat xs with Mean = sm.[j] }
                Ok { Problem = problem; C = TiltedRelaxation.To2D(cm, n); K = TiltedRelaxation.To2D(km, n); Lambda = TiltedRelaxation.To2D(ta.Lambda, n)
                     CHat = TiltedRelaxation.To2D(avgCHat |> Array.map (fun v -> v / fa), n); KHat = TiltedRelaxation.To2D(avgKHat |> Array.map (fun v -> v / fa), n)
                     Samples = TiltedRelaxation.SamplesOf cloud
                     Diagnostics =
                        { Iterations = it; TemperingIterations = temperIts
                          CResidual = Array.average (col 0); CNoiseFloor = Array.average (col 1)
                          KResidual = Array.average (col 2); KNoiseFloor = Array.average (col 3)
                          EffectiveSampleSize = Array.average essArr; MinimumEffectiveSampleSize = Array.min essArr; Resamplings = resamplings
                          ProposalsPerUpdate = proposals / float (max 1 sweepsDone); Samples = S; Seed = options.Seed
                          Step = stepSum / fa; StepReductions = reductions; SnisBias = snisSum / fa
                          DriftZ = TiltedStopping.DriftZ(winRows |> Array.map (fun r -> r.[4 ..])); RelaxationTime = relaxTau; NewtonJumps = newtonJumps
                          Warnings = Option.toList capWarning @ Option.toList lagWarning; StabilityMargin = margin
                          MeanActivity = atMean 0 (col 4); TargetAlignment = atMean 1 (col 5); HalfWindowCorrelation = atMean 2 (col 6)
                          MidWindowMoments = Some { Step = midStep; Iterations = avgCount; Particles = S; Sums = midSums } } }

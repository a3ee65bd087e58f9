/// `theory dmft outliers` and `theory dmft cka` (docs/dmft-spectrum.md): outlier eigenvalues of a trained network with
/// their low-rank prediction and ablations; linear CKA between a network's kernel and reference kernels, and the γ
/// estimator.
module Theory.Cli.Commands.DmftSpectrum

open System
open Theory.Core
open Theory.Core.Io
open Theory.Core.Dmft
open Theory.Core.RandomMatrix
open Theory.Simulation.PhaseDiagram
open Theory.Simulation.Training
open Theory.Cli

let private zs name (xs: Numerics.Complex[]) =
    Output.objs name (xs |> Array.map (fun z -> [ Output.num "re" z.Real; Output.num "im" z.Imaginary ]))

/// theory dmft outliers --g G --gamma Γ [--n N] [--dt DT] [--steps S] [--lr η] [--seed K] [--kappa κ] [--energy E]
///   [--max-rank R] [--order K] [--bulk-draws B] [--random-draws D] [--measure-periods P] [--csv FILE] [--json]
let outliersCommand () =
    Cli.command "outliers" "outlier eigenvalues of an Adam-trained network (sinusoid task) vs the random bulk, their low-rank prediction, and ablations (Clark et al. 2026)" (fun cmd ->
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: > 0"
        let gamma = Cli.requiredFloat cmd "--gamma" "feature-learning strength γ; allowed: > 0"
        let n = Cli.int cmd "--n" 200 "network size N; allowed: >= 1"
        let dt = Cli.float cmd "--dt" 0.2 "time step; allowed: > 0, <= T/10"
        let steps = Cli.int cmd "--steps" 300 "Adam steps; allowed: >= 1"
        let lr = Cli.float cmd "--lr" 0.05 "Adam base rate η0 (μP-scaled); allowed: > 0"
        let seed = Cli.int cmd "--seed" 1 "random seed (x0, J0, V0, optimiser, ablation draws)"
        let kappa = Cli.float cmd "--kappa" OutlierSpectrum.DefaultKappa "outlier threshold g(1 + κ/√N); allowed: >= 0"
        let energy = Cli.float cmd "--energy" 0.95 "fraction of ‖ΔJ‖_F² kept by the rank-r truncation; allowed: [0, 1]"
        let maxRank = Cli.int cmd "--max-rank" 10 "largest rank r; allowed: >= 1"
        let order = Cli.int cmd "--order" 8 "order K of the resolvent hierarchy; allowed: >= 0"
        let bulkDraws = Cli.int cmd "--bulk-draws" 3 "random bulk ablations; allowed: >= 0"
        let randomDraws = Cli.int cmd "--random-draws" 3 "random-direction ablations; allowed: >= 0"
        let measure = Cli.int cmd "--measure-periods" 60 "periods of autonomous run measured after 10 transient periods; allowed: >= 1"
        let csv = Cli.optionalString cmd "--csv" "write the eigenvalues (trained and initial) to this CSV file"
        let json = Cli.json cmd
        fun r ->
            let g = r.GetValue g
            let gamma = r.GetValue gamma
            let n = r.GetValue n
            let seed = r.GetValue seed
            Validate.Positive("g", g) |> ignore
            Validate.Positive("gamma", gamma) |> ignore
            Validate.AtLeast("n", n, 1) |> ignore
            Validate.AtLeast("measure-periods", r.GetValue measure, 1) |> ignore
            let train = PhaseProbeOptions(N = n, Dt = r.GetValue dt, TrainingSteps = r.GetValue steps, LearningRate = r.GetValue lr).Validate()
            let eval = PhaseProbeOptions(N = n, Dt = r.GetValue dt, MeasurePeriods = r.GetValue measure).Validate()
            let so = SpectrumOptions(Kappa = r.GetValue kappa, Energy = r.GetValue energy, MaxRank = r.GetValue maxRank, Order = r.GetValue order,
                                     BulkDraws = r.GetValue bulkDraws, RandomDraws = r.GetValue randomDraws).Validate()
            Output.progress (sprintf "training N = %d at g = %g, gamma = %g (Adam, %d steps)" n g gamma train.TrainingSteps)
            let net = SineNetworks.Train(train, g, gamma, int64 seed)
            let a = SpectrumAnalysis.Analyse(net, eval, so)
            match r.GetValue csv with
            | Some path ->
                let t = a.Threshold
                Csv.Write(path,
                          [ "command", "dmft outliers"; "g", Csv.Format g; "gamma", Csv.Format gamma; "N", string n; "seed", string seed; "threshold", Csv.Format t ],
                          [| "trained"; "re"; "im"; "modulus"; "outlier" |],
                          Seq.append
                              (a.Eigenvalues |> Seq.map (fun z -> [| 1.0; z.Real; z.Imaginary; z.Magnitude; (if z.Magnitude > t then 1.0 else 0.0) |]))
                              (a.InitialEigenvalues |> Seq.map (fun z -> [| 0.0; z.Real; z.Imaginary; z.Magnitude; (if z.Magnitude > t then 1.0 else 0.0) |])))
            | None -> ()
            let perf (p: NetworkPerformance) =
                [ Output.num "fitError" p.FitError; Output.num "lyapunov" p.Autonomous.Lyapunov; Output.num "lyapunovStdErr" (if Double.IsFinite p.Autonomous.LyapunovStdErr then p.Autonomous.LyapunovStdErr else 0.0)
                  Output.num "lagCorrelation" p.Autonomous.LagCorrelation; Output.str "class" (string p.Autonomous.Class) ]
            Output.emit (r.GetValue json)
                [ Output.num "g" g; Output.num "gamma" gamma; Output.int "N" n; Output.int "seed" seed; Output.num "dt" train.Dt; Output.int "steps" train.TrainingSteps
                  Output.num "threshold" a.Threshold; Output.num "kappa" so.Kappa
                  Output.num "trainFitError" net.FitError
                  zs "outliers" a.Outliers
                  Output.int "initialOutliers" a.InitialOutliers.Length
                  Output.int "rank" a.Correlated.Rank; Output.num "retainedEnergy" a.Correlated.RetainedEnergy
                  Output.nums "singularValues" (a.Correlated.SingularValues |> Array.truncate 10)
                  zs "predictedOrder0" a.Independent.Outliers
                  zs "predictedOrderK" a.Correlated.Outliers; Output.int "order" so.Order
                  Output.num "maxScaledErrorOrderK" a.CorrelatedComparison.MaxScaledError
                  Output.num "meanErrorOrderK" a.CorrelatedComparison.MeanError
                  Output.obj "intact" (perf a.Intact)
                  Output.objs "ablations" (a.Ablations |> Array.map (fun x -> [ Output.str "kind" x.Kind; Output.int "draw" x.Draw; Output.int "removed" x.Removed; Output.num "norm" x.Norm ] @ perf x.Performance))
                  Output.str "csv" (defaultArg (r.GetValue csv) "") ]
            0)

/// theory dmft cka --g G --gammas Γ1,Γ2,… --true-gamma Γ [--n N] [--references posterior|dmft] [--ref-n M] [--sweeps S]
///   [--particles P] [--dt DT] [--resamples B] [--seed K] [--csv FILE] [--json]
let ckaCommand () =
    Cli.command "cka" "linear CKA between an exact posterior network's kernel and reference kernels C(t,t') at several γ, and the estimate γ̂ = argmax CKA (Clark et al. 2026 sinusoid task)" (fun cmd ->
        let g = Cli.requiredFloat cmd "--g" "coupling gain g; allowed: > 1 (x0 ~ N(0, Δ0(g)) needs Δ0 > 0)"
        let gammas = Cli.requiredFloatList cmd "--gammas" "reference γ values, strictly ascending, at least 2, each >= 0"
        let trueGamma = Cli.requiredFloat cmd "--true-gamma" "γ of the test network (exact posterior sample); allowed: >= 0"
        let n = Cli.int cmd "--n" 250 "test network size N; allowed: >= 2·(T/dt)"
        let refs = Cli.choice cmd "--references" "posterior" [ "posterior"; "dmft" ] "reference family: posterior (sampler at --ref-n, a large-N proxy) or dmft (N = ∞ saddle point)"
        let refN = Cli.int cmd "--ref-n" 1000 "size of the posterior reference sampler; allowed: >= 2·(T/dt)"
        let sweeps = Cli.int cmd "--sweeps" 150 "posterior sweeps per γ; allowed: >= 1"
        let particles = Cli.int cmd "--particles" 2000 "DMFT particles (--references dmft); allowed: >= 100"
        let dt = Cli.float cmd "--dt" 0.2 "time step of the window grid; allowed: > 0, <= T/10"
        let resamples = Cli.int cmd "--resamples" 30 "bootstrap resamples over neurons; allowed: >= 2"
        let seed = Cli.int cmd "--seed" 1 "random seed"
        let csv = Cli.optionalString cmd "--csv" "write the CKA profile over γ to this CSV file"
        let json = Cli.json cmd
        fun r ->
            let g = r.GetValue g
            let gammas = r.GetValue gammas
            let trueGamma = r.GetValue trueGamma
            let seed = int64 (r.GetValue seed)
            Validate.Positive("g", g) |> ignore
            if not (g > 1.0) then raise (ParameterOutOfDomainException("g", string g, "> 1 (the task's x0 variance Delta0(g) is 0 for g <= 1)"))
            Validate.NonNegative("true-gamma", trueGamma) |> ignore
            if gammas.Length < 2 then raise (ParameterOutOfDomainException("gammas", string gammas.Length + " values", "at least 2 values"))
            for i in 0 .. gammas.Length - 1 do
                Validate.NonNegative("gammas", gammas.[i]) |> ignore
                if i > 0 && gammas.[i] <= gammas.[i - 1] then raise (ParameterOutOfDomainException("gammas", "not strictly ascending", "strictly ascending values"))
            Validate.AtLeast("resamples", r.GetValue resamples, 2) |> ignore
            Validate.AtLeast("particles", r.GetValue particles, TiltedSolverOptions.MinimumChains) |> ignore
            let task = { SinusoidTask.Default with Dt = Validate.Positive("dt", r.GetValue dt) }
            let popt nn = { FinitePosteriorOptions.Default with Neurons = nn; Sweeps = r.GetValue sweeps; Seed = seed; ProcessNoise = task.ProcessNoise }
            let references, failures =
                match r.GetValue refs with
                | "dmft" ->
                    Output.progress (sprintf "DMFT reference kernels at gamma = %s" (gammas |> Array.map string |> String.concat ","))
                    Theory.PaperChecks.Dmft.CkaCheck.dmftReferences g task gammas { TiltedSolverOptions.Default with Chains = r.GetValue particles; Seed = seed }
                | _ ->
                    Output.progress (sprintf "posterior reference kernels at N_ref = %d" (r.GetValue refN))
                    Theory.PaperChecks.Dmft.CkaCheck.posteriorReferences g task gammas (popt (r.GetValue refN) |> fun o -> { o with Seed = seed + 1000L }), []
            if references.Length < 2 then
                raise (NoSolutionException(sprintf "fewer than 2 reference kernels (%s)" (String.concat "; " failures)))
            let ladder = Array.append (gammas |> Array.filter (fun x -> x < trueGamma)) [| trueGamma |]
            Output.progress (sprintf "posterior test network N = %d at gamma = %g" (r.GetValue n) trueGamma)
            let sample = FinitePosterior.Anneal(Func<_, _>(fun gm -> TiltedProblems.Sinusoid(g, gm, task)), ladder, popt (r.GetValue n), 1L) |> Array.last
            let rates = Theory.PaperChecks.Dmft.CkaCheck.ratesOf sample
            let est = KernelAlignment.EstimateFromRates(rates, references, 20, r.GetValue resamples, seed)
            match r.GetValue csv with
            | Some path ->
                Csv.Write(path, [ "command", "dmft cka"; "g", Csv.Format g; "trueGamma", Csv.Format trueGamma; "N", string (r.GetValue n); "references", r.GetValue refs; "seed", string seed ],
                          [| "gamma"; "cka" |], Array.map2 (fun a b -> [| a; b |]) est.Estimate.Grid est.Estimate.Profile)
            | None -> ()
            Output.emit (r.GetValue json)
                [ Output.num "g" g; Output.num "trueGamma" trueGamma; Output.int "N" (r.GetValue n); Output.int "seed" (int seed); Output.num "dt" task.Dt
                  Output.str "references" (r.GetValue refs); Output.nums "referenceGammas" (references |> Array.map fst)
                  Output.num "gammaHat" est.Estimate.Gamma; Output.num "gammaHatStdDev" est.StdDev; Output.bool "atBoundary" est.Estimate.AtBoundary
                  Output.num "alignment" est.Estimate.Alignment
                  Output.nums "ckaAtReferences" (references |> Array.map (fun (_, c) -> Theory.Core.Numerics.Cka.OfKernels(sample.C, c)))
                  Output.strs "failures" failures
                  Output.str "csv" (defaultArg (r.GetValue csv) "") ]
            0)

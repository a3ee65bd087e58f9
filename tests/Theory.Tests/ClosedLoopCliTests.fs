module Theory.Tests.ClosedLoopCliTests

open System.Text.Json.Nodes
open Expecto
open Theory.Tests.TestUtil

let private parse (s: string) = JsonNode.Parse(s).AsObject()

let cliTests =
    testSequenced <| testList "Cli" [
        test "feedback --json: eigenvalues, spectral radius, region" {
            let code, out, err = runCli [ "closed-loop"; "feedback"; "--k1"; "-0.5"; "--k2"; "-1"; "--json" ]
            Expect.equal code 0 err
            let o = parse out
            Expect.equal (o.["region"].GetValue<string>()) "stable" "region"
            Expect.floatClose (accuracy 1e-12 0.0) (o.["spectralRadius"].GetValue<float>()) (sqrt 0.5) "radius"
            let ev = o.["eigenvalues"].AsArray()
            Expect.equal ev.Count 2 "two eigenvalues"
            Expect.floatClose (accuracy 1e-12 0.0) (ev.[0].["re"].GetValue<float>()) 0.5 "re"
            Expect.floatClose (accuracy 1e-12 0.0) (abs (ev.[0].["im"].GetValue<float>())) 0.5 "im"
            Expect.isTrue (o.ContainsKey "version") "version"
            let _, out2, _ = runCli [ "closed-loop"; "feedback"; "--k1"; "-0.01"; "--k2"; "0"; "--json" ]
            Expect.equal ((parse out2).["region"].GetValue<string>()) "oscillatory-unstable" "osc"
            let _, out3, _ = runCli [ "closed-loop"; "feedback"; "--k1"; "0.01"; "--k2"; "0"; "--json" ]
            Expect.equal ((parse out3).["region"].GetValue<string>()) "real-unstable" "real"
        }
        test "cubic --json: coefficients, roots, Eq. 12 and Eq. 11" {
            let code, out, err = runCli [ "closed-loop"; "cubic"; "--szm"; "-0.02"; "--szu"; "0.1"; "--svm"; "0.05"; "--svu"; "0.1"; "--json" ]
            Expect.equal code 0 err
            let o = parse out
            let c = o.["coefficients"].AsArray() |> Seq.map (fun n -> n.GetValue<float>()) |> Array.ofSeq
            Expect.floatClose (accuracy 1e-15 0.0) c.[1] -2.1 "b"
            Expect.floatClose (accuracy 1e-15 0.0) c.[2] 1.22 "c"
            Expect.floatClose (accuracy 1e-6 0.0) (o.["lambdaRealApprox"].GetValue<float>()) 0.106024 "Eq. 12"
            Expect.floatClose (accuracy 1e-6 0.0) (o.["lambdaComplexModulusSquared"].GetValue<float>()) 1.008438 "Eq. 11"
            Expect.equal (o.["roots"].AsArray().Count) 3 "three roots"
        }
        test "lqr --json: golden-ratio gain, Riccati matrix, residual" {
            let code, out, err = runCli [ "closed-loop"; "lqr"; "--q"; "1,0,0,1"; "--r"; "1e-8"; "--dt"; "1"; "--json" ]
            Expect.equal code 0 err
            let o = parse out
            let k = o.["gain"].AsArray() |> Seq.map (fun n -> n.GetValue<float>()) |> Array.ofSeq
            Expect.floatClose (accuracy 1e-6 0.0) k.[0] 0.618034 "K1"
            Expect.floatClose (accuracy 1e-6 0.0) k.[1] 1.618034 "K2"
            Expect.floatClose (accuracy 1e-6 0.0) (o.["riccati"].AsArray().[0].AsArray().[0].GetValue<float>()) 2.618034 "P11"
            Expect.isLessThan (o.["residual"].GetValue<float>()) 1e-12 "residual"
        }
        test "train --json writes the summary and a per-epoch CSV with metadata (closed and open modes)" {
            let dir = tempDir "closed-loop-train"
            let code, out, err = runCli [ "closed-loop"; "train"; "--mode"; "closed"; "--epochs"; "30"; "--seed"; "3"; "--n"; "20"; "--out"; dir; "--json" ]
            Expect.equal code 0 err
            let o = parse out
            for key in [ "finalTrainLoss"; "finalTestLoss"; "endOfStage1"; "stabilisationEpoch"; "plateauLength"; "deployedPeakRatio"; "csv"; "seed" ] do
                Expect.isTrue (o.ContainsKey key) key
            let csv = o.["csv"].GetValue<string>()
            let lines = System.IO.File.ReadAllLines csv
            Expect.stringContains lines.[0] "# theory" "version line"
            Expect.isTrue (lines |> Array.exists (fun l -> l = "# seed=3")) "seed in metadata"
            let header = lines |> Array.find (fun l -> l.StartsWith "epoch,")
            Expect.stringContains header "szm" "rank-one columns"
            Expect.equal (lines |> Array.filter (fun l -> not (l.StartsWith "#")) |> Array.length) 31 "header + 30 epochs"
            let code2, out2, err2 = runCli [ "closed-loop"; "train"; "--mode"; "open"; "--epochs"; "10"; "--teacher-epochs"; "10"; "--seed"; "3"; "--n"; "20"; "--json" ]
            Expect.equal code2 0 err2
            Expect.isTrue ((parse out2).ContainsKey "teacherFinalTestLoss") "teacher info"
            // same seed, same numbers
            let _, out3, _ = runCli [ "closed-loop"; "train"; "--mode"; "closed"; "--epochs"; "30"; "--seed"; "3"; "--n"; "20"; "--json" ]
            Expect.equal ((parse out3).["finalTestLoss"].GetValue<float>()) (o.["finalTestLoss"].GetValue<float>()) "reproducible"
        }
        test "bad input exits 2 with a clear message" {
            let cases =
                [ [ "closed-loop"; "cubic"; "--szm"; "NaN"; "--szu"; "0"; "--svm"; "0"; "--svu"; "0" ], "szm"
                  [ "closed-loop"; "feedback"; "--k1"; "-0.5" ], "--k2"
                  [ "closed-loop"; "lqr"; "--q"; "1,0,0"; "--r"; "1" ], "q"
                  [ "closed-loop"; "lqr"; "--q"; "0,0,0,0"; "--r"; "0" ], "singular"
                  [ "closed-loop"; "lqr"; "--q"; "0,0,0,0"; "--r"; "1" ], "stabilising"
                  [ "closed-loop"; "lqr"; "--r"; "-1" ], "r"
                  [ "closed-loop"; "feedback"; "--k1"; "1"; "--k2"; "1"; "--bogus"; "2" ], "bogus"
                  [ "closed-loop"; "nonsense" ], "subcommand"
                  [ "closed-loop"; "train"; "--mode"; "sideways"; "--epochs"; "2" ], "mode"
                  [ "closed-loop"; "train"; "--batch"; "0"; "--epochs"; "2" ], "batch"
                  [ "closed-loop"; "train"; "--optimizer"; "rmsprop"; "--epochs"; "2" ], "optimizer" ]
            for (args, word) in cases do
                let code, _, err = runCli args
                Expect.equal code 2 (sprintf "%A -> %s" args err)
                Expect.stringContains err word (sprintf "message for %A" args)
        }
    ]

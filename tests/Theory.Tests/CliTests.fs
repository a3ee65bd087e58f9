module Theory.Tests.CliTests

open Expecto
open Theory.Tests.TestUtil

[<Tests>]
let tests =
    testSequenced <| testList "Cli" [
        test "unknown command exits 2 with an error line" {
            let code, _, err = runCli [ "no-such-command" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "error:" "message"
            Expect.stringContains err "no-such-command" "names the command"
        }
        test "--help exits 0" {
            let code, out, _ = runCli [ "--help" ]
            Expect.equal code 0 "exit code"
            Expect.stringContains out "paper-checks" "usage lists paper-checks"
            let code2, out2, _ = runCli []
            Expect.equal code2 0 "no arguments: the help"
            Expect.stringContains out2 "closed-loop" "usage lists closed-loop"
        }
        test "--help of a subcommand exits 0 and lists its options with defaults and ranges" {
            let code, out, err = runCli [ "dmft"; "saddle"; "--help" ]
            Expect.equal code 0 err
            for o in [ "--g"; "--gamma"; "--samples"; "--with-extension"; "--json"; "[default: 4000]"; "allowed: >= 100" ] do
                Expect.stringContains out o (sprintf "help lists %s" o)
            let code2, out2, err2 = runCli [ "simulate"; "rate"; "-h" ]
            Expect.equal code2 0 err2
            Expect.stringContains out2 "--stepper <euler|rk4>" "help lists the allowed words"
        }
        test "an unknown option exits 2 with a message naming it" {
            let code, out, err = runCli [ "scs"; "--g"; "1"; "--bogus"; "2" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--bogus" "names the option"
            Expect.equal out "" "nothing on stdout"
        }
        test "a non-numeric value exits 2 naming the option" {
            let code, _, err = runCli [ "scs"; "--g"; "abc"; "--json" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--g" "names the option"
            Expect.stringContains err "not a number" "says what is wrong"
            let code2, _, err2 = runCli [ "simulate"; "rate"; "--n"; "1.5"; "--g"; "1"; "--seed"; "1" ]
            Expect.equal code2 2 "exit code (integer)"
            Expect.stringContains err2 "--n" "names the integer option"
        }
        test "an out-of-domain value exits 2 with the allowed range" {
            let code, _, err = runCli [ "scs"; "--g"; "-1" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "g = -1" "names the option and value"
            Expect.stringContains err "allowed: a finite number >= 0" "gives the allowed range"
            let code2, _, err2 = runCli [ "simulate"; "rate"; "--n"; "10"; "--g"; "1"; "--seed"; "1"; "--stepper"; "leapfrog" ]
            Expect.equal code2 2 "exit code (choice)"
            Expect.stringContains err2 "--stepper" "names the option"
            Expect.stringContains err2 "rk4, euler" "lists the allowed words"
        }
        test "a missing required option or subcommand exits 2 naming it" {
            let code, _, err = runCli [ "scs" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--g" "names the option"
            let code2, _, err2 = runCli [ "dmft" ]
            Expect.equal code2 2 "exit code (no subcommand)"
            Expect.stringContains err2 "saddle" "lists the subcommands"
        }
        test "an option given outside its context exits 2 naming it" {
            let code, _, err = runCli [ "dmft"; "linear-spectrum"; "--g"; "0.5"; "--gamma"; "1"; "--omega"; "0.7"; "--ratio"; "1.3"; "--width"; "0.2" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "--width" "names the option"
            Expect.stringContains err "--target peaked" "names the context"
        }
        test "--json puts one JSON object and nothing else on stdout" {
            let code, out, err = runCli [ "scs"; "--g"; "1.5"; "--json" ]
            Expect.equal code 0 err
            let o = System.Text.Json.Nodes.JsonNode.Parse(out).AsObject()
            Expect.equal (o.["regime"].GetValue<string>()) "chaotic" "regime"
        }
        test "the [suggest] directive completes subcommands and allowed words" {
            let line = "theory simulate rate --stepper "
            let code, out, err = runCli [ sprintf "[suggest:%d]" line.Length; line ]
            Expect.equal code 0 err
            Expect.stringContains out "euler" "suggests euler"
            Expect.stringContains out "rk4" "suggests rk4"
            let line2 = "theory dmft s"
            let _, out2, _ = runCli [ sprintf "[suggest:%d]" line2.Length; line2 ]
            Expect.stringContains out2 "saddle" "suggests the subcommand"
        }
        test "paper-checks --only with an unknown name exits 2" {
            let code, _, err = runCli [ "paper-checks"; "--out"; tempDir "pc"; "--only"; "nope" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "unknown check" "message"
        }
    ]

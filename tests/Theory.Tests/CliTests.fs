module Theory.Tests.CliTests

open Expecto
open Theory.Tests.TestUtil

[<Tests>]
let tests =
    testList "Cli" [
        test "unknown command exits 2 with an error line" {
            let code, _, err = runCli [ "no-such-command" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "error:" "message"
        }
        test "--help exits 0" {
            let code, out, _ = runCli [ "--help" ]
            Expect.equal code 0 "exit code"
            Expect.stringContains out "paper-checks" "usage lists paper-checks"
        }
        test "paper-checks --only with an unknown name exits 2" {
            let code, _, err = runCli [ "paper-checks"; "--out"; tempDir "pc"; "--only"; "nope" ]
            Expect.equal code 2 "exit code"
            Expect.stringContains err "unknown check" "message"
        }
    ]

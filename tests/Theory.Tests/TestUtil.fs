/// Helpers shared by the test files.
module Theory.Tests.TestUtil

open System
open System.IO
open Expecto

/// Relative closeness |a − b| ≤ rel·max(|b|, floor).
let relClose (rel: float) (actual: float) (expected: float) (msg: string) =
    let scale = max (abs expected) 1e-300
    let err = abs (actual - expected) / scale
    if not (err <= rel) then
        failtestf "%s: actual %.12g, expected %.12g, relative error %.3g > %.3g" msg actual expected err rel

/// Accuracy record for Expect.floatClose.
let accuracy (absolute: float) (relative: float) : Accuracy = { absolute = absolute; relative = relative }

/// Runs the `theory` CLI in-process and captures (exit code, stdout, stderr). Progress is forced to plain lines
/// (THEORY_PROGRESS=plain): the captured stderr is a StringWriter even when the test process's own stderr is a
/// terminal, where the CLI's detection would choose the live display.
let private consoleLock = obj ()

let runCli (args: string list) =
    let outW = new StringWriter()
    let errW = new StringWriter()
    lock consoleLock (fun () ->
        let oldOut, oldErr = Console.Out, Console.Error
        let oldMode = Environment.GetEnvironmentVariable "THEORY_PROGRESS"
        Console.SetOut outW
        Console.SetError errW
        Environment.SetEnvironmentVariable("THEORY_PROGRESS", "plain")
        try
            let code = Theory.Cli.Program.main (Array.ofList args)
            code, outW.ToString(), errW.ToString()
        finally
            Environment.SetEnvironmentVariable("THEORY_PROGRESS", oldMode)
            Console.SetOut oldOut
            Console.SetError oldErr)

/// A temporary directory, unique per call.
let tempDir (name: string) =
    let d = Path.Combine(Path.GetTempPath(), sprintf "theory-tests-%s-%s" name (Guid.NewGuid().ToString("N").Substring(0, 8)))
    Directory.CreateDirectory d |> ignore
    d

module Theory.Tests.Main

open System
open Expecto
open Expecto.Impl

/// Runs every [<Tests>] value in the assembly and ends with the line "N passed, N failed, N skipped" alone on a line
/// (CI reads it). Exit code non-zero on any failure or error.
[<EntryPoint>]
let main argv =
    let mutable line = None
    let handler =
        SummaryHandler(fun (s: TestRunSummary) ->
            line <- Some(sprintf "%d passed, %d failed, %d skipped" s.passed.Length (s.failed.Length + s.errored.Length) s.ignored.Length))
    let code =
        Tests.runTestsInAssemblyWithCLIArgs
            [ CLIArguments.No_Spinner; CLIArguments.Colours 0; CLIArguments.Append_Summary_Handler handler ]
            argv
    Console.Out.Flush()
    Console.Error.Flush()
    match line with
    | Some l -> Console.Out.Write("\n" + l + "\n")
    | None -> Console.Out.Write("\n0 passed, 1 failed, 0 skipped\n")
    Console.Out.Flush()
    if line.IsNone && code = 0 then 1 else code

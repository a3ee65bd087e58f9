module Theory.Tests.ClosedLoopTests

open Expecto

[<Tests>]
let tests =
    testList "ClosedLoop" [ ClosedLoopTheoryTests.theoryTests; ClosedLoopEngineTests.engineTests; ClosedLoopCliTests.cliTests ]

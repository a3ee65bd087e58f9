namespace Theory.Core

open System
open System.Runtime.ExceptionServices

/// Independent jobs run concurrently (g values, seeds, chains, network sizes: each seeded on its own, so the results
/// do not depend on the schedule), with the first failure rethrown as itself, with its stack, instead of wrapped in
/// an AggregateException (callers and the CLI report parameter errors by their type).
[<RequireQualifiedAccess>]
module Concurrent =
    let private rethrowFirst (ae: AggregateException) : 'T =
        ExceptionDispatchInfo.Capture(ae.Flatten().InnerExceptions.[0]).Throw()
        failwith "unreachable"

    /// Array.Parallel.map with the first failure rethrown unwrapped.
    let map (f: 'a -> 'b) (xs: 'a[]) : 'b[] =
        try Array.Parallel.map f xs with :? AggregateException as ae -> rethrowFirst ae

    /// Array.Parallel.init with the first failure rethrown unwrapped.
    let init (count: int) (f: int -> 'b) : 'b[] =
        try Array.Parallel.init count f with :? AggregateException as ae -> rethrowFirst ae

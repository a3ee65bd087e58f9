/// `theory sweep plan|run|run-all|merge`: a sweep splits one command's swept option (the g values of a γ⋆ curve, the
/// rows of a phase diagram, the seeds of a training run) into units, each an independent invocation of the same command
/// with that option narrowed to one value and `--json`; a manifest assigns the units to K shards (a SLURM job array),
/// each shard writes its result file, and the merge checks that every shard is there and whole before it writes anything.
/// Formats and guarantees: docs/sweeps.md.
module Theory.Cli.Commands.Sweep

open System
open System.Globalization
open System.IO
open System.Security.Cryptography
open System.Text
open System.Text.Json
open System.Text.Json.Nodes
open Theory.Core
open Theory.Core.Io
open Theory.Cli

/// What running one unit in-process gave: its exit code, its stdout and, on failure, the error line.
type UnitOutcome = { Code: int; Stdout: string; Error: string }

/// The command-line program the sweep drives (given by Program.fs, which owns the command tree and the exit codes).
type Host =
    { Parse: string[] -> System.CommandLine.ParseResult
      Run: string[] -> UnitOutcome }

let manifestFormat = "theory-sweep-manifest/1"
let shardFormat = "theory-sweep-shard/1"
let mergedFormat = "theory-sweep-merged/1"

/// How the units' results become the sweep's result: `concat` rebuilds the base command's own output (the listed
/// array fields concatenated in unit order, every other field equal across units); `list` lists the unit results.
type private Kind =
    { Path: string
      Over: string
      Concat: string list
      UnitDir: string option
      /// Switches added to every unit (phase-boundary: --keep-failures, so that a g without γ* is a result, as in
      /// the single-process run, not a failed unit).
      UnitFlags: string list
      /// Writes the combined files of the units' output folders (the phase diagrams) into a folder: (folder, [unit
      /// folder, unit result]) -> files written.
      Finish: (string -> (string * JsonObject) list -> string list) option }

/// The commands a sweep knows: their swept option, how their outputs combine and which option names an output folder
/// (made per unit). Any other command sweeps with --over/--values and the `list` combination.
let private kinds =
    [ { Path = "dmft phase-boundary"; Over = "--g"; Concat = [ "results"; "failures" ]; UnitDir = None; UnitFlags = [ "--keep-failures" ]; Finish = None }
      { Path = "dmft finite-size"; Over = "--g"; Concat = [ "results" ]; UnitDir = None; UnitFlags = []; Finish = None }
      { Path = "simulate phase-diagram"; Over = "--g"; Concat = []; UnitDir = Some "--out"; UnitFlags = []; Finish = Some PhaseDiagram.mergeUnits }
      { Path = "regularities phase-diagram"; Over = "--b-range"; Concat = []; UnitDir = Some "--out"; UnitFlags = []
        Finish = Some Regularities.mergePhaseDiagramUnits }
      { Path = "closed-loop train"; Over = "--seed"; Concat = []; UnitDir = None; UnitFlags = []; Finish = None } ]

// ---- small helpers ---------------------------------------------------------------------------------------------

let private serialize (n: JsonNode) = Json.Serialize n

let private sha256 (s: string) =
    Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes s)).ToLowerInvariant()

/// Writes the file atomically: a temporary file in the same folder, flushed, then renamed over the target.
let writeAtomic (path: string) (text: string) =
    let full = Path.GetFullPath path
    let tmp = sprintf "%s.tmp-%d-%s" full Environment.ProcessId (Guid.NewGuid().ToString("N").Substring(0, 8))
    do
        use fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write)
        let bytes = UTF8Encoding(false).GetBytes text
        fs.Write(bytes, 0, bytes.Length)
        fs.Flush true
    File.Move(tmp, full, true)

let private strArray (xs: string seq) : JsonNode =
    let a = JsonArray()
    for x in xs do a.Add(Json.String x)
    a

let private str (o: JsonObject) (key: string) =
    match o.[key] with
    | :? JsonValue as v ->
        match v.TryGetValue<string>() with
        | true, s -> Some s
        | _ -> None
    | _ -> None

let private intOf (o: JsonObject) (key: string) =
    match o.[key] with
    | :? JsonValue as v ->
        match v.TryGetValue<int>() with
        | true, s -> Some s
        | _ -> None
    | _ -> None

let private strings (o: JsonObject) (key: string) =
    match o.[key] with
    | :? JsonArray as a when a |> Seq.forall (fun x -> x :? JsonValue && (x.AsValue().TryGetValue<string>() |> fst)) ->
        Some(a |> Seq.map (fun x -> x.GetValue<string>()) |> Array.ofSeq)
    | _ -> None

/// A shell word (single-quoted where needed).
let private shellQuote (s: string) =
    if s <> "" && s |> Seq.forall (fun c -> Char.IsLetterOrDigit c || "-_./:=,+@%".Contains c) then s
    else "'" + s.Replace("'", "'\\''") + "'"

/// The base tokens with every occurrence of `option` (as `--x V` or `--x=V`) removed and `option value` appended.
let private replaceOption (tokens: string list) (option: string) (value: string) =
    let rec strip ts =
        match ts with
        | t :: _ :: rest when t = option -> strip rest
        | [ t ] when t = option -> []
        | t :: rest when t.StartsWith(option + "=") -> strip rest
        | t :: rest -> t :: strip rest
        | [] -> []
    strip tokens @ [ option; value ]

/// The value of an option as written on the base command line (the last occurrence), if any.
let private optionToken (tokens: string list) (option: string) =
    let rec find ts acc =
        match ts with
        | t :: v :: rest when t = option -> find rest (Some v)
        | t :: rest when t.StartsWith(option + "=") -> find rest (Some(t.Substring(option.Length + 1)))
        | _ :: rest -> find rest acc
        | [] -> acc
    find tokens None

/// "dmft phase-boundary": the command path of a parse result.
let private commandPath (r: System.CommandLine.ParseResult) =
    let rec names (c: System.CommandLine.Parsing.SymbolResult) =
        match c with
        | :? System.CommandLine.Parsing.CommandResult as cr when not (isNull cr.Parent) -> names cr.Parent @ [ cr.Command.Name ]
        | _ -> []
    String.concat " " (names r.CommandResult)

let private roundTrip (x: float) = x.ToString("R", CultureInfo.InvariantCulture)

/// The swept values read from the parsed base command (a list or range option; exact doubles, written round-trip).
let private valuesFromBase (r: System.CommandLine.ParseResult) (over: string) =
    let cmd = r.CommandResult.Command
    match cmd.Options |> Seq.tryFind (fun o -> o.Name = over) with
    | None -> raise (UsageError(sprintf "sweep plan: the command 'theory %s' has no option %s to sweep over" (commandPath r) over))
    | Some o ->
        match o with
        | :? Opt<float[]> as o -> Some(r.GetValue o |> Array.map roundTrip)
        | :? Opt<float[] option> as o -> r.GetValue o |> Option.map (Array.map roundTrip)
        | _ -> None

// ---- the manifest ----------------------------------------------------------------------------------------------

/// One unit of a loaded manifest.
type SweepUnit = { Index: int; Value: string; Shard: int; Args: string[] }

/// A loaded, hash-checked manifest.
type Manifest =
    { Path: string
      Dir: string
      Hash: string
      Version: string
      CommandLine: string
      Command: string[]
      Over: string
      Concat: string list
      Shards: int
      Units: SweepUnit[]
      Node: JsonObject }
    member m.ShardFile(i: int) = Path.Combine(m.Dir, sprintf "shard-%d.json" i)
    member m.UnitsOf(i: int) = m.Units |> Array.filter (fun u -> u.Shard = i)

/// Reads and checks a manifest (exit 2 naming the file when it is missing, not JSON, incomplete or edited).
let loadManifest (path: string) =
    let path = Path.GetFullPath path
    let bad why = raise (UsageError(sprintf "manifest %s: %s" path why))
    if not (File.Exists path) then bad "not found"
    let node =
        try
            match JsonNode.Parse(File.ReadAllText path) with
            | :? JsonObject as o -> o
            | _ -> bad "not a JSON object"
        with :? JsonException as e -> bad (sprintf "not JSON (%s)" e.Message)
    if str node "format" <> Some manifestFormat then bad (sprintf "not a sweep manifest (format is not %s)" manifestFormat)
    let hash = str node "hash" |> Option.defaultWith (fun () -> bad "no hash")
    let body = node.DeepClone().AsObject()
    body.Remove "hash" |> ignore
    if sha256 (serialize body) <> hash then bad "its content does not match its hash (edited after planning?)"
    let shards = intOf node "shards" |> Option.defaultWith (fun () -> bad "no shards")
    let units =
        match node.["units"] with
        | :? JsonArray as a ->
            a |> Seq.mapi (fun i u ->
                match u with
                | :? JsonObject as u ->
                    match intOf u "index", str u "value", intOf u "shard", strings u "args" with
                    | Some idx, Some v, Some s, Some args when idx = i && s >= 0 && s < shards -> { Index = idx; Value = v; Shard = s; Args = args }
                    | _ -> bad (sprintf "unit %d is incomplete" i)
                | _ -> bad (sprintf "unit %d is not an object" i)) |> Array.ofSeq
        | _ -> bad "no units"
    { Path = path
      Dir = Path.GetDirectoryName path
      Hash = hash
      Version = str node "version" |> Option.defaultWith (fun () -> bad "no version")
      CommandLine = str node "commandLine" |> Option.defaultValue ""
      Command = strings node "command" |> Option.defaultWith (fun () -> bad "no command")
      Over = str node "over" |> Option.defaultWith (fun () -> bad "no over")
      Concat = strings node "concat" |> Option.map List.ofArray |> Option.defaultValue []
      Shards = shards
      Units = units
      Node = node }

// ---- plan --------------------------------------------------------------------------------------------------------

/// The `dotnet` that runs this program (the muxer), for the job script.
let private defaultDotnet () =
    let p = Environment.ProcessPath
    if not (isNull p) && Path.GetFileNameWithoutExtension p = "dotnet" then p
    else
        let onPath =
            (Environment.GetEnvironmentVariable "PATH" |> Option.ofObj |> Option.defaultValue "").Split(Path.PathSeparator)
            |> Array.map (fun d -> Path.Combine(d, "dotnet"))
            |> Array.tryFind File.Exists
        match Environment.GetEnvironmentVariable "DOTNET_HOST_PATH", onPath, Environment.GetEnvironmentVariable "DOTNET_ROOT" with
        | h, _, _ when not (String.IsNullOrEmpty h) && File.Exists h -> h
        | _, Some d, _ -> d
        | _, _, root when not (String.IsNullOrEmpty root) -> Path.Combine(root, "dotnet")
        | _ -> "dotnet"

/// theory.dll of this program (run as `dotnet theory.dll`).
let private defaultDll () = typeof<Host>.Assembly.Location

let private plan (host: Host) (baseTokens: string list) (out: string) (shards: int) (overOpt: string option) (valuesOpt: string option)
                 (unitDirOpt: string option) (time: string) (cpus: int) (jobName: string) (partition: string option)
                 (dotnet: string option) (dll: string option) (asJson: bool) =
    if baseTokens.IsEmpty then raise (UsageError "sweep plan: give the command to sweep after --, e.g. -- dmft phase-boundary --g 1.5:3:0.5")
    if List.head baseTokens = "sweep" then raise (UsageError "sweep plan: a sweep of a sweep is not supported")
    let parsed = host.Parse(Array.ofList baseTokens)
    if parsed.Errors.Count > 0 then
        let errors = parsed.Errors |> Seq.map (fun e -> e.Message.TrimEnd('.')) |> String.concat "; "
        raise (UsageError(sprintf "sweep plan: 'theory %s' does not parse: %s" (String.concat " " baseTokens) errors))
    let path = commandPath parsed
    let cmd = parsed.CommandResult.Command
    if isNull cmd.Action || cmd.Subcommands.Count > 0 then raise (UsageError(sprintf "sweep plan: 'theory %s' is not a command that computes something" path))
    let kind = kinds |> List.tryFind (fun k -> k.Path = path)
    // one or more swept options (--over --g,--neurons: a grid, first option outermost)
    let overs =
        match overOpt, kind with
        | Some o, _ -> o.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries)
        | None, Some k -> [| k.Over |]
        | None, None -> raise (UsageError(sprintf "sweep plan: 'theory %s' has no default swept option; give --over OPTION --values V1,V2,.." path))
    if overs.Length = 0 then raise (UsageError "sweep plan: --over: no option named")
    if (Array.distinct overs).Length <> overs.Length then raise (UsageError(sprintf "sweep plan: --over %s: an option named twice" (String.concat "," overs)))
    for over in overs do
        if not (over.StartsWith "--") then raise (UsageError(sprintf "sweep plan: --over %s: not an option name (--name)" over))
        if cmd.Options |> Seq.exists (fun o -> o.Name = over) |> not then
            raise (UsageError(sprintf "sweep plan: --over %s: 'theory %s' has no such option" over path))
    let over = String.concat "," overs
    let axisValues =
        match valuesOpt with
        | Some v ->
            let groups = v.Split(';', StringSplitOptions.TrimEntries)
            if groups.Length <> overs.Length then
                raise (UsageError(sprintf "sweep plan: --values: %d group(s) separated by ';' for %d swept option(s) (%s); give V1,V2,..;W1,W2,.. in the order of --over" groups.Length overs.Length over))
            groups |> Array.map (fun g -> g.Split(',', StringSplitOptions.RemoveEmptyEntries ||| StringSplitOptions.TrimEntries))
        | None ->
            overs |> Array.map (fun o ->
                match valuesFromBase parsed o with
                | Some vs -> vs
                | None -> raise (UsageError(sprintf "sweep plan: no list of %s values on the command line; give the swept values with --values V1,V2,.." o)))
    for (o, vs) in Array.zip overs axisValues do
        if vs.Length = 0 then raise (UsageError(sprintf "sweep plan: no values of %s to sweep over" o))
        if (Array.distinct vs).Length <> vs.Length then raise (UsageError(sprintf "sweep plan: --values: duplicate values of %s in %s" o (String.concat "," vs)))
    // the grid points in order (first option outermost): each a list of values, one per swept option
    let points =
        axisValues |> Array.fold (fun (acc: string list list) vs -> [ for a in acc do for v in vs -> a @ [ v ] ]) [ [] ] |> Array.ofList
    let values = points |> Array.map (String.concat ",")
    Validate.AtLeast("shards", shards, 1) |> ignore
    if shards > values.Length then
        raise (ParameterOutOfDomainException("shards", string shards, sprintf "between 1 and the number of units (%d)" values.Length))
    // the concatenated output only when the command's own option alone is swept (other axes change its other fields)
    let concat = match kind with Some k when k.Over = over -> k.Concat | _ -> []
    let unitDir = match unitDirOpt with Some d -> Some d | None -> kind |> Option.bind (fun k -> k.UnitDir)
    let outputOptions = [ "--csv" ] |> List.filter (fun o -> cmd.Options |> Seq.exists (fun x -> x.Name = o) && (optionToken baseTokens o).IsSome)
    if not outputOptions.IsEmpty then
        raise (UsageError(sprintf "sweep plan: %s is not supported in a sweep (every unit would write the same file); the merged result.json carries the results" (String.concat ", " outputOptions)))
    let unitFlags = match kind with Some k when Array.contains k.Over overs -> k.UnitFlags | _ -> []
    let baseNoJson = baseTokens |> List.filter (fun t -> t <> "--json" && not (List.contains t unitFlags))
    let unitArgs (i: int) (_: string) =
        let point = points.[i]
        let t = List.fold2 replaceOption baseNoJson (List.ofArray overs) point
        let t =
            match unitDir with
            | Some d ->
                match optionToken baseNoJson d with
                | Some dir -> replaceOption t d (Path.Combine(dir, sprintf "unit-%03d" i))
                | None -> t
            | None -> t
        t @ unitFlags @ [ "--json" ]
    let units = values |> Array.mapi (fun i v -> i, v, i % shards, unitArgs i v)
    // every unit must parse (a bad value is bad input now, not a failed job later)
    for (i, v, _, args) in units do
        let r = host.Parse(Array.ofList args)
        if r.Errors.Count > 0 then
            let errors = r.Errors |> Seq.map (fun e -> e.Message.TrimEnd('.')) |> String.concat "; "
            raise (UsageError(sprintf "sweep plan: unit %d (%s %s) does not parse: %s" i over v errors))
    let out = Path.GetFullPath out
    Directory.CreateDirectory out |> ignore
    Directory.CreateDirectory(Path.Combine(out, "logs")) |> ignore
    let manifestPath = Path.Combine(out, "manifest.json")
    let commandLine = "theory " + (baseTokens |> List.map shellQuote |> String.concat " ")
    let unitsJson = JsonArray()
    for (i, v, s, args) in units do
        unitsJson.Add(Json.Nested [ "index", Json.Int(int64 i); "value", Json.String v; "shard", Json.Int(int64 s); "args", strArray args ] :> JsonNode)
    let body =
        Json.Nested
            [ "format", Json.String manifestFormat
              "version", Json.String LibraryInfo.Version
              "command", strArray baseTokens
              "commandLine", Json.String commandLine
              "kind", Json.String path
              "over", Json.String over
              "combine", Json.String(if concat.IsEmpty then "list" else "concat")
              "concat", strArray concat
              "shards", Json.Int(int64 shards)
              "assignment", Json.String "round-robin: unit i runs in shard i mod shards"
              "workingDirectory", Json.String(Directory.GetCurrentDirectory())
              "units", (unitsJson :> JsonNode) ]
    let hash = sha256 (serialize body)
    body.["hash"] <- Json.String hash
    writeAtomic manifestPath (serialize body + "\n")
    // the job array: one task per shard, each `theory sweep run` with its index
    let dotnet = defaultArg dotnet (defaultDotnet ())
    let dll = Path.GetFullPath(defaultArg dll (defaultDll ()))
    let run = sprintf "%s %s" (shellQuote dotnet) (shellQuote dll)
    let script = Path.Combine(out, "sweep.sbatch")
    let lines =
        [ "#!/bin/bash"
          sprintf "# theory sweep (%s): %d units of %s in %d shards, manifest hash %s" LibraryInfo.Version values.Length over shards hash
          sprintf "# %s" commandLine
          sprintf "# submit: sbatch %s; when it is done: %s sweep merge --manifest %s" (shellQuote script) run (shellQuote manifestPath)
          sprintf "#SBATCH --job-name=%s" jobName
          sprintf "#SBATCH --array=0-%d" (shards - 1)
          sprintf "#SBATCH --cpus-per-task=%d" cpus
          sprintf "#SBATCH --time=%s" time
          "#SBATCH --ntasks=1"
          sprintf "#SBATCH --output=%s" (Path.Combine(out, "logs", "shard-%a.out"))
          sprintf "#SBATCH --error=%s" (Path.Combine(out, "logs", "shard-%a.err"))
          sprintf "#SBATCH --chdir=%s" (Directory.GetCurrentDirectory()) ]
        @ (match partition with Some p -> [ sprintf "#SBATCH --partition=%s" p ] | None -> [])
        @ [ "set -eu"
            sprintf "exec %s sweep run --manifest %s --shard \"$SLURM_ARRAY_TASK_ID\" --of %d" run (shellQuote manifestPath) shards ]
    writeAtomic script (String.concat "\n" lines + "\n")
    try File.SetUnixFileMode(script, UnixFileMode.UserRead ||| UnixFileMode.UserWrite ||| UnixFileMode.UserExecute ||| UnixFileMode.GroupRead ||| UnixFileMode.OtherRead)
    with _ -> ()
    Output.progress (sprintf "sweep plan: %d units of %s (%s) in %d shards" values.Length over path shards)
    Output.progress (sprintf "  submit:  sbatch %s" script)
    Output.progress (sprintf "  local:   theory sweep run-all --manifest %s   (or theory sweep run --manifest %s --shard I --of %d for each I)" manifestPath manifestPath shards)
    Output.progress (sprintf "  merge:   theory sweep merge --manifest %s" manifestPath)
    Output.emit asJson
        [ Output.str "manifest" manifestPath
          Output.str "script" script
          Output.str "hash" hash
          Output.str "command" commandLine
          Output.str "over" over
          Output.int "units" values.Length
          Output.int "shards" shards
          Output.str "combine" (if concat.IsEmpty then "list" else "concat")
          Output.str "submit" (sprintf "sbatch %s" script)
          Output.str "merge" (sprintf "%s sweep merge --manifest %s" run manifestPath) ]
    0

// ---- run -------------------------------------------------------------------------------------------------------

let private checkShard (m: Manifest) (shard: int) (of': int) =
    if of' <> m.Shards then
        raise (UsageError(sprintf "sweep run: --of %d does not match manifest %s (planned for %d shards)" of' m.Path m.Shards))
    if shard < 0 || shard >= m.Shards then
        raise (UsageError(sprintf "sweep run: --shard %d out of range: manifest %s has %d shards (0..%d)" shard m.Path m.Shards (m.Shards - 1)))
    if m.Version <> LibraryInfo.Version then
        raise (UsageError(sprintf "sweep run: manifest %s was planned with theory %s, this is %s (results would not be comparable; plan again)" m.Path m.Version LibraryInfo.Version))

/// Runs one shard's units in order and writes its file atomically; returns (file, ok, failed units).
let private runShard (host: Host) (m: Manifest) (shard: int) =
    let sw = Diagnostics.Stopwatch.StartNew()
    let units = m.UnitsOf shard
    Output.progress (sprintf "sweep run: shard %d of %d, %d unit(s) (%s)" shard m.Shards units.Length m.Path)
    let results = JsonArray()
    let failed = Collections.Generic.List<SweepUnit * int * string>()
    for u in units do
        Output.progress (sprintf "  unit %d: %s %s" u.Index m.Over u.Value)
        let t0 = sw.Elapsed.TotalSeconds
        let o = host.Run u.Args
        let seconds = Math.Round(sw.Elapsed.TotalSeconds - t0, 3)
        let parsed =
            if o.Code <> 0 then Error(o.Code, (if o.Error = "" then sprintf "exit code %d" o.Code else o.Error))
            else
                try
                    match JsonNode.Parse o.Stdout with
                    | :? JsonObject as r -> Ok r
                    | _ -> Error(1, "stdout is not one JSON object")
                with :? JsonException as e -> Error(1, sprintf "stdout is not one JSON object (%s)" e.Message)
        let common = [ "index", Json.Int(int64 u.Index); "value", Json.String u.Value ]
        match parsed with
        | Ok r ->
            results.Add(Json.Nested(common @ [ "status", Json.String "ok"; "exitCode", Json.Int 0L; "seconds", JsonValue.Create seconds :> JsonNode
                                               "result", (r :> JsonNode) ]) :> JsonNode)
        | Error(code, msg) ->
            Output.progress (sprintf "  unit %d failed (exit %d): %s" u.Index code msg)
            failed.Add((u, code, msg))
            results.Add(Json.Nested(common @ [ "status", Json.String "failed"; "exitCode", Json.Int(int64 code); "seconds", JsonValue.Create seconds :> JsonNode
                                               "error", Json.String msg ]) :> JsonNode)
    let file = m.ShardFile shard
    let doc =
        Json.Nested
            [ "format", Json.String shardFormat
              "manifestHash", Json.String m.Hash
              "version", Json.String LibraryInfo.Version
              "shard", Json.Int(int64 shard)
              "of", Json.Int(int64 m.Shards)
              "host", Json.String Environment.MachineName
              "slurmJobId", (match Environment.GetEnvironmentVariable "SLURM_ARRAY_JOB_ID" with null | "" -> null | s -> Json.String s)
              "units", (results :> JsonNode) ]
    writeAtomic file (serialize doc + "\n")
    Output.progress (sprintf "sweep run: shard %d done in %.1f s: %d ok, %d failed -> %s" shard sw.Elapsed.TotalSeconds (units.Length - failed.Count) failed.Count file)
    file, units.Length - failed.Count, List.ofSeq failed

let private runCommand (host: Host) (manifest: string) (shard: int) (of': int) (asJson: bool) =
    let m = loadManifest manifest
    checkShard m shard of'
    let file, ok, failed = runShard host m shard
    Output.emit asJson
        [ Output.str "shardFile" file; Output.int "shard" shard; Output.int "of" m.Shards; Output.int "ok" ok; Output.int "failed" failed.Length
          Output.str "manifestHash" m.Hash ]
    match failed with
    | [] -> 0
    | (u, code, msg) :: _ ->
        eprintfn "error: sweep run: shard %d: %d unit(s) failed, first unit %d (%s %s): %s (recorded in %s; merge refuses until the shard is re-run)"
            shard failed.Length u.Index m.Over u.Value msg file
        code

// ---- merge -------------------------------------------------------------------------------------------------------

/// The problems of one shard file ((file, why) list) and, when none, its units' results by index.
let private readShard (m: Manifest) (shard: int) : Result<(int * JsonObject) list, string list> =
    let file = m.ShardFile shard
    if not (File.Exists file) then Error [ sprintf "%s: missing (shard %d of %d has not run or not finished)" file shard m.Shards ]
    else
        let node =
            try
                match JsonNode.Parse(File.ReadAllText file) with
                | :? JsonObject as o -> Ok o
                | _ -> Error "corrupted: not a JSON object"
            with :? JsonException as e -> Error(sprintf "corrupted: not JSON (%s)" e.Message)
        match node with
        | Error why -> Error [ sprintf "%s: %s" file why ]
        | Ok o ->
            if str o "format" <> Some shardFormat then Error [ sprintf "%s: corrupted: not a shard file (format is not %s)" file shardFormat ]
            elif str o "manifestHash" <> Some m.Hash then
                Error [ sprintf "%s: from a different manifest (manifestHash %s; %s has %s)" file (defaultArg (str o "manifestHash") "none") m.Path m.Hash ]
            elif intOf o "shard" <> Some shard || intOf o "of" <> Some m.Shards then
                Error [ sprintf "%s: holds shard %s of %s, expected shard %d of %d" file (o.["shard"] |> Option.ofObj |> Option.map string |> Option.defaultValue "?")
                                                                                     (o.["of"] |> Option.ofObj |> Option.map string |> Option.defaultValue "?") shard m.Shards ]
            elif str o "version" <> Some m.Version then
                Error [ sprintf "%s: written by theory %s, the manifest by %s" file (defaultArg (str o "version") "?") m.Version ]
            else
                match o.["units"] with
                | :? JsonArray as a ->
                    let expected = m.UnitsOf shard |> Array.map (fun u -> u.Index) |> List.ofArray
                    let items =
                        a |> Seq.map (fun x ->
                            match x with
                            | :? JsonObject as u -> intOf u "index", u
                            | _ -> None, JsonObject()) |> List.ofSeq
                    let indices = items |> List.map fst
                    if indices |> List.exists Option.isNone then Error [ sprintf "%s: corrupted: a unit without an index" file ]
                    elif List.choose id indices <> expected then
                        Error [ sprintf "%s: covers units [%s], the manifest assigns [%s] to shard %d" file
                                    (indices |> List.choose id |> List.map string |> String.concat ", ") (expected |> List.map string |> String.concat ", ") shard ]
                    else
                        let problems, results =
                            items |> List.fold (fun (ps, rs) (idx, u) ->
                                let idx = idx.Value
                                let unit = m.Units.[idx]
                                match str u "status", u.["result"] with
                                | _ when str u "value" <> Some unit.Value ->
                                    (sprintf "%s: unit %d has value %s, the manifest %s" file idx (defaultArg (str u "value") "?") unit.Value) :: ps, rs
                                | Some "ok", (:? JsonObject as r) -> ps, (idx, r) :: rs
                                | Some "failed", _ ->
                                    (sprintf "%s: unit %d (%s %s) failed (exit %s): %s" file idx m.Over unit.Value
                                         (u.["exitCode"] |> Option.ofObj |> Option.map string |> Option.defaultValue "?") (defaultArg (str u "error") "")) :: ps, rs
                                | _ -> (sprintf "%s: corrupted: unit %d has no status ok with a result object" file idx) :: ps, rs) ([], [])
                        if problems.IsEmpty then Ok(List.rev results) else Error(List.rev problems)
                | _ -> Error [ sprintf "%s: corrupted: no units" file ]

/// The base command's output rebuilt from the units' (concat) or the list of unit results (list); problems if the
/// units disagree on a field that is not concatenated.
let private combine (m: Manifest) (results: JsonObject[]) : Result<JsonObject, string list> =
    if m.Concat.IsEmpty then
        let arr = JsonArray()
        for r in results do arr.Add(r.DeepClone())
        Ok(Json.Nested
               [ "command", Json.String m.CommandLine
                 "over", Json.String m.Over
                 "values", strArray (m.Units |> Array.map (fun u -> u.Value))
                 "version", Json.String m.Version
                 "results", (arr :> JsonNode) ])
    else
        let first = results.[0]
        let problems =
            [ for (i, r) in Array.indexed results do
                let keys r = (r: JsonObject) |> Seq.map (fun kv -> kv.Key) |> List.ofSeq
                if keys r <> keys first then yield sprintf "unit %d: its fields differ from unit 0's" i
                else
                    for kv in r do
                        if not (List.contains kv.Key m.Concat) then
                            let a = if isNull kv.Value then "null" else kv.Value.ToJsonString()
                            let b = if isNull first.[kv.Key] then "null" else first.[kv.Key].ToJsonString()
                            if a <> b then yield sprintf "unit %d: field '%s' is %s, unit 0 has %s (the units must agree outside %s)" i kv.Key a b (String.concat ", " m.Concat)
                        elif not (kv.Value :? JsonArray) then yield sprintf "unit %d: field '%s' is not an array" i kv.Key ]
        if not problems.IsEmpty then Error problems
        else
            let o = JsonObject()
            for kv in first do
                if List.contains kv.Key m.Concat then
                    let arr = JsonArray()
                    for r in results do
                        for x in r.[kv.Key].AsArray() do arr.Add(if isNull x then null else x.DeepClone())
                    o.[kv.Key] <- arr
                else o.[kv.Key] <- (if isNull kv.Value then null else kv.Value.DeepClone())
            Ok o

/// Checks every shard and, when all are present and whole, writes merged.json and result.json (atomically).
let mergeManifest (m: Manifest) =
    let read = [ for s in 0 .. m.Shards - 1 -> readShard m s ]
    let problems = read |> List.collect (function Error ps -> ps | Ok _ -> [])
    if not problems.IsEmpty then Error problems
    else
        let byIndex = read |> List.collect (function Ok rs -> rs | Error _ -> []) |> Map.ofList
        let results = m.Units |> Array.map (fun u -> byIndex.[u.Index])
        match combine m results with
        | Error ps -> Error(ps |> List.map (fun p -> sprintf "%s: %s" m.Path p))
        | Ok combined ->
            let units = JsonArray()
            for u in m.Units do
                units.Add(Json.Nested [ "index", Json.Int(int64 u.Index); "value", Json.String u.Value; "shard", Json.Int(int64 u.Shard)
                                        "args", strArray u.Args; "result", byIndex.[u.Index].DeepClone() ] :> JsonNode)
            let merged =
                Json.Nested
                    [ "format", Json.String mergedFormat
                      "manifestHash", Json.String m.Hash
                      "version", Json.String m.Version
                      "command", Json.String m.CommandLine
                      "over", Json.String m.Over
                      "shards", Json.Int(int64 m.Shards)
                      "combine", Json.String(if m.Concat.IsEmpty then "list" else "concat")
                      "units", (units :> JsonNode)
                      "result", (combined.DeepClone()) ]
            let mergedFile = Path.Combine(m.Dir, "merged.json")
            let resultFile = Path.Combine(m.Dir, "result.json")
            writeAtomic mergedFile (serialize merged + "\n")
            // exactly what `theory <base command> --json` prints (one object and a newline)
            writeAtomic resultFile (serialize combined + Environment.NewLine)
            // the phase diagrams: one CSV/PNG set from all the units' output folders, in DIR/combined
            let combinedFiles =
                match kinds |> List.tryFind (fun k -> Some k.Path = str m.Node "kind") with
                | Some { Finish = Some finish; UnitDir = Some opt } ->
                    let dirs = m.Units |> Array.map (fun u -> optionToken (List.ofArray u.Args) opt)
                    if dirs |> Array.forall Option.isSome then
                        finish (Path.Combine(m.Dir, "combined")) [ for (u, d) in Array.zip m.Units dirs -> d.Value, byIndex.[u.Index] ]
                    else []
                | _ -> []
            Ok(mergedFile, resultFile, combinedFiles)

let private mergeCommand (manifest: string) (asJson: bool) =
    let m = loadManifest manifest
    match mergeManifest m with
    | Error problems ->
        for p in problems do Output.progress (sprintf "  %s" p)
        raise (UsageError(sprintf "sweep merge: %d problem(s), nothing merged: %s" problems.Length (String.concat "; " problems)))
    | Ok(mergedFile, resultFile, combinedFiles) ->
        Output.progress (sprintf "sweep merge: %d units from %d shards -> %s, %s" m.Units.Length m.Shards mergedFile resultFile)
        for f in combinedFiles do Output.progress (sprintf "  combined: %s" f)
        Output.emit asJson
            [ Output.str "merged" mergedFile; Output.str "result" resultFile; Output.int "units" m.Units.Length; Output.int "shards" m.Shards
              Output.str "manifestHash" m.Hash; Output.strs "combined" combinedFiles ]
        0

let private runAll (host: Host) (manifest: string) (asJson: bool) =
    let m = loadManifest manifest
    checkShard m 0 m.Shards
    let failed = [ for s in 0 .. m.Shards - 1 do let _, _, f = runShard host m s in yield! f ]
    match failed with
    | (u, code, msg) :: _ ->
        eprintfn "error: sweep run-all: %d unit(s) failed, first unit %d (%s %s): %s; nothing merged" failed.Length u.Index m.Over u.Value msg
        code
    | [] -> mergeCommand manifest asJson

// ---- the command ---------------------------------------------------------------------------------------------------

/// `theory sweep plan|run|run-all|merge`.
let command (host: Host) =
    Cli.group "sweep" "sharded sweeps: plan a job array over one option of a command, run a shard, merge (SLURM or local)" [
        Cli.command "plan" "write DIR/manifest.json and DIR/sweep.sbatch (a SLURM job array) for the command after --" (fun cmd ->
            let out = Cli.requiredString cmd "--out" "folder DIR for the manifest, the job script, the shard files and the merged result"
            let shards = Cli.requiredInt cmd "--shards" "number of shards K (array tasks); allowed: 1 .. number of units"
            let over = Cli.optionalString cmd "--over" "the option swept, e.g. --g, or a grid of options --g,--neurons (first outermost) (default: the command's own: --g for dmft phase-boundary, finite-size and simulate phase-diagram, --b-range for regularities phase-diagram, --seed for closed-loop train)"
            let values = Cli.optionalString cmd "--values" "the swept values V1,V2,.., for a grid one group per option: V1,V2;W1,W2 (default: the values of the swept options on the command line)"
            let unitDir = Cli.optionalString cmd "--unit-dir" "an option naming an output folder, made per unit (DIR/unit-NNN); default --out for the phase diagrams"
            let time = Cli.string cmd "--time" "01:00:00" "SLURM time limit per shard (#SBATCH --time)"
            let cpus = Cli.int cmd "--cpus" 2 "CPUs per shard (#SBATCH --cpus-per-task); allowed: >= 1"
            let jobName = Cli.string cmd "--job-name" "theory-sweep" "SLURM job name"
            let partition = Cli.optionalString cmd "--partition" "SLURM partition (default: the cluster's default)"
            let dotnet = Cli.optionalString cmd "--dotnet" "the dotnet executable the job runs (default: the one running this program)"
            let dll = Cli.optionalString cmd "--theory-dll" "theory.dll the job runs (default: this program's)"
            let json = Cli.json cmd
            let baseCmd = System.CommandLine.Argument<string[]>("command", Description = "the command to sweep, after --", Arity = System.CommandLine.ArgumentArity.ZeroOrMore)
            cmd.Arguments.Add baseCmd
            fun r ->
                Validate.AtLeast("cpus", r.GetValue cpus, 1) |> ignore
                plan host (r.GetValue baseCmd |> Option.ofObj |> Option.map List.ofArray |> Option.defaultValue []) (r.GetValue out) (r.GetValue shards)
                     (r.GetValue over) (r.GetValue values) (r.GetValue unitDir) (r.GetValue time) (r.GetValue cpus) (r.GetValue jobName)
                     (r.GetValue partition) (r.GetValue dotnet) (r.GetValue dll) (r.GetValue json))
        Cli.command "run" "run one shard of a planned sweep and write DIR/shard-I.json (atomically)" (fun cmd ->
            let manifest = Cli.requiredString cmd "--manifest" "the sweep's manifest.json"
            let shard = Cli.requiredInt cmd "--shard" "shard index I; allowed: 0 .. K-1 (SLURM: $SLURM_ARRAY_TASK_ID)"
            let of' = Cli.requiredInt cmd "--of" "number of shards K; must match the manifest"
            let json = Cli.json cmd
            fun r -> runCommand host (r.GetValue manifest) (r.GetValue shard) (r.GetValue of') (r.GetValue json))
        Cli.command "run-all" "run every shard here, one after another, then merge (no SLURM needed)" (fun cmd ->
            let manifest = Cli.requiredString cmd "--manifest" "the sweep's manifest.json"
            let json = Cli.json cmd
            fun r -> runAll host (r.GetValue manifest) (r.GetValue json))
        Cli.command "merge" "check every shard file and write DIR/merged.json and DIR/result.json; exit 2 naming missing, failed or corrupted shards (nothing written)" (fun cmd ->
            let manifest = Cli.requiredString cmd "--manifest" "the sweep's manifest.json"
            let json = Cli.json cmd
            fun r -> mergeCommand (r.GetValue manifest) (r.GetValue json)) ]

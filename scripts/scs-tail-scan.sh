#!/usr/bin/env bash
# SCS Δ(τ) tail-excess scan (issue 18, docs/scs.md "Tail excess: where it comes from").
# Varies one of N, the recording window T, the transient T0 and the RK4 step dt at a time around the base setting
# g = 2 and writes, per scan, a CSV (one row per value, seed and lag; header carries the version and the seeds) and the
# JSON summary (mean excess ± seed-to-seed s.e. per value, weighted fit a + b·x with x = 1/value or dt⁴).
#   scripts/scs-tail-scan.sh [OUTDIR]          (default out/scs-tail; ≈ 20 min on 2 cores)
# Environment: THEORY (command, default: dotnet src/Theory.Cli/bin/Release/net10.0/theory.dll), SEEDS (default 16),
# BASE_SEED (default 1), LAGS (default 5.4,10.8,16: τ½, 2τ½, 3τ½ at g = 2).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/scs-tail}
mkdir -p "$out"
theory=${THEORY:-dotnet src/Theory.Cli/bin/Release/net10.0/theory.dll}
seeds=${SEEDS:-16}
base=${BASE_SEED:-1}
lags=${LAGS:-5.4,10.8,16}
scan() {  # name, then arguments of `theory simulate rate-tail-scan`
  local name=$1; shift
  $theory simulate rate-tail-scan --g 2 --base-seed "$base" --lags "$lags" --csv "$out/$name.csv" --json "$@" > "$out/$name.json"
}
# finite N (window 200, transient 400); N = 2000 with half the seeds (4× the cost of N = 1000)
scan n-small      --param n --values 250,500,1000 --seeds "$seeds"
scan n-2000       --param n --values 2000 --seeds $(( seeds / 2 ))
# window T, transient T0 and dt at N = 500 (larger excess, 1/8 of the cost of N = 1000); same seeds for every value
scan t500         --param t --values 100,200,400,800 --n 500 --seeds "$seeds"
scan transient500 --param transient --values 100,200,400,800 --n 500 --seeds "$seeds"
scan dt500        --param dt --values 0.05,0.1,0.2 --n 500 --seeds "$seeds"

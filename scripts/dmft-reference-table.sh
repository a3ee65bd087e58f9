#!/usr/bin/env bash
# The N = ∞ reference numbers that replace research note dmft-learned.md §7.5 (issue 15, item 7;
# docs/dmft-nonlinear.md, "Reference numbers"): tanh, no input, y* = sin(2πt/10) on [0, 10), g = 1.5, Δt = 0.2
# (n = 50), process noise 0.01, at γ = 0, 0.25, 0.5, 0.75, 1. Each γ is one `theory dmft saddle` call:
#   * S = 4000 particles, SEEDS cold replicas (`--seeds`: errors the larger of the seed spread and the solves' own),
#     with the default finite-S bias check (as many S/2 = 2000 partners; Richardson bias and S → ∞ value);
#   * S = 8000, SEEDS_8000 replicas, no bias check: an independent test of the 1/S law the Richardson value assumes.
# Then scripts/dmft-reference-table.py writes the table (markdown) from the JSON files.
#   scripts/dmft-reference-table.sh [OUTDIR]      (default out/dmft-reference; ≈ 10 min on 2 cores)
# Environment: THEORY (command, default: dotnet src/Theory.Cli/bin/Release/net10.0/theory.dll), SEEDS (default 8),
# SEEDS_8000 (default 4), SEED (the first seed, default 1), GAMMAS (default 0,0.25,0.5,0.75,1).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-out/dmft-reference}
mkdir -p "$out"
theory=${THEORY:-dotnet src/Theory.Cli/bin/Release/net10.0/theory.dll}
seeds=${SEEDS:-8}
seeds8000=${SEEDS_8000:-4}
seed=${SEED:-1}
gammas=${GAMMAS:-0,0.25,0.5,0.75,1}
# A solve that fails (exit 3: not converged, with its diagnosis on stderr) leaves an empty JSON file; the table marks that
# γ and the script goes on, and exits 3 at the end.
failed=0
run() {  # output name, then the arguments of `theory dmft saddle`
  local name=$1; shift
  if ! $theory dmft saddle "$@" --json > "$out/$name.json" 2> "$out/$name.err"; then
    echo "failed: $name (see $out/$name.err)" >&2
    failed=1
  fi
}
for gm in ${gammas//,/ }; do
  run "s4000-gamma$gm" --g 1.5 --gamma "$gm" --samples 4000 --seeds "$seeds" --seed "$seed"
  if [ "$gm" != "0" ]; then   # γ = 0 is the exact march: no iteration, no finite-S bias to test
    run "s8000-gamma$gm" --g 1.5 --gamma "$gm" --samples 8000 --seeds "$seeds8000" --seed "$seed" --no-bias-check
  fi
done
python3 scripts/dmft-reference-table.py "$out" > "$out/table.md"
cat "$out/table.md"
exit $(( failed ? 3 : 0 ))

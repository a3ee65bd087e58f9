#!/usr/bin/env bash
# Issue 17 item 2: the free runs of the Metzner phase diagram (4410 networks, N = 50, 2000 steps) in the library
# (PhaseDiagramFreeRunBench: BenchmarkDotNet, or --quick for a stopwatch median of 3) and in numpy
# (bench/numpy_phase_diagram.py, batched over the networks), in one run; prints numpy time / library time (> 1 = the
# library is faster). Needs Debian's python3-numpy (sudo apt-get install -y python3-numpy libopenblas0-pthread).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
numpy_json=$("$PY" bench/numpy_phase_diagram.py)
dotnet build bench/Theory.Bench -c Release -v q -nologo >/dev/null
dll=bench/Theory.Bench/bin/Release/net10.0/Theory.Bench.dll
if [ "${1:-}" = "--quick" ]; then
  line=$(dotnet "$dll" --quick-phase-diagram)
  lib_s=$(echo "$line" | sed -E 's/.*median ([0-9.]+) s.*/\1/')
else
  rm -rf BenchmarkDotNet.Artifacts/results/*PhaseDiagramFreeRunBench*
  dotnet "$dll" --filter '*PhaseDiagramFreeRunBench*' --exporters json >/dev/null
  report=$(ls BenchmarkDotNet.Artifacts/results/*PhaseDiagramFreeRunBench*-report-full*.json | head -n 1)
  lib_s=$("$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print(r['Benchmarks'][0]['Statistics']['Median']/1e9)" "$report")
fi
export NUMPY_JSON="$numpy_json" LIB_S="$lib_s"
"$PY" - <<'PYEOF'
import json, os
np = json.loads(os.environ["NUMPY_JSON"]); lib = float(os.environ["LIB_S"])
print(f"4410 free runs (N = 50, 2000 steps): theory {lib:.3f} s, numpy {np['numpy']} {np['seconds']:.3f} s, speed-up {np['seconds']/lib:.2f}x")
PYEOF

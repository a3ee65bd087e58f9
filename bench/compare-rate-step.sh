#!/usr/bin/env bash
# Issue 17 item 1: the library's forward-Euler rate step (BenchmarkDotNet, RateStepBench, both DenseKernels backends)
# against numpy + OpenBLAS doing the same work (bench/numpy_rate_step.py), in one run on one machine; prints the
# ratios library/numpy (< 1 = the library is faster). Needs Debian's python3-numpy and libopenblas0-pthread:
#   sudo apt-get install -y python3-numpy libopenblas0-pthread
# Usage: bench/compare-rate-step.sh [--quick]   (--quick: stopwatch medians instead of BenchmarkDotNet, ~20 s)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
numpy_json=$("$PY" bench/numpy_rate_step.py)
dotnet build bench/Theory.Bench -c Release -v q -nologo >/dev/null
dll=bench/Theory.Bench/bin/Release/net10.0/Theory.Bench.dll
if [ "${1:-}" = "--quick" ]; then
  lib_lines=$(dotnet "$dll" --quick-rate-step)
  export NUMPY_JSON="$numpy_json" LIB_LINES="$lib_lines"
  "$PY" - <<'PYEOF'
import json, os, re
np = {r["n"]: r for r in json.loads(os.environ["NUMPY_JSON"])["results"]}
print("backend   N     step ms (numpy)      ratio | batch16 ms (numpy)     ratio")
for line in os.environ["LIB_LINES"].splitlines():
    m = re.match(r"(\w+) N=(\d+): step ([\d.]+) ms, batch16 ([\d.]+) ms", line)
    if not m: continue
    b, n, s, t = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4))
    print(f"{b:9} {n:5} {s:8.4f} ({np[n]['single_ms']:8.4f}) {s/np[n]['single_ms']:6.2f} | {t:8.4f} ({np[n]['batch16_ms']:8.4f}) {t/np[n]['batch16_ms']:6.2f}")
PYEOF
  exit 0
fi
rm -rf BenchmarkDotNet.Artifacts/results/*RateStepBench*
dotnet "$dll" --filter '*RateStepBench*' --exporters json >/dev/null
report=$(ls BenchmarkDotNet.Artifacts/results/*RateStepBench*-report-full*.json | head -n 1)
export NUMPY_JSON="$numpy_json" REPORT="$report"
"$PY" - <<'PYEOF'
import json, os
np = {r["n"]: r for r in json.loads(os.environ["NUMPY_JSON"])["results"]}
rep = json.load(open(os.environ["REPORT"]))
rows = {}
for b in rep["Benchmarks"]:
    params = dict(p.split("=") for p in b["Parameters"].split("&"))
    key = (params["Backend"], int(params["N"]))
    rows.setdefault(key, {})[b["Method"]] = b["Statistics"]["Median"] / 1e6
print(json.loads(os.environ["NUMPY_JSON"])["numpy"], "numpy; BenchmarkDotNet medians; ratio = library / numpy")
print("backend   N     step ms (numpy)      ratio | batch16 ms (numpy)     ratio")
for (backend, n), r in sorted(rows.items()):
    s, t = r["EulerStep"], r["EulerStepBatch16"]
    print(f"{backend:9} {n:5} {s:8.4f} ({np[n]['single_ms']:8.4f}) {s/np[n]['single_ms']:6.2f} | {t:8.4f} ({np[n]['batch16_ms']:8.4f}) {t/np[n]['batch16_ms']:6.2f}")
PYEOF

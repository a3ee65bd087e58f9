#!/usr/bin/env python3
"""Markdown tables of the N = ∞ reference numbers (scripts/dmft-reference-table.sh writes the JSON files).

Per summary (mean_k C_kk, y*ᵀC⁻¹y*, mean_k C(t_k, t_k + T/2), excess kurtosis of x(T/2)) and γ: the S = 4000 replicas'
mean ± error (the larger of the seed spread and the solves' own errors), the S/2 = 2000 partners' mean, the Richardson
bias of the S = 4000 value and its S → ∞ extrapolation, the S = 8000 replicas, and the check of the 1/S law: the
S = 8000 value predicted from S = 4000 and its bias (v(4000) − bias/2) against the measured one, in combined σ.
"""
import glob, json, math, os, re, sys

out = sys.argv[1] if len(sys.argv) > 1 else "out/dmft-reference"

failed = []

def load(pattern):
    runs = {}
    for f in glob.glob(os.path.join(out, pattern)):
        gm = float(re.search(r"gamma([0-9.]+)\.json$", f).group(1))
        text = open(f).read()
        if not text.strip():   # the solve failed (exit 3); its .err holds the diagnosis
            failed.append(os.path.basename(f))
            continue
        runs[gm] = json.loads(text)
    return runs

s4, s8 = load("s4000-gamma*.json"), load("s8000-gamma*.json")
if not s4:
    sys.exit(f"no s4000-gamma*.json in {out}")
if failed:
    print("**Failed solves** (no JSON; the diagnosis is in the .err file): " + ", ".join(sorted(failed)) + "\n")
first = next(iter(s4.values()))
print(f"Library {first.get('version')}; g = {first['g']}, dt = {first['dt']}, period = {first['period']}, noise = {first['noise']}; "
      f"seeds from {first['seed']}: {first['seeds']} at S = 4000 (bias check: as many S/2 partners), "
      f"{next(iter(s8.values()))['seeds'] if s8 else 0} at S = 8000.\n")

def fmt(v, e):
    if v is None:
        return "—"
    # an error at rounding level (exact values, e.g. γ = 0, whose replicas agree to the last bits) prints as exact
    if e is None or not math.isfinite(e) or e <= 1e-12 * max(1.0, abs(v)):
        return f"{v:.5f}"
    digits = max(0, 2 - int(math.floor(math.log10(e))))
    return f"{v:.{digits}f} ± {e:.{digits}f}"

names = [("meanActivity", "mean_k C_kk"), ("targetAlignment", "y*ᵀC⁻¹y*"),
         ("halfWindowCorrelation", "mean_k C(t_k, t_k + T/2)"), ("midWindowKurtosis", "excess kurtosis of x(T/2)")]
for key, title in names:
    print(f"**{title}**\n")
    print("| γ | S = 4000 | S/2 = 2000 | bias of S = 4000 | S → ∞ (Richardson) | S = 8000 | S = 8000 predicted | σ |")
    print("|---|---|---|---|---|---|---|---|")
    for gm in sorted(s4):
        d = s4[gm]
        st = d[key]
        b = (d.get("finiteSampleBias") or {}).get(key)
        row = [f"{gm:g}", fmt(st["mean"], st["standardError"])]
        if b:
            row += [fmt(b["halfValue"], b["halfError"]), fmt(b["bias"], b["biasError"]), fmt(b["extrapolated"], b["extrapolatedError"])]
        else:
            row += ["—", "—", "—"]
        e8 = s8.get(gm)
        if e8 and b:
            m8 = e8[key]
            pred = st["mean"] - b["bias"] / 2.0
            # the prediction's error: the S value's and half the bias's, which share the S value (propagated exactly:
            # v4 − (h − v4)/2 = 1.5·v4 − 0.5·h)
            pe = math.hypot(1.5 * b["error"], 0.5 * b["halfError"])
            comb = math.hypot(pe, m8["standardError"])
            sig = (m8["mean"] - pred) / comb if comb > 0 else float("nan")
            row += [fmt(m8["mean"], m8["standardError"]), fmt(pred, pe), f"{sig:+.1f}"]
        else:
            row += ["—", "—", "—"]
        print("| " + " | ".join(row) + " |")
    print()

print("**Solves** (S = 4000 replicas): iterations per solve, mean ‖C − Ĉ‖/‖C‖ over the last window against its noise floor, warnings\n")
print("| γ | iterations | residual / floor | warnings |")
print("|---|---|---|---|")
for gm in sorted(s4):
    d = s4[gm]
    per = d.get("perSeed", [])
    its = [p["iterations"] for p in per]
    res = [p["cResidual"] / p["cNoiseFloor"] for p in per if p.get("cNoiseFloor")]
    print(f"| {gm:g} | {min(its) if its else 0}–{max(its) if its else 0} | "
          f"{(sum(res) / len(res)) if res else float('nan'):.2f} | {len(d.get('warnings', []))} |")

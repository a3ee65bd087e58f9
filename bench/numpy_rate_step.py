#!/usr/bin/env python3
"""Baseline for bench/Theory.Bench/RateStepBench.cs (issue 17 item 1): the same forward-Euler step in numpy + OpenBLAS.

  single: x += dt*(-x + J @ tanh(x))            (one network, N = 500, 2000, 4000)
  batch:  X += dt*(-X + tanh(X) @ J.T)          (16 states sharing J, one matrix-matrix product)

Prints one JSON object {"numpy": version, "blas": ..., "results": [{"n", "single_ms", "batch16_ms"}]}: medians of 7
timed blocks after a warm-up, J ~ N(0, g^2/N) with g = 1.5 from a fixed seed. Needs Debian's python3-numpy (with
libopenblas0-pthread installed, numpy runs on OpenBLAS). Run through bench/compare-rate-step.sh.
"""
import json
import time

import numpy as np


def median_ms(step, reps):
    for _ in range(5):
        step()
    times = []
    for _ in range(7):
        t = time.perf_counter()
        for _ in range(reps):
            step()
        times.append((time.perf_counter() - t) / reps * 1e3)
    times.sort()
    return times[3]


def main():
    dt, g, batch = 0.1, 1.5, 16
    rows = []
    for n in (500, 2000, 4000):
        rng = np.random.default_rng(1)
        J = rng.standard_normal((n, n)) * (g / np.sqrt(n))
        x = rng.standard_normal(n)
        X = rng.standard_normal((batch, n))
        reps = max(20, int(2e9 / (8.0 * n * n)))

        def single():
            x[:] += dt * (-x + J @ np.tanh(x))

        def batched():
            X[:] += dt * (-X + np.tanh(X) @ J.T)

        rows.append({"n": n, "single_ms": median_ms(single, reps), "batch16_ms": median_ms(batched, max(5, reps // 8))})
    blas = "unknown"
    try:
        info = np.__config__.get_info("blas_opt_info") if hasattr(np.__config__, "get_info") else {}
        blas = ",".join(info.get("libraries", [])) or blas
    except Exception:
        pass
    print(json.dumps({"numpy": np.__version__, "blas": blas, "batch": batch, "results": rows}))


if __name__ == "__main__":
    main()

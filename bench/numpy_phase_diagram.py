#!/usr/bin/env python3
"""Baseline for bench/Theory.Bench/PhaseDiagramFreeRunBench.cs (issue 17 item 2): the free runs of the Metzner et al.
phase diagram in numpy, the same work: 4410 networks (21 x 21 points x 10 matrices) of N = 50, 2000 steps
x <- tanh(W x + beta) (1000 transient, 1000 recorded), and per network the mean over neurons of the temporal standard
deviation of the recorded states. All networks step together (batched matmul over the stack of 4410 matrices, the
fastest numpy formulation; a Python loop per network is far slower). Generation is not timed. Prints one JSON object
{"numpy", "networks", "seconds", "meanFluctuation"}: the median of 3 runs.
"""
import json
import time

import numpy as np


def run(W, beta, x0, transient=1000, steps=1000):
    x = x0.copy()
    for _ in range(transient):
        x = np.tanh(np.matmul(W, x[:, :, None])[:, :, 0] + beta)
    s = np.zeros_like(x)
    s2 = np.zeros_like(x)
    for _ in range(steps):
        x = np.tanh(np.matmul(W, x[:, :, None])[:, :, 0] + beta)
        s += x
        s2 += x * x
    mean = s / steps
    return np.sqrt(np.maximum(0.0, s2 / steps - mean * mean)).mean(axis=1)


def main():
    rng = np.random.default_rng(11)
    B, n = 21 * 21 * 10, 50
    widths = np.repeat(0.03 * (np.arange(21) + 1), 10)
    widths = np.tile(widths, 21)
    balance = np.repeat(-1.0 + 0.1 * np.arange(21), 210)
    W = rng.standard_normal((B, n, n)) * widths[:, None, None] + balance[:, None, None] * widths[:, None, None]
    beta = 0.01 * rng.standard_normal((B, n))
    x0 = rng.uniform(-1.0, 1.0, (B, n))
    times, fluct = [], None
    for _ in range(3):
        t = time.perf_counter()
        fluct = run(W, beta, x0)
        times.append(time.perf_counter() - t)
    times.sort()
    print(json.dumps({"numpy": np.__version__, "networks": B, "seconds": times[1], "meanFluctuation": float(fluct.mean())}))


if __name__ == "__main__":
    main()

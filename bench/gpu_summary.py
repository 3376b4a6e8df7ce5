#!/usr/bin/env python3
"""Reads bench_gpu's JSON and torch_baseline.py's JSON of one GPU run and prints each of the
CUDA backend's speed goals beside the measured figure:

  - the pass at N = 1e8, K = 2 (float32 x) within 1.25x of the bandwidth floor for reading
    4 bytes per sample at the copy bandwidth measured in the same run;
  - at most 15 us per Adam iteration beyond the pass at N = 1e7;
  - at least 100x faster per iteration than the PyTorch approach at N = 1e7;
  - the sampler at >= 30e9 float32 samples/s.

Usage: python3 bench/gpu_summary.py bench_gpu.json torch_cuda.json
"""

import json
import sys


def row(rows, what, n, k):
    for r in rows:
        if r["what"] == what and r["n"] == n and r["k"] == k:
            return r
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        bench = json.load(f)
    with open(sys.argv[2]) as f:
        torch = json.load(f)
    rows = bench["rows"]
    copy = bench["copy_gb_per_s"]
    print(f"device: {bench['device']}, copy bandwidth {copy:.1f} GB/s (read + write)")

    def goal(text, met):
        print(f"  {text}: {'met' if met else 'NOT met'}")

    p = row(rows, "pass x", 100000000, 2)
    if p:
        floor_us = 4.0 * 1e8 / (copy * 1e3)
        ratio = p["us_per_op"] / floor_us
        goal(f"pass N = 1e8, K = 2: {p['us_per_op']:.1f} us, floor {floor_us:.1f} us, "
             f"{ratio:.2f}x the floor (goal <= 1.25x)", ratio <= 1.25)
    n = torch["n"]
    it = row(rows, "adam iteration", n, torch["k"])
    ps = row(rows, "pass x", n, torch["k"])
    if it and ps:
        extra = it["us_per_op"] - ps["us_per_op"]
        goal(f"Adam iteration N = {n:.0e}: {it['us_per_op']:.1f} us, pass {ps['us_per_op']:.1f} "
             f"us, {extra:.1f} us beyond the pass (goal <= 15 us)", extra <= 15.0)
        for what in ("backend.pass", "backend.pass nograph"):
            b = row(rows, what, n, torch["k"])
            if b:
                print(f"  {what}: {b['us_per_op']:.1f} us, {b['us_per_op'] - ps['us_per_op']:.1f}"
                      " us beyond the kernels")
        ratio = torch["ms_per_iteration"] * 1e3 / it["us_per_op"]
        goal(f"PyTorch {torch['ms_per_iteration']:.3f} ms per iteration on {torch['device']}: "
             f"{ratio:.0f}x (goal >= 100x)", ratio >= 100.0)
    h2d = [r for r in rows if r["what"] == "h2d copy"]
    streamed = [r for r in rows if r["what"] == "backend.pass stream"]
    if h2d and streamed:
        big = max(streamed, key=lambda r: (r["n"], -r["k"]))
        print(f"  streamed from host memory, N = {big['n']:.0e}, K = {big['k']}: "
              f"{big['gb_per_s']:.1f} GB/s against {h2d[0]['gb_per_s']:.1f} GB/s host to device "
              f"({big['gb_per_s'] / h2d[0]['gb_per_s']:.2f} of the link)")
    s = [r for r in rows if r["what"] == "sample f32"]
    if s:
        rate = s[0]["samples_per_s"]
        goal(f"sampler float32: {rate:.3e} samples/s (goal >= 3e10)", rate >= 3e10)


if __name__ == "__main__":
    main()

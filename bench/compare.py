#!/usr/bin/env python3
"""Time betamix's CPU Adam iteration against the PyTorch baseline on the same data.

1. Draws N samples of the demo mixture 0.5 Beta(10, 1.5) + 0.5 Beta(1.5, 10) with numpy's
   Beta sampler (fixed seed) into a raw little-endian float64 file, unless --data names one.
2. Runs torch_baseline.py on it (full-batch Adam, forward + backward + step per iteration).
3. Runs bench_cpu --data on it with the same thread count and the PyTorch result as baseline
   (one whole betamix Adam iteration, the pass alone, the bandwidth floor).
4. Times `betamix demo --device cpu` when the command-line tool exists.
5. Prints the per-iteration time of each, the ratio PyTorch / betamix and the issue's goals:
   ratio >= 50 at N = 1e6, K = 2 with the same threads, and the demo under 1 s.

Example (from the repository root, after building bench_cpu into build-bench):
    python3 bench/compare.py --build-dir build-bench --threads 2 --json compare.json
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RATIO_GOAL = 50.0
DEMO_GOAL_S = 1.0


def write_demo_data(path, n, seed):
    """N samples of the demo mixture, float64, strictly inside (0,1)."""
    rng = np.random.default_rng(seed)
    first = rng.random(n) < 0.5
    x = np.where(first, rng.beta(10.0, 1.5, n), rng.beta(1.5, 10.0, n))
    x = np.clip(x, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))
    x.astype("<f8").tofile(path)


def run(cmd, **kw):
    """Runs cmd, echoing it and its output; exits on failure."""
    print("$ " + " ".join(cmd), flush=True)
    done = subprocess.run(cmd, text=True, capture_output=True, **kw)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"compare: {cmd[0]} failed with exit code {done.returncode}")
    return done


def time_demo(cli, threads, reps):
    """Median wall time in seconds of `betamix demo --device cpu`, and its last output."""
    cmd = [cli, "demo", "--device", "cpu", "--threads", str(threads)]
    times, out = [], ""
    for _ in range(reps):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, text=True, capture_output=True)
        times.append(time.perf_counter() - t0)
        out = done.stdout + done.stderr
        if done.returncode != 0:
            print(out)
            return None, " ".join(cmd), out
    return statistics.median(times), " ".join(cmd), out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=float, default=1e6, help="number of samples (default 1e6)")
    p.add_argument("--k", type=int, default=2, help="number of components (default 2)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help="threads for both (default: all cores)")
    p.add_argument("--iters", type=int, default=30, help="timed PyTorch iterations (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="PyTorch warm-up iterations")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="PyTorch tensor type (default float32, as the notebook)")
    p.add_argument("--seed", type=int, default=12345, help="seed of the generated data")
    p.add_argument("--data", help="use this raw float64 file instead of generating one")
    p.add_argument("--build-dir", default=os.path.join(REPO, "build"),
                   help="CMake build folder holding bench/bench_cpu and betamix")
    p.add_argument("--demo-reps", type=int, default=3, help="runs of betamix demo (median)")
    p.add_argument("--json", help="write both rows and the ratio to this file")
    return p.parse_args()


def main():
    args = parse_args()
    bench = os.path.join(args.build_dir, "bench", "bench_cpu")
    cli = os.path.join(args.build_dir, "betamix")
    if not os.access(bench, os.X_OK):
        sys.exit(f"compare: {bench} not found; build the bench_cpu target first")

    with tempfile.TemporaryDirectory(prefix="betamix-compare-") as tmp:
        data = args.data
        if not data:
            data = os.path.join(tmp, "data.f64")
            write_demo_data(data, int(args.n), args.seed)
            print(f"data: {int(args.n)} samples of the demo mixture (numpy, seed {args.seed})"
                  f" -> {data}")
        torch_json = os.path.join(tmp, "torch.json")
        betamix_json = os.path.join(tmp, "betamix.json")
        run([sys.executable, os.path.join(HERE, "torch_baseline.py"), "--data", data,
             "--k", str(args.k), "--iters", str(args.iters), "--warmup", str(args.warmup),
             "--threads", str(args.threads), "--dtype", args.dtype, "--json", torch_json])
        # betamix runs as many Adam steps as PyTorch did, so the final NLLs are comparable.
        steps = args.warmup + args.iters
        run([bench, "--data", data, "--k", str(args.k), "--threads", str(args.threads),
             "--iters", str(steps), "--baseline", torch_json, "--json", betamix_json])
        with open(torch_json) as f:
            t = json.load(f)
        with open(betamix_json) as f:
            b = json.load(f)["rows"][0]

    demo_s, demo_cmd = None, None
    if os.access(cli, os.X_OK):
        demo_s, demo_cmd, _ = time_demo(cli, args.threads, args.demo_reps)

    ratio = t["ms_per_iteration"] / b["ms_per_iteration"]
    print()
    print(f"{'':10} {'device':36} {'N':>9} {'K':>2} {'ms/iteration':>13} {'mean NLL':>11}")
    print(f"{'pytorch':10} {t['device'][:36]:36} {t['n']:>9} {t['k']:>2} "
          f"{t['ms_per_iteration']:>13.3f} {t['final_mean_nll']:>11.6f}")
    print(f"{'betamix':10} {b['device'][:36]:36} {b['n']:>9} {b['k']:>2} "
          f"{b['ms_per_iteration']:>13.3f} {b['fit_mean_nll']:>11.6f}")
    print(f"betamix pass alone: {b['ms_per_pass']:.3f} ms, {b['gb_per_s']:.2f} GB/s "
          f"({b['fraction_of_floor']:.3f} of the {b['floor_read_gb_per_s']:.2f} GB/s read floor)")
    cpu_ratio = t["cpu_ms_per_iteration"] / b["cpu_ms_per_iteration"]
    print(f"process CPU time per iteration: pytorch {t['cpu_ms_per_iteration']:.3f} ms, "
          f"betamix {b['cpu_ms_per_iteration']:.3f} ms, ratio {cpu_ratio:.1f}x "
          "(all threads; robust to other load on the machine)")
    verdict = "met" if ratio >= RATIO_GOAL else "NOT met"
    print(f"ratio pytorch / betamix per iteration: {ratio:.1f}x "
          f"(goal >= {RATIO_GOAL:.0f}x: {verdict})")
    if demo_s is not None:
        verdict = "met" if demo_s < DEMO_GOAL_S else "NOT met"
        print(f"`{demo_cmd}`: {demo_s:.3f} s wall, median of {args.demo_reps} "
              f"(goal < {DEMO_GOAL_S:.0f} s: {verdict})")
    else:
        print(f"betamix demo: not timed ({cli} missing or failed)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pytorch": t, "betamix": b, "ratio": ratio, "cpu_time_ratio": cpu_ratio,
                       "demo_seconds": demo_s, "demo_command": demo_cmd}, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

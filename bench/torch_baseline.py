#!/usr/bin/env python3
"""PyTorch baseline: the approach betamix replaces, timed per Adam iteration.

The model is written as plain PyTorch does it,

    MixtureSameFamily(Categorical(logits=eta), Beta(softplus(u), softplus(v)))

and fitted by full-batch Adam on the mean negative log-likelihood, exactly the objective
betamix minimises, so the learning rates are comparable (default 0.05, betamix's).
One timed iteration is: zero_grad, build the distribution, log_prob over all samples, mean,
backward, optimizer step. On CUDA the device is synchronised before and after each
iteration. A few iterations run first as warm-up; the median of the timed ones is reported,
in wall time and, beside it, in CPU time of the whole process (which does not grow when other
work on a shared machine takes a core away).

Starting parameters follow bench_cpu: K = 2 starts at the demo mixture
0.5 Beta(10, 1.5) + 0.5 Beta(1.5, 10); other K start with equal weights, means (j + 1/2) / K
and concentration 20.

Data: a raw little-endian float64 file (.f64 or any other name) or a .npy array. Samples are
cast to --dtype (float32 by default, as the reference notebook's tensors were); values that the
cast rounds onto 0 or 1 are moved to the nearest representable value inside (0,1) and counted.

Example:
    python3 bench/torch_baseline.py --data data.f64 --k 2 --threads 2 --iters 30 --json t.json
"""

import argparse
import datetime
import json
import math
import platform
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions import Beta, Categorical, MixtureSameFamily


def load_samples(path):
    """Reads a .npy array or a raw little-endian float64 file as a flat float64 array."""
    if path.endswith(".npy"):
        return np.asarray(np.load(path), dtype=np.float64).ravel()
    return np.fromfile(path, dtype="<f8")


def start_params(k):
    """Weights, alpha, beta of the first iterate (the same as bench_cpu's)."""
    if k == 2:
        return [0.5, 0.5], [10.0, 1.5], [1.5, 10.0]
    means = [(j + 0.5) / k for j in range(k)]
    return [1.0 / k] * k, [20.0 * m for m in means], [20.0 * (1.0 - m) for m in means]


def inverse_softplus(y):
    """u with softplus(u) = y, for y > 0."""
    return y + math.log(-math.expm1(-y))


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="raw little-endian float64 file or .npy")
    p.add_argument("--k", type=int, default=2, help="number of components (default 2)")
    p.add_argument("--iters", type=int, default=30, help="timed iterations (default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed iterations first (default 3)")
    p.add_argument("--lr", type=float, default=0.05, help="Adam learning rate (default 0.05)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=0,
                   help="torch.set_num_threads; 0 keeps PyTorch's default")
    p.add_argument("--validate-args", action=argparse.BooleanOptionalAction, default=True,
                   help="torch.distributions argument validation (PyTorch's default: on)")
    p.add_argument("--json", help="also write the result as a JSON row to this file")
    args = p.parse_args()
    if args.k < 1 or args.iters < 1 or args.warmup < 0 or not args.lr > 0:
        p.error("need --k >= 1, --iters >= 1, --warmup >= 0 and --lr > 0")
    return args


def main():
    args = parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch_baseline: --device cuda but torch sees no CUDA device")
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    torch.distributions.Distribution.set_default_validate_args(args.validate_args)

    host = load_samples(args.data)
    if host.size == 0 or not np.all((host > 0.0) & (host < 1.0)):
        sys.exit(f"torch_baseline: {args.data}: every sample must lie inside (0,1)")
    np_dtype = np.dtype(args.dtype)
    cast = host.astype(np_dtype)
    lo, hi = np.nextafter(np_dtype.type(0), np_dtype.type(1)), np.nextafter(np_dtype.type(1),
                                                                              np_dtype.type(0))
    moved = int(np.count_nonzero((cast <= 0) | (cast >= 1)))
    x = torch.from_numpy(np.clip(cast, lo, hi)).to(device)

    w0, a0, b0 = start_params(args.k)
    eta = torch.tensor([math.log(w) for w in w0], dtype=dtype, device=device, requires_grad=True)
    u = torch.tensor([inverse_softplus(a) for a in a0], dtype=dtype, device=device,
                     requires_grad=True)
    v = torch.tensor([inverse_softplus(b) for b in b0], dtype=dtype, device=device,
                     requires_grad=True)
    opt = torch.optim.Adam([eta, u, v], lr=args.lr)

    def mixture():
        return MixtureSameFamily(Categorical(logits=eta), Beta(F.softplus(u), F.softplus(v)))

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def iteration():
        opt.zero_grad(set_to_none=True)
        loss = -mixture().log_prob(x).mean()
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        iteration()
    times, cpu_times = [], []
    for _ in range(args.iters):
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        iteration()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu_times.append((time.process_time() - c0) * 1e3)
    with torch.no_grad():
        final_nll = float(-mixture().log_prob(x).mean())

    ms = statistics.median(times)
    n = int(x.numel())
    threads = torch.get_num_threads()
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{cpu_model()}, {threads} threads")
    row = {
        "backend": "pytorch",
        "device": where,
        "threads": threads,
        "n": n,
        "k": args.k,
        "dtype": args.dtype,
        "lr": args.lr,
        "validate_args": args.validate_args,
        "warmup": args.warmup,
        "iters": args.iters,
        "steps_before_final_nll": args.warmup + args.iters,
        "ms_per_iteration": ms,
        "ms_per_iteration_min": min(times),
        "cpu_ms_per_iteration": statistics.median(cpu_times),
        "samples_per_s": n / (ms * 1e-3),
        "final_mean_nll": final_nll,
        "samples_moved_inside": moved,
        "torch": torch.__version__,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": args.data,
    }
    print(f"pytorch {where}: N = {n}, K = {args.k}, {args.dtype}: "
          f"{ms:.3f} ms/iteration (median of {args.iters}, min {min(times):.3f}), "
          f"mean NLL after {args.warmup + args.iters} steps {final_nll:.6f}")
    if moved:
        print(f"note: {moved} samples rounded onto 0 or 1 in {args.dtype} were moved inside")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(row, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()

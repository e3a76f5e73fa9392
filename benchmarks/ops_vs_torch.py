"""Tuned Kiln kernels beside PyTorch eager on the same thread count, in one run.

For f32 matmul 1024^3 and the ResNet-18 convolutions (tools/workloads.cpp), on 1 and 2 threads:
PyTorch eager (MKL/oneDNN) time, Kiln's default schedule and Kiln tuned by `kiln-tune-op`
(model-guided search, --trials per workload), and the ratios. Medians of repeats.

    python3 benchmarks/ops_vs_torch.py [--trials 64] [--threads 1 2] [--convs 12] [--build build]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
from standard_workloads import CONVS  # (H, W, in, out, kernel, stride): ResNet-18's


def median_seconds(fn, repeats=15, min_seconds=0.02):
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        samples.append(elapsed / calls)
    return statistics.median(samples)


def torch_seconds(words):
    if words[0] == "matmul":
        m, n, k = map(int, words[1:])
        a, b = torch.randn(m, k), torch.randn(k, n)
        return median_seconds(lambda: torch.mm(a, b))
    h, w, ci, co, kernel, stride = map(int, words[1:])
    x, wt = torch.randn(1, ci, h, w), torch.randn(co, ci, kernel, kernel)
    return median_seconds(
        lambda: torch.nn.functional.conv2d(x, wt, stride=stride, padding=kernel // 2)
    )


def kiln_seconds(tool, words, threads, trials):
    """(default seconds, tuned seconds) from kiln-tune-op."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "curve.json")
        subprocess.run(
            [tool, *words, "--trials", str(trials), "--threads", str(threads), "--json", out],
            check=True,
            capture_output=True,
        )
        with open(out) as f:
            result = json.load(f)
    flops = flop_count(words)
    best = max(result["best_so_far_gflops"] or [0])
    tuned = flops / (best * 1e9) if best > 0 else math.inf
    return result["default_seconds"], min(tuned, result["default_seconds"])


def flop_count(words):
    if words[0] == "matmul":
        m, n, k = map(int, words[1:])
        return 2.0 * m * n * k
    h, w, ci, co, kernel, stride = map(int, words[1:])
    oh, ow = (
        (h + 2 * (kernel // 2) - kernel) // stride + 1,
        (w + 2 * (kernel // 2) - kernel) // stride + 1,
    )
    return 2.0 * co * oh * ow * ci * kernel * kernel


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--trials", type=int, default=64)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--convs", type=int, default=len(CONVS))
    p.add_argument("--build", default="build")
    args = p.parse_args()
    tool = os.path.join(args.build, "tools", "kiln-tune-op")
    workloads = [["matmul", "1024", "1024", "1024"]]
    workloads += [["conv", *map(str, c)] for c in CONVS[: args.convs]]
    print(f"{'workload':34} thr  torch ms  kiln default ms  kiln tuned ms  tuned/torch speedup")
    for threads in args.threads:
        torch.set_num_threads(threads)
        conv_speedups = []
        for words in workloads:
            t = torch_seconds(words)
            d, k = kiln_seconds(tool, words, threads, args.trials)
            speedup = t / k
            if words[0] == "conv":
                conv_speedups.append(speedup)
            gf = flop_count(words) / k / 1e9
            print(
                f"{' '.join(words):34} {threads:3} {t * 1e3:9.3f} {d * 1e3:16.3f} "
                f"{k * 1e3:14.3f} {speedup:8.2f}x ({gf:.1f} GFLOP/s)",
                flush=True,
            )
        if conv_speedups:
            geo = math.exp(sum(map(math.log, conv_speedups)) / len(conv_speedups))
            print(f"ResNet-18 convolutions, {threads} thread(s): geomean tuned/torch {geo:.2f}x")


if __name__ == "__main__":
    main()

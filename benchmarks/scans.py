"""Scans (cumsum, cumprod, logcumsumexp, cummax) in Kiln kernels (default schedules, no tuning)
beside PyTorch eager and TorchInductor, side by side in one run, with a copy of the same tensor
(`x.clone()`, eager) as the memory roofline: a scan reads its input and writes its output once, as a copy does.

Each op runs along the last dim (one serial recurrence per row, rows in parallel) and along the
first (every column its own recurrence: vector lanes). The backends take turns, round by round;
each figure is the median over rounds of the best-of-calls time.

    python3 benchmarks/scans.py [--rows 512] [--cols 4096] [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import kiln
import torch

OPS = {
    "cumsum": lambda x, d: torch.cumsum(x, d),
    "cumprod": lambda x, d: torch.cumprod(x, d),
    "logcumsumexp": lambda x, d: torch.logcumsumexp(x, d),
    "cummax": lambda x, d: torch.cummax(x, d)[0],
}


def best_of_calls(fn, seconds=0.02):
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=512)
    p.add_argument("--cols", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    x = torch.rand(a.rows, a.cols, generator=torch.Generator().manual_seed(0)) + 0.5
    print(f"# python3 benchmarks/scans.py --rows {a.rows} --cols {a.cols} --threads {a.threads}")
    print(
        f"{'op':<14}{'dim':>4}{'eager':>10}{'inductor':>10}{'kiln':>10}{'copy':>10}"
        f"{'kiln/eager':>12}{'kiln/ind':>10}{'copy/kiln':>10}"
    )
    for name, op in OPS.items():
        for dim in (-1, 0):

            def fn(t, op=op, dim=dim):
                return op(t, dim)

            torch._dynamo.reset()  # each (op, dim) compiles `fn` afresh, within Dynamo's limit
            backends = {
                "eager": fn,
                "inductor": torch.compile(fn, backend="inductor"),
                "kiln": kiln.compile(fn, tune="off"),  # the default schedule
                "copy": lambda t: t.clone(),
            }
            want = fn(x)
            for label in ("inductor", "kiln"):
                torch.testing.assert_close(backends[label](x), want, rtol=1e-5, atol=1e-5)
            samples = {k: [] for k in backends}
            for _ in range(a.rounds):
                for k, f in backends.items():
                    samples[k].append(best_of_calls(lambda f=f: f(x)))
            ms = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
            print(
                f"{name:<14}{dim:>4}{ms['eager']:>9.3f}m{ms['inductor']:>9.3f}m"
                f"{ms['kiln']:>9.3f}m{ms['copy']:>9.3f}m{ms['eager'] / ms['kiln']:>11.2f}x"
                f"{ms['inductor'] / ms['kiln']:>9.2f}x{ms['copy'] / ms['kiln']:>9.0%}"
            )
    print(
        "columns: medians in ms; kiln/eager and kiln/ind are speedups (>1: Kiln faster); "
        "copy/kiln is the share of the copy roofline Kiln reaches"
    )


if __name__ == "__main__":
    main()

"""Scatters (scatter_add, scatter_reduce, index_put, index_add, scatter) in Kiln kernels (default
schedules, no tuning) beside PyTorch eager and TorchInductor, side by side in one run, with a
copy of self and the source (`clone()` of both, eager) as the memory roofline: a scatter writes
self once and reads the source and its index once.

The workloads are what models scatter: a segment sum (scatter_add of many rows into fewer),
an embedding's gradient (index_put with accumulate, as its backward is decomposed), index_add
and a row assignment `y[idx] = v`, a max pooling over segments (scatter_reduce amax), and a
one-hot along the last dim. The backends take turns, round by round; each figure is the median
over rounds of the best-of-calls time.

    python3 benchmarks/scatters.py [--rows 4096] [--cols 512] [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import time

import kiln
import torch


def best_of_calls(fn, seconds=0.03):
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def workloads(rows: int, cols: int):
    g = torch.Generator().manual_seed(0)
    self_ = torch.randn(rows, cols, generator=g)
    n = 4 * rows  # source rows: each row of self is written 4 times on average
    src = torch.randn(n, cols, generator=g)
    seg = torch.randint(0, rows, (n,), generator=g)
    seg2d = seg[:, None].expand(n, cols).contiguous()
    labels = torch.randint(0, cols, (rows, 1), generator=g)
    return {
        "scatter_add_rows": (lambda x, s, i: x.scatter_add(0, i, s), (self_, src, seg2d)),
        "scatter_amax_rows": (
            lambda x, s, i: x.scatter_reduce(0, i, s, "amax", include_self=False),
            (self_, src, seg2d),
        ),
        "index_put_accumulate": (
            lambda x, s, i: x.index_put((i,), s, accumulate=True),
            (self_, src, seg),
        ),
        "index_add_rows": (lambda x, s, i: x.index_add(0, i, s), (self_, src, seg)),
        # Distinct rows: which of two writes to one row wins is unspecified (Inductor differs).
        "assign_rows": (
            lambda x, s, i: x.index_put((i,), s),
            (self_, src[: rows // 2], torch.randperm(rows, generator=g)[: rows // 2]),
        ),
        "one_hot_last_dim": (
            lambda x, s, i: torch.zeros_like(x).scatter(1, i, 1.0),
            (self_, labels.float(), labels),
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--cols", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# python3 benchmarks/scatters.py --rows {a.rows} --cols {a.cols} --threads {a.threads}")
    print(
        f"{'workload':<22}{'eager':>10}{'inductor':>10}{'kiln':>10}{'copy':>10}"
        f"{'kiln/eager':>12}{'kiln/ind':>10}{'copy/kiln':>10}"
    )
    for name, (fn, args) in workloads(a.rows, a.cols).items():
        torch._dynamo.reset()
        backends = {
            "eager": fn,
            "inductor": torch.compile(fn, backend="inductor"),
            "kiln": kiln.compile(fn, tune="off"),  # the default schedule
            "copy": lambda x, s, i: (x.clone(), s.clone()),
        }
        want = fn(*args)
        for label in ("inductor", "kiln"):
            torch.testing.assert_close(
                backends[label](*args),
                want,
                rtol=1e-5,
                atol=1e-5,
                msg=lambda m, name=name, label=label: f"{name}, {label}: {m}",
            )
        samples = {k: [] for k in backends}
        for _ in range(a.rounds):
            for k, f in backends.items():
                samples[k].append(best_of_calls(lambda f=f, args=args: f(*args)))
        ms = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
        print(
            f"{name:<22}{ms['eager']:>9.3f}m{ms['inductor']:>9.3f}m"
            f"{ms['kiln']:>9.3f}m{ms['copy']:>9.3f}m{ms['eager'] / ms['kiln']:>11.2f}x"
            f"{ms['inductor'] / ms['kiln']:>9.2f}x{ms['copy'] / ms['kiln']:>9.0%}"
        )
    print(
        "columns: medians in ms; kiln/eager and kiln/ind are speedups (>1: Kiln faster); "
        "copy/kiln is the share of the copy roofline Kiln reaches"
    )


if __name__ == "__main__":
    main()

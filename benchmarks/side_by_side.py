"""One op's Kiln kernel (default schedule) beside PyTorch eager, TorchInductor and a copy of the
data it moves (the memory roofline), side by side in one run: the measurement and the table row
that benchmarks/scans.py and benchmarks/scatters.py share. The backends take turns, round by
round; each figure is the median over rounds of the best-of-calls time."""

from __future__ import annotations

import statistics
import time

import kiln
import torch

COLUMNS = (
    f"{'eager':>10}{'inductor':>10}{'kiln':>10}{'copy':>10}"
    f"{'kiln/eager':>12}{'kiln/ind':>10}{'copy/kiln':>10}"
)
LEGEND = (
    "columns: medians in ms; kiln/eager and kiln/ind are speedups (>1: Kiln faster); "
    "copy/kiln is the share of the copy roofline Kiln reaches"
)


def best_of_calls(fn, seconds=0.03):
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def measure(fn, copy, args, rounds: int, label: str, rtol=1e-5, atol=1e-5) -> str:
    """The table's columns for `fn(*args)` with `copy(*args)` as its roofline, after checking
    that Inductor and Kiln compute what eager does (within `rtol` and `atol`)."""
    torch._dynamo.reset()  # each op compiles afresh, within Dynamo's recompile limit
    backends = {
        "eager": fn,
        "inductor": torch.compile(fn, backend="inductor"),
        "kiln": kiln.compile(fn, tune="off"),
        "copy": copy,
    }
    want = fn(*args)
    for name in ("inductor", "kiln"):
        torch.testing.assert_close(
            backends[name](*args),
            want,
            rtol=rtol,
            atol=atol,
            msg=lambda m, name=name: f"{label}, {name}: {m}",
        )
    samples = {k: [] for k in backends}
    for _ in range(rounds):
        for k, f in backends.items():
            samples[k].append(best_of_calls(lambda f=f: f(*args)))
    ms = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
    return (
        f"{ms['eager']:>9.3f}m{ms['inductor']:>9.3f}m{ms['kiln']:>9.3f}m{ms['copy']:>9.3f}m"
        f"{ms['eager'] / ms['kiln']:>11.2f}x{ms['inductor'] / ms['kiln']:>9.2f}x"
        f"{ms['copy'] / ms['kiln']:>9.0%}"
    )

"""What every example prints: eager vs Kiln outputs, compile time, latency, and Kiln's stats."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import kiln
import torch
from kiln.stats import summary


def median_ms(fn: Callable[[], object], repeats: int = 20) -> float:
    """The median wall time of `fn()` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def compare(name: str, model: torch.nn.Module, x: torch.Tensor) -> None:
    """Runs `model` on `x` eagerly and through Kiln (inference), and prints the comparison."""
    model.eval()
    compiled = kiln.compile(model)
    with torch.no_grad():
        expected = model(x)
        start = time.perf_counter()
        actual = compiled(x)  # the first call compiles
        compile_s = time.perf_counter() - start
        eager_ms = median_ms(lambda: model(x))
        kiln_ms = median_ms(lambda: compiled(x))
    diff = (actual - expected).abs().max().item()
    print(f"{name}: input {list(x.shape)}, output {list(expected.shape)}")
    print(f"  max |kiln - eager| = {diff:.3g}")
    print(f"  first call (compile) {compile_s:.2f} s")
    print(f"  eager {eager_ms:.3f} ms, kiln {kiln_ms:.3f} ms ({torch.get_num_threads()} threads)")
    print(summary())

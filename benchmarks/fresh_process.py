"""Benchmarks that measure in fresh processes: the child prints one line `ROW {json}`, the parent
reads it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def print_row(row: dict) -> None:
    """In the child: reports the result."""
    print("ROW " + json.dumps(row), flush=True)


def first_and_steady(fn, warmup: int = 10, calls: int = 50) -> tuple[float, float]:
    """In the child: the first call's seconds, then the median seconds of `calls` calls after
    `warmup` more (caches and branch predictors warm, as in a served model)."""
    import statistics
    import time

    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    for _ in range(warmup):
        fn()
    steady = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        steady.append(time.perf_counter() - t)
    return first, statistics.median(steady)


def run_for_row(argv: list[str], **env: str) -> tuple[dict | None, subprocess.CompletedProcess]:
    """Runs `python argv...` with `env` added to the environment; returns its row (None when it
    printed none) and the finished process (its stderr says why, or what it logged)."""
    out = subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ROW ")), None)
    return (json.loads(line[4:]) if line else None), out

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

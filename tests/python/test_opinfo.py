"""PyTorch's OpInfo database through kiln.compile (scripts/opinfo_sweep.py): the first sample of
every deterministic op, forward in float32, float16, bfloat16, int64 and bool, and backward (the
gradients of its differentiable inputs, beside the forward outputs) in float32 and bfloat16,
against eager. No mismatch and no crash; the summary is printed at the end of the test run. The
whole sweep (every sample, backward in float16 too) is the script: float16's backward takes the
same 16-bit paths as bfloat16's, and with it this test took 11 of the Python tests' 28 minutes on
two cores, more than the whole suite may spend.

The sweep runs in two processes of one thread each (the ops split between them): twice as fast
on two cores, and no compiled graph of the sweep lives on in the test process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "opinfo_sweep.py"
sys.path.insert(0, str(SCRIPT.parent))
import opinfo_sweep

FORWARD = "float32,float16,bfloat16,int64,bool"
BACKWARD = "float32,bfloat16"
SHARDS = 2


def test_opinfo_samples_match_eager(request, tmp_path):
    pytest.importorskip(
        "expecttest"
    )  # torch.testing._internal needs it (scripts/dev.sh installs it)
    runs = [
        subprocess.Popen(
            [
                sys.executable,
                str(SCRIPT),
                "--dtypes",
                FORWARD,
                "--backward-dtypes",
                BACKWARD,
                "--shard",
                f"{k}/{SHARDS}",
                "--json",
                str(tmp_path / f"{k}.json"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(SHARDS)
    ]
    outputs = [run.communicate(timeout=1500)[0] for run in runs]
    results = []
    for k, output in enumerate(outputs):
        path = tmp_path / f"{k}.json"
        assert path.exists(), f"shard {k} wrote no results:\n{output[-3000:]}"
        results.append(json.loads(path.read_text()))
    problems = [p for r in results for p in r["problems"]]
    summary = []
    for mode, dtypes in (("forward", FORWARD), ("backward", BACKWARD)):
        counts = opinfo_sweep.merge([r[mode] for r in results])
        summary.append(f"{mode} ({dtypes}): {opinfo_sweep.summary(counts)}")
        assert counts["samples"] > 500 and counts["in_kiln"] > 0, summary[-1]
    request.config.stash[OPINFO_SUMMARY] = "OpInfo sweep: " + "; ".join(summary)
    assert not problems, "\n".join(problems)


OPINFO_SUMMARY = pytest.StashKey[str]()

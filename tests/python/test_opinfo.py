"""PyTorch's OpInfo database through kiln.compile (scripts/opinfo_sweep.py): the first sample of
every deterministic op, forward, in float32, float16, bfloat16, int64 and bool, against eager.
No mismatch and no crash; the summary is printed at the end of the test run. The whole sweep
(every sample) is the script."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from opinfo_sweep import sweep  # noqa: E402

DTYPES = (torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.bool)


def test_opinfo_samples_match_eager(request):
    pytest.importorskip("expecttest")  # torch.testing._internal needs it (scripts/dev.sh installs it)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        counts, problems = sweep(DTYPES, samples_per_op=1)
    finally:
        torch.set_num_threads(threads)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    request.config.stash[OPINFO_SUMMARY] = f"OpInfo sweep ({', '.join(map(str, DTYPES))}): {summary}"
    assert not problems, "\n".join(problems)
    assert counts["samples"] > 1000 and counts["in_kiln"] > 0, summary


OPINFO_SUMMARY = pytest.StashKey[str]()

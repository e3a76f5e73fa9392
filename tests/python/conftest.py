"""Shared fixtures: every test starts with fresh Dynamo caches and fresh Kiln graph records."""

from __future__ import annotations

import kiln
import pytest
import torch
import torch._dynamo


@pytest.fixture(autouse=True)
def fresh_compile_state():
    """Forget earlier compiles, so each test's graphs (and coverage) are its own."""
    torch._dynamo.reset()
    kiln.reset_stats()
    yield
    torch._dynamo.reset()


class Coverage:
    """The coverage of the graphs compiled so far in a test: ATen nodes inside Kiln kernels."""

    def __call__(self) -> tuple[float, list[str]]:
        s = kiln.stats()
        unsupported = sorted({op for g in s["graphs"] for op in g["unsupported"]})
        assert s["graphs"], "no graph reached the kiln backend"
        return s["coverage"], unsupported


@pytest.fixture
def coverage() -> Coverage:
    """``coverage()`` → (fraction of ATen nodes compiled by Kiln, ops that stayed ATen)."""
    return Coverage()


def pytest_terminal_summary(terminalreporter, config):
    """Prints the OpInfo sweep's summary (test_opinfo.py) at the end of the run."""
    from test_opinfo import OPINFO_SUMMARY

    summary = config.stash.get(OPINFO_SUMMARY, None)
    if summary:
        terminalreporter.write_line(summary)

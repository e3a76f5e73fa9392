"""Shared fixtures: every test starts with fresh Dynamo caches and fresh Kiln graph records."""

from __future__ import annotations

import logging

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

    def __call__(self) -> tuple[float, dict[str, str]]:
        s = kiln.stats()
        unsupported = {op: why for g in s["graphs"] for op, why in g["unsupported"].items()}
        assert s["graphs"], "no graph reached the kiln backend"
        return s["coverage"], unsupported


@pytest.fixture
def coverage() -> Coverage:
    """``coverage()`` → (fraction of ATen nodes compiled by Kiln, {op that stayed ATen: why})."""
    return Coverage()


def pytest_terminal_summary(terminalreporter, config):
    """Prints the OpInfo sweep's summary (test_opinfo.py) at the end of the run."""
    from test_opinfo import OPINFO_SUMMARY

    summary = config.stash.get(OPINFO_SUMMARY, None)
    if summary:
        terminalreporter.write_line(summary)


class KilnLog(logging.Handler):
    """The messages of the ``kiln`` logger, at whatever level it lets through."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def kiln_log():
    """Collects everything the ``kiln`` logger says during the test, down to DEBUG (where a
    message logged once per process goes the second time); restores its level after."""
    logger = logging.getLogger("kiln")
    records, level = KilnLog(), logger.level
    logger.addHandler(records)
    kiln.set_log_level("debug")
    yield records
    logger.removeHandler(records)
    kiln.set_log_level(logging.getLevelName(level or logging.WARNING).lower())


@pytest.fixture
def start_redis():
    """``start_redis(directory, password="")`` starts a real redis-server (redis_server.py), or
    skips the test saying why it cannot; every one started is stopped after the test."""
    from redis_server import RedisServer

    started: list[RedisServer] = []

    def start(directory, password: str = "") -> RedisServer:
        started.append(RedisServer(directory, password))
        return started[-1]

    yield start
    for server in started:
        server.stop()

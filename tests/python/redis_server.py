"""A real redis-server for the fleet's tests, on a free loopback port in a temporary directory
(its append-only file there, so its data survives a stop and start); tests skip with the reason
where redis-server is missing or does not start. The `start_redis` fixture (conftest.py) stops
every server a test started."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path, password: str = ""):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not Path(self.binary).exists():
            pytest.skip("redis-server is not installed (scripts/dev.sh installs it)")
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.password = password
        self.port = _free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}"

    def start(self) -> None:
        """Starts it (again, on the same port) and waits until it accepts commands."""
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
        ]
        args += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        if self.password:
            args += ["--requirepass", self.password]
        log = open(self.dir / "redis.log", "a")  # noqa: SIM115 (the server's, closed with it)
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.skip(f"redis-server exited: {(self.dir / 'redis.log').read_text()[-500:]}")
            if "Ready to accept connections" in (self.dir / "redis.log").read_text():
                return
            time.sleep(0.05)
        pytest.skip("redis-server did not become ready within 10 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)

    def cli(self, *args: str) -> str:
        """A command through redis-cli; its output."""
        auth = ["-a", self.password, "--no-auth-warning"] if self.password else []
        return subprocess.run(
            ["redis-cli", "-p", str(self.port), *auth, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout

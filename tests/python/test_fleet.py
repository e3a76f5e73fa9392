"""The fleet (docs/fleet.md) with a real redis-server: workers and a client tuning together, a
fresh machine served from Redis, and the faults: a worker killed mid-task, Redis stopped while a
model runs, garbage in Redis, a wrong password."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from redis_server import RedisServer

STANDARD = Path(__file__).parent / "standard_workloads.py"

# A model of a few fused groups (matmul with its epilogue, layer norm, softmax): each a task.
MODEL = textwrap.dedent(
    """
    import json, sys, torch, kiln
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 96), torch.nn.GELU(), torch.nn.LayerNorm(96),
        torch.nn.Linear(96, 48), torch.nn.Softmax(dim=-1)).eval()
    x = torch.randn(32, 64)
    compiled = torch.compile(model, backend="kiln")
    with torch.no_grad():
        for _ in range(3):
            out = compiled(x)
        torch.testing.assert_close(out, model(x), atol=1e-4, rtol=1e-4)
    print("slots", json.dumps([s["served_by"] for s in kiln.stats()["slots"]]), flush=True)
    """
)


def _env(cache: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KILN_CACHE_URL"}
    return {**env, "KILN_CACHE_DIR": str(cache), **more}


def _worker(tmp: Path, redis: RedisServer, name: str, claim_after: float = 30) -> subprocess.Popen:
    log = open(tmp / f"{name}.log", "w")  # noqa: SIM115 (the worker's, read by the test)
    return subprocess.Popen(
        [sys.executable, "-m", "kiln.cli", "worker", "--cache", redis.url, "--name", name]
        + ["--claim-after", str(claim_after)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_env(tmp / name),
    )


def _wait_for(path: Path, text: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{path.name} never said {text!r}:\n{path.read_text()}"
        time.sleep(0.1)


def _task_rows(output: str) -> dict[str, list[str]]:
    """`kiln tune --fleet`'s table: task id → its words (name, state, worker, trials, ...)."""
    return {
        m.group(1): m.group(2).split()
        for m in re.finditer(r"^(job-\d+\.\d+) +(.*)$", output, re.MULTILINE)
    }


def _statuses(cache: Path) -> dict[str, int]:
    with sqlite3.connect(cache / "tuning.sqlite") as db:
        return dict(
            db.execute(
                "SELECT status, COUNT(*) FROM records WHERE source LIKE 'fleet:%' GROUP BY status"
            ).fetchall()
        )


def test_two_workers_and_a_client_tune_the_standard_workloads_and_a_fresh_machine_is_served(
    tmp_path, start_redis
):
    server = start_redis(tmp_path / "redis")
    workers = [_worker(tmp_path, server, name) for name in ("w1", "w2")]
    try:
        for name in ("w1", "w2"):
            _wait_for(tmp_path / f"{name}.log", "takes tasks")
        tune = subprocess.run(
            [sys.executable, "-m", "kiln.cli", "tune", "--fleet", server.url, "--trials", "6"]
            + ["--budget", "300", str(STANDARD)],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
            env=_env(tmp_path / "client"),
        )
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            assert w.wait(timeout=60) == 0, (tmp_path / "w1.log").read_text()
    assert tune.returncode == 0, tune.stdout + tune.stderr
    tasks = _task_rows(tune.stdout)
    assert len(tasks) >= 10, tune.stdout  # those the starter cache has not settled
    assert all(row[1] == "done" for row in tasks.values()), tune.stdout
    assert {row[2] for row in tasks.values()} == {"w1", "w2"}, tune.stdout
    # Every task ended once: one "done" mark each, and per workload one best record.
    assert len(server.cli("--scan", "--pattern", "kiln:1:done:*").split()) == len(tasks)
    assert len(server.cli("--scan", "--pattern", "kiln:1:records:*").split()) == len(tasks)
    assert "stopped" in (tmp_path / "w1.log").read_text()

    # A fresh machine: an empty local cache, the fleet's Redis behind it, no tuning of its own.
    fresh = tmp_path / "fresh"
    run = subprocess.run(
        [sys.executable, str(STANDARD)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(fresh, KILN_CACHE_URL=server.url, KILN_TUNE="cache-only"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    served = next(line for line in run.stdout.splitlines() if line.startswith("slots "))
    # Every slot a Kiln kernel serves has the fleet's tuned kernel; a contraction may be served
    # by ATen's op instead, where that measured faster here (how many depends on the timing).
    slots = json.loads(served[len("slots ") :])
    assert all(s == "Kiln kernel (tuned)" or s.startswith("aten.") for s in slots), served
    assert "Kiln kernel (tuned)" in slots, served
    # Each kernel it serves from the fleet was verified here first: as many of the fleet's
    # records checked ("ok") as workloads tuned by the fleet; the others it imported never
    # compiled ("unverified").
    statuses = _statuses(fresh)
    assert statuses.get("ok", 0) == len(tasks), statuses
    assert set(statuses) <= {"ok", "unverified"}, statuses


def test_a_worker_killed_mid_task_has_its_task_taken_over(tmp_path, start_redis):
    server = start_redis(tmp_path / "redis")
    script = tmp_path / "model.py"
    script.write_text(MODEL)
    first = _worker(tmp_path, server, "doomed", claim_after=3)
    survivor = None
    try:
        _wait_for(tmp_path / "doomed.log", "takes tasks")
        tune = subprocess.Popen(
            [sys.executable, "-m", "kiln.cli", "tune", "--fleet", server.url, "--trials", "24"]
            + ["--budget", "300", str(script)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(tmp_path / "client"),
        )
        _wait_for(tmp_path / "doomed.log", "new records from the fleet")  # a task in hand
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        survivor = _worker(tmp_path, server, "survivor", claim_after=3)
        output, _ = tune.communicate(timeout=600)
    finally:
        for w in (first, survivor):
            if w and w.poll() is None:
                w.send_signal(signal.SIGTERM)
                w.wait(timeout=60)
    assert tune.returncode == 0, output
    tasks = _task_rows(output)
    assert tasks and all(row[1] == "done" for row in tasks.values()), output
    assert all(row[2] == "survivor" for row in tasks.values()), output
    assert "(taken over)" in (tmp_path / "survivor.log").read_text()


# A model tuned in the background while the test stops Redis and starts it again; it waits for
# the test's word on stdin between the phases.
WHILE_REDIS_STOPS = textwrap.dedent(
    """
    import json, sys, time, torch, kiln
    from kiln import _C
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.Tanh()).eval()
    x = torch.randn(16, 64)
    compiled = kiln.compile(model, tune="background", tune_trials=8)
    with torch.no_grad():
        compiled(x); compiled(x)
        print("ready", flush=True); sys.stdin.readline()  # Redis is stopped now
        slowest = 0.0
        for _ in range(50):
            t0 = time.perf_counter()
            out = compiled(x)
            slowest = max(slowest, time.perf_counter() - t0)
            torch.testing.assert_close(out, model(x), atol=1e-4, rtol=1e-4)
        _C.tune_now(120)  # its records are committed while Redis is down
        print("tuned", json.dumps({"slowest_call_s": slowest, "waiting": _C.flush_fleet(0.5)}), flush=True)
        sys.stdin.readline()  # Redis is back
        print("flushed", _C.flush_fleet(30), flush=True)
    """
)


def test_redis_stopped_while_a_model_runs_and_records_reach_it_when_it_returns(
    tmp_path, start_redis
):
    server = start_redis(tmp_path / "redis")
    child = subprocess.Popen(
        [sys.executable, "-c", WHILE_REDIS_STOPS],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path / "cache", KILN_CACHE_URL=server.url),
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        server.stop()
        child.stdin.write("go\n")
        child.stdin.flush()
        tuned = child.stdout.readline()
        assert tuned.startswith("tuned "), tuned + child.stderr.read()
        phase = __import__("json").loads(tuned[len("tuned ") :])
        assert phase["waiting"] > 0  # queued here, not lost
        assert phase["slowest_call_s"] < 0.25  # no call waited on the network
        server.start()
        child.stdin.write("go\n")
        child.stdin.flush()
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 0, out + err
    assert "flushed 0" in out, out + err
    warnings = [line for line in err.splitlines() if "does not answer" in line]
    assert len(warnings) == 1, err
    records = server.cli("--scan", "--pattern", "kiln:1:records:*").split()
    assert records and int(server.cli("HLEN", records[0])) >= 8


def test_a_wrong_password_is_a_clear_error_at_start(tmp_path, start_redis):
    server = start_redis(tmp_path / "redis", password="s3cret-pass")
    wrong = f"redis://:not-it@127.0.0.1:{server.port}"
    start = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-c", MODEL],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(tmp_path / "cache", KILN_CACHE_URL=wrong, KILN_TUNE="cache-only"),
    )
    assert run.returncode != 0
    assert "refused" in run.stderr and "redis://:***@127.0.0.1" in run.stderr, run.stderr[-2000:]
    assert "not-it" not in run.stderr
    assert time.monotonic() - start < 60


def test_cache_push_pull_stats_and_doctor_show_both_levels(tmp_path, start_redis):
    server = start_redis(tmp_path / "redis", password="pw")
    script = tmp_path / "model.py"
    script.write_text(MODEL)
    here = tmp_path / "here"
    tune = subprocess.run(
        [sys.executable, "-m", "kiln.cli", "tune", "--trials", "8", "--budget", "120", str(script)],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
        env=_env(here),
    )
    assert tune.returncode == 0, tune.stderr

    def kiln(*args: str, cache: Path, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kiln.cli", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
            env=_env(cache, **env),
        )

    push = kiln("cache", "--url", server.url, "push", cache=here)
    assert push.returncode == 0 and re.search(
        r"[1-9]\d* records of \d+ workloads to", push.stdout
    ), push.stdout + push.stderr
    # Garbage under a record key: skipped and named, the rest pulled.
    key = server.cli("--scan", "--pattern", "kiln:1:records:*").split()[0]
    server.cli("HSET", key, "junk", "not a record")
    there = tmp_path / "there"
    pull = kiln("cache", "--url", server.url, "pull", cache=there)
    assert pull.returncode == 0, pull.stdout + pull.stderr
    assert "skipped in Redis: field junk is not a record" in pull.stdout, pull.stdout
    assert re.search(r"[1-9]\d* records of \d+ workloads from", pull.stdout), pull.stdout
    stats = kiln("cache", "stats", cache=there, KILN_CACHE_URL=server.url)
    assert re.search(r"fleet: redis://:\*\*\*@127\.0\.0\.1:\d+: \d+ workloads", stats.stdout), (
        stats.stdout
    )
    doctor = kiln("doctor", cache=there, KILN_CACHE_URL=server.url)
    assert re.search(r"fleet redis +redis://:\*\*\*@127", doctor.stdout), doctor.stdout
    server.stop()
    doctor = kiln("doctor", cache=there, KILN_CACHE_URL=server.url)
    assert "does not answer" in doctor.stdout and "pw@" not in doctor.stdout, doctor.stdout


def test_a_task_that_does_not_rebuild_fails_and_the_worker_goes_on(tmp_path, start_redis):
    server = start_redis(tmp_path / "redis")
    worker = _worker(tmp_path, server, "w1")
    try:
        _wait_for(tmp_path / "w1.log", "takes tasks")
        stream = server.cli("--scan", "--pattern", "kiln:1:tasks:*").split()[0]
        hostile = ("not json", '{"format": "kiln-program", "schema_version": 1}', "[" * 100000)
        for i, program in enumerate(hostile):
            server.cli(
                "XADD", stream, "*", "id", f"bad.{i}", "job", "bad", "name", "hostile",
                "workload", "0" * 32, "program", program, "trials", "4", "seconds", "0",
            )  # fmt: skip
        _wait_for(tmp_path / "w1.log", "task bad.2 failed: the task does not rebuild")
        assert worker.poll() is None, (tmp_path / "w1.log").read_text()  # still serving
        assert '"state":"failed"' in server.cli("HGETALL", "kiln:1:job:bad")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0


def test_kiln_tune_fleet_refuses_a_thread_count_of_its_own(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "kiln.cli", "tune", "--fleet", "redis://127.0.0.1:1"]
        + ["--threads", "2", str(tmp_path / "model.py")],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert "--threads does not apply with --fleet" in run.stderr, run.stderr

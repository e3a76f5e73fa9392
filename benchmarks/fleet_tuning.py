"""The fleet: `kiln tune --fleet` on the 18 standard workloads (ResNet-18's convolutions C1..C12,
BERT-base's matmuls, its softmax and layer_norm) with 1 worker and with 2, and a second, fresh
machine (a process with an empty local cache) reaching tuned latency on ResNet-18 from Redis.

    python benchmarks/fleet_tuning.py [--trials 16] [--resnet-trials 12] [--repeats 3] [--json F]

Everything runs on this machine against a redis-server of its own (a free loopback port, a
temporary directory), every process with one thread (OMP_NUM_THREADS=1): on 2 cores, 2 workers
can each have a core. Each phase starts from an empty Redis and empty local caches.

1. Standard workloads (tests/python/standard_workloads.py): the wall time from the tasks'
   publication to the last one done (as `kiln tune --fleet` reports it), with 1 worker and with
   2, taking turns, --repeats rounds; medians.
2. ResNet-18 (batch 1, 224x224): 2 workers tune it through `kiln tune --fleet`. Then fresh
   processes: "default" (an empty cache, no Redis, no tuning), "fresh machine" (an empty cache,
   Redis behind it, cache-only: what it serves it imports, verifies and compiles on its first
   call) and "tuned cache" (the client's local cache after its pull, no Redis). Each reports its
   first call's time and its steady latency (median of 30 calls after 5); the three take turns,
   --repeats rounds, and the medians are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from fresh_process import run_for_row

# The standard workloads as a script, shared with the tests.
STANDARD = ROOT / "tests" / "python" / "standard_workloads.py"

RESNET = textwrap.dedent(
    """
    import torch, torchvision, kiln
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        compiled = kiln.compile(model)
        compiled(x); compiled(x)
    """
)

# A fresh process timing ResNet-18: first call, then the steady latency.
TIMED = textwrap.dedent(
    """
    import sys, time, torch, torchvision, kiln
    sys.path.insert(0, {benchmarks!r})
    from fresh_process import first_and_steady, print_row
    torch.manual_seed(0)
    start = time.perf_counter()
    model = torchvision.models.resnet18().eval()
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        compiled = kiln.compile(model)
        first, steady = first_and_steady(lambda: compiled(x), warmup=5, calls=30)
    slots = kiln.stats()["slots"]
    import os, sqlite3
    cache = os.path.join(os.environ["KILN_CACHE_DIR"], "tuning.sqlite")
    quarantined = []
    if os.path.exists(cache):  # none with tuning off
        with sqlite3.connect(cache) as db:
            quarantined = [e for (e,) in db.execute("SELECT error FROM records WHERE status = 'quarantined'")]
    print_row(dict(first_s=first, steady_ms=1e3 * steady, quarantined=quarantined,
                   tuned_slots=sum(s["served_by"].endswith("(tuned)") for s in slots),
                   slots=len(slots), since_start_s=time.perf_counter() - start))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    def __init__(self, directory: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
            + ["--appendonly", "no", "--dir", str(directory)],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if (
                subprocess.run(
                    ["redis-cli", "-p", str(self.port), "ping"],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.strip()
                == "PONG"
            ):
                return
            time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def flush(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "flushall"], check=True, capture_output=True
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait()


def env(cache: Path, **more: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KILN_")}
    return {**base, "OMP_NUM_THREADS": "1", "KILN_CACHE_DIR": str(cache), **more}


def fleet_tune(work: Path, redis: Redis, script: Path, workers: int, trials: int) -> dict:
    """`kiln tune --fleet` of `script` with `workers` fresh workers; its timings and tasks."""
    redis.flush()
    procs = []
    for i in range(workers):
        log = work / f"worker{i}.log"
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "kiln.cli",
                    "worker",
                    "--cache",
                    redis.url,
                    "--name",
                    f"w{i}",
                ],
                stdout=open(log, "w"),  # noqa: SIM115 (the worker's, open while it runs)
                stderr=subprocess.STDOUT,
                env=env(work / f"worker{i}"),
            )
        )
    for i in range(workers):
        while "takes tasks" not in (work / f"worker{i}.log").read_text():
            time.sleep(0.2)
    # The client's cache made empty beforehand: a new cache would be seeded with the starter
    # records, which settle some standard workloads on some machines, and those are no tasks.
    subprocess.run(
        [sys.executable, "-m", "kiln.cli", "cache", "--dir", str(work / "client"), "stats"],
        check=True,
        capture_output=True,
    )
    start = time.perf_counter()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "kiln.cli",
            "tune",
            "--fleet",
            redis.url,
            "--trials",
            str(trials),
            "--budget",
            "0",
            str(script),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env(work / "client"),
    )
    total = time.perf_counter() - start
    for p in procs:
        p.terminate()
        p.wait()
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    done_in = re.search(r"tasks done by the fleet in ([\d.]+) s", out.stdout)
    tasks = re.findall(r"^job-\d+\.\d+ .*$", out.stdout, re.MULTILINE)
    return {
        "workers": workers,
        "tasks": len(tasks),
        "tasks_s": float(done_in.group(1)) if done_in else None,
        "command_s": total,
        "done": sum(" done " in t for t in tasks),
        "table": tasks,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=16)
    parser.add_argument("--resnet-trials", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        print("redis-server is not installed (scripts/dev.sh installs it)")
        return 1
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        redis = Redis(tmp)
        try:
            # 1 and 2 workers take turns, --repeats rounds, each from an empty Redis.
            result["standard"] = []
            for round_ in range(args.repeats):
                for workers in (1, 2):
                    work = tmp / f"standard{workers}-{round_}"
                    work.mkdir()
                    row = fleet_tune(work, redis, STANDARD, workers, args.trials)
                    print(
                        f"standard workloads, {workers} worker(s): {row['done']}/{row['tasks']} "
                        f"done, tasks {row['tasks_s']:.1f} s, command {row['command_s']:.0f} s",
                        flush=True,
                    )
                    result["standard"].append(row)
            one, two = (
                statistics.median(r["tasks_s"] for r in result["standard"] if r["workers"] == n)
                for n in (1, 2)
            )
            print(
                f"median tasks time: 1 worker {one:.1f} s, 2 workers {two:.1f} s: "
                f"{one / two:.2f}x faster",
                flush=True,
            )

            resnet = tmp / "resnet.py"
            resnet.write_text(RESNET)
            work = tmp / "resnet"
            work.mkdir()
            row = fleet_tune(work, redis, resnet, 2, args.resnet_trials)
            print(
                f"ResNet-18, 2 workers: {row['done']}/{row['tasks']} tasks done in "
                f"{row['tasks_s']:.0f} s",
                flush=True,
            )
            result["resnet_tuning"] = row
            timed = TIMED.format(benchmarks=str(ROOT / "benchmarks"))
            # Fresh processes take turns, --repeats rounds; medians per kind of process. The
            # default and the fresh machine start from empty caches each round; the tuned cache
            # is the client's after its pull (its first round verifies what it serves).
            rows = {"default": [], "fresh machine": [], "tuned cache": []}
            for round_ in range(args.repeats):
                runs = {
                    "default": env(tmp / f"default-{round_}", KILN_TUNE="off"),
                    "fresh machine": env(
                        tmp / f"fresh-{round_}", KILN_TUNE="cache-only", KILN_CACHE_URL=redis.url
                    ),
                    "tuned cache": env(work / "client", KILN_TUNE="cache-only"),
                }
                for name, e in runs.items():
                    r, out = run_for_row(["-c", timed], **e)
                    if r is None:
                        raise RuntimeError(out.stderr[-3000:])
                    rows[name].append(r)
            result["resnet"] = rows
            for name, rs in rows.items():
                first = statistics.median(r["first_s"] for r in rs)
                steady = statistics.median(r["steady_ms"] for r in rs)
                print(
                    f"ResNet-18 {name:>13}: first call {first:.2f} s, steady {steady:.2f} ms "
                    f"(medians of {len(rs)}), {rs[0]['tuned_slots']}/{rs[0]['slots']} slots tuned",
                    flush=True,
                )
        finally:
            redis.stop()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

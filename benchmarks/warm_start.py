"""Warm start: a fresh process whose tuning cache already holds a model's tuned kernels, against a
fresh process running PyTorch's own tracing (`backend="aot_eager"`), which no cache of Kiln's can
skip.

    python benchmarks/warm_start.py [--models mlp,cnn,resnet18,transformer,gpt2]
                                    [--threads 2] [--tune-budget 60] [--repeats 5]

Per model, first one process tunes the model into a fresh cache (`tune_now`, as `kiln tune` does,
for --tune-budget seconds). Then fresh processes take turns, --repeats times each: aot_eager, Kiln
with a cold cache (a new empty one each time, tune="off") and Kiln warm (tune="cache-only" on the
tuned cache). Each reports its first call's time and its steady latency (median of 50 calls after 10); the
Kiln processes also report what their log says of the code cache (kernels loaded, compiled). Prints
medians and the warm first call's excess over aot_eager; --json FILE keeps the rows.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from fresh_process import run_for_row

# One fresh process: builds the model, compiles it as asked, times the first call and then the
# steady calls, prints one JSON line. argv: model, threads, mode (aot_eager | kiln), options.
CHILD = """
import sys
import torch
sys.path.insert(0, {models!r})
sys.path.insert(0, {benchmarks!r})
from fresh_process import first_and_steady, print_row
from models import make
import kiln
name, threads, mode, options = sys.argv[1], int(sys.argv[2]), sys.argv[3], eval(sys.argv[4])
torch.backends.mha.set_fastpath_enabled(False)
torch.set_num_threads(threads)
torch.set_grad_enabled(False)
model, x = make(name, bench=True)
model.eval()
fn = torch.compile(model, backend="aot_eager") if mode == "aot_eager" else kiln.compile(model, **options)
first, steady = first_and_steady(lambda: fn(x))
row = dict(first=first, steady=steady)
if mode == "kiln":
    slots = kiln.stats()["slots"]
    row["tuned_slots"] = sum(s["served_by"].endswith("(tuned)") for s in slots)
    row["slots"] = len(slots)
    if options.get("tune") == "background":
        from kiln import _C
        _C.tune_now(float(options["tune_budget_s"]), None)
        kiln.tuning.stop()
print_row(row)
"""


def _child(name: str, threads: int, mode: str, options: dict) -> dict:
    row, out = run_for_row(
        [
            "-c",
            CHILD.format(
                models=str(ROOT / "tests" / "python"), benchmarks=str(ROOT / "benchmarks")
            ),
            name,
            str(threads),
            mode,
            repr(options),
        ],
        KILN_LOG="info",
        KILN_TUNE="off",
    )
    if row is None:
        raise RuntimeError(f"{name} {mode}: no result\n{out.stderr[-3000:]}")
    # "kiln: 12 kernels loaded from the code cache, 0 compiled" (one line per compiled graph)
    counts = re.findall(r"(\d+) kernels loaded from the code cache, (\d+) compiled", out.stderr)
    row["loaded"] = sum(int(a) for a, _ in counts)
    row["compiled"] = sum(int(b) for _, b in counts)
    return row


def measure(name: str, threads: int, tune_budget: float, repeats: int) -> dict:
    cache = tempfile.mkdtemp(prefix="kiln-warm-start-")
    built = _child(
        name,
        threads,
        "kiln",
        {"tune": "background", "cache_dir": cache, "tune_budget_s": tune_budget},
    )
    runs: dict[str, list[dict]] = {"aot_eager": [], "cold": [], "warm": []}
    for _ in range(repeats):
        runs["aot_eager"].append(_child(name, threads, "aot_eager", {}))
        runs["cold"].append(
            _child(
                name,
                threads,
                "kiln",
                {"tune": "off", "cache_dir": tempfile.mkdtemp(prefix="kiln-cold-")},
            )
        )
        runs["warm"].append(
            _child(name, threads, "kiln", {"tune": "cache-only", "cache_dir": cache})
        )
    row = {"model": name, "threads": threads, "tuned_in_build": built["tuned_slots"]}
    for mode, rs in runs.items():
        row[f"{mode}_first_s"] = statistics.median(r["first"] for r in rs)
        row[f"{mode}_first_runs_s"] = [round(r["first"], 3) for r in rs]  # the spread
        row[f"{mode}_steady_ms"] = 1e3 * statistics.median(r["steady"] for r in rs)
    warm = runs["warm"][-1]
    row.update(
        warm_loaded=warm["loaded"],
        warm_compiled=warm["compiled"],
        warm_tuned_slots=warm["tuned_slots"],
        slots=warm["slots"],
    )
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mlp,cnn,resnet18,transformer,gpt2")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tune-budget", type=float, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    print(
        f"{'model':<12} {'aot_eager':>9} {'cold':>7} {'warm':>7} {'warm-aot':>8}   "
        f"{'steady: cold':>12} {'warm':>8}   {'loaded':>6} {'compiled':>8} {'tuned':>7}"
    )
    rows = []
    for name in args.models.split(","):
        r = measure(name, args.threads, args.tune_budget, args.repeats)
        rows.append(r)
        print(
            f"{name:<12} {r['aot_eager_first_s']:>8.2f}s {r['cold_first_s']:>6.2f}s "
            f"{r['warm_first_s']:>6.2f}s {r['warm_first_s'] - r['aot_eager_first_s']:>+7.2f}s   "
            f"{r['cold_steady_ms']:>10.3f}ms {r['warm_steady_ms']:>6.3f}ms   "
            f"{r['warm_loaded']:>6} {r['warm_compiled']:>8} {r['warm_tuned_slots']:>3}/{r['slots']:<3}",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

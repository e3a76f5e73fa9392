"""Background tuning on the standard models: Kiln with default schedules against Kiln after its
tuning service ran for a budget while the model kept serving, side by side with eager and
TorchInductor, in one fresh process per model.

    python benchmarks/tuned_models.py [--models mlp,cnn,resnet18,transformer,gpt2]
                                      [--budget 600] [--threads 2] [--repeats 30]

Per model: eager, Inductor (default mode), Kiln default (tune="off") and Kiln tuned latency
(median of --repeats calls, the four taking turns call by call, in an order rotated every repeat,
so that machine noise and cache warmth hit all alike), the slots tuned / kept, and the trials run.

The served model calls with an idle gap as long as one call (a serving loop that is busy half the
time): the tuner runs at SCHED_IDLE and measures in those gaps. What the tuner costs the model is
measured on the tuned model itself, in phases that take turns while it tunes: 4 s with the tuner
working, 2 s with it held (kiln.tuning.pause(); the first 0.5 s of a held phase is left out, as
the measurement in flight finishes). Each working phase's median call is compared with the mean
of its held neighbours', so that kernels swapped in on the way weigh on both sides alike; the
"cost" column is the median of those ratios, minus one (target: at most +10%). Beside it, the
service's own measure ("self"), its calls while it works against its calls while its duty cycle
pauses it, and the share of time it worked ("duty"; it pauses to keep the cost within 10%). Held
time is not spent from the budget. Each model tunes into a fresh cache.
Prints one table and the geomean of tuned over default; --json FILE keeps the rows.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from fresh_process import print_row, run_for_row


def _measure(name: str, threads: int, budget: float, repeats: int, trials: int) -> dict:
    import statistics
    import time

    import torch

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    import kiln
    from models import make

    torch.backends.mha.set_fastpath_enabled(False)
    torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    model, x = make(name, bench=True)
    model.eval()
    cache = tempfile.mkdtemp(prefix="kiln-bench-cache-")
    expected = model(x)
    inductor = torch.compile(model)
    default = kiln.compile(model, tune="off")

    def serve(fn) -> float:
        """One call and the idle gap after it (as long as the call); returns the call's time."""
        t = time.perf_counter()
        fn(x)
        spent = time.perf_counter() - t
        time.sleep(spent)
        return spent

    def tuning_done() -> bool:
        tuning = [s["tuning"] for s in kiln.stats()["slots"] if s["tuning"]]
        return bool(tuning) and all(t["state"] not in ("waiting", "tuning") for t in tuning)

    for fn in (inductor, default):
        fn(x)
    tuned = kiln.compile(
        model,
        tune="background",
        cache_dir=cache,
        tune_budget_s=budget,
        tune_trials=trials,
    )
    kiln.tuning.pause()
    tuned(x)  # compiles
    start = time.perf_counter()
    phases = []  # (working, median call) in turns
    working = False
    while not (working and tuning_done()) and time.perf_counter() - start < 3 * budget + 30:
        (kiln.tuning.resume if working else kiln.tuning.pause)()
        phase_start, calls = time.perf_counter(), []
        while time.perf_counter() - phase_start < (4 if working else 2):
            spent = serve(tuned)
            if working or time.perf_counter() - phase_start > 0.5:
                calls.append(spent)
        phases.append((working, statistics.median(calls)))
        working = not working
    kiln.tuning.resume()
    tuning_s = time.perf_counter() - start
    costs = []  # each working phase against the mean of its held neighbours
    for i, (was_working, median) in enumerate(phases):
        held = [phases[j][1] for j in (i - 1, i + 1) if 0 <= j < len(phases) and not phases[j][0]]
        if was_working and held:
            costs.append(median / statistics.mean(held) - 1)
    kiln.tuning.stop()
    stats = kiln.stats()
    columns = list(
        {"eager": model, "inductor": inductor, "default": default, "tuned": tuned}.items()
    )
    times = {k: [] for k, _ in columns}
    for r in range(repeats):
        # Rotated each repeat: a call right after another over the same weights finds them in
        # cache, so a fixed order would favour whichever column comes second.
        for k, fn in columns[r % 4 :] + columns[: r % 4]:
            t = time.perf_counter()
            fn(x)
            times[k].append(time.perf_counter() - t)
    row = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    states = [s["tuning"]["state"] for s in stats["slots"] if s["tuning"]]
    row.update(
        model=name,
        threads=threads,
        held=1e3 * statistics.median(m for w, m in phases if not w),
        working=1e3 * statistics.median(m for w, m in phases if w) if len(phases) > 1 else None,
        cost=statistics.median(costs) if costs else None,
        phases=len(phases),
        tuning_s=tuning_s,
        trials=stats["tuning"]["trials"],
        measured_slowdown=stats["tuning"]["model_slowdown"],  # the service's own
        duty=stats["tuning"]["duty"],
        tuned_slots=states.count("tuned"),
        slots=len(states),
        max_diff=(tuned(x) - expected).abs().max().item(),
    )
    return row


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}ms"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="mlp,cnn,resnet18,transformer,gpt2")
    parser.add_argument("--budget", type=float, default=600)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--trials", type=int, default=64)
    parser.add_argument("--json", default=None)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the per-model process
    args = parser.parse_args()
    if args.one:
        row = _measure(args.one, args.threads, args.budget, args.repeats, args.trials)
        print_row(row)
        return 0
    rows = []
    header = (
        f"{'model':<12} {'eager':>9} {'inductor':>9} {'default':>9} {'tuned':>9} "
        f"{'tuned/def':>9} {'serving: held':>13} {'working':>9} {'cost':>5} "
        f"{'slots tuned':>11} {'trials':>6} {'s':>5} {'self':>5} {'duty':>5}"
    )
    print(header)
    for name in args.models.split(","):
        r, out = run_for_row(
            [
                __file__,
                "--one",
                name,
                "--budget",
                str(args.budget),
                "--threads",
                str(args.threads),
                "--repeats",
                str(args.repeats),
                "--trials",
                str(args.trials),
            ],
            KILN_LOG="warning",
        )
        if r is None:
            print(f"{name}: failed\n{out.stderr[-3000:]}", file=sys.stderr)
            continue
        rows.append(r)
        print(
            f"{name:<12} {r['eager']:>7.3f}ms {r['inductor']:>7.3f}ms {r['default']:>7.3f}ms "
            f"{r['tuned']:>7.3f}ms {r['default'] / r['tuned']:>8.2f}x {r['held']:>11.3f}ms "
            f"{_ms(r['working']):>9} {_percent(r['cost']):>5} "
            f"{r['tuned_slots']:>5}/{r['slots']:<5} {r['trials']:>6} {r['tuning_s']:>5.0f} "
            f"{r['measured_slowdown']:>+5.0%} {r['duty']:>5.2f}",
            flush=True,
        )
    if rows:
        geomean = math.exp(sum(math.log(r["default"] / r["tuned"]) for r in rows) / len(rows))
        print(
            f"geomean tuned over default: {geomean:.3f}x ({args.threads} threads, budget "
            f"{args.budget:.0f} s per model)"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

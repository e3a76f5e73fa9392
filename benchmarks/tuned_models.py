"""Background tuning on the standard models: Kiln with default schedules against Kiln after its
tuning service ran for a budget while the model kept serving, side by side with eager and
TorchInductor, in one fresh process per model.

    python benchmarks/tuned_models.py [--models mlp,cnn,resnet18,transformer,gpt2]
                                      [--budget 600] [--threads 2] [--repeats 30]

Per model: eager, Inductor (default mode), Kiln default (tune="off") and Kiln tuned latency
(median of --repeats calls, the four taking turns call by call, in an order rotated every repeat,
so that machine noise and cache warmth hit all alike), the slots tuned / kept, and the trials run.

The served model calls with an idle gap as long as one call (a serving loop that is busy half the
time): the tuner runs at SCHED_IDLE and measures in those gaps. What the tuner costs the model:
the default-schedule model's serving latency before any tuner exists (15 s of the loop) against
the tuned model's while its tuner works (median of each). Only one model serves at a time: with
two compiled versions of one module taking turns, the small models' latencies moved by up to 20%
between phases for no cause we could tie to the tuner. The tuned model's kernels get faster as
swaps land, so the second figure leans its way; the service's own measure, its calls while it
works against its calls while it pauses (DutyCycle), does not: the table shows it ("cost") and
the share of time the service worked ("duty"; it pauses to keep the cost within 10%). Each model
tunes into a fresh cache.
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
from fresh_process import print_row, run_for_row  # noqa: E402


def _measure(name: str, threads: int, budget: float, repeats: int, trials: int) -> dict:
    import statistics
    import time

    import torch

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    from models import make

    import kiln

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

    for fn in (inductor, default):
        fn(x)
    start = time.perf_counter()
    before_tuning = []
    while time.perf_counter() - start < 15:
        before_tuning.append(serve(default))
    tuned = kiln.compile(model, tune="background", cache_dir=cache, tune_budget_s=budget,
                         tune_trials=trials, tune_threads=1)
    start = time.perf_counter()
    tuned(x)
    while_tuning = []
    while time.perf_counter() - start < budget + 10:
        while_tuning.append(serve(tuned))
        tuning = [s["tuning"] for s in kiln.stats()["slots"] if s["tuning"]]
        if tuning and all(t["state"] not in ("waiting", "tuning") for t in tuning):
            break
    tuning_s = time.perf_counter() - start
    kiln.tuning.stop()
    stats = kiln.stats()
    columns = list({"eager": model, "inductor": inductor, "default": default, "tuned": tuned}.items())
    times = {k: [] for k, _ in columns}
    for r in range(repeats):
        # Rotated each repeat: a call right after another over the same weights finds them in
        # cache, so a fixed order would favour whichever column comes second.
        for k, fn in columns[r % 4:] + columns[: r % 4]:
            t = time.perf_counter()
            fn(x)
            times[k].append(time.perf_counter() - t)
    row = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    states = [s["tuning"]["state"] for s in stats["slots"] if s["tuning"]]
    row.update(
        model=name,
        threads=threads,
        before_tuning=1e3 * statistics.median(before_tuning),
        while_tuning=1e3 * statistics.median(while_tuning),
        tuning_s=tuning_s,
        trials=stats["tuning"]["trials"],
        measured_slowdown=stats["tuning"]["model_slowdown"],  # the service's own
        duty=stats["tuning"]["duty"],
        tuned_slots=states.count("tuned"),
        slots=len(states),
        max_diff=(tuned(x) - expected).abs().max().item(),
    )
    return row


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
    header = (f"{'model':<12} {'eager':>9} {'inductor':>9} {'default':>9} {'tuned':>9} "
              f"{'tuned/def':>9} {'serving: before':>15} {'while tuning':>12} {'slots tuned':>11} {'trials':>6} {'s':>5} {'cost':>5} {'duty':>5}")
    print(header)
    for name in args.models.split(","):
        r, out = run_for_row(
            [__file__, "--one", name, "--budget", str(args.budget), "--threads", str(args.threads),
             "--repeats", str(args.repeats), "--trials", str(args.trials)],
            KILN_LOG="warning",
        )
        if r is None:
            print(f"{name}: failed\n{out.stderr[-3000:]}", file=sys.stderr)
            continue
        rows.append(r)
        print(
            f"{name:<12} {r['eager']:>7.3f}ms {r['inductor']:>7.3f}ms {r['default']:>7.3f}ms "
            f"{r['tuned']:>7.3f}ms {r['default'] / r['tuned']:>8.2f}x {r['before_tuning']:>13.3f}ms "
            f"{r['while_tuning']:>8.3f}ms ({r['while_tuning'] / r['before_tuning'] - 1:+4.0%}) "
            f"{r['tuned_slots']:>5}/{r['slots']:<5} {r['trials']:>6} {r['tuning_s']:>5.0f} "
            f"{r['measured_slowdown']:>+5.0%} {r['duty']:>5.2f}",
            flush=True,
        )
    if rows:
        geomean = math.exp(sum(math.log(r["default"] / r["tuned"]) for r in rows) / len(rows))
        print(f"geomean tuned over default: {geomean:.3f}x ({args.threads} threads, budget "
              f"{args.budget:.0f} s per model)")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

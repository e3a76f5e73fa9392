"""Kiln's whole loop on a real model: compile, run at once on default-schedule kernels, tune in the
background while the model keeps running, swap faster kernels in as they are found.

    python examples/tuning_demo.py                       # a GPT-2 block, 150 s of tuning
    python examples/tuning_demo.py --model resnet18 --budget 300 --no-inductor

Prints the first call's latency, the default schedules' latency, a progress line while tuning
(with each swap as it happens), and the final latency beside eager PyTorch and TorchInductor.
While tuning, the model serves like a server that is busy half the time (it sleeps as long as
each call took): the tuner runs at idle priority in the gaps.
The tuning cache is a fresh folder unless --cache-dir names one; run twice with the same folder
and the second run starts from the tuned kernels.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import kiln
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "python"))
from compare import median_ms
from models import make


def tuning_line(stats: dict) -> str:
    t = stats["tuning"]
    states = ", ".join(f"{n} {s}" for s, n in t["by_state"].items())
    return (
        f"{t['slots']} slots ({states}), {t['trials']} trials, {t['swaps']} swaps; the model "
        f"runs {t['model_slowdown']:.0%} slower while the tuner works, {t['duty']:.0%} of the time"
    )


def side_by_side(calls: dict, repeats: int = 15) -> dict:
    """Median ms per call of each callable, all taking turns in an order rotated every repeat."""
    names = list(calls)
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            calls[name]()
            times[name].append(time.perf_counter() - start)
    return {name: 1e3 * statistics.median(t) for name, t in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="gpt2", help="gpt2, resnet18, transformer, cnn, mlp")
    parser.add_argument("--budget", type=float, default=150, help="seconds of background tuning")
    parser.add_argument("--trials", type=int, default=24, help="measurements per workload")
    parser.add_argument(
        "--cache-dir", default=None, help="the tuning cache (default: a new folder)"
    )
    parser.add_argument("--no-inductor", action="store_true", help="skip TorchInductor")
    parser.add_argument(
        "--timeline",
        default=None,
        help="write slot latencies and swaps (JSON) for `kiln report --timeline`",
    )
    args = parser.parse_args()
    cache_dir = args.cache_dir or tempfile.mkdtemp(prefix="kiln-demo-cache-")

    model, x = make(args.model, bench=True)
    model.eval()
    torch.set_grad_enabled(False)
    print(
        f"{args.model}: input {list(x.shape)}, {torch.get_num_threads()} threads, cache {cache_dir}"
    )
    expected = model(x)
    eager_ms = median_ms(lambda: model(x), 10)
    print(f"eager                 {eager_ms:9.3f} ms")

    inductor_ms = None
    if not args.no_inductor:
        inductor = torch.compile(model)
        start = time.perf_counter()
        inductor(x)
        print(f"inductor first call   {time.perf_counter() - start:9.2f} s")
        inductor_ms = median_ms(lambda: inductor(x), 10)
        print(f"inductor              {inductor_ms:9.3f} ms")

    options = {"cache_dir": cache_dir, "tune_trials": args.trials, "tune_budget_s": args.budget}
    default = kiln.compile(model, tune="off", **options)
    start = time.perf_counter()
    default(x)
    print(
        f"kiln first call       {time.perf_counter() - start:9.2f} s (compiles; default schedules)"
    )
    default_ms = median_ms(lambda: default(x), 10)
    print(f"kiln default          {default_ms:9.3f} ms")

    tuned = kiln.compile(model, tune="background", **options)
    tuned(x)
    print(f"background tuning for up to {args.budget:.0f} s while the model keeps running:")
    start = time.perf_counter()
    swaps_seen: dict[int, int] = {}
    latencies = []
    next_report = 0.0
    # Per slot: (seconds, ms per call over the last second), from the slots' counters.
    timeline: dict[int, list] = {}
    last_counts = {s["slot"]: (s["calls"], s["time_ms"]) for s in kiln.stats()["slots"]}
    next_sample = 1.0
    while True:
        call = time.perf_counter()
        tuned(x)
        latencies.append(time.perf_counter() - call)
        # A served model waits for requests: here it is busy half the time. The tuner runs at
        # idle priority in those gaps, so it never slows a call; a model called back to back on
        # every core leaves it no time at all.
        time.sleep(latencies[-1])
        elapsed = time.perf_counter() - start
        stats = kiln.stats()
        for slot in stats["slots"]:
            t = slot["tuning"]
            if t and t["swaps"] > swaps_seen.get(slot["slot"], 0):
                swaps_seen[slot["slot"]] = t["swaps"]
                print(
                    f"  [{elapsed:5.0f} s] swap: slot {slot['slot']} ({slot['ops'][:50]}) "
                    f"{t['first_ms']:.3f} -> {t['best_ms']:.3f} ms ({t['speedup']:.2f}x)"
                )
        if elapsed >= next_sample:
            next_sample += 1.0
            for slot in stats["slots"]:
                calls, ms = last_counts.get(slot["slot"], (0, 0.0))
                if slot["tuning"] and slot["calls"] > calls:
                    per_call = (slot["time_ms"] - ms) / (slot["calls"] - calls)
                    timeline.setdefault(slot["slot"], []).append((elapsed, per_call))
                last_counts[slot["slot"]] = (slot["calls"], slot["time_ms"])
        busy = any(
            s["tuning"] and s["tuning"]["state"] in ("waiting", "tuning") for s in stats["slots"]
        )
        if elapsed >= next_report:
            recent = 1e3 * statistics.median(latencies[-20:])
            print(f"  [{elapsed:5.0f} s] {tuning_line(stats)}; model {recent:.3f} ms per call")
            next_report += 15
        if elapsed > args.budget + 5 or not busy:
            break
    kiln.tuning.stop()
    if args.timeline:
        Path(args.timeline).write_text(
            json.dumps({"latency": timeline, "swaps": kiln._C.tuning_swaps()})
        )
        print(f"wrote {args.timeline}: plot it with `kiln report --timeline {args.timeline}`")
    diff = (tuned(x) - expected).abs().max().item()
    stats = kiln.stats()
    print(f"tuning done: {tuning_line(stats)}")
    # The final comparison is side by side, the columns taking turns call by call: the machine's
    # speed drifts over minutes, so figures taken before tuning do not compare with these.
    columns = {"eager": model, "kiln default": default, "kiln tuned": tuned}
    if inductor_ms:
        columns["inductor"] = inductor
    ms = side_by_side({name: (lambda fn=fn: fn(x)) for name, fn in columns.items()})
    watched = [s for s in stats["slots"] if s["tuning"]]  # the tuned model's, not the default's
    swapped = sum(s["served_by"].endswith("(tuned)") for s in watched)
    print(
        f"side by side: kiln tuned {ms['kiln tuned']:.3f} ms, kiln default "
        f"{ms['kiln default']:.3f} ms ({ms['kiln default'] / ms['kiln tuned']:.2f}x over default, "
        f"{swapped} of {len(watched)} slots serve tuned kernels)"
    )
    line = (
        f"eager {ms['eager']:.3f} ms, kiln {ms['kiln tuned']:.3f} ms "
        f"({ms['eager'] / ms['kiln tuned']:.2f}x eager)"
    )
    if inductor_ms:
        line += (
            f", inductor {ms['inductor']:.3f} ms "
            f"({ms['inductor'] / ms['kiln tuned']:.2f}x inductor)"
        )
    print(line)
    print(f"max |kiln - eager| = {diff:.3g}")
    return 0 if diff < 1e-2 * max(1.0, expected.abs().max().item()) else 1


if __name__ == "__main__":
    sys.exit(main())

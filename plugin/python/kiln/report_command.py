"""``kiln report [--out FILE]``: PNG plots of what tuning did.

- Tuning curves per workload of this machine: the best GFLOP/s found after each trial, in the
  order the cache recorded the trials (every search of every process, one after another).
- With ``--timeline FILE`` (written by ``examples/tuning_demo.py --timeline``): each slot's
  latency per call over time, with its swaps marked.
"""

from __future__ import annotations

import json
import sys


def tuning_curves(directory: str) -> dict[str, list[float]]:
    """Workload label → best GFLOP/s after each of this machine's schedule records."""
    from kiln import _C

    here = _C.this_target()
    curves = {}
    for w in _C.cache_workloads(directory):
        records = [
            r
            for r in _C.cache_records(directory, w.key)
            if r.kind == "schedule" and r.target == here
        ]
        if not records:
            continue
        best, curve = 0.0, []
        for r in sorted(records, key=lambda r: r.id):
            if r.status == "ok" and r.seconds > 0:
                best = max(best, w.flops / r.seconds / 1e9)
            curve.append(best)
        first_line = w.description.strip().splitlines()[-1][:60]
        curves[f"{w.key[:8]} {w.op_class}: {first_line}"] = curve
    return curves


def run(directory: str, out: str, timeline: str | None) -> int:
    """Writes the plots to `out`; returns the exit status."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = tuning_curves(directory)
    if not curves and not timeline:
        print(
            f"kiln report: {directory} holds no tuning records of this machine "
            "(run `kiln tune SCRIPT` or a model with tuning on first), and no --timeline was "
            "given: nothing to plot",
            file=sys.stderr,
        )
        return 1
    panels = 1 + (timeline is not None)
    fig, axes = plt.subplots(panels, 1, figsize=(11, 5 * panels), squeeze=False)
    ax = axes[0][0]
    for label, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, label=label)
    ax.set_xlabel("trials (this machine, in recorded order)")
    ax.set_ylabel("best GFLOP/s")
    ax.set_title(f"tuning curves: {len(curves)} workloads in {directory}")
    if 0 < len(curves) <= 12:
        ax.legend(fontsize=7)
    if timeline:
        with open(timeline) as f:
            data = json.load(f)
        ax = axes[1][0]
        for slot, points in data["latency"].items():
            ax.plot([p[0] for p in points], [p[1] for p in points], label=f"slot {slot}")
        for swap in data["swaps"]:
            ax.axvline(swap["time"], color="red" if swap["rollback"] else "green", alpha=0.4)
        ax.set_xlabel("seconds since the model was compiled")
        ax.set_ylabel("ms per call")
        ax.set_yscale("log")
        ax.set_title("latency per slot; swaps in green, roll-backs in red")
        ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out} ({len(curves)} tuning curves{', slot timeline' if timeline else ''})")
    return 0

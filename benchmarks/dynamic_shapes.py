"""Dynamic shapes on the standard models: plain ``torch.compile(backend="kiln")`` (Dynamo's
automatic dynamic shapes) and ``dynamic=True`` against static-shape Kiln (``kiln.compile``, a
Dynamo recompile per shape), each model in a fresh process.

    python benchmarks/dynamic_shapes.py [--models mlp,cnn,resnet18,transformer,gpt2]
                                        [--threads 2] [--repeats 30] [--json FILE]

Each model is called with 4 shapes in turn (4 batch sizes; for the two transformers, batch size
and sequence length both change). Per mode: whether every call matched eager (max abs difference),
the lowest compute coverage of any graph it compiled, Dynamo's graph compiles, Kiln's static graph
compiles, and, per shape (default schedules: tuning off), the median latency of --repeats calls, the three modes taking turns call
by call in a rotated order; the table gives each dynamic mode's worst ratio to static over the
shapes (target: at most 1.15x) and the geomean.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from fresh_process import print_row, run_for_row

#: model → the 4 input shapes (sizes 1 are left out: Dynamo specializes them in a graph apart).
SHAPES = {
    "mlp": [(32, 64), (48, 64), (8, 64), (20, 64)],
    "cnn": [(8, 3, 32, 32), (12, 3, 32, 32), (4, 3, 32, 32), (6, 3, 32, 32)],
    "resnet18": [(2, 3, 224, 224), (3, 3, 224, 224), (4, 3, 224, 224), (6, 3, 224, 224)],
    "transformer": [(4, 128, 64), (2, 96, 64), (8, 64, 64), (3, 160, 64)],
    "gpt2": [(4, 128, 64), (2, 96, 64), (8, 64, 64), (3, 160, 64)],
}
MODES = ["static", "automatic", "dynamic"]


def _fresh_entry(model, mode: str):
    """`model` called through a function of its own code: Dynamo keeps its compiled graphs per
    code object and what it learned of varying sizes per function name and place, so the three
    modes share neither."""
    namespace = {"model": model}
    exec(f"def call_{mode}(x):\n    return model(x)\n", namespace)  # noqa: S102
    return namespace[f"call_{mode}"]


def _measure(name: str, threads: int, repeats: int) -> dict:
    import statistics
    import time

    import torch
    import torch._dynamo

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    import kiln
    from models import make

    torch.set_num_threads(threads)
    torch.backends.mha.set_fastpath_enabled(False)  # the layer's real ops, not one fused op
    model, _ = make(name)
    model.eval()
    inputs = [torch.randn(shape) for shape in SHAPES[name]]
    compiled, row = {}, {"model": name, "threads": threads}
    with torch.no_grad():
        expected = [model(x) for x in inputs]
        for mode in MODES:
            kiln.reset_stats()
            torch._dynamo.utils.counters.clear()
            entry = _fresh_entry(model, mode)
            if mode == "static":
                fn = kiln.compile(entry)
            else:
                fn = torch.compile(
                    entry, backend="kiln", dynamic=None if mode == "automatic" else True
                )
            diffs, first_s = [], []
            for x, y in zip(inputs, expected, strict=True):
                start = time.perf_counter()
                out = fn(x)
                first_s.append(time.perf_counter() - start)
                diffs.append((out - y).abs().max().item())
            graphs = kiln.stats()["graphs"]
            row[mode] = {
                "max_diff": max(diffs),
                "min_coverage": min(g["compute_coverage"] for g in graphs),
                "dynamo_compiles": torch._dynamo.utils.counters["stats"]["unique_graphs"],
                "kiln_graphs": len(graphs),
                "first_call_s": first_s,
            }
            compiled[mode] = fn
        for i, x in enumerate(inputs):
            times = {mode: [] for mode in MODES}
            for r in range(repeats):
                for mode in MODES[r % 3 :] + MODES[: r % 3]:
                    start = time.perf_counter()
                    compiled[mode](x)
                    times[mode].append(time.perf_counter() - start)
            for mode in MODES:
                row[mode].setdefault("ms", []).append(1e3 * statistics.median(times[mode]))
    return row


def _summary(row: dict) -> str:
    static = row["static"]["ms"]
    cells = [f"{row['model']:<12}"]
    for mode in MODES:
        m = row[mode]
        ratios = [a / b for a, b in zip(m["ms"], static, strict=True)]
        geomean = math.exp(sum(map(math.log, ratios)) / len(ratios))
        cells.append(
            f"{m['max_diff']:9.1e} {m['min_coverage']:6.1%} {m['dynamo_compiles']:4d} "
            f"{m['kiln_graphs']:4d} {max(ratios):6.3f}x {geomean:6.3f}x"
        )
    return " | ".join(cells)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(SHAPES))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--json", default=None)
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # the per-model process
    args = parser.parse_args()
    if args.one:
        print_row(_measure(args.one, args.threads, args.repeats))
        return 0
    columns = f"{'max diff':>9} {'cov':>6} {'dyn':>4} {'kiln':>4} {'worst':>7} {'geo':>7}"
    print(f"{'':<12} | " + " | ".join(f"{mode:^41}" for mode in MODES))
    print(f"{'model':<12} | " + " | ".join([columns] * 3))
    rows, failed = [], False
    for name in args.models.split(","):
        argv = [__file__, "--one", name, "--threads", str(args.threads)]
        # Default schedules in all modes: the background tuner would swap kernels in each mode's
        # slots at its own pace, and compare how far it got rather than the shapes.
        row, out = run_for_row([*argv, "--repeats", str(args.repeats)], KILN_TUNE="off")
        if row is None:
            print(f"{name}: failed\n{out.stderr[-3000:]}")
            failed = True
            continue
        rows.append(row)
        print(_summary(row), flush=True)
    print(
        "columns per mode: max |kiln - eager| over the 4 shapes, lowest graph compute coverage, "
        "Dynamo graph compiles, Kiln graph compiles, worst and geomean latency over static Kiln "
        f"at the same shape ({args.threads} threads, median of {args.repeats} calls per shape)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

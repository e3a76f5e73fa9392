"""Kiln's op coverage over the ATen ops TorchInductor lowers, from OpInfo sweeps.

    python scripts/opinfo_sweep.py --samples 0 --dtypes float32,bfloat16 --json s.json
    python scripts/coverage_report.py s.json [more shards.json] [--out report.txt]

An ATen op counts as lowered by Inductor when Inductor's lowering table
(``torch._inductor.lowering.lowerings``) has it as an OpOverload and does not list it among its
fallbacks (``torch._inductor.lowering.fallbacks``, the ops it hands back to ATen). Over the sweep's
ATen nodes of those ops, free views of graph inputs left out (a view is free in ATen, and Kiln
leaves it there), the report gives the share inside Kiln kernels: per mode (forward, backward),
then per op, the ops with the most nodes outside Kiln first. The same figures over every op
follow, for comparison.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from opinfo_sweep import merge


def inductor_lowered() -> set[str]:
    """The names ("aten.add.Tensor") of the ATen ops Inductor lowers itself."""
    import torch
    from torch._inductor import lowering

    fallbacks = {str(op) for op in lowering.fallbacks}
    return {
        str(op)
        for op in lowering.lowerings
        if isinstance(op, torch._ops.OpOverload) and str(op) not in fallbacks
    }


def report(op_nodes: dict[str, list[int]], lowered: set[str]) -> list[str]:
    """The lines of one mode's report."""
    rows = []  # (op, compute nodes, in Kiln, lowered by Inductor)
    for op, (nodes, compiled, views) in op_nodes.items():
        name = op.removeprefix("opaque:")
        rows.append((name, nodes - views, compiled, name in lowered))
    lines = []
    for title, keep in (("ops Inductor lowers", True), ("every op", False)):
        chosen = [r for r in rows if r[3] or not keep]
        total, inside = sum(r[1] for r in chosen), sum(r[2] for r in chosen)
        share = inside / total if total else 1.0
        lines.append(f"{title}: {inside}/{total} ATen compute nodes in Kiln kernels ({share:.1%})")
    lines.append(f"{'nodes':>7} {'in Kiln':>7}  {'Inductor':8}  op")
    merged: dict[str, list] = {}
    for name, nodes, compiled, is_lowered in rows:
        entry = merged.setdefault(name, [0, 0, is_lowered])
        entry[0] += nodes
        entry[1] += compiled
    for name, (nodes, compiled, is_lowered) in sorted(
        merged.items(), key=lambda kv: (kv[1][1] - kv[1][0], kv[0])
    ):
        if nodes:
            lines.append(f"{nodes:7d} {compiled:7d}  {'lowers' if is_lowered else '-':8}  {name}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", help="JSON files of scripts/opinfo_sweep.py --json")
    parser.add_argument("--out", default="", help="also write the report here")
    args = parser.parse_args()
    shards = [json.loads(Path(f).read_text()) for f in args.sweeps]
    lowered = inductor_lowered()
    lines = [f"Inductor lowers {len(lowered)} ATen ops (lowerings minus fallbacks)"]
    for mode in ("forward", "backward"):
        counts = [s[mode] for s in shards if mode in s]
        if not counts:
            continue
        merged = merge(counts)
        lines += ["", f"{mode}: {merged['samples']} samples, {merged['mismatch']} mismatches"]
        lines += report(merged["op_nodes"], lowered)
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

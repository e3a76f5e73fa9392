"""Plots tuning_curves.json (from the tuning_curves benchmark) as one panel per workload."""

import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(path: str, out: str) -> None:
    with open(path) as f:
        data = json.load(f)
    workloads = data["workloads"]
    cols = 4
    rows = math.ceil(len(workloads) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, w in zip(axes.flat, workloads):
        for name, style in (("model", "-"), ("random", "--"), ("annealing", ":")):
            curve = w.get(name, [])
            ax.plot(range(1, len(curve) + 1), curve, style, label=name)
        ax.set_title(w["name"], fontsize=8)
        ax.set_xlabel("trials")
        ax.set_ylabel("best GFLOP/s")
    for ax in list(axes.flat)[len(workloads):]:
        ax.axis("off")
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tuning_curves.json",
         sys.argv[2] if len(sys.argv) > 2 else "tuning_curves.png")

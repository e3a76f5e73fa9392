"""Plots the JSON files of the tuning_curves benchmark (one per shard) as one panel per workload,
and prints per workload how many trials model-guided search and annealing needed to reach the
best that random search found in all its trials, with the median over the workloads.

    python3 benchmarks/plot_tuning_curves.py shard0.json [shard1.json ...] --out curves.png
"""

import argparse
import json
import math
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def trials_to_reach(curve, target):
    """1-based trials until `curve` reaches `target`, or None when it never does."""
    for i, best in enumerate(curve):
        if best >= target * (1 - 1e-9):
            return i + 1
    return None


def summarize(workloads):
    """Trials to reach random search's best, exactly and within 1% (a best of 1000 noisy
    measurements is itself up to a few percent above the kernel's typical speed)."""
    print(
        f"{'workload':34} {'random best':>11} {'model best':>10} {'anneal best':>11} "
        f"{'model trials':>12} {'to 99%':>7} {'anneal trials':>13}"
    )
    reached, reached_99 = [], []
    for w in workloads:
        target = w["random"][-1] if w["random"] else 0
        model = trials_to_reach(w["model"], target)
        model_99 = trials_to_reach(w["model"], 0.99 * target)
        anneal = trials_to_reach(w["annealing"], target)
        # A workload never reached counts as one past the model's budget.
        reached.append(model if model is not None else len(w["model"]) + 1)
        reached_99.append(model_99 if model_99 is not None else len(w["model"]) + 1)
        print(
            f"{w['name']:34} {target:11.1f} {max(w['model'], default=0):10.1f} "
            f"{max(w['annealing'], default=0):11.1f} {model or 'never':>12} "
            f"{model_99 or 'never':>7} {anneal or 'never':>13}"
        )
    if reached:
        random_trials = max(len(w["random"]) for w in workloads)
        print(
            f"median over {len(reached)} workloads: model-guided search reaches random search's "
            f"best of {random_trials} trials in {statistics.median(reached):.0f} trials "
            f"(99% of it in {statistics.median(reached_99):.0f})"
        )


def plot(workloads, out):
    cols = 4
    rows = math.ceil(len(workloads) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, w in zip(axes.flat, workloads):
        for name, style in (("model", "-"), ("random", "--"), ("annealing", ":")):
            curve = w.get(name, [])
            ax.plot(range(1, len(curve) + 1), curve, style, label=name)
        ax.set_title(w["name"], fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("trials")
        ax.set_ylabel("best GFLOP/s")
    for ax in list(axes.flat)[len(workloads) :]:
        ax.axis("off")
    axes.flat[0].legend()
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("json", nargs="+", help="tuning_curves output files")
    p.add_argument("--out", default="tuning_curves.png")
    args = p.parse_args()
    workloads = []
    for path in args.json:
        with open(path) as f:
            workloads += json.load(f)["workloads"]
    summarize(workloads)
    plot(workloads, args.out)


if __name__ == "__main__":
    main()

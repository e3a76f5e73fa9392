"""Merges transfer_learning shard files and prints the leave-one-out medians the tuning-cache
issue asks for: warm trials to 95% of best ÷ cold trials (target ≤ 1/3) and the warm model's
first pick as a fraction of best (target ≥ 80%). With --seeds N, a workload's trials are the
median of its N searches, and the searches' own counts follow in brackets. Best and trials are
judged on re-timed kernels; the same medians judged on the searches' own (noisy) measurements
follow, where the files have them. Files of the first-pick phase get its table instead: the
warm model's first pick, the search's first trial and the default schedule, each re-timed as a
fraction of the best, and the model's favourite among the workload's own records.

    python3 benchmarks/summarize_transfer.py t0.json t1.json
"""

from __future__ import annotations

import json
import statistics
import sys


def main(paths: list[str]) -> int:
    rows = []
    for path in paths:
        with open(path) as f:
            rows += json.load(f)["workloads"]
    if not rows:
        print("no workloads in", paths, file=sys.stderr)
        return 1
    if "warm_trials_to_95" not in rows[0]:
        return summarize_first_pick(rows)

    def shown(count: float, budget: int) -> str:
        return "never" if count > budget else f"{count:g}"

    def per_seed(w: dict, model: str) -> str:
        counts = w.get(f"{model}_trials_to_95_per_seed", [])
        return " ".join(shown(c, w["trials"]) for c in counts) if len(counts) > 1 else ""

    print(
        f"{'workload':<32} {'best GF/s':>9} {'warm':>5} {'cold':>5} {'first pick':>10}"
        "  per seed: [warm] [cold]"
    )
    for w in sorted(rows, key=lambda w: w["name"]):
        budget = w["trials"]
        warm = shown(w["warm_trials_to_95"], budget)
        cold = shown(w["cold_trials_to_95"], budget)
        seeds = f"  [{per_seed(w, 'warm')}] [{per_seed(w, 'cold')}]" if per_seed(w, "warm") else ""
        print(
            f"{w['name']:<32} {w['best_gflops']:>9.1f} {warm:>5} {cold:>5} "
            f"{100 * w['warm_first_pick']:>9.0f}%{seeds}"
        )
    # A search that never reaches 95% counts as budget + 1 trials (a miss, not a small number).
    warm = statistics.median(w["warm_trials_to_95"] for w in rows)
    cold = statistics.median(w["cold_trials_to_95"] for w in rows)
    first = statistics.median(w["warm_first_pick"] for w in rows)
    print(
        f"median trials to 95% of best: warm {warm}, cold {cold} (ratio {warm / cold:.2f}, target <= 0.33)"
    )
    print(f"median warm first pick: {100 * first:.0f}% of best (target >= 80%)")
    noisy = [w for w in rows if "noisy_warm_trials_to_95_per_seed" in w]
    if noisy:
        nw = statistics.median(
            statistics.median(w["noisy_warm_trials_to_95_per_seed"]) for w in noisy
        )
        nc = statistics.median(
            statistics.median(w["noisy_cold_trials_to_95_per_seed"]) for w in noisy
        )
        print(f"on the searches' own measurements: warm {nw}, cold {nc} (ratio {nw / nc:.2f})")
    return 0


def summarize_first_pick(rows: list[dict]) -> int:
    columns = ["warm_first_pick", "first_trial", "default", "top_pick_on_records"]
    print(
        f"{'workload':<32} {'best GF/s':>9} {'first pick':>10} {'first trial':>11} "
        f"{'default':>8} {'on records':>10}"
    )
    for w in sorted(rows, key=lambda w: w["name"]):
        shares = " ".join(
            f"{100 * w[c]:>{width - 1}.0f}%" for c, width in zip(columns, [10, 11, 8, 10])
        )
        print(f"{w['name']:<32} {w['best_gflops']:>9.1f} {shares}")
    medians = ", ".join(f"{c} {100 * statistics.median(w[c] for w in rows):.0f}%" for c in columns)
    below = sum(w["warm_first_pick"] < 0.8 for w in rows)
    print(f"medians: {medians}")
    print(f"first pick below 80% of best: {below} of {len(rows)} workloads (target: median >= 80%)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Merges transfer_learning shard files and prints the leave-one-out medians the tuning-cache
issue asks for: warm trials to 95% of best ÷ cold trials (target ≤ 1/3) and the warm model's
first pick as a fraction of best (target ≥ 80%). With --seeds N, a workload's trials are the
median of its N searches, and the searches' own counts follow in brackets. Best and trials are
judged on re-timed kernels; the same medians judged on the searches' own (noisy) measurements
follow, where the files have them.

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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

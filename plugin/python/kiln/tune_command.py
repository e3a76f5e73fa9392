"""``kiln tune [--budget S] [--trials N] [--threads T] SCRIPT [ARGS...]``: runs a user's script with Kiln recording the kernel slots its
compiled models run, then tunes those workloads into the tuning cache, hottest first, with a
progress line (trials, best GFLOP/s, elapsed, ETA). The next process that compiles the same
models starts from the tuned kernels."""

from __future__ import annotations

import os
import runpy
import sys
import time


class ProgressLine:
    """One line, rewritten in place on a terminal, one line per workload elsewhere."""

    def __init__(self, budget_s: float, stream=sys.stderr):
        self.budget_s = budget_s
        self.stream = stream
        self.start = time.monotonic()
        self.workload = None
        self.last = ""

    def __call__(self, workload: str, trial: int, trials: int, best_gflops: float, elapsed: float):
        total = time.monotonic() - self.start
        eta = elapsed / trial * (trials - trial) if trial else 0.0
        line = (
            f"[kiln tune] {workload}: trial {trial}/{trials}, best {best_gflops:.1f} GFLOP/s, "
            f"{elapsed:.0f} s, ETA {eta:.0f} s (total {total:.0f}"
            + (f"/{self.budget_s:.0f} s)" if self.budget_s else " s)")
        )
        if workload != self.workload and self.workload is not None and not self.stream.isatty():
            self.stream.write(self.last + "\n")
        self.workload = workload
        self.last = line
        if self.stream.isatty():
            self.stream.write("\r" + line + "\033[K")
            self.stream.flush()

    def close(self):
        if self.last:
            self.stream.write(("\r" if self.stream.isatty() else "") + self.last + "\n")


def run(script: str, args: list[str], budget_s: float, trials: int, threads: int) -> int:
    """Runs `script` with `args`, then tunes what it ran; returns the exit status."""
    # Options reach every torch.compile(backend="kiln") of the script through the environment.
    os.environ["KILN_TUNE"] = "background"
    os.environ["KILN_TUNE_TRIALS"] = str(trials)
    os.environ["KILN_TUNE_THREADS"] = str(threads)
    import kiln
    from kiln import _C

    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            print(f"kiln tune: {script} exited with {e.code}", file=sys.stderr)
            return 1
    progress = ProgressLine(budget_s)
    if not _C.tune_now(budget_s, progress):
        print(
            f"kiln tune: {script} compiled nothing with backend='kiln', so there is nothing to tune",
            file=sys.stderr,
        )
        return 1
    progress.close()
    slots = kiln.stats()["slots"]
    tuned = [s for s in slots if s["tuning"]]
    for s in tuned:
        t = s["tuning"]
        print(
            f"slot {s['slot']:>3} {s['ops'][:60]:<60} {t['state']:<11} {t['trials']:>4} trials"
            + (f"  {t['first_ms']:.3f} -> {t['best_ms']:.3f} ms" if t["best_ms"] else "")
        )
    print(f"kiln tune: {len(tuned)} slots; records in {kiln.tuning.default_cache_dir()}")
    return 0

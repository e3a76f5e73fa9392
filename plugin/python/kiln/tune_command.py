"""``kiln tune [--budget S] [--trials N] [--threads T] SCRIPT [ARGS...]``: runs a user's script
with Kiln recording the kernel slots its compiled models run, then tunes those workloads into the
tuning cache, hottest first, with a progress line (trials, best GFLOP/s, elapsed, ETA). The next
process that compiles the same models starts from the tuned kernels.

``kiln tune-op OP SIZES...`` does the same for one operator at given sizes (``OPS``), checks the
tuned kernels' result against eager and can write each slot's result and the tuning curve as
JSON."""

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


def run(script: str, args: list[str], budget_s: float, trials: int, threads: int | None) -> int:
    """Runs `script` with `args`, then tunes what it ran; returns the exit status."""
    _tune_through_the_environment(trials, threads)
    if not _run_script(script, args):
        return 1
    if _tune_what_ran(budget_s) is None:
        print(
            f"kiln tune: {script} compiled nothing with backend='kiln', so there is nothing to tune",
            file=sys.stderr,
        )
        return 1
    return 0


def run_fleet(script: str, args: list[str], url: str, budget_s: float, trials: int) -> int:
    """Runs `script`, then hands what it ran to the fleet's workers as tasks, shows their
    progress for up to `budget_s` seconds and pulls their records into the local cache."""
    import kiln
    from kiln import _C

    # The script's compiles share the fleet's cache; nothing is searched in this process.
    os.environ["KILN_CACHE_URL"] = url
    _tune_through_the_environment(trials, None)
    kiln.tuning.pause()
    if not _run_script(script, args):
        return 1
    job = _C.fleet_publish(url, trials, budget_s)
    if not job:
        print(f"kiln tune: {script} left nothing to tune (all cached, or nothing compiled)")
        return 0
    start = time.monotonic()
    states = _C.fleet_job(url, job)
    print(f"kiln tune: {len(states)} tasks for the fleet ({job}); waiting for workers", flush=True)
    last = ""
    while True:
        states = _C.fleet_job(url, job)
        counts = {k: sum(s.state == k for s in states) for k in ("queued", "running", "done")}
        failed = len(states) - sum(counts.values())
        elapsed = time.monotonic() - start
        line = (
            f"[kiln tune] {counts['done']}/{len(states)} done, {counts['running']} running, "
            f"{counts['queued']} queued, {failed} failed"
        )
        if line != last:
            print(f"{line} ({elapsed:.0f} s)", flush=True)
            last = line
        if counts["queued"] + counts["running"] == 0:
            print(
                f"kiln tune: {counts['done']}/{len(states)} tasks done by the fleet in {elapsed:.1f} s"
            )
            break
        if budget_s and elapsed > budget_s:
            print(
                f"kiln tune: the budget ({budget_s:.0f} s) is spent; the workers finish the "
                "other tasks and their records reach Redis"
            )
            break
        time.sleep(1)
    for s in sorted(states, key=lambda s: s.id):
        gain = (
            f"  {s.default_seconds * 1e3:.3f} -> {s.best_seconds * 1e3:.3f} ms"
            if s.best_seconds
            else ""
        )
        why = f"  {s.error}" if s.error else ""
        print(
            f"{s.id:<12} {s.name[:50]:<50} {s.state:<8} {s.worker:<20} {s.trials:>4} trials{gain}{why}"
        )
    directory = str(kiln.tuning.default_cache_dir())
    pulled = _C.cache_pull(directory, url)
    print(f"kiln tune: {pulled.records} records from the fleet in {directory}")
    return 0


def _run_script(script: str, args: list[str]) -> bool:
    """Runs `script` as __main__ with `args`; False when it exits with an error status."""
    sys.argv = [script, *args]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            print(f"kiln tune: {script} exited with {e.code}", file=sys.stderr)
            return False
    return True


def _tune_through_the_environment(trials: int, threads: int | None) -> None:
    # Options reach every torch.compile(backend="kiln") of the process through the environment.
    os.environ["KILN_TUNE"] = "background"
    os.environ["KILN_TUNE_TRIALS"] = str(trials)
    if threads is not None:  # else as many as the model's
        os.environ["KILN_TUNE_THREADS"] = str(threads)


def _tune_what_ran(budget_s: float, curve: list | None = None) -> list[dict] | None:
    """Tunes every slot that ran, with a progress line, and prints a line per slot; returns the
    slots' stats, or None when nothing was compiled with background tuning. Appends
    [workload, trial, best GFLOP/s, elapsed s] of each trial to `curve`."""
    import kiln
    from kiln import _C

    progress = ProgressLine(budget_s)

    def on_trial(workload, trial, trials, best_gflops, elapsed):
        if curve is not None:
            curve.append([workload, trial, best_gflops, elapsed])
        progress(workload, trial, trials, best_gflops, elapsed)

    if not _C.tune_now(budget_s, on_trial):
        return None
    progress.close()
    slots = [s for s in kiln.stats()["slots"] if s["tuning"]]
    for s in slots:
        t = s["tuning"]
        print(
            f"slot {s['slot']:>3} {s['ops'][:60]:<60} {t['state']:<11} {t['trials']:>4} trials"
            + (f"  {t['first_ms']:.3f} -> {t['best_ms']:.3f} ms" if t["best_ms"] else "")
        )
    print(f"kiln tune: {len(slots)} slots; records in {kiln.tuning.default_cache_dir()}")
    return slots


# kiln tune-op: each operator is its sizes and a builder of (function, inputs) from them.
def _matmul(m, n, k):
    return (lambda a, b: a @ b), [(m, k), (k, n)]


def _conv(h, w, channels_in, channels_out, kernel, stride):
    import torch.nn.functional as F

    def conv(x, weight):
        return F.conv2d(x, weight, stride=stride, padding=kernel // 2)

    return conv, [(1, channels_in, h, w), (channels_out, channels_in, kernel, kernel)]


def _softmax(rows, columns):
    import torch

    return (lambda x: torch.softmax(x, dim=-1)), [(rows, columns)]


def _layer_norm(rows, columns):
    import torch.nn.functional as F

    return (lambda x: F.layer_norm(x, (columns,))), [(rows, columns)]


OPS = {
    "matmul": (("M", "N", "K"), _matmul),
    "conv": (("H", "W", "IN", "OUT", "KERNEL", "STRIDE"), _conv),
    "softmax": (("ROWS", "COLUMNS"), _softmax),
    "layer_norm": (("ROWS", "COLUMNS"), _layer_norm),
}


def op_usage() -> str:
    return "; ".join(f"{name} {' '.join(sizes)}" for name, (sizes, _) in OPS.items())


def run_op(
    op: str,
    sizes: list[str],
    budget_s: float,
    trials: int,
    threads: int | None,
    json_path: str | None,
) -> int:
    """Compiles one operator at the given sizes with Kiln, tunes its kernels into the cache (as
    `kiln tune` does for a script) and, with `json_path`, writes each slot's result and the
    tuning curve there."""
    names, build = OPS[op]
    if len(sizes) != len(names):
        print(
            f"kiln tune-op: {op} takes {len(names)} sizes ({' '.join(names)}), got {len(sizes)}",
            file=sys.stderr,
        )
        return 2
    try:
        values = [int(v) for v in sizes]
    except ValueError:
        print(f"kiln tune-op: sizes are whole numbers, got {' '.join(sizes)}", file=sys.stderr)
        return 2
    bad = [f"{n}={v}" for n, v in zip(names, values) if v < 1]
    if bad:
        print(f"kiln tune-op: sizes must be at least 1: {', '.join(bad)}", file=sys.stderr)
        return 2
    _tune_through_the_environment(trials, threads)
    import torch

    import kiln

    fn, shapes = build(*values)
    torch.manual_seed(0)
    inputs = [torch.randn(shape) for shape in shapes]
    compiled = kiln.compile(fn)
    with torch.no_grad():
        expected = fn(*inputs)
        compiled(*inputs)
        compiled(*inputs)  # a slot is tuned once it ran twice
    curve = []
    slots = _tune_what_ran(budget_s, curve) or []
    with torch.no_grad():
        torch.testing.assert_close(compiled(*inputs), expected, atol=1e-3, rtol=1e-3)
    if json_path:
        import json

        with open(json_path, "w") as f:
            json.dump(
                {
                    "op": op,
                    "sizes": dict(zip(names, values)),
                    "threads": threads or torch.get_num_threads(),
                    "slots": slots,
                    "curve": curve,
                },
                f,
                indent=1,
            )
    return 0

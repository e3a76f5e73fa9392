"""The ``kiln`` command: ``kiln doctor`` prints what Kiln sees of this machine and setup,
``kiln tune SCRIPT`` tunes what a script runs into the tuning cache (``--fleet URL``: on the
fleet's workers), ``kiln tune-op OP SIZES`` one operator, ``kiln cache ...`` inspects and
maintains that cache, ``kiln worker`` tunes the fleet's tasks (docs/fleet.md)."""

from __future__ import annotations

import argparse
import os
import sys


def doctor() -> int:
    """Prints the target, versions, cache, GPU and whether torch.compile finds the backend."""
    import torch
    import torch._dynamo

    import kiln
    from kiln import _C

    info = _C.doctor()
    gpu = (
        f"{torch.cuda.get_device_name(0)} (torch.cuda, {torch.cuda.device_count()} device(s))"
        if torch.cuda.is_available()
        else "none (torch.cuda.is_available() is False)"
    )
    found = "kiln" in torch._dynamo.list_backends()
    rows = [
        ("kiln", f"{kiln.__version__} ({kiln.__file__})"),
        ("library", f"{_C.library_path()} ({info.build})"),
        ("cpu", info.cpu),
        ("cpu features", " ".join(f[1:] for f in info.features.split(",") if f[:1] == "+")),
        ("vector bits", str(info.vector_bits)),
        (
            "threads",
            (
                f"{info.threads} (torch.get_num_threads() = {torch.get_num_threads()}); a "
                f"parallel loop just ran on {info.parallel_loop_threads}"
            ),
        ),
        ("llvm", info.llvm_version),
        ("torch", f"{torch.__version__} (kiln was built against {kiln._BUILT_WITH_TORCH})"),
        ("tuning cache", _cache_line()),
        ("fleet redis", _fleet_line()),
        ("gpu", gpu),
        ("cuda backend", f"{info.cuda_backend} (not yet used by torch.compile)"),
        (
            "torch.compile",
            'backend "kiln" found by name'
            if found
            else 'backend "kiln" NOT found: is the package installed with its entry point?',
        ),
    ]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if found else 1


def _cache_line() -> str:
    """Where the tuning cache is and what it holds for this machine."""
    from kiln import _C
    from kiln.tuning import default_cache_dir

    directory = str(default_cache_dir())
    path = _C.cache_file(directory)
    if not os.path.exists(path):
        return f"{path} (none yet: the first tuned kernel creates it)"
    rows = _C.cache_workloads(directory)
    return (
        f"{path}: {len(rows)} workloads, {sum(w.records for w in rows)} records, "
        f"{sum(w.here for w in rows)} of this machine"
    )


def _fleet_line() -> str:
    """The fleet's Redis of KILN_CACHE_URL, without its password, and whether it answers."""
    from kiln.cache_command import _fleet_line as line
    from kiln.tuning import default_cache_url

    url = default_cache_url()
    return line(url) if url else "none (KILN_CACHE_URL is not set)"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``kiln`` console script."""
    import kiln
    from kiln import cache_command

    parser = argparse.ArgumentParser(prog="kiln", description="Kiln, a tensor compiler for PyTorch")
    parser.add_argument("--version", action="version", version=f"kiln {kiln.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("doctor", help="check the setup: target, LLVM, torch, GPU, backend")
    tune = commands.add_parser(
        "tune",
        help="run a script, then tune what it ran into the cache",
        usage="kiln tune [--budget S] [--trials N] [--threads T] [--fleet URL] SCRIPT [ARGS...]",
    )
    tune.add_argument("script")
    tune.add_argument("args", nargs=argparse.REMAINDER, help="the script's arguments")
    tune.add_argument("--budget", type=float, default=600, help="seconds of tuning (0: no limit)")
    tune.add_argument("--trials", type=int, default=64, help="measurements per workload")
    tune.add_argument(
        "--threads", type=int, default=None, help="threads candidates run with (default: torch's)"
    )
    tune.add_argument(
        "--fleet",
        default=None,
        help="a Redis URL: the fleet's workers tune instead of this process",
    )
    from kiln.tune_command import OPS, op_usage

    tune_op = commands.add_parser(
        "tune-op",
        help="tune one operator at given sizes into the cache",
        usage="kiln tune-op [--budget S] [--trials N] [--threads T] [--json FILE] OP SIZES...",
        epilog=f"OP SIZES: {op_usage()}",
    )
    tune_op.add_argument("op", choices=sorted(OPS))
    tune_op.add_argument("sizes", nargs="+")
    tune_op.add_argument(
        "--budget", type=float, default=600, help="seconds of tuning (0: no limit)"
    )
    tune_op.add_argument("--trials", type=int, default=200, help="measurements per workload")
    tune_op.add_argument(
        "--threads", type=int, default=None, help="threads candidates run with (default: torch's)"
    )
    tune_op.add_argument("--json", default=None, help="write each slot's result and the curve")
    cache_command.add_parser(commands)
    worker = commands.add_parser("worker", help="tune the fleet's tasks for this machine's target")
    worker.add_argument("--cache", required=True, help="the fleet's Redis: redis://, rediss://")
    worker.add_argument("--dir", default=None, help="the local cache folder (default: the usual)")
    worker.add_argument("--name", default=None, help="this worker's name (default: host.pid)")
    worker.add_argument("--max-tasks", type=int, default=0, help="stop after N tasks (0: never)")
    worker.add_argument(
        "--claim-after", type=float, default=30, help="take over a task idle this long (seconds)"
    )
    report = commands.add_parser("report", help="PNG plots: tuning curves, slot latency and swaps")
    report.add_argument("--dir", default=None, help="the cache folder (default: the usual one)")
    report.add_argument("--out", default="kiln_report.png")
    report.add_argument("--timeline", default=None, help="a timeline file of tuning_demo.py")
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return doctor()
        if args.command == "tune":
            from kiln import tune_command

            if args.fleet:
                if args.threads is not None:
                    parser.error(
                        "--threads does not apply with --fleet: workers measure with the threads "
                        "of their target (start them with the models' thread count)"
                    )
                return tune_command.run_fleet(
                    args.script, args.args, args.fleet, args.budget, args.trials
                )
            return tune_command.run(args.script, args.args, args.budget, args.trials, args.threads)
        if args.command == "worker":
            from kiln import worker_command

            return worker_command.run(args)
        if args.command == "tune-op":
            from kiln import tune_command

            return tune_command.run_op(
                args.op, args.sizes, args.budget, args.trials, args.threads, args.json
            )
        if args.command == "report":
            from kiln import report_command
            from kiln.tuning import default_cache_dir

            return report_command.run(args.dir or str(default_cache_dir()), args.out, args.timeline)
        return cache_command.run(args)
    # kiln::Error from C++ or a file that cannot be read or written: a named user error, not a crash
    except (RuntimeError, OSError) as e:
        print(f"kiln {args.command}: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``kiln worker --cache redis://...``: a tuning worker of the fleet. It takes the tasks of this
machine's target from the fleet's Redis stream, tunes each with a cost model warmed from what
the fleet measured, and writes the records back (docs/fleet.md). Ctrl-C or SIGTERM stop it; a
task in hand is then taken over by another worker."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Runs the worker until interrupted or ``--max-tasks``; returns the exit status."""
    from kiln import _C
    from kiln.tuning import default_cache_dir

    directory = args.dir or str(default_cache_dir())
    name = args.name or f"{socket.gethostname()}.{os.getpid()}"
    signal.signal(signal.SIGTERM, _interrupt)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        finished = _C.run_worker(
            directory, args.cache, name, args.max_tasks, args.claim_after, log=log
        )
    except KeyboardInterrupt:
        log(f"kiln worker {name}: stopped")
        return 0
    log(f"kiln worker {name}: {finished} tasks finished")
    return 0

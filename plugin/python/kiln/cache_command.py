"""``kiln cache ls | show | stats | explain | export | import | merge | prune | verify | push |
pull``: the tuning cache read and maintained from the shell. Every command takes ``--dir``
(default: the cache a compile would use, see kiln.tuning) and ``--url``, the fleet's Redis
(default: ``KILN_CACHE_URL``): ``stats`` shows both levels, ``push`` and ``pull`` move records
between them."""

from __future__ import annotations

import argparse
import collections
import datetime
import gzip
import os
import shutil
import tempfile

from kiln.tuning import default_cache_dir, default_cache_url, plain_export


def add_parser(commands) -> None:
    """Adds ``cache`` and its subcommands to the ``kiln`` parser."""
    cache = commands.add_parser("cache", help="inspect and maintain the tuning cache")
    cache.add_argument("--dir", default=None, help="the cache folder (default: %(default)s)")
    cache.add_argument(
        "--url", default=None, help="the fleet's Redis (default: KILN_CACHE_URL, if set)"
    )
    sub = cache.add_subparsers(dest="cache_command", required=True)
    sub.add_parser("ls", help="the workloads with their record counts")
    show = sub.add_parser("show", help="one workload: its definition and records")
    show.add_argument("key", help="a workload key or a unique prefix of one")
    show.add_argument("--top", type=int, default=10, help="records to list, fastest first")
    sub.add_parser("stats", help="records by target, kind and status")
    explain = sub.add_parser("explain", help="why this machine gets no tuned kernel of a workload")
    explain.add_argument("key")
    export = sub.add_parser("export", help="write the whole cache to one portable file")
    export.add_argument("file")
    imp = sub.add_parser("import", help="add the records of an exported file (idempotent)")
    imp.add_argument("file")
    merge = sub.add_parser("merge", help="add every record of another cache file (tuning.sqlite)")
    merge.add_argument("file")
    prune = sub.add_parser("prune", help="keep the K fastest ok records per workload and target")
    prune.add_argument("--keep", type=int, default=8)
    sub.add_parser("verify", help="check the file and every record; quarantine what is broken")
    sub.add_parser("push", help="send the records this machine measured to the fleet's Redis")
    sub.add_parser("pull", help="import the fleet's records of this machine's target")


def _export(directory: str, path: str) -> None:
    """Writes the cache to `path`: plain JSON lines, or gzip-compressed when it ends in .gz."""
    from kiln import _C

    if not path.endswith(".gz"):
        _C.cache_export(directory, path)
        return
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "export.jsonl")
        _C.cache_export(directory, plain)
        with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)


def run(args: argparse.Namespace) -> int:
    """Runs one ``kiln cache`` command; returns the exit status."""
    from kiln import _C

    directory = args.dir or str(default_cache_dir())
    command = args.cache_command
    if command == "ls":
        rows = _C.cache_workloads(directory)
        print(
            f"{'key':<32}  {'class':<11} {'GFLOP':>8} {'records':>7} {'ok':>5} {'here':>5}  best here"
        )
        for w in rows:
            best = f"{w.best_seconds * 1e3:.3f} ms" if w.best_seconds else "-"
            print(
                f"{w.key}  {w.op_class:<11} {w.flops / 1e9:>8.3f} {w.records:>7} "
                f"{w.ok:>5} {w.here:>5}  {best}"
            )
        print(f"{len(rows)} workloads in {_C.cache_file(directory)}")
    elif command == "show":
        w = _C.cache_workload(directory, args.key)
        records = _C.cache_records(directory, args.key)
        print(f"workload {w.key} ({w.op_class}, {w.flops / 1e9:.3f} GFLOP)")
        print(w.description)
        ok = sorted((r for r in records if r.status == "ok"), key=lambda r: r.seconds)
        print(f"{len(records)} records, {len(ok)} ok; fastest {min(args.top, len(ok))}:")
        for r in ok[: args.top]:
            when = datetime.datetime.fromtimestamp(r.time).isoformat(timespec="seconds")
            print(
                f"  #{r.id} {r.kind} {r.seconds * 1e3:.4f} ms ±{100 * r.spread:.1f}% "
                f"{r.source} {when}\n    {r.config}"
            )
    elif command == "stats":
        counts = collections.Counter()
        for w in _C.cache_workloads(directory):
            for r in _C.cache_records(directory, w.key):
                counts[(r.target, r.kind, r.status)] += 1
        here = _C.this_target()
        for (target, kind, status), n in sorted(counts.items()):
            mark = "this machine" if target == here else "other target"
            print(f"{n:>7}  {kind:<11} {status:<16} {mark}: {target[:90]}")
        print(f"{sum(counts.values())} records in {_C.cache_file(directory)}")
        url = args.url or default_cache_url()
        if url:
            print(f"fleet: {_fleet_line(url)}")
    elif command == "explain":
        reasons = _C.cache_explain(directory, args.key)
        print("\n".join(reasons) if reasons else "this machine is served a tuned kernel")
    elif command == "export":
        _export(directory, args.file)
        print(f"wrote {args.file}")
    elif command in ("import", "merge"):
        do = _C.cache_import if command == "import" else _C.cache_merge
        with plain_export(args.file) as plain:
            added, skipped, conflicts = do(directory, plain)
        print(f"{added} records added, {skipped} already there, {conflicts} conflicting workloads")
    elif command == "prune":
        print(f"{_C.cache_prune(directory, args.keep)} records removed")
    elif command == "verify":
        problems = _C.cache_verify(directory)
        print("\n".join(problems) if problems else f"{_C.cache_file(directory)}: sound")
        return 1 if problems else 0
    elif command in ("push", "pull"):
        url = args.url or default_cache_url()
        if not url:
            print(f"kiln cache {command}: no Redis: give --url or set KILN_CACHE_URL")
            return 2
        moved = (_C.cache_push if command == "push" else _C.cache_pull)(directory, url)
        for why in moved.garbage:
            print(f"skipped in Redis: {why}")
        direction = "to" if command == "push" else "from"
        print(
            f"{moved.records} records of {moved.workloads} workloads {direction} "
            f"{_C.fleet_status(url).url}; {moved.skipped} already there, {moved.conflicts} "
            f"conflicting, {len(moved.garbage)} garbage values skipped"
        )
    return 0


def _fleet_line(url: str) -> str:
    """The fleet's Redis: whether it answers, and what it holds."""
    from kiln import _C

    s = _C.fleet_status(url)
    if not s.answers:
        return f"{s.url} does not answer: {s.error}"
    return f"{s.url}: {s.workloads} workloads, {s.records} records of {s.targets} targets"

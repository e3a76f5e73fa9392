"""Where the tuning cache lives and how a compile asks for tuning.

``options={"tune": "background" | "cache-only" | "off", "tune_budget_s": 600, "tune_threads": ...,
"tune_trials": 64, "cache_dir": ..., "cache_url": "redis://..."}`` through ``torch.compile`` or
``kiln.compile``; without an option, ``KILN_TUNE``, ``KILN_TUNE_BUDGET_S``, ``KILN_TUNE_THREADS``,
``KILN_TUNE_TRIALS``, ``KILN_CACHE_DIR`` and ``KILN_CACHE_URL`` in the environment, then the
defaults: background tuning into ``$XDG_CACHE_HOME/kiln`` (else ``~/.cache/kiln``), no Redis.
With a ``cache_url`` (``redis://[user:password@]host:port[/db]``, ``rediss://`` for TLS), the
fleet's Redis stands behind the local cache (docs/fleet.md).
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiln.log import logger

#: Records of `kiln tune` on the standard workloads (ResNet-18 convolutions, BERT-base matmuls,
#: softmax, layer_norm), imported into a new cache so that its first search already has a warm
#: cost model. Imported records are "unverified": on a machine other than the one that made them
#: they only train the model, never serve as kernels.
STARTER_CACHE = Path(__file__).parent / "data" / "starter_cache.jsonl.gz"
_seeded: set[str] = set()
_seed_lock = threading.Lock()

MODES = ("background", "cache-only", "off")


def default_cache_dir() -> Path:
    """``KILN_CACHE_DIR``, else ``$XDG_CACHE_HOME/kiln``, else ``~/.cache/kiln``."""
    if os.environ.get("KILN_CACHE_DIR"):
        return Path(os.environ["KILN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kiln"


def default_cache_url() -> str:
    """``KILN_CACHE_URL``: the fleet's Redis behind the local cache; "" for none."""
    return os.environ.get("KILN_CACHE_URL", "")


@dataclass(frozen=True)
class TuningOptions:
    """What a compile asks of the tuning cache and the tuning service."""

    mode: str = "background"
    budget_s: float = 600.0
    threads: int = 0  # 0: as many as the model's (torch.get_num_threads())
    trials: int = 64
    cache_dir: str = ""
    cache_url: str = ""

    @staticmethod
    def parse(options: dict) -> TuningOptions:
        """Takes the tuning keys out of `options`; raises ValueError naming a bad value."""
        mode = options.pop("tune", None) or os.environ.get("KILN_TUNE") or "background"
        if mode not in MODES:
            raise ValueError(f"kiln: tune={mode!r}; expected one of {', '.join(map(repr, MODES))}")
        env = os.environ
        budget = _number(
            options.pop("tune_budget_s", float(env.get("KILN_TUNE_BUDGET_S", 600))),
            "tune_budget_s",
            float,
            0,
        )
        # Unset: as many threads as the model's. The candidates run at idle priority, so they take
        # no core from the model's calls, and run as they will run in the model.
        threads = options.pop("tune_threads", env.get("KILN_TUNE_THREADS"))
        threads = 0 if threads is None else _number(_int_or(threads), "tune_threads", int, 1)
        trials = _number(
            options.pop("tune_trials", int(env.get("KILN_TUNE_TRIALS", 64))), "tune_trials", int, 1
        )
        cache_dir = str(options.pop("cache_dir", None) or default_cache_dir())
        cache_url = str(options.pop("cache_url", None) or default_cache_url())
        if cache_url:
            _check_login(cache_url)
        return TuningOptions(mode, budget, threads, trials, cache_dir, cache_url)


@contextlib.contextmanager
def plain_export(path: str):
    """`path` of an exported cache as plain JSON lines: a gzip-compressed file (as the starter
    cache ships, or `kiln cache export FILE.gz` writes) is decompressed to a temporary file."""
    with open(path, "rb") as f:
        compressed = f.read(2) == b"\x1f\x8b"
    if not compressed:
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, os.path.basename(path).removesuffix(".gz"))
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except (OSError, EOFError) as e:  # not gzip after all, or cut short
            raise OSError(f"{path}: cannot decompress ({e})") from e
        yield plain


def seed_new_cache(cache_dir: str) -> None:
    """Imports the starter records into `cache_dir` if it has no cache yet (once per process)."""
    from kiln import _C

    with _seed_lock:
        if cache_dir in _seeded:
            return
        _seeded.add(cache_dir)
        if os.path.exists(_C.cache_file(cache_dir)) or not STARTER_CACHE.exists():
            return
        with plain_export(str(STARTER_CACHE)) as plain:
            try:
                added, _, _ = _C.cache_import(cache_dir, plain)
                logger.info(
                    "kiln: new tuning cache %s seeded with %d starter records", cache_dir, added
                )
            except RuntimeError as e:  # a cache that cannot be written: Kiln runs on without it
                logger.warning("kiln: could not seed the tuning cache %s: %s", cache_dir, e)


_logged_in: set[str] = set()


def _check_login(url: str) -> None:
    """Raises RuntimeError for a malformed Redis URL or refused credentials (once per URL and
    process it logs in): the configuration is wrong, and every compile says so at once."""
    if url in _logged_in:
        return
    from kiln import _C

    _C.check_fleet_login(url)
    _logged_in.add(url)


def _int_or(value):
    """`value`, or the int an environment variable's text spells (else the text, to be named)."""
    try:
        return int(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _number(value, name: str, kind: type, minimum: float):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum:
        raise ValueError(f"kiln: option {name}={value!r}; expected a number >= {minimum}")
    return kind(value)


def _stop_at_exit() -> None:
    from kiln import _C

    _C.stop_tuning()


# NOTE: the service's thread must stop before the interpreter tears down torch; atexit runs
# on a normal exit, after Ctrl-C and after sys.exit.
atexit.register(_stop_at_exit)


def stop() -> None:
    """Stops background tuning now (it also stops at exit); returns after the measurement in
    flight."""
    _stop_at_exit()


def flush_fleet(timeout_s: float = 10.0) -> int:
    """With ``cache_url``: waits up to `timeout_s` until the records this process committed
    reached the fleet's Redis; returns how many still wait."""
    from kiln import _C

    return _C.flush_fleet(timeout_s)


def pause() -> None:
    """Holds background tuning, from the end of the measurement in flight, until resume(): a
    latency-critical phase runs without the tuner beside it. Held time is not spent from
    ``tune_budget_s``; a service that a later compile starts starts held."""
    from kiln import _C

    _C.pause_tuning(True)


def resume() -> None:
    """Lets background tuning go on after pause()."""
    from kiln import _C

    _C.pause_tuning(False)


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """``with kiln.tuning.paused():`` runs its body with background tuning held, then resumes it
    unless it was held before."""
    from kiln import _C

    held_before = _C.tuning_paused()
    pause()
    try:
        yield
    finally:
        if not held_before:
            resume()

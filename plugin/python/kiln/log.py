"""Kiln's logging: Python's ``logging.getLogger("kiln")``, its level set from the environment.

``KILN_LOG=debug|info|warning|error`` sets the level of the ``kiln`` logger, gives it a stderr
handler when nothing else would print its records, and passes the same level to the C++ side
(``_C.set_log_level``) so both halves log alike.
The C++ side's messages (compiles, the tuning service, swaps) reach the same logger: a thread
that holds the GIL logs at once, any other through a delivery thread (``_C``'s python_log).
"""

from __future__ import annotations

import atexit
import logging
import os
import warnings

logger = logging.getLogger("kiln")

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}

_logged_once: set[str] = set()


def _close_cxx_log() -> None:
    from kiln import _C

    _C.close_log()


# Registered before kiln.tuning's hook, so it runs after it (atexit is last in, first out): what
# the tuning service says while it stops still reaches the logger.
atexit.register(_close_cxx_log)


def set_level(level: str) -> None:
    """Sets the level of Kiln's Python logger and of its C++ runtime ("debug" ... "error")."""
    from kiln import _C

    name = level.strip().lower()
    if name not in _LEVELS:
        raise ValueError(f"kiln: log level {level!r} is not one of {', '.join(_LEVELS)}")
    logger.setLevel(_LEVELS[name])
    _C.set_log_level(name)


def configure_from_env() -> None:
    """Applies ``KILN_LOG`` if it is set; called once when ``kiln`` is imported. An unknown
    level warns once and leaves the default: a typo in the environment must not stop the
    backend from loading."""
    level = os.environ.get("KILN_LOG")
    if not level:
        return
    if level.strip().lower() not in _LEVELS:
        warnings.warn(
            f"kiln: KILN_LOG={level!r} is not one of {', '.join(_LEVELS)}; using the default",
            stacklevel=2,
        )
        return
    set_level(level)
    # NOTE: without a handler of its own the record would reach only the root logger, which
    # prints nothing below WARNING unless the application configured logging.
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[kiln %(levelname)s] %(message)s"))
        logger.addHandler(handler)


def warning_once(message: str) -> None:
    """Logs `message` at WARNING the first time it is seen in this process, at DEBUG afterwards."""
    if message in _logged_once:
        logger.debug(message)
        return
    _logged_once.add(message)
    logger.warning(message)

"""Kiln: a runtime JIT tensor compiler for PyTorch models.

``torch.compile(model, backend="kiln")`` (found through the ``torch_dynamo_backends`` entry point,
no import needed) or ``kiln.compile(model)``. ``kiln.stats()`` tells what was compiled and how
often each kernel ran; ``KILN_LOG=info`` logs it as it happens; ``kiln doctor`` checks the setup.
"""

from __future__ import annotations

import torch

from kiln._build_info import TORCH_VERSION as _BUILT_WITH_TORCH


class TorchVersionMismatch(ImportError):
    """Kiln's C++ extension was built against another torch than the one this process imports."""


# NOTE: kiln._C and libkiln_torch.so are bound to the C++ ABI of the torch they were built
# against; loading them into another torch fails at load time at best, or later at worst.
if torch.__version__ != _BUILT_WITH_TORCH:
    raise TorchVersionMismatch(
        f"kiln was built against torch {_BUILT_WITH_TORCH}, but this process imports torch "
        f"{torch.__version__} (from {torch.__file__}); rebuild it against this torch: in the "
        "Kiln source folder, `python -m pip install --no-build-isolation --force-reinstall "
        "--no-deps .` (or `bash scripts/dev.sh setup`)"
    )

from kiln import _C

# NOTE: _C links libkiln_torch.so, so kiln::launch is registered already; loading it through
# torch.ops as well records it with torch like any custom-op library.
torch.ops.load_library(_C.library_path())

from kiln import fake as _fake  # noqa: F401  (registers the fake kernel of kiln::launch)
from kiln import tuning
from kiln.log import configure_from_env as _configure_logging
from kiln.log import set_level as set_log_level
from kiln.stats import reset_stats, stats

_configure_logging()

__version__: str = _C.version()


# NOTE: kiln.backend imports torch._dynamo and AOTAutograd (over a second); `import kiln` must
# stay cheap, so they load when a model is first compiled, as torch.compile loads them anyway.
def compile(model, *, dynamic: bool | None = False, **options):
    """``torch.compile(model, backend="kiln", options=options)``, with static shapes by default."""
    from kiln.backend import compile as compile_with_kiln

    return compile_with_kiln(model, dynamic=dynamic, **options)


def kiln_backend(gm, example_inputs, **kwargs):
    """The Dynamo backend (``torch.compile(model, backend=kiln.kiln_backend)``)."""
    from kiln.backend import kiln_backend as backend

    return backend(gm, example_inputs, **kwargs)


__all__ = [
    "TorchVersionMismatch",
    "compile",
    "kiln_backend",
    "reset_stats",
    "set_log_level",
    "stats",
    "tuning",
]

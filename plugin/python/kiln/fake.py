"""The fake (meta) kernel of ``kiln::launch``, so the op is valid inside traced and compiled graphs.

A slot knows the types of the outputs its group was compiled for; the fake kernel makes empty
tensors of exactly those types on the device of the (fake) inputs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from kiln import _C
from kiln.dtypes import TORCH_DTYPES


@torch.library.register_fake("kiln::launch")
def _launch_fake(slot: int, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    device = inputs[0].device if inputs else torch.device("cpu")
    return [
        torch.empty_strided(shape, strides, dtype=TORCH_DTYPES[dtype], device=device)
        for dtype, shape, strides in _C.slot_output_types(slot)
    ]

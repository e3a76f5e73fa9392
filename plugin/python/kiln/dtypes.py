"""The dtypes Kiln compiles and their names on the C++ side of the binding."""

from __future__ import annotations

import torch

#: torch dtype → the kiln dtype name that ``_C.Graph`` takes.
KILN_DTYPE_NAMES: dict[torch.dtype, str] = {
    torch.float32: "f32",
    torch.float64: "f64",
    torch.float16: "f16",
    torch.bfloat16: "bf16",
    torch.int8: "i8",
    torch.int16: "i16",
    torch.int32: "i32",
    torch.int64: "i64",
    torch.bool: "bool",
}

#: kiln dtype name → torch dtype (the inverse of KILN_DTYPE_NAMES).
TORCH_DTYPES: dict[str, torch.dtype] = {name: dtype for dtype, name in KILN_DTYPE_NAMES.items()}

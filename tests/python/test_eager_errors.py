"""Inputs that eager PyTorch rejects only when it sees their values (an index out of range, an
integer division by zero): a compiled model raises what eager raises, naming the op, the index
and the size; never a clamped index or a made-up quotient. Good inputs still run in Kiln."""

from __future__ import annotations

import kiln
import pytest
import torch
import torch.nn.functional as F

torch.manual_seed(0)
TABLE = torch.randn(10, 4)


def _raised(fn, *args) -> type[BaseException] | None:
    try:
        fn(*args)
    except (IndexError, RuntimeError) as e:
        return type(e)
    return None


# name: (function, good inputs, bad inputs, the op that must run in a Kiln kernel)
CASES = {
    "embedding past the end": (
        lambda i: F.embedding(i, TABLE) * 2,
        (torch.tensor([[1, 2], [9, 0]]),),
        (torch.tensor([[1, 12], [3, 0]]),),
        "aten.embedding.default",
    ),
    "embedding negative": (
        lambda i: F.embedding(i, TABLE) * 2,
        (torch.tensor([0, 5]),),
        (torch.tensor([0, -1]),),
        "aten.embedding.default",
    ),
    # Eager raises IndexError along dimension 0, RuntimeError along the others.
    "index_select rows": (
        lambda i: torch.index_select(TABLE, 0, i) + 1,
        (torch.tensor([3, 0, 9]),),
        (torch.tensor([3, 10, 2]),),
        "aten.index_select.default",
    ),
    "index_select columns": (
        lambda i: torch.index_select(TABLE, 1, i) + 1,
        (torch.tensor([3, 0, 2]),),
        (torch.tensor([3, -1, 2]),),
        "aten.index_select.default",
    ),
    "gather": (
        lambda i: torch.gather(TABLE, 1, i) - 1,
        (torch.tensor([[0], [3]]),),
        (torch.tensor([[0], [4]]),),
        "aten.gather.default",
    ),
    # The index is made in the graph: the check needs it as a kernel input, not fused away.
    "gather of a computed index": (
        lambda i: torch.gather(TABLE, 1, i * 2 + 1) - 1,
        (torch.tensor([[0], [1]]),),
        (torch.tensor([[0], [2]]),),
        "aten.gather.default",
    ),
    "integer floor division": (
        lambda a, b: torch.div(a, b, rounding_mode="floor") * 3,
        (torch.tensor([7, -7, 9]), torch.tensor([2, 2, -4])),
        (torch.tensor([7, -7, 9]), torch.tensor([2, 0, -4])),
        "aten.div.Tensor_mode",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_values_raise_as_in_eager(name, coverage):
    fn, good, bad, op = CASES[name]
    compiled = kiln.compile(fn)
    torch.testing.assert_close(compiled(*good), fn(*good))
    assert op not in coverage()[1], f"{op} did not run in a Kiln kernel"
    eager_raises = _raised(fn, *bad)
    assert eager_raises is not None
    with pytest.raises(eager_raises) as raised:
        compiled(*bad)
    assert "kiln: " + op in str(raised.value)
    torch.testing.assert_close(compiled(*good), fn(*good))  # and it goes on


def test_integer_division_by_a_zero_scalar_raises_as_in_eager():
    fn = lambda a: torch.div(a, 0, rounding_mode="trunc") + 1
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        kiln.compile(fn)(torch.tensor([4, 5]))

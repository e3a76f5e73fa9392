"""Reductions over a whole tensor or several dims (any, max, min, prod, argmin) and the functional
copies of views (view_copy, permute_copy, ...) against eager, inside Kiln kernels: NaN, ties,
integers, bool, empty tensors and size-1 dims."""

from __future__ import annotations

import math

import kiln
import pytest
import torch

aten = torch.ops.aten


def check(fn, *inputs: torch.Tensor, coverage=None) -> None:
    actual, expected = kiln.compile(fn)(*inputs), fn(*inputs)
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    torch.testing.assert_close(actual, expected, equal_nan=True)
    if coverage is not None:
        fraction, unsupported = coverage()
        assert fraction == 1.0, f"stayed ATen: {unsupported}"


def inputs() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    floats = torch.randn(4, 6, generator=g)
    with_nan = floats.clone()
    with_nan[1, 2] = math.nan
    return {
        "floats": floats,
        "with nan": with_nan,
        "ints with ties": torch.randint(-3, 3, (4, 6), generator=g),
        "sparse bool": torch.rand(4, 6, generator=g) > 0.9,
        "zeros": torch.zeros(4, 6),
        "negative zero only": torch.full((3, 1), -0.0),
        "size-1 dims": torch.randn(1, 5, 1, generator=g),
        "transposed": floats.t(),
    }


@pytest.mark.parametrize("name", sorted(inputs()))
def test_any_matches_eager(name, coverage):
    x = inputs()[name]
    check(lambda t: t.any(), x, coverage=coverage)
    check(lambda t: t.any(dim=1), x)
    check(lambda t: aten.any.dims(t, [0, 1], True), x)
    check(lambda t: t.any(dim=0, keepdim=True), x)


def test_any_of_nothing_is_false_and_stays_aten_with_why(coverage):
    empty = torch.empty(0, 3)
    check(lambda t: t.any(), empty)
    check(lambda t: t.any(dim=0), empty)
    _, unsupported = coverage()
    assert "of size 0" in unsupported["aten.any.default"]


@pytest.mark.parametrize("name", ["floats", "with nan", "ints with ties", "size-1 dims"])
def test_whole_tensor_max_min_prod_argmin_match_eager(name, coverage):
    x = inputs()[name]
    for fn in (torch.max, torch.min, torch.argmin, torch.argmax):
        torch._dynamo.reset()
        check(lambda t, fn=fn: fn(t) * 1, x)
    check(lambda t: torch.prod(t / 2 if t.is_floating_point() else t), x)
    check(lambda t: torch.prod(t, dtype=torch.float64), x)
    fraction, unsupported = coverage()
    assert fraction == 1.0, f"stayed ATen: {unsupported}"


def test_max_of_an_empty_tensor_raises_like_eager():
    empty = torch.empty(0)
    with pytest.raises(RuntimeError):
        torch.max(empty)
    with pytest.raises(RuntimeError):
        kiln.compile(lambda t: torch.max(t))(empty)


COPIES = {
    "view_copy": lambda t: aten.view_copy(t, [6, 4]),
    "permute_copy": lambda t: aten.permute_copy(t, [1, 0]),
    "expand_copy": lambda t: aten.expand_copy(t[:1], [3, 6]),
    "select_copy": lambda t: aten.select_copy(t, 1, -2),
    "slice_copy": lambda t: aten.slice_copy(t, 1, 1, 5, 2),
    "squeeze_copy": lambda t: aten.squeeze_copy(t[:1], [0]),
    "unsqueeze_copy": lambda t: aten.unsqueeze_copy(t, 1),
    "t_copy": lambda t: aten.t_copy(t),
    "transpose_copy": lambda t: aten.transpose_copy(t, 0, 1),
    "diagonal_copy": lambda t: aten.diagonal_copy(t, 1),
    "unfold_copy": lambda t: aten.unfold_copy(t, 1, 3, 2),
    "split_copy": lambda t: aten.split_copy(t, 4, 1)[1],
    "alias_copy": lambda t: aten.alias_copy(t),
}


@pytest.mark.parametrize("name", sorted(COPIES))
def test_view_copies_match_eager(name, coverage):
    x = inputs()["floats"]
    check(lambda t: COPIES[name](t) + 1, x, coverage=coverage)
    check(lambda t: COPIES[name](t) + 1, inputs()["transposed"].t().contiguous())

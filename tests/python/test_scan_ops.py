"""Scans (cumsum, cumprod, logcumsumexp, cummax, cummin) inside Kiln kernels, against eager:
every dim and negative dims, leading and middle scan axes (vectorized across the lanes after the
axis), dtype arguments, integer and bool inputs, non-contiguous, size-1, rank-0 and empty
inputs, and the special values: NaN, +-inf, -0.0. Accumulating as ATen's CPU kernels do (double
for float32), cumsum, cumprod and the running extrema are bit-exact."""

from __future__ import annotations

import math

import kiln
import pytest
import torch

GEN = torch.Generator().manual_seed(11)
BASE = torch.randn(5, 7, 33, generator=GEN)
SPECIAL = torch.tensor(
    [
        [0.5, -0.0, math.nan, 2.0, -1.0, math.inf, 3.0],
        [-0.0, 1.0, -math.inf, -math.inf, 4.0, 1.0, math.inf],
        [math.inf, -math.inf, 1.0, 0.0, math.nan, -2.0, 5.0],
        [-math.inf, -math.inf, -math.inf, 2.0, 2.0, math.nan, math.nan],
    ]
)

CASES = {
    "cumsum_last": lambda x: torch.cumsum(x, -1),
    "cumsum_first": lambda x: torch.cumsum(x, 0),
    "cumsum_middle": lambda x: torch.cumsum(x, 1),
    "cumsum_as_f64": lambda x: torch.cumsum(x, -1, dtype=torch.float64),
    "cumprod_last": lambda x: torch.cumprod(x, -1),
    "cumprod_first": lambda x: torch.cumprod(x, 0),
    "cummax_values_and_indices": lambda x: torch.cummax(x, -1),
    "cummin_first": lambda x: torch.cummin(x, 0),
}
EXACT = {"rtol": 0, "atol": 0}


def check(fn, x, coverage=None, **tolerance):
    want = fn(x)
    got = kiln.compile(fn)(x)
    torch.testing.assert_close(got, want, equal_nan=True, **(tolerance or EXACT))
    for g, w in zip(torch.utils._pytree.tree_leaves(got), torch.utils._pytree.tree_leaves(want)):
        if w.is_floating_point():  # the sign of zero too (assert_close takes -0.0 == 0.0)
            # A NaN's sign is not a value (LLVM, like C, may commute an add and with it pick the
            # other operand's NaN): only numbers' signs are compared.
            number = ~w.isnan()
            assert torch.equal(torch.signbit(g)[number], torch.signbit(w)[number]), (g, w)
    if coverage is not None:
        fraction, unsupported = coverage()
        assert fraction == 1.0, f"stayed ATen: {unsupported}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_scans_match_eager_bit_for_bit(name, coverage):
    check(CASES[name], BASE, coverage)


@pytest.mark.parametrize(
    "shape", [(16, 33), (12, 5), (6, 9), (7, 4), (3, 4, 5), (2, 8, 3, 7), (2, 3, 4, 7)]
)
@pytest.mark.parametrize("name", ["cumsum_last", "cumprod_last", "cummax_values_and_indices"])
def test_last_axis_scans_of_every_row_count_match_eager(name, shape, coverage):
    # Along the last axis, rows of the axis before it run together in one scan loop (4 or 2 of
    # them, as its extent divides; one where it is odd), in every rank.
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(6))
    check(CASES[name], x, coverage=coverage)
    check(CASES[name], x.transpose(0, -1).contiguous().transpose(0, -1), coverage=coverage)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_matches_eager(dim, coverage):
    check(lambda x: torch.logcumsumexp(x, dim), BASE * 20, coverage, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_special_values_propagate_as_in_eager(name, coverage):
    """NaN stays NaN, inf - inf is NaN, -0.0 summed from +0 is +0, a NaN is every later
    extremum: compared with the sign of zero too."""
    check(CASES[name], SPECIAL, coverage)


def test_logcumsumexp_of_infinities_and_nan_matches_eager(coverage):
    check(lambda x: torch.logcumsumexp(x, 1), SPECIAL, coverage, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "x",
    [
        BASE.transpose(0, 2),
        BASE[:, ::2, 1:],
        torch.randint(-9, 9, (4, 6), generator=GEN),
        torch.randint(-9, 9, (4, 6), generator=GEN, dtype=torch.int32),
        torch.rand(4, 6, generator=GEN) > 0.5,
        BASE[:1, :1, :1],
        BASE.to(torch.bfloat16),
    ],
    ids=["transposed", "strided", "int64", "int32", "bool", "size_one", "bf16"],
)
@pytest.mark.parametrize("name", ["cumsum_last", "cumsum_first", "cumprod_last", "cummin_first"])
def test_scans_of_any_layout_and_dtype_match_eager(name, x, coverage):
    check(CASES[name], x, coverage)


def test_rank_zero_and_empty_inputs_match_eager():
    for x in [torch.tensor(-0.0), torch.tensor(2.5), torch.empty(0, 4), torch.empty(3, 0)]:
        for fn in [
            lambda t: torch.cumsum(t, 0),
            lambda t: torch.cumprod(t, -1),
            lambda t: torch.cummax(t, 0),
            lambda t: torch.logcumsumexp(t, 0),
        ]:
            torch._dynamo.reset()
            check(fn, x)


def test_a_scan_between_elementwise_ops_and_its_gradient_match_eager(coverage):
    """The scan is a kernel of its own between fused elementwise kernels; its backward (a
    reversed cumsum) runs in Kiln too."""

    def f(x):
        return (torch.cumsum(x * 2 - 1, dim=1).sin() + torch.cumprod(x, 1)).sum()

    x = torch.rand(6, 50, generator=GEN, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    got, want = kiln.compile(f)(x), f(x_ref)
    got.backward()
    want.backward()
    torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-5, atol=1e-5)
    _, unsupported = coverage()
    assert not any("cum" in op for op in unsupported), unsupported

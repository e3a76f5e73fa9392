"""flip, roll and repeat (index maps that reorder or tile their input) and round(decimals),
inside Kiln kernels, against eager: several dims, negative dims and shifts, shifts larger than
the size, the flattened roll, leading repeats, zero repeats, empty, size-1, rank-0 and
non-contiguous inputs, integer dtypes; bad arguments raise as in eager."""

from __future__ import annotations

import kiln
import pytest
import torch

BASE = torch.randn(4, 6, 5, generator=torch.Generator().manual_seed(3))

CASES = {
    "flip_two_dims": lambda x: torch.flip(x, [0, -1]),
    "flip_all": lambda x: torch.flip(x, [0, 1, 2]),
    "roll_dims": lambda x: torch.roll(x, shifts=(2, -7), dims=(1, 2)),
    "roll_same_dim_twice": lambda x: torch.roll(x, shifts=(3, 4), dims=(0, 0)),
    "roll_flat": lambda x: torch.roll(x, 17),
    "repeat_leading": lambda x: x.repeat(2, 1, 3, 1),
    "repeat_zero": lambda x: x.repeat(1, 0, 2),
    "flip_then_add": lambda x: torch.flip(x, [1]) + x,
}


def check(fn, x: torch.Tensor, coverage=None) -> None:
    torch.testing.assert_close(kiln.compile(fn)(x), fn(x), rtol=0, atol=0)
    if coverage is not None:
        fraction, unsupported = coverage()
        assert fraction == 1.0, f"stayed ATen: {unsupported}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_reorders_match_eager(name, coverage):
    fn = CASES[name]
    check(fn, BASE, coverage=None if name == "repeat_zero" else coverage)


@pytest.mark.parametrize(
    "x",
    [BASE.transpose(0, 2), BASE[:, ::2], torch.arange(60).reshape(3, 4, 5), BASE[:1, :1, :1]],
    ids=["transposed", "strided", "int64", "size_one"],
)
@pytest.mark.parametrize("name", ["flip_two_dims", "roll_dims", "roll_flat", "repeat_leading"])
def test_reorders_of_any_layout_and_dtype_match_eager(name, x):
    check(CASES[name], x)


def test_empty_and_rank_zero_inputs_match_eager():
    empty, scalar = torch.empty(0, 3), torch.tensor(2.5)
    for fn, x in [
        (lambda t: torch.flip(t, [0]), empty),
        (lambda t: torch.roll(t, 1, 0), empty),
        (lambda t: t.repeat(2, 2), empty),
        (lambda t: torch.flip(t, [0]), scalar),
        (lambda t: torch.roll(t, 3), scalar),
        (lambda t: t.repeat(3), scalar),
    ]:
        torch._dynamo.reset()
        check(fn, x)


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: torch.flip(x, [1, -1]),  # dim 1 twice
        lambda x: torch.roll(x, shifts=(1, 2), dims=(0,)),  # shifts and dims differ in length
        lambda x: x.repeat(2),  # fewer repeats than dims
    ],
    ids=["flip_duplicate_dims", "roll_mismatch", "repeat_too_few"],
)
def test_bad_arguments_raise_like_eager(fn):
    x = torch.randn(3, 4)
    with pytest.raises(RuntimeError):
        fn(x)
    with pytest.raises(RuntimeError):
        kiln.compile(fn)(x)


@pytest.mark.parametrize("decimals", [3, 1, 0, -1, -2])
def test_round_decimals_matches_eager(decimals, coverage):
    x = torch.cat([BASE.flatten() * 300, torch.tensor([0.125, -0.125, 2.5, -0.0, float("nan")])])
    fn = lambda t: torch.round(t, decimals=decimals)
    torch.testing.assert_close(kiln.compile(fn)(x), fn(x), equal_nan=True)
    fraction, unsupported = coverage()
    assert fraction == 1.0, f"stayed ATen: {unsupported}"

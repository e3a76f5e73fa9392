"""Advanced indexing (aten.index.Tensor) and what core ATen decomposes into it — padding modes,
interpolation, im2col — with diagonal, unfold, mean over all dims and a number as the first
operand of a binary op, inside Kiln kernels, against eager: adjacent and separated index
tensors, broadcasting, negative and i32 indices, integer dtypes, backward; an index out of range
raises eager's IndexError."""

from __future__ import annotations

import kiln
import pytest
import torch
import torch.nn.functional as F

GEN = torch.Generator().manual_seed(5)
X4 = torch.randn(2, 3, 6, 5, generator=GEN)
X3 = torch.randn(2, 4, 9, generator=GEN)
X5 = torch.randn(1, 2, 3, 4, 5, generator=GEN)
ROWS = torch.tensor([[0, -1], [2, 3]])
COLS = torch.tensor([4, 0], dtype=torch.int32)

CASES = {
    "index_leading": (lambda x: x[ROWS.clamp(-2, 1)], X4),
    "index_middle": (lambda x: x[:, :, ROWS], X4),
    "index_two_adjacent": (lambda x: x[:, :, ROWS, COLS], X4),
    "index_separated": (lambda x: x[ROWS.clamp(0, 1), :, :, COLS], X4),
    "index_then_math": (lambda x: x[:, [2, 0, 1]].exp() * 2, X4),
    "reflect_pad1d": (lambda x: F.pad(x, (3, 2), mode="reflect"), X3),
    "reflect_pad2d": (lambda x: F.pad(x, (1, 2, 3, 0), mode="reflect"), X4),
    "replicate_pad2d": (lambda x: F.pad(x, (2, 1, 0, 3), mode="replicate"), X4),
    "circular_pad2d": (lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"), X4),
    "replicate_pad3d": (lambda x: F.pad(x, (1, 1, 2, 0, 1, 2), mode="replicate"), X5),
    "nearest2d": (lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), X4),
    "nearest2d_down": (lambda x: F.interpolate(x, size=(4, 3), mode="nearest"), X4),
    "nearest_exact": (lambda x: F.interpolate(x, size=(9, 7), mode="nearest-exact"), X4),
    "nearest3d": (lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), X5),
    "bilinear": (lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"), X4),
    "bilinear_corners": (
        lambda x: F.interpolate(x, size=(9, 7), mode="bilinear", align_corners=True),
        X4,
    ),
    "bicubic": (lambda x: F.interpolate(x, size=(8, 9), mode="bicubic"), X4),
    "linear1d": (lambda x: F.interpolate(x, scale_factor=1.5, mode="linear"), X3),
    "trilinear": (lambda x: F.interpolate(x, scale_factor=2, mode="trilinear"), X5),
    "im2col": (lambda x: F.unfold(x, 3, padding=1, stride=2), X4),
    "tensor_unfold": (lambda x: x.unfold(3, 2, 2) + 1, X4),
    "diagonal": (lambda x: torch.diagonal(x, 1, 2, 3) * 2, X4),
    "diagonal_below": (lambda x: torch.diagonal(x, -2, -1, -2) * 2, X4),
    "mean_of_all": (lambda x: x.mean() + x, X4),
    "number_minus_tensor": (lambda x: 1 - x * 2, X4),
    "constant_tensor": (lambda x: x + torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]), X4),
}


def assert_all_compute_in_kiln() -> None:
    # Views of the inputs (bicubic's decomposition has many) are free in ATen and stay there.
    s = kiln.stats()
    assert s["compute_coverage"] == 1.0, [g["unsupported"] for g in s["graphs"]]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_eager_inside_kiln(name):
    fn, x = CASES[name]
    with torch.no_grad():
        torch.testing.assert_close(kiln.compile(fn)(x), fn(x), rtol=1e-5, atol=1e-5)
    assert_all_compute_in_kiln()


def test_integer_tensors_are_indexed_exactly():
    x = torch.arange(60, dtype=torch.int64).reshape(3, 4, 5)

    def fn(x):
        return (
            x[:, [3, -4, 1]] + F.pad(x.unsqueeze(0), (1, 1, 0, 0), mode="replicate")[0, :, :3, :5]
        )

    torch.testing.assert_close(kiln.compile(fn)(x), fn(x), rtol=0, atol=0)
    assert_all_compute_in_kiln()


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_backward_through_interpolation_and_padding(mode):
    x = torch.randn(1, 2, 5, 4, requires_grad=True, generator=GEN)

    def fn(x):
        y = F.interpolate(F.pad(x, (1, 1, 1, 1), mode="reflect"), scale_factor=2, mode=mode)
        return (y * y.flip(-1)).sum()

    fn(x).backward()
    expected, x.grad = x.grad, None
    kiln.compile(fn)(x).backward()
    torch.testing.assert_close(x.grad, expected, rtol=1e-5, atol=1e-5)


def test_backward_of_views_scatters_inside_kiln():
    """The gradients of slicing, select and diagonal are slice_scatter, select_scatter and
    diagonal_scatter into zeros: the backward graph runs them in Kiln kernels."""
    x = torch.randn(4, 7, 6, requires_grad=True, generator=GEN)

    def fn(x):
        return (x[:, 1:6:2].exp() * 2).sum() + x[:, 3].sin().sum() + x.diagonal(1, 1, 2).sum()

    fn(x).backward()
    expected, x.grad = x.grad, None
    kiln.compile(fn)(x).backward()
    torch.testing.assert_close(x.grad, expected, rtol=1e-5, atol=1e-5)
    backward = [g for g in kiln.stats()["graphs"] if g["kind"] == "backward"]
    assert backward and all(g["compute_coverage"] == 1.0 for g in backward), backward


@pytest.mark.parametrize("bad", [5, -6])
def test_an_index_out_of_range_raises_eager_index_error(bad):
    compiled = kiln.compile(lambda x, i: x[i] * 2)
    x = torch.randn(5, 3)
    torch.testing.assert_close(compiled(x, torch.tensor([4, -5])), x[torch.tensor([4, -5])] * 2)
    with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 5"):
        compiled(x, torch.tensor([0, bad]))


def test_bad_arguments_raise_as_in_eager():
    x = torch.randn(4, 6)
    for fn in (lambda x: x.unfold(1, 7, 1), lambda x: x.unfold(1, 2, 0)):
        with pytest.raises(RuntimeError):
            fn(x)
        with pytest.raises(RuntimeError):
            kiln.compile(fn)(x)

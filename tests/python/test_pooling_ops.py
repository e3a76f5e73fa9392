"""Pooling in 2-D and 3-D inside Kiln kernels, against eager: max pooling with its indices,
average pooling with its divisor rules, adaptive average and max pooling over uneven windows,
batched and unbatched; and their gradients, in Kiln's kernels too, on overlapping, strided,
dilated, padded and widening windows."""

from __future__ import annotations

import kiln
import pytest
import torch
import torch.nn.functional as F

GEN = torch.Generator().manual_seed(7)
X4 = torch.randn(2, 3, 11, 9, generator=GEN)
X5 = torch.randn(2, 3, 7, 9, 8, generator=GEN)

CASES = {
    "max_pool3d_indices": (
        lambda x: F.max_pool3d(
            x, (3, 2, 3), (2, 2, 1), (1, 0, 1), ceil_mode=True, return_indices=True
        ),
        X5,
    ),
    "max_pool3d_unbatched": (lambda x: F.max_pool3d(x, 2, return_indices=True), X5[0]),
    "avg_pool3d": (lambda x: F.avg_pool3d(x, 3, 2, 1, count_include_pad=False), X5),
    "avg_pool3d_divisor": (lambda x: F.avg_pool3d(x, 2, divisor_override=3), X5),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (2, 4, 3)), X5),
    "adaptive_max_pool2d": (lambda x: F.adaptive_max_pool2d(x, (4, 5), return_indices=True), X4),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, (3, 2, 5), return_indices=True), X5),
    "max_pool2d_then_relu": (lambda x: F.relu(F.max_pool2d(x, 3, 2, 1)), X4),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_pooling_matches_eager_inside_kiln(name, coverage):
    fn, x = CASES[name]
    with torch.no_grad():
        torch.testing.assert_close(kiln.compile(fn)(x), fn(x), rtol=1e-5, atol=1e-5)
    fraction, unsupported = coverage()
    assert fraction == 1.0, f"stayed ATen: {unsupported}"


#: name → (pooling, input, whether its backward runs in Kiln).
GRADIENTS = {
    "max_pool3d_overlapping": (lambda x: F.max_pool3d(x, 2, 1), X5, True),
    "max_pool2d_strided_dilated": (
        lambda x: F.max_pool2d(x, 3, (2, 1), 1, dilation=(1, 2), ceil_mode=True),
        X4,
        True,
    ),
    "avg_pool3d_padded": (lambda x: F.avg_pool3d(x, 3, 2, 1), X5, True),
    "avg_pool2d_excluding_pad_ceil": (
        lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
        X4,
        True,
    ),
    "avg_pool2d_divisor": (lambda x: F.avg_pool2d(x, 2, 1, divisor_override=3), X4[0], True),
    "adaptive_avg_pool3d": (lambda x: F.adaptive_avg_pool3d(x, (3, 4, 4)), X5, True),
    "adaptive_avg_pool2d_widening": (lambda x: F.adaptive_avg_pool2d(x, (15, 4)), X4, True),
    "adaptive_max_pool3d": (lambda x: F.adaptive_max_pool3d(x, (3, 4, 4)), X5, True),
    "adaptive_max_pool2d_widening": (lambda x: F.adaptive_max_pool2d(x, (15, 4)), X4, True),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_pooling_gradients_match_eager(name):
    fn, x0, in_kiln = GRADIENTS[name]
    x = x0.clone().requires_grad_(True)
    (fn(x) ** 2).sum().backward()
    expected, x.grad = x.grad, None
    (kiln.compile(fn)(x) ** 2).sum().backward()
    torch.testing.assert_close(x.grad, expected, rtol=1e-5, atol=1e-5)
    backward = [g for g in kiln.stats()["graphs"] if g["kind"] == "backward"]
    if in_kiln:
        assert [g["compute_coverage"] for g in backward] == [1.0], backward

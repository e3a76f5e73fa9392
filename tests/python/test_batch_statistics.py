"""Normalizations that compute their statistics from their input — batch norm in training (with
running statistics, 1-d to 3-d, and without them, as instance norm uses it) and group norm —
inside Kiln kernels, against eager: outputs, updated running statistics, and gradients."""

from __future__ import annotations

import copy

import kiln
import pytest
import torch
from torch import nn

GEN = torch.Generator().manual_seed(11)


def compare_training_step(model: nn.Module, x: torch.Tensor) -> None:
    """One forward and backward, compiled and eager, from the same start."""
    eager = copy.deepcopy(model).train()
    model.train()
    x_eager = x.clone().requires_grad_(True)
    x.requires_grad_(True)
    compiled = kiln.compile(model)
    out = compiled(x)
    expected = eager(x_eager)
    torch.testing.assert_close(out, expected, rtol=1e-4, atol=1e-4)
    (out * out.flip(0)).sum().backward()
    (expected * expected.flip(0)).sum().backward()
    torch.testing.assert_close(x.grad, x_eager.grad, rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(model.named_parameters(), eager.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-4, msg=name)
    for (name, b), c in zip(model.named_buffers(), eager.buffers()):
        torch.testing.assert_close(b, c, rtol=1e-5, atol=1e-6, msg=name)
    # All of the forward's compute in Kiln kernels (a graph that ran as ATen has coverage 0).
    forward = [g for g in kiln.stats()["graphs"] if g["kind"] == "forward"]
    assert forward and all(g["compute_coverage"] == 1.0 for g in forward), forward


MODELS = {
    "batch_norm_2d": (
        lambda: nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU()),
        (4, 3, 9, 7),
    ),
    "batch_norm_1d": (
        lambda: nn.Sequential(nn.Linear(12, 6), nn.BatchNorm1d(6, momentum=0.3)),
        (5, 12),
    ),
    "batch_norm_3d_no_affine": (lambda: nn.BatchNorm3d(4, affine=False), (2, 4, 3, 5, 2)),
    "instance_norm": (lambda: nn.InstanceNorm2d(5, affine=True), (3, 5, 6, 4)),
    "group_norm": (lambda: nn.Sequential(nn.GroupNorm(3, 6), nn.SiLU()), (2, 6, 5, 4)),
    "group_norm_1d_no_affine": (lambda: nn.GroupNorm(2, 8, affine=False), (3, 8, 10)),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_step_matches_eager(name):
    make, shape = MODELS[name]
    torch.manual_seed(0)
    model = make()
    compare_training_step(model, torch.randn(*shape, generator=GEN))


def test_running_statistics_track_several_steps():
    torch.manual_seed(0)
    model, eager = nn.BatchNorm2d(4), nn.BatchNorm2d(4)
    compiled = kiln.compile(model)
    for _ in range(3):
        x = torch.randn(3, 4, 5, 5, generator=GEN) * 3 + 1
        torch.testing.assert_close(compiled(x), eager(x), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(model.running_mean, eager.running_mean)
    torch.testing.assert_close(model.running_var, eager.running_var)
    assert model.num_batches_tracked == eager.num_batches_tracked == 3

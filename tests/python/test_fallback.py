"""Ops Kiln does not compile stay ATen calls inside the compiled graph, with correct results."""

from __future__ import annotations

import kiln
import pytest
import torch
from torch import nn


class SortsInTheMiddle(nn.Module):
    """Fusable work on both sides of ``torch.sort``, which Kiln does not compile."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(32, 32)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.fc(x))
        values, indices = torch.sort(y, dim=-1)
        return values * 2 + indices.to(y.dtype) + torch.tanh(y)


def test_unsupported_op_falls_back(coverage):
    torch.manual_seed(0)
    model, x = SortsInTheMiddle(), torch.randn(8, 32)
    with torch.no_grad():
        torch.testing.assert_close(kiln.compile(model)(x), model(x))
    fraction, unsupported = coverage()
    assert unsupported == {"aten.sort.default": "no Kiln lowering"}, unsupported
    assert 0 < fraction < 1


def test_unsupported_op_in_training(coverage):
    torch.manual_seed(0)
    model, x = SortsInTheMiddle(), torch.randn(8, 32, requires_grad=True)
    kiln.compile(model)(x).sum().backward()
    grad_kiln, weight_grad_kiln = x.grad, model.fc.weight.grad
    x.grad, model.fc.weight.grad = None, None
    model(x).sum().backward()
    torch.testing.assert_close(grad_kiln, x.grad)
    torch.testing.assert_close(weight_grad_kiln, model.fc.weight.grad)
    assert coverage()[0] > 0


def test_data_dependent_shape_falls_back():
    def f(x):
        return torch.nonzero(torch.relu(x) > 0.5).to(x.dtype).sum() + x.exp().sum()

    x = torch.randn(64)
    torch.testing.assert_close(kiln.compile(f)(x), f(x))


def test_fallback_ops_option_keeps_ops_aten(coverage):
    torch.manual_seed(0)
    model, x = nn.Sequential(nn.Linear(16, 16), nn.ReLU()), torch.randn(4, 16)
    with torch.no_grad():
        actual = kiln.compile(model, fallback_ops=["aten.addmm.default"])(x)
        torch.testing.assert_close(actual, model(x))
    _, unsupported = coverage()
    assert unsupported["opaque:aten.addmm.default"] == "the fallback_ops option keeps it ATen"


def test_unknown_option_is_an_error():
    with pytest.raises(Exception, match="unknown option"):
        kiln.compile(torch.nn.ReLU(), fusion="aggressive")(torch.randn(3))


def test_a_graph_mostly_in_aten_warns_with_the_reasons(kiln_log, coverage):
    def f(x):
        return torch.sort(torch.topk(x, 3).values).values + 1

    x = torch.randn(4, 8)
    torch.testing.assert_close(kiln.compile(f)(x), f(x))
    _, unsupported = coverage()
    assert set(unsupported) == {"aten.topk.default", "aten.sort.default"}, unsupported
    warnings = [m for m in kiln_log.messages if "ATen compute nodes" in m]
    assert warnings, kiln_log.messages
    assert "only 1 of 3" in warnings[0] and "aten.topk.default (no Kiln lowering)" in warnings[0]


def test_a_graph_mostly_in_kiln_does_not_warn(kiln_log):
    x = torch.randn(4, 8)
    torch.testing.assert_close(
        kiln.compile(lambda x: torch.sort(x.exp() * 2).values)(x), torch.sort(x.exp() * 2).values
    )
    assert not any("ATen compute nodes" in m for m in kiln_log.messages), kiln_log.messages

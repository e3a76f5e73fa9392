"""How slots serve matmuls and convolutions: Kiln's kernel of the whole group, or ATen's op and
Kiln's kernel of the rest; either way the model's results match eager."""

from __future__ import annotations

import kiln
import pytest
import torch
from models import make


@pytest.mark.parametrize("policy", ["kiln", "aten", "fastest"])
def test_every_policy_matches_eager(policy):
    model, x = make("cnn")
    model.eval()
    with torch.no_grad():
        expected = model(x)
        actual = kiln.compile(model, contractions=policy)(x)
    torch.testing.assert_close(actual, expected, rtol=1e-4, atol=1e-4)
    stats = kiln.stats()
    ours = {slot for graph in stats["graphs"] for slot in graph["slots"]}
    served = {s["served_by"] for s in stats["slots"] if s["slot"] in ours}
    if policy == "kiln":
        assert served == {"Kiln kernel"}
    if policy == "aten":
        # conv + batch norm + relu, and the classifier's addmm with nothing after it
        assert served == {
            "Kiln kernel",
            "aten.convolution.default + Kiln epilogue in place",
            "aten.addmm.default",
        }


def test_aten_served_training_step_matches_eager():
    model, x = make("mlp")
    reference = make("mlp")[0]
    reference.load_state_dict(model.state_dict())
    loss = kiln.compile(model, contractions="aten")(x).square().mean()
    loss.backward()
    expected = reference(x).square().mean()
    expected.backward()
    torch.testing.assert_close(loss, expected)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5)
    assert kiln.stats()["aten_contractions"] > 0


def test_unknown_policy_is_a_clear_error():
    with pytest.raises(Exception, match="contractions='fast'.*'fastest', 'kiln' or 'aten'"):
        kiln.compile(torch.nn.Linear(2, 2), contractions="fast")(torch.randn(1, 2))


@pytest.mark.parametrize("policy", ["kiln", "aten"])
def test_a_transposed_convolution_decoder_matches_eager_either_way(policy):
    """ConvTranspose2d (stride, padding, output_padding, groups, dilation) with batch norm and
    relu: Kiln's kernel convolves the input with zeros inserted and the weight flipped; ATen's
    op serves it with Kiln's epilogue."""
    torch.manual_seed(3)
    decoder = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1, output_padding=1, groups=2),
        torch.nn.BatchNorm2d(6),
        torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(6, 3, 3, padding=2, dilation=2, bias=False),
    ).eval()
    x = torch.randn(2, 8, 9, 7)
    with torch.no_grad():
        expected = decoder(x)
        actual = kiln.compile(decoder, contractions=policy)(x)
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)
    stats = kiln.stats()
    assert stats["coverage"] == 1.0, [g["unsupported"] for g in stats["graphs"]]
    served = {s["served_by"] for s in stats["slots"]}
    assert ("Kiln kernel" if policy == "kiln" else "aten.convolution.default") in " ".join(served)

"""Real models through ``backend="kiln"``: eval outputs and one training step match eager, and
most ATen nodes run in Kiln's kernels."""

from __future__ import annotations

import copy

import kiln
import pytest
import torch
from models import make

#: The issue's coverage target: the fraction of the ATen nodes of a model's graphs (inference,
#: and forward plus backward of a training step) that run in Kiln's kernel slots. What keeps a
#: model from 1.0 is printed by each test (backward ops the op library lacks, views of weights
#: that a backward graph also reads and that stay free ATen views).
MIN_COVERAGE = {
    name: (0.9, 0.9) for name in ["mlp", "cnn", "resnet18", "transformer", "gpt2", "decoder_lm"]
} | {
    # Eval only: at test sizes (batch 1, 64x64) their last batch norms see one value per channel,
    # whose gradients are ill-conditioned: eager's own differ from float64's more than Kiln's do.
    name: (0.9, None)
    for name in ["mobilenet_v2", "shufflenet_v2", "regnet_y_400mf", "efficientnet_b0"]
}

#: f32 results through differently ordered sums: deep models accumulate a little more error.
TOLERANCE = {"rtol": 1e-4, "atol": 1e-4}


@pytest.fixture
def no_mha_fastpath():
    """Eval-mode nn.TransformerEncoderLayer under no_grad is otherwise one fused ATen op
    (_transformer_encoder_layer_fwd) that Kiln cannot look into."""
    enabled = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    yield
    torch.backends.mha.set_fastpath_enabled(enabled)


@pytest.mark.parametrize("name", list(MIN_COVERAGE))
def test_eval_matches_eager(name, coverage, no_mha_fastpath):
    model, x = make(name)
    model.eval()
    with torch.no_grad():
        expected = model(x)
        actual = kiln.compile(model)(x)
    torch.testing.assert_close(actual, expected, **TOLERANCE)
    _check_coverage(coverage, name, "eval", MIN_COVERAGE[name][0])


@pytest.mark.parametrize("name", [name for name, (_, train) in MIN_COVERAGE.items() if train])
def test_training_step_matches_eager(name, coverage):
    model, x = make(name)
    model.train()
    reference = copy.deepcopy(model)
    compiled = kiln.compile(model)

    loss = compiled(x).square().mean()
    loss.backward()
    expected_loss = reference(x).square().mean()
    expected_loss.backward()

    torch.testing.assert_close(loss, expected_loss, **TOLERANCE)
    for (pname, p), (_, q) in zip(
        model.named_parameters(), reference.named_parameters(), strict=True
    ):
        torch.testing.assert_close(p.grad, q.grad, **TOLERANCE, msg=lambda m, n=pname: f"{n}: {m}")
    for (bname, b), (_, c) in zip(model.named_buffers(), reference.named_buffers(), strict=True):
        torch.testing.assert_close(b, c, **TOLERANCE, msg=lambda m, n=bname: f"{n}: {m}")
    _check_coverage(coverage, name, "train", MIN_COVERAGE[name][1])


def _check_coverage(coverage, name: str, mode: str, minimum: float) -> None:
    fraction, unsupported = coverage()
    compute = kiln.stats()["compute_coverage"]
    print(
        f"\n{name} {mode}: coverage {fraction:.3f} ({compute:.3f} without free input views); "
        f"stayed ATen: {unsupported}"
    )
    assert fraction >= minimum, f"stayed ATen: {unsupported}"

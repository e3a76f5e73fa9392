"""Inputs unlike the traced ones: Dynamo's guards recompile (or the graph runs as ATen); a slot
called with the wrong input type refuses with a clear error. Never a wrong result."""

from __future__ import annotations

import kiln
import pytest
import torch
from torch import nn


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 8), nn.Softmax(dim=-1))


@pytest.mark.parametrize("compile_fn", ["kiln.compile", "torch.compile"])
def test_new_shapes_dtypes_and_layouts_recompile(compile_fn):
    model = _model()
    compiled = (
        kiln.compile(model)
        if compile_fn == "kiln.compile"
        else torch.compile(model, backend="kiln")
    )
    base = torch.randn(4, 16)
    inputs = {
        "traced": base,
        "other shape": torch.randn(7, 16),
        "other batch rank": torch.randn(2, 3, 16),
        "non-contiguous": torch.randn(16, 4).t(),
        "strided slice": torch.randn(4, 32)[:, ::2],
        "storage offset": torch.randn(5, 16)[1:],
        "traced again": base,
    }
    with torch.no_grad():
        for what, x in inputs.items():
            torch.testing.assert_close(
                compiled(x), model(x), rtol=1e-4, atol=1e-5, msg=lambda m, w=what: f"{w}: {m}"
            )
        model64 = _model().double()
        compiled64 = kiln.compile(model64)
        for x in (base.double(), base):
            if x.dtype == torch.float32:
                with pytest.raises(RuntimeError):  # eager refuses a dtype mix too
                    model64(x)
                with pytest.raises(RuntimeError):
                    compiled64(x)
            else:
                torch.testing.assert_close(compiled64(x), model64(x))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_other_device_runs_as_aten():
    model = _model().cuda()
    x = torch.randn(4, 16, device="cuda")
    with torch.no_grad():
        torch.testing.assert_close(kiln.compile(model)(x), model(x))


def _one_slot() -> tuple[int, torch.Tensor]:
    x = torch.randn(4, 8)
    kiln.compile(lambda t: torch.relu(t) * 2 + 1)(x)
    slots = [slot for g in kiln.stats()["graphs"] for slot in g["slots"]]
    assert len(slots) == 1
    return slots[0], x


def test_launch_with_a_wrong_input_is_a_clear_error():
    slot, x = _one_slot()
    launch = torch.ops.kiln.launch.default
    torch.testing.assert_close(launch(slot, [x])[0], torch.relu(x) * 2 + 1)
    for bad in (x.double(), torch.randn(5, 8)):
        with pytest.raises(RuntimeError, match=f"kiln::launch: slot {slot}"):
            launch(slot, [bad])
    with pytest.raises(RuntimeError, match="inputs"):
        launch(slot, [x, x])


def test_launch_copies_an_input_laid_out_otherwise_than_traced():
    slot, _ = _one_slot()
    launch = torch.ops.kiln.launch.default
    transposed = torch.randn(8, 4).t()  # the same shape and dtype, other strides
    torch.testing.assert_close(launch(slot, [transposed])[0], torch.relu(transposed) * 2 + 1)


def test_a_saved_tensor_laid_out_otherwise_than_traced():
    # AOTAutograd traces the backward's saved mask (expanded from [5, 5, 1]) with strides [5, 1,
    # 0]; the tensor that arrives has strides [25, 5, 0]. Same values: copied, never an error.
    torch.manual_seed(0)
    mask = torch.rand(5, 5, 1) > 0.3
    x = torch.randn(5, 5, 5)

    def grad_of(fn):
        t = x.clone().requires_grad_()
        fn(t).nansum().backward()
        return torch.nan_to_num(t.grad)

    def std(t):
        return torch.masked.std(t, dim=1, mask=mask)

    torch.testing.assert_close(grad_of(kiln.compile(std)), grad_of(std), rtol=1e-4, atol=1e-5)


def test_launch_passes_opcheck():
    slot, x = _one_slot()
    torch.library.opcheck(torch.ops.kiln.launch.default, (slot, [x]))

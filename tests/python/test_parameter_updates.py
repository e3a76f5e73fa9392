"""A compiled model reads its parameters and buffers at every call: a change made after compiling
(in place, through load_state_dict, or by an optimizer step) is what the next call uses, never a
copy taken at compile time. In inference graphs Kiln prepares what its kernels make of the
weights alone (packed copies) once, and again whenever one changes (kiln.stats()'s
prepared_fills counts the calls that filled them)."""

from __future__ import annotations

import kiln
import pytest
import torch

#: Kiln's own convolution kernels, which pack their weights (no ATen-served contraction).
KILN_KERNELS = {"contractions": "kiln", "tune": "off"}


def conv_mlp() -> torch.nn.Module:
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.BatchNorm2d(8),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(8 * 8 * 8, 16),
        torch.nn.GELU(),
        torch.nn.Linear(16, 4),
    )


def test_inference_uses_parameters_changed_after_compiling():
    torch.manual_seed(0)
    model = conv_mlp().eval()
    x = torch.randn(2, 3, 8, 8)
    compiled = torch.compile(model, backend="kiln")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x))
        # In place: a weight, a bias, and batch norm's running statistics (a buffer).
        model[4].weight.mul_(2)
        model[0].bias.add_(1)
        model[1].running_var.mul_(3)
        torch.testing.assert_close(compiled(x), model(x))
        model.load_state_dict(conv_mlp().state_dict())
        torch.testing.assert_close(compiled(x), model(x))


def test_training_steps_reach_the_next_call():
    torch.manual_seed(1)
    model = conv_mlp()
    x = torch.randn(2, 3, 8, 8)
    reference = conv_mlp()
    reference.load_state_dict(model.state_dict())
    compiled = torch.compile(model, backend="kiln")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    reference_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        for m, opt in ((compiled, optimizer), (reference, reference_optimizer)):
            opt.zero_grad()
            m(x).square().sum().backward()
            opt.step()
        torch.testing.assert_close(compiled(x), reference(x), rtol=1e-4, atol=1e-4)
        for p, q in zip(model.parameters(), reference.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-4)


def conv_net() -> torch.nn.Module:
    """Convolutions wide enough that their kernels pack the weights into panels."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(16, 64, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, padding=1),
    ).eval()


def prepared_fills(compiled: torch.nn.Module, x: torch.Tensor) -> list[int]:
    """The prepared_fills of the slots that a call of `compiled` on `x` runs."""
    before = {s["slot"]: s["calls"] for s in kiln.stats()["slots"]}
    compiled(x)
    after = kiln.stats()["slots"]
    return [s["prepared_fills"] for s in after if s["calls"] > before.get(s["slot"], 0)]


def test_weights_are_prepared_once_and_again_after_each_change():
    torch.manual_seed(2)
    model = conv_net()
    x = torch.randn(1, 16, 14, 14)
    compiled = torch.compile(model, backend="kiln", options=KILN_KERNELS)
    with torch.no_grad():
        for _ in range(4):
            torch.testing.assert_close(compiled(x), model(x))
        fills = prepared_fills(compiled, x)
        assert fills and all(f == 1 for f in fills), fills  # every packed weight: once
        model[2].weight.mul_(-1)  # in place: the version counter moves
        torch.testing.assert_close(compiled(x), model(x))
        assert sorted(prepared_fills(compiled, x)) == [1, 2]  # only the changed layer's slot
        model.load_state_dict(conv_net().state_dict())
        torch.testing.assert_close(compiled(x), model(x))
        model[0].weight.data = torch.randn_like(model[0].weight) / 16  # a new storage
        torch.testing.assert_close(compiled(x), model(x))
        model[2].weight = torch.nn.Parameter(torch.randn_like(model[2].weight) / 16)
        torch.testing.assert_close(compiled(x), model(x))


def test_an_optimizer_step_between_inference_calls_is_used():
    torch.manual_seed(3)
    model = conv_net()
    x = torch.randn(1, 16, 14, 14)
    compiled = torch.compile(model, backend="kiln", options=KILN_KERNELS)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    with torch.no_grad():
        before = compiled(x)
    for _ in range(2):
        optimizer.zero_grad()
        model(x).square().sum().backward()  # eager: the compiled graph is inference-only
        optimizer.step()
        with torch.no_grad():
            after = compiled(x)
            torch.testing.assert_close(after, model(x), rtol=1e-4, atol=1e-4)
            assert (after - before).abs().max() > 1e-2  # the step moved the outputs
            before = after


def test_inference_tensors_are_never_kept():
    # An inference tensor has no version counter: written in inference mode, it changes unseen,
    # so nothing prepared from it may be kept.
    torch.manual_seed(4)
    with torch.inference_mode():
        model = conv_net()
        x = torch.randn(1, 16, 14, 14)
        compiled = torch.compile(model, backend="kiln", options=KILN_KERNELS)
        torch.testing.assert_close(compiled(x), model(x))
        model[0].weight.mul_(3)
        torch.testing.assert_close(compiled(x), model(x))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_model_called_from_threads_while_its_weights_stay(dtype):
    import threading

    torch.manual_seed(5)
    model = conv_net().to(dtype)
    x = torch.randn(1, 16, 14, 14, dtype=dtype)
    compiled = torch.compile(model, backend="kiln", options=KILN_KERNELS)
    with torch.no_grad():
        expected = compiled(x)
    results: list[torch.Tensor] = []

    def call() -> None:
        with torch.no_grad():
            for _ in range(5):
                results.append(compiled(x))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 15
    for r in results:
        assert torch.equal(r, expected)

"""A compiled model reads its parameters and buffers at every call: a change made after compiling
(in place, through load_state_dict, or by an optimizer step) is what the next call uses, never a
copy taken at compile time. Kiln prepares no weights today; this holds whatever it prepares."""

from __future__ import annotations

import torch


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

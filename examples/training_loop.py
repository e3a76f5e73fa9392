"""A short training loop: forward and backward graphs both go through Kiln.

Trains the same small classifier twice from the same start, eagerly and compiled, on a fixed
random problem, and prints both loss curves side by side.
"""

from __future__ import annotations

import copy
import time

import kiln
import torch
from kiln.stats import summary
from torch import nn


def train(model: nn.Module, step_fn, data, target, steps: int) -> list[float]:
    """Runs `steps` SGD steps of `step_fn` (a model or its compiled form); returns the losses."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(step_fn(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def main() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(32, 128),
        nn.LayerNorm(128),
        nn.GELU(),
        nn.Linear(128, 128),
        nn.ReLU(),
        nn.Linear(128, 4),
    )
    data, target = torch.randn(256, 32), torch.randint(0, 4, (256,))
    eager_model, kiln_model = model, copy.deepcopy(model)

    start = time.perf_counter()
    eager = train(eager_model, eager_model, data, target, steps=20)
    eager_s = time.perf_counter() - start
    start = time.perf_counter()
    compiled = train(kiln_model, kiln.compile(kiln_model), data, target, steps=20)
    kiln_s = time.perf_counter() - start

    print("step   eager loss   kiln loss")
    for i in range(0, 20, 4):
        print(f"{i:4d}   {eager[i]:10.6f}   {compiled[i]:10.6f}")
    worst = max(abs(a - b) for a, b in zip(eager, compiled, strict=True))
    print(f"max |loss difference| over 20 steps: {worst:.3g}")
    print(f"20 steps: eager {eager_s:.2f} s, kiln {kiln_s:.2f} s (kiln's includes compiling)")
    print(summary())


if __name__ == "__main__":
    main()

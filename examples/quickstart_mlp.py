"""Quick start: compile an MLP with Kiln and compare it with eager PyTorch.

python examples/quickstart_mlp.py        (KILN_LOG=info shows what Kiln compiles)
"""

from __future__ import annotations

import kiln  # noqa: F401  (torch.compile(model, backend="kiln") works without this import too)
import torch
from compare import compare
from torch import nn


def main() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.GELU(), nn.Linear(512, 10)
    )
    compare("MLP", model, torch.randn(64, 256))


if __name__ == "__main__":
    main()

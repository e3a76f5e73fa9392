"""torchvision's ResNet-18 (random weights) through Kiln, inference at 1x3x224x224."""

from __future__ import annotations

import torch
import torchvision
from compare import compare


def main() -> None:
    torch.manual_seed(0)
    compare("ResNet-18", torchvision.models.resnet18(weights=None), torch.randn(1, 3, 224, 224))


if __name__ == "__main__":
    main()

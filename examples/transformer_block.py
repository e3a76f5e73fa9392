"""A transformer encoder block (``nn.TransformerEncoderLayer``, BERT-base sizes) through Kiln."""

from __future__ import annotations

import torch
from compare import compare
from torch import nn


def main() -> None:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(
        d_model=768, nhead=12, dim_feedforward=3072, dropout=0.0, batch_first=True
    )
    compare("TransformerEncoderLayer", layer, torch.randn(1, 128, 768))


if __name__ == "__main__":
    main()

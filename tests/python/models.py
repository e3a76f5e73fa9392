"""The models the plugin is tested and benchmarked on, with random weights and example inputs."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn


def mlp() -> nn.Module:
    """A three-layer MLP with ReLU and GELU."""
    return nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 128), nn.GELU(), nn.Linear(128, 10)
    )


class SmallCNN(nn.Module):
    """Conv-BatchNorm-ReLU twice, max pooling, global average pooling, a linear classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.relu(self.bn2(self.conv2(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class GPT2Block(nn.Module):
    """A GPT-2 decoder block: pre-LayerNorm causal self-attention (additive mask built in the
    forward) and a GELU MLP, each with a residual connection."""

    def __init__(self, dim: int = 64, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, 4 * dim)
        self.out = nn.Linear(4 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (y.view(b, t, self.heads, c // self.heads).transpose(1, 2) for y in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(c // self.heads)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        scores = scores.masked_fill(~causal, float("-inf"))
        attn = F.softmax(scores, dim=-1) @ v
        x = x + self.proj(attn.transpose(1, 2).reshape(b, t, c))
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


def transformer_layer() -> nn.Module:
    """``nn.TransformerEncoderLayer`` (batch first, no dropout)."""
    return nn.TransformerEncoderLayer(
        d_model=64, nhead=4, dim_feedforward=128, dropout=0.0, batch_first=True
    )


class DecoderLM(nn.Module):
    """A decoder-only language model: token and position embeddings, GPT-2 blocks, a final
    LayerNorm and a linear head over the vocabulary. Its input is token ids."""

    def __init__(self, vocab: int = 512, dim: int = 64, layers: int = 4, context: int = 128):
        super().__init__()
        self.vocab = vocab
        self.tokens = nn.Embedding(vocab, dim)
        self.positions = nn.Embedding(context, dim)
        self.blocks = nn.Sequential(*(GPT2Block(dim) for _ in range(layers)))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab, bias=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        return self.head(self.ln(self.blocks(self.tokens(ids) + self.positions(positions))))


def torchvision_model(name: str, **options: float) -> Callable[[], nn.Module]:
    """torchvision's model `name` with random weights and `options` (dropout=0.0: a training
    step is compared with eager's, and dropout draws its own random numbers in each)."""

    def factory() -> nn.Module:
        import torchvision

        return torchvision.models.get_model(name, weights=None, **options)

    return factory


def resnet18() -> nn.Module:
    """torchvision's ResNet-18 with random weights."""
    return torchvision_model("resnet18")()


#: name → (model factory, input shape for tests, input shape for the benchmark).
MODELS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...], tuple[int, ...]]] = {
    "mlp": (mlp, (8, 64), (32, 64)),
    "cnn": (SmallCNN, (2, 3, 16, 16), (8, 3, 32, 32)),
    "resnet18": (resnet18, (1, 3, 64, 64), (1, 3, 224, 224)),
    "transformer": (transformer_layer, (2, 16, 64), (4, 128, 64)),
    "gpt2": (GPT2Block, (2, 16, 64), (4, 128, 64)),
    # Beyond the standard five: depthwise and grouped convolutions, squeeze-and-excitation, and a
    # decoder-only transformer with embeddings.
    "mobilenet_v2": (
        torchvision_model("mobilenet_v2", dropout=0.0),
        (1, 3, 64, 64),
        (1, 3, 224, 224),
    ),
    "shufflenet_v2": (torchvision_model("shufflenet_v2_x1_0"), (1, 3, 64, 64), (1, 3, 224, 224)),
    "regnet_y_400mf": (torchvision_model("regnet_y_400mf"), (1, 3, 64, 64), (1, 3, 224, 224)),
    "efficientnet_b0": (
        torchvision_model("efficientnet_b0", dropout=0.0, stochastic_depth_prob=0.0),
        (1, 3, 64, 64),
        (1, 3, 224, 224),
    ),
    "decoder_lm": (DecoderLM, (2, 16), (4, 128)),
}


def make(name: str, seed: int = 0, bench: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """The model `name` with seeded random weights and a seeded random input."""
    factory, test_shape, bench_shape = MODELS[name]
    torch.manual_seed(seed)
    model = factory()
    shape = bench_shape if bench else test_shape
    if isinstance(model, DecoderLM):
        return model, torch.randint(model.vocab, shape)
    return model, torch.randn(shape)

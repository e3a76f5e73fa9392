"""int8 and int16 tensors in Kiln kernels: torch._int_mm (int8 products summed in int32, on
AVX512-VNNI four to an instruction) and integer elementwise ops, through torch.compile, equal to
eager bit for bit (integer results are exact), whichever serves the product."""

from __future__ import annotations

import kiln
import pytest
import torch


class DynamicInt8Linear(torch.nn.Module):
    """A linear layer quantized as torchao's int8 dynamic quantization does: int8 weights with a
    scale per output channel, activations quantized per row at each call, one _int_mm."""

    def __init__(self, k: int, n: int):
        super().__init__()
        w = torch.randn(n, k, generator=torch.Generator().manual_seed(1))
        scale = w.abs().amax(1) / 127
        self.register_buffer("w_scale", scale)
        self.register_buffer(
            "wq_t", (w / scale[:, None]).round().clamp(-128, 127).to(torch.int8).t().contiguous()
        )

    def forward(self, x):
        s = x.abs().amax(-1, keepdim=True) / 127
        xq = (x / s).round().clamp(-128, 127).to(torch.int8)
        return torch._int_mm(xq, self.wq_t).float() * s * self.w_scale


def kiln_slots():
    stats = kiln.stats()
    ours = {slot for graph in stats["graphs"] for slot in graph["slots"]}
    return [s for s in stats["slots"] if s["slot"] in ours]


@pytest.mark.parametrize("policy", ["kiln", "fastest"])
@pytest.mark.parametrize("m,k,n", [(64, 256, 96), (5, 36, 20), (33, 30, 17)])
def test_dynamic_int8_linear_matches_eager_exactly(policy, m, k, n):
    # K a multiple of 4 (quads), and not (30: the plain integer loop); M below a panel's rows.
    model = DynamicInt8Linear(k, n).eval()
    x = torch.randn(m, k, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model(x)
        compiled = kiln.compile(model, contractions=policy)
        for _ in range(2):  # the second call reads the weights prepared by the first
            assert torch.equal(compiled(x), expected)
    served = [s["served_by"] for s in kiln_slots() if "_int_mm" in s["ops"]]
    assert len(served) == 1
    if policy == "kiln":
        assert served == ["Kiln kernel"]


def test_int_mm_over_the_whole_int8_range_matches_eager():
    a = torch.randint(-128, 128, (48, 64), dtype=torch.int8)
    b = torch.randint(-128, 128, (64, 40), dtype=torch.int8)
    a[0], b[:, 0] = -128, -128  # the products' extremes: 2^14 each, 64 of them
    compiled = kiln.compile(torch._int_mm, contractions="kiln")
    assert torch.equal(compiled(a, b), torch._int_mm(a, b))
    assert compiled(a, b)[0, 0].item() == 64 * 128 * 128


def test_int8_and_int16_elementwise_ops_wrap_like_eager(coverage):
    def f(a, b, c):
        # int8 + int8 stays int8 (wraps); int8 * int16 promotes to int16; to float at the end.
        return (a + b) * c, (a.to(torch.int16) * c).float().abs()

    a = torch.randint(-128, 128, (4, 33), dtype=torch.int8)
    b = torch.randint(-128, 128, (4, 33), dtype=torch.int8)
    c = torch.randint(-300, 300, (4, 33), dtype=torch.int16)
    expected = f(a, b, c)
    actual = kiln.compile(f)(a, b, c)
    for got, want in zip(actual, expected, strict=True):
        assert got.dtype == want.dtype
        assert torch.equal(got, want)
    assert coverage()[0] == 1.0

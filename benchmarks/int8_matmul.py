"""int8 matmul (torch._int_mm: int8 products summed in int32) in a Kiln kernel beside ATen's
_int_mm (oneDNN), TorchInductor's, and Kiln's own f32 and bf16 matmuls of the same size, side by
side in one run. Each is a Linear-like module whose weight is a buffer, compiled for inference
(Kiln prepares the packed weight once), default schedules, no tuning. The backends take turns,
round by round; each figure is the median over rounds of the best-of-calls time.

    python3 benchmarks/int8_matmul.py [--sizes 1024,512] [--threads 1] [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("KILN_TUNE", "off")

import kiln
import torch
from side_by_side import best_of_calls


class Product(torch.nn.Module):
    """x @ w with w a buffer (a weight of the model): _int_mm for int8, mm otherwise."""

    def __init__(self, w: torch.Tensor):
        super().__init__()
        self.register_buffer("w", w)

    def forward(self, x):
        return torch._int_mm(x, self.w) if x.dtype == torch.int8 else x @ self.w


def row(n: int, rounds: int) -> str:
    g = torch.Generator().manual_seed(0)
    a8 = torch.randint(-128, 128, (n, n), dtype=torch.int8, generator=g)
    b8 = torch.randint(-128, 128, (n, n), dtype=torch.int8, generator=g)
    af, bf = torch.randn(n, n, generator=g), torch.randn(n, n, generator=g)
    ab, bb = af.bfloat16(), bf.bfloat16()
    torch._dynamo.reset()
    int8 = Product(b8).eval()
    runs = {
        "aten i8": (int8, a8),
        "ind i8": (torch.compile(int8), a8),
        "kiln i8": (kiln.compile(int8, contractions="kiln"), a8),
        "kiln f32": (kiln.compile(Product(bf).eval(), contractions="kiln"), af),
        "kiln bf16": (kiln.compile(Product(bb).eval(), contractions="kiln"), ab),
    }
    with torch.no_grad():
        want = torch._int_mm(a8, b8)
        for name in ("ind i8", "kiln i8"):
            assert torch.equal(runs[name][0](a8), want), name
        samples = {k: [] for k in runs}
        for _ in range(rounds):
            for k, (f, x) in runs.items():
                samples[k].append(best_of_calls(lambda f=f, x=x: f(x), seconds=0.2))
    ms = {k: 1e3 * statistics.median(v) for k, v in samples.items()}
    gops = {k: 2 * n**3 / v / 1e6 for k, v in ms.items()}
    cells = "".join(f"{gops[k]:>11.0f}" for k in runs)
    return (
        f"{n:>6}{cells}{ms['aten i8'] / ms['kiln i8']:>11.2f}x{ms['ind i8'] / ms['kiln i8']:>9.2f}x"
        f"{ms['kiln f32'] / ms['kiln i8']:>9.2f}x{ms['kiln bf16'] / ms['kiln i8']:>9.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1024,512")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"# n x n x n, {args.threads} thread(s), {kiln._C.doctor().cpu}; GOP/s, then speedups")
    names = ["aten i8", "ind i8", "kiln i8", "kiln f32", "kiln bf16"]
    print(
        f"{'n':>6}"
        + "".join(f"{k:>11}" for k in names)
        + f"{'i8/aten':>12}{'i8/ind':>10}{'i8/f32':>10}{'i8/bf16':>10}"
    )
    for n in (int(s) for s in args.sizes.split(",")):
        print(row(n, args.rounds), flush=True)
    print("speedups: the other's time over Kiln's int8 time (>1: Kiln's int8 faster)")


if __name__ == "__main__":
    main()

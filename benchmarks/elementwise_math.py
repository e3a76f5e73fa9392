"""Every elementwise math function Kiln lowers (exp, log, tanh, erf, sigmoid, pow, trig, ...) over
a large tensor, in Kiln kernels (default schedules, no tuning) beside PyTorch eager and
TorchInductor, side by side in one run, with a copy of the input (`x.clone()`, eager) as the
memory roofline: each op reads its input and writes its output once, as a copy does.

Each op's input lies in its domain (log: positive, acosh: >= 1, atanh: (-1, 1), ...), so that the
time is that of ordinary values, not of NaN. The backends take turns, round by round; each
figure is the median over rounds of the best-of-calls time.

    python3 benchmarks/elementwise_math.py [--size 2048] [--threads 2] [--rounds 7] [--only a,b]
"""

from __future__ import annotations

import argparse
import math

import torch
import torch.nn.functional as F
from side_by_side import COLUMNS, LEGEND, measure

# The domain of each op's input: (low, high) of a uniform draw.
ANY = (-4.0, 4.0)
POSITIVE = (0.01, 10.0)
OPEN_UNIT = (-0.99, 0.99)

UNARY = {
    "exp": (torch.exp, ANY),
    "exp2": (torch.exp2, ANY),
    "expm1": (torch.expm1, ANY),
    "log": (torch.log, POSITIVE),
    "log2": (torch.log2, POSITIVE),
    "log10": (torch.log10, POSITIVE),
    "log1p": (torch.log1p, POSITIVE),
    "sqrt": (torch.sqrt, POSITIVE),
    "rsqrt": (torch.rsqrt, POSITIVE),
    "reciprocal": (torch.reciprocal, POSITIVE),
    "sin": (torch.sin, ANY),
    "cos": (torch.cos, ANY),
    "tan": (torch.tan, (-1.5, 1.5)),
    "asin": (torch.asin, OPEN_UNIT),
    "acos": (torch.acos, OPEN_UNIT),
    "atan": (torch.atan, ANY),
    "sinh": (torch.sinh, ANY),
    "cosh": (torch.cosh, ANY),
    "tanh": (torch.tanh, ANY),
    "asinh": (torch.asinh, ANY),
    "acosh": (torch.acosh, (1.0, 10.0)),
    "atanh": (torch.atanh, OPEN_UNIT),
    "sigmoid": (torch.sigmoid, ANY),
    "silu": (F.silu, ANY),
    "gelu": (F.gelu, ANY),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), ANY),
    "gelu_tanh_by_hand": (
        lambda x: 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        ANY,
    ),
    "erf": (torch.erf, ANY),
    "erfc": (torch.erfc, ANY),
    "erfinv": (torch.erfinv, OPEN_UNIT),
    "lgamma": (torch.lgamma, POSITIVE),
    "digamma": (torch.digamma, (0.5, 10.0)),
    "i0": (torch.i0, ANY),
    "i0e": (torch.special.i0e, ANY),
    "i1": (torch.special.i1, ANY),
    "i1e": (torch.special.i1e, ANY),
    "ndtri": (torch.special.ndtri, (0.01, 0.99)),
    "polygamma_1": (lambda x: torch.polygamma(1, x), (0.5, 10.0)),
    "pow_2": (lambda x: torch.pow(x, 2.0), ANY),
    "pow_3": (lambda x: torch.pow(x, 3.0), ANY),
    "pow_4": (lambda x: torch.pow(x, 4.0), ANY),
    "pow_0.5": (lambda x: torch.pow(x, 0.5), POSITIVE),
    "pow_-0.5": (lambda x: torch.pow(x, -0.5), POSITIVE),
    "pow_-1": (lambda x: torch.pow(x, -1.0), POSITIVE),
    "pow_-2": (lambda x: torch.pow(x, -2.0), POSITIVE),
    "pow_1.5": (lambda x: torch.pow(x, 1.5), POSITIVE),
    "pow_2.7": (lambda x: torch.pow(x, 2.7), POSITIVE),
    "pow_int_7": (lambda x: torch.pow(x, 7), (-2.0, 2.0)),
}

BINARY = {
    "pow_tensor": (torch.pow, POSITIVE, ANY),
    "atan2": (torch.atan2, ANY, ANY),
    "hypot": (torch.hypot, ANY, ANY),
}


def uniform(shape, bounds, seed):
    low, high = bounds
    g = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=g) * (high - low) + low


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=2048, help="the input is SIZE x SIZE f32")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--only", default="", help="comma-separated op names")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    only = set(filter(None, a.only.split(",")))
    shape = (a.size, a.size)
    print(
        f"# python3 benchmarks/elementwise_math.py --size {a.size} --threads {a.threads} "
        f"--rounds {a.rounds}"
    )
    print(f"{'op':<20}{COLUMNS}")
    cases = [(n, fn, (uniform(shape, dom, 0),)) for n, (fn, dom) in UNARY.items()]
    cases += [
        (n, fn, (uniform(shape, d0, 0), uniform(shape, d1, 1)))
        for n, (fn, d0, d1) in BINARY.items()
    ]
    for name, fn, args in cases:
        if only and name not in only:
            continue
        row = measure(fn, lambda *t: t[0].clone(), args, a.rounds, name, rtol=2e-5, atol=1e-5)
        print(f"{name:<20}{row}", flush=True)
    print(LEGEND)


if __name__ == "__main__":
    main()

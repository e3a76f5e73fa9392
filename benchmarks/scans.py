"""Scans (cumsum, cumprod, logcumsumexp, cummax) in Kiln kernels (default schedules, no tuning)
beside PyTorch eager and TorchInductor, side by side in one run, with a copy of the same tensor
(`x.clone()`, eager) as the memory roofline: a scan reads its input and writes its output once, as a copy does.

Each op runs along the last dim (one serial recurrence per row, rows in parallel) and along the
first (every column its own recurrence: vector lanes). The backends take turns, round by round;
each figure is the median over rounds of the best-of-calls time.

    python3 benchmarks/scans.py [--rows 512] [--cols 4096] [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse

import torch
from side_by_side import COLUMNS, LEGEND, measure

OPS = {
    "cumsum": lambda x, d: torch.cumsum(x, d),
    "cumprod": lambda x, d: torch.cumprod(x, d),
    "logcumsumexp": lambda x, d: torch.logcumsumexp(x, d),
    "cummax": lambda x, d: torch.cummax(x, d)[0],
}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=512)
    p.add_argument("--cols", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    x = torch.rand(a.rows, a.cols, generator=torch.Generator().manual_seed(0)) + 0.5
    print(f"# python3 benchmarks/scans.py --rows {a.rows} --cols {a.cols} --threads {a.threads}")
    print(f"{'op':<14}{'dim':>4}{COLUMNS}")
    for name, op in OPS.items():
        for dim in (-1, 0):

            def fn(t, op=op, dim=dim):
                return op(t, dim)

            row = measure(fn, lambda t: t.clone(), (x,), a.rounds, f"{name} dim {dim}")
            print(f"{name:<14}{dim:>4}{row}")
    print(LEGEND)


if __name__ == "__main__":
    main()

"""Scatters (scatter_add, scatter_reduce, index_put, index_add, scatter) in Kiln kernels (default
schedules, no tuning) beside PyTorch eager and TorchInductor, side by side in one run, with a
copy of self and the source (`clone()` of both, eager) as the memory roofline: a scatter writes
self once and reads the source and its index once.

The workloads are what models scatter: a segment sum (scatter_add of many rows into fewer),
an embedding's gradient (index_put with accumulate, as its backward is decomposed), index_add
and a row assignment `y[idx] = v`, a max pooling over segments (scatter_reduce amax), and a
one-hot along the last dim.

    python3 benchmarks/scatters.py [--rows 4096] [--cols 512] [--threads 2] [--rounds 15]
"""

from __future__ import annotations

import argparse

import torch
from side_by_side import COLUMNS, LEGEND, measure


def workloads(rows: int, cols: int):
    g = torch.Generator().manual_seed(0)
    self_ = torch.randn(rows, cols, generator=g)
    n = 4 * rows  # source rows: each row of self is written 4 times on average
    src = torch.randn(n, cols, generator=g)
    seg = torch.randint(0, rows, (n,), generator=g)
    seg2d = seg[:, None].expand(n, cols).contiguous()
    labels = torch.randint(0, cols, (rows, 1), generator=g)
    return {
        "scatter_add_rows": (lambda x, s, i: x.scatter_add(0, i, s), (self_, src, seg2d)),
        # The index as models write it: expanded along the columns (stride 0).
        "scatter_add_expanded": (
            lambda x, s, i: x.scatter_add(0, i, s),
            (self_, src, seg[:, None].expand(n, cols)),
        ),
        "scatter_amax_rows": (
            lambda x, s, i: x.scatter_reduce(0, i, s, "amax", include_self=False),
            (self_, src, seg2d),
        ),
        "index_put_accumulate": (
            lambda x, s, i: x.index_put((i,), s, accumulate=True),
            (self_, src, seg),
        ),
        "index_add_rows": (lambda x, s, i: x.index_add(0, i, s), (self_, src, seg)),
        # Distinct rows: which of two writes to one row wins is unspecified (Inductor differs).
        "assign_rows": (
            lambda x, s, i: x.index_put((i,), s),
            (self_, src[: rows // 2], torch.randperm(rows, generator=g)[: rows // 2]),
        ),
        "one_hot_last_dim": (
            lambda x, s, i: torch.zeros_like(x).scatter(1, i, 1.0),
            (self_, labels.float(), labels),
        ),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=4096)
    p.add_argument("--cols", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# python3 benchmarks/scatters.py --rows {a.rows} --cols {a.cols} --threads {a.threads}")
    print(f"{'workload':<22}{COLUMNS}")
    for name, (fn, args) in workloads(a.rows, a.cols).items():
        row = measure(fn, lambda x, s, i: (x.clone(), s.clone()), args, a.rounds, name)
        print(f"{name:<22}{row}")
    print(LEGEND)


if __name__ == "__main__":
    main()

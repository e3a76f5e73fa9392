"""What `import kiln` adds to `import torch`: fresh processes run `python -X importtime -c
"import torch"` and `... "import kiln"` in turns; the cumulative time of the top-level import
(torch, or kiln with the torch it imports) is read from each one's importtime report.

    python benchmarks/import_time.py [--repeats 7]

Prints the medians and their difference (Kiln's budget: 0.3 s).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys


def cumulative_seconds(module: str) -> float:
    """Seconds `import module` takes in a fresh interpreter, torch's own imports included."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
    )
    # "import time:   self [us] | cumulative | imported package"; a top-level import is the last
    # line that names it without indentation.
    total = 0
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line)
        if m and m.group(2) in ("torch", module):
            total = max(total, int(m.group(1)))
    return total / 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch_s, kiln_s = [], []
    for _ in range(args.repeats):
        torch_s.append(cumulative_seconds("torch"))
        kiln_s.append(cumulative_seconds("kiln"))
    t, k = statistics.median(torch_s), statistics.median(kiln_s)
    print(
        f"import torch {t:.3f} s, import kiln {k:.3f} s (torch included): "
        f"kiln adds {k - t:+.3f} s (median of {args.repeats}; budget 0.300 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

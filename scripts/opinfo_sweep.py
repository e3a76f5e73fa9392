"""PyTorch's OpInfo samples through ``kiln.compile``, against eager: every op that eager runs on
CPU must give eager's result (or raise eager's exception type) when compiled by Kiln.

    python scripts/opinfo_sweep.py [--dtypes float32,int64] [--samples 1] [--ops add,mul]
                                   [--json FILE]

Per op and dtype, the first --samples samples (0: all). Skipped, and counted as such: ops whose
results are not deterministic (random, empty, dropout, nondeterministic seeds) and samples eager
itself rejects with an error other than the ones Kiln must reproduce. Prints one line per
mismatch or crash and a summary: samples, ops, matches, mismatches, crashes, and how many samples
ran with every ATen node inside Kiln kernels.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import torch

import kiln

#: Ops whose output is not a function of their inputs (sampled, uninitialized or seeded).
NONDETERMINISTIC = ("rand", "normal", "bernoulli", "multinomial", "dropout", "empty", "uniform",
                    "randint", "randn", "poisson", "exponential", "geometric", "cauchy",
                    "log_normal", "new_empty", "empty_like", "empty_strided")


def _deterministic(op) -> bool:
    name = op.name if not op.variant_test_name else f"{op.name}.{op.variant_test_name}"
    return not any(word in name for word in NONDETERMINISTIC)


def _flatten(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _flatten(v)]
    if hasattr(value, "_fields"):  # torch.return_types
        return [t for v in value for t in _flatten(v)]
    return []


LOW_PRECISION = (torch.float16, torch.bfloat16)


def _no_worse_than_eager(eager, compiled, reference) -> bool:
    """In half precision eager rounds after each step and Kiln computes in float32 and rounds
    once: Kiln passes where it is no further from a float64 reference than eager is (Inductor's
    OpInfo tests compare against a higher-precision reference likewise)."""
    for x, y, r in zip(_flatten(eager), _flatten(compiled), _flatten(reference)):
        if not x.is_floating_point():
            if not torch.equal(x, y):
                return False
            continue
        r = r.to(torch.float64)
        eager_error = (x.to(torch.float64) - r).abs().nan_to_num(0)
        kiln_error = (y.to(torch.float64) - r).abs().nan_to_num(0)
        ulp = torch.finfo(x.dtype).eps * r.abs().clamp_min(1)
        if not bool((kiln_error <= eager_error + ulp).all()):
            return False
    return True


def _same(eager, compiled, dtype, reference=None) -> str | None:
    """None when the results agree (NaN where eager has NaN), else what differs. `reference`:
    eager on inputs in float64, for half-precision dtypes."""
    if reference is not None and _same(eager, compiled, torch.float32) is not None:
        try:
            if _no_worse_than_eager(eager, compiled, reference):
                return None
        except RuntimeError:
            pass
    a, b = _flatten(eager), _flatten(compiled)
    if len(a) != len(b):
        return f"{len(b)} tensors, eager gives {len(a)}"
    for i, (x, y) in enumerate(zip(a, b)):
        if x.shape != y.shape or x.dtype != y.dtype:
            return f"output {i}: {y.dtype}{list(y.shape)}, eager {x.dtype}{list(x.shape)}"
        try:
            torch.testing.assert_close(y, x, equal_nan=True, rtol=1.3e-6 if dtype == torch.float32 else None,
                                       atol=1e-5 if dtype == torch.float32 else None)
        except AssertionError as e:
            return f"output {i}: {str(e).splitlines()[0]} {' '.join(str(e).split()[-12:])}"
        except Exception as e:  # noqa: BLE001 (dtypes assert_close cannot compare)
            if not torch.equal(x, y):
                return f"output {i}: differs ({type(e).__name__})"
    return None


def sweep(dtypes, samples_per_op, only=None):
    from torch.testing._internal.common_methods_invocations import op_db

    counts = dict(samples=0, ops=set(), match=0, mismatch=0, crash=0, skipped=0, in_kiln=0)
    problems = []
    for op in op_db:
        if only and op.name not in only:
            continue
        if not _deterministic(op):
            counts["skipped"] += 1
            continue
        for dtype in dtypes:
            if dtype not in op.supported_dtypes("cpu"):
                continue
            try:
                samples = list(op.sample_inputs("cpu", dtype, requires_grad=False))
            except Exception:  # noqa: BLE001 (an OpInfo that cannot make samples here)
                counts["skipped"] += 1
                continue
            if samples_per_op:
                samples = samples[:samples_per_op]
            for k, sample in enumerate(samples):
                where = f"{op.name}{'.' + op.variant_test_name if op.variant_test_name else ''} {dtype} sample {k}"
                leaves = [sample.input, *sample.args]
                tensors = [t for t in leaves if isinstance(t, torch.Tensor)]

                def fn(*ts, sample=sample):
                    it = iter(ts)
                    args = [next(it) if isinstance(a, torch.Tensor) else a for a in [sample.input, *sample.args]]
                    return op(*args, **sample.kwargs)

                try:
                    eager = fn(*tensors)
                    eager_error = None
                except Exception as e:  # noqa: BLE001
                    eager_error = type(e)
                torch._dynamo.reset()
                kiln.reset_stats()
                counts["samples"] += 1
                counts["ops"].add(op.name)
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        compiled = kiln.compile(fn)(*tensors)
                except Exception as e:  # noqa: BLE001
                    if eager_error is not None and isinstance(e, eager_error):
                        counts["match"] += 1
                    else:
                        counts["crash"] += 1
                        problems.append(f"CRASH {where}: {type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
                                        + (f" (eager raises {eager_error.__name__})" if eager_error else ""))
                    continue
                if eager_error is not None:
                    counts["mismatch"] += 1
                    problems.append(f"MISMATCH {where}: eager raises {eager_error.__name__}, Kiln returns")
                    continue
                reference = None
                if dtype in LOW_PRECISION:
                    try:
                        reference = fn(*[t.double() if t.is_floating_point() else t for t in tensors])
                    except Exception:  # noqa: BLE001 (an op without float64 on CPU)
                        reference = None
                why = _same(eager, compiled, dtype, reference)
                if why:
                    counts["mismatch"] += 1
                    problems.append(f"MISMATCH {where}: {why}")
                else:
                    counts["match"] += 1
                    stats = kiln.stats()
                    if stats["graphs"] and stats["coverage"] == 1.0:
                        counts["in_kiln"] += 1
    counts["ops"] = len(counts["ops"])
    return counts, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--samples", type=int, default=1, help="per op and dtype; 0: all")
    parser.add_argument("--ops", default="", help="comma-separated OpInfo names (default: all)")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dtypes = [getattr(torch, d) for d in args.dtypes.split(",")]
    counts, problems = sweep(dtypes, args.samples, set(args.ops.split(",")) if args.ops else None)
    for p in problems:
        print(p)
    print("summary:", ", ".join(f"{k} {v}" for k, v in counts.items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"counts": counts, "problems": problems}, f, indent=1)
    return 0 if counts["mismatch"] == 0 and counts["crash"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

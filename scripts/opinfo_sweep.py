"""PyTorch's OpInfo samples through ``kiln.compile``, against eager: every op that eager runs on
CPU must give eager's result (or raise eager's exception type) when compiled by Kiln.

    python scripts/opinfo_sweep.py [--dtypes float32,int64] [--backward-dtypes float32]
                                   [--samples 1] [--ops add,mul] [--shard K/N] [--json FILE]

A sample where aot_eager (PyTorch's own tracing, without Kiln) differs from eager in the same way
is counted as aot_differs and listed, not as Kiln's mismatch. Per op and dtype, the first
--samples samples (0: all): forward in --dtypes, and forward with the
gradients of the differentiable inputs (autograd through Kiln's backward graph, with a fixed
cotangent) in --backward-dtypes. Skipped, and counted as such: ops whose
results are not deterministic (random, empty, dropout, nondeterministic seeds) and samples eager
itself rejects with an error other than the ones Kiln must reproduce. Prints one line per
mismatch or crash and a summary: samples, ops, matches, mismatches, crashes, and how many samples
ran with every ATen node inside Kiln kernels; then the ATen ops that stayed ATen, each with the
number of samples where it did and why (kiln.stats()'s reason), most frequent first. The JSON
keeps, per mode and ATen op, its node counts (nodes, in Kiln kernels, free input views), which
scripts/coverage_report.py turns into the coverage over the ops Inductor lowers.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings

import kiln
import torch

#: Ops whose output is not a function of their inputs (sampled, uninitialized or seeded).
NONDETERMINISTIC = (
    "rand",
    "normal",
    "bernoulli",
    "multinomial",
    "dropout",
    "empty",
    "uniform",
    "randint",
    "randn",
    "poisson",
    "exponential",
    "geometric",
    "cauchy",
    "log_normal",
    "new_empty",
    "empty_like",
    "empty_strided",
)


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


def _same(eager, compiled, dtype, reference=None, backward=False) -> str | None:
    """None when the results agree (NaN where eager has NaN), else what differs. `reference`:
    eager on inputs in float64, for half-precision dtypes. Gradients (`backward`) sum more terms
    in another order, so float32 gets torch.testing's default tolerance for them."""
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
            strict = dtype == torch.float32 and not backward
            torch.testing.assert_close(
                y, x, equal_nan=True, rtol=1.3e-6 if strict else None, atol=1e-5 if strict else None
            )
        except AssertionError as e:
            return f"output {i}: {str(e).splitlines()[0]} {' '.join(str(e).split()[-12:])}"
        except Exception as e:  # noqa: BLE001 (dtypes assert_close cannot compare)
            if not torch.equal(x, y):
                return f"output {i}: differs ({type(e).__name__})"
    return None


def _leaves(tensors):
    """Fresh leaves that require grad where the sample's tensors do (OpInfo marks the
    differentiable inputs: not a target, not running statistics)."""
    return [t.detach().clone().requires_grad_(t.requires_grad) for t in tensors]


def _grads(fn, tensors, cotangents=None):
    """fn's outputs, and the gradients of its floating inputs under `cotangents` (made from a
    seeded generator when None), computed by autograd through fn: (outputs, grads, cotangents).
    Eager's fn gives eager's backward; kiln.compile(fn) gives Kiln's backward graph."""
    leaves = _leaves(tensors)
    outputs = fn(*leaves)
    differentiable = [o for o in _flatten(outputs) if o.requires_grad]
    if not differentiable:
        return outputs, [], cotangents
    if cotangents is None:
        generator = torch.Generator().manual_seed(0)
        cotangents = [
            torch.randn(o.shape, generator=generator, dtype=torch.float32).to(o.dtype)
            for o in differentiable
        ]
    inputs = [t for t in leaves if t.requires_grad]
    grads = torch.autograd.grad(differentiable, inputs, cotangents, allow_unused=True)
    grads = [torch.zeros_like(t) if g is None else g for g, t in zip(grads, inputs)]
    return outputs, grads, cotangents


def _rebuild(value, tensors):
    """`value` (an argument: a tensor, a list or tuple of them, or anything else) with its tensors
    replaced, in order, by those of the iterator `tensors`."""
    if isinstance(value, torch.Tensor):
        return next(tensors)
    if isinstance(value, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in value):
        return type(value)(_rebuild(v, tensors) for v in value)
    return value


def _check(fn, tensors, dtype, backward, backend=None):
    """("match" | "mismatch" | "crash", why) for one sample: Kiln (or `backend`) against eager."""
    try:
        if backward:
            eager, eager_grads, cotangents = _grads(fn, tensors)
        else:
            eager = fn(*tensors)
        eager_error = None
    except Exception as e:  # noqa: BLE001
        eager_error = type(e)
    torch._dynamo.reset()
    kiln.reset_stats()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled_fn = (
                kiln.compile(fn)
                if backend is None
                else torch.compile(fn, backend=backend, dynamic=False)
            )
            if backward and eager_error is None:
                compiled, grads, _ = _grads(compiled_fn, tensors, cotangents)
            else:
                compiled = compiled_fn(*tensors)
    except Exception as e:  # noqa: BLE001
        if eager_error is not None and isinstance(e, eager_error):
            return "match", None
        message = str(e).splitlines()[0][:200] if str(e) else ""
        return "crash", f"{type(e).__name__}: {message}" + (
            f" (eager raises {eager_error.__name__})" if eager_error else ""
        )
    if eager_error is not None:
        return "mismatch", f"eager raises {eager_error.__name__}, Kiln returns"
    reference = reference_grads = None
    if dtype in LOW_PRECISION or backward:
        try:
            wide = [
                t.detach().double().requires_grad_(t.requires_grad) if t.is_floating_point() else t
                for t in tensors
            ]
            if backward:
                reference, reference_grads, _ = _grads(
                    fn, wide, [c.double() for c in cotangents] if cotangents else None
                )
            else:
                reference = fn(*wide)
        except Exception:  # noqa: BLE001 (an op without float64 on CPU)
            reference = reference_grads = None
    why = _same(eager, compiled, dtype, reference)
    if why is None and backward:
        why = _same(eager_grads, grads, dtype, reference_grads, backward=True)
        why = why and f"gradient {why}"
    return ("mismatch", why) if why else ("match", None)


def sweep(dtypes, samples_per_op, only=None, backward=False, shard=(0, 1)):
    """Forward (or, with `backward`, forward and the gradients of the floating inputs) of each
    op's first `samples_per_op` samples per dtype (0: all). `shard` (k, n): the ops whose index
    in the database is k modulo n."""
    from torch.testing._internal import common_utils
    from torch.testing._internal.common_methods_invocations import op_db
    from torch.testing._internal.opinfo import core

    # OpInfo looks for the running unittest test by walking the stack with inspect.stack() twice
    # per sample_inputs() call; outside unittest it finds none, and the samples' seed is then the
    # fixed one: say so at once (a shard of 33 samples: 23.5 s before, 21.9 s after).
    common_utils.extract_test_fn = core.extract_test_fn = lambda: None

    counts = {
        "samples": 0,
        "ops": set(),
        "match": 0,
        "mismatch": 0,
        "crash": 0,
        "aot_differs": 0,
        "skipped": 0,
        "in_kiln": 0,
    }
    problems, torch_differs = [], []
    stayed: dict[str, list] = {}  # ATen op → [samples where it stayed ATen, why]
    op_nodes: dict[str, list[int]] = {}  # ATen op → [nodes, in Kiln kernels, free input views]
    for index, op in enumerate(op_db):
        if only and op.name not in only or index % shard[1] != shard[0]:
            continue
        if not _deterministic(op) or (backward and not op.supports_autograd):
            counts["skipped"] += 1
            continue
        for dtype in dtypes:
            if dtype not in op.supported_dtypes("cpu"):
                continue
            if backward and (
                not dtype.is_floating_point or dtype not in op.supported_backward_dtypes("cpu")
            ):
                continue
            try:
                samples = list(op.sample_inputs("cpu", dtype, requires_grad=backward))
            except Exception:  # noqa: BLE001 (an OpInfo that cannot make samples here)
                counts["skipped"] += 1
                continue
            if samples_per_op:
                samples = samples[:samples_per_op]
            for k, sample in enumerate(samples):
                where = f"{op.name}{'.' + op.variant_test_name if op.variant_test_name else ''} {dtype} sample {k}"
                arguments = [sample.input, *sample.args]
                tensors = _flatten(arguments)  # lists of tensors (cat, stack) included

                def fn(*ts, op=op, arguments=arguments, kwargs=sample.kwargs):
                    return op(*_rebuild(arguments, iter(ts)), **kwargs)

                counts["samples"] += 1
                counts["ops"].add(op.name)
                verdict, why = _check(fn, tensors, dtype, backward)
                if (
                    verdict != "match"
                    and _check(fn, tensors, dtype, backward, "aot_eager")[0] == verdict
                ):
                    # PyTorch's own tracing (AOTAutograd, without Kiln) differs from eager alike:
                    # reported, not Kiln's.
                    verdict, why = "aot_differs", f"aot_eager too: {why}"
                counts[verdict] += 1
                if verdict == "aot_differs":
                    torch_differs.append(f"{where}: {why}")
                    continue
                if verdict != "match":
                    problems.append(f"{verdict.upper()} {where}: {why}")
                    continue
                stats = kiln.stats()
                if stats["graphs"] and stats["coverage"] == 1.0:
                    counts["in_kiln"] += 1
                for g in stats["graphs"]:
                    for aten_op, count in g["ops"].items():
                        total = op_nodes.setdefault(aten_op, [0, 0, 0])
                        for i, n in enumerate(count):
                            total[i] += n
                reasons = {op: why for g in stats["graphs"] for op, why in g["unsupported"].items()}
                for aten_op, why in reasons.items():
                    stayed.setdefault(aten_op, [0, why])[0] += 1
    counts["ops"] = sorted(counts["ops"])  # a list: shards' ops are merged by name
    counts["stayed_aten"] = dict(sorted(stayed.items(), key=lambda kv: -kv[1][0]))
    counts["op_nodes"] = op_nodes
    return counts, problems, torch_differs


def merge(shards: list[dict]) -> dict:
    """One mode's counts from several shards, added up: their op lists joined, each stayed-ATen
    op's samples summed."""
    merged: dict = {"stayed_aten": {}, "op_nodes": {}}
    for counts in shards:
        for key, value in counts.items():
            if key == "stayed_aten":
                for op, (n, why) in value.items():
                    merged[key].setdefault(op, [0, why])[0] += n
            elif key == "op_nodes":
                for op, count in value.items():
                    total = merged[key].setdefault(op, [0, 0, 0])
                    merged[key][op] = [a + b for a, b in zip(total, count, strict=True)]
            else:
                merged[key] = merged.get(key, [] if key == "ops" else 0) + value
    merged["stayed_aten"] = dict(sorted(merged["stayed_aten"].items(), key=lambda kv: -kv[1][0]))
    return merged


def summary(counts) -> str:
    """ "samples 2479, ops 600, ...": the counts, with the number of distinct ops; then a line
    per ATen op that stayed ATen: samples, op, why."""
    line = ", ".join(
        f"{k} {len(set(v)) if k == 'ops' else v}"
        for k, v in counts.items()
        if k not in ("stayed_aten", "op_nodes")
    )
    stayed = [f"  {n:5d}  {op}: {why}" for op, (n, why) in counts["stayed_aten"].items()]
    return "\n".join([line, "stayed ATen (samples, op, why):", *stayed] if stayed else [line])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtypes", default="float32", help="forward: comma-separated dtypes")
    parser.add_argument(
        "--backward-dtypes",
        default="",
        help="backward (gradients of the floating inputs): floating dtypes",
    )
    parser.add_argument("--samples", type=int, default=1, help="per op and dtype; 0: all")
    parser.add_argument("--ops", default="", help="comma-separated OpInfo names (default: all)")
    parser.add_argument("--shard", default="0/1", help="K/N: the ops whose index is K modulo N")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    torch.set_num_threads(1)
    k, n = (int(v) for v in args.shard.split("/"))
    only = set(args.ops.split(",")) if args.ops else None
    results, problems = {}, []
    for mode, names in (("forward", args.dtypes), ("backward", args.backward_dtypes)):
        if not names:
            continue
        dtypes = [getattr(torch, d) for d in names.split(",")]
        counts, found, torch_differs = sweep(dtypes, args.samples, only, mode == "backward", (k, n))
        results[mode] = counts
        problems += [f"{mode}: {p}" for p in found]
        for p in torch_differs:
            print(f"{mode}: AOT_DIFFERS {p}")
        print(f"{mode} ({names}):", summary(counts))
    for p in problems:
        print(p)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({**results, "problems": problems}, f, indent=1)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())

"""Per-call overhead of a compiled model: what a call costs beyond its kernels.

Tiny models (a chain of k Linear(8, 8) + ReLU layers on one row: k Kiln kernel slots, each a
fraction of a microsecond of arithmetic) compiled four ways, taking turns round by round in one
process: eager, Inductor (default mode), Kiln running its graph as FX code (``executor="fx"``)
and Kiln's C++ graph executor (``executor="cpp"``, the default). Each figure is the median over
rounds of the mean time per call over a batch of calls.

Kiln's overhead is its call time minus the time its slots spent in their kernels (the slots'
own counters), fitted as a + b * slots over the chain lengths. Inductor's kernels cannot be timed
apart, so its whole call time is given: its kernels do the same arithmetic as Kiln's.

A second table runs the standard models (tests/python/models.py, benchmark inputs) the same way:
Kiln as FX code, Kiln's C++ executor and Inductor, side by side.

    python3 benchmarks/call_overhead.py [--rounds 15] [--threads 1] [--models mlp,gpt2,...]
                                        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import kiln
import kiln.backend
import torch

LENGTHS = (1, 4, 16)
#: Every slot a Kiln kernel (no ATen matmul inside a slot), nothing tuned. Compiled as Inductor
#: is, by torch.compile itself (kiln.compile's dynamic=False costs every call a config patch).
KILN = {"tune": "off", "contractions": "kiln"}
CALLS = 2000


def chain(k: int) -> torch.nn.Module:
    layers = []
    for _ in range(k):
        layers += [torch.nn.Linear(8, 8), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers).eval()


def per_call_us(fn, x) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        fn(x)
    return 1e6 * (time.perf_counter() - start) / CALLS


def slot_ns(slots: list[int]) -> tuple[int, float]:
    """(calls of the first slot, total ns in all of them) from kiln.stats()."""
    by_slot = {s["slot"]: s for s in kiln.stats()["slots"]}
    return by_slot[slots[0]]["calls"], sum(by_slot[s]["time_ms"] for s in slots) * 1e6


class Recorded:
    """The C++ executors the backend builds, each with the arguments of its last call: what
    Kiln itself costs per call is timed on these directly, without Dynamo's and AOTAutograd's
    wrappers (which Inductor's calls pass through too)."""

    def __init__(self) -> None:
        self.calls: list = []
        self.build = kiln.backend.executor_for
        kiln.backend.executor_for = self.wrap

    def wrap(self, gm):
        call = self.build(gm)
        record = {"call": call, "args": None}
        self.calls.append(record)

        def recording(args):
            record["args"] = list(args)
            return call(args)

        recording._boxed_call = True
        recording.executor, recording.graph_module = call.executor, call.graph_module
        return recording


RECORDED = Recorded()


def measure(k: int, rounds: int) -> dict:
    torch._dynamo.reset()
    model = chain(k)
    x = torch.randn(1, 8)
    variants = {
        "eager": model,
        "inductor": torch.compile(model, backend="inductor"),
        "kiln_fx": torch.compile(model, backend="kiln", options=dict(KILN, executor="fx")),
        "kiln_cpp": torch.compile(model, backend="kiln", options=dict(KILN, executor="cpp")),
    }
    slots = {}
    with torch.no_grad():
        want = model(x)
        for name, fn in variants.items():
            if name.startswith("kiln"):
                before = {s["slot"] for s in kiln.stats()["slots"]}
            torch.testing.assert_close(fn(x), want, rtol=1e-5, atol=1e-5)
            if name.startswith("kiln"):
                slots[name] = sorted({s["slot"] for s in kiln.stats()["slots"]} - before)
        record = RECORDED.calls[-1]  # kiln_cpp's inference graph
        call, args = record["call"], record["args"]
        variants["kiln_cpp_own"] = lambda _x: call(args)
        variants["kiln_fx_own"] = lambda _x: call.graph_module.forward(*args)
        slots["kiln_cpp_own"] = slots["kiln_fx_own"] = slots["kiln_cpp"]
        samples = {name: [] for name in variants}
        kernel_us = {name: [] for name in slots}
        for _ in range(rounds):
            for name, fn in variants.items():
                if name in slots:
                    calls0, ns0 = slot_ns(slots[name])
                samples[name].append(per_call_us(fn, x))
                if name in slots:
                    calls1, ns1 = slot_ns(slots[name])
                    kernel_us[name].append((ns1 - ns0) / 1e3 / (calls1 - calls0))
    graphs = kiln.stats()["graphs"]
    assert [g["runs_as"] for g in graphs[-2:]] == ["fx: the option executor='fx'", "cpp"], graphs
    row = {"slots": k, "kiln_slots": len(slots["kiln_cpp"])}
    for name in variants:
        row[f"{name}_us"] = statistics.median(samples[name])
    for name in slots:
        row[f"{name}_kernel_us"] = statistics.median(kernel_us[name])
        row[f"{name}_overhead_us"] = row[f"{name}_us"] - row[f"{name}_kernel_us"]
    return row


def model_row(name: str, rounds: int) -> dict:
    """One standard model: ms per call as FX code, with the C++ executor, and Inductor's."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "python"))
    from models import make

    torch._dynamo.reset()
    torch.backends.mha.set_fastpath_enabled(False)  # the layer's ops, not one fused ATen op
    model, x = make(name, bench=True)
    model.eval()
    variants = {
        "kiln_fx": torch.compile(model, backend="kiln", options=dict(KILN, executor="fx")),
        "kiln_cpp": torch.compile(model, backend="kiln", options=dict(KILN, executor="cpp")),
        "inductor": torch.compile(model, backend="inductor"),
    }
    samples = {k: [] for k in variants}
    with torch.no_grad():
        want = model(x)
        for fn in variants.values():
            torch.testing.assert_close(fn(x), want, rtol=1e-4, atol=1e-4)
        calls = max(1, int(0.05 / max(1e-6, _seconds(lambda: model(x)))))
        for _ in range(rounds):
            for k, fn in variants.items():
                start = time.perf_counter()
                for _ in range(calls):
                    fn(x)
                samples[k].append(1e3 * (time.perf_counter() - start) / calls)
    return {"model": name, **{f"{k}_ms": statistics.median(v) for k, v in samples.items()}}


def _seconds(fn) -> float:
    fn()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fit(rows: list[dict], key: str) -> tuple[float, float]:
    """Least squares a + b * slots over the rows."""
    xs = [r["kiln_slots"] for r in rows]
    ys = [r[key] for r in rows]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    return my - b * mx, b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--models", default="mlp,cnn,resnet18,transformer,gpt2,decoder_lm", help="'' for none"
    )
    parser.add_argument("--json", help="also write the rows here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch._dynamo.config.recompile_limit = 64
    rows = [measure(k, args.rounds) for k in LENGTHS]
    print(
        f"per call, µs (median of {args.rounds} rounds of {CALLS} calls; {args.threads} thread(s))"
    )
    header = (
        f"{'layers':>7}{'slots':>6}{'eager':>9}{'inductor':>10}{'kiln fx':>9}{'kiln cpp':>10}"
        f"{'kernels':>9}{'fx over':>9}{'cpp over':>10}{'fx own':>8}{'cpp own':>9}"
    )
    print(header)
    for r in rows:
        print(
            f"{r['slots']:>7}{r['kiln_slots']:>6}{r['eager_us']:>9.2f}{r['inductor_us']:>10.2f}"
            f"{r['kiln_fx_us']:>9.2f}{r['kiln_cpp_us']:>10.2f}{r['kiln_cpp_kernel_us']:>9.2f}"
            f"{r['kiln_fx_overhead_us']:>9.2f}{r['kiln_cpp_overhead_us']:>10.2f}"
            f"{r['kiln_fx_own_overhead_us']:>8.2f}{r['kiln_cpp_own_overhead_us']:>9.2f}"
        )
    for name in ("kiln_fx", "kiln_cpp", "kiln_fx_own", "kiln_cpp_own"):
        a, b = fit(rows, f"{name}_overhead_us")
        print(f"{name} overhead beyond its kernels: {a:.2f} µs + {b:.2f} µs per slot")
    a, b = fit(rows, "inductor_us")
    print(f"inductor whole call: {a:.2f} µs + {b:.2f} µs per layer")
    models = [model_row(name, args.rounds) for name in filter(None, args.models.split(","))]
    if models:
        print(f"\nstandard models, ms per call (median of {args.rounds} rounds)")
        print(
            f"{'model':>12}{'kiln fx':>10}{'kiln cpp':>10}{'inductor':>10}{'fx/cpp':>8}{'ind/cpp':>9}"
        )
        for m in models:
            print(
                f"{m['model']:>12}{m['kiln_fx_ms']:>10.3f}{m['kiln_cpp_ms']:>10.3f}"
                f"{m['inductor_ms']:>10.3f}{m['kiln_fx_ms'] / m['kiln_cpp_ms']:>7.2f}x"
                f"{m['inductor_ms'] / m['kiln_cpp_ms']:>8.2f}x"
            )
    if args.json:
        with open(args.json, "w") as f:
            result = {"threads": args.threads, "rounds": args.rounds, "rows": rows}
            json.dump({**result, "models": models}, f, indent=1)


if __name__ == "__main__":
    main()

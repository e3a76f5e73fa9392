"""Model benchmark: eager vs Inductor (default mode, and with freezing) vs Kiln (default
schedules), inference.

    python benchmarks/model_benchmark.py [--models mlp,cnn,...] [--threads 1,2] [--repeats 20]
        [--dtypes f32,bf16]

Per model and thread count it prints eager / Inductor / Inductor-with-freezing / Kiln latency
(see "How it measures"), Inductor's and its frozen variant's time over
Kiln's (above 1: Kiln faster) and their geomeans per thread count, the cold compile seconds of
Inductor and Kiln, the peak memory of one forward pass, Kiln's node coverage, and how many of Kiln's kernel slots serve their matmul or
convolution through ATen (ContractionPolicy "fastest": ATen's op measured faster than Kiln's
kernel at compile time; the rest of such a group still runs in a Kiln kernel).

How it measures, so the numbers can be trusted:
- Each (model, threads) row runs in a fresh Python process, so no in-memory compile cache carries
  over. Inductor's on-disk caches point at a fresh temporary directory (TORCHINDUCTOR_CACHE_DIR,
  set before torch is imported) and its FX graph cache is off. Both backends first compile a
  tiny unrelated function, so "cold compile" is the model's compile, not Python imports or
  Inductor's worker pool start-up. Cold compile = the first call of the compiled model.
- Latency is measured against eager as a clock: the machines this runs on change speed by up to
  2x within minutes, so a column timed a minute after another can be off by more than the
  difference it shows. Each compiled variant is timed in blocks of `BLOCK` calls alternating
  with blocks of eager calls (after a warm-up of each); its latency is eager's median block
  over the whole run times the ratio of its median block to eager's median block in its own
  phase. `--repeats` is the number of blocks per variant.
- Peak memory: torch.profiler with profile_memory=True over one forward pass; the peak of the
  "Total Allocated" bytes of its memory events, i.e. the most bytes of tensors from PyTorch's CPU
  allocator alive at once (inputs and weights allocated before are not counted). Buffers a
  kernel allocates internally without PyTorch's allocator are not seen (Kiln's scratch
  buffers, Inductor's stack arrays). tracemalloc would see none of these tensors. "kept MB" is
  what Kiln keeps beside the weights from call to call: the copies its kernels prepared from
  them once (packed weights; kiln.stats()'s prepared_bytes), memory beyond eager's.
- The models and their inputs come from tests/python/models.py (benchmark input sizes). The
  multi-head attention fast path is off, so the transformer layer is its ops, not one opaque op.
- `--dtypes bf16` runs each model with its parameters and floating-point inputs in bfloat16
  (token ids stay integers), in every column alike; a row per dtype, side by side.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Calls per timed block (see "How it measures").
BLOCK = 3
MODEL_NAMES = [
    "mlp",
    "cnn",
    "resnet18",
    "transformer",
    "gpt2",
    "mobilenet_v2",
    "shufflenet_v2",
    "regnet_y_400mf",
    "efficientnet_b0",
    "decoder_lm",
]


def _worker(name: str, threads: int, repeats: int, dtype: str) -> dict:
    """Measures one model at one thread count in this (fresh) process; returns the row."""
    import json as _json
    import statistics
    import time

    import torch
    import torch._dynamo
    import torch._inductor.config

    sys.path.insert(0, str(ROOT / "tests" / "python"))
    import kiln
    from models import make

    torch._inductor.config.fx_graph_cache = False
    # An eval nn.TransformerEncoderLayer under no_grad is otherwise one fused ATen op
    # (_transformer_encoder_layer_fwd) that neither compiler looks into; all three columns run
    # the layer's real ops.
    torch.backends.mha.set_fastpath_enabled(False)
    torch.set_num_threads(threads)
    model, x = make(name, bench=True)
    model.eval()
    if dtype == "bf16":
        model = model.to(torch.bfloat16)
        x = x.to(torch.bfloat16) if x.is_floating_point() else x

    eager_blocks = []

    def block_seconds(fn) -> float:
        start = time.perf_counter()
        for _ in range(BLOCK):
            fn()
        return (time.perf_counter() - start) / BLOCK

    def eager_ratio(fn) -> float:
        """`fn`'s median block over eager's, blocks alternating (see the module's docstring)."""
        eager = lambda: model(x)
        block_seconds(eager)
        block_seconds(fn)
        mine, theirs = [], []
        for _ in range(repeats):
            theirs.append(block_seconds(eager))
            mine.append(block_seconds(fn))
        eager_blocks.extend(theirs)
        return statistics.median(mine) / statistics.median(theirs)

    def peak_bytes(fn) -> int:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            fn()
        with tempfile.NamedTemporaryFile(suffix=".json") as trace:
            prof.export_chrome_trace(trace.name)
            events = _json.loads(Path(trace.name).read_text())["traceEvents"]
        totals = [e["args"]["Total Allocated"] for e in events if e.get("name") == "[memory]"]
        return max(totals, default=0)

    def cold_compile(backend) -> tuple:
        warm = torch.compile(lambda t: torch.sin(t) + 1, backend=backend)
        warm(torch.randn(3))
        kiln.reset_stats()  # coverage is the model's alone
        compiled = torch.compile(model, backend=backend, dynamic=False)
        start = time.perf_counter()
        compiled(x)
        return compiled, time.perf_counter() - start

    row = {"model": name, "threads": threads, "dtype": dtype}
    with torch.no_grad():
        ratios = {}
        row["eager_peak_mb"] = peak_bytes(lambda: model(x)) / 2**20
        inductor, row["inductor_compile_s"] = cold_compile("inductor")
        ratios["inductor"] = eager_ratio(lambda: inductor(x))
        row["inductor_peak_mb"] = peak_bytes(lambda: inductor(x)) / 2**20
        # Inductor with freezing: parameters folded in as constants, weights prepacked once.
        torch._dynamo.reset()
        torch._inductor.config.freezing = True
        frozen, row["freezing_compile_s"] = cold_compile("inductor")
        ratios["freezing"] = eager_ratio(lambda: frozen(x))
        torch._inductor.config.freezing = False
        torch._dynamo.reset()
        compiled, row["kiln_compile_s"] = cold_compile("kiln")
        stats = kiln.stats()
        row["coverage"] = stats["coverage"]
        row["slots"] = len(stats["slots"])
        row["aten_slots"] = stats["aten_contractions"]
        expected = model(x)
        row["kiln_max_diff"] = (compiled(x) - expected).abs().max().float().item()
        ratios["kiln"] = eager_ratio(lambda: compiled(x))
        row["kiln_peak_mb"] = peak_bytes(lambda: compiled(x)) / 2**20
        slots = kiln.stats()["slots"]
        row["kiln_kept_mb"] = sum(s["prepared_bytes"] for s in slots) / 2**20
    row["eager_ms"] = 1e3 * statistics.median(eager_blocks)
    for variant, ratio in ratios.items():
        row[f"{variant}_ms"] = row["eager_ms"] * ratio
    return row


def _run_row(name: str, threads: int, repeats: int, dtype: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="kiln-bench-inductor-") as cache:
        # Default schedules: no background tuning searching (and swapping kernels) while the
        # columns are timed; tuned latencies are benchmarks/tuned_models.py's.
        env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=cache, KILN_TUNE="off")
        cmd = [sys.executable, __file__, "--worker", name, str(threads), str(repeats), dtype]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        error = result.stderr.strip()[-2000:]
        return {"model": name, "threads": threads, "dtype": dtype, "error": error}
    return json.loads(result.stdout.strip().splitlines()[-1])


def _print_table(rows: list[dict]) -> None:
    header = (
        f"{'model':<16}{'dtype':>6}{'thr':>4}{'eager ms':>10}{'ind ms':>9}{'frz ms':>9}{'kiln ms':>9}"
        f"{'ind/kiln':>9}{'frz/kiln':>9}"
        f"{'ind comp s':>11}{'kiln comp s':>12}{'comp ratio':>11}"
        f"{'eager MB':>9}{'ind MB':>8}{'kiln MB':>8}{'kept MB':>8}{'coverage':>9}{'ATen-served':>12}"
        f"{'max diff':>10}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if "error" in r:
            failure = r["error"].splitlines()[-1]
            print(f"{r['model']:<16}{r['dtype']:>6}{r['threads']:>4}  failed: {failure}")
            continue
        print(
            f"{r['model']:<16}{r['dtype']:>6}{r['threads']:>4}{r['eager_ms']:>10.3f}{r['inductor_ms']:>9.3f}"
            f"{r['freezing_ms']:>9.3f}{r['kiln_ms']:>9.3f}{r['inductor_ms'] / r['kiln_ms']:>9.2f}"
            f"{r['freezing_ms'] / r['kiln_ms']:>9.2f}"
            f"{r['inductor_compile_s']:>11.2f}{r['kiln_compile_s']:>12.2f}"
            f"{r['kiln_compile_s'] / r['inductor_compile_s']:>11.2f}"
            f"{r['eager_peak_mb']:>9.2f}{r['inductor_peak_mb']:>8.2f}{r['kiln_peak_mb']:>8.2f}"
            f"{r.get('kiln_kept_mb', 0):>8.2f}"
            f"{100 * r['coverage']:>8.1f}%{r['aten_slots']:>5} of {r['slots']:<4}"
            f"{r['kiln_max_diff']:>10.2g}"
        )


def _print_geomeans(rows: list[dict]) -> None:
    """The geometric means of Kiln's speedups over each column, per dtype and thread count."""
    for dtype, threads in sorted({(r["dtype"], r["threads"]) for r in rows if "error" not in r}):
        ok = [
            r for r in rows if "error" not in r and r["threads"] == threads and r["dtype"] == dtype
        ]
        means = {
            column: math.exp(
                statistics.fmean(math.log(r[f"{column}_ms"] / r["kiln_ms"]) for r in ok)
            )
            for column in ("eager", "inductor", "freezing")
        }
        print(
            f"geomean speedup of Kiln, {dtype}, {threads} thread(s), {len(ok)} models: "
            + ", ".join(f"{means[c]:.2f}x over {c}" for c in means)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODEL_NAMES))
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--dtypes", default="f32", help="f32, bf16 or both: f32,bf16")
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        name, threads, repeats, dtype = args.worker
        print(json.dumps(_worker(name, int(threads), int(repeats), dtype)))
        return
    dtypes = args.dtypes.split(",")
    unknown = sorted(set(dtypes) - {"f32", "bf16"})
    if unknown:
        parser.error(f"--dtypes: unknown {', '.join(unknown)}; expected f32 or bf16")
    rows = []
    for name in args.models.split(","):
        for dtype in dtypes:
            for threads in (int(t) for t in args.threads.split(",")):
                rows.append(_run_row(name, threads, args.repeats, dtype))
                print(f"measured {name} ({dtype}) on {threads} thread(s)", file=sys.stderr)
    _print_table(rows)
    _print_geomeans(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""What Kiln did: per kernel slot (ops fused, calls, time, kernel version) and per compiled graph
(how many of its ATen nodes run in Kiln's kernels, and which ops stayed ATen)."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field

from kiln import _C


@dataclass
class GraphRecord:
    """One FX graph given to the backend: a forward, backward or inference graph."""

    kind: str  #: "forward", "backward" or "inference"
    aten_nodes: int  #: ATen call_function nodes Kiln was given (dead ones excluded)
    compiled_nodes: int  #: of those, the ones now inside Kiln kernels
    #: of the rest, views of graph inputs that Kiln supports but leaves to ATen, where a view is
    #: free (no copy) and in a kernel it would be a copy
    input_views: int = 0
    #: of the compiled nodes, matmuls and convolutions that their slots serve through ATen
    #: (followed by Kiln's kernel of the rest of their group), as the faster choice
    aten_contractions: int = 0
    slots: list[int] = field(default_factory=list)  #: the slots of its groups
    #: ops that stayed ATen for want of Kiln's support, each with why ("no Kiln lowering", the
    #: lowering's error naming the argument, a device other than the CPU, ...)
    unsupported: dict[str, str] = field(default_factory=dict)
    reason: str = ""  #: why nothing was compiled, when that is the case
    #: for a static specialization of a graph with symbolic sizes, its inputs' varying sizes
    shape: str = ""
    #: per ATen op ("aten.add.Tensor", "opaque:aten.sort.default" when Kiln was not told its
    #: arguments): [nodes, of them in Kiln kernels, of them free views of inputs]
    ops: dict[str, list[int]] = field(default_factory=dict)
    #: how its calls run: "cpp" (one C++ call, kiln.executor), or "fx: <why>" (its rewritten FX
    #: graph's Python code: the option executor="fx", or the node the executor cannot run)
    runs_as: str = ""

    @property
    def coverage(self) -> float:
        """The fraction of ATen nodes compiled into Kiln kernels (1.0 for a graph without any)."""
        return self.compiled_nodes / self.aten_nodes if self.aten_nodes else 1.0

    @property
    def compute_coverage(self) -> float:
        """The same fraction with the free input views left out of the count."""
        compute = self.aten_nodes - self.input_views
        return self.compiled_nodes / compute if compute else 1.0


_lock = threading.Lock()
_graphs: list[GraphRecord] = []


def record_graph(record: GraphRecord) -> None:
    """Adds the record of one compiled graph (the backend calls this)."""
    with _lock:
        _graphs.append(record)


def graphs() -> list[GraphRecord]:
    """The records of the graphs compiled since the process started or since reset_stats()."""
    with _lock:
        return list(_graphs)


def reset_stats() -> None:
    """Forgets the graph records; slot counters live as long as their slots."""
    with _lock:
        _graphs.clear()


def stats() -> dict:
    """Kiln's counters.

    Returns ``{"slots": [{"slot", "ops", "calls", "time_ms", "version", "served_by",
    "prepared_fills", "prepared_bytes", "tuning"}],
    "graphs": [...], "coverage": float, "compute_coverage": float, "aten_contractions": int,
    "jit_kernels": int, "tuning": {"slots", "trials", "swaps", "by_state", "model_slowdown",
    "duty", "paused"}}``: per live kernel slot (a slot is freed with the compiled graph that launches it,
    and its kernels with their last slot; ``jit_kernels`` counts the kernels loaded now) the ops it fused, how often it ran, the time spent in it, its kernel's version
    (+1 per hot swap) and what serves it ("Kiln kernel", "Kiln kernel (tuned)", or
    "aten.mm.default + Kiln epilogue [in place]" while ATen's contraction is faster), how many
    calls filled what its kernel prepares from the model's parameters (packed weights, kept while
    they are unchanged: 1 for a model whose weights never change) and the bytes it keeps so
    (memory beyond eager's), its tuning (None where no tuning service
    watches it; else its state — waiting, tuning, tuned, kept, cached, failed, rolled back, skipped (the budget was spent
    before its turn) —,
    trials measured, first and current time per call and their ratio, swaps, roll-backs, whether
    the search found nothing faster than the default schedule (``default_won``: what it swaps in
    is then the default's kernel) and why it was kept or failed); per recorded graph
    its kind, node counts (in all and per ATen op), slots, unsupported ops (each with why it
    stayed ATen), coverages and, for a graph compiled for one shape of a graph with symbolic
    sizes, that shape; and both coverages over all
    recorded graphs together (see GraphRecord). ``model_slowdown`` is how much slower the model's
    calls ran while the background tuner worked than while it paused, and ``duty`` the
    share of time it works so that the model slows by at most 10% on average; ``paused`` whether
    kiln.tuning.pause() holds it.
    """
    slots = [
        {
            "slot": s.slot,
            "ops": s.ops,
            "calls": s.calls,
            "time_ms": s.total_ms,
            "version": s.version,
            "served_by": s.served_by,
            "prepared_fills": s.prepared_fills,
            "prepared_bytes": s.prepared_bytes,
        }
        for s in _C.stats()
    ]
    tuning = {t.slot: t for t in _C.tuning_stats()}
    for slot in slots:
        t = tuning.get(slot["slot"])
        slot["tuning"] = (
            {
                "state": t.state,
                "trials": t.trials,
                "speedup": t.first_ms / t.best_ms if t.best_ms > 0 else 1.0,
                "first_ms": t.first_ms,
                "best_ms": t.best_ms,
                "swaps": t.swaps,
                "rollbacks": t.rollbacks,
                "default_won": t.default_won,
                "detail": t.detail,
            }
            if t
            else None
        )
    records = graphs()
    total = sum(r.aten_nodes for r in records)
    views = sum(r.input_views for r in records)
    compiled = sum(r.compiled_nodes for r in records)
    return {
        "slots": slots,
        "graphs": [
            {**asdict(r), "coverage": r.coverage, "compute_coverage": r.compute_coverage}
            for r in records
        ],
        "coverage": compiled / total if total else 1.0,
        "compute_coverage": compiled / (total - views) if total > views else 1.0,
        "aten_contractions": sum(r.aten_contractions for r in records),
        "jit_kernels": _C.live_jit_kernels(),
        "tuning": {
            "slots": len(tuning),
            "trials": sum(t.trials for t in tuning.values()),
            "swaps": sum(t.swaps for t in tuning.values()),
            "by_state": {
                state: sum(t.state == state for t in tuning.values())
                for state in sorted({t.state for t in tuning.values()})
            },
            **_C.tuning_cost(),
            "paused": _C.tuning_paused(),
        },
    }


def summary() -> str:
    """A few lines for humans: slot count, calls, time, coverage and the ops that stayed ATen."""
    s = stats()
    calls = sum(slot["calls"] for slot in s["slots"])
    time_ms = sum(slot["time_ms"] for slot in s["slots"])
    unsupported = {op: why for g in s["graphs"] for op, why in g["unsupported"].items()}
    lines = [
        (
            f"kiln: {len(s['graphs'])} graphs, {len(s['slots'])} kernel slots, {calls} launches, "
            f"{time_ms:.2f} ms in kernels"
        ),
        (
            f"kiln: coverage {100 * s['coverage']:.1f}% of ATen nodes compiled into Kiln kernels "
            f"({100 * s['compute_coverage']:.1f}% without free views of inputs); "
            f"{s['aten_contractions']} slots serve their matmul or convolution through ATen"
        ),
    ]
    if unsupported:
        lines += [f"kiln: stayed ATen: {op}: {why}" for op, why in sorted(unsupported.items())]
    return "\n".join(lines)

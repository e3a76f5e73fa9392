"""The torch.compile backend "kiln": AOTAutograd with core ATen decompositions hands Kiln the
forward, backward and inference graphs; each is described to C++, partitioned and compiled into
kernel slots, and rewritten to call them.

Shapes: Kiln compiles static shapes. A graph with symbolic sizes (SymInt: Dynamo's automatic
dynamic shapes after a shape changed, or ``dynamic=True``) is compiled once per concrete shape it
meets, on that shape's first call (kiln.specialize), so every shape runs in Kiln's kernels and
Dynamo does not recompile. ``kiln.compile`` passes ``dynamic=False``: Dynamo then guards on exact
shapes and recompiles for each new one (bounded by ``torch._dynamo.config.recompile_limit``).
A graph of which less than half the compute runs in Kiln's kernels warns once, naming each op
that stayed ATen and why (``kiln.stats()`` keeps the same per graph).
"""

from __future__ import annotations

import functools
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch._decomp
from functorch.compile import make_boxed_func
from torch import fx
from torch._dynamo.backends.common import aot_autograd

from kiln import _C
from kiln.executor import NotExecutable, executor_for
from kiln.graph_builder import BuiltGraph, SymbolicShapes, build_graph
from kiln.log import logger, warning_once
from kiln.rewrite import rewrite
from kiln.specialize import ShapeSpecializedGraph
from kiln.stats import GraphRecord, record_graph
from kiln.tuning import TuningOptions, seed_new_cache


@dataclass(frozen=True)
class Options:
    """What ``torch.compile(..., options={...})`` can set for Kiln."""

    #: ATen ops ("aten.mm.default") that stay ATen calls even where Kiln supports them.
    fallback_ops: frozenset[str] = frozenset()
    #: How a kernel slot serves a fused group with a matmul or convolution: "fastest" measures
    #: once per workload, at compile time, Kiln's kernel of the whole group against ATen's op
    #: followed by Kiln's kernel of the rest (bias, activation, residual) and keeps the faster;
    #: "kiln" and "aten" always take that side.
    contractions: str = "fastest"
    #: How a compiled graph runs: "cpp", as one C++ call (kiln.executor), or "fx", as the
    #: rewritten FX graph's Python code (each node a Python call; for comparing the two).
    executor: str = "cpp"
    #: The tuning cache and the background tuning service (see kiln.tuning).
    tuning: TuningOptions = field(default_factory=TuningOptions)

    @staticmethod
    def parse(options: dict | None) -> Options:
        """Validates `options`; raises ValueError naming an unknown key or value."""
        options = dict(options or {})
        tuning = TuningOptions.parse(options)
        known = ["contractions", "executor", "fallback_ops"]
        unknown = sorted(set(options) - set(known))
        if unknown:
            known += [
                "tune",
                "tune_budget_s",
                "tune_threads",
                "tune_trials",
                "cache_dir",
                "cache_url",
            ]
            raise ValueError(f"kiln: unknown option(s) {unknown}; known: {known}")
        contractions = options.get("contractions", "fastest")
        if contractions not in ("fastest", "kiln", "aten"):
            raise ValueError(
                f"kiln: option contractions={contractions!r}; expected 'fastest', 'kiln' or 'aten'"
            )
        executor = options.get("executor", "cpp")
        if executor not in ("cpp", "fx"):
            raise ValueError(f"kiln: option executor={executor!r}; expected 'cpp' or 'fx'")
        return Options(
            fallback_ops=frozenset(options.get("fallback_ops", ())),
            contractions=contractions,
            executor=executor,
            tuning=tuning,
        )


def kiln_backend(
    gm: fx.GraphModule,
    example_inputs: Sequence[torch.Tensor],
    *,
    options: dict | None = None,
    mode: str | None = None,
    name: str | None = None,
) -> Callable:
    """The Dynamo backend (``torch.compile(model, backend="kiln", options={...})``)."""
    if mode not in (None, "default"):
        raise ValueError(f"kiln: torch.compile mode {mode!r} is not supported (only 'default')")
    opts = Options.parse(options)
    compilers = {
        f"{kind}_compiler": functools.partial(compile_graph, kind=kind, options=opts)
        for kind in ("fw", "bw", "inference")
    }
    return aot_autograd(**compilers, decompositions=_decompositions())(gm, example_inputs)


def compile(model: Callable, *, dynamic: bool | None = False, **options) -> Callable:
    """``torch.compile(model, backend="kiln", options=options)``, with static shapes by default."""
    # NOTE: by its registered name, as users write it, where the package's entry point registers
    # it. Dynamo then resolves the backend (scanning every installed package's entry points, about
    # 0.2 s once per process) here, as for any named backend; a callable backend pays that scan
    # inside the model's first call (torch._dynamo's _is_registered_backend).
    registered = "kiln" in torch._dynamo.list_backends(exclude_tags=())
    backend = "kiln" if registered else kiln_backend
    return torch.compile(model, backend=backend, dynamic=dynamic, options=options or None)


#: Ops kept whole for ATen although core ATen decomposes them, each with the reason kiln.stats()
#: and the log give. ATen's fused CPU attention is tiled and never materializes the [batch, heads,
#: seq, seq] scores, which its decomposition (two batched matmuls around a softmax, separate
#: kernels for Kiln) must; it stays an ATen call, as in Inductor.
_KEPT_ATEN = {
    "aten._scaled_dot_product_flash_attention_for_cpu.default": (
        "kept ATen: its fused, tiled CPU attention is faster than any decomposition"
    ),
}
#: Ops kept whole for Kiln, which lowers them itself. roll becomes one index map that fuses with
#: its readers (its decomposition gathers through an index tensor); index_add sums 16-bit floats
#: in f32 as ATen does (its decomposition, index_put with accumulate, rounds after every row).
_LOWERED_WHOLE = ("aten.roll.default", "aten.index_add.default")


@functools.cache
def _decompositions() -> dict:
    # NOTE: core_aten_decompositions() is export's table: it adds every CompositeImplicitAutograd
    # op, which tracing below autograd decomposes anyway, and building it took 0.1 s of each
    # process's first compile. The post-autograd table is the same decompositions, 60x faster.
    post_autograd = getattr(torch._decomp, "_core_aten_decompositions_post_autograd", None)
    table = dict(post_autograd() if post_autograd else torch._decomp.core_aten_decompositions())
    for name in (*_KEPT_ATEN, *_LOWERED_WHOLE):
        table.pop(getattr(torch.ops.aten, name.split(".")[1]).default, None)
    return table


_KINDS = {"fw": "forward", "bw": "backward", "inference": "inference"}
#: A graph with less of its compute in Kiln's kernels than this warns (once per message).
_WARN_BELOW_COVERAGE = 0.5


def _compile_options(options: Options) -> _C.CompileOptions:
    """`options` as ``_C.compile`` takes them."""
    compile_options = _C.CompileOptions()
    compile_options.contractions = options.contractions
    tuning = options.tuning
    compile_options.tune = tuning.mode
    compile_options.cache_dir = tuning.cache_dir
    compile_options.cache_url = tuning.cache_url
    compile_options.tune_budget_s = tuning.budget_s
    compile_options.tune_threads = tuning.threads
    compile_options.tune_trials = tuning.trials
    return compile_options


def compile_graph(
    gm: fx.GraphModule, example_inputs: Sequence[torch.Tensor], *, kind: str, options: Options
) -> Callable:
    """Compiles one ATen graph from AOTAutograd into Kiln kernels; returns a boxed callable."""
    kind = _KINDS[kind]
    constants = _constant_inputs() if kind == "inference" else frozenset()
    try:
        built = build_graph(gm, options.fallback_ops, constants)
    except SymbolicShapes as e:
        logger.info("kiln: this %s graph has symbolic sizes (%s); compiled per shape", kind, e)
        specialized = ShapeSpecializedGraph(
            gm,
            kind,
            functools.partial(
                _compile_specialized, kind=kind, options=options, constants=constants
            ),
            functools.partial(_as_aten, kind=kind),
        )
        return make_boxed_func(specialized)
    return _compile_built(gm, built, kind, options)


def _compile_specialized(
    gm: fx.GraphModule, shape: str, *, kind: str, options: Options, constants: frozenset[int]
):
    """One static specialization of a graph with symbolic sizes (`shape`: its varying sizes)."""
    try:
        built = build_graph(gm, options.fallback_ops, constants)
    except SymbolicShapes as e:  # a size the inputs' sizes do not decide: data-dependent
        warning_once(
            f"kiln: a {kind} graph runs as ATen for the shape {shape}: a size in it depends on "
            f"the data ({e})"
        )
        return _as_aten(gm, f"data-dependent sizes ({e})", kind=kind)
    return _compile_built(gm, built, kind, options, shape)


def _constant_inputs() -> frozenset[int]:
    """The inputs of the graph being compiled that are the model's parameters and buffers, as
    AOTAutograd's metadata names them (its static inputs); none where it names none."""
    context = torch._guards.TracingContext.try_get()
    metadata = getattr(context, "fw_metadata", None) if context else None
    return frozenset(getattr(metadata, "static_input_indices", None) or ())


def _compile_built(
    gm: fx.GraphModule, built: BuiltGraph, kind: str, options: Options, shape: str = ""
) -> Callable:
    """`gm`, described as `built`, compiled into Kiln kernels and rewritten to launch them."""
    try:
        if options.tuning.mode != "off":
            seed_new_cache(options.tuning.cache_dir)
        plan = _C.compile(built.graph, _compile_options(options))
    except Exception as e:  # noqa: BLE001  (a compiler failure must not fail the user's model)
        # NOTE: like a group whose kernel fails to compile (C++ logs those and keeps them ATen),
        # a graph Kiln fails on runs as ATen; the warning names the error.
        logger.warning("kiln: compiling a %s graph failed, it runs as ATen: %s", kind, e)
        return _as_aten(gm, f"compile error: {e}", kind=kind)
    _release_slots_with(gm, [g.slot for g in plan.groups])
    launched = rewrite(gm, built, plan)
    run, runs_as = _runner(gm, options)
    compiled = sum(len(g.nodes) for g in launched)
    unsupported = {
        op: built.opaque_reasons.get(op, _KEPT_ATEN.get(op, why))
        for op, why in plan.unsupported.items()
    }
    record = GraphRecord(
        kind,
        aten_nodes=sum(len(g.nodes) for g in plan.groups) + len(plan.fallback_nodes),
        compiled_nodes=compiled,
        input_views=sum(built.ops[i] not in unsupported for i in plan.fallback_nodes),
        aten_contractions=sum(not g.served_by.startswith("Kiln kernel") for g in launched),
        slots=[g.slot for g in launched],
        unsupported=unsupported,
        shape=shape,
        ops=_node_counts(built, plan, launched, unsupported),
        runs_as=runs_as,
    )
    record_graph(record)
    if record.compute_coverage < _WARN_BELOW_COVERAGE:
        warning_once(
            f"kiln: only {record.compiled_nodes} of {record.aten_nodes - record.input_views} "
            f"ATen compute nodes of this {kind} graph run in Kiln kernels; stayed ATen: "
            + "; ".join(f"{op} ({why})" for op, why in unsupported.items())
        )
    logger.info(
        "kiln: %s graph: %d/%d ATen nodes (%.1f%%; %d free input views) compiled into %d kernel "
        "slots (%d serve their contraction through ATen)%s",
        kind,
        record.compiled_nodes,
        record.aten_nodes,
        100 * record.coverage,
        record.input_views,
        len(record.slots),
        record.aten_contractions,
        f"; stayed ATen: {', '.join(unsupported)}" if unsupported else "",
    )
    logger.debug("kiln: rewritten %s graph:\n%s", kind, gm.code)
    if options.tuning.mode == "background":
        return _timed_for_the_tuner(run)
    return run


def _runner(gm: fx.GraphModule, options: Options) -> tuple[Callable, str]:
    """The boxed callable that runs rewritten `gm`, and how (GraphRecord.runs_as)."""
    if options.executor == "fx":
        return make_boxed_func(gm.forward), "fx: the option executor='fx'"
    try:
        run = executor_for(gm)
        logger.debug("kiln: its C++ executor's steps:\n%s", run.executor)
        return run, "cpp"
    except NotExecutable as e:
        logger.info("kiln: a graph runs as FX code: %s", e)
        return make_boxed_func(gm.forward), f"fx: {e}"
    except Exception as e:  # noqa: BLE001  (the FX code runs the same steps)
        logger.warning("kiln: building a graph's C++ executor failed, it runs as FX code: %s", e)
        return make_boxed_func(gm.forward), f"fx: the executor failed: {e}"


def _node_counts(built: BuiltGraph, plan, launched: list, unsupported: dict) -> dict:
    """Per ATen op of the graph: [nodes, nodes in Kiln kernels, nodes that are free input views]."""
    counts: dict[str, list[int]] = {}
    for group in plan.groups:
        for i in group.nodes:
            counts.setdefault(built.ops[i], [0, 0, 0])[0] += 1
    for group in launched:
        for i in group.nodes:
            counts[built.ops[i]][1] += 1
    for i in plan.fallback_nodes:
        count = counts.setdefault(built.ops[i], [0, 0, 0])
        count[0] += 1
        count[2] += built.ops[i] not in unsupported
    return counts


def _release_slots_with(gm: fx.GraphModule, slots: list[int]) -> None:
    """Frees `slots` (their kernels, their JIT code) when `gm`, the graph that launches them, is
    freed: when Dynamo drops the compiled code (the model is gone, ``torch._dynamo.reset()``)."""
    finalizer = weakref.finalize(gm, _C.release_slots, slots)
    finalizer.atexit = False  # at exit the process frees everything at once


def _timed_for_the_tuner(run: Callable) -> Callable:
    """`run` (boxed), reporting each call's time to the tuning service, which paces itself by
    how much slower the model's calls run while it works (core/tune/duty_cycle.h)."""
    clock, observe = time.perf_counter_ns, _C.observe_model_call

    def timed(args: list):
        start = clock()
        try:
            return run(args)
        finally:
            observe(clock() - start)

    timed._boxed_call = True
    return timed


def _as_aten(gm: fx.GraphModule, reason: str, *, kind: str) -> Callable:
    """`gm` unchanged (eager ATen), recorded with the reason Kiln compiled none of it."""
    aten = sum(isinstance(n.target, torch._ops.OpOverload) for n in gm.graph.nodes)
    record_graph(GraphRecord(kind, aten, 0, reason=reason))
    return make_boxed_func(gm.forward)

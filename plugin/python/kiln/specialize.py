"""Graphs with symbolic sizes: Kiln compiles one static specialization per concrete shape.

Dynamo hands a backend a graph with symbolic sizes (SymInt) after a shape changed under plain
``torch.compile`` and from the start under ``dynamic=True``: one graph, guarded to serve every
size of the varying dimensions. Kiln's kernels are compiled for static shapes, so that graph is
compiled lazily, once per distinct set of concrete sizes it meets: on the first call with a new
shape, the graph is re-traced with the call's inputs (``make_fx`` in fake mode: every SymInt
becomes the call's int, ``sym_size`` arithmetic folds away), and the static graph goes through the
same path as any other (describe, partition, compile, rewrite). Later calls with that shape go
straight to its compiled graph; Dynamo never recompiles for it.

Which shape a call has is read off only the graph inputs whose sizes are symbolic (and the SymInt
inputs themselves), in a tuple: a dict lookup per call. At most ``SPECIALIZATIONS`` shapes stay
compiled per graph; beyond that the least recently used is dropped, and its kernel slots with it.
Calls may come from many threads: a shape is specialized once, by the first call that meets it.

NOTE: a specialization is a full compile (a JIT compile per new kernel, unless the compiled-code
cache knows it). TVM's Relax and Inductor instead compile one kernel for symbolic extents; Kiln's IR
has static extents, so this is the step that keeps dynamic graphs in Kiln's kernels today.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
from torch import fx
from torch.fx.experimental.proxy_tensor import make_fx

from kiln.graph_builder import is_symbolic
from kiln.log import logger, warning_once

#: Concrete shapes kept compiled per symbolic graph (least recently used dropped beyond).
SPECIALIZATIONS = 16


class ShapeSpecializedGraph:
    """A callable serving a symbolic graph by static graphs compiled per concrete shape.

    `compile_static(gm, shape)` compiles one static graph, specialized for the sizes `shape`
    describes, into a boxed callable (the backend's path for any static graph);
    `as_aten(gm, reason)` returns the boxed eager graph, for a shape whose re-trace fails (an op
    fake tensors cannot run).
    """

    def __init__(
        self,
        gm: fx.GraphModule,
        kind: str,
        compile_static: Callable[[fx.GraphModule, str], Callable],
        as_aten: Callable[[fx.GraphModule, str], Callable],
    ) -> None:
        self.gm = gm
        self.kind = kind
        self.compile_static = compile_static
        self.as_aten = as_aten
        placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
        #: Input positions whose value decides the shape: SymInts, tensors of symbolic size.
        self.varying = [i for i, n in enumerate(placeholders) if is_symbolic(n.meta.get("val"))]
        #: Per varying input, its symbol's name ("s0") where it is a SymInt, for messages.
        self.symbols = [_symbol_name(placeholders[i].meta["val"]) for i in self.varying]
        self.compiled: OrderedDict[tuple, Callable] = OrderedDict()
        self.lock = threading.Lock()  # guards `compiled` (calls may come from many threads)
        self.compiling = threading.Lock()  # one specialization at a time, each shape once

    def shape_key(self, args: Sequence) -> tuple:
        """What tells this call's shape apart: sizes and strides of the varying inputs."""
        return tuple(
            (a.shape, a.stride()) if isinstance(a, torch.Tensor) else a
            for a in (args[i] for i in self.varying)
        )

    def __call__(self, *args: object) -> object:
        key = self.shape_key(args)
        compiled = self._lookup(key)
        if compiled is None:
            with self.compiling:
                compiled = self._lookup(key) or self._specialize(args, key)
        return compiled(list(args))

    def _lookup(self, key: tuple) -> Callable | None:
        with self.lock:
            compiled = self.compiled.get(key)
            if compiled is not None:
                self.compiled.move_to_end(key)
            return compiled

    def describe(self, key: tuple) -> str:
        """A shape key for messages: the symbols' values ("s0=8, s1=128") where the graph takes
        its symbols as inputs, else the varying inputs' sizes ("[8, 16], [8, 32]")."""
        named = [f"{name}={k}" for name, k in zip(self.symbols, key, strict=True) if name]
        return ", ".join(named or [str(list(k[0])) for k in key if isinstance(k, tuple)])

    def _specialize(self, args: Sequence, key: tuple) -> Callable:
        start = time.perf_counter()
        try:
            static = make_fx(self.gm, tracing_mode="fake", _allow_non_fake_inputs=True)(*args)
        except Exception as e:  # noqa: BLE001  (a shape Kiln cannot specialize runs as ATen)
            warning_once(
                f"kiln: a {self.kind} graph with symbolic sizes runs as ATen for the shape "
                f"{self.describe(key)}: re-tracing it with static sizes failed: {e}"
            )
            compiled = self.as_aten(self.gm, f"symbolic sizes, static re-trace failed: {e}")
        else:
            static.graph.eliminate_dead_code()
            static.recompile()
            compiled = self.compile_static(static, self.describe(key))
        with self.lock:
            self.compiled[key] = compiled
            if len(self.compiled) > SPECIALIZATIONS:
                self.compiled.popitem(last=False)
        logger.info(
            "kiln: %s graph with symbolic sizes specialized for %s in %.0f ms (%d shapes kept)",
            self.kind,
            self.describe(key),
            1e3 * (time.perf_counter() - start),
            len(self.compiled),
        )
        return compiled


def _symbol_name(value: object) -> str | None:
    return str(value) if isinstance(value, torch.SymInt) else None

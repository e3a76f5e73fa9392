"""FX → ``_C.Graph``: describes an ATen-level FX graph to Kiln's C++ side, once per compile.

Placeholders (and ``get_attr`` constants) become graph inputs, ATen calls become nodes whose
arguments are the op schema's full positional list, and the output node's tensors are marked as
graph outputs. Types come from ``node.meta["val"]`` (FakeTensors).

A node Kiln cannot describe (an argument of a kind the binding has no word for, a non-default
device or memory format, a callable that is not an ATen op) still enters the graph, as an
``"opaque:<target>"`` node reading every tensor it reads: the registry does not know it, so
``partition`` keeps it an ATen call, and the dependency through it stays visible to fusion (two
groups are never merged around it). A value Kiln cannot type (a dtype it lacks, a non-tensor) gets
the type ``_OPAQUE_TYPE``, whose device no kernel runs on, so its readers fall back too.

Symbolic shapes are not described at all: ``build_graph`` raises ``SymbolicShapes`` and the
backend compiles that graph per concrete shape instead (kiln.specialize).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

import torch
from torch import fx
from torch.utils import _pytree as pytree

from kiln import _C
from kiln.dtypes import KILN_DTYPE_NAMES

#: The type of a value Kiln cannot describe; no kernel runs on device "opaque".
_OPAQUE_TYPE = ("bool", [], [], "opaque")


class SymbolicShapes(Exception):
    """The graph has SymInt sizes or scalars; Kiln describes static shapes only."""


class _Opaque(Exception):
    """A node argument that the binding cannot express; the node becomes an opaque node."""


@dataclass
class BuiltGraph:
    """A ``_C.Graph`` and how its values and nodes map back to the FX graph."""

    graph: _C.Graph
    #: Value id → the FX node that carries that value (a placeholder, a single-output node, or
    #: the ``getitem`` node that picks it out of a multi-output node).
    value_nodes: dict[int, fx.Node] = field(default_factory=dict)
    #: Index in ``graph``'s nodes → the FX node it describes.
    nodes: list[fx.Node] = field(default_factory=list)
    #: Index in ``graph``'s nodes → the op name it was given ("aten.add.Tensor", "opaque:...").
    ops: list[str] = field(default_factory=list)
    #: Value id → the FakeTensor FX recorded for it (absent for values Kiln cannot type).
    value_types: dict[int, torch.Tensor] = field(default_factory=dict)
    #: Opaque op name ("opaque:aten.index.Tensor") → why Kiln was not told its arguments.
    opaque_reasons: dict[str, str] = field(default_factory=dict)


def build_graph(
    gm: fx.GraphModule,
    fallback_ops: frozenset[str] = frozenset(),
    constant_inputs: frozenset[int] = frozenset(),
) -> BuiltGraph:
    """Describes `gm` (an ATen FX graph from AOTAutograd) as a ``_C.Graph``.

    Ops named in `fallback_ops` ("aten.mm.default") are described as opaque so they stay ATen.
    The placeholders numbered in `constant_inputs` (an inference graph's parameters and
    buffers) and the graph's own tensors (get_attr) are constants of the model: kernels may
    prepare them once (packed weights), again whenever one changes.
    Raises SymbolicShapes when any value of the graph has a symbolic size or is a SymInt.
    """
    _check_static(gm)
    return _Builder(gm, fallback_ops, constant_inputs).build()


def tensor_type(t: object) -> tuple[str, list[int], list[int], str] | None:
    """The binding's (dtype, shape, strides, device) of a FakeTensor, or None when not typeable."""
    if not isinstance(t, torch.Tensor) or t.layout != torch.strided:
        return None
    dtype = KILN_DTYPE_NAMES.get(t.dtype)
    if dtype is None:
        return None
    return dtype, list(t.shape), list(t.stride()), str(t.device)


def is_symbolic(value: object) -> bool:
    """Whether `value` (a node's meta "val") is a symbolic scalar or a tensor of symbolic size."""
    if isinstance(value, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        return True
    return isinstance(value, torch.Tensor) and any(
        isinstance(s, torch.SymInt) for s in (*value.shape, *value.stride())
    )


def _check_static(gm: fx.GraphModule) -> None:
    for node in gm.graph.nodes:
        for leaf in pytree.tree_leaves(node.meta.get("val")):
            if is_symbolic(leaf):
                what = list(leaf.shape) if isinstance(leaf, torch.Tensor) else leaf
                raise SymbolicShapes(f"node {node.name} is symbolic: {what}")


class _Builder:
    def __init__(
        self, gm: fx.GraphModule, fallback_ops: frozenset[str], constant_inputs: frozenset[int]
    ) -> None:
        self.gm = gm
        self.fallback_ops = fallback_ops
        self.constant_inputs = constant_inputs
        self.built = BuiltGraph(_C.Graph())
        self.values: dict[fx.Node, int] = {}  # FX node → value id, for nodes that are one value
        self.multi: dict[fx.Node, list[int]] = {}  # multi-output FX node → its value ids

    def build(self) -> BuiltGraph:
        placeholders = 0
        for node in self.gm.graph.nodes:
            if node.op == "placeholder":
                constant = placeholders in self.constant_inputs
                self._add_input(node, node.meta.get("val"), constant)
                placeholders += 1
            elif node.op == "get_attr":
                attr = functools.reduce(getattr, node.target.split("."), self.gm)
                self._add_input(node, attr, constant=True)
            elif node.op == "call_function" and node.target is operator.getitem:
                self._add_getitem(node)
            elif node.op == "call_function":
                self._add_call(node)
            elif node.op == "output":
                for leaf in pytree.tree_leaves(node.args[0]):
                    if isinstance(leaf, fx.Node) and leaf in self.values:
                        self.built.graph.mark_output(self.values[leaf])
            else:  # call_module / call_method do not occur in AOTAutograd's ATen graphs
                self._add_call(node)
        return self.built

    def _record(self, node: fx.Node, value: int, val: object) -> None:
        self.values[node] = value
        self.built.value_nodes[value] = node
        if tensor_type(val) is not None:
            self.built.value_types[value] = val

    def _add_input(self, node: fx.Node, val: object, constant: bool) -> None:
        ty = tensor_type(val)
        if ty is None:
            return  # a non-tensor input: any node reading it becomes opaque
        self._record(node, self.built.graph.add_input(*ty, constant=constant), val)

    def _add_getitem(self, node: fx.Node) -> None:
        source, index = node.args
        outputs = self.multi.get(source)
        if outputs is None:
            return  # an item of something Kiln does not describe as values
        self._record(node, outputs[index], node.meta.get("val"))

    def _add_call(self, node: fx.Node) -> None:
        val = node.meta.get("val")
        vals = list(val) if isinstance(val, (tuple, list)) else [] if val is None else [val]
        types = [tensor_type(v) or _OPAQUE_TYPE for v in vals]
        impure = node.is_impure()
        if not types and (impure or node.users):
            # A result to mark below, so that a mutation is never dead code; and one that its
            # readers read, so that they run after it (Partition's steps follow values).
            types = [_OPAQUE_TYPE]
        op, args = self._describe(node)
        outputs = self.built.graph.add_node(op, args, types, side_effects=impure)
        self.built.nodes.append(node)
        self.built.ops.append(op)
        if impure:
            # NOTE: partition drops nodes whose results nothing reads; a mutation must run, so its
            # results count as graph outputs (which also makes every value it reads available).
            for value in outputs:
                self.built.graph.mark_output(value)
        if isinstance(val, (tuple, list)):
            self.multi[node] = outputs
        elif outputs:
            self._record(node, outputs[0], val)

    def _describe(self, node: fx.Node) -> tuple[str, list]:
        """The op name and argument list of `node`, or an opaque node when it cannot be said."""
        target = node.target
        if isinstance(target, torch._ops.OpOverload):
            target = _scalar_overload(target, node)
        if not isinstance(target, torch._ops.OpOverload):
            why = f"not an ATen op ({target})"
        elif str(target) in self.fallback_ops:
            why = "the fallback_ops option keeps it ATen"
        else:
            try:
                return str(target), self._normalize(target, node)
            except _Opaque as e:
                why = f"Kiln cannot be told its arguments: {e}"
        name = str(target) if isinstance(target, torch._ops.OpOverload) else node.name
        self.built.opaque_reasons.setdefault(f"opaque:{name}", why)
        reads = [_C.Value(self.values[n]) for n in node.all_input_nodes if n in self.values]
        return f"opaque:{name}", reads

    def _normalize(self, target: torch._ops.OpOverload, node: fx.Node) -> list:
        """The schema's full positional argument list: kwargs by name, defaults filled in."""
        args = []
        for i, arg in enumerate(target._schema.arguments):
            if i < len(node.args) and not arg.kwarg_only:
                value = node.args[i]
            elif arg.name in node.kwargs:
                value = node.kwargs[arg.name]
            elif arg.has_default_value():
                value = arg.default_value
            else:
                raise _Opaque(f"argument {arg.name} is missing")
            args.append(self._convert(arg.name, value))
        return args

    def _convert(self, name: str, value: object) -> object:
        if value is None or isinstance(value, (bool, int, float, str)):
            return None if name == "pin_memory" and value is False else value
        if isinstance(value, fx.Node):
            if value not in self.values:
                raise _Opaque(f"argument {name} is not a tensor Kiln describes")
            return _C.Value(self.values[value])
        if isinstance(value, torch.dtype):
            if value not in KILN_DTYPE_NAMES:
                raise _Opaque(f"dtype {value}")
            return KILN_DTYPE_NAMES[value]
        if _is_default_placement(value):
            return None  # factory ops' layout/device/memory_format: Kiln makes strided CPU tensors
        if isinstance(value, (list, tuple)):
            nodes = [v for v in value if v is not None]
            if nodes and all(isinstance(v, fx.Node) for v in nodes):
                # Tensor[], or Tensor?[] (index.Tensor's indices), None where a slot is empty
                return [None if v is None else self._convert(name, v) for v in value]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                return list(value)
        raise _Opaque(f"argument {name} = {value!r}")


def _scalar_overload(target: torch._ops.OpOverload, node: fx.Node) -> torch._ops.OpOverload:
    """The ``.Scalar`` overload for a ``.Tensor`` call whose second operand is a Python number.

    ATen graphs say ``aten.mul.Tensor(x, 2)``: a number where the schema has a Tensor is a
    wrapped scalar, which promotes and computes exactly as ``aten.mul.Scalar(x, 2)``; Kiln's op
    library tells the two overloads apart by their argument kinds.
    """
    arguments = target._schema.arguments
    if (
        len(node.args) < 2
        or not isinstance(node.args[1], (int, float))
        or not isinstance(arguments[1].type, torch.TensorType)
    ):
        return target
    name = target._overloadname.replace("Tensor", "Scalar")
    scalar = getattr(target.overloadpacket, name, None) if name != target._overloadname else None
    if scalar is None or [a.name for a in scalar._schema.arguments] != [a.name for a in arguments]:
        return target
    return scalar


def _is_default_placement(value: object) -> bool:
    if isinstance(value, torch.device):
        return value.type == "cpu"
    if isinstance(value, torch.layout):
        return value == torch.strided
    if isinstance(value, torch.memory_format):
        return value in (torch.contiguous_format, torch.preserve_format)
    return False

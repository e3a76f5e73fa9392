"""Runs a rewritten graph (kiln.rewrite) as one C++ call: ``kiln._C.GraphExecutor``.

FX runs a graph as generated Python: one Python call per node, each ATen op and each
``kiln::launch`` through the boxed dispatcher, every launch's outputs picked out by
``operator.getitem``. The executor takes the same nodes once, at compile time: each ATen node's
arguments matched to its operator's schema, each launch resolved to its slot, each getitem to the
result it names; a call then runs the steps in C++, without the GIL, dropping each value after its
last reader as FX's code does.

A graph holding a node the executor cannot run (a Python function, a list of sizes computed in the
graph) runs as FX; ``kiln.stats()`` names the node (the graph's ``runs_as``).
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable

import torch
from torch import fx

from kiln import _C

_WITH_EFFECTS = torch.ops.higher_order.with_effects


class NotExecutable(Exception):
    """A node of the graph that the executor cannot run."""


def executor_for(gm: fx.GraphModule) -> Callable:
    """A boxed callable that runs `gm`'s graph in C++; raises NotExecutable naming the node that
    cannot run so."""
    executor, as_list = _plan(gm)
    run = executor.run

    def call(args: list) -> tuple | list:
        return run(args, as_list)

    call._boxed_call = True  # AOTAutograd passes the arguments as one list
    call.graph_module = gm  # the graph owns the slots (kiln.backend frees them with it)
    call.executor = executor
    return call


def _plan(gm: fx.GraphModule) -> tuple[_C.GraphExecutor, bool]:
    nodes = list(gm.graph.nodes)
    placeholders = [n for n in nodes if n.op == "placeholder"]
    executor = _C.GraphExecutor(len(placeholders))
    ids: dict[fx.Node, int] = {n: i for i, n in enumerate(placeholders)}
    next_id = itertools.count(len(placeholders))

    def new_id(node: fx.Node) -> int:
        ids[node] = next(next_id)
        return ids[node]

    def value(node: fx.Node) -> _C.Value:
        return _C.Value(ids[node])

    def items(node: fx.Node, count: int) -> list[int]:
        """Ids for the getitems reading `node`'s results (-1 where none does)."""
        outputs = [-1] * count
        for user in node.users:
            index = user.args[1] if user.target is operator.getitem else None
            if not isinstance(index, int) or not -count <= index < count:
                raise NotExecutable(f"{user.format_node()} reads {node.name} as a whole")
            index %= count
            if outputs[index] == -1:
                outputs[index] = new_id(user)
            else:
                ids[user] = outputs[index]
        return outputs

    def add_aten(op: torch._ops.OpOverload, args, kwargs, outputs: list[int]) -> None:
        schema = op._schema
        try:
            executor.add_aten(
                schema.name,
                schema.overload_name,
                fx.node.map_arg(args, value),
                fx.node.map_arg(kwargs, value),
                outputs,
            )
        except TypeError as e:
            raise NotExecutable(f"{op}: {e}") from e

    output = None
    for node in nodes:
        if node.op == "placeholder" or node in ids:
            continue
        if node.op == "get_attr":
            constant = _attribute(gm, node.target)
            if not isinstance(constant, torch.Tensor):
                raise NotExecutable(f"{node.format_node()} is a {type(constant).__name__}")
            executor.add_constant(new_id(node), constant)
        elif node.op == "output":
            output = node.args[0]
        elif node.op != "call_function":
            raise NotExecutable(f"{node.format_node()} is a {node.op}")
        elif node.target is torch.ops.kiln.launch.default:
            slot, inputs = node.args
            count = len(_C.slot_output_types(slot))
            executor.add_launch(slot, [ids[n] for n in inputs], items(node, count))
        elif isinstance(node.target, torch._ops.OpOverload):
            add_aten(node.target, node.args, node.kwargs, _results(node, items, new_id))
        elif node.target is _WITH_EFFECTS and isinstance(node.args[1], torch._ops.OpOverload):
            # with_effects(token, op, *args): op(*args) ordered by the token, returning
            # (a new token, *op's results); tokens carry no data, so the new one is a constant.
            op = node.args[1]
            outputs = items(node, 1 + len(op._schema.returns))
            if outputs[0] != -1:
                executor.add_constant(outputs[0], torch.tensor([]))
            add_aten(op, node.args[2:], node.kwargs, outputs[1:])
        elif (
            node.target is operator.getitem and isinstance(node.args[1], int) and node.args[1] >= 0
        ):
            executor.add_item(ids[node.args[0]], node.args[1], new_id(node))
        else:
            raise NotExecutable(f"{node.format_node()} calls {node.target}")
    if not isinstance(output, (tuple, list)):
        raise NotExecutable(f"the graph returns {output!r}, not a sequence of values")
    returned = []
    for o in output:
        if isinstance(o, (bool, int, float)):  # a size a forward graph saves for its backward
            constant = next(next_id)
            executor.add_constant(constant, o)
            returned.append(constant)
        elif o is None or isinstance(o, fx.Node):
            returned.append(-1 if o is None else ids[o])
        else:
            raise NotExecutable(f"the graph returns {o!r}")
    executor.set_outputs(returned)
    return executor, isinstance(output, list)


def _results(node: fx.Node, items: Callable, new_id: Callable) -> list[int]:
    """The ids of an ATen node's results: the node's own for one, its getitems' for several."""
    count = len(node.target._schema.returns)
    return [new_id(node)] if count == 1 else items(node, count)


def _attribute(gm: fx.GraphModule, target: str) -> object:
    obj = gm
    for name in target.split("."):
        obj = getattr(obj, name)
    return obj

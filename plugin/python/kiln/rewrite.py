"""Rewrites an FX graph after ``_C.compile``: each fused group becomes one ``kiln::launch`` call.

Per group: ``torch.ops.kiln.launch.default(slot, [inputs])`` plus one ``operator.getitem`` per
group output; the group's nodes are gone, its outputs' readers read the getitems. Fallback nodes
stay as they are; nodes the plan calls dead (no group, not fallback) are dropped.

The graph is re-emitted in the plan's order of these steps (``plan.steps``: Partition's ``steps``
in core/graph/graph.h), which stays as close to the original node order as it can: a group cannot
always sit at the place of one of its nodes, so nodes are not moved in place but scheduled.

NOTE: layouts. A Kiln kernel writes its outputs row-major. Readers in other groups expect exactly
that; readers that stay ATen (fallback nodes, the graph's outputs, saved activations that the
backward graph was traced to receive with FX's strides) get a copy in the strides FX recorded when
those differ, so everything outside Kiln's kernels sees the layout the traced graph promised.
"""

from __future__ import annotations

import operator

import torch
from torch import fx

from kiln import _C
from kiln.graph_builder import BuiltGraph


def rewrite(gm: fx.GraphModule, built: BuiltGraph, plan: _C.CompiledGraph) -> list:
    """Replaces the groups of `plan` (what ``_C.compile(built.graph)`` returned) in `gm`.

    Lints the new graph, recompiles `gm` and returns the groups that now run as kernels.
    """
    # NOTE: the dispatcher picks kiln::launch's CPU kernel from its tensor arguments, so a launch
    # without any (a group that only makes constants) cannot be dispatched: those stay ATen.
    groups = [g for g in plan.groups if g.inputs]
    made_by_aten_group = {v for g in plan.groups if not g.inputs for v in g.outputs}
    group_of = _group_of_nodes(built, groups)

    new_graph = fx.Graph()
    env: dict[fx.Node, fx.Node] = {}  # old node → new node, as ATen code outside Kiln sees it
    kernel_outputs: dict[int, fx.Node] = {}  # value id → the row-major getitem of its launch
    pending: dict[fx.Node, tuple] = {}  # old node → (getitem, kernel type, traced FakeTensor)

    def outside(node: fx.Node) -> fx.Node:
        """`node` as ATen readers see it (a kernel output is copied to FX's layout on first use)."""
        if node in pending:
            env[node] = _in_traced_layout(new_graph, *pending.pop(node))
        return env[node]

    def emit_group(group: _C.CompiledGroup) -> None:
        inputs = []
        for v in group.inputs:
            if v in kernel_outputs:
                inputs.append(kernel_outputs[v])
            elif v in made_by_aten_group:  # Kiln compiled the reader for a kernel's row-major
                inputs.append(_row_major(new_graph, outside(built.value_nodes[v])))
            else:
                inputs.append(outside(built.value_nodes[v]))
        launch = new_graph.call_function(torch.ops.kiln.launch.default, (group.slot, inputs))
        for i, (value, kernel_type) in enumerate(
            zip(group.outputs, _C.slot_output_types(group.slot), strict=True)
        ):
            item = new_graph.call_function(operator.getitem, (launch, i))
            kernel_outputs[value] = item
            pending[built.value_nodes[value]] = (item, kernel_type, built.value_types[value])

    def emit_aten(node: fx.Node) -> None:
        """`node` as it was, then the items picked out of its results."""
        env[node] = new_graph.node_copy(node, outside)
        for user in node.users:
            if user.target is operator.getitem and user not in group_of:
                env[user] = new_graph.node_copy(user, outside)

    nodes = list(gm.graph.nodes)
    for node in nodes:
        if node.op in ("placeholder", "get_attr"):
            emit_aten(node)
    for step in plan.steps:  # groups and fallback nodes, each after what it reads
        if step.kind == "fallback":
            emit_aten(built.nodes[step.index])
        elif plan.groups[step.index].inputs:
            emit_group(plan.groups[step.index])
        else:
            for i in plan.groups[step.index].nodes:
                emit_aten(built.nodes[i])
    missed = [n.name for n in nodes[:-1] if n not in env and n not in group_of]
    if missed:
        raise RuntimeError(f"kiln internal error: the plan's steps left out {missed}")
    env[nodes[-1]] = new_graph.node_copy(nodes[-1], outside)  # the output

    gm.graph = new_graph
    new_graph.eliminate_dead_code()
    new_graph.lint()
    gm.recompile()
    return groups


def _group_of_nodes(built: BuiltGraph, groups: list) -> dict[fx.Node, int]:
    """Each fused FX node, and each getitem reading one, → the index of its group."""
    group_of = {}
    for index, group in enumerate(groups):
        for k in group.nodes:
            node = built.nodes[k]
            group_of[node] = index
            for user in node.users:
                if user.target is operator.getitem:
                    group_of[user] = index
    return group_of


def _in_traced_layout(
    graph: fx.Graph,
    item: fx.Node,
    kernel_type: tuple[str, list[int], list[int]],
    traced: torch.Tensor,
) -> fx.Node:
    """`item` (a kernel's row-major output) in the strides FX traced, where those differ.

    A dense permuted layout is a copy into ``empty_strided``; an expanded one (stride 0) is a
    slice of one element along each expanded dimension, made dense, then ``expand``-ed back.
    """
    _, shape, strides = kernel_type
    want = list(traced.stride())
    if _same_layout(shape, strides, want):
        return item
    expanded = [
        d for d, (size, st) in enumerate(zip(shape, want, strict=True)) if size > 1 and st == 0
    ]
    dense_shape = [1 if d in expanded else size for d, size in enumerate(shape)]
    dense = item
    for d in expanded:
        dense = graph.call_function(torch.ops.aten.slice.Tensor, (dense, d, 0, 1))
    dense_want = [0 if d in expanded else st for d, st in enumerate(want)]
    if not _same_layout(dense_shape, _row_major_strides(dense_shape), dense_want):
        buffer = graph.call_function(
            torch.ops.aten.empty_strided.default,
            (dense_shape, dense_want),
            {"dtype": traced.dtype, "device": traced.device},
        )
        dense = graph.call_function(torch.ops.aten.copy_.default, (buffer, dense))
    if expanded:
        dense = graph.call_function(torch.ops.aten.expand.default, (dense, list(shape)))
    return dense


def _same_layout(shape: list[int], strides: list[int], want: list[int]) -> bool:
    """Whether two stride lists address the same elements (strides of size-1 dims do not matter)."""
    return all(size == 1 or a == b for size, a, b in zip(shape, strides, want, strict=True))


def _row_major(graph: fx.Graph, node: fx.Node) -> fx.Node:
    """`node` (an ATen result) as a row-major tensor: itself when it is one, else a copy."""
    traced = node.meta["val"]
    if _same_layout(list(traced.shape), _row_major_strides(list(traced.shape)), traced.stride()):
        return node
    return graph.call_function(
        torch.ops.aten.clone.default, (node,), {"memory_format": torch.contiguous_format}
    )


def _row_major_strides(shape: list[int]) -> list[int]:
    strides, step = [], 1
    for size in reversed(shape):
        strides.append(step)
        step *= max(size, 1)
    return strides[::-1]

// Runs a Graph two ways for the tests: node by node through the reference interpreter, and as a
// Partition (each group JIT-compiled with the default schedule). Agreement proves that fusion
// does not change results.
#pragma once

#include <functional>
#include <vector>

#include "core/graph/graph.h"
#include "core/runtime/host_tensor.h"

namespace kiln::testing {

/// Host implementation of the ops a test graph uses that the registry does not know.
using HostOp =
    std::function<std::vector<HostTensor>(const Node& node, const std::vector<HostTensor>& inputs)>;

/// Random data for every graph input, laid out with the strides of its TensorType.
std::vector<HostTensor> random_graph_inputs(const Graph& g, uint64_t seed);

/// Evaluates every node alone: lowered by `ops` on its inputs as they are and interpreted, or
/// run by `host_op` when `ops` does not know it (a fallback node of any other kind runs on the
/// registry too, whatever device it claims). Returns one tensor per value.
std::vector<HostTensor> evaluate_nodes(const Graph& g, const std::vector<HostTensor>& inputs,
                                       const HostOp& host_op = {},
                                       const OpRegistry& ops = OpRegistry::global());

/// Runs `p` step by step: fallback nodes as in evaluate_nodes, each group through
/// default_schedule, lower and the LLVM compiler, with inputs laid out as its placeholders ask.
/// Expects each group's kernel to match the interpreter on the group's own results. Returns one
/// tensor per value made by a step (others stay empty).
std::vector<HostTensor> run_partition(const Graph& g, const Partition& p,
                                      const std::vector<HostTensor>& inputs,
                                      const HostOp& host_op = {},
                                      const OpRegistry& ops = OpRegistry::global());

/// Partitions `g`, runs it and expects every graph output to match evaluate_nodes.
Partition expect_partition_matches(const Graph& g, const HostOp& host_op = {},
                                   const OpRegistry& ops = OpRegistry::global());

}  // namespace kiln::testing

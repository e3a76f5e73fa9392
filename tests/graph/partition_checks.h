// What every partition test checks: a partition's invariants, and that running it gives what
// evaluating the graph node by node gives; and the small builders the tests share.
#pragma once

#include <gtest/gtest.h>

#include <set>

#include "core/graph/graph.h"
#include "core/graph/node_class.h"
#include "core/support/error.h"
#include "tests/graph/graph_runner.h"

namespace kiln::partition_test {

using testing::expect_partition_matches;
using testing::HostOp;

inline TensorType f32(std::vector<int64_t> shape, std::vector<int64_t> strides = {}) {
  return {DType::F32, std::move(shape), std::move(strides), "cpu"};
}

inline ValueId add_op(Graph& g, std::string op, std::vector<NodeArg> args, TensorType out) {
  return g.add_node(std::move(op), std::move(args), {std::move(out)}).at(0);
}

/// The names of the ops that stayed ATen for want of support, sorted.
inline std::vector<std::string> unsupported_ops(const Partition& p) {
  std::vector<std::string> ops;
  for (const auto& [op, why] : p.unsupported) ops.push_back(op);
  return ops;
}

inline std::vector<std::vector<int>> group_nodes(const Partition& p) {
  std::vector<std::vector<int>> nodes;
  for (auto& group : p.groups) nodes.push_back(group.nodes);
  return nodes;
}

inline std::set<ValueId> as_set(const std::vector<ValueId>& v) {
  return {v.begin(), v.end()};
}

/// The made-up op "test.double" (2 * x), which the registry does not know.
inline const HostOp& doubling() {
  static const HostOp op = [](const Node& node, const std::vector<HostTensor>& in) {
    EXPECT_EQ(node.op, "test.double");
    HostTensor out = HostTensor::zeros(in.at(0).shape, in.at(0).dtype);
    for (int64_t i = 0; i < out.numel(); ++i) out.set_flat(i, 2 * in[0].get_flat(i));
    return std::vector<HostTensor>{out};
  };
  return op;
}

inline int64_t row_major_tensor_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

/// The invariants every partition keeps (graph.h): each node once, placeholders in input
/// order, results as compute tensors of the outputs' types, steps in dependency order.
inline void expect_well_formed(const Graph& g, const Partition& p) {
  std::vector<int> seen(g.nodes().size(), 0);
  for (size_t k = 0; k < p.groups.size(); ++k) {
    const FusionGroup& group = p.groups[k];
    ASSERT_FALSE(group.nodes.empty());
    EXPECT_TRUE(std::is_sorted(group.nodes.begin(), group.nodes.end()));
    if (k > 0) {
      EXPECT_LT(p.groups[k - 1].nodes.front(), group.nodes.front());
    }
    for (int n : group.nodes) ++seen[n];
    auto placeholders = placeholders_of(group.results);
    ASSERT_EQ(placeholders.size(), group.inputs.size()) << "group " << k;
    for (size_t i = 0; i < placeholders.size(); ++i) {
      EXPECT_EQ(placeholders[i]->name, str_cat("v", group.inputs[i])) << "group " << k;
      EXPECT_EQ(placeholders[i]->shape, g.values()[group.inputs[i]].shape);
    }
    ASSERT_EQ(group.results.size(), group.outputs.size());
    std::set<const TensorNode*> distinct;
    for (size_t i = 0; i < group.results.size(); ++i) {
      const Tensor& t = group.results[i];
      EXPECT_EQ(t->kind, TensorKind::Compute);
      EXPECT_TRUE(distinct.insert(t.get()).second) << "a result repeats";
      // A reshaped output may be written as the tensor it reshapes: same row-major bytes.
      EXPECT_EQ(t->numel(), row_major_tensor_numel(g.values()[group.outputs[i]].shape));
      EXPECT_EQ(t->dtype, g.values()[group.outputs[i]].dtype);
    }
  }
  for (int n : p.fallback_nodes) ++seen[n];
  for (size_t n = 0; n < seen.size(); ++n) EXPECT_EQ(seen[n], 1) << "node " << n;
  for (const auto& [op, why] : p.unsupported) EXPECT_FALSE(why.empty()) << op;

  ASSERT_EQ(p.steps.size(), p.groups.size() + p.fallback_nodes.size());
  std::vector<bool> made(g.values().size(), false);
  for (ValueId v : g.inputs()) made[v] = true;
  for (auto& step : p.steps) {
    std::vector<int> nodes = step.kind == PartitionStep::Kind::Group ? p.groups[step.index].nodes
                                                                     : std::vector<int>{step.index};
    std::set<int> inside(nodes.begin(), nodes.end());
    for (int n : nodes)
      for (ValueId v : node_inputs(g.nodes()[n]))
        EXPECT_TRUE(made[v] || inside.count(g.producer(v))) << "node " << n << " runs too early";
    for (int n : nodes)
      for (ValueId v : g.nodes()[n].outputs) made[v] = true;
  }
}

/// Partitions, checks the invariants and runs the partition against the node-by-node reference.
inline Partition check(const Graph& g, const HostOp& host_op = {},
                       const OpRegistry& ops = OpRegistry::global()) {
  Partition p = expect_partition_matches(g, host_op, ops);
  expect_well_formed(g, p);
  return p;
}

}  // namespace kiln::partition_test

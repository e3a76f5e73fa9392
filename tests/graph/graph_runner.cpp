#include "tests/graph/graph_runner.h"

#include <gtest/gtest.h>

#include <map>

#include "core/graph/node_class.h"
#include "core/reference/interpreter.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "tests/jit/jit_harness.h"

namespace kiln::testing {

namespace {

/// `t` copied into storage laid out with `strides`.
HostTensor relayout(const HostTensor& t, const std::vector<int64_t>& strides) {
  if (t.strides == strides) return t;
  HostTensor out = HostTensor::random(t.shape, t.dtype, 0, 0, 1, strides);
  for (int64_t i = 0; i < t.numel(); ++i) out.set_flat(i, t.get_flat(i));
  return out;
}

/// One node alone, on the registry and the interpreter (or `host_op`).
std::vector<HostTensor> evaluate_node(const Node& node, const std::vector<HostTensor>& values,
                                      const HostOp& host_op, const OpRegistry& ops) {
  if (!ops.contains(node.op)) {
    std::vector<HostTensor> in;
    for (ValueId v : node_inputs(node)) in.push_back(values[v]);
    return host_op(node, in);
  }
  std::map<const TensorNode*, ValueId> value_of;
  std::vector<OpArg> args = node_op_args(node, [&](ValueId v) {
    const HostTensor& h = values[v];
    Tensor p = placeholder(str_cat("v", v), h.shape, h.dtype, h.strides);
    value_of[p.get()] = v;
    return p;
  });
  std::vector<Tensor> outs = ops.lower(node.op, args);
  std::vector<HostTensor> in;
  for (auto& p : placeholders_of(outs)) in.push_back(values[value_of.at(p.get())]);
  return interpret(outs, in);
}

void store(std::vector<HostTensor>& values, const Node& node, std::vector<HostTensor> outs) {
  ASSERT_EQ(outs.size(), node.outputs.size()) << node.op;
  for (size_t k = 0; k < outs.size(); ++k) values[node.outputs[k]] = std::move(outs[k]);
}

void expect_close(const HostTensor& actual, const HostTensor& expected, const std::string& what,
                  double scale) {
  double atol, rtol;
  default_tolerance(expected.dtype, &atol, &rtol);
  double err = max_relative_error(actual, expected, atol * scale, rtol * scale);
  EXPECT_LE(err, 1.0) << what << " differs (error " << err << " of tolerance)";
}

}  // namespace

std::vector<HostTensor> random_graph_inputs(const Graph& g, uint64_t seed) {
  std::vector<HostTensor> inputs;
  for (ValueId v : g.inputs()) {
    const TensorType& t = g.values()[v];
    inputs.push_back(HostTensor::random(t.shape, t.dtype, seed++, -2, 2, t.strides));
  }
  return inputs;
}

std::vector<HostTensor> evaluate_nodes(const Graph& g, const std::vector<HostTensor>& inputs,
                                       const HostOp& host_op, const OpRegistry& ops) {
  std::vector<HostTensor> values(g.values().size());
  for (size_t k = 0; k < inputs.size(); ++k) values[g.inputs()[k]] = inputs[k];
  for (auto& node : g.nodes()) store(values, node, evaluate_node(node, values, host_op, ops));
  return values;
}

std::vector<HostTensor> run_partition(const Graph& g, const Partition& p,
                                      const std::vector<HostTensor>& inputs, const HostOp& host_op,
                                      const OpRegistry& ops) {
  std::vector<HostTensor> values(g.values().size());
  for (size_t k = 0; k < inputs.size(); ++k) values[g.inputs()[k]] = inputs[k];
  for (const PartitionStep& step : p.steps) {
    if (step.kind == PartitionStep::Kind::Fallback) {
      const Node& node = g.nodes()[step.index];
      store(values, node, evaluate_node(node, values, host_op, ops));
      continue;
    }
    const FusionGroup& group = p.groups[step.index];
    std::vector<Tensor> placeholders = placeholders_of(group.results);
    std::vector<HostTensor> in;
    for (size_t k = 0; k < group.inputs.size(); ++k) {
      const HostTensor& v = values[group.inputs[k]];
      EXPECT_TRUE(v.storage) << "group " << step.index << " runs before its input "
                             << group.inputs[k] << " exists";
      in.push_back(relayout(v, placeholders[k]->strides));
    }
    Schedule s = default_schedule(group.results, compiler().target());
    std::vector<HostTensor> out = run_compiled(s, in);
    std::vector<HostTensor> expected = interpret(group.results, in);
    for (size_t k = 0; k < out.size(); ++k) {
      expect_close(out[k], expected[k], str_cat("group ", step.index, " output ", k), 1);
      // A result may have another shape with the same row-major bytes (see FusionGroup).
      out[k].shape = g.values()[group.outputs[k]].shape;
      out[k].strides = contiguous_strides(out[k].shape);
      values[group.outputs[k]] = out[k];
    }
  }
  return values;
}

Partition expect_partition_matches(const Graph& g, const HostOp& host_op, const OpRegistry& ops) {
  Partition p = partition(g, ops);
  auto inputs = random_graph_inputs(g, 7);
  auto expected = evaluate_nodes(g, inputs, host_op, ops);
  auto actual = run_partition(g, p, inputs, host_op, ops);
  for (ValueId v : g.outputs()) {
    EXPECT_TRUE(actual[v].storage) << "graph output " << v << " was not computed";
    if (actual[v].storage)
      // Kernels round differently from the interpreter; errors add up over the groups.
      expect_close(actual[v], expected[v], str_cat("graph output ", v), 10);
  }
  return p;
}

}  // namespace kiln::testing

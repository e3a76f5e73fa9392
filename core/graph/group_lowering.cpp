#include "core/graph/group_lowering.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/graph/node_class.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// Values that a node outside `group` reads, or that are graph outputs.
std::set<ValueId> read_outside(const Graph& g, int group, const std::vector<int>& group_of) {
  std::set<ValueId> read(g.outputs().begin(), g.outputs().end());
  for (int n = 0; n < static_cast<int>(g.nodes().size()); ++n) {
    if (group_of[n] == group) continue;
    for (ValueId v : node_inputs(g.nodes()[n])) read.insert(v);
  }
  return read;
}

/// Whether `node` makes a tensor whose row-major bytes are those of its first argument's
/// row-major bytes: a reshape in every form ATen graphs spell it, and copies and expands that
/// keep the shape. (A kernel writes every result row-major.)
bool keeps_row_major_bytes(const Graph& g, const Node& node) {
  static const std::set<std::string> reshapes = {
      "aten.view.default",      "aten._unsafe_view.default", "aten.reshape.default",
      "aten.squeeze.default",   "aten.squeeze.dim",          "aten.squeeze.dims",
      "aten.unsqueeze.default", "aten.clone.default",        "aten.alias.default"};
  if (node.outputs.size() != 1 || node.args.empty()) return false;
  auto* source = std::get_if<ValueRef>(&node.args[0]);
  if (!source) return false;
  bool same_shape = g.values()[source->id].shape == g.values()[node.outputs[0]].shape;
  return reshapes.count(node.op) > 0 || (node.op == "aten.expand.default" && same_shape);
}

/// A compute that copies `t`: a result must be a compute tensor and appear once.
Tensor copy_of(const Tensor& t, const std::string& name) {
  return compute(name, t->shape, [&](const std::vector<Var>& i) {
    return t.load(std::vector<Expr>(i.begin(), i.end()));
  });
}

}  // namespace

FusionGroup lower_group(const Graph& g, const std::vector<int>& nodes,
                        const std::vector<int>& group_of, const OpRegistry& ops) {
  KILN_CHECK(!nodes.empty(), "a fusion group without nodes");
  int group = group_of[nodes.front()];
  FusionGroup result;
  result.nodes = nodes;

  std::map<ValueId, Tensor> tensor_of;               // every value the group has a tensor for
  std::map<const TensorNode*, ValueId> input_value;  // placeholder → the value it stands for
  auto tensor = [&](ValueId v) {
    auto it = tensor_of.find(v);
    if (it != tensor_of.end()) return it->second;
    int p = g.producer(v);
    KILN_CHECK(p < 0 || group_of[p] != group, "value ", v, " read before its node in the group");
    std::vector<int64_t> strides = p >= 0 && group_of[p] >= 0
                                       ? contiguous_strides(g.values()[v].shape)
                                       : g.values()[v].strides;
    Tensor t = value_placeholder(g, v, std::move(strides));
    input_value[t.get()] = v;
    return tensor_of[v] = t;
  };

  // A value made in the group from another by a reshape is written as that other's tensor: the
  // same bytes, without the index arithmetic of the reshape (which would hide a row reduction's
  // rows from the schedule).
  std::map<ValueId, ValueId> same_bytes_as;
  for (int n : nodes) {
    const Node& node = g.nodes()[n];
    // classify_node lowered this node on the same types (up to strides), so it cannot fail now.
    std::vector<Tensor> outs = ops.lower(node.op, node_op_args(node, tensor));
    KILN_CHECK(outs.size() == node.outputs.size(), node.op, " lowered to ", outs.size(),
               " tensors for ", node.outputs.size(), " outputs");
    for (size_t k = 0; k < outs.size(); ++k) tensor_of[node.outputs[k]] = outs[k];
    if (!keeps_row_major_bytes(g, node)) continue;
    ValueId source = std::get<ValueRef>(node.args[0]).id;
    int p = g.producer(source);
    if (p < 0 || group_of[p] != group) continue;
    auto it = same_bytes_as.find(source);
    same_bytes_as[node.outputs[0]] = it == same_bytes_as.end() ? source : it->second;
  }

  std::set<ValueId> read = read_outside(g, group, group_of);
  std::set<const TensorNode*> used;
  for (int n : nodes) {
    for (ValueId v : g.nodes()[n].outputs) {
      if (!read.count(v)) continue;
      auto alias = same_bytes_as.find(v);
      Tensor t = tensor_of.at(alias == same_bytes_as.end() ? v : alias->second);
      if (t->kind != TensorKind::Compute || used.count(t.get()))
        t = copy_of(t, str_cat("v", v, ".copy"));
      used.insert(t.get());
      result.outputs.push_back(v);
      result.results.push_back(t);
    }
  }
  for (auto& p : placeholders_of(result.results)) result.inputs.push_back(input_value.at(p.get()));
  for (int n : nodes) {
    const Node& node = g.nodes()[n];
    for (const ValueCheck& check : ops.checks(node.op, node_op_args(node, tensor))) {
      ValueId v = checked_value(node, check);
      auto at = std::find(result.inputs.begin(), result.inputs.end(), v);
      KILN_CHECK(g.producer(v) < 0 || group_of[g.producer(v)] != group, "checked value ", v, " of ",
                 node.op, " is made in its own group");
      // An input no result reads (its reader's output is unused) leaves nothing to check.
      if (at != result.inputs.end())
        result.checks.push_back({check, static_cast<int>(at - result.inputs.begin()), node.op});
    }
  }
  return result;
}

}  // namespace kiln

#include "core/graph/graph.h"

#include <algorithm>

#include "core/support/error.h"

namespace kiln {

namespace {

/// Fills row-major strides for an empty list and checks the rest; `what` names the value.
TensorType checked(TensorType t, const std::string& what) {
  if (t.strides.empty()) t.strides = contiguous_strides(t.shape);
  if (t.strides.size() != t.shape.size())
    throw IRError(
        str_cat(what, " has ", t.shape.size(), " dims but ", t.strides.size(), " strides"));
  for (size_t d = 0; d < t.shape.size(); ++d)
    if (t.shape[d] < 0 || t.strides[d] < 0)
      throw IRError(str_cat(what, " has a negative size or stride in dim ", d));
  return t;
}

}  // namespace

ValueId Graph::add_input(TensorType type, bool constant) {
  ValueId id = static_cast<ValueId>(values_.size());
  values_.push_back(checked(std::move(type), str_cat("graph input ", id)));
  producer_.push_back(-1);
  inputs_.push_back(id);
  if (constant) constant_.insert(id);
  return id;
}

std::vector<ValueId> Graph::add_node(std::string op, std::vector<NodeArg> args,
                                     std::vector<TensorType> output_types, bool side_effects) {
  auto check_ref = [&](const ValueRef& r, size_t arg, bool in_list) {
    if (in_list && r.id == kNoValue) return;
    if (r.id < 0 || r.id >= static_cast<ValueId>(values_.size()))
      throw IRError(str_cat(op, ": argument ", arg, " refers to value ", r.id, ", but only ",
                            values_.size(), " values exist"));
  };
  for (size_t i = 0; i < args.size(); ++i) {
    if (auto* r = std::get_if<ValueRef>(&args[i])) check_ref(*r, i, false);
    if (auto* list = std::get_if<std::vector<ValueRef>>(&args[i]))
      for (auto& r : *list) check_ref(r, i, true);
  }
  // Every check before any change, so that a failed call leaves the graph as it was.
  for (size_t k = 0; k < output_types.size(); ++k)
    output_types[k] = checked(std::move(output_types[k]), str_cat(op, " output ", k));
  int index = static_cast<int>(nodes_.size());
  Node node{std::move(op), std::move(args), {}, side_effects};
  for (auto& type : output_types) {
    node.outputs.push_back(static_cast<ValueId>(values_.size()));
    values_.push_back(std::move(type));
    producer_.push_back(index);
  }
  nodes_.push_back(std::move(node));
  return nodes_.back().outputs;
}

void Graph::mark_output(ValueId v) {
  if (v < 0 || v >= static_cast<ValueId>(values_.size()))
    throw IRError(
        str_cat("mark_output: value ", v, " does not exist (", values_.size(), " values)"));
  if (std::find(outputs_.begin(), outputs_.end(), v) == outputs_.end()) outputs_.push_back(v);
}

std::vector<TensorType> row_major_types(const Graph& g, const std::vector<ValueId>& values) {
  std::vector<TensorType> types;
  for (ValueId v : values) {
    TensorType t = g.values().at(v);
    t.strides = contiguous_strides(t.shape);
    types.push_back(std::move(t));
  }
  return types;
}

}  // namespace kiln

// program_to_json: writes the program format, version 1. One object, every value by name:
//
//   {"format": "kiln-program", "schema_version": 1,
//    "tensors": [T, ...],   producers first; a tensor's id is its position here
//    "outputs": [id, ...]}
//
//   T: {"name", "kind": "placeholder", "dtype", "shape", "strides"}
//    | {"name", "kind": "compute", "dtype", "shape", "axes": [var, ...], "body": E}
//    | {"name", "kind": "scan", ..., "axes", "axis": d, "first": E, "step": E}
//    | {"name", "kind": "scatter", ..., "axes", "init": E,
//       "updates": [{"axes": [{"var", "extent"}, ...], "target": [E, ...], "value": E}, ...]}
//   E: {"kind": "IntImm", "dtype", "value": integer}
//    | {"kind": "FloatImm", "dtype", "value": number | "inf" | "-inf" | "nan" | "nan:<64-bit hex>"}
//    | {"kind": "Var", "var"}          | {"kind": "Binary", "op", "a", "b"}
//    | {"kind": "Unary", "op", "a"}    | {"kind": "Select", "cond", "true_value", "false_value"}
//    | {"kind": "Cast", "dtype", "value"}
//    | {"kind": "Load", "tensor": id, "indices": [E, ...]}
//    | {"kind": "Reduce", "op", "axes": [{"var", "name", "extent"}, ...], "source": E}
//    | {"kind": "State"}   a scan step's `prev` or a scatter update's `old` element
//
// A variable is a number, bound by a tensor's axes, a Reduce or an update. It stays one number
// across the program: ops share reduce axes between tensors (max pooling's values and indices),
// and the workload key sees that sharing. The names of axis variables are not written, because
// compute(), scan() and scatter() derive them from the tensor's name. Ops and dtypes are spelled as
// the printer spells them. The reader rebuilds every tensor through those same constructors, so the
// IR's own validation checks what it reads.
#include "fleet/program_codec.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "core/support/error.h"
#include "fleet/program_format.h"

namespace kiln {

namespace {

using nlohmann::ordered_json;
using program_format::kFormat;
using program_format::kKindNames;
using program_format::kMaxDepth;
using program_format::kSchemaVersion;
using program_format::kStateKind;

/// Non-finite values as strings (JSON has no inf or NaN); a NaN other than the default quiet
/// NaN keeps its bits, which are part of the workload key.
ordered_json float_value(double v) {
  if (std::isfinite(v)) return v;  // nlohmann writes the shortest text that reads back exactly
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  uint64_t bits = std::bit_cast<uint64_t>(v);
  if (bits == std::bit_cast<uint64_t>(std::numeric_limits<double>::quiet_NaN())) return "nan";
  char hex[17] = {};
  std::to_chars(hex, hex + 16, bits, 16);
  return str_cat("nan:", hex);
}

class ProgramWriter {
 public:
  ordered_json write(const std::vector<Tensor>& outputs) {
    ordered_json tensors = ordered_json::array();
    for (const Tensor& t : topo_order(outputs)) {
      try {
        tensors.push_back(tensor(t));
      } catch (const IRError& e) {
        throw IRError(str_cat("tensor '", t->name, "': ", e.what()));
      }
      tensor_ids_[t.get()] = static_cast<int64_t>(tensor_ids_.size());
    }
    ordered_json ids = ordered_json::array();
    for (const Tensor& t : outputs) ids.push_back(tensor_ids_.at(t.get()));
    return {{"format", kFormat},
            {"schema_version", kSchemaVersion},
            {"tensors", std::move(tensors)},
            {"outputs", std::move(ids)}};
  }

 private:
  ordered_json tensor(const Tensor& t) {
    ordered_json j = {{"name", t->name},
                      {"kind", "placeholder"},
                      {"dtype", std::string(dtype_name(t->dtype))},
                      {"shape", t->shape}};
    if (t->kind == TensorKind::Placeholder) {
      j["strides"] = t->strides;
      return j;
    }
    ordered_json axes = ordered_json::array();
    for (const IterVar& ax : t->axes) axes.push_back(bind(ax.var));
    j["axes"] = std::move(axes);
    if (t->is_scan()) {
      // scan() builds select(axes[axis] == 0, first, step).
      auto* body = t->body.as<SelectNode>();
      KILN_CHECK(body, "scan '", t->name, "' has a body that is not a select: ", t->body);
      j["kind"] = "scan";
      j["axis"] = t->scan_axis;
      j["first"] = expr(body->true_value, 0);
      state_ = t->state.get();
      j["step"] = expr(body->false_value, 0);
      state_ = nullptr;
    } else if (t->is_scatter()) {
      j["kind"] = "scatter";
      j["init"] = expr(t->body, 0);
      ordered_json updates = ordered_json::array();
      for (const ScatterUpdate& update : t->updates) {
        ordered_json domain = ordered_json::array(), target = ordered_json::array();
        for (const IterVar& ax : update.axes)
          domain.push_back({{"var", bind(ax.var)}, {"extent", ax.extent}});
        for (const Expr& index : update.target) target.push_back(expr(index, 0));
        state_ = t->state.get();
        ordered_json value = expr(update.value, 0);
        state_ = nullptr;
        updates.push_back({{"axes", std::move(domain)},
                           {"target", std::move(target)},
                           {"value", std::move(value)}});
      }
      j["updates"] = std::move(updates);
    } else {
      j["kind"] = "compute";
      j["body"] = expr(t->body, 0);
    }
    return j;
  }

  /// The number of `var`, the same wherever it is bound.
  int64_t bind(const Var& var) {
    if (var.dtype() != DType::I64)
      throw IRError(str_cat("variable '", var.name(), "' is ", var.dtype(),
                            "; the program format has i64 variables only"));
    return vars_.emplace(var.get(), static_cast<int64_t>(vars_.size())).first->second;
  }

  ordered_json expr(const Expr& e, int depth) {
    if (depth > kMaxDepth)
      throw IRError(str_cat("expression nested deeper than ", kMaxDepth, " levels"));
    ordered_json j = {{"kind", std::string(kKindNames[static_cast<int>(e.kind())])}};
    switch (e.kind()) {
      case ExprKind::IntImm:
        j["dtype"] = std::string(dtype_name(e.dtype()));
        j["value"] = e.as<IntImmNode>()->value;
        break;
      case ExprKind::FloatImm:
        j["dtype"] = std::string(dtype_name(e.dtype()));
        j["value"] = float_value(e.as<FloatImmNode>()->value);
        break;
      case ExprKind::Var: {
        auto it = vars_.find(e.as<VarNode>());
        if (it == vars_.end())
          throw IRError(str_cat("variable '", e.as<VarNode>()->name, "' is bound by no axis"));
        j["var"] = it->second;
        break;
      }
      case ExprKind::Binary: {
        auto* n = e.as<BinaryNode>();
        j["op"] = std::string(binary_op_name(n->op));
        j["a"] = expr(n->a, depth + 1);
        j["b"] = expr(n->b, depth + 1);
        break;
      }
      case ExprKind::Unary: {
        auto* n = e.as<UnaryNode>();
        j["op"] = std::string(unary_op_name(n->op));
        j["a"] = expr(n->a, depth + 1);
        break;
      }
      case ExprKind::Select: {
        auto* n = e.as<SelectNode>();
        j["cond"] = expr(n->cond, depth + 1);
        j["true_value"] = expr(n->true_value, depth + 1);
        j["false_value"] = expr(n->false_value, depth + 1);
        break;
      }
      case ExprKind::Cast:
        j["dtype"] = std::string(dtype_name(e.dtype()));
        j["value"] = expr(e.as<CastNode>()->value, depth + 1);
        break;
      case ExprKind::Load: {
        auto* n = e.as<LoadNode>();
        // NOTE: scan() and scatter() read the state only at prev's and old's indices.
        if (state_ && n->tensor.get() == state_) return {{"kind", std::string(kStateKind)}};
        auto it = tensor_ids_.find(n->tensor.get());
        if (it == tensor_ids_.end())
          throw IRError(str_cat("loads '", n->tensor->name, "', which is not in the program"));
        j["tensor"] = it->second;
        ordered_json indices = ordered_json::array();
        for (const Expr& index : n->indices) indices.push_back(expr(index, depth + 1));
        j["indices"] = std::move(indices);
        break;
      }
      case ExprKind::Reduce: {
        auto* n = e.as<ReduceNode>();
        j["op"] = std::string(reduce_op_name(n->op));
        ordered_json axes = ordered_json::array();
        for (const IterVar& ax : n->axes)
          axes.push_back({{"var", bind(ax.var)}, {"name", ax.var.name()}, {"extent", ax.extent}});
        j["axes"] = std::move(axes);
        j["source"] = expr(n->source, depth + 1);
        break;
      }
    }
    return j;
  }

  std::unordered_map<const TensorNode*, int64_t> tensor_ids_;
  std::unordered_map<const VarNode*, int64_t> vars_;  ///< Numbered at their first binding.
  const TensorNode* state_ = nullptr;  ///< The state a State node stands for here, if any.
};

}  // namespace

std::string program_to_json(const std::vector<Tensor>& outputs) {
  ordered_json program = ProgramWriter().write(outputs);
  try {
    return program.dump();
  } catch (const ordered_json::exception& e) {  // a name that is not UTF-8
    throw IRError(str_cat("program_to_json: ", e.what()));
  }
}

}  // namespace kiln

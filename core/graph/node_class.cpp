#include "core/graph/node_class.h"

#include <algorithm>

#include "core/ops/op_args.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// `e` without the casts around it.
Expr uncast(Expr e) {
  while (auto* c = e.as<CastNode>()) e = c->value;
  return e;
}

/// A product's factor `e` as the load it reads: the load, cast or not, or such a load plus an
/// integer constant (_int_mm's b + 128, see core/ops/contraction.cpp); else null.
const LoadNode* factor_load(const Expr& e) {
  Expr f = uncast(e);
  if (auto* add = f.as<BinaryNode>(); add && add->op == BinaryOp::Add) {
    if (add->b.as<IntImmNode>())
      f = uncast(add->a);
    else if (add->a.as<IntImmNode>())
      f = uncast(add->b);
  }
  return f.as<LoadNode>();
}

/// A Sum of the product of two different loads: the shape of matmul and convolution. A square
/// (the same load twice, as in a sum of squares) is a plain reduction.
bool is_contraction(const ReduceNode* r) {
  auto* m = uncast(r->source).as<BinaryNode>();
  if (r->op != ReduceOp::Sum || !m || m->op != BinaryOp::Mul) return false;
  const LoadNode *la = factor_load(m->a), *lb = factor_load(m->b);
  if (!la || !lb) return false;
  if (!la->tensor.same_as(lb->tensor)) return true;
  for (size_t d = 0; d < la->indices.size(); ++d)
    if (!la->indices[d].same_as(lb->indices[d])) return true;
  return false;
}

/// Whether `t` is one of `node`'s results (`outputs`) whose value no node reads and that is no
/// graph output.
bool is_unread_output(const Graph& g, const Node& node, const std::vector<Tensor>& outputs,
                      const Tensor& t) {
  auto it =
      std::find_if(outputs.begin(), outputs.end(), [&](const Tensor& o) { return o.same_as(t); });
  if (it == outputs.end()) return false;
  ValueId v = node.outputs[it - outputs.begin()];
  if (std::find(g.outputs().begin(), g.outputs().end(), v) != g.outputs().end()) return false;
  for (const Node& other : g.nodes())
    for (ValueId read : node_inputs(other))
      if (read == v) return false;
  return true;
}

bool on_cpu(const TensorType& t) {
  return t.device == "cpu";
}

}  // namespace

std::vector<ValueId> node_inputs(const Node& node) {
  std::vector<ValueId> ids;
  for (auto& arg : node.args) {
    if (auto* r = std::get_if<ValueRef>(&arg)) ids.push_back(r->id);
    if (auto* list = std::get_if<std::vector<ValueRef>>(&arg))
      for (auto& r : *list)
        if (r.id != kNoValue) ids.push_back(r.id);
  }
  return ids;
}

ValueId checked_value(const Node& node, const ValueCheck& check) {
  const NodeArg& arg = node.args.at(check.arg);
  if (check.element < 0) return std::get<ValueRef>(arg).id;
  ValueId v = std::get<std::vector<ValueRef>>(arg).at(check.element).id;
  KILN_CHECK(v != kNoValue, node.op, " checks a None of argument ", check.arg);
  return v;
}

std::vector<OpArg> node_op_args(const Node& node, const std::function<Tensor(ValueId)>& tensor_of) {
  std::vector<OpArg> args;
  for (auto& arg : node.args) {
    args.push_back(std::visit(
        [&](const auto& v) -> OpArg {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, ValueRef>) {
            return tensor_of(v.id);
          } else if constexpr (std::is_same_v<T, std::vector<ValueRef>>) {
            std::vector<Tensor> list;
            for (auto& r : v) list.push_back(r.id == kNoValue ? Tensor() : tensor_of(r.id));
            return list;
          } else {
            return v;
          }
        },
        arg));
  }
  return args;
}

Tensor value_placeholder(const Graph& g, ValueId v, std::vector<int64_t> strides) {
  const TensorType& t = g.values()[v];
  return placeholder(str_cat("v", v), t.shape, t.dtype, std::move(strides));
}

NodeInfo classify_node(const Graph& g, int n, const OpRegistry& ops) {
  const Node& node = g.nodes()[n];
  auto unsupported = [](std::string why) {
    return NodeInfo{NodeClass::Fallback, false, std::move(why), {}};
  };
  if (node.op.starts_with("opaque:"))
    return unsupported("opaque: its arguments were not described to Kiln");
  if (!ops.contains(node.op)) return unsupported("no Kiln lowering");
  std::string device;
  auto args = node_op_args(node, [&](ValueId v) {
    if (!on_cpu(g.values()[v])) device = g.values()[v].device;
    return value_placeholder(g, v, g.values()[v].strides);
  });
  for (ValueId v : node.outputs)
    if (!on_cpu(g.values()[v])) device = g.values()[v].device;
  // The graph builder gives a value it cannot type (a dtype Kiln lacks, uint8) device "opaque".
  if (device == "opaque") return unsupported("reads or makes a value whose type Kiln lacks");
  if (!device.empty()) return unsupported(str_cat("a tensor on ", device, ", not the CPU"));

  std::vector<Tensor> outputs;
  try {
    outputs = ops.lower(node.op, args);
  } catch (const Error& e) {
    return unsupported(e.what());
  }
  if (outputs.size() != node.outputs.size())
    return unsupported(str_cat("Kiln's lowering gives ", outputs.size(), " results, ATen's op ",
                               node.outputs.size()));
  for (size_t k = 0; k < outputs.size(); ++k) {
    const TensorType& want = g.values()[node.outputs[k]];
    if (outputs[k]->shape != want.shape || outputs[k]->dtype != want.dtype)
      return unsupported(str_cat("Kiln's lowering gives result ", k, " as ",
                                 dtype_name(outputs[k]->dtype), shape_str(outputs[k]->shape),
                                 ", ATen's op as ", dtype_name(want.dtype), shape_str(want.shape)));
  }

  NodeInfo info{NodeClass::Injective, !ops.copies(node.op), "", {}};
  for (const ValueCheck& check : ops.checks(node.op, args))
    info.checked_inputs.push_back(checked_value(node, check));
  for (auto& t : topo_order(outputs)) {
    if (t->kind != TensorKind::Compute) continue;
    if (t->numel() == 0) {
      // An empty result nobody reads (batch norm's saved statistics in inference) costs
      // nothing; any other empty tensor leaves nothing to compute: ATen does it for free.
      if (is_unread_output(g, node, outputs, t)) continue;
      return NodeInfo{};
    }
    info.index_map &= t->body.as<LoadNode>() != nullptr;
    if (t->is_scan() || t->is_scatter()) {
      info.cls = t->is_scan() ? NodeClass::Scan : NodeClass::Scatter;
      break;
    }
    auto* r = t->body.as<ReduceNode>();
    if (!r) continue;
    if (is_contraction(r))
      info.cls = NodeClass::Contraction;
    else if (info.cls != NodeClass::Contraction)
      info.cls = NodeClass::Reduction;
  }
  return info;
}

}  // namespace kiln

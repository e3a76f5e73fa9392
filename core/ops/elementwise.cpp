#include "core/ops/elementwise.h"

#include "core/ops/broadcast.h"

namespace kiln {

std::string short_name(const std::string& op) {
  size_t first = op.find('.');
  size_t second = op.find('.', first + 1);
  return op.substr(first + 1, second - first - 1);
}

Tensor elementwise(const OpArgs& a, const std::vector<Tensor>& inputs,
                   const std::function<Expr(const std::vector<Expr>&)>& fn) {
  std::vector<std::vector<int64_t>> shapes;
  for (auto& t : inputs) shapes.push_back(t->shape);
  return compute(short_name(a.op()), broadcast_shapes(a, shapes), [&](const std::vector<Var>& i) {
    std::vector<Expr> values;
    for (auto& t : inputs) values.push_back(load_broadcast(t, i));
    return fn(values);
  });
}

Tensor elementwise(const OpArgs& a, const std::vector<Tensor>& inputs, DType operand_dtype,
                   DType out_dtype, const std::function<Expr(const std::vector<Expr>&)>& fn) {
  return elementwise(a, inputs, [&](const std::vector<Expr>& v) {
    std::vector<Expr> values;
    for (auto& e : v) values.push_back(cast(operand_dtype, e));
    return cast(out_dtype, fn(values));
  });
}

void require_numeric(const OpArgs& a, int i, DType t) {
  if (t == DType::Bool) throw a.error(i, "is a bool tensor, which this op does not support");
}

void register_elementwise_ops(OpRegistry& r) {
  register_unary_ops(r);
  register_binary_ops(r);
  register_conversion_ops(r);
}

}  // namespace kiln

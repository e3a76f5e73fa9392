// Matrix products. The product itself is a compute whose whole body is
// reduce(Sum, A(...) * B(...), {k}) in the compute type; scaling, bias and the cast back to a
// 16-bit dtype are separate epilogue computes that consume it, the shape the scheduler's
// contraction template recognizes.
#include "core/ops/contraction.h"

#include <optional>

#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"

namespace kiln {

DType contraction_dtype(const OpArgs& a, int i, const Tensor& x, int j, const Tensor& y) {
  if (x->dtype != y->dtype)
    throw a.error(j,
                  str_cat("has dtype ", y->dtype, ", expected ", x->dtype, " like argument ", i));
  if (x->dtype == DType::Bool) throw a.error(i, "is a bool tensor, which a product does not take");
  return x->dtype;
}

void require_rank(const OpArgs& a, int i, const Tensor& t, int rank, std::string_view layout) {
  if (t->rank() != rank)
    throw a.error(i, str_cat("has shape ", shape_str(t->shape), ", expected ", layout));
}

namespace {

/// The product of A [(B,) M, K] and B [(B,) K, N], in compute type (or `acc`, where given);
/// `batched` adds the B dim.
Tensor product(const OpArgs& a, const std::string& name, int ia, const Tensor& x, int ib,
               const Tensor& y, bool batched, std::optional<DType> given_acc = std::nullopt) {
  int rank = batched ? 3 : 2;
  require_rank(a, ia, x, rank, batched ? "[B, M, K]" : "[M, K]");
  require_rank(a, ib, y, rank, batched ? "[B, K, N]" : "[K, N]");
  int64_t m = x->shape[rank - 2], k = x->shape[rank - 1], n = y->shape[rank - 1];
  if (y->shape[rank - 2] != k || (batched && y->shape[0] != x->shape[0]))
    throw a.error(ib, str_cat("has shape ", shape_str(y->shape), ", expected ",
                              batched ? str_cat("[", x->shape[0], ", ", k, ", N]")
                                      : str_cat("[", k, ", N]")));
  if (k == 0) throw a.error(ia, str_cat("has shape ", shape_str(x->shape), ": an empty K dim"));
  DType acc = given_acc.value_or(compute_type(contraction_dtype(a, ia, x, ib, y)));
  std::vector<int64_t> shape = {m, n};
  if (batched) shape.insert(shape.begin(), x->shape[0]);
  IterVar rk = reduce_axis(k, name + ".k");
  return compute(name, shape, [&](const std::vector<Var>& i) {
    Expr lhs = batched ? x(i[0], i[1], rk.var) : x(i[0], rk.var);
    Expr rhs = batched ? y(i[0], rk.var, i[2]) : y(rk.var, i[1]);
    return reduce(ReduceOp::Sum, cast(acc, lhs) * cast(acc, rhs), {rk});
  });
}

std::vector<Tensor> lower_product(const std::string& op, bool batched,
                                  const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "mat2"});
  Tensor x = a.tensor(0);
  std::string name = batched ? "bmm" : "mm";
  Tensor p = product(a, name, 0, x, 1, a.tensor(1), batched);
  return {cast_tensor(name + ".cast", p, x->dtype)};
}

/// _int_mm: int8 [M, K] @ int8 [K, N], summed in int32 (torchao's int8 matmuls reach it).
/// Written as sum_k a[m, k] * (b[k, n] + 128) - 128 * sum_k a[m, k]: exactly the same int32
/// sums, with one factor of each product in [0, 255], the unsigned byte that x86's int8 dot
/// product (AVX512-VNNI's vpdpbusd: unsigned bytes times signed bytes, four products per
/// int32 lane) takes. Elsewhere the + 128 costs one add per vector of B, shared by a tile's rows.
std::vector<Tensor> lower_int_mm(const std::vector<OpArg>& args) {
  OpArgs a("aten._int_mm.default", args, {"self", "mat2"});
  Tensor x = a.tensor(0), y = a.tensor(1);
  for (int i : {0, 1}) {
    if (a.tensor(i)->dtype != DType::I8)
      throw a.error(i, str_cat("has dtype ", a.tensor(i)->dtype, ", expected i8"));
    require_rank(a, i, a.tensor(i), 2, i == 0 ? "[M, K]" : "[K, N]");
  }
  int64_t m = x->shape[0], k = x->shape[1], n = y->shape[1];
  if (y->shape[0] != k)
    throw a.error(1, str_cat("has shape ", shape_str(y->shape), ", expected [", k, ", N]"));
  if (k == 0) throw a.error(0, str_cat("has shape ", shape_str(x->shape), ": an empty K dim"));
  Expr bias = make_const(DType::I32, 128);
  IterVar rk = reduce_axis(k, "int_mm.k");
  Tensor shifted = compute("int_mm.shifted", {m, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum,
                  cast(DType::I32, x(i[0], rk.var)) * (cast(DType::I32, y(rk.var, i[1])) + bias),
                  {rk});
  });
  IterVar rs = reduce_axis(k, "int_mm.row_sum.k");
  Tensor row_sums = compute("int_mm.row_sum", {m}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, cast(DType::I32, x(i[0], rs.var)), {rs});
  });
  return {compute("int_mm", {m, n}, [&](const std::vector<Var>& i) {
    return shifted(i[0], i[1]) - bias * row_sums(i[0]);
  })};
}

/// addmm/baddbmm: beta * self + alpha * (mat1 @ mat2), with self broadcast to the product.
std::vector<Tensor> lower_scaled_add(const std::string& op, bool batched,
                                     const std::vector<OpArg>& args) {
  OpArgs a(op, args,
           batched ? std::vector<std::string_view>{"self", "batch1", "batch2", "beta", "alpha"}
                   : std::vector<std::string_view>{"self", "mat1", "mat2", "beta", "alpha"});
  Tensor self = a.tensor(0), x = a.tensor(1);
  std::string name = batched ? "baddbmm" : "addmm";
  Tensor p = product(a, name + ".mm", 1, x, 2, a.tensor(2), batched);
  DType dtype = contraction_dtype(a, 1, x, 0, self);
  if (broadcast_shapes(a, {self->shape, p->shape}) != p->shape)
    throw a.error(0, str_cat("has shape ", shape_str(self->shape),
                             ", which does not broadcast to the product's ", shape_str(p->shape)));
  double beta = a.scalar(3).value, alpha = a.scalar(4).value;
  DType acc = p->dtype;
  return {compute(name, p->shape, [&](const std::vector<Var>& i) {
    Expr v = p.load(as_exprs(i));
    if (alpha != 1) v = v * make_const(acc, alpha);
    // beta == 0 ignores self entirely (NaN and inf in it do not propagate), as in PyTorch.
    if (beta != 0) {
      Expr s = cast(acc, load_broadcast(self, i));
      v = v + (beta == 1 ? s : s * make_const(acc, beta));
    }
    return cast(dtype, v);
  })};
}

}  // namespace

void register_contraction_ops(OpRegistry& r) {
  r.add("aten.mm.default", [](const std::vector<OpArg>& args) {
    return lower_product("aten.mm.default", false, args);
  });
  r.add("aten.bmm.default", [](const std::vector<OpArg>& args) {
    return lower_product("aten.bmm.default", true, args);
  });
  r.add("aten._int_mm.default", lower_int_mm);
  r.add("aten.addmm.default", [](const std::vector<OpArg>& args) {
    return lower_scaled_add("aten.addmm.default", false, args);
  });
  r.add("aten.baddbmm.default", [](const std::vector<OpArg>& args) {
    return lower_scaled_add("aten.baddbmm.default", true, args);
  });
}

}  // namespace kiln

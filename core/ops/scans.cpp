// Scans along one dim: cumsum, cumprod, logcumsumexp, cummax and cummin, each a recurrence
// (scan() in core/ir/tensor.h) computed as PyTorch's CPU kernels compute it: in their
// accumulator type (double for float, float for half types, int64 for integers), the first
// element combined with the identity as theirs is (cumsum of -0.0 is +0.0), then cast.
#include <limits>

#include "core/ops/axis_reduce.h"
#include "core/ops/elementwise.h"
#include "core/ops/op_registry.h"

namespace kiln {

namespace {

/// The type PyTorch's CPU scans accumulate a result of type `out` in (at::acc_type on the CPU).
DType scan_accumulator(DType out) {
  switch (out) {
    case DType::F16:
    case DType::BF16: return DType::F32;
    case DType::F32: return DType::F64;
    case DType::I8:
    case DType::I16:
    case DType::I32: return DType::I64;
    default: return out;
  }
}

/// `index` with its entry `dim` replaced by `value`.
std::vector<Expr> with_entry(const std::vector<Var>& index, int dim, Expr value) {
  std::vector<Expr> result(index.begin(), index.end());
  result[dim] = std::move(value);
  return result;
}

/// log(exp(x) + exp(acc)) as ATen's _log_add_exp_helper(x, acc) computes it: the larger plus
/// log1p of the exponential of the difference, NaN propagated, and x itself where both are the
/// same infinity.
Expr log_add_exp(const Expr& x, const Expr& acc) {
  Expr lo = min(x, acc), hi = max(x, acc);
  Expr lo_finite = lo - lo == make_const(lo.dtype(), 0);
  return select(lo != hi || lo_finite, unary(UnaryOp::Log1p, unary(UnaryOp::Exp, lo - hi)) + hi, x);
}

/// A scan of `x` along `dim` by `combine(acc, element)`, starting from `identity` as ATen's
/// running value does: each element is x's cast to `out`, then to `acc`, and the result is cast
/// to `out`. A rank-0 tensor is its own scan (ATen copies it).
Tensor running(const OpArgs& a, const Tensor& x, int64_t dim, DType out, DType acc, double identity,
               const std::function<Expr(const Expr&, const Expr&)>& combine) {
  std::string name = short_name(a.op());
  auto element = [&](const std::vector<Var>& i) {
    return cast(acc, cast(out, x.load({i.begin(), i.end()})));
  };
  if (x->rank() == 0)
    return compute(name, {}, [&](const std::vector<Var>&) { return cast(out, x.load({})); });
  Tensor result = scan(
      name, x->shape, static_cast<int>(dim),
      [&](const std::vector<Var>& i) { return combine(make_const(acc, identity), element(i)); },
      [&](const std::vector<Var>& i, const Expr& prev) { return combine(prev, element(i)); });
  return cast_tensor(name + ".cast", result, out);
}

/// cumsum/cumprod: the result type is `dtype` when given, else int64 for bool and integer inputs.
std::vector<Tensor> lower_cumulative(const std::vector<OpArg>& args, const std::string& op,
                                     bool product) {
  OpArgs a(op, args, {"self", "dim", "dtype"});
  Tensor x = a.tensor(0);
  int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank());
  DType out = a.optional_dtype(2).value_or(is_float(x->dtype) ? x->dtype : DType::I64);
  if (out == DType::Bool) throw a.error(2, "a bool result cannot accumulate");
  auto combine = [product](const Expr& acc, const Expr& v) { return product ? acc * v : acc + v; };
  return {running(a, x, dim, out, scan_accumulator(out), product ? 1 : 0, combine)};
}

std::vector<Tensor> lower_logcumsumexp(const std::vector<OpArg>& args) {
  OpArgs a("aten.logcumsumexp.default", args, {"self", "dim"});
  Tensor x = a.tensor(0);
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("is ", x->dtype, "; logcumsumexp needs a floating-point tensor"));
  int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank());
  auto combine = [](const Expr& acc, const Expr& v) { return log_add_exp(v, acc); };
  return {running(a, x, dim, x->dtype, scan_accumulator(x->dtype),
                  -std::numeric_limits<double>::infinity(), combine)};
}

/// cummax/cummin: the running extremum and the index along `dim` where it was last taken, as
/// ATen's helper takes it: an element that is NaN, or not worse than the extremum so far (ties
/// move the index forward), unless the extremum is already NaN.
std::vector<Tensor> lower_running_extremum(const std::vector<OpArg>& args, const std::string& op,
                                           bool maximum) {
  OpArgs a(op, args, {"self", "dim"});
  Tensor x = a.tensor(0);
  int64_t dim = normalize_dim(a, 1, a.integer(1), x->rank());
  std::string name = short_name(op);
  if (x->rank() == 0)
    return {compute(name, {}, [&](const std::vector<Var>&) { return x.load({}); }),
            compute(name + ".indices", {}, [](const std::vector<Var>&) { return Expr(0); })};
  DType cmp = x->dtype == DType::Bool ? DType::I32 : compute_type(x->dtype);
  auto takes = [&](const Expr& v, const Expr& best) {
    Expr value = cast(cmp, v), so_far = cast(cmp, best);
    Expr better = maximum ? value >= so_far : value <= so_far;
    if (!is_float(cmp)) return better;
    return unary(UnaryOp::IsNan, value) || (!unary(UnaryOp::IsNan, so_far) && better);
  };
  int d = static_cast<int>(dim);
  auto at = [&](const std::vector<Var>& i) { return x.load({i.begin(), i.end()}); };
  Tensor values = scan(name, x->shape, d, at, [&](const std::vector<Var>& i, const Expr& prev) {
    return select(takes(at(i), prev), at(i), prev);
  });
  Tensor indices = scan(
      name + ".indices", x->shape, d, [](const std::vector<Var>&) { return Expr(0); },
      [&](const std::vector<Var>& i, const Expr& prev) {
        Expr best = values.load(with_entry(i, d, i[d] - int64_t{1}));
        return select(takes(at(i), best), Expr(i[d]), prev);
      });
  return {values, indices};
}

}  // namespace

void register_scan_ops(OpRegistry& r) {
  r.add("aten.cumsum.default", [](const std::vector<OpArg>& args) {
    return lower_cumulative(args, "aten.cumsum.default", false);
  });
  r.add("aten.cumprod.default", [](const std::vector<OpArg>& args) {
    return lower_cumulative(args, "aten.cumprod.default", true);
  });
  r.add("aten.logcumsumexp.default", lower_logcumsumexp);
  r.add("aten.cummax.default", [](const std::vector<OpArg>& args) {
    return lower_running_extremum(args, "aten.cummax.default", true);
  });
  r.add("aten.cummin.default", [](const std::vector<OpArg>& args) {
    return lower_running_extremum(args, "aten.cummin.default", false);
  });
}

}  // namespace kiln

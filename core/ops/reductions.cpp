// Reductions over dims: sum, mean, prod, amax/amin, var, argmax, max/min with indices, and the
// softmax family (max, then exp-sum, then a divide: each reduction in its own compute).
#include "core/ops/axis_reduce.h"
#include "core/ops/elementwise.h"
#include "core/ops/type_promotion.h"

namespace kiln {

namespace {

Expr at(const Tensor& t, std::vector<Expr> index) {
  return t.load(std::move(index));
}

/// sum and prod give i64 for integer and bool inputs unless a dtype is asked for.
DType accumulating_dtype(const OpArgs& a, int dtype_arg, DType input) {
  if (auto t = a.optional_dtype(dtype_arg)) return *t;
  return is_float(input) ? input : DType::I64;
}

/// sum/prod: the reduction in the compute type of `out`, then a cast when that differs.
Tensor accumulate(const OpArgs& a, ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims,
                  bool keepdim, DType out) {
  std::string name = short_name(a.op());
  DType acc = compute_type(out);
  if (acc == DType::Bool) throw a.error(str_cat("cannot accumulate in ", out));
  Tensor r = reduce_over(a, name, x->shape, dims, keepdim, op,
                         [&](const std::vector<Expr>& i) { return cast(acc, at(x, i)); });
  return cast_tensor(name + ".cast", r, out);
}

/// The float dtype mean and var compute in: the input's own (or the asked-for) float dtype.
DType mean_dtype(const OpArgs& a, DType input, std::optional<DType> asked) {
  DType t = asked.value_or(input);
  if (!is_float(t))
    throw a.error(0, str_cat("has dtype ", input, "; mean/var need a floating-point dtype"));
  return t;
}

/// mean of `x` over `dims` in `asked` (or x's own) float dtype.
Tensor mean_in(const OpArgs& a, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim,
               std::optional<DType> asked) {
  DType out = mean_dtype(a, x->dtype, asked);
  Tensor m = mean_of(a, "mean", x, dims, keepdim, compute_type(out));
  return cast_tensor("mean.cast", m, out);
}

std::vector<Tensor> lower_mean(const std::vector<OpArg>& args) {
  OpArgs a("aten.mean.dim", args, {"self", "dim", "keepdim", "dtype"});
  Tensor x = a.tensor(0);
  auto dims = reduction_dims(a, 1, a.optional_ints(1), x->rank());
  return {mean_in(a, x, dims, a.boolean(2), a.optional_dtype(3))};
}

std::vector<Tensor> lower_mean_of_all(const std::vector<OpArg>& args) {
  OpArgs a("aten.mean.default", args, {"self", "dtype"});
  Tensor x = a.tensor(0);
  return {mean_in(a, x, reduction_dims(a, 0, std::nullopt, x->rank()), false, a.optional_dtype(1))};
}

/// var and var_mean: mean, then the sum of squared deviations, then a divide by N - correction.
std::vector<Tensor> lower_var(const std::string& op, const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "dim", "correction", "keepdim"});
  Tensor x = a.tensor(0);
  auto dims = reduction_dims(a, 1, a.optional_ints(1), x->rank());
  bool keepdim = a.boolean(3);
  double correction = a.optional_scalar(2).value_or(Scalar{1, DType::I64}).value;
  DType out = mean_dtype(a, x->dtype, std::nullopt);
  DType acc = compute_type(out);
  std::string name = short_name(op);
  Tensor mean = mean_of(a, name + ".mean", x, dims, keepdim, acc);
  Tensor ss = squared_deviations(a, name + ".sumsq", x, mean, dims, keepdim);
  // PyTorch divides by max(N - correction, 0): too few elements give inf or NaN, not an error.
  double divisor = std::max(0.0, static_cast<double>(reduced_count(x->shape, dims)) - correction);
  Tensor var = compute(name, ss->shape, [&](const std::vector<Var>& i) {
    return cast(out, ss.load({i.begin(), i.end()}) / make_const(acc, divisor));
  });
  if (op == "aten.var.correction") return {var};
  return {var, cast_tensor(name + ".mean.cast", mean, out)};
}

/// _softmax and _log_softmax along one dim.
std::vector<Tensor> lower_softmax(const std::string& op, bool log, const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "dim", "half_to_float"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> dims = {normalize_dim(a, 1, a.integer(1), x->rank())};
  if (x->rank() == 0) dims.clear();
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", x->dtype));
  bool half_to_float = a.boolean(2);
  if (half_to_float && x->dtype != DType::F16 && x->dtype != DType::BF16)
    throw a.error(2, "is true, which needs an f16 or bf16 input");
  DType out = half_to_float ? DType::F32 : x->dtype;
  DType acc = compute_type(x->dtype);
  std::string name = short_name(op);
  Tensor mx = reduce_over(a, name + ".max", x->shape, dims, false, ReduceOp::Max,
                          [&](const std::vector<Expr>& i) { return at(x, i); });
  auto shifted = [&](const std::vector<Expr>& i) {
    return cast(acc, at(x, i)) - cast(acc, at(mx, reduced_index(i, dims, false)));
  };
  if (log) {
    Tensor sum =
        reduce_over(a, name + ".sum", x->shape, dims, false, ReduceOp::Sum,
                    [&](const std::vector<Expr>& i) { return unary(UnaryOp::Exp, shifted(i)); });
    return {compute(name, x->shape, [&](const std::vector<Var>& axes) {
      std::vector<Expr> i(axes.begin(), axes.end());
      Expr s = at(sum, reduced_index(i, dims, false));
      return cast(out, shifted(i) - unary(UnaryOp::Log, s));
    })};
  }
  // The exponentials are one tensor read twice (by the sum and the output), so that a schedule
  // can compute them once per row.
  Tensor e = compute(name + ".exp", x->shape, [&](const std::vector<Var>& axes) {
    return unary(UnaryOp::Exp, shifted(std::vector<Expr>(axes.begin(), axes.end())));
  });
  Tensor sum = reduce_over(a, name + ".sum", x->shape, dims, false, ReduceOp::Sum,
                           [&](const std::vector<Expr>& i) { return at(e, i); });
  return {compute(name, x->shape, [&](const std::vector<Var>& axes) {
    std::vector<Expr> i(axes.begin(), axes.end());
    // Like ATen: multiply by the reciprocal of the sum (one division per row, not per element).
    Expr s = at(sum, reduced_index(i, dims, false));
    return cast(out, at(e, i) * (1.0 / s));
  })};
}

/// max.dim/min.dim: the extremum and the index of its first occurrence.
std::vector<Tensor> lower_extremum_with_index(const std::string& op, bool is_max,
                                              const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "dim", "keepdim"});
  Tensor x = a.tensor(0);
  require_numeric(a, 0, x->dtype);
  std::vector<int64_t> dims = reduction_dims(a, 1, std::vector<int64_t>{a.integer(1)}, x->rank());
  bool keepdim = a.boolean(2);
  auto source = [&](const std::vector<Expr>& i) { return at(x, i); };
  std::string name = short_name(op);
  return {
      reduce_over(a, name, x->shape, dims, keepdim, is_max ? ReduceOp::Max : ReduceOp::Min, source),
      reduce_over(a, name + ".indices", x->shape, dims, keepdim,
                  is_max ? ReduceOp::ArgMax : ReduceOp::ArgMin, source)};
}

/// Registers `op`, a reduction by `reduce` of argument 0 (numeric) over the dims `dims_of` picks
/// from the arguments (`names`); `keepdim_arg` is the index of keepdim, or -1 where there is none.
void add_plain_reduction(OpRegistry& r, const std::string& op, ReduceOp reduce,
                         std::vector<std::string_view> names,
                         std::vector<int64_t> (*dims_of)(const OpArgs&, int64_t rank),
                         int keepdim_arg) {
  r.add(op, [=](const std::vector<OpArg>& args) {
    OpArgs a(op, args, names);
    Tensor x = a.tensor(0);
    require_numeric(a, 0, x->dtype);
    bool keepdim = keepdim_arg >= 0 && a.boolean(keepdim_arg);
    return std::vector<Tensor>{reduce_over(a, short_name(op), x->shape, dims_of(a, x->rank()),
                                           keepdim, reduce,
                                           [&](const std::vector<Expr>& i) { return at(x, i); })};
  });
}

/// any over `dims`: whether some element is nonzero (NaN counts), as a bool.
Tensor any_of(const OpArgs& a, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  Tensor nonzero = reduce_over(a, "any", x->shape, dims, keepdim, ReduceOp::Max,
                               [&](const std::vector<Expr>& i) {
                                 Expr v = at(x, i);
                                 return cast(DType::I32, v != make_const(v.dtype(), 0));
                               });
  // Compared, not cast: over no elements the maximum is the identity, the lowest i32.
  return compute("any.bool", nonzero->shape, [&](const std::vector<Var>& i) {
    return nonzero.load({i.begin(), i.end()}) > make_const(DType::I32, 0);
  });
}

void register_any(OpRegistry& r) {
  r.add("aten.any.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.any.default", args, {"self"});
    Tensor x = a.tensor(0);
    return std::vector<Tensor>{any_of(a, x, reduction_dims(a, 0, std::nullopt, x->rank()), false)};
  });
  r.add("aten.any.dim", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.any.dim", args, {"self", "dim", "keepdim"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 1, std::vector<int64_t>{a.integer(1)}, x->rank());
    return std::vector<Tensor>{any_of(a, x, dims, a.boolean(2))};
  });
  r.add("aten.any.dims", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.any.dims", args, {"self", "dim", "keepdim"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 1, a.optional_ints(1), x->rank());
    return std::vector<Tensor>{any_of(a, x, dims, a.boolean(2))};
  });
}

}  // namespace

void register_reduction_ops(OpRegistry& r) {
  r.add("aten.sum.dim_IntList", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.sum.dim_IntList", args, {"self", "dim", "keepdim", "dtype"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 1, a.optional_ints(1), x->rank());
    return std::vector<Tensor>{
        accumulate(a, ReduceOp::Sum, x, dims, a.boolean(2), accumulating_dtype(a, 3, x->dtype))};
  });
  r.add("aten.sum.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.sum.default", args, {"self", "dtype"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 0, std::nullopt, x->rank());
    return std::vector<Tensor>{
        accumulate(a, ReduceOp::Sum, x, dims, false, accumulating_dtype(a, 1, x->dtype))};
  });
  r.add("aten.prod.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.prod.default", args, {"self", "dtype"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 0, std::nullopt, x->rank());
    return std::vector<Tensor>{
        accumulate(a, ReduceOp::Prod, x, dims, false, accumulating_dtype(a, 1, x->dtype))};
  });
  r.add("aten.prod.dim_int", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.prod.dim_int", args, {"self", "dim", "keepdim", "dtype"});
    Tensor x = a.tensor(0);
    auto dims = reduction_dims(a, 1, std::vector<int64_t>{a.integer(1)}, x->rank());
    return std::vector<Tensor>{
        accumulate(a, ReduceOp::Prod, x, dims, a.boolean(2), accumulating_dtype(a, 3, x->dtype))};
  });
  r.add("aten.mean.dim", lower_mean);
  r.add("aten.mean.default", lower_mean_of_all);
  r.add("aten.var.correction",
        [](const std::vector<OpArg>& args) { return lower_var("aten.var.correction", args); });
  r.add("aten.var_mean.correction",
        [](const std::vector<OpArg>& args) { return lower_var("aten.var_mean.correction", args); });
  r.add("aten._softmax.default", [](const std::vector<OpArg>& args) {
    return lower_softmax("aten._softmax.default", false, args);
  });
  r.add("aten._log_softmax.default", [](const std::vector<OpArg>& args) {
    return lower_softmax("aten._log_softmax.default", true, args);
  });
  auto listed_dims = [](const OpArgs& a, int64_t rank) {
    return reduction_dims(a, 1, a.ints(1), rank);
  };
  // dim None: the flat index over all dims, which ArgMax over several axes gives directly.
  auto one_or_all_dims = [](const OpArgs& a, int64_t rank) {
    std::optional<int64_t> dim = a.optional_integer(1);
    return dim ? reduction_dims(a, 1, std::vector<int64_t>{*dim}, rank)
               : reduction_dims(a, 1, std::nullopt, rank);
  };
  auto all_dims = [](const OpArgs& a, int64_t rank) {
    return reduction_dims(a, 0, std::nullopt, rank);
  };
  std::vector<std::string_view> with_dims{"self", "dim", "keepdim"};
  add_plain_reduction(r, "aten.amax.default", ReduceOp::Max, with_dims, listed_dims, 2);
  add_plain_reduction(r, "aten.amin.default", ReduceOp::Min, with_dims, listed_dims, 2);
  add_plain_reduction(r, "aten.argmax.default", ReduceOp::ArgMax, with_dims, one_or_all_dims, 2);
  add_plain_reduction(r, "aten.argmin.default", ReduceOp::ArgMin, with_dims, one_or_all_dims, 2);
  add_plain_reduction(r, "aten.max.default", ReduceOp::Max, {"self"}, all_dims, -1);
  add_plain_reduction(r, "aten.min.default", ReduceOp::Min, {"self"}, all_dims, -1);
  register_any(r);
  r.add("aten.max.dim", [](const std::vector<OpArg>& args) {
    return lower_extremum_with_index("aten.max.dim", true, args);
  });
  r.add("aten.min.dim", [](const std::vector<OpArg>& args) {
    return lower_extremum_with_index("aten.min.dim", false, args);
  });
}

}  // namespace kiln

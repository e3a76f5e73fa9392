// Layer norm (two-pass statistics) and inference batch norm.
#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"

namespace kiln {

namespace {

/// Checks that optional tensor argument `i` has exactly `shape`.
std::optional<Tensor> parameter(const OpArgs& a, int i, const std::vector<int64_t>& shape) {
  std::optional<Tensor> t = a.optional_tensor(i);
  if (t && (*t)->shape != shape)
    throw a.error(i,
                  str_cat("has shape ", shape_str((*t)->shape), ", expected ", shape_str(shape)));
  return t;
}

std::vector<Tensor> lower_layer_norm(const std::vector<OpArg>& args) {
  OpArgs a("aten.native_layer_norm.default", args,
           {"input", "normalized_shape", "weight", "bias", "eps"});
  Tensor x = a.tensor(0);
  std::vector<int64_t> norm = a.ints(1);
  int64_t lead = x->rank() - static_cast<int64_t>(norm.size());
  if (norm.empty() || lead < 0 || !std::equal(norm.begin(), norm.end(), x->shape.begin() + lead))
    throw a.error(1, str_cat("is ", shape_str(norm),
                             ", which is not a non-empty trailing part of "
                             "the input shape ",
                             shape_str(x->shape)));
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", x->dtype));
  std::optional<Tensor> w = parameter(a, 2, norm), b = parameter(a, 3, norm);
  double eps = a.real(4);
  DType acc = compute_type(x->dtype);
  std::vector<int64_t> dims;
  for (int64_t d = lead; d < x->rank(); ++d) dims.push_back(d);

  Tensor mean = mean_of(a, "layer_norm.mean", x, dims, true, acc);
  Tensor ss = squared_deviations(a, "layer_norm.sumsq", x, mean, dims, true);
  double n = static_cast<double>(reduced_count(x->shape, dims));
  Tensor rstd = compute("layer_norm.rstd", mean->shape, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Rsqrt, ss.load(as_exprs(i)) / n + eps);
  });
  Tensor out = compute("layer_norm", x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> full = as_exprs(i), stat = reduced_index(full, dims, true);
    std::vector<Expr> param(full.begin() + lead, full.end());
    Expr v = (cast(acc, x.load(full)) - mean.load(stat)) * rstd.load(stat);
    if (w) v = v * cast(acc, w->load(param));
    if (b) v = v + cast(acc, b->load(param));
    return cast(x->dtype, v);
  });
  // On the CPU, PyTorch returns the statistics in the input's dtype.
  return {out, cast_tensor("layer_norm.mean.cast", mean, x->dtype),
          cast_tensor("layer_norm.rstd.cast", rstd, x->dtype)};
}

std::vector<Tensor> lower_batch_norm(const std::vector<OpArg>& args) {
  OpArgs a("aten._native_batch_norm_legit_no_training.default", args,
           {"input", "weight", "bias", "running_mean", "running_var", "momentum", "eps"});
  Tensor x = a.tensor(0);
  if (x->rank() < 2)
    throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", expected [N, C, ...]"));
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", x->dtype));
  std::vector<int64_t> channels = {x->shape[1]};
  std::optional<Tensor> w = parameter(a, 1, channels), b = parameter(a, 2, channels);
  Tensor mean = *parameter(a, 3, channels), var = *parameter(a, 4, channels);
  double eps = a.real(6);
  DType acc = compute_type(x->dtype);
  Tensor out = compute("batch_norm", x->shape, [&](const std::vector<Var>& i) {
    Expr c = i[1];
    Expr v = (cast(acc, x.load(as_exprs(i))) - cast(acc, mean(c))) *
             unary(UnaryOp::Rsqrt, cast(acc, var(c)) + eps);
    if (w) v = v * cast(acc, (*w)(c));
    if (b) v = v + cast(acc, (*b)(c));
    return cast(x->dtype, v);
  });
  // In inference mode ATen returns empty tensors for the saved statistics.
  auto empty = [&](const char* name) {
    return compute(name, {0}, [&](const std::vector<Var>&) { return make_const(x->dtype, 0); });
  };
  return {out, empty("batch_norm.save_mean"), empty("batch_norm.save_invstd")};
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  r.add("aten.native_layer_norm.default", lower_layer_norm);
  r.add("aten._native_batch_norm_legit_no_training.default", lower_batch_norm);
}

}  // namespace kiln

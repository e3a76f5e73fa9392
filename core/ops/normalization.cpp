// Normalizations: layer norm, batch norm (inference, and training with or without running
// statistics, which instance norm decomposes into) and group norm. Statistics computed from the
// input are two-pass (the mean, then the sum of squared deviations), in its compute type.
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

/// Argument 0 of batch and group norm: a floating-point [N, C, ...] tensor.
Tensor channels_first_input(const OpArgs& a) {
  Tensor x = a.tensor(0);
  if (x->rank() < 2)
    throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", expected [N, C, ...]"));
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", x->dtype));
  return x;
}

/// The statistics of `x` over `dims`: the mean, the sum of squared deviations from it, and
/// 1 / sqrt(biased variance + eps), named "<name>.mean", ".sumsq", ".rstd".
struct Statistics {
  Tensor mean, sum_sq, rstd;
  double count;  ///< The elements each statistic covers.
};

Statistics statistics(const OpArgs& a, const std::string& name, const Tensor& x,
                      const std::vector<int64_t>& dims, bool keepdim, double eps) {
  Statistics s;
  s.mean = mean_of(a, name + ".mean", x, dims, keepdim, compute_type(x->dtype));
  s.sum_sq = squared_deviations(a, name + ".sumsq", x, s.mean, dims, keepdim);
  s.count = static_cast<double>(reduced_count(x->shape, dims));
  s.rstd = compute(name + ".rstd", s.mean->shape, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Rsqrt, s.sum_sq.load(as_exprs(i)) / s.count + eps);
  });
  return s;
}

/// A statistic as ATen returns it on the CPU: in the input's dtype.
Tensor saved(const std::string& name, const Tensor& statistic, const Tensor& x) {
  return cast_tensor(name, statistic, x->dtype);
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
  DType acc = compute_type(x->dtype);
  std::vector<int64_t> dims;
  for (int64_t d = lead; d < x->rank(); ++d) dims.push_back(d);

  Statistics s = statistics(a, "layer_norm", x, dims, true, a.real(4));
  Tensor out = compute("layer_norm", x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> full = as_exprs(i), stat = reduced_index(full, dims, true);
    std::vector<Expr> param(full.begin() + lead, full.end());
    Expr v = (cast(acc, x.load(full)) - s.mean.load(stat)) * s.rstd.load(stat);
    if (w) v = v * cast(acc, w->load(param));
    if (b) v = v + cast(acc, b->load(param));
    return cast(x->dtype, v);
  });
  return {out, saved("layer_norm.mean.cast", s.mean, x), saved("layer_norm.rstd.cast", s.rstd, x)};
}

std::vector<Tensor> lower_batch_norm(const std::vector<OpArg>& args) {
  OpArgs a("aten._native_batch_norm_legit_no_training.default", args,
           {"input", "weight", "bias", "running_mean", "running_var", "momentum", "eps"});
  Tensor x = channels_first_input(a);
  std::vector<int64_t> channels = {x->shape[1]};
  std::optional<Tensor> w = parameter(a, 1, channels), b = parameter(a, 2, channels);
  Tensor mean = *parameter(a, 3, channels), var = *parameter(a, 4, channels);
  double eps = a.real(6);
  DType acc = compute_type(x->dtype);
  // As ATen computes it: x * alpha + beta with, per channel, alpha = weight / sqrt(var + eps)
  // and beta = bias - mean * alpha; per channel, so that the square root and the division run
  // once per channel, not once per element (the template keeps such stages apart).
  Tensor alpha = compute("batch_norm.alpha", channels, [&](const std::vector<Var>& i) {
    Expr v = make_const(acc, 1) / unary(UnaryOp::Sqrt, cast(acc, var(i[0])) + eps);
    return w ? v * cast(acc, (*w)(i[0])) : v;
  });
  Tensor beta = compute("batch_norm.beta", channels, [&](const std::vector<Var>& i) {
    Expr shift = cast(acc, mean(i[0])) * alpha(i[0]);
    return b ? cast(acc, (*b)(i[0])) - shift : -shift;
  });
  Tensor out = compute("batch_norm", x->shape, [&](const std::vector<Var>& i) {
    return cast(x->dtype, cast(acc, x.load(as_exprs(i))) * alpha(i[1]) + beta(i[1]));
  });
  // In inference mode ATen returns empty tensors for the saved statistics.
  auto empty = [&](const char* name) {
    return compute(name, {0}, [&](const std::vector<Var>&) { return make_const(x->dtype, 0); });
  };
  return {out, empty("batch_norm.save_mean"), empty("batch_norm.save_invstd")};
}

/// (x - mean) * rstd * weight + bias, with the statistics of x's element read at `stat(i)` and
/// weight and bias per channel (dim 1).
Tensor normalized(const std::string& name, const Tensor& x, const Statistics& s,
                  const std::optional<Tensor>& w, const std::optional<Tensor>& b,
                  const std::function<std::vector<Expr>(const std::vector<Var>&)>& stat) {
  DType acc = s.mean->dtype;
  return compute(name, x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at = stat(i);
    Expr v = (cast(acc, x.load(as_exprs(i))) - s.mean.load(at)) * s.rstd.load(at);
    if (w) v = v * cast(acc, (*w)(i[1]));
    if (b) v = v + cast(acc, (*b)(i[1]));
    return cast(x->dtype, v);
  });
}

/// Training batch norm (weight and bias are arguments 1 and 2): statistics per channel over
/// every other dim. Returns the output and the statistics.
std::pair<Tensor, Statistics> batch_norm_training(const OpArgs& a, const Tensor& x, double eps) {
  if (x->numel() == 0) throw a.error(0, str_cat("is empty (shape ", shape_str(x->shape), ")"));
  std::vector<int64_t> channels = {x->shape[1]}, dims;
  for (int64_t d = 0; d < x->rank(); ++d)
    if (d != 1) dims.push_back(d);
  std::optional<Tensor> w = parameter(a, 1, channels), b = parameter(a, 2, channels);
  Statistics s = statistics(a, "batch_norm", x, dims, false, eps);
  Tensor out = normalized("batch_norm", x, s, w, b,
                          [](const std::vector<Var>& i) { return std::vector<Expr>{i[1]}; });
  return {out, s};
}

/// _native_batch_norm_legit_functional: training batch norm that also returns the running
/// statistics updated with `momentum` (the variance unbiased, as PyTorch keeps it).
std::vector<Tensor> lower_batch_norm_functional(const std::vector<OpArg>& args) {
  OpArgs a(
      "aten._native_batch_norm_legit_functional.default", args,
      {"input", "weight", "bias", "running_mean", "running_var", "training", "momentum", "eps"});
  if (!a.boolean(5)) throw a.error(5, "is False; this form is for training");
  Tensor x = channels_first_input(a);
  std::vector<int64_t> channels = {x->shape[1]};
  Tensor running_mean = *parameter(a, 3, channels), running_var = *parameter(a, 4, channels);
  double momentum = a.real(6);
  auto [out, s] = batch_norm_training(a, x, a.real(7));
  if (s.count < 2)
    throw a.error(0, str_cat("has one value per channel (shape ", shape_str(x->shape),
                             "): its unbiased variance is undefined"));
  // running * (1 - momentum) + statistic * scale * momentum, per channel.
  auto updated = [&](const char* name, const Tensor& running, const Tensor& statistic,
                     double scale) {
    return compute(name, channels, [&](const std::vector<Var>& c) {
      Expr old = cast(statistic->dtype, running(c[0]));
      return cast(running->dtype, old * (1 - momentum) + statistic(c[0]) * (scale * momentum));
    });
  };
  return {out, saved("batch_norm.save_mean", s.mean, x), saved("batch_norm.save_invstd", s.rstd, x),
          updated("batch_norm.running_mean", running_mean, s.mean, 1.0),
          updated("batch_norm.running_var", running_var, s.sum_sq, 1.0 / (s.count - 1))};
}

/// _native_batch_norm_legit.no_stats: training batch norm without running statistics.
std::vector<Tensor> lower_batch_norm_no_stats(const std::vector<OpArg>& args) {
  OpArgs a("aten._native_batch_norm_legit.no_stats", args,
           {"input", "weight", "bias", "training", "momentum", "eps"});
  if (!a.boolean(3)) throw a.error(3, "is False; without running statistics only training is");
  Tensor x = channels_first_input(a);
  auto [out, s] = batch_norm_training(a, x, a.real(5));
  return {out, saved("batch_norm.save_mean", s.mean, x),
          saved("batch_norm.save_invstd", s.rstd, x)};
}

/// native_group_norm(input, weight, bias, N, C, HxW, group, eps): statistics per sample and group
/// of C / group channels over all their positions; returns the output, mean and rstd ([N, group]).
std::vector<Tensor> lower_group_norm(const std::vector<OpArg>& args) {
  OpArgs a("aten.native_group_norm.default", args,
           {"input", "weight", "bias", "N", "C", "HxW", "group", "eps"});
  Tensor x = channels_first_input(a);
  if (x->numel() == 0) throw a.error(0, str_cat("is empty (shape ", shape_str(x->shape), ")"));
  int64_t n = x->shape[0], c = x->shape[1], groups = a.integer(6);
  if (a.integer(3) != n || a.integer(4) != c || a.integer(5) * n * c != x->numel())
    throw a.error(str_cat("N, C, HxW = ", a.integer(3), ", ", a.integer(4), ", ", a.integer(5),
                          " do not describe the input of shape ", shape_str(x->shape)));
  if (groups <= 0 || c % groups != 0)
    throw a.error(6, str_cat("is ", groups, "; it must divide the ", c, " channels"));
  std::optional<Tensor> w = parameter(a, 1, {c}), b = parameter(a, 2, {c});
  int64_t per_group = c / groups;
  // x seen as [N, group, C / group, spatial...]: the statistics reduce all but the first two.
  std::vector<int64_t> shape = {n, groups, per_group};
  shape.insert(shape.end(), x->shape.begin() + 2, x->shape.end());
  Tensor grouped = compute("group_norm.grouped", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at = {i[0], i[1] * per_group + i[2]};
    at.insert(at.end(), i.begin() + 3, i.end());
    return x.load(at);
  });
  std::vector<int64_t> dims;
  for (int64_t d = 2; d < static_cast<int64_t>(shape.size()); ++d) dims.push_back(d);
  Statistics s = statistics(a, "group_norm", grouped, dims, false, a.real(7));
  Tensor out = normalized("group_norm", x, s, w, b, [&](const std::vector<Var>& i) {
    return std::vector<Expr>{i[0], floordiv(i[1], Expr(per_group))};
  });
  return {out, saved("group_norm.mean.cast", s.mean, x), saved("group_norm.rstd.cast", s.rstd, x)};
}

}  // namespace

void register_normalization_ops(OpRegistry& r) {
  r.add("aten.native_layer_norm.default", lower_layer_norm);
  r.add("aten._native_batch_norm_legit_no_training.default", lower_batch_norm);
  r.add("aten._native_batch_norm_legit_functional.default", lower_batch_norm_functional);
  r.add("aten._native_batch_norm_legit.no_stats", lower_batch_norm_no_stats);
  r.add("aten.native_group_norm.default", lower_group_norm);
}

}  // namespace kiln

// Normalizations whose statistics the forward computes from its own input: batch norm in training
// form (functional, with the updated running statistics, and without running statistics, which
// instance norm decomposes into) and group norm. Both are two-pass (mean, then the sum of squared
// deviations), in the input's compute type, as layer norm is.
#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"

namespace kiln {

namespace {

/// The checks every statistics-normalizing op makes of its input.
Tensor normalized_input(const OpArgs& a) {
  Tensor x = a.tensor(0);
  if (x->rank() < 2)
    throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", expected [N, C, ...]"));
  if (!is_float(x->dtype))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", x->dtype));
  if (x->numel() == 0) throw a.error(0, str_cat("is empty (shape ", shape_str(x->shape), ")"));
  return x;
}

/// Optional per-channel tensor argument `i`, of shape [C].
std::optional<Tensor> per_channel(const OpArgs& a, int i, int64_t channels) {
  std::optional<Tensor> t = a.optional_tensor(i);
  if (t && (*t)->shape != std::vector<int64_t>{channels})
    throw a.error(i, str_cat("has shape ", shape_str((*t)->shape), ", expected [", channels, "]"));
  return t;
}

/// (x - mean) * rstd * weight + bias, with the statistics of x's element read by `stat` and
/// weight and bias per channel (dim 1).
Tensor normalized(const std::string& name, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                  const std::optional<Tensor>& w, const std::optional<Tensor>& b,
                  const std::function<std::vector<Expr>(const std::vector<Var>&)>& stat) {
  DType acc = mean->dtype;
  return compute(name, x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> s = stat(i);
    Expr v = (cast(acc, x.load(as_exprs(i))) - mean.load(s)) * rstd.load(s);
    if (w) v = v * cast(acc, (*w)(i[1]));
    if (b) v = v + cast(acc, (*b)(i[1]));
    return cast(x->dtype, v);
  });
}

/// Batch norm's training statistics over every dim but the channels (1): the mean, the sum of
/// squared deviations, and 1 / sqrt(biased variance + eps), each of shape [C].
struct ChannelStatistics {
  Tensor mean, sum_sq, invstd;
  double count;
};

ChannelStatistics channel_statistics(const OpArgs& a, const Tensor& x, double eps) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x->rank(); ++d)
    if (d != 1) dims.push_back(d);
  DType acc = compute_type(x->dtype);
  ChannelStatistics s;
  s.count = static_cast<double>(reduced_count(x->shape, dims));
  s.mean = mean_of(a, "batch_norm.mean", x, dims, false, acc);
  s.sum_sq = squared_deviations(a, "batch_norm.sumsq", x, s.mean, dims, false);
  s.invstd = compute("batch_norm.invstd", s.mean->shape, [&](const std::vector<Var>& c) {
    return unary(UnaryOp::Rsqrt, s.sum_sq(c[0]) / s.count + eps);
  });
  return s;
}

/// A statistic as ATen saves it on the CPU: in the input's dtype.
Tensor saved(const std::string& name, const Tensor& statistic, const Tensor& x) {
  return cast_tensor(name, statistic, x->dtype);
}

/// Training batch norm of `x` with weight and bias arguments 1 and 2: its output and statistics
/// (of which ATen saves the mean and invstd for the backward).
std::pair<Tensor, ChannelStatistics> batch_norm_training(const OpArgs& a, const Tensor& x,
                                                         double eps) {
  std::optional<Tensor> w = per_channel(a, 1, x->shape[1]), b = per_channel(a, 2, x->shape[1]);
  ChannelStatistics s = channel_statistics(a, x, eps);
  Tensor out = normalized("batch_norm", x, s.mean, s.invstd, w, b,
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
  Tensor x = normalized_input(a);
  Tensor running_mean = *per_channel(a, 3, x->shape[1]);
  Tensor running_var = *per_channel(a, 4, x->shape[1]);
  double momentum = a.real(6);
  auto [out, s] = batch_norm_training(a, x, a.real(7));
  if (s.count < 2)
    throw a.error(0, str_cat("has one value per channel (shape ", shape_str(x->shape),
                             "): its unbiased variance is undefined"));
  auto updated = [&](const char* name, const Tensor& running, const Tensor& batch, double scale) {
    DType acc = batch->dtype;
    return compute(name, running->shape, [&](const std::vector<Var>& c) {
      Expr old = cast(acc, running(c[0]));
      Expr v = old * (1 - momentum) + batch(c[0]) * (scale * momentum);
      return cast(running->dtype, v);
    });
  };
  Tensor biased_var = compute("batch_norm.var", s.mean->shape,
                              [&](const std::vector<Var>& c) { return s.sum_sq(c[0]) / s.count; });
  return {out, saved("batch_norm.save_mean", s.mean, x),
          saved("batch_norm.save_invstd", s.invstd, x),
          updated("batch_norm.running_mean", running_mean, s.mean, 1.0),
          updated("batch_norm.running_var", running_var, biased_var, s.count / (s.count - 1))};
}

/// _native_batch_norm_legit.no_stats: training batch norm without running statistics.
std::vector<Tensor> lower_batch_norm_no_stats(const std::vector<OpArg>& args) {
  OpArgs a("aten._native_batch_norm_legit.no_stats", args,
           {"input", "weight", "bias", "training", "momentum", "eps"});
  if (!a.boolean(3)) throw a.error(3, "is False; without running statistics only training is");
  Tensor x = normalized_input(a);
  auto [out, s] = batch_norm_training(a, x, a.real(5));
  return {out, saved("batch_norm.save_mean", s.mean, x),
          saved("batch_norm.save_invstd", s.invstd, x)};
}

/// native_group_norm(input, weight, bias, N, C, HxW, group, eps): statistics per sample and group
/// of C / group channels over all their positions; returns the output, mean and rstd ([N, group]).
std::vector<Tensor> lower_group_norm(const std::vector<OpArg>& args) {
  OpArgs a("aten.native_group_norm.default", args,
           {"input", "weight", "bias", "N", "C", "HxW", "group", "eps"});
  Tensor x = normalized_input(a);
  int64_t n = x->shape[0], c = x->shape[1], groups = a.integer(6);
  if (a.integer(3) != n || a.integer(4) != c || a.integer(5) * n * c != x->numel())
    throw a.error(str_cat("N, C, HxW = ", a.integer(3), ", ", a.integer(4), ", ", a.integer(5),
                          " do not describe the input of shape ", shape_str(x->shape)));
  if (groups <= 0 || c % groups != 0)
    throw a.error(6, str_cat("is ", groups, "; it must divide the ", c, " channels"));
  std::optional<Tensor> w = per_channel(a, 1, c), b = per_channel(a, 2, c);
  double eps = a.real(7);
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
  DType acc = compute_type(x->dtype);
  Tensor mean = mean_of(a, "group_norm.mean", grouped, dims, false, acc);
  Tensor ss = squared_deviations(a, "group_norm.sumsq", grouped, mean, dims, false);
  double count = static_cast<double>(reduced_count(shape, dims));
  Tensor rstd = compute("group_norm.rstd", mean->shape, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Rsqrt, ss.load(as_exprs(i)) / count + eps);
  });
  Tensor out = normalized("group_norm", x, mean, rstd, w, b, [&](const std::vector<Var>& i) {
    return std::vector<Expr>{i[0], floordiv(i[1], Expr(per_group))};
  });
  // On the CPU, PyTorch returns the statistics in the input's dtype.
  return {out, cast_tensor("group_norm.mean.cast", mean, x->dtype),
          cast_tensor("group_norm.rstd.cast", rstd, x->dtype)};
}

}  // namespace

void register_batch_statistics_ops(OpRegistry& r) {
  r.add("aten._native_batch_norm_legit_functional.default", lower_batch_norm_functional);
  r.add("aten._native_batch_norm_legit.no_stats", lower_batch_norm_no_stats);
  r.add("aten.native_group_norm.default", lower_group_norm);
}

}  // namespace kiln

// 2-D convolution (NCHW, groups, stride, padding, dilation), plain and transposed, and 1-D ones
// as 2-D ones of height 1: zero padding (and for a transposed one, zeros between the input's rows
// and columns) as its own compute, the convolution as a Sum over (rc, ry, rx), and the bias and
// cast back as an epilogue compute.
#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/contraction.h"
#include "core/ops/index_guard.h"
#include "core/ops/window.h"

namespace kiln {

namespace {

/// `x` [N, C, H, W] with `pad` zeros around H and W; `x` itself without padding.
Tensor zero_padded(const Tensor& x, std::array<int64_t, 2> pad) {
  if (pad[0] == 0 && pad[1] == 0) return x;
  std::vector<int64_t> shape = x->shape;
  shape[2] += 2 * pad[0];
  shape[3] += 2 * pad[1];
  return compute("convolution.pad", shape, [&](const std::vector<Var>& i) {
    Expr h = i[2] - pad[0], w = i[3] - pad[1];
    Expr v = x(i[0], i[1], h, w);  // read only where the select takes it (expr.h)
    return select(in_range(h, x->shape[2]) && in_range(w, x->shape[3]), v, make_const(x->dtype, 0));
  });
}

/// `x` [N, C, H, W] as a transposed convolution reads it: each input row `stride` rows apart,
/// zeros between, and `lead` rows (negative: rows cut) before the first, over `size` rows; the
/// same across.
Tensor zero_inserted(const Tensor& x, std::array<int64_t, 2> stride, std::array<int64_t, 2> lead,
                     std::array<int64_t, 2> size) {
  return compute("convolution.inserted", {x->shape[0], x->shape[1], size[0], size[1]},
                 [&](const std::vector<Var>& i) {
                   Expr h = i[2] - lead[0], w = i[3] - lead[1];
                   Expr ih = floordiv(h, Expr(stride[0])), iw = floordiv(w, Expr(stride[1]));
                   Expr inside = h >= int64_t{0} && w >= int64_t{0} &&
                                 floormod(h, Expr(stride[0])) == int64_t{0} &&
                                 floormod(w, Expr(stride[1])) == int64_t{0} && ih < x->shape[2] &&
                                 iw < x->shape[3];
                   return select(inside, x(i[0], i[1], ih, iw), make_const(x->dtype, 0));
                 });
}

/// What a convolution's sum reads: `input` [N, C, H, W] already padded, and the weight of
/// output channel o, input channel rc of its group, at (ry, rx).
struct ConvolutionSum {
  Tensor input;
  std::function<Expr(const Expr& o, const Var& rc, const Var& ry, const Var& rx)> weight;
  int64_t out_channels, groups, kh, kw;
  std::array<int64_t, 2> stride, dilation;
};

/// The convolution as a Sum over (rc, ry, rx) in the accumulator type of `dtype`, then the bias
/// and the cast back as an epilogue compute.
Tensor convolution_sum(const ConvolutionSum& c, DType dtype, std::optional<Tensor> bias) {
  const Tensor& x = c.input;
  int64_t n = x->shape[0], cg = x->shape[1] / c.groups, og = c.out_channels / c.groups;
  int64_t oh = (x->shape[2] - c.dilation[0] * (c.kh - 1) - 1) / c.stride[0] + 1;
  int64_t ow = (x->shape[3] - c.dilation[1] * (c.kw - 1) - 1) / c.stride[1] + 1;
  DType acc = compute_type(dtype);
  IterVar rc = reduce_axis(cg, "convolution.rc"), ry = reduce_axis(c.kh, "convolution.ry"),
          rx = reduce_axis(c.kw, "convolution.rx");
  Tensor conv = compute("convolution", {n, c.out_channels, oh, ow}, [&](const std::vector<Var>& i) {
    // Affine where each group has one output channel (depthwise), so that layouts with channels
    // innermost can pack the input.
    Expr channel = c.groups == 1 ? Expr(rc.var)
                   : og == 1     ? i[1] * cg + rc.var
                                 : floordiv(i[1], Expr(og)) * cg + rc.var;
    Expr in = x(i[0], channel, i[2] * c.stride[0] + ry.var * c.dilation[0],
                i[3] * c.stride[1] + rx.var * c.dilation[1]);
    return reduce(ReduceOp::Sum, cast(acc, in) * cast(acc, c.weight(i[1], rc.var, ry.var, rx.var)),
                  {rc, ry, rx});
  });
  if (!bias) return cast_tensor("convolution.cast", conv, dtype);
  return compute("convolution.bias", conv->shape, [&](const std::vector<Var>& i) {
    return cast(dtype, conv.load(as_exprs(i)) + cast(acc, (*bias)(i[1])));
  });
}

/// A transposed convolution (weight [C, O / groups, KH, KW]) as the convolution over its input
/// with zeros inserted between the rows and columns (`stride` apart) and padded by
/// dilation * (K - 1) - padding (cut where negative), with the weight flipped and its channel
/// dimensions swapped per group; output_padding adds rows and columns at the end.
std::vector<Tensor> lower_transposed(const OpArgs& a, const Tensor& x, const Tensor& wt,
                                     DType dtype, std::optional<Tensor> bias) {
  auto stride = int_pair(a, 3), pad = int_pair(a, 4), dil = int_pair(a, 5);
  auto extra = int_pair(a, 7);
  int64_t groups = a.integer(8);
  int64_t c = x->shape[1], kh = wt->shape[2], kw = wt->shape[3];
  if (groups <= 0 || wt->shape[0] != c || c % groups != 0)
    throw a.error(
        1, str_cat("has shape ", shape_str(wt->shape), ", expected [", c,
                   ", O / groups, KH, KW] for ", c, " input channels in ", groups, " groups"));
  int64_t og = wt->shape[1], o = og * groups, cg = c / groups;
  if (og == 0 || kh == 0 || kw == 0 || cg == 0)
    throw a.error(1, str_cat("has shape ", shape_str(wt->shape), ", which is empty"));
  for (int d = 0; d < 2; ++d)
    if (extra[d] < 0 || extra[d] >= std::max(stride[d], dil[d]))
      throw a.error(7, "must be non-negative and smaller than the stride or the dilation");
  if (bias && (*bias)->shape != std::vector<int64_t>{o})
    throw a.error(2, str_cat("has shape ", shape_str((*bias)->shape), ", expected [", o, "]"));
  std::array<int64_t, 2> lead{dil[0] * (kh - 1) - pad[0], dil[1] * (kw - 1) - pad[1]}, size{};
  std::array<int64_t, 2> k{kh, kw};
  for (int d = 0; d < 2; ++d) {
    int64_t out =
        (x->shape[2 + d] - 1) * stride[d] - 2 * pad[d] + dil[d] * (k[d] - 1) + extra[d] + 1;
    if (out <= 0)
      throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", which gives no output"));
    size[d] = out + dil[d] * (k[d] - 1);
  }
  ConvolutionSum sum{zero_inserted(x, stride, lead, size),
                     [&](const Expr& out_channel, const Var& rc, const Var& ry, const Var& rx) {
                       Expr group = floordiv(out_channel, Expr(og));
                       return wt(group * cg + rc, floormod(out_channel, Expr(og)),
                                 Expr(kh - 1) - ry, Expr(kw - 1) - rx);
                     },
                     o,
                     groups,
                     kh,
                     kw,
                     {1, 1},
                     dil};
  return {convolution_sum(sum, dtype, bias)};
}

std::vector<Tensor> lower_convolution(const std::vector<OpArg>& args) {
  OpArgs a("aten.convolution.default", args,
           {"input", "weight", "bias", "stride", "padding", "dilation", "transposed",
            "output_padding", "groups"});
  Tensor x = a.tensor(0), wt = a.tensor(1);
  require_rank(a, 0, x, 4, "[N, C, H, W] or [N, C, L] (1-D and 2-D convolutions are supported)");
  require_rank(a, 1, wt, 4, a.boolean(6) ? "[C, O / groups, KH, KW]" : "[O, C / groups, KH, KW]");
  DType dtype = contraction_dtype(a, 0, x, 1, wt);
  auto stride = int_pair(a, 3), pad = int_pair(a, 4), dil = int_pair(a, 5);
  if (stride[0] <= 0 || stride[1] <= 0) throw a.error(3, "must be positive");
  if (dil[0] <= 0 || dil[1] <= 0) throw a.error(5, "must be positive");
  if (pad[0] < 0 || pad[1] < 0) throw a.error(4, "must not be negative");
  std::optional<Tensor> bias = a.optional_tensor(2);
  if (a.boolean(6)) return lower_transposed(a, x, wt, dtype, bias);
  int64_t groups = a.integer(8);
  int64_t c = x->shape[1], o = wt->shape[0], kh = wt->shape[2], kw = wt->shape[3];
  if (groups <= 0 || c % groups != 0 || o % groups != 0)
    throw a.error(8, str_cat("is ", groups, ", which does not divide ", c, " input and ", o,
                             " output channels"));
  int64_t cg = c / groups;
  if (wt->shape[1] != cg || cg == 0 || kh == 0 || kw == 0)
    throw a.error(1, str_cat("has shape ", shape_str(wt->shape), ", expected [", o, ", ", cg,
                             ", KH, KW] for ", c, " input channels in ", groups, " groups"));
  if (bias && (*bias)->shape != std::vector<int64_t>{o})
    throw a.error(2, str_cat("has shape ", shape_str((*bias)->shape), ", expected [", o, "]"));
  int64_t oh = window_output_size(x->shape[2], dil[0] * (kh - 1) + 1, stride[0], pad[0], false);
  int64_t ow = window_output_size(x->shape[3], dil[1] * (kw - 1) + 1, stride[1], pad[1], false);
  if (oh <= 0 || ow <= 0)
    throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", too small for kernel ", kh, "x",
                             kw, " with padding and dilation"));
  ConvolutionSum sum{zero_padded(x, pad),
                     [&](const Expr& out_channel, const Var& rc, const Var& ry, const Var& rx) {
                       return wt(out_channel, rc, ry, rx);
                     },
                     o,
                     groups,
                     kh,
                     kw,
                     stride,
                     dil};
  return {convolution_sum(sum, dtype, bias)};
}

/// `t` [A, B, L] as [A, B, 1, L].
Tensor with_unit_height(const Tensor& t) {
  return compute(t->name + ".2d", {t->shape[0], t->shape[1], 1, t->shape[2]},
                 [&](const std::vector<Var>& i) { return t(i[0], i[1], i[3]); });
}

/// A 1-D convolution (input [N, C, L]) as the 2-D one of height 1: the window lists get a
/// leading 1 (stride, dilation) or 0 (padding, output_padding).
std::vector<Tensor> lower_convolution_1d(const std::vector<OpArg>& args) {
  std::vector<OpArg> planar = args;
  planar[0] = with_unit_height(std::get<Tensor>(args[0]));
  planar[1] = with_unit_height(std::get<Tensor>(args[1]));
  for (auto [i, lead] : {std::pair{3, 1}, {4, 0}, {5, 1}, {7, 0}}) {
    auto* list = std::get_if<std::vector<int64_t>>(&planar[i]);
    if (list && list->size() == 1) list->insert(list->begin(), lead);
  }
  Tensor out = lower_convolution(planar)[0];
  return {compute("convolution.1d", {out->shape[0], out->shape[1], out->shape[3]},
                  [&](const std::vector<Var>& i) { return out(i[0], i[1], int64_t{0}, i[2]); })};
}

/// 2-D convolutions, and 1-D ones through them.
std::vector<Tensor> lower_any_convolution(const std::vector<OpArg>& args) {
  auto* x = args.size() > 1 ? std::get_if<Tensor>(&args[0]) : nullptr;
  auto* w = x ? std::get_if<Tensor>(&args[1]) : nullptr;
  if (x && w && (*x)->rank() == 3 && (*w)->rank() == 3) return lower_convolution_1d(args);
  return lower_convolution(args);
}

}  // namespace

void register_convolution_ops(OpRegistry& r) {
  r.add("aten.convolution.default", lower_any_convolution);
}

}  // namespace kiln

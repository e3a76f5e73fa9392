// 2-D convolution (NCHW, groups, stride, padding, dilation): zero padding as its own compute, the
// convolution as a Sum over (rc, ry, rx), and the bias and cast back as an epilogue compute.
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

std::vector<Tensor> lower_convolution(const std::vector<OpArg>& args) {
  OpArgs a("aten.convolution.default", args,
           {"input", "weight", "bias", "stride", "padding", "dilation", "transposed",
            "output_padding", "groups"});
  Tensor x = a.tensor(0), wt = a.tensor(1);
  if (a.boolean(6)) throw a.error(6, "is true: transposed convolution is not supported");
  require_rank(a, 0, x, 4, "[N, C, H, W] (only 2-D convolution is supported)");
  require_rank(a, 1, wt, 4, "[O, C / groups, KH, KW]");
  DType dtype = contraction_dtype(a, 0, x, 1, wt);
  auto stride = int_pair(a, 3), pad = int_pair(a, 4), dil = int_pair(a, 5);
  int64_t groups = a.integer(8);
  if (stride[0] <= 0 || stride[1] <= 0) throw a.error(3, "must be positive");
  if (dil[0] <= 0 || dil[1] <= 0) throw a.error(5, "must be positive");
  if (pad[0] < 0 || pad[1] < 0) throw a.error(4, "must not be negative");
  int64_t n = x->shape[0], c = x->shape[1], o = wt->shape[0], kh = wt->shape[2], kw = wt->shape[3];
  if (groups <= 0 || c % groups != 0 || o % groups != 0)
    throw a.error(8, str_cat("is ", groups, ", which does not divide ", c, " input and ", o,
                             " output channels"));
  int64_t cg = c / groups, og = o / groups;
  if (wt->shape[1] != cg || cg == 0 || kh == 0 || kw == 0)
    throw a.error(1, str_cat("has shape ", shape_str(wt->shape), ", expected [", o, ", ", cg,
                             ", KH, KW] for ", c, " input channels in ", groups, " groups"));
  std::optional<Tensor> bias = a.optional_tensor(2);
  if (bias && (*bias)->shape != std::vector<int64_t>{o})
    throw a.error(2, str_cat("has shape ", shape_str((*bias)->shape), ", expected [", o, "]"));
  int64_t oh = window_output_size(x->shape[2], dil[0] * (kh - 1) + 1, stride[0], pad[0], false);
  int64_t ow = window_output_size(x->shape[3], dil[1] * (kw - 1) + 1, stride[1], pad[1], false);
  if (oh <= 0 || ow <= 0)
    throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", too small for kernel ", kh, "x",
                             kw, " with padding and dilation"));

  DType acc = compute_type(dtype);
  Tensor padded = zero_padded(x, pad);
  IterVar rc = reduce_axis(cg, "convolution.rc"), ry = reduce_axis(kh, "convolution.ry"),
          rx = reduce_axis(kw, "convolution.rx");
  Tensor conv = compute("convolution", {n, o, oh, ow}, [&](const std::vector<Var>& i) {
    Expr channel = groups == 1 ? Expr(rc.var) : floordiv(i[1], Expr(og)) * cg + rc.var;
    Expr in = padded(i[0], channel, i[2] * stride[0] + ry.var * dil[0],
                     i[3] * stride[1] + rx.var * dil[1]);
    return reduce(ReduceOp::Sum, cast(acc, in) * cast(acc, wt(i[1], rc.var, ry.var, rx.var)),
                  {rc, ry, rx});
  });
  if (!bias) return {cast_tensor("convolution.cast", conv, dtype)};
  return {compute("convolution.bias", conv->shape, [&](const std::vector<Var>& i) {
    return cast(dtype, conv.load(as_exprs(i)) + cast(acc, (*bias)(i[1])));
  })};
}

}  // namespace

void register_convolution_ops(OpRegistry& r) {
  r.add("aten.convolution.default", lower_convolution);
}

}  // namespace kiln

// 2-D pooling over the last two dims ([N, C, H, W] or [C, H, W]): max pooling with PyTorch's
// indices, average pooling with its divisor rules, adaptive average pooling.
#include <limits>

#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"
#include "core/ops/window.h"

namespace kiln {

namespace {

/// The geometry of one pooling call along H and W.
struct Pool {
  std::array<int64_t, 2> kernel, stride, pad, dil, in, out;
  std::vector<int64_t> out_shape;  ///< Input's leading dims, then out.
};

Pool pool_geometry(const OpArgs& a, const Tensor& x, std::array<int64_t, 2> kernel,
                   std::array<int64_t, 2> stride, std::array<int64_t, 2> pad,
                   std::array<int64_t, 2> dil, bool ceil_mode) {
  if (x->rank() != 3 && x->rank() != 4)
    throw a.error(
        0, str_cat("has shape ", shape_str(x->shape), ", expected [N, C, H, W] or [C, H, W]"));
  Pool p{kernel, stride, pad, dil, {x->shape[x->rank() - 2], x->shape[x->rank() - 1]}, {}, {}};
  for (int d = 0; d < 2; ++d) {
    if (kernel[d] <= 0) throw a.error(1, "must be positive");
    if (stride[d] <= 0) throw a.error(2, "must be positive");
    if (dil[d] <= 0) throw a.error(4, "must be positive");
    if (pad[d] < 0 || pad[d] > kernel[d] / 2)
      throw a.error(3, str_cat("is ", pad[d], "; padding must be between 0 and half the kernel"));
    p.out[d] =
        window_output_size(p.in[d], dil[d] * (kernel[d] - 1) + 1, stride[d], pad[d], ceil_mode);
    if (p.out[d] <= 0)
      throw a.error(0, str_cat("has shape ", shape_str(x->shape), ", too small for the window"));
  }
  p.out_shape.assign(x->shape.begin(), x->shape.end() - 2);
  p.out_shape.push_back(p.out[0]);
  p.out_shape.push_back(p.out[1]);
  return p;
}

/// Reads `x` at leading axes and (h, w), or `fill` outside the input.
Expr guarded(const Tensor& x, const std::vector<Var>& axes, Expr h, Expr w, Expr fill) {
  int r = x->rank();
  std::vector<Expr> idx(axes.begin(), axes.end() - 2);
  idx.push_back(h);  // read only where the select takes it (expr.h)
  idx.push_back(w);
  return select(in_range(h, x->shape[r - 2]) && in_range(w, x->shape[r - 1]), x.load(idx), fill);
}

std::vector<Tensor> lower_max_pool(const std::vector<OpArg>& args) {
  OpArgs a("aten.max_pool2d_with_indices.default", args,
           {"self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"});
  Tensor x = a.tensor(0);
  require_numeric(a, 0, x->dtype);
  auto kernel = int_pair(a, 1);
  Pool p = pool_geometry(a, x, kernel, int_pair(a, 2, kernel), int_pair(a, 3), int_pair(a, 4),
                         a.boolean(5));
  IterVar ry = reduce_axis(p.kernel[0], "max_pool2d.ry"),
          rx = reduce_axis(p.kernel[1], "max_pool2d.rx");
  // Padding reads as the identity of max, so it never wins over a real element.
  auto source = [&](const std::vector<Var>& i) {
    size_t r = i.size();
    return guarded(x, i, i[r - 2] * p.stride[0] - p.pad[0] + ry.var * p.dil[0],
                   i[r - 1] * p.stride[1] - p.pad[1] + rx.var * p.dil[1],
                   reduce_identity(ReduceOp::Max, x->dtype));
  };
  Tensor values = compute("max_pool2d", p.out_shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, source(i), {ry, rx});
  });
  Tensor arg = compute("max_pool2d.argmax", p.out_shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, source(i), {ry, rx});
  });
  // PyTorch's index is the flat h * W + w position in the input plane.
  Tensor indices = compute("max_pool2d.indices", p.out_shape, [&](const std::vector<Var>& i) {
    size_t r = i.size();
    Expr k = arg.load(as_exprs(i));
    Expr h = i[r - 2] * p.stride[0] - p.pad[0] + floordiv(k, Expr(p.kernel[1])) * p.dil[0];
    Expr w = i[r - 1] * p.stride[1] - p.pad[1] + floormod(k, Expr(p.kernel[1])) * p.dil[1];
    return h * p.in[1] + w;
  });
  return {values, indices};
}

std::vector<Tensor> lower_avg_pool(const std::vector<OpArg>& args) {
  OpArgs a("aten.avg_pool2d.default", args,
           {"self", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
            "divisor_override"});
  Tensor x = a.tensor(0);
  require_numeric(a, 0, x->dtype);
  auto kernel = int_pair(a, 1);
  Pool p =
      pool_geometry(a, x, kernel, int_pair(a, 2, kernel), int_pair(a, 3), {1, 1}, a.boolean(4));
  bool include_pad = a.boolean(5);
  std::optional<int64_t> divisor = a.optional_integer(6);
  if (divisor && *divisor == 0) throw a.error(6, "must not be zero");
  DType acc = compute_type(x->dtype);
  IterVar ry = reduce_axis(p.kernel[0], "avg_pool2d.ry"),
          rx = reduce_axis(p.kernel[1], "avg_pool2d.rx");
  Tensor sum = compute("avg_pool2d.sum", p.out_shape, [&](const std::vector<Var>& i) {
    size_t r = i.size();
    Expr v = guarded(x, i, i[r - 2] * p.stride[0] - p.pad[0] + ry.var,
                     i[r - 1] * p.stride[1] - p.pad[1] + rx.var, make_const(x->dtype, 0));
    return reduce(ReduceOp::Sum, cast(acc, v), {ry, rx});
  });
  return {compute("avg_pool2d", p.out_shape, [&](const std::vector<Var>& i) {
    size_t r = i.size();
    Expr count;
    if (divisor) {
      count = Expr(*divisor);
    } else {
      // ATen's avg_pool2d: the window clipped to the padded input, then (unless the padding
      // counts) to the input itself.
      std::array<Expr, 2> extent;
      for (int d = 0; d < 2; ++d) {
        Expr start = i[r - 2 + d] * p.stride[d] - p.pad[d];
        Expr end = min(start + p.kernel[d], Expr(p.in[d] + p.pad[d]));
        extent[d] = include_pad ? end - start : min(end, Expr(p.in[d])) - max(start, Expr(0));
      }
      count = extent[0] * extent[1];
    }
    return cast(x->dtype, sum.load(as_exprs(i)) / cast(acc, count));
  })};
}

/// PyTorch's adaptive window along one dim: [floor(o * in / out), ceil((o + 1) * in / out)).
struct AdaptiveDim {
  int64_t in, out, max_window;
  Expr start(const Expr& o) const { return floordiv(o * in, Expr(out)); }
  Expr end(const Expr& o) const { return floordiv((o + 1) * in + (out - 1), Expr(out)); }
};

AdaptiveDim adaptive_dim(int64_t in, int64_t out) {
  int64_t widest = 0;
  for (int64_t o = 0; o < out; ++o)
    widest = std::max(widest, ((o + 1) * in + out - 1) / out - o * in / out);
  return {in, out, widest};
}

std::vector<Tensor> lower_adaptive_avg_pool(const std::vector<OpArg>& args) {
  OpArgs a("aten._adaptive_avg_pool2d.default", args, {"self", "output_size"});
  Tensor x = a.tensor(0);
  require_numeric(a, 0, x->dtype);
  if (x->rank() != 3 && x->rank() != 4)
    throw a.error(
        0, str_cat("has shape ", shape_str(x->shape), ", expected [N, C, H, W] or [C, H, W]"));
  auto size = int_pair(a, 1);
  int r = x->rank();
  if (size[0] <= 0 || size[1] <= 0 || x->shape[r - 2] == 0 || x->shape[r - 1] == 0)
    throw a.error(
        1, str_cat("is [", size[0], ", ", size[1], "] for input shape ", shape_str(x->shape)));
  std::array<AdaptiveDim, 2> dim = {adaptive_dim(x->shape[r - 2], size[0]),
                                    adaptive_dim(x->shape[r - 1], size[1])};
  std::vector<int64_t> shape(x->shape.begin(), x->shape.end() - 2);
  shape.push_back(size[0]);
  shape.push_back(size[1]);
  DType acc = compute_type(x->dtype);
  IterVar ry = reduce_axis(dim[0].max_window, "adaptive_avg_pool2d.ry"),
          rx = reduce_axis(dim[1].max_window, "adaptive_avg_pool2d.rx");
  // Windows of varying size: reduce over the widest and mask out what lies past a window's end.
  Tensor sum = compute("adaptive_avg_pool2d.sum", shape, [&](const std::vector<Var>& i) {
    Expr h = dim[0].start(i[r - 2]) + ry.var, w = dim[1].start(i[r - 1]) + rx.var;
    std::vector<Expr> idx(i.begin(), i.end() - 2);
    idx.push_back(h);  // read only where the select takes it (expr.h)
    idx.push_back(w);
    Expr v = cast(acc, x.load(idx));
    Expr inside = h < dim[0].end(i[r - 2]) && w < dim[1].end(i[r - 1]);
    return reduce(ReduceOp::Sum, select(inside, v, make_const(acc, 0)), {ry, rx});
  });
  return {compute("adaptive_avg_pool2d", shape, [&](const std::vector<Var>& i) {
    Expr count = (dim[0].end(i[r - 2]) - dim[0].start(i[r - 2])) *
                 (dim[1].end(i[r - 1]) - dim[1].start(i[r - 1]));
    return cast(x->dtype, sum.load(as_exprs(i)) / cast(acc, count));
  })};
}

}  // namespace

void register_pooling_ops(OpRegistry& r) {
  r.add("aten.max_pool2d_with_indices.default", lower_max_pool);
  r.add("aten.avg_pool2d.default", lower_avg_pool);
  r.add("aten._adaptive_avg_pool2d.default", lower_adaptive_avg_pool);
}

}  // namespace kiln

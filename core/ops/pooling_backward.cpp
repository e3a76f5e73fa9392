// The gradients of pooling: max and adaptive max pooling (through their indices), average pooling
// (with its divisor rules) and adaptive average pooling. Each input element gathers, over the
// windows that cover it, what ATen's backward kernels scatter into it: a reduction over the window
// offsets (or, for adaptive windows, over the outputs that can cover it), the others guarded off.
#include <algorithm>
#include <functional>

#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/pool_geometry.h"
#include "core/ops/row_major.h"
#include "core/ops/window.h"

namespace kiln {

namespace {

/// The output index (leading dims of input index `i`, then one per spatial dim) of the window
/// that covers input position i at window offsets `r`, and whether such a window exists: the
/// input position h = o * stride - pad + r * dil for an output index o in range.
struct Covering {
  std::vector<Expr> out_index;
  Expr exists;
};

Covering covering_window(const Pool& p, const std::vector<Var>& i, const std::vector<IterVar>& r) {
  size_t n = p.kernel.size(), first = i.size() - n;
  Covering c{{i.begin(), i.begin() + first}, {}};
  for (size_t d = 0; d < n; ++d) {
    Expr offset = p.dilated ? r[d].var * p.dil[d] : Expr(r[d].var);
    Expr from_start = i[first + d] + p.pad[d] - offset;
    Expr o = floordiv(from_start, Expr(p.stride[d]));
    Expr ok = from_start >= 0 && floormod(from_start, Expr(p.stride[d])) == 0 && o < p.out[d];
    c.out_index.push_back(o);
    c.exists = c.exists.defined() ? (c.exists && ok) : ok;
  }
  return c;
}

/// `grad`'s shape must be the pooling's output shape.
void require_output_shape(const OpArgs& a, int arg, const Tensor& t,
                          const std::vector<int64_t>& shape) {
  if (t->shape != shape)
    throw a.error(arg, str_cat("has shape ", shape_str(t->shape), ", expected the pooling's ",
                               shape_str(shape)));
}

/// The windows of a pooling's backward: grad_output (argument 0, checked against them), self (1),
/// then kernel_size, stride, padding, with `dilation` dilation, and ceil_mode.
Pool backward_windows(const OpArgs& a, const Tensor& x, size_t n, bool dilation) {
  std::vector<int64_t> kernel = int_tuple(a, 2, n, {});
  if (kernel.empty()) throw a.error(2, "is empty");
  std::vector<int64_t> ones(n, 1);
  Pool p = pool_geometry(
      a, x, kernel, int_tuple(a, 3, n, kernel), int_tuple(a, 4, n, std::vector<int64_t>(n, 0)),
      dilation ? int_tuple(a, 5, n, ones) : ones, a.boolean(dilation ? 6 : 5), 2);
  p.dilated = dilation;
  require_output_shape(a, 0, a.tensor(0), p.out_shape);
  return p;
}

/// What input element `i` gathers from output `o` of a pooling, in the compute type.
using GradientShare = std::function<Expr(const std::vector<Expr>& o, const std::vector<Var>& i)>;

/// The gradient of a sliding-window pooling: input element i gathers `share` from the output of
/// each window that covers it (read only where one does).
Tensor sliding_backward(const std::string& name, const Tensor& x, const Pool& p, DType acc,
                        const GradientShare& share) {
  std::vector<IterVar> r = window_axes(name, p.kernel);
  Tensor sum = compute(name, x->shape, [&](const std::vector<Var>& i) {
    Covering c = covering_window(p, i, r);
    return reduce(ReduceOp::Sum, select(c.exists, share(c.out_index, i), make_const(acc, 0)), r);
  });
  return cast_tensor(name + ".cast", sum, x->dtype);
}

/// Output o's gradient where its recorded maximum (`indices`, flat positions in the input's
/// spatial volume `in`) is input element i, else 0: what max pooling's gradient routes to i.
Expr routed_to_the_maximum(const Tensor& grad, const Tensor& indices,
                           const std::vector<int64_t>& in, const std::vector<Expr>& o,
                           const std::vector<Var>& i, DType acc) {
  std::vector<Expr> index = as_exprs(i);
  Expr position = cast(DType::I64, flat_position({index.end() - in.size(), index.end()}, in));
  return select(indices.load(o) == position, cast(acc, grad.load(o)), make_const(acc, 0));
}

std::vector<Tensor> lower_max_pool_backward(const std::string& op, size_t n,
                                            const std::vector<OpArg>& args) {
  OpArgs a(op, args,
           {"grad_output", "self", "kernel_size", "stride", "padding", "dilation", "ceil_mode",
            "indices"});
  Tensor grad = a.tensor(0), x = pooled_input(a, n, 1), indices = a.tensor(7);
  Pool p = backward_windows(a, x, n, true);
  require_output_shape(a, 7, indices, p.out_shape);
  if (indices->dtype != DType::I64) throw a.error(7, "must be an int64 tensor");
  DType acc = compute_type(x->dtype);
  return {sliding_backward(pool_name("max_pool", n) + "_backward", x, p, acc,
                           [&](const std::vector<Expr>& o, const std::vector<Var>& i) {
                             return routed_to_the_maximum(grad, indices, p.in, o, i, acc);
                           })};
}

std::vector<Tensor> lower_avg_pool_backward(const std::string& op, size_t n,
                                            const std::vector<OpArg>& args) {
  OpArgs a(op, args,
           {"grad_output", "self", "kernel_size", "stride", "padding", "ceil_mode",
            "count_include_pad", "divisor_override"});
  Tensor grad = a.tensor(0), x = pooled_input(a, n, 1);
  Pool p = backward_windows(a, x, n, false);
  std::optional<int64_t> divisor = a.optional_integer(7);
  if (divisor && *divisor == 0) throw a.error(7, "must not be zero");
  bool include_pad = a.boolean(6);
  DType acc = compute_type(x->dtype);
  size_t first = first_spatial(x, n);
  auto share = [&](const std::vector<Expr>& o, const std::vector<Var>&) {
    std::vector<Expr> starts;
    for (size_t d = 0; d < n; ++d) starts.push_back(o[first + d] * p.stride[d] - p.pad[d]);
    return cast(acc, grad.load(o)) / cast(acc, avg_pool_divisor(p, starts, include_pad, divisor));
  };
  return {sliding_backward(pool_name("avg_pool", n) + "_backward", x, p, acc, share)};
}

/// The most outputs whose adaptive windows cover one input position along `d`.
int64_t widest_cover(const AdaptiveDim& d) {
  int64_t widest = 0;
  for (int64_t i = 0; i < d.in; ++i) {
    int64_t count = 0;
    for (int64_t o = i * d.out / d.in; o < d.out && o * d.in / d.out <= i; ++o) ++count;
    widest = std::max(widest, count);
  }
  return widest;
}

/// The gradient of an adaptive pooling (grad_output at 0, self at 1): along a dim, input position
/// i is covered by the outputs from floor(i * out / in) on whose windows start at or before i,
/// and gathers `share` from each.
Tensor adaptive_backward(const OpArgs& a, size_t n, const std::string& name,
                         std::vector<AdaptiveDim>& dims, const GradientShare& share) {
  Tensor grad = a.tensor(0), x = pooled_input(a, n, 1);
  size_t first = first_spatial(x, n);
  if (grad->rank() != x->rank() ||
      !std::equal(x->shape.begin(), x->shape.begin() + first, grad->shape.begin()))
    throw a.error(
        0, str_cat("has shape ", shape_str(grad->shape), " for input shape ", shape_str(x->shape)));
  std::vector<int64_t> covers;
  for (size_t d = 0; d < n; ++d) {
    int64_t in = x->shape[first + d], out = grad->shape[first + d];
    if (in == 0 || out == 0) throw a.error(0, "has an empty spatial dim");
    dims.push_back({in, out, 0});
    covers.push_back(widest_cover(dims.back()));
  }
  DType acc = compute_type(x->dtype);
  std::vector<IterVar> r = window_axes(name, covers);
  Tensor sum = compute(name, x->shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> o(i.begin(), i.begin() + first);
    Expr covered;
    for (size_t d = 0; d < n; ++d) {
      const AdaptiveDim& dim = dims[d];
      o.push_back(floordiv(i[first + d] * dim.out, Expr(dim.in)) + r[d].var);
      Expr ok = o.back() < dim.out && dim.start(o.back()) <= i[first + d];
      covered = covered.defined() ? (covered && ok) : ok;
    }
    return reduce(ReduceOp::Sum, select(covered, share(o, i), make_const(acc, 0)), r);
  });
  return cast_tensor(name + ".cast", sum, x->dtype);
}

/// _adaptive_avg_poolNd_backward(grad_output, self): each covering output's gradient divided by
/// its window's extent, dim by dim, as ATen does.
std::vector<Tensor> lower_adaptive_avg_pool_backward(const std::string& op, size_t n,
                                                     const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"grad_output", "self"});
  Tensor grad = a.tensor(0);
  DType acc = compute_type(a.tensor(1)->dtype);
  std::vector<AdaptiveDim> dims;
  auto share = [&](const std::vector<Expr>& o, const std::vector<Var>&) {
    size_t first = o.size() - n;
    Expr value = cast(acc, grad.load(o));
    for (size_t d = 0; d < n; ++d)
      value = value / cast(acc, dims[d].end(o[first + d]) - dims[d].start(o[first + d]));
    return value;
  };
  return {adaptive_backward(a, n, pool_name("adaptive_avg_pool", n) + "_backward", dims, share)};
}

/// adaptive_max_poolNd_backward(grad_output, self, indices): each covering output whose recorded
/// maximum is this element gives its gradient.
std::vector<Tensor> lower_adaptive_max_pool_backward(const std::string& op, size_t n,
                                                     const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"grad_output", "self", "indices"});
  Tensor grad = a.tensor(0), x = a.tensor(1), indices = a.tensor(2);
  if (indices->shape != grad->shape || indices->dtype != DType::I64)
    throw a.error(
        2, str_cat("must be an int64 tensor of grad_output's shape ", shape_str(grad->shape)));
  DType acc = compute_type(x->dtype);
  std::vector<AdaptiveDim> dims;
  auto share = [&](const std::vector<Expr>& o, const std::vector<Var>& i) {
    std::vector<int64_t> in(x->shape.end() - static_cast<int64_t>(n), x->shape.end());
    return routed_to_the_maximum(grad, indices, in, o, i, acc);
  };
  return {adaptive_backward(a, n, pool_name("adaptive_max_pool", n) + "_backward", dims, share)};
}

using PoolingLowering = std::vector<Tensor> (*)(const std::string&, size_t,
                                                const std::vector<OpArg>&);

}  // namespace

void register_pooling_backward_ops(OpRegistry& r) {
  for (size_t n : {2, 3}) {
    for (auto [op, lower] :
         {std::pair<std::string, PoolingLowering>{
              str_cat("aten.max_pool", n, "d_with_indices_backward.default"),
              lower_max_pool_backward},
          {str_cat("aten.avg_pool", n, "d_backward.default"), lower_avg_pool_backward},
          {str_cat("aten._adaptive_avg_pool", n, "d_backward.default"),
           lower_adaptive_avg_pool_backward},
          {str_cat("aten.adaptive_max_pool", n, "d_backward.default"),
           lower_adaptive_max_pool_backward}}) {
      r.add(op, [op, n, lower](const std::vector<OpArg>& args) { return lower(op, n, args); });
    }
  }
}

}  // namespace kiln

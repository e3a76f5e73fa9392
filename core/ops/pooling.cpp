// Pooling over the last 1, 2 or 3 dims ([N, C, spatial...] or [C, spatial...]): max pooling with
// PyTorch's indices, average pooling with its divisor rules, and adaptive average and max pooling.
#include <limits>

#include "core/ops/axis_reduce.h"
#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/index_guard.h"
#include "core/ops/pool_geometry.h"
#include "core/ops/row_major.h"
#include "core/ops/window.h"

namespace kiln {

namespace {

/// The per-dim offsets within a window of shape `extent` of the flat reduce index `k`.
std::vector<Expr> window_offsets(const Expr& k, const std::vector<int64_t>& extent) {
  std::vector<Expr> offsets(extent.size());
  int64_t inner = 1;
  for (size_t d = extent.size(); d-- > 0;) {
    Expr q = inner == 1 ? k : floordiv(k, Expr(inner));
    offsets[d] = d == 0 ? q : floormod(q, Expr(extent[d]));
    inner *= extent[d];
  }
  return offsets;
}

/// Reads `x` at the leading axes of `i` and spatial index `at`, or `fill` outside the input.
Expr guarded(const Tensor& x, const std::vector<Var>& i, const std::vector<Expr>& at, Expr fill) {
  size_t first = first_spatial(x, at.size());
  std::vector<Expr> idx(i.begin(), i.begin() + first);
  Expr inside;
  for (size_t d = 0; d < at.size(); ++d) {
    idx.push_back(at[d]);  // read only where the select takes it (expr.h)
    Expr ok = in_range(at[d], x->shape[first + d]);
    inside = inside.defined() ? (inside && ok) : ok;
  }
  return select(inside, x.load(idx), fill);
}

std::vector<Tensor> lower_max_pool(const std::string& op, size_t n,
                                   const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "kernel_size", "stride", "padding", "dilation", "ceil_mode"});
  Tensor x = pooled_input(a, n);
  std::vector<int64_t> kernel = int_tuple(a, 1, n, {});
  if (kernel.empty()) throw a.error(1, "is empty");
  Pool p = pool_geometry(a, x, kernel, int_tuple(a, 2, n, kernel),
                         int_tuple(a, 3, n, std::vector<int64_t>(n, 0)),
                         int_tuple(a, 4, n, std::vector<int64_t>(n, 1)), a.boolean(5));
  std::string name = pool_name("max_pool", n);
  std::vector<IterVar> r = window_axes(name, p.kernel);
  // Padding reads as the identity of max, so it never wins over a real element.
  auto source = [&](const std::vector<Var>& i) {
    std::vector<Expr> at;
    for (size_t d = 0; d < n; ++d) at.push_back(p.at(i, d, r[d].var));
    return guarded(x, i, at, reduce_identity(ReduceOp::Max, x->dtype));
  };
  Tensor values = compute(name, p.out_shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, source(i), r);
  });
  Tensor arg = compute(name + ".argmax", p.out_shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, source(i), r);
  });
  // PyTorch's index is the flat position in the input's spatial volume.
  Tensor indices = compute(name + ".indices", p.out_shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> offsets = window_offsets(arg.load(as_exprs(i)), p.kernel), at;
    for (size_t d = 0; d < n; ++d) at.push_back(p.at(i, d, offsets[d]));
    return flat_position(at, p.in);
  });
  return {values, indices};
}

std::vector<Tensor> lower_avg_pool(const std::string& op, size_t n,
                                   const std::vector<OpArg>& args) {
  OpArgs a(op, args,
           {"self", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad",
            "divisor_override"});
  Tensor x = pooled_input(a, n);
  std::vector<int64_t> kernel = int_tuple(a, 1, n, {});
  if (kernel.empty()) throw a.error(1, "is empty");
  Pool p = pool_geometry(a, x, kernel, int_tuple(a, 2, n, kernel),
                         int_tuple(a, 3, n, std::vector<int64_t>(n, 0)), std::vector<int64_t>(n, 1),
                         a.boolean(4));
  p.dilated = false;
  bool include_pad = a.boolean(5);
  std::optional<int64_t> divisor = a.optional_integer(6);
  if (divisor && *divisor == 0) throw a.error(6, "must not be zero");
  DType acc = compute_type(x->dtype);
  std::string name = pool_name("avg_pool", n);
  std::vector<IterVar> r = window_axes(name, p.kernel);
  Tensor sum = compute(name + ".sum", p.out_shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at;
    for (size_t d = 0; d < n; ++d) at.push_back(p.at(i, d, r[d].var));
    return reduce(ReduceOp::Sum, cast(acc, guarded(x, i, at, make_const(x->dtype, 0))), r);
  });
  return {compute(name, p.out_shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> starts;
    for (size_t d = 0; d < n; ++d) starts.push_back(p.start(i, d));
    Expr count = avg_pool_divisor(p, starts, include_pad, divisor);
    return cast(x->dtype, sum.load(as_exprs(i)) / cast(acc, count));
  })};
}

/// The adaptive windows of an n-dimensional adaptive pooling, checked.
std::vector<AdaptiveDim> adaptive_dims(const OpArgs& a, const Tensor& x, size_t n) {
  std::vector<int64_t> size = int_tuple(a, 1, n, {});
  size_t first = first_spatial(x, n);
  std::vector<AdaptiveDim> dims;
  for (size_t d = 0; d < n && size.size() == n; ++d) {
    int64_t in = x->shape[first + d], out = size[d];
    if (out <= 0 || in == 0) break;
    int64_t widest = 0;
    for (int64_t o = 0; o < out; ++o)
      widest = std::max(widest, ((o + 1) * in + out - 1) / out - o * in / out);
    dims.push_back({in, out, widest});
  }
  if (dims.size() != n)
    throw a.error(1, str_cat("is ", shape_str(size), " for input shape ", shape_str(x->shape)));
  return dims;
}

/// Adaptive pooling's source: windows of varying size reduce over the widest, and what lies
/// past a window's end reads as `fill`. Gives the reduce axes and the source at output index i.
struct AdaptiveWindows {
  std::vector<AdaptiveDim> dims;
  std::vector<IterVar> axes;
  std::vector<int64_t> shape;  ///< The output's: the input's leading dims, then the windows'.

  Expr source(const Tensor& x, const std::vector<Var>& i, const Expr& value_fill) const {
    size_t n = dims.size(), first = i.size() - n;
    std::vector<Expr> idx(i.begin(), i.begin() + first);
    Expr inside;
    for (size_t d = 0; d < n; ++d) {
      idx.push_back(dims[d].start(i[first + d]) + axes[d].var);  // read only where selected
      Expr ok = idx.back() < dims[d].end(i[first + d]);
      inside = inside.defined() ? (inside && ok) : ok;
    }
    return select(inside, cast(value_fill.dtype(), x.load(idx)), value_fill);
  }
};

AdaptiveWindows adaptive_windows(const OpArgs& a, const Tensor& x, size_t n,
                                 const std::string& name) {
  AdaptiveWindows w{adaptive_dims(a, x, n), {}, {x->shape.begin(), x->shape.end() - n}};
  std::vector<int64_t> widest;
  for (const AdaptiveDim& d : w.dims) {
    widest.push_back(d.max_window);
    w.shape.push_back(d.out);
  }
  w.axes = window_axes(name, widest);
  return w;
}

std::vector<Tensor> lower_adaptive_avg_pool(const std::string& op, size_t n,
                                            const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "output_size"});
  Tensor x = pooled_input(a, n);
  std::string name = pool_name("adaptive_avg_pool", n);
  AdaptiveWindows w = adaptive_windows(a, x, n, name);
  const std::vector<int64_t>& shape = w.shape;
  DType acc = compute_type(x->dtype);
  Tensor sum = compute(name + ".sum", shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, w.source(x, i, make_const(acc, 0)), w.axes);
  });
  return {compute(name, shape, [&](const std::vector<Var>& i) {
    size_t first = i.size() - n;
    Expr count;
    for (size_t d = 0; d < n; ++d) {
      Expr extent = w.dims[d].end(i[first + d]) - w.dims[d].start(i[first + d]);
      count = count.defined() ? count * extent : extent;
    }
    return cast(x->dtype, sum.load(as_exprs(i)) / cast(acc, count));
  })};
}

std::vector<Tensor> lower_adaptive_max_pool(const std::string& op, size_t n,
                                            const std::vector<OpArg>& args) {
  OpArgs a(op, args, {"self", "output_size"});
  Tensor x = pooled_input(a, n);
  std::string name = pool_name("adaptive_max_pool", n);
  AdaptiveWindows w = adaptive_windows(a, x, n, name);
  const std::vector<int64_t>& shape = w.shape;
  Expr fill = reduce_identity(ReduceOp::Max, x->dtype);
  Tensor values = compute(name, shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, w.source(x, i, fill), w.axes);
  });
  Tensor arg = compute(name + ".argmax", shape, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, w.source(x, i, fill), w.axes);
  });
  std::vector<int64_t> widest, in;
  for (const AdaptiveDim& d : w.dims) {
    widest.push_back(d.max_window);
    in.push_back(d.in);
  }
  Tensor indices = compute(name + ".indices", shape, [&](const std::vector<Var>& i) {
    size_t first = i.size() - n;
    std::vector<Expr> offsets = window_offsets(arg.load(as_exprs(i)), widest), at;
    for (size_t d = 0; d < n; ++d) at.push_back(w.dims[d].start(i[first + d]) + offsets[d]);
    return flat_position(at, in);
  });
  return {values, indices};
}

/// Registers `lower(op, n, args)` as `op`.
void add_pooling(OpRegistry& r, const std::string& op, size_t n,
                 std::vector<Tensor> (*lower)(const std::string&, size_t,
                                              const std::vector<OpArg>&)) {
  r.add(op, [op, n, lower](const std::vector<OpArg>& args) { return lower(op, n, args); });
}

}  // namespace

void register_pooling_ops(OpRegistry& r) {
  for (size_t n : {2, 3}) {
    add_pooling(r, str_cat("aten.max_pool", n, "d_with_indices.default"), n, lower_max_pool);
    add_pooling(r, str_cat("aten.avg_pool", n, "d.default"), n, lower_avg_pool);
    add_pooling(r, str_cat("aten._adaptive_avg_pool", n, "d.default"), n, lower_adaptive_avg_pool);
    add_pooling(r, str_cat("aten.adaptive_max_pool", n, "d.default"), n, lower_adaptive_max_pool);
  }
}

}  // namespace kiln

// What pooling's forward ops (pooling.cpp) and their gradients (pooling_backward.cpp) share: the
// input's layout, the sliding windows and their reduce axes, the flat positions PyTorch's
// indices count, average pooling's divisor and adaptive pooling's windows.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// The name of an `n`-dimensional pooling, "max_pool2d" for ("max_pool", 2).
std::string pool_name(const char* kind, size_t n);

/// Argument `arg`, the input of an `n`-dimensional pooling: [N, C, spatial...] or [C, spatial...].
Tensor pooled_input(const OpArgs& a, size_t n, int arg = 0);

/// The input's first spatial dim.
size_t first_spatial(const Tensor& x, size_t n);

/// One reduce axis per spatial dim, over `extent`: "<name>.rz", ".ry", ".rx" (the last n).
std::vector<IterVar> window_axes(const std::string& name, const std::vector<int64_t>& extent);

/// The geometry of one sliding-window pooling along its n spatial dims.
struct Pool {
  std::vector<int64_t> kernel, stride, pad, dil, in, out;
  std::vector<int64_t> out_shape;  ///< Input's leading dims, then out.
  bool dilated = true;             ///< Whether window offsets scale by `dil` (avg_pool has none).

  /// The input position along spatial dim d where output index i's window starts.
  Expr start(const std::vector<Var>& i, size_t d) const {
    return i[i.size() - kernel.size() + d] * stride[d] - pad[d];
  }
  /// The input position along spatial dim d of output index i, at window offset r.
  Expr at(const std::vector<Var>& i, size_t d, const Expr& r) const {
    return start(i, d) + (dilated ? r * dil[d] : r);
  }
};

/// The windows of input `x`, checked. The arguments kernel_size, stride, padding and dilation are
/// at `kernel_arg` and the three after it, the input just before (an error names the argument).
Pool pool_geometry(const OpArgs& a, const Tensor& x, std::vector<int64_t> kernel,
                   std::vector<int64_t> stride, std::vector<int64_t> pad, std::vector<int64_t> dil,
                   bool ceil_mode, int kernel_arg = 1);

/// ATen's avg_pool divisor of the window that starts at `starts` (one per spatial dim):
/// `divisor` when given, else the window clipped to the padded input, then (unless the padding
/// counts) to the input itself.
Expr avg_pool_divisor(const Pool& p, const std::vector<Expr>& starts, bool include_pad,
                      std::optional<int64_t> divisor);

/// PyTorch's adaptive window along one dim: [floor(o * in / out), ceil((o + 1) * in / out)).
struct AdaptiveDim {
  int64_t in, out, max_window;
  Expr start(const Expr& o) const { return floordiv(o * in, Expr(out)); }
  Expr end(const Expr& o) const { return floordiv((o + 1) * in + (out - 1), Expr(out)); }
};

}  // namespace kiln

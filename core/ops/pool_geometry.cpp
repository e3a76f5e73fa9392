#include "core/ops/pool_geometry.h"

#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/window.h"

namespace kiln {

std::string pool_name(const char* kind, size_t n) {
  return str_cat(kind, n, "d");
}

Tensor pooled_input(const OpArgs& a, size_t n, int arg) {
  Tensor x = a.tensor(arg);
  require_numeric(a, arg, x->dtype);
  int64_t spatial = static_cast<int64_t>(n);
  if (x->rank() != spatial + 1 && x->rank() != spatial + 2)
    throw a.error(arg, str_cat("has shape ", shape_str(x->shape), ", expected ", spatial + 2,
                               " dims [N, C, ...] or ", spatial + 1, " dims [C, ...]"));
  return x;
}

size_t first_spatial(const Tensor& x, size_t n) {
  return static_cast<size_t>(x->rank()) - n;
}

std::vector<IterVar> window_axes(const std::string& name, const std::vector<int64_t>& extent) {
  static const char* letters[] = {"z", "y", "x"};
  std::vector<IterVar> axes;
  for (size_t d = 0; d < extent.size(); ++d)
    axes.push_back(reduce_axis(extent[d], str_cat(name, ".r", letters[3 - extent.size() + d])));
  return axes;
}

Pool pool_geometry(const OpArgs& a, const Tensor& x, std::vector<int64_t> kernel,
                   std::vector<int64_t> stride, std::vector<int64_t> pad, std::vector<int64_t> dil,
                   bool ceil_mode, int kernel_arg) {
  size_t n = kernel.size(), first = first_spatial(x, n);
  Pool p{kernel, stride, pad, dil, {x->shape.begin() + first, x->shape.end()}, {}, {}};
  p.out_shape.assign(x->shape.begin(), x->shape.begin() + first);
  for (size_t d = 0; d < n; ++d) {
    if (kernel[d] <= 0) throw a.error(kernel_arg, "must be positive");
    if (stride[d] <= 0) throw a.error(kernel_arg + 1, "must be positive");
    if (dil[d] <= 0) throw a.error(kernel_arg + 3, "must be positive");
    if (pad[d] < 0 || pad[d] > kernel[d] / 2)
      throw a.error(kernel_arg + 2,
                    str_cat("is ", pad[d], "; padding must be between 0 and half the kernel"));
    p.out.push_back(
        window_output_size(p.in[d], dil[d] * (kernel[d] - 1) + 1, stride[d], pad[d], ceil_mode));
    if (p.out[d] <= 0)
      throw a.error(kernel_arg - 1,
                    str_cat("has shape ", shape_str(x->shape), ", too small for the window"));
    p.out_shape.push_back(p.out[d]);
  }
  return p;
}

Expr avg_pool_divisor(const Pool& p, const std::vector<Expr>& starts, bool include_pad,
                      std::optional<int64_t> divisor) {
  if (divisor) return Expr(*divisor);
  Expr count;
  for (size_t d = 0; d < starts.size(); ++d) {
    const Expr& start = starts[d];
    Expr end = min(start + p.kernel[d], Expr(p.in[d] + p.pad[d]));
    Expr extent = include_pad ? end - start : min(end, Expr(p.in[d])) - max(start, Expr(0));
    count = count.defined() ? count * extent : extent;
  }
  return count;
}

}  // namespace kiln

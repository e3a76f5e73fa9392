// Views ATen makes by striding one tensor's memory in a new way, as index maps: diagonal (two
// dims walked together) and unfold (sliding windows along one dim).
#include <algorithm>

#include "core/ops/broadcast.h"
#include "core/ops/elementwise.h"
#include "core/ops/view_geometry.h"

namespace kiln {

namespace {

/// diagonal(self, offset, dim1, dim2): see DiagonalView.
std::vector<Tensor> lower_diagonal(const std::vector<OpArg>& args) {
  OpArgs a("aten.diagonal.default", args, {"self", "offset", "dim1", "dim2"});
  Tensor x = a.tensor(0);
  DiagonalView v = diagonal_view(a, x, 1);
  return {compute("diagonal", v.shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> from(x->rank());
    for (size_t k = 0; k < v.kept.size(); ++k) from[v.kept[k]] = i[k];
    from[v.dim1] = i.back() + v.row0;
    from[v.dim2] = i.back() + v.col0;
    return x.load(from);
  })};
}

/// unfold(self, dimension, size, step): dimension holds the window starts, every `step`, and a
/// last dim of `size` the elements of each window.
std::vector<Tensor> lower_unfold(const std::vector<OpArg>& args) {
  OpArgs a("aten.unfold.default", args, {"self", "dimension", "size", "step"});
  Tensor x = a.tensor(0);
  int64_t d = normalize_dim(a, 1, a.integer(1), x->rank());
  int64_t size = a.integer(2), step = a.integer(3);
  int64_t extent = x->rank() == 0 ? 1 : x->shape[d];
  if (step <= 0) throw a.error(3, str_cat("is ", step, "; it must be positive"));
  if (size < 0 || size > extent)
    throw a.error(
        2, str_cat("is ", size, "; it must be in [0, ", extent, "], the size of dimension ", d));
  std::vector<int64_t> shape = x->shape;
  if (x->rank() > 0) shape[d] = (extent - size) / step + 1;
  shape.push_back(size);
  return {compute("unfold", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> from(i.begin(), i.end() - 1);
    if (x->rank() > 0) from[d] = from[d] * step + i.back();
    return x.load(from);
  })};
}

}  // namespace

void register_strided_view_ops(OpRegistry& r) {
  r.add("aten.diagonal.default", lower_diagonal);
  r.add("aten.unfold.default", lower_unfold);
}

}  // namespace kiln

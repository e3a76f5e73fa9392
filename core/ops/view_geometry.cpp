#include "core/ops/view_geometry.h"

#include <algorithm>

namespace kiln {

SliceView slice_view(const OpArgs& a, const Tensor& x, int dim_arg) {
  if (x->rank() == 0) throw a.error(0, "is a rank-0 tensor, which cannot be sliced");
  SliceView v;
  v.dim = normalize_dim(a, dim_arg, a.integer(dim_arg), x->rank());
  int64_t size = x->shape[v.dim];
  v.step = a.integer(dim_arg + 3);
  if (v.step <= 0)
    throw a.error(dim_arg + 3, str_cat("is ", v.step, "; slice needs a positive step"));
  auto bound = [&](int i, int64_t dflt) {
    int64_t b = a.optional_integer(i).value_or(dflt);
    if (b < 0) b += size;
    return std::clamp<int64_t>(b, 0, size);
  };
  v.start = bound(dim_arg + 1, 0);
  v.end = std::max(bound(dim_arg + 2, size), v.start);
  v.shape = x->shape;
  v.shape[v.dim] = (v.end - v.start + v.step - 1) / v.step;
  return v;
}

SelectView select_view(const OpArgs& a, const Tensor& x, int dim_arg) {
  if (x->rank() == 0) throw a.error(0, "is a rank-0 tensor, which has no dim to select from");
  SelectView v;
  v.dim = normalize_dim(a, dim_arg, a.integer(dim_arg), x->rank());
  int64_t size = x->shape[v.dim];
  v.index = a.integer(dim_arg + 1);
  if (v.index < -size || v.index >= size)
    throw a.error(dim_arg + 1, str_cat("is ", v.index, ", out of range for dimension ", v.dim,
                                       " of size ", size));
  if (v.index < 0) v.index += size;
  v.shape = x->shape;
  v.shape.erase(v.shape.begin() + v.dim);
  return v;
}

DiagonalView diagonal_view(const OpArgs& a, const Tensor& x, int offset_arg) {
  if (x->rank() < 2) throw a.error(0, str_cat("has rank ", x->rank(), "; diagonal needs 2"));
  DiagonalView v;
  int64_t offset = a.integer(offset_arg);
  v.dim1 = normalize_dim(a, offset_arg + 1, a.integer(offset_arg + 1), x->rank());
  v.dim2 = normalize_dim(a, offset_arg + 2, a.integer(offset_arg + 2), x->rank());
  if (v.dim1 == v.dim2)
    throw a.error(offset_arg + 2, str_cat("is dimension ", v.dim1, ", the same as dim1"));
  v.row0 = std::max<int64_t>(0, -offset);
  v.col0 = std::max<int64_t>(0, offset);
  v.length = std::max<int64_t>(0, std::min(x->shape[v.dim1] - v.row0, x->shape[v.dim2] - v.col0));
  for (int64_t d = 0; d < x->rank(); ++d)
    if (d != v.dim1 && d != v.dim2) {
      v.kept.push_back(d);
      v.shape.push_back(x->shape[d]);
    }
  v.shape.push_back(v.length);
  return v;
}

}  // namespace kiln

// Which elements a view op reads, shared by the view (slice, select, diagonal) and its inverse
// (slice_scatter, select_scatter, diagonal_scatter), whose checks and shapes must agree.
#pragma once

#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// slice(x, dim, start, end, step) with Python's semantics: negative bounds count from the end,
/// then both clamp to [0, size]; step is positive.
struct SliceView {
  int64_t dim, start, end, step;
  std::vector<int64_t> shape;  ///< The view's.
};
/// From arguments dim_arg (dim), dim_arg + 1 (start), + 2 (end), + 3 (step) of `a`.
SliceView slice_view(const OpArgs& a, const Tensor& x, int dim_arg);

/// select(x, dim, index): `index` wrapped into [0, size); the view drops `dim`.
struct SelectView {
  int64_t dim, index;
  std::vector<int64_t> shape;  ///< The view's.
};
/// From arguments dim_arg (dim) and dim_arg + 1 (index) of `a`.
SelectView select_view(const OpArgs& a, const Tensor& x, int dim_arg);

/// diagonal(x, offset, dim1, dim2): dim1 and dim2 go, and a last dim walks the diagonal `offset`
/// above (below, when negative) the main one, from (row0, col0) for `length` elements.
struct DiagonalView {
  int64_t dim1, dim2, row0, col0, length;
  std::vector<int64_t> kept;   ///< The dims of x the view keeps, in order.
  std::vector<int64_t> shape;  ///< The view's: the kept dims, then the diagonal.
};
/// From arguments offset_arg (offset), + 1 (dim1) and + 2 (dim2) of `a`.
DiagonalView diagonal_view(const OpArgs& a, const Tensor& x, int offset_arg);

}  // namespace kiln

#include "core/ops/row_major.h"

#include "core/ir/tensor.h"

namespace kiln {

Expr flat_position(const std::vector<Expr>& at, const std::vector<int64_t>& shape) {
  if (at.empty()) return Expr(int64_t{0});
  Expr flat = at[0];
  for (size_t d = 1; d < at.size(); ++d) flat = flat * shape[d] + at[d];
  return flat;
}

std::vector<Expr> index_at(const Expr& flat, const std::vector<int64_t>& shape) {
  auto strides = contiguous_strides(shape);
  std::vector<Expr> index;
  for (size_t d = 0; d < shape.size(); ++d) {
    Expr i = strides[d] == 1 ? flat : floordiv(flat, Expr(strides[d]));
    index.push_back(d == 0 ? i : floormod(i, Expr(shape[d])));
  }
  return index;
}

}  // namespace kiln

// Advanced indexing's geometry, x[..., i0, i1, ...], shared by index.Tensor, which reads at it,
// and index_put, which writes at it. A None entry keeps a dimension whole; the index tensors
// broadcast together to a shape B, which takes the place of the dimensions they index when those
// are adjacent, and goes first when a None separates them (NumPy's rule). A negative index counts
// from the end. Boolean masks have a data-dependent shape and are refused. Private to core/ops.
#pragma once

#include <vector>

#include "core/ops/op_args.h"
#include "core/ops/op_registry.h"

namespace kiln {

class AdvancedIndex {
 public:
  /// The geometry of `x` indexed by the optional tensors of argument `arg` of `a`; throws
  /// OpError naming that argument when they cannot index x.
  AdvancedIndex(const OpArgs& a, const Tensor& x, int arg);

  /// The shape of x[indices].
  const std::vector<int64_t>& shape() const { return shape_; }
  /// The index into x of the point `i` of x[indices]: kept dimensions from i, indexed ones read
  /// from the index tensors, counted from the end when negative, and clamped into x.
  std::vector<Expr> source(const std::vector<Var>& i) const;
  /// Each index tensor in [-size, size) of the dimension it indexes (argument `arg`).
  std::vector<ValueCheck> checks(int arg) const;

 private:
  Tensor x_;
  std::vector<Tensor> indices_;
  std::vector<int64_t> indexed_, kept_, shape_;
  int64_t at_ = 0, rank_b_ = 0;
};

}  // namespace kiln

// NumPy/PyTorch broadcasting: the result shape of several operands, and reading an operand at
// an index of that result shape.
#pragma once

#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// The broadcast shape of `shapes` (aligned at the trailing dimension); throws OpError from `a`
/// when two sizes differ and neither is 1.
std::vector<int64_t> broadcast_shapes(const OpArgs& a,
                                      const std::vector<std::vector<int64_t>>& shapes);

/// Reads `t` at `axes`, an index into a broadcast shape of rank >= t's rank: t's dimensions align
/// with the trailing axes, and a size-1 dimension is read at 0.
Expr load_broadcast(const Tensor& t, const std::vector<Var>& axes);

/// The axes as plain index expressions (what Tensor::load takes).
std::vector<Expr> as_exprs(const std::vector<Var>& axes);

}  // namespace kiln

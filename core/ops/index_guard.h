// Keeping computed indices inside a tensor. A load under a select needs no clamp: only the
// branch a select takes is evaluated (expr.h). Indices read from data (gather, embedding) have
// no such guard, so they are clamped into the tensor.
#pragma once

#include "core/ir/expr.h"

namespace kiln {

/// `i` clamped into [0, size - 1]; `size` must be positive.
inline Expr clamp_index(const Expr& i, int64_t size) {
  return max(min(i, make_const(i.dtype(), size - 1)), make_const(i.dtype(), 0));
}

/// 0 <= i < size, as a bool expression.
inline Expr in_range(const Expr& i, int64_t size) {
  return i >= 0 && i < size;
}

}  // namespace kiln

// Keeping computed indices inside a tensor. Generated code may evaluate both sides of a select
// (vector blends), so a load under a bounds guard must still read in bounds: the guarded load
// reads at a clamped index and the guard picks the fill value.
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

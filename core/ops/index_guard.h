// Keeping computed indices inside a tensor. A load under a select needs no clamp: only the
// branch a select takes is evaluated (expr.h). Indices read from data (gather, embedding) have
// no such guard, so they are clamped into the tensor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ir/expr.h"
#include "core/ops/op_registry.h"

namespace kiln {

/// `i` clamped into [0, size - 1]; `size` must be positive.
inline Expr clamp_index(const Expr& i, int64_t size) {
  return max(min(i, make_const(i.dtype(), size - 1)), make_const(i.dtype(), 0));
}

/// 0 <= i < size, as a bool expression.
inline Expr in_range(const Expr& i, int64_t size) {
  return i >= 0 && i < size;
}

/// The value check of op `op`'s index argument `index_arg` (arguments named `names`), indexing
/// dimension `dim_arg` (-1: dimension 0) of argument 0 (`weight` for embedding, else `self`),
/// checked by `on_dim0` when that dimension is 0 and by `on_other` else (Index or Bounds: eager
/// raises IndexError or RuntimeError, and index_select does either, by dimension).
OpChecks index_check(const std::string& op, std::vector<std::string_view> names,
                     ValueCheck::Rule on_dim0, ValueCheck::Rule on_other, int index_arg,
                     int dim_arg);

}  // namespace kiln

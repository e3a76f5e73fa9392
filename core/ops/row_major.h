// Row-major positions: an index of a shape as one flat position, and back. Reshapes, rolls,
// pooling indices, put and masked_scatter count elements this way. Private to core/ops.
#pragma once

#include <vector>

#include "core/ir/expr.h"

namespace kiln {

/// The row-major flat position of index `at` in `shape` (h * W + w in 2-D); 0 for rank 0.
Expr flat_position(const std::vector<Expr>& at, const std::vector<int64_t>& shape);

/// The index in `shape` of row-major flat position `flat`, which must lie inside it.
std::vector<Expr> index_at(const Expr& flat, const std::vector<int64_t>& shape);

}  // namespace kiln

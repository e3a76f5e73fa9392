// Range analysis of index expressions, for compute_at's bound inference and for dropping guards
// that provably hold. Exact for affine expressions with constant coefficients; conservative
// (or unknown) beyond that.
#pragma once

#include <optional>
#include <unordered_map>

#include "core/ir/expr.h"

namespace kiln {

/// Extents of the variables that range over [0, extent).
using VarExtents = std::unordered_map<const VarNode*, int64_t>;

/// A set of integers [min, min + extent), where `min` may depend on variables that are fixed.
struct IndexRange {
  Expr min;
  int64_t extent;
};

/// The values `e` takes while the variables in `varying` range over their extents (all other
/// variables fixed): `min` is an expression in the fixed variables. Unknown when `e` depends on
/// a varying variable in a way the analysis cannot bound (a load, a non-constant product, ...).
std::optional<IndexRange> range_over(const Expr& e, const VarExtents& varying);

/// Constant [lo, hi] bounds of `e` when every variable in it is in `extents`.
std::optional<std::pair<int64_t, int64_t>> const_bounds(const Expr& e, const VarExtents& extents);

}  // namespace kiln

// Arithmetic simplification of index expressions: constant folding and the identities that the
// lowering of splits and fuses produces (x*1, x+0, (a*c + b) / c with 0 <= b < c, ...).
#pragma once

#include <optional>

#include "core/ir/bound.h"
#include "core/ir/stmt.h"

namespace kiln {

/// Folds constants and removes neutral operations. Never changes the value of an expression.
Expr simplify(const Expr& e);

/// As simplify(e), and where `extents` bound the variables (each in [0, extent)), also
/// floordiv and floormod of affine sums whose remainder provably stays below the divisor:
/// floordiv(128 * i + j, 128) is i and floormod(128 * i + j, 128) is j for j < 128.
Expr simplify(const Expr& e, const VarExtents& extents);

/// Simplifies every expression in a statement, using the extents of the loops around each (as
/// the overload with extents above); drops constant `if`s and replaces loops of one iteration
/// by their body.
Stmt simplify(const Stmt& s);

/// Element offset of `indices` in `tensor`: sum(index[d] * stride[d]), simplified. Both backends
/// address memory through it, so a fused loop's floordiv/floormod pair folds back into one
/// contiguous index here.
Expr flat_index(const Tensor& tensor, const std::vector<Expr>& indices);

/// How far the index `e` moves per step of `v`. Exact when `e` is affine in `v` with a constant
/// coefficient; through floordiv/floormod by a positive constant (what fused and split loops
/// lower to) it is the step between wrap-arounds, and `exact` is false. nullopt where `e`
/// depends on `v` in any other way. With flat_index: the stride of an access along a loop.
struct Stride {
  double step;
  bool exact;
};
std::optional<Stride> local_stride(const Expr& e, const VarNode* v);

/// The coefficient of `v` in `e` when `e` is affine in `v` with a constant coefficient (0 when
/// `e` does not use `v`): local_stride's exact case; nullopt otherwise.
std::optional<int64_t> affine_coefficient(const Expr& e, const VarNode* v);

/// Deep equality with variables and tensors compared by identity (unlike structural_equal,
/// which equates renamed variables).
bool identical(const Expr& a, const Expr& b);

/// a / b rounded toward negative infinity (Python's //), the meaning of BinaryOp::FloorDiv.
int64_t floor_div(int64_t a, int64_t b);

/// The constant value of an integer expression, if it is one.
std::optional<int64_t> as_const_int(const Expr& e);

}  // namespace kiln

// Arithmetic simplification of index expressions: constant folding and the identities that the
// lowering of splits and fuses produces (x*1, x+0, (a*c + b) / c with 0 <= b < c, ...).
#pragma once

#include <optional>

#include "core/ir/stmt.h"

namespace kiln {

/// Folds constants and removes neutral operations. Never changes the value of an expression.
Expr simplify(const Expr& e);

/// Simplifies every expression in a statement; drops constant `if`s and replaces loops of one
/// iteration by their body.
Stmt simplify(const Stmt& s);

/// The constant value of an integer expression, if it is one.
std::optional<int64_t> as_const_int(const Expr& e);

}  // namespace kiln

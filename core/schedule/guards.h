// The guards lowering puts where a split leaves a partial tile: conditions on statements and on
// the loads that would read past a tensor's extent.
#pragma once

#include <vector>

#include "core/ir/expr.h"
#include "core/ir/stmt.h"

namespace kiln {

/// conds[0] && conds[1] && ...; undefined when `conds` is empty.
Expr conjunction(const std::vector<Expr>& conds);

/// `s` run only where every condition holds (`s` itself when there is none).
Stmt guarded(const std::vector<Expr>& conds, Stmt s);

/// `e` with each load whose indices use `var` replaced by select(cond, load, 0): read only
/// where `cond` holds.
Expr loads_guarded_by(const Expr& e, const Expr& cond, const VarNode* var);

}  // namespace kiln

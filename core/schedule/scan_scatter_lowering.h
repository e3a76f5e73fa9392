// How lowering builds the nests of the tensors that read their own storage (core/ir/tensor.h):
// a scan's reads of its own earlier elements become loads of its storage, and its scan loop's
// first iteration is peeled; a scatter's updates get nests of their own after its init.
// Private to core/schedule.
#pragma once

#include "core/ir/stmt.h"

namespace kiln {

/// `body` of scan or scatter `t` with its loads of its state turned into loads of `t` itself,
/// which are then read where the stage stores them (its region buffer, by
/// localize_region_buffers, when it is computed at another stage's loop).
Expr read_own_storage(const Expr& body, const Tensor& t);

/// A scan's nest with the first iteration of its scan loop (over `var`) peeled off: the body
/// chooses by `var == 0` between the scan's first value and its step, and each copy keeps just
/// its own, so that the serial loop carries the running value without a select per element.
Stmt peel_first_iteration(const Stmt& nest, const VarNode* var);

/// The nests of scatter `t`'s updates, in order, each over its domain in t's own storage, which
/// they read for their old elements. An update axis that some target index is (the dimension
/// scatter_add does not index) is owned: points that differ there write different elements, so
/// owned axes run outermost, which keeps the order of the points that write one element, and
/// the outermost of them runs in parallel when `parallel`. An owned innermost axis is split in
/// chunks whose lanes run innermost as one vector loop, so that a row of the source is read in
/// order.
Stmt lower_scatter_updates(const Tensor& t, bool parallel);

}  // namespace kiln

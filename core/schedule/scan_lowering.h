// How lowering builds a scan's loop nest (scan() in core/ir/tensor.h): its reads of its own
// earlier elements become loads of its storage, and its scan loop's first iteration is peeled.
// A scatter's updates read their old elements the same way.
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

}  // namespace kiln

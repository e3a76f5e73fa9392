// Buffers a kernel fills from its inputs alone (a weight copied into panels, a padded copy of an
// input), made kernel arguments that a caller can keep filled: LoweredFunc::prepared. Private to
// backends/llvm, which compiles every kernel through it.
#pragma once

#include <cstdint>

#include "core/ir/stmt.h"

namespace kiln::llvm_backend {

/// `f` with each heap buffer allocated around its whole body (the copies cache_read makes, the
/// padded inputs of a convolution) whose every store is in a statement of the body's top level
/// that reads only inputs (and buffers that statement allocates) moved out of the kernel: the
/// buffer becomes a prepared buffer (LoweredFunc::prepared), allocated `slack_elements` past its
/// end, and those statements run where its fill flag is set, where they ran before. A kernel
/// called with every flag set computes what `f` computes; a caller that keeps a buffer from a
/// call whose inputs hold the same values may clear its flag and skip the copy. `f` unchanged
/// where nothing qualifies, or where it has prepared buffers already.
LoweredFunc hoist_prepared_buffers(LoweredFunc f, int64_t slack_elements);

}  // namespace kiln::llvm_backend

// Lowering as a straight list of named passes, each a function from loop IR to loop IR, run in
// order after the loop nests are built (lower.cpp). With KILN_LOG=debug the function is printed
// after every pass, so each step's effect can be read on its own.
#pragma once

#include <string>
#include <vector>

#include "core/ir/stmt.h"

namespace kiln {

struct LoweringPass {
  std::string name;
  LoweredFunc (*run)(LoweredFunc f);
};

/// Makes the loads of each region buffer's tensor (LoweredFunc::regions) inside the buffer's
/// allocation read the buffer, relative to the region's start; empties `regions`.
LoweredFunc localize_region_buffers(LoweredFunc f);

/// Wraps the body in a global allocation of every tensor it stores to that is neither a
/// parameter nor allocated inside it (the intermediate results of root stages), the first
/// stored outermost.
LoweredFunc allocate_intermediates(LoweredFunc f);

/// Makes every load of a parameter read index 0 along the dimensions whose stride is 0 (an
/// expanded tensor from PyTorch): the same element, now visibly the same for every value of
/// the loops that index there, so that a value read through it (a scatter's target row) is
/// loop-invariant and its accesses vectorize.
LoweredFunc read_broadcast_dims_at_zero(LoweredFunc f);

/// Folds constants and index arithmetic throughout the body (simplify.h).
LoweredFunc simplify_body(LoweredFunc f);

/// Makes parallel loops over too little work serial (parallel_grain.h).
LoweredFunc serialize_small_parallel(LoweredFunc f);

/// The passes after the loop nests, in the order they run.
const std::vector<LoweringPass>& lowering_passes();

/// Runs `passes` over `f` in order; at debug level logs `f` as `built_by` left it and after
/// each pass.
LoweredFunc run_lowering_passes(LoweredFunc f, const std::vector<LoweringPass>& passes,
                                const std::string& built_by);

}  // namespace kiln

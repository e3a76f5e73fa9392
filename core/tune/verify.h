// The last check before a tuned kernel serves a model: it must compute what the kernel it
// replaces computes, on inputs the search never saw.
#pragma once

#include <cstdint>

#include "core/runtime/kernel.h"

namespace kiln {

/// Runs `candidate` and `reference` (same parameters) in this process on inputs made from `seed`
/// (floats uniform in [-1, 1); integers and bools zero, a valid index for any gather) and
/// returns the largest max_relative_error over the outputs, with the tolerances of each
/// output's dtype: <= 1 means they agree. Throws Error when the parameters differ.
double disagreement_on_fresh_inputs(const Kernel& candidate, const Kernel& reference,
                                    uint64_t seed);

}  // namespace kiln

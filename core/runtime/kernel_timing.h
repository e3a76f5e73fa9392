// How long a compiled kernel takes: the one timing loop behind the tuner's measurements and the
// plugin's side-by-side choices (Kiln or ATen, tuned or current kernel).
#pragma once

#include <vector>

#include "core/runtime/kernel.h"

namespace kiln {

/// Seconds per call of `kernel` on `args`: calls it until `min_seconds` have passed (at least
/// once) and divides the time by the calls.
double seconds_per_call(const Kernel& kernel, void* const* args, double min_seconds);

/// Per kernel, the fastest of `rounds` single calls, the kernels taking turns within each round
/// so that a change of the machine's state (a frequency step, another process) reaches all of
/// them alike. Every kernel is called on `args`.
std::vector<double> fastest_side_by_side(const std::vector<const Kernel*>& kernels,
                                         void* const* args, int rounds);

}  // namespace kiln

// How long a compiled kernel takes: the one timing loop behind the tuner's measurements and the
// plugin's side-by-side choices (Kiln or ATen, tuned or current kernel).
#pragma once

#include <vector>

#include "core/runtime/kernel.h"

namespace kiln {

/// Seconds per call of `kernel` on `args`: calls it until `min_seconds` have passed (at least
/// once) and divides the time by the calls.
double seconds_per_call(const Kernel& kernel, void* const* args, double min_seconds);

/// Seconds per call of `kernel` on `args` in the fastest of its samples: calls it in samples of
/// at least `sample_seconds` (one call at least) until `min_seconds` have passed. A sample that
/// another process interrupted (the model, when a tuner measures beside it) only takes longer,
/// so the fastest one is the kernel's own time while any sample ran undisturbed.
double fastest_sample_per_call(const Kernel& kernel, void* const* args, double min_seconds,
                               double sample_seconds);

/// Per kernel, the fastest of `rounds` single calls, the kernels taking turns within each round
/// so that a change of the machine's state (a frequency step, another process) reaches all of
/// them alike. Every kernel is called on `args`.
std::vector<double> fastest_side_by_side(const std::vector<const Kernel*>& kernels,
                                         void* const* args, int rounds);

}  // namespace kiln

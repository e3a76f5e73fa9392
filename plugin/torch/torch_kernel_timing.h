// Timing kernels inside the user's process, on PyTorch tensors and the threads the model runs
// on: how a slot decides between ATen and Kiln for a contraction, and how the tuning service
// confirms a tuned kernel before it swaps it in.
#pragma once

#include <vector>

#include "core/runtime/kernel.h"

namespace kiln {

/// Seconds per call of each kernel (all with the parameters of the first) on the same random
/// arguments (normal floats; zero integers and bools, valid indices for any gather): the fastest
/// of `runs` calls after a warm-up, the kernels taking turns. With `constant` (a flag per
/// input), each kernel runs as a slot whose constant inputs stay unchanged does: what it
/// prepares from them is filled in the warm-up and kept (Kernel::launch_keeping).
std::vector<double> fastest_of_runs(const std::vector<const Kernel*>& kernels, int runs = 3,
                                    const std::vector<bool>& constant = {});

}  // namespace kiln

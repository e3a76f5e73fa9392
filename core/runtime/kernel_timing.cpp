#include "core/runtime/kernel_timing.h"

#include <algorithm>
#include <chrono>
#include <limits>

namespace kiln {

double seconds_per_call(const Kernel& kernel, void* const* args, double min_seconds) {
  using clock = std::chrono::steady_clock;
  int calls = 0;
  auto start = clock::now();
  double elapsed = 0;
  do {
    kernel.launch(args);
    ++calls;
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < min_seconds);
  return elapsed / calls;
}

double fastest_sample_per_call(const Kernel& kernel, void* const* args, double min_seconds,
                               double sample_seconds) {
  using clock = std::chrono::steady_clock;
  double fastest = std::numeric_limits<double>::infinity(), elapsed = 0;
  auto start = clock::now();
  do {
    fastest = std::min(fastest, seconds_per_call(kernel, args, sample_seconds));
    elapsed = std::chrono::duration<double>(clock::now() - start).count();
  } while (elapsed < min_seconds);
  return fastest;
}

std::vector<double> fastest_side_by_side(const std::vector<const Kernel*>& kernels,
                                         void* const* args, int rounds) {
  std::vector<double> best(kernels.size(), std::numeric_limits<double>::infinity());
  for (int round = 0; round < rounds; ++round)
    for (size_t i = 0; i < kernels.size(); ++i)
      best[i] = std::min(best[i], seconds_per_call(*kernels[i], args, 0));
  return best;
}

}  // namespace kiln

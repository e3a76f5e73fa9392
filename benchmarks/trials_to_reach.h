// What the tuning benchmarks report of a tuning curve.
#pragma once

#include <algorithm>
#include <vector>

namespace kiln::bench {

/// Trials `curve` (best so far after each trial) needs to reach `target`; curve.size() + 1 when it
/// never does, so a search that misses counts as past its budget, never as a small number.
inline int trials_to_reach(const std::vector<double>& curve, double target) {
  for (size_t i = 0; i < curve.size(); ++i)
    if (curve[i] >= target * (1 - 1e-9)) return static_cast<int>(i) + 1;
  return static_cast<int>(curve.size()) + 1;
}

/// The median of `counts` (the mean of the middle two for an even size); 0 when empty.
inline double median(std::vector<int> counts) {
  if (counts.empty()) return 0;
  std::sort(counts.begin(), counts.end());
  size_t n = counts.size();
  return n % 2 ? counts[n / 2] : (counts[n / 2 - 1] + counts[n / 2]) / 2.0;
}

}  // namespace kiln::bench

// Features of a candidate kernel for the cost model, read off its lowered loop IR (never the
// compute definition), so that one model can learn across workloads: that is what makes
// transfer learning from the tuning cache possible.
#pragma once

#include <string>
#include <vector>

#include "core/ir/stmt.h"

namespace kiln {

class FeatureExtractor {
 public:
  /// Length of every feature vector this extractor makes.
  static int length();
  /// Names of the features, for debugging and for the model's importance report.
  static const std::vector<std::string>& names();
  /// Fixed-length features of `f`: per loop (extent, nest level, annotation: serial, parallel,
  /// vectorized, unrolled), per buffer access (stride of the innermost loop, elements touched,
  /// reuse), arithmetic counts (float/int ops, transcendental calls, divisions), aggregated over
  /// the innermost statements weighted by how often they run, then log-scaled.
  std::vector<float> extract(const LoweredFunc& f) const;
};

}  // namespace kiln

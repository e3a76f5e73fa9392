// A tuning task: one workload (the compute definitions of a fused group) on one target.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace kiln {

struct TuningTask {
  std::string name;
  std::vector<Tensor> outputs;

  /// The tuning cache's workload key: structural_hash(outputs).
  uint64_t key() const;
  /// Arithmetic operations of one evaluation, counted on the compute definitions (a reduction
  /// counts its body once per reduced element): the numerator of GFLOP/s.
  double flops() const;
  /// Bytes of the placeholders and outputs: the compulsory memory traffic.
  double bytes() const;
};

}  // namespace kiln

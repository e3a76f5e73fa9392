// A workload as the tuning cache knows it: the compute definitions of one fused group, keyed by a
// 128-bit structural hash and kept with their canonical form, so that a hash collision is
// detected (the forms differ), never trusted.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/tensor.h"

namespace kiln {

/// 128 bits of structural hash; renamed variables and tensors give the same key.
struct WorkloadKey {
  uint64_t hi = 0, lo = 0;

  bool operator==(const WorkloadKey&) const = default;
  auto operator<=>(const WorkloadKey&) const = default;
  /// 32 lowercase hex digits, hi first.
  std::string hex() const;
  /// Parses hex(); throws Error naming the text when it is not 32 hex digits.
  static WorkloadKey from_hex(const std::string& text);
};

struct Workload {
  WorkloadKey key;
  /// The structural token stream as text: equal exactly when the programs are structurally equal.
  std::string canonical;
  /// The printed compute definitions, for people (`kiln cache show`); not part of the key.
  std::string description;
  /// "contraction", "reduction" or "injective": the template class that schedules it.
  std::string op_class;
  double flops = 0;  ///< Arithmetic per evaluation (TuningTask::flops).
};

/// The workload of `outputs`.
Workload describe_workload(const std::vector<Tensor>& outputs);

}  // namespace kiln

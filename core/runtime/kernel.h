// A compiled kernel: what a backend produces from a LoweredFunc and what a KernelSlot holds.
#pragma once

#include <memory>
#include <vector>

#include "core/ir/stmt.h"
#include "core/runtime/host_tensor.h"

namespace kiln {

class Kernel {
 public:
  explicit Kernel(LoweredFunc func) : func_(std::move(func)) {}
  virtual ~Kernel() = default;
  /// Runs the kernel. `args` holds one data pointer per parameter of func(), inputs then outputs,
  /// each pointing at element 0 of a tensor with the parameter's shape, dtype and strides.
  virtual void launch(void* const* args) const = 0;
  const LoweredFunc& func() const { return func_; }
  /// Whether its schedule came from a tuning search (a tuning record, or the tuning service's
  /// winner) rather than being the default schedule. Marked by whoever made the kernel, before
  /// it is shared; what a slot reports as serving it (SlotInfo::served_by) comes from this.
  bool tuned() const { return tuned_; }
  void mark_tuned() { tuned_ = true; }

 private:
  LoweredFunc func_;
  bool tuned_ = false;
};

/// Checks that `args` match the kernel's parameters (count, dtype, shape, strides) and launches it.
/// Throws Error naming the first mismatched parameter.
void run_kernel(const Kernel& kernel, const std::vector<const HostTensor*>& args);

}  // namespace kiln

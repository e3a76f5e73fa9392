// A compiled kernel: what a backend produces from a LoweredFunc and what a KernelSlot holds.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/ir/stmt.h"
#include "core/runtime/host_tensor.h"
#include "core/runtime/prepared_buffers.h"

namespace kiln {

class Kernel {
 public:
  explicit Kernel(LoweredFunc func);
  virtual ~Kernel() = default;
  /// Runs the kernel. `args` holds one data pointer per parameter of func(), inputs then outputs,
  /// each pointing at element 0 of a tensor with the parameter's shape, dtype and strides.
  /// Its prepared buffers (LoweredFunc::prepared), if any, are taken and filled for the call.
  virtual void launch(void* const* args) const = 0;
  /// As launch(), but the prepared buffers that read only inputs marked in `constant` (one flag
  /// per input) are kept in `kept`: filled when it does not hold them yet, else read as they
  /// are. The caller vouches that those inputs hold what they held when `kept` was filled (or
  /// clears it). A kernel without prepared buffers runs as launch().
  virtual void launch_keeping(void* const* args, PreparedBuffers& kept,
                              const std::vector<bool>& constant) const;
  const LoweredFunc& func() const { return func_; }
  /// Unique in the process: which kernel filled a PreparedBuffers.
  uint64_t id() const { return id_; }
  /// Whether its schedule came from a tuning search (a tuning record, or the tuning service's
  /// winner) rather than being the default schedule. Marked by whoever made the kernel, before
  /// it is shared; what a slot reports as serving it (SlotInfo::served_by) comes from this.
  bool tuned() const { return tuned_; }
  void mark_tuned() { tuned_ = true; }

 private:
  LoweredFunc func_;
  uint64_t id_;
  bool tuned_ = false;
};

/// Checks that `args` match the kernel's parameters (count, dtype, shape, strides) and launches it.
/// Throws Error naming the first mismatched parameter.
void run_kernel(const Kernel& kernel, const std::vector<const HostTensor*>& args);

}  // namespace kiln

// The process-wide table of kernel slots: the integer that torch.ops.kiln.launch receives names
// one entry here.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/runtime/kernel_slot.h"

namespace kiln {

/// One registered slot: the kernel slot (its description names the fused ops,
/// "aten.add.Tensor+aten.relu.default") and the types it was compiled for.
struct SlotEntry {
  SlotEntry(std::string ops, uint64_t key, std::vector<TensorType> inputs,
            std::vector<TensorType> outputs, std::shared_ptr<const Kernel> kernel,
            std::vector<InputCheck> checks = {})
      : key(key),
        inputs(std::move(inputs)),
        outputs(std::move(outputs)),
        checks(std::move(checks)),
        slot(std::move(ops), std::move(kernel)) {}

  const uint64_t key;                     ///< structural_hash of the group's compute definitions.
  const std::vector<TensorType> inputs;   ///< The kernel's input parameters, in order.
  const std::vector<TensorType> outputs;  ///< Its outputs (row-major), in order.
  const std::vector<InputCheck> checks;   ///< What launch checks of the inputs first.
  /// Set when launch first copied an input into its traced layout (logged once per slot).
  std::atomic<bool> logged_layout_copy{false};
  KernelSlot slot;
};

/// Slot number → SlotEntry. Thread-safe.
///
/// NOTE: entries are never removed. A slot number is baked into FX graphs that may live (and be
/// called) for as long as the process, so a reference returned by get() stays valid forever.
class SlotRegistry {
 public:
  static SlotRegistry& global();

  /// Registers `entry` and returns its slot number (0, 1, 2, ... in registration order).
  int64_t add(std::unique_ptr<SlotEntry> entry);
  /// The entry of slot `slot`; throws Error naming the slot when there is none.
  SlotEntry& get(int64_t slot) const;
  /// Slots registered so far.
  int64_t size() const;

 private:
  mutable std::shared_mutex mutex_;
  std::deque<std::unique_ptr<SlotEntry>> entries_;
};

}  // namespace kiln

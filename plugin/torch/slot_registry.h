// The process-wide table of kernel slots: the integer that torch.ops.kiln.launch receives names
// one entry here.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "core/graph/graph.h"
#include "core/runtime/kernel_slot.h"
#include "plugin/torch/constant_inputs.h"

namespace kiln {

/// One registered slot: the kernel slot (its description names the fused ops,
/// "aten.add.Tensor+aten.relu.default") and the types it was compiled for.
struct SlotEntry {
  /// `constant`: which inputs are constants of the model (empty: none), see ConstantInputs.
  SlotEntry(std::string ops, uint64_t key, std::vector<TensorType> inputs,
            std::vector<TensorType> outputs, std::shared_ptr<const Kernel> kernel,
            std::vector<InputCheck> checks = {}, const std::vector<bool>& constant = {})
      : key(key),
        inputs(std::move(inputs)),
        outputs(std::move(outputs)),
        checks(std::move(checks)),
        constants(std::find(constant.begin(), constant.end(), true) == constant.end()
                      ? nullptr
                      : std::make_unique<ConstantInputs>(constant)),
        slot(std::move(ops), std::move(kernel)) {}

  const uint64_t key;                     ///< structural_hash of the group's compute definitions.
  const std::vector<TensorType> inputs;   ///< The kernel's input parameters, in order.
  const std::vector<TensorType> outputs;  ///< Its outputs (row-major), in order.
  const std::vector<InputCheck> checks;   ///< What launch checks of the inputs first.
  /// Its inputs that are the model's constants and the buffers kept from them; null for none.
  const std::unique_ptr<ConstantInputs> constants;
  /// Set when launch first copied an input into its traced layout (logged once per slot).
  std::atomic<bool> logged_layout_copy{false};
  KernelSlot slot;
};

/// Slot number → SlotEntry. Thread-safe.
///
/// A slot lives as long as the compiled graphs that launch it: the graph's owner releases its
/// slots when the graph is freed (kiln.backend, through a weakref finalizer). Numbers are never
/// reused, so a stale number is an error that names the slot, never another slot's kernel. A call
/// running when its slot is released keeps the entry (and its kernel) alive until it returns.
class SlotRegistry {
 public:
  static SlotRegistry& global();

  /// Registers `entry` and returns its slot number (0, 1, 2, ... in registration order).
  int64_t add(std::shared_ptr<SlotEntry> entry);
  /// The entry of slot `slot`; throws Error naming the slot when there is none.
  std::shared_ptr<SlotEntry> get(int64_t slot) const;
  /// Forgets slot `slot`; its entry is freed when no running call holds it. Unknown: no-op.
  void release(int64_t slot);
  /// The numbers of the live slots, ascending.
  std::vector<int64_t> live() const;

 private:
  mutable std::shared_mutex mutex_;
  std::map<int64_t, std::shared_ptr<SlotEntry>> entries_;
  int64_t next_ = 0;
};

}  // namespace kiln

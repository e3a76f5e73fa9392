// A slot's inputs that are constants of the model (an inference graph's parameters and
// buffers), and what its kernels prepare from them (packed weights: PreparedBuffers), kept while
// those inputs stay unchanged. Private to plugin/torch.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/StorageImpl.h>
#include <c10/util/intrusive_ptr.h>

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <vector>

#include "core/runtime/kernel.h"

namespace kiln {

/// An input counts as unchanged while it is the same storage (held weakly: a freed storage's
/// address is never taken for its successor's), at the same element 0, with the same version
/// counter value: every in-place write through PyTorch (an optimizer step, load_state_dict,
/// `copy_` under no_grad) bumps the version. A write that bypasses version counting (through
/// `.data`, or an inference tensor written in inference mode) is not seen: inference tensors are
/// never kept, and `.data` writes are the caller's to avoid, as autograd asks.
class ConstantInputs {
 public:
  /// `constant`: one flag per input of the slot.
  explicit ConstantInputs(std::vector<bool> constant);

  /// Runs `kernel` on `args` (Kernel::launch), keeping its prepared buffers that read only
  /// constant inputs from call to call and refilling them when one of those inputs changed.
  /// Thread-safe: calls that fill nothing run side by side.
  void launch(const Kernel& kernel, void* const* args, at::TensorList inputs);
  /// How many launches filled kept buffers (the first call, a swap, a changed input).
  int64_t fills() const;
  /// The bytes kept for this slot (the current kernel's buffers, and a trial candidate's).
  int64_t bytes() const;

 private:
  struct Seen {
    c10::weak_intrusive_ptr<c10::StorageImpl> storage{c10::intrusive_ptr<c10::StorageImpl>()};
    const void* data = nullptr;
    int64_t version = -1;
  };
  /// Whether every constant input is what `seen_` recorded.
  bool unchanged(at::TensorList inputs) const;
  /// The kept buffers of `kernel`: those it filled, else the least recently filled pair's.
  PreparedBuffers& kept_for(const Kernel& kernel);

  const std::vector<bool> constant_;
  mutable std::shared_mutex mutex_;
  std::vector<Seen> seen_;
  /// The current kernel's and, during a tuning trial, the candidate's (calls take turns).
  PreparedBuffers kept_[2];
  /// When each of kept_ was last used (a count of launches): a new kernel takes the older.
  std::atomic<uint64_t> used_[2] = {0, 0};
  std::atomic<uint64_t> clock_{0};
  int64_t fills_ = 0;
};

}  // namespace kiln

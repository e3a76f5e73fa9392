// A KernelSlot: the place in a compiled model where one fused group's kernel lives. The model
// calls through the slot; the tuner replaces the kernel behind it while calls are running.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/runtime/kernel.h"

namespace kiln {

/// Per-slot counters, readable at any time.
struct SlotStats {
  uint64_t calls = 0;
  uint64_t total_ns = 0;    ///< Wall time spent inside launches.
  uint64_t version = 0;     ///< 0 for the first kernel, +1 per swap.
};

class KernelSlot {
 public:
  KernelSlot(std::string description, std::shared_ptr<const Kernel> kernel);

  /// Runs the current kernel on `args` (see Kernel::launch), counting the call and its time.
  /// Safe to call from many threads at once, and while another thread swaps the kernel.
  void launch(void* const* args) const;
  /// Calls body(current kernel), counted and timed as a launch, the kernel kept alive meanwhile:
  /// for a caller that runs the kernel its own way (one that makes its outputs itself). A
  /// template, so that a call costs no std::function.
  template <class Body>
  void run(Body&& body) const {
    // The local reference keeps the kernel alive for the whole call (see current()).
    std::shared_ptr<const Kernel> kernel = current();
    auto start = std::chrono::steady_clock::now();
    body(*kernel);
    count_call(start);
  }

  /// Installs `kernel` for all calls that start from now on. The previous kernel is released
  /// only when no call still running can use it (calls hold a reference for their duration).
  void swap(std::shared_ptr<const Kernel> kernel);

  /// The current kernel. The caller's reference keeps it alive across a swap: a swap drops only
  /// the slot's reference, and the last holder of the old kernel frees it.
  std::shared_ptr<const Kernel> current() const;
  SlotStats stats() const;
  const std::string& description() const { return description_; }

 private:
  /// Counts a call that started at `start`.
  void count_call(std::chrono::steady_clock::time_point start) const;

  std::string description_;
  std::atomic<std::shared_ptr<const Kernel>> kernel_;
  mutable std::atomic<uint64_t> calls_{0}, total_ns_{0};
  std::atomic<uint64_t> version_{0};
};

}  // namespace kiln

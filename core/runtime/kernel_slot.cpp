#include "core/runtime/kernel_slot.h"

#include <chrono>

#include "core/ir/error.h"

namespace kiln {

KernelSlot::KernelSlot(std::string description, std::shared_ptr<const Kernel> kernel)
    : description_(std::move(description)), kernel_(std::move(kernel)) {
  KILN_CHECK(kernel_.load() != nullptr, "slot '", description_, "' made without a kernel");
}

void KernelSlot::launch(void* const* args) const {
  run([args](const Kernel& kernel) { kernel.launch(args); });
}

void KernelSlot::count_call(std::chrono::steady_clock::time_point start) const {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  // Counters only: nothing else is ordered by them, so relaxed increments suffice.
  calls_.fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
}

void KernelSlot::swap(std::shared_ptr<const Kernel> kernel) {
  KILN_CHECK(kernel != nullptr, "slot '", description_, "' swapped to a null kernel");
  kernel_.store(std::move(kernel), std::memory_order_release);
  version_.fetch_add(1, std::memory_order_relaxed);
}

std::shared_ptr<const Kernel> KernelSlot::current() const {
  // NOTE: ThreadSanitizer reports a race inside GCC 12's atomic<shared_ptr> (its load releases
  // the internal spin lock with a relaxed RMW; google/sanitizers#1558); on x86 a locked RMW
  // orders the read it guards, so the report is about the library, not about this code.
  return kernel_.load(std::memory_order_acquire);
}

SlotStats KernelSlot::stats() const {
  SlotStats s;
  s.calls = calls_.load(std::memory_order_relaxed);
  s.total_ns = total_ns_.load(std::memory_order_relaxed);
  s.version = version_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace kiln

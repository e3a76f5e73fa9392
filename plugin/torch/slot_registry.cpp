#include "plugin/torch/slot_registry.h"

#include <mutex>

#include "core/support/error.h"

namespace kiln {

SlotRegistry& SlotRegistry::global() {
  // Leaked on purpose: kernels may still be launched by other threads while statics are
  // destroyed at exit.
  static SlotRegistry* registry = new SlotRegistry;
  return *registry;
}

int64_t SlotRegistry::add(std::shared_ptr<SlotEntry> entry) {
  KILN_CHECK(entry != nullptr, "null slot entry");
  std::unique_lock lock(mutex_);
  int64_t slot = next_++;
  entries_.emplace(slot, std::move(entry));
  return slot;
}

std::shared_ptr<SlotEntry> SlotRegistry::get(int64_t slot) const {
  std::shared_lock lock(mutex_);
  auto it = entries_.find(slot);
  if (it == entries_.end())
    throw Error(
        str_cat("kiln slot ", slot, " does not exist",
                slot >= 0 && slot < next_ ? " any more (the graph that compiled it was freed)" : "",
                " (", entries_.size(), " slots are live in this process)"));
  return it->second;
}

void SlotRegistry::release(int64_t slot) {
  std::shared_ptr<SlotEntry> entry;  // freed after the lock is dropped: a kernel's end is slow
  std::unique_lock lock(mutex_);
  auto it = entries_.find(slot);
  if (it == entries_.end()) return;
  entry = std::move(it->second);
  entries_.erase(it);
  lock.unlock();
}

std::vector<int64_t> SlotRegistry::live() const {
  std::shared_lock lock(mutex_);
  std::vector<int64_t> slots;
  slots.reserve(entries_.size());
  for (const auto& [slot, entry] : entries_) slots.push_back(slot);
  return slots;
}

}  // namespace kiln

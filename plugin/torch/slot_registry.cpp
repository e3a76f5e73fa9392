#include "plugin/torch/slot_registry.h"

#include <mutex>

#include "core/ir/error.h"

namespace kiln {

SlotRegistry& SlotRegistry::global() {
  // Leaked on purpose: kernels may still be launched by other threads while statics are
  // destroyed at exit.
  static SlotRegistry* registry = new SlotRegistry;
  return *registry;
}

int64_t SlotRegistry::add(std::unique_ptr<SlotEntry> entry) {
  KILN_CHECK(entry != nullptr, "null slot entry");
  std::unique_lock lock(mutex_);
  entries_.push_back(std::move(entry));
  return static_cast<int64_t>(entries_.size()) - 1;
}

SlotEntry& SlotRegistry::get(int64_t slot) const {
  std::shared_lock lock(mutex_);
  if (slot < 0 || slot >= static_cast<int64_t>(entries_.size()))
    throw Error(str_cat("kiln slot ", slot, " does not exist (", entries_.size(),
                        " slots are registered in this process)"));
  return *entries_[slot];
}

int64_t SlotRegistry::size() const {
  std::shared_lock lock(mutex_);
  return static_cast<int64_t>(entries_.size());
}

}  // namespace kiln

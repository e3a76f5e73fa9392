// The tuning service's record of one workload, shared by its files (tuning_service.cpp: the
// search and its pacing; tuning_promotion.cpp: the A/B, swaps, roll-backs and decisions).
// Private to core/tune.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/support/error.h"
#include "core/tune/tuning_service.h"

namespace kiln {

/// One workload and every slot that computes it (repeated layers share one search).
struct TuningService::Job {
  struct Member {
    int64_t id;
    /// Expires when the slot is released (its compiled graph freed); the service then drops it.
    std::weak_ptr<KernelSlot> slot;
    /// While a swap awaits confirmation: the kernel it replaced, the counters at the swap and the
    /// time per call observed before it.
    std::shared_ptr<const Kernel> previous;
    SlotStats at_swap;
    double before_per_call = 0;
  };
  std::string name;
  std::vector<Tensor> workload;
  Workload description;
  /// NOTE: a deque, so that add_slot may append while the service holds references to members.
  std::deque<Member> members;
  bool done = false;
  /// The kernel promoted for this workload; a slot added later is swapped to it at once.
  std::shared_ptr<const Kernel> tuned;
  /// The tuning record it was built from (what a fresh process loads), when one was committed.
  /// When the search found nothing faster than the default schedule, `tuned` is the default's
  /// kernel and this the record a fresh process would load unless told to serve the default.
  std::optional<TuningRecord> tuned_record;
  bool tuned_is_default = false;

  uint64_t calls() const {
    uint64_t n = 0;
    for (auto& m : members)
      if (auto slot = m.slot.lock()) n += slot->stats().calls;
    return n;
  }
  uint64_t total_ns() const {
    uint64_t n = 0;
    for (auto& m : members)
      if (auto slot = m.slot.lock()) n += slot->stats().total_ns;
    return n;
  }
};

namespace tuning_detail {

/// Seconds per call between two samples of a slot's counters (0 without calls).
inline double per_call(const SlotStats& now, const SlotStats& before) {
  uint64_t calls = now.calls - before.calls;
  return calls ? static_cast<double>(now.total_ns - before.total_ns) * 1e-9 / calls : 0;
}

inline std::string ms(double seconds) {
  return str_cat(seconds * 1e3, " ms");
}

}  // namespace tuning_detail

}  // namespace kiln

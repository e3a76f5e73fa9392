// A KernelSlot: the place in a compiled model where one fused group's kernel lives. The model
// calls through the slot; the tuner replaces the kernel behind it while calls are running.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/runtime/kernel.h"

namespace kiln {

/// Per-slot counters, readable at any time.
struct SlotStats {
  uint64_t calls = 0;
  uint64_t total_ns = 0;  ///< Wall time spent inside launches.
  uint64_t version = 0;   ///< 0 for the first kernel, +1 per swap.
};

/// What a trial measured: the median time per call of the current kernel and of the candidate,
/// how many calls of each it has (the lesser of the two), and of those pairs (the i-th call of
/// each side: neighbours in time, as the calls take turns) in how many the candidate was faster.
struct TrialResult {
  double current_seconds = 0, candidate_seconds = 0;
  int calls = 0;
  int candidate_faster = 0;
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
    std::shared_ptr<Trial> trial;
    int side = 0;
    if (trial_active_.load(std::memory_order_relaxed) && (trial = trial_.load())) {
      side = static_cast<int>(trial->turn.fetch_add(1, std::memory_order_relaxed) % 2);
      // The candidate runs its `each` calls, no more, however late the trial is ended.
      if (side == 1 && trial->count[1].load(std::memory_order_relaxed) >= trial->each) side = 0;
      if (side == 1) kernel = trial->candidate;
    }
    auto start = std::chrono::steady_clock::now();
    body(*kernel);
    uint64_t ns = count_call(start);
    if (trial) trial->record(side, ns);
  }

  /// Starts a trial: from now on calls take turns between the current kernel and `candidate`
  /// (which must compute the same outputs), each timed, until `calls_each` of each have run;
  /// then the current kernel runs alone until end_trial.
  /// An A/B in the model's own calls: its threads, its data, its idle gaps between calls.
  void begin_trial(std::shared_ptr<const Kernel> candidate, int calls_each);
  /// Calls of the current kernel and of the candidate the trial has timed (the lesser).
  int trial_calls() const;
  /// Holds the trial (`true`: calls run the current kernel alone, untimed by it) or lets it go
  /// on (`false`) with what it has timed so far.
  void hold_trial(bool held);
  /// Ends the trial (the candidate runs no more) and returns what it measured.
  TrialResult end_trial();

  /// Installs `kernel` for all calls that start from now on. The previous kernel is released
  /// only when no call still running can use it (calls hold a reference for their duration).
  void swap(std::shared_ptr<const Kernel> kernel);

  /// The current kernel. The caller's reference keeps it alive across a swap: a swap drops only
  /// the slot's reference, and the last holder of the old kernel frees it.
  std::shared_ptr<const Kernel> current() const;
  SlotStats stats() const;
  const std::string& description() const { return description_; }

 private:
  struct Trial {
    Trial(std::shared_ptr<const Kernel> c, int each);
    void record(int side, uint64_t ns);
    /// Calls of each side timed so far (the lesser; at most `each`).
    int calls() const;
    std::shared_ptr<const Kernel> candidate;
    int each;
    std::atomic<uint64_t> turn{0};
    std::atomic<int> count[2] = {0, 0};
    std::vector<std::atomic<uint64_t>> ns[2];  ///< `each` per side; the first calls are kept
  };

  /// Counts a call that started at `start`; returns its nanoseconds.
  uint64_t count_call(std::chrono::steady_clock::time_point start) const;

  std::string description_;
  std::atomic<std::shared_ptr<const Kernel>> kernel_;
  mutable std::atomic<uint64_t> calls_{0}, total_ns_{0};
  std::atomic<uint64_t> version_{0};
  // NOTE: a flag beside the pointer, so that a call outside any trial pays a relaxed load only.
  std::atomic<bool> trial_active_{false};
  std::atomic<std::shared_ptr<Trial>> trial_;
};

}  // namespace kiln

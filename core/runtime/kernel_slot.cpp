#include "core/runtime/kernel_slot.h"

#include <algorithm>
#include <chrono>

#include "core/support/error.h"

namespace kiln {

KernelSlot::KernelSlot(std::string description, std::shared_ptr<const Kernel> kernel)
    : description_(std::move(description)), kernel_(std::move(kernel)) {
  KILN_CHECK(kernel_.load() != nullptr, "slot '", description_, "' made without a kernel");
}

void KernelSlot::launch(void* const* args) const {
  run([args](const Kernel& kernel) { kernel.launch(args); });
}

uint64_t KernelSlot::count_call(std::chrono::steady_clock::time_point start) const {
  auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
          .count();
  // Counters only: nothing else is ordered by them, so relaxed increments suffice.
  calls_.fetch_add(1, std::memory_order_relaxed);
  total_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  return static_cast<uint64_t>(ns);
}

KernelSlot::Trial::Trial(std::shared_ptr<const Kernel> c, int calls_each)
    : candidate(std::move(c)), each(calls_each) {
  for (auto& side : ns) side = std::vector<std::atomic<uint64_t>>(static_cast<size_t>(each));
}

void KernelSlot::Trial::record(int side, uint64_t call_ns) {
  int i = count[side].load(std::memory_order_relaxed);
  // Claims sample i unless another call took it first; samples past `each` are dropped.
  while (i < each && !count[side].compare_exchange_weak(i, i + 1, std::memory_order_relaxed)) {
  }
  if (i < each) ns[side][static_cast<size_t>(i)].store(call_ns, std::memory_order_relaxed);
}

void KernelSlot::begin_trial(std::shared_ptr<const Kernel> candidate, int calls_each) {
  KILN_CHECK(candidate != nullptr && calls_each > 0, "slot '", description_, "': a trial needs a ",
             "candidate kernel and calls");
  trial_.store(std::make_shared<Trial>(std::move(candidate), calls_each));
  trial_active_.store(true, std::memory_order_relaxed);
}

int KernelSlot::Trial::calls() const {
  // record() never counts past `each`.
  return std::min(count[0].load(std::memory_order_relaxed),
                  count[1].load(std::memory_order_relaxed));
}

int KernelSlot::trial_calls() const {
  std::shared_ptr<Trial> trial = trial_.load();
  return trial ? trial->calls() : 0;
}

void KernelSlot::hold_trial(bool held) {
  trial_active_.store(!held && trial_.load() != nullptr, std::memory_order_relaxed);
}

TrialResult KernelSlot::end_trial() {
  trial_active_.store(false, std::memory_order_relaxed);
  std::shared_ptr<Trial> trial = trial_.exchange(nullptr);
  TrialResult r;
  if (!trial) return r;
  auto sample = [&](int side, int i) { return trial->ns[side][static_cast<size_t>(i)].load(); };
  auto median = [&](int side) {
    int n = trial->count[side].load(std::memory_order_relaxed);
    std::vector<uint64_t> v;
    for (int i = 0; i < n; ++i)  // 0: a call claimed the sample, has not stored it yet
      if (uint64_t ns = sample(side, i)) v.push_back(ns);
    if (v.empty()) return 0.0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return static_cast<double>(v[v.size() / 2]) * 1e-9;
  };
  r.current_seconds = median(0);
  r.candidate_seconds = median(1);
  r.calls = trial->calls();
  for (int i = 0; i < r.calls; ++i) {
    uint64_t current = sample(0, i), candidate = sample(1, i);
    r.candidate_faster += current && candidate && candidate < current;
  }
  return r;
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

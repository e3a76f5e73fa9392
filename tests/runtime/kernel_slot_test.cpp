#include "core/runtime/kernel_slot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace kiln {
namespace {

/// What the probe kernels saw, shared by all of them in one test.
struct ProbeLog {
  std::mutex mutex;
  std::vector<std::string> events;  ///< "launch k", "return k", "destroy k", in order.
  std::atomic<int> misuses{0};      ///< Launches that found their kernel destroyed, or
                                    ///< destructions while a launch was inside.

  void record(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  int index_of(const std::string& e) {
    std::lock_guard lock(mutex);
    for (size_t i = 0; i < events.size(); ++i)
      if (events[i] == e) return static_cast<int>(i);
    return -1;
  }
};

/// A kernel that adds its id to the int64 that args[0] points at, records its launches and its
/// destruction, and can be told to wait inside launch until released.
class ProbeKernel final : public Kernel {
 public:
  ProbeKernel(int id, ProbeLog& log, std::latch* hold = nullptr, std::latch* entered = nullptr,
              bool verbose = true)
      : Kernel(LoweredFunc{}),
        id_(id),
        log_(log),
        hold_(hold),
        entered_(entered),
        verbose_(verbose) {}

  ~ProbeKernel() override {
    alive_.store(false);
    if (inside_.load() != 0) log_.misuses.fetch_add(1);
    log_.record("destroy " + std::to_string(id_));
  }

  void launch(void* const* args) const override {
    inside_.fetch_add(1);
    if (!alive_.load()) log_.misuses.fetch_add(1);
    if (verbose_) log_.record("launch " + std::to_string(id_));
    if (entered_) entered_->count_down();
    if (hold_) hold_->wait();
    static_cast<std::atomic<int64_t>*>(args[0])->fetch_add(id_);
    if (!alive_.load()) log_.misuses.fetch_add(1);
    if (verbose_) log_.record("return " + std::to_string(id_));
    inside_.fetch_sub(1);
  }

 private:
  int id_;
  ProbeLog& log_;
  std::latch* hold_;
  std::latch* entered_;
  bool verbose_;
  std::atomic<bool> alive_{true};
  mutable std::atomic<int> inside_{0};
};

TEST(KernelSlot, LaunchRunsTheCurrentKernelAndCounts) {
  ProbeLog log;
  KernelSlot slot("add+relu", std::make_shared<ProbeKernel>(1, log));
  std::atomic<int64_t> sum{0};
  void* args[] = {&sum};
  slot.launch(args);
  slot.launch(args);
  EXPECT_EQ(sum.load(), 2);
  EXPECT_EQ(slot.stats().calls, 2u);
  EXPECT_EQ(slot.stats().version, 0u);
  EXPECT_EQ(slot.description(), "add+relu");

  auto second = std::make_shared<ProbeKernel>(10, log);
  slot.swap(second);
  EXPECT_EQ(slot.current(), second);
  slot.launch(args);
  EXPECT_EQ(sum.load(), 12);
  SlotStats s = slot.stats();
  EXPECT_EQ(s.calls, 3u);
  EXPECT_EQ(s.version, 1u);
}

// A trial: calls take turns between the current kernel and the candidate, each timed; ending it
// returns both medians and the candidate runs no more. The slot's version does not change.
TEST(KernelSlot, ATrialAlternatesCallsAndEndsWithBothMedians) {
  ProbeLog log;
  KernelSlot slot("k", std::make_shared<ProbeKernel>(1, log));
  std::atomic<int64_t> sum{0};
  void* args[] = {&sum};
  slot.begin_trial(std::make_shared<ProbeKernel>(100, log), 3);
  for (int i = 0; i < 5; ++i) slot.launch(args);
  EXPECT_EQ(slot.trial_calls(), 2);  // current, candidate, current, candidate, current
  slot.launch(args);
  EXPECT_EQ(slot.trial_calls(), 3);
  EXPECT_EQ(sum.load(), 3 * 1 + 3 * 100);
  TrialResult r = slot.end_trial();
  EXPECT_EQ(r.calls, 3);
  EXPECT_GT(r.current_seconds, 0);
  EXPECT_GT(r.candidate_seconds, 0);
  slot.launch(args);
  EXPECT_EQ(sum.load(), 304);  // the current kernel only, after the trial
  EXPECT_EQ(slot.stats().calls, 7u);
  EXPECT_EQ(slot.stats().version, 0u);
  EXPECT_EQ(slot.trial_calls(), 0);
  EXPECT_EQ(slot.end_trial().calls, 0);  // none running
}

/// A kernel that takes `micros` per call.
class SleepingKernel final : public Kernel {
 public:
  explicit SleepingKernel(int micros) : Kernel(LoweredFunc{}), micros_(micros) {}
  void launch(void* const*) const override {
    std::this_thread::sleep_for(std::chrono::microseconds(micros_));
  }

 private:
  int micros_;
};

// The i-th calls of the two sides are neighbours in time: the trial says in how many of those
// pairs the candidate was faster (what the tuning service's sign test decides on). The sides
// differ 100x so that a sleep overshot by a busy machine's scheduler cannot reverse a pair.
TEST(KernelSlot, ATrialCountsThePairsTheCandidateWon) {
  for (auto [current, candidate, wins] : {std::tuple{20000, 200, 6}, std::tuple{200, 20000, 0}}) {
    KernelSlot slot("k", std::make_shared<SleepingKernel>(current));
    slot.begin_trial(std::make_shared<SleepingKernel>(candidate), 6);
    for (int i = 0; i < 12; ++i) slot.launch(nullptr);
    TrialResult r = slot.end_trial();
    EXPECT_EQ(r.calls, 6);
    EXPECT_EQ(r.candidate_faster, wins) << current << " vs " << candidate << " us";
  }
}

// A held trial: the current kernel alone serves, untimed; let go, the trial resumes with what
// it had timed.
TEST(KernelSlot, AHeldTrialKeepsWhatItTimedAndGoesOnAfter) {
  ProbeLog log;
  KernelSlot slot("k", std::make_shared<ProbeKernel>(1, log));
  std::atomic<int64_t> sum{0};
  void* args[] = {&sum};
  slot.begin_trial(std::make_shared<ProbeKernel>(100, log), 2);
  for (int i = 0; i < 2; ++i) slot.launch(args);  // current, candidate
  slot.hold_trial(true);
  for (int i = 0; i < 3; ++i) slot.launch(args);
  EXPECT_EQ(sum.load(), 1 + 100 + 3);  // held: the current kernel only
  EXPECT_EQ(slot.trial_calls(), 1);
  slot.hold_trial(false);
  for (int i = 0; i < 2; ++i) slot.launch(args);
  EXPECT_EQ(slot.trial_calls(), 2);
  EXPECT_EQ(slot.end_trial().calls, 2);
  slot.hold_trial(false);  // no trial: letting go starts none
  slot.launch(args);
  EXPECT_EQ(slot.trial_calls(), 0);
}

// Calls from many threads during a trial: every call runs one of the two kernels, the trial keeps
// at most its calls per side, and ending it while calls run is safe.
TEST(KernelSlot, ATrialUnderConcurrentCallsCountsEveryCall) {
  constexpr int kThreads = 8, kCalls = 5000;
  ProbeLog log;
  KernelSlot slot("k", std::make_shared<ProbeKernel>(1, log, nullptr, nullptr, false));
  slot.begin_trial(std::make_shared<ProbeKernel>(1, log, nullptr, nullptr, false), 64);
  std::atomic<int64_t> sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&] {
      void* args[] = {&sum};
      for (int i = 0; i < kCalls; ++i) slot.launch(args);
    });
  while (slot.trial_calls() < 64) std::this_thread::yield();
  TrialResult r = slot.end_trial();
  for (auto& t : threads) t.join();
  EXPECT_EQ(r.calls, 64);
  EXPECT_EQ(sum.load(), int64_t{kThreads} * kCalls);
  EXPECT_EQ(log.misuses.load(), 0);
}

TEST(KernelSlot, UnheldOldKernelIsFreedAtTheSwap) {
  ProbeLog log;
  KernelSlot slot("k", std::make_shared<ProbeKernel>(1, log));
  slot.swap(std::make_shared<ProbeKernel>(2, log));
  EXPECT_GE(log.index_of("destroy 1"), 0);
  EXPECT_EQ(log.index_of("destroy 2"), -1);
}

TEST(KernelSlot, OldKernelOutlivesTheCallInsideItAcrossASwap) {
  ProbeLog log;
  std::latch hold(1), entered(1);
  KernelSlot slot("k", std::make_shared<ProbeKernel>(1, log, &hold, &entered));
  std::atomic<int64_t> sum{0};
  void* args[] = {&sum};
  std::thread caller([&] { slot.launch(args); });
  entered.wait();  // The caller is inside kernel 1 now.

  slot.swap(std::make_shared<ProbeKernel>(2, log));
  EXPECT_EQ(log.index_of("destroy 1"), -1) << "freed while a call was inside it";
  slot.launch(args);  // New calls run kernel 2 while kernel 1 still has a call inside.
  EXPECT_EQ(sum.load(), 2);
  EXPECT_EQ(log.index_of("destroy 1"), -1);

  hold.count_down();
  caller.join();
  EXPECT_EQ(sum.load(), 3);
  int returned = log.index_of("return 1"), destroyed = log.index_of("destroy 1");
  ASSERT_GE(returned, 0);
  EXPECT_GT(destroyed, returned) << "the last call's return must come before the destruction";
  EXPECT_EQ(log.misuses.load(), 0);
  EXPECT_EQ(slot.stats().calls, 2u);
}

TEST(KernelSlot, ManyLaunchersAndASwapperAgree) {
  constexpr int kThreads = 8, kCallsPerThread = 20000, kSwaps = 2000;
  ProbeLog log;
  // Every kernel adds 1, so the sum counts the calls whatever kernel served them.
  auto make = [&] { return std::make_shared<ProbeKernel>(1, log, nullptr, nullptr, false); };
  std::weak_ptr<const Kernel> first;
  std::atomic<int64_t> sum{0};
  {
    auto k0 = make();
    first = k0;
    KernelSlot slot("k", std::move(k0));
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        void* args[] = {&sum};
        for (int i = 0; i < kCallsPerThread; ++i) slot.launch(args);
      });
    std::thread swapper([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 1; i <= kSwaps; ++i) slot.swap(make());
    });
    go.store(true);
    for (auto& t : threads) t.join();
    swapper.join();

    SlotStats s = slot.stats();
    EXPECT_EQ(s.calls, uint64_t{kThreads} * kCallsPerThread);
    EXPECT_EQ(s.version, uint64_t{kSwaps});
    EXPECT_GT(s.total_ns, 0u);
    EXPECT_TRUE(first.expired());
    std::lock_guard lock(log.mutex);
    EXPECT_EQ(log.events.size(), size_t{kSwaps});  // Every kernel but the current one is freed.
  }
  EXPECT_EQ(sum.load(), int64_t{kThreads} * kCallsPerThread);
  EXPECT_EQ(log.events.size(), size_t{kSwaps + 1});  // The slot frees the last one.
  EXPECT_EQ(log.misuses.load(), 0);
}

}  // namespace
}  // namespace kiln

#include "core/runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "core/support/error.h"

namespace kiln {
namespace {

/// Restores the default pool's hardware thread count after a test changes it.
class ThreadPoolTest : public ::testing::Test {
 protected:
  void TearDown() override {
    set_thread_pool(nullptr);
    set_default_pool_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  }
};

/// Runs parallel_for over n and checks every index is covered exactly once by at most
/// num_threads() non-empty contiguous chunks.
void expect_exact_cover(int64_t n) {
  ThreadPool& pool = current_thread_pool();
  std::vector<std::atomic<int>> hits(n);
  std::mutex m;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  pool.parallel_for(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    std::lock_guard lock(m);
    chunks.emplace_back(begin, end);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i << " of " << n;
  EXPECT_LE(static_cast<int>(chunks.size()), pool.num_threads());
  for (auto [begin, end] : chunks) EXPECT_LT(begin, end);
  if (n == 0) {
    EXPECT_TRUE(chunks.empty());
  }
}

TEST_F(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    set_default_pool_threads(threads);
    EXPECT_EQ(current_thread_pool().num_threads(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 8, 9, 1000, 100003}) expect_exact_cover(n);
  }
}

TEST_F(ThreadPoolTest, UsesSeveralThreads) {
  set_default_pool_threads(4);
  std::mutex m;
  std::vector<std::thread::id> ids;
  current_thread_pool().parallel_for(4, [&](int64_t, int64_t) {
    std::lock_guard lock(m);
    ids.push_back(std::this_thread::get_id());
  });
  ASSERT_EQ(ids.size(), 4u);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::unique(ids.begin(), ids.end()) - ids.begin(), 4);
}

TEST_F(ThreadPoolTest, NestedCallRunsInline) {
  set_default_pool_threads(4);
  std::atomic<int> inner_calls{0}, bad{0};
  current_thread_pool().parallel_for(4, [&](int64_t, int64_t) {
    auto outer = std::this_thread::get_id();
    current_thread_pool().parallel_for(100, [&](int64_t begin, int64_t end) {
      inner_calls.fetch_add(1);
      if (begin != 0 || end != 100 || std::this_thread::get_id() != outer) bad.fetch_add(1);
    });
  });
  EXPECT_EQ(inner_calls.load(), 4);
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(ThreadPoolTest, ConcurrentCallersEachGetExactCover) {
  set_default_pool_threads(3);
  std::atomic<int> failures{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c)
    callers.emplace_back([&, c] {
      for (int rep = 0; rep < 300; ++rep) {
        int64_t n = 1 + (rep * 7 + c) % 97;
        std::vector<std::atomic<int>> hits(n);
        current_thread_pool().parallel_for(n, [&](int64_t begin, int64_t end) {
          for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
        });
        for (auto& h : hits) failures += h.load() != 1;
      }
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(ThreadPoolTest, WorkersWakeAfterSleeping) {
  set_default_pool_threads(2);
  for (int rep = 0; rep < 5; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // Past the spin: workers sleep.
    expect_exact_cover(10);
  }
}

TEST_F(ThreadPoolTest, ExceptionInChunkReachesCaller) {
  set_default_pool_threads(4);
  for (int64_t failing : {0, 3}) {
    EXPECT_THROW(current_thread_pool().parallel_for(4,
                                                    [&](int64_t begin, int64_t) {
                                                      if (begin == failing)
                                                        throw std::runtime_error("chunk failed");
                                                    }),
                 std::runtime_error);
  }
  expect_exact_cover(1000);  // Still usable.
}

TEST_F(ThreadPoolTest, ParallelTasksRunEachTaskOnceAcrossThreads) {
  set_default_pool_threads(3);
  for (size_t n : {0, 1, 2, 17}) {
    std::vector<std::atomic<int>> runs(n);
    std::mutex m;
    std::set<std::thread::id> ids;
    parallel_tasks(n, [&](size_t i) {
      // Uneven costs: the first task is slow, so the others go to the other threads.
      if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      runs[i].fetch_add(1);
      std::lock_guard lock(m);
      ids.insert(std::this_thread::get_id());
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(runs[i].load(), 1) << "task " << i << " of " << n;
    if (n >= 2) {
      EXPECT_GE(ids.size(), 2u) << n << " tasks";
    }
  }
}

// Compiling a model that runs its kernels on one thread still uses every core.
TEST_F(ThreadPoolTest, ParallelTasksUseTheDefaultPoolWhateverPoolKernelsRunOn) {
  set_default_pool_threads(3);
  std::unique_ptr<ThreadPool> one = make_thread_pool(1);
  set_thread_pool(one.get());
  std::mutex m;
  std::set<std::thread::id> ids;
  parallel_tasks(6, [&](size_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no thread takes every task
    std::lock_guard lock(m);
    ids.insert(std::this_thread::get_id());
  });
  EXPECT_GE(ids.size(), 2u);
}

TEST_F(ThreadPoolTest, ParallelTasksRethrowTheLowestFailureAfterAllRan) {
  set_default_pool_threads(4);
  std::atomic<int> ran{0};
  try {
    parallel_tasks(10, [&](size_t i) {
      ran.fetch_add(1);
      if (i == 7 || i == 3) throw Error(str_cat("task ", i));
    });
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "task 3");
  }
  EXPECT_EQ(ran.load(), 10);
}

extern "C" void add_range(void* ctx, int64_t begin, int64_t end) {
  auto* sum = static_cast<std::atomic<int64_t>*>(ctx);
  for (int64_t i = begin; i < end; ++i) sum->fetch_add(i);
}

TEST_F(ThreadPoolTest, CEntryPointThroughAFunctionPointer) {
  set_default_pool_threads(3);
  // Generated code holds nothing but this address.
  void (*entry)(void (*)(void*, int64_t, int64_t), void*, int64_t) = &kiln_parallel_for;
  std::atomic<int64_t> sum{0};
  entry(add_range, &sum, 10001);
  EXPECT_EQ(sum.load(), 10000LL * 10001 / 2);
}

/// A pool that runs everything on the caller and counts calls: stands in for PyTorch's pool.
class SerialPool : public ThreadPool {
 public:
  int calls = 0;
  int num_threads() const override { return 1; }
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    ++calls;
    if (n > 0) fn(0, n);
  }
};

TEST_F(ThreadPoolTest, InstalledPoolServesGeneratedCode) {
  SerialPool pool;
  set_thread_pool(&pool);
  EXPECT_EQ(&current_thread_pool(), &pool);
  std::atomic<int64_t> sum{0};
  kiln_parallel_for(add_range, &sum, 5);
  EXPECT_EQ(pool.calls, 1);
  EXPECT_EQ(sum.load(), 10);
  set_thread_pool(nullptr);
  EXPECT_NE(&current_thread_pool(), &pool);
}

TEST_F(ThreadPoolTest, RejectsNonPositiveThreadCount) {
  EXPECT_THROW(set_default_pool_threads(0), Error);
}

}  // namespace
}  // namespace kiln

#include "core/runtime/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/support/error.h"

namespace kiln {

namespace {

/// True on a thread while it runs a chunk: a parallel_for from there runs inline.
thread_local bool t_inside_chunk = false;

/// Sets t_inside_chunk for a scope, restoring it after (also when the chunk throws).
class InsideChunk {
 public:
  InsideChunk() : saved_(t_inside_chunk) { t_inside_chunk = true; }
  ~InsideChunk() { t_inside_chunk = saved_; }

 private:
  bool saved_;
};

/// Waits until `value` differs from `old`: polls, yielding between polls, for up to `budget`,
/// then sleeps in atomic::wait. Polling keeps dispatch at about a microsecond when loops come back
/// to back; yielding (rather than a pause loop) lets the awaited thread run at once when the
/// scheduler put both on one CPU, where a pause loop measured 15 us per dispatch against 3 us;
/// the budget keeps idle workers off the CPU.
template <typename T>
T await_change(const std::atomic<T>& value, T old, std::chrono::microseconds budget) {
  auto deadline = std::chrono::steady_clock::now() + budget;
  do {
    T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < deadline);
  for (;;) {
    value.wait(old, std::memory_order_acquire);
    T now = value.load(std::memory_order_acquire);
    if (now != old) return now;
  }
}

constexpr std::chrono::microseconds kSpin{50};

/// The pool used until the plugin installs PyTorch's: persistent workers, one per hardware thread
/// besides the caller, each handed at most one contiguous chunk per parallel_for.
///
/// NOTE: calls from different threads do not share the workers: a caller that finds the pool busy
/// runs its whole range inline rather than wait, so no caller ever blocks on another (and a chunk
/// that waits for another thread's parallel_for cannot deadlock).
class DefaultThreadPool final : public ThreadPool {
 public:
  explicit DefaultThreadPool(int threads) { start(threads); }
  ~DefaultThreadPool() override { stop(); }

  int num_threads() const override { return num_threads_.load(std::memory_order_relaxed); }

  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n <= 0) return;
    int chunks = static_cast<int>(std::min<int64_t>(n, num_threads()));
    std::unique_lock lock(call_mutex_, std::defer_lock);
    if (t_inside_chunk || chunks == 1 || !lock.try_lock()) {
      InsideChunk inside;
      fn(0, n);
      return;
    }
    dispatch(n, chunks, fn);
  }

  /// Replaces the workers; waits for a parallel_for in flight to finish first.
  void resize(int threads) {
    if (t_inside_chunk) throw Error("set_default_pool_threads called from inside a parallel loop");
    std::lock_guard lock(call_mutex_);
    stop();
    start(threads);
  }

 private:
  /// One worker's mailbox, on its own cache line so that handing out chunks does not false-share.
  struct alignas(64) Worker {
    std::atomic<uint32_t> ticket{0};  ///< Bumped by the caller to hand over [begin, end).
    int64_t begin = 0, end = 0;
    const std::function<void(int64_t, int64_t)>* fn = nullptr;
    std::exception_ptr error;
    std::thread thread;
  };

  void start(int threads) {
    workers_.clear();
    for (int i = 0; i < threads - 1; ++i) workers_.push_back(std::make_unique<Worker>());
    stopping_.store(false);
    for (auto& w : workers_) w->thread = std::thread([this, w = w.get()] { work(*w); });
    num_threads_.store(threads, std::memory_order_relaxed);
  }

  void stop() {
    stopping_.store(true);
    for (auto& w : workers_) {
      w->ticket.fetch_add(1, std::memory_order_release);
      w->ticket.notify_one();
    }
    for (auto& w : workers_) w->thread.join();
    workers_.clear();
  }

  void work(Worker& w) {
    t_inside_chunk = true;
    uint32_t seen = 0;
    for (;;) {
      seen = await_change(w.ticket, seen, kSpin);
      if (stopping_.load()) return;
      try {
        (*w.fn)(w.begin, w.end);
      } catch (...) {
        w.error = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
    }
  }

  // Chunk c is [c*n/chunks, (c+1)*n/chunks): sizes differ by at most one. The caller runs chunk 0.
  void dispatch(int64_t n, int chunks, const std::function<void(int64_t, int64_t)>& fn) {
    pending_.store(chunks - 1, std::memory_order_relaxed);
    for (int c = 1; c < chunks; ++c) {
      Worker& w = *workers_[c - 1];
      w.begin = c * n / chunks;
      w.end = (c + 1) * n / chunks;
      w.fn = &fn;
      w.error = nullptr;
      w.ticket.fetch_add(1, std::memory_order_release);
      w.ticket.notify_one();
    }
    std::exception_ptr error;
    try {
      InsideChunk inside;
      fn(0, n / chunks);
    } catch (...) {
      error = std::current_exception();
    }
    // Workers hold a pointer to `fn`: wait for every one of them even when our chunk threw.
    for (int left = pending_.load(std::memory_order_acquire); left != 0;)
      left = await_change(pending_, left, kSpin);
    for (int c = 1; c < chunks && !error; ++c) error = workers_[c - 1]->error;
    if (error) std::rethrow_exception(error);
  }

  std::atomic<int> num_threads_{1};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> pending_{0};
  std::mutex call_mutex_;  ///< Held for a whole parallel_for that uses the workers.
};

int hardware_threads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

DefaultThreadPool& default_pool() {
  static DefaultThreadPool pool(hardware_threads());
  return pool;
}

std::atomic<ThreadPool*> g_installed_pool{nullptr};

}  // namespace

ThreadPool& current_thread_pool() {
  ThreadPool* pool = g_installed_pool.load(std::memory_order_acquire);
  return pool ? *pool : default_pool();
}

void set_thread_pool(ThreadPool* pool) {
  g_installed_pool.store(pool, std::memory_order_release);
}

std::unique_ptr<ThreadPool> make_thread_pool(int threads) {
  if (threads < 1)
    throw Error(str_cat("make_thread_pool: thread count must be >= 1, got ", threads));
  return std::make_unique<DefaultThreadPool>(threads);
}

void set_default_pool_threads(int n) {
  if (n < 1) throw Error(str_cat("set_default_pool_threads: thread count must be >= 1, got ", n));
  default_pool().resize(n);
}

void parallel_tasks(size_t n, const std::function<void(size_t)>& task) {
  std::atomic<size_t> next{0};
  std::vector<std::exception_ptr> errors(n);
  DefaultThreadPool& pool = default_pool();
  int64_t threads = std::min<int64_t>(pool.num_threads(), static_cast<int64_t>(n));
  pool.parallel_for(threads, [&](int64_t, int64_t) {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        task(i);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  });
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace kiln

__attribute__((visibility("default"))) void kiln_parallel_for(void (*body)(void* ctx, int64_t begin,
                                                                           int64_t end),
                                                              void* ctx, int64_t n) {
  kiln::current_thread_pool().parallel_for(
      n, [body, ctx](int64_t begin, int64_t end) { body(ctx, begin, end); });
}

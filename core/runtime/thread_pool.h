// The pool that parallel loops of generated kernels run on. The plugin connects PyTorch's
// intra-op pool here; until then a default pool of std::threads serves.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace kiln {

class ThreadPool {
 public:
  virtual ~ThreadPool() = default;
  /// Threads a parallel loop may use now.
  virtual int num_threads() const = 0;
  /// Runs fn(begin, end) over chunks that cover [0, n) exactly once, and returns when all are done.
  /// Called from inside a chunk, it runs the whole range inline (no nested parallelism).
  virtual void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) = 0;
};

/// The pool generated kernels use. Never null.
ThreadPool& current_thread_pool();
/// Installs `pool` (not owned; must outlive its use); nullptr restores the default pool.
void set_thread_pool(ThreadPool* pool);
/// A new pool of `threads` threads like the default one; e.g. for a forked measuring process,
/// which inherits the default pool but not its threads.
std::unique_ptr<ThreadPool> make_thread_pool(int threads);

/// Sets the thread count of the default pool (default: hardware threads).
void set_default_pool_threads(int n);

/// Runs task(i) for every i in [0, n) on the default pool's threads (every hardware thread, unless
/// set_default_pool_threads said otherwise), each thread taking the next index as it finishes one:
/// for tasks of uneven cost, such as compiling kernels. Not on the current pool: a model that runs
/// its kernels on one thread (torch.set_num_threads(1)) still compiles them on every core, as
/// TorchInductor's compile workers do. Rethrows the exception of the lowest i that threw, after
/// every task has run or thrown.
void parallel_tasks(size_t n, const std::function<void(size_t)>& task);

}  // namespace kiln

/// The entry point generated code calls for a parallel loop: body(ctx, begin, end) over chunks of
/// [0, n). C linkage so the JIT can bind it by address.
extern "C" void kiln_parallel_for(void (*body)(void* ctx, int64_t begin, int64_t end), void* ctx,
                                  int64_t n);

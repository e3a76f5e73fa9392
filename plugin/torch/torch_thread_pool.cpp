// Kiln's parallel loops on PyTorch's intra-op pool: they follow torch.set_num_threads, and no
// second pool of threads competes with PyTorch's for the cores.
#include <ATen/Parallel.h>

#include "core/runtime/thread_pool.h"

namespace kiln {

namespace {

class TorchThreadPool final : public ThreadPool {
 public:
  int num_threads() const override { return at::get_num_threads(); }

  /// Called from inside a parallel region, at::parallel_for runs the whole range inline, as
  /// ThreadPool requires.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    if (n <= 0) return;
    at::parallel_for(0, n, 1, [&fn](int64_t begin, int64_t end) { fn(begin, end); });
  }
};

/// Installs the pool when libkiln_torch.so is loaded. NOTE: this only stores a pointer; nothing
/// of PyTorch runs until the first parallel loop, so loading the library without Python (a C++
/// program) or before PyTorch has set up its threads is safe. The pool is never destroyed: a
/// kernel may run on another thread while statics are destroyed at exit.
[[maybe_unused]] const bool g_installed = [] {
  set_thread_pool(new TorchThreadPool);
  return true;
}();

}  // namespace

}  // namespace kiln

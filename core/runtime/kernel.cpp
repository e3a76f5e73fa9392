#include "core/runtime/kernel.h"

#include <atomic>

#include "core/runtime/tensor_layout.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// Strides agree wherever they can change which element is read: a dimension of size 1 is only
/// ever indexed at 0, so its stride is free (PyTorch gives such dimensions arbitrary strides).
bool strides_match(const std::vector<int64_t>& shape, const std::vector<int64_t>& expected,
                   const std::vector<int64_t>& actual) {
  if (expected.size() != actual.size()) return false;
  for (size_t d = 0; d < shape.size(); ++d)
    if (shape[d] != 1 && expected[d] != actual[d]) return false;
  return true;
}

}  // namespace

Kernel::Kernel(LoweredFunc func) : func_(std::move(func)) {
  static std::atomic<uint64_t> next{1};
  id_ = next.fetch_add(1, std::memory_order_relaxed);
}

void Kernel::launch_keeping(void* const* args, PreparedBuffers&, const std::vector<bool>&) const {
  launch(args);
}

void run_kernel(const Kernel& kernel, const std::vector<const HostTensor*>& args) {
  const LoweredFunc& f = kernel.func();
  if (args.size() != f.params.size())
    throw Error(
        str_cat("kernel '", f.name, "' takes ", f.params.size(), " arguments, got ", args.size()));
  std::vector<void*> pointers;
  pointers.reserve(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const TensorNode& p = *f.params[i].get();
    const HostTensor* a = args[i];
    if (!a) throw Error(str_cat("kernel '", f.name, "' argument ", i, " ('", p.name, "') is null"));
    if (a->dtype != p.dtype || a->shape != p.shape ||
        !strides_match(p.shape, p.strides, a->strides))
      throw Error(str_cat("kernel '", f.name, "' argument ", i, " ('", p.name, "'): expected ",
                          layout_string(p.dtype, p.shape, p.strides), ", got ",
                          layout_string(a->dtype, a->shape, a->strides)));
    if (!fits_storage(*a))
      throw Error(str_cat("kernel '", f.name, "' argument ", i, " ('", p.name,
                          "'): its strides reach past the end of its storage"));
    pointers.push_back(a->data());
  }
  kernel.launch(pointers.data());
}

}  // namespace kiln

#include "backends/llvm/jit_kernel.h"

#include <algorithm>
#include <array>
#include <vector>

#include "core/support/error.h"
#include "core/support/log.h"

namespace kiln::llvm_backend {

JitKernel::JitKernel(LoweredFunc f, std::shared_ptr<JitEngine> engine, JitModule code)
    : Kernel(std::move(f)), engine_(std::move(engine)), code_(std::move(code)) {}

JitKernel::~JitKernel() {
  if (llvm::Error err = engine_->remove(code_)) {
    // A destructor cannot throw; the code stays in the JIT (leaked), and the process goes on.
    log_message(LogLevel::Warning, str_cat("kiln: freeing kernel '", func().name,
                                           "' from the JIT failed; its code stays loaded: ",
                                           llvm::toString(std::move(err))));
  }
}

void JitKernel::launch(void* const* args) const {
  // The parameters, then no prepared block: a kernel with prepared buffers takes them itself.
  // NOTE: always, for func() may be only a signature (a kernel loaded from its object code in
  // the measuring process), which does not say whether the code has prepared buffers.
  size_t n = func().params.size();
  constexpr size_t kOnStack = 32;
  if (n < kOnStack) {
    std::array<void*, kOnStack> all{};
    std::copy(args, args + n, all.begin());
    return entry()(all.data());
  }
  std::vector<void*> all(args, args + n);
  all.push_back(nullptr);
  entry()(all.data());
}

void JitKernel::launch_keeping(void* const* args, PreparedBuffers& kept,
                               const std::vector<bool>& constant) const {
  if (func().prepared.empty()) return launch(args);
  launch_with_prepared(*this, entry(), args, kept, constant);
}

}  // namespace kiln::llvm_backend

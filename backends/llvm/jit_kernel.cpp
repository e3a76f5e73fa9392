#include "backends/llvm/jit_kernel.h"

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
  reinterpret_cast<void (*)(void* const*)>(code_.entry)(args);
}

}  // namespace kiln::llvm_backend

#include "backends/llvm/jit_kernel.h"

#include <cstdio>
#include <cstdlib>

namespace kiln::llvm_backend {

JitKernel::JitKernel(LoweredFunc f, std::shared_ptr<JitEngine> engine, JitModule code)
    : Kernel(std::move(f)), engine_(std::move(engine)), code_(std::move(code)) {}

JitKernel::~JitKernel() {
  if (llvm::Error err = engine_->remove(code_)) {
    // A destructor cannot throw, and JIT memory that cannot be released is not recoverable.
    std::fprintf(stderr, "kiln: removing kernel '%s' from the JIT failed: %s\n",
                 func().name.c_str(), llvm::toString(std::move(err)).c_str());
    std::abort();
  }
}

void JitKernel::launch(void* const* args) const {
  reinterpret_cast<void (*)(void* const*)>(code_.entry)(args);
}

}  // namespace kiln::llvm_backend

// A kernel whose code lives in the JIT. Private to backends/llvm.
#pragma once

#include <memory>
#include <vector>

#include "backends/llvm/jit_engine.h"
#include "core/runtime/kernel.h"

namespace kiln::llvm_backend {

/// Holds the entry point and what frees its code (the ResourceTracker of a compiled module, or the
/// JITDylib of a loaded object), and shares ownership of the JIT: destroying the kernel removes
/// its code (no call may still be inside it).
class JitKernel : public Kernel {
 public:
  JitKernel(LoweredFunc f, std::shared_ptr<JitEngine> engine, JitModule code);
  ~JitKernel() override;
  void launch(void* const* args) const override;
  void launch_keeping(void* const* args, PreparedBuffers& kept,
                      const std::vector<bool>& constant) const override;

 private:
  KernelEntry entry() const { return reinterpret_cast<KernelEntry>(code_.entry); }

  std::shared_ptr<JitEngine> engine_;
  JitModule code_;
};

}  // namespace kiln::llvm_backend

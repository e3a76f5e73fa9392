// The compile path of the plugin: op graph → fusion groups → default schedules → LLVM kernels →
// registered kernel slots. One LLVM compiler serves the whole process.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "plugin/torch/kiln_torch.h"

namespace kiln {

class CompileService {
 public:
  /// The process's service; its LLVM JIT is set up on first use (throws CompileError when LLVM
  /// cannot be set up).
  static CompileService& global();

  /// See compile_graph in kiln_torch.h.
  CompiledGraph compile(const Graph& g);

  /// See swap_kernel_for_test in kiln_torch.h.
  void recompile(int64_t slot);

  /// The CPU the kernels are compiled for.
  const Target& target() const { return compiler_->target(); }

 private:
  explicit CompileService(std::unique_ptr<LLVMCompiler> compiler);

  /// The kernel of `group` (workload `key`), named `name`, or null when scheduling or compiling
  /// it fails (logged once per workload). Structurally equal groups (repeated layers) share one
  /// kernel.
  std::shared_ptr<const Kernel> kernel_for(const FusionGroup& group, uint64_t key,
                                           const std::string& name);

  /// A compiled (or failed: null kernel) workload.
  struct CachedKernel {
    std::vector<Tensor> results;
    std::shared_ptr<const Kernel> kernel;
  };

  std::unique_ptr<LLVMCompiler> compiler_;
  std::mutex mutex_;                                               ///< Guards cache_.
  std::unordered_map<uint64_t, std::vector<CachedKernel>> cache_;  ///< By workload key.
};

}  // namespace kiln

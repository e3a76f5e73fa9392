// The compile path of the plugin: op graph → fusion groups → default schedules → LLVM kernels →
// registered kernel slots. One LLVM compiler serves the whole process.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backends/llvm/llvm_compiler.h"
#include "core/tune/kernel_pipeline.h"
#include "plugin/torch/kiln_torch.h"

namespace kiln {

class CompileService {
 public:
  /// The process's service; its LLVM JIT is set up on first use (throws CompileError when LLVM
  /// cannot be set up).
  static CompileService& global();

  /// See compile_graph in kiln_torch.h.
  CompiledGraph compile(const Graph& g, const CompileOptions& options);

  /// See test_hooks::swap_kernel in test_hooks.h.
  void recompile(int64_t slot);

  /// The CPU the kernels are compiled for.
  const Target& target() const { return compiler_->target(); }
  /// The process's compiler.
  const KernelCompiler& compiler() const { return *compiler_; }

 private:
  explicit CompileService(std::unique_ptr<LLVMCompiler> compiler);

  /// A compiled (or failed: null kernel) workload.
  struct CachedKernel {
    std::shared_ptr<const Kernel> kernel;
    /// What it was built from, as decisions name it (decision_subject): the default schedule or
    /// one tuned record.
    std::string subject;
    bool settled = false;  ///< Whether tuning settled its workload before (KernelChoice).
  };
  /// What the process keeps of a workload: its kernel while some slot serves it (a kernel lives
  /// as long as its slots), a failure for good, and the contraction decision.
  struct CacheEntry {
    std::vector<Tensor> results;
    std::weak_ptr<const Kernel> kernel;
    bool failed = false;
    std::string subject;
    bool settled = false;
    /// Decided for a group with a contraction, per mask of its constant inputs (what Kiln's
    /// kernel keeps prepared from them counts).
    std::map<std::vector<bool>, bool> aten_is_faster;
  };

  /// The kernel of `results` (workload `key`), named `name`, from `source` (a tuned record of
  /// the cache, else the default schedule); its kernel is null when scheduling or compiling fails
  /// (logged once per workload). Structurally equal groups (repeated layers) share one kernel.
  CachedKernel kernel_for(const std::vector<Tensor>& results, uint64_t key, const std::string& name,
                          const KernelSource& source);

  /// Whether `served` (ATen's contraction and an epilogue) runs faster than `whole`, Kiln's
  /// kernel of the same group (`results`, workload `key`, built from `subject`), the inputs
  /// marked in `constant` being the model's constants (what `whole` prepares from them is kept):
  /// the tuning cache's "contraction" decision against that kernel, else measured once and
  /// recorded.
  bool aten_is_faster(uint64_t key, const std::vector<Tensor>& results, const Kernel& whole,
                      const std::string& subject, const Kernel& served,
                      const std::vector<bool>& constant, const KernelSource& source);

  /// The cache entry of `results`, or null. Needs mutex_.
  CacheEntry* cached(uint64_t key, const std::vector<Tensor>& results);
  /// The entry's kernel while it lives (null and no record after a failure); nullopt when the
  /// kernel was freed or never made. Needs mutex_.
  static std::optional<CachedKernel> usable(const CacheEntry& entry);
  /// Forgets entries whose kernels no slot holds any more, unless they hold a failure or a
  /// decision. Needs mutex_.
  void forget_freed_kernels();

  std::unique_ptr<LLVMCompiler> compiler_;
  std::mutex mutex_;                                             ///< Guards cache_.
  std::unordered_map<uint64_t, std::vector<CacheEntry>> cache_;  ///< By workload key.
};

}  // namespace kiln

// The ORC LLJIT that holds every kernel's machine code. Private to the LLVM backend.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "backends/llvm/vector_library.h"
#include "core/ir/target.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"

namespace kiln::llvm_backend {

/// Machine code of one module in the JIT: its entry point, and the tracker that frees it.
struct JitModule {
  void* entry = nullptr;
  llvm::orc::ResourceTrackerSP tracker;
};

/// One LLJIT for the host CPU with all its features, at CodeGenOptLevel::Aggressive. Modules are
/// optimized by optimize_module as they are materialized (an IRTransformLayer), each on the
/// thread that adds it, so compiles from several threads run concurrently.
class JitEngine {
 public:
  /// Throws CompileError when LLVM cannot set up a JIT for the host.
  static std::shared_ptr<JitEngine> create();

  /// Sets the host's triple and data layout on a module about to be filled.
  void configure(llvm::Module& m) const;
  /// Optimizes and compiles `tsm` and returns the address of its function `entry`. Thread-safe.
  /// Throws CompileError with LLVM's message.
  JitModule add(llvm::orc::ThreadSafeModule tsm, const std::string& entry);
  /// A fresh TargetMachine for the host (one per thread: they are not thread-safe).
  std::unique_ptr<llvm::TargetMachine> make_target_machine() const;

  const Target& target() const { return target_; }
  const std::string& cpu() const { return cpu_; }
  const std::string& features() const { return features_; }
  /// libmvec, or nullptr when the process cannot load it.
  const VectorLibrary* vector_library() const { return veclib_ ? &*veclib_ : nullptr; }

 private:
  JitEngine(llvm::orc::JITTargetMachineBuilder jtmb, Target target)
      : jtmb_(std::move(jtmb)), target_(std::move(target)) {}
  void setup_symbols();

  llvm::orc::JITTargetMachineBuilder jtmb_;
  Target target_;
  std::string cpu_, features_;
  std::optional<VectorLibrary> veclib_;
  std::unique_ptr<llvm::orc::LLJIT> jit_;  // last: destroyed first, while the rest still lives
};

}  // namespace kiln::llvm_backend

// The ORC LLJIT that holds every kernel's machine code. Private to backends/llvm.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "backends/llvm/vector_library.h"
#include "core/ir/target.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"

namespace kiln::llvm_backend {

/// Machine code of one module in the JIT: its entry point, and what frees it (JitEngine::remove).
struct JitModule {
  void* entry = nullptr;
  llvm::orc::JITDylib* dylib = nullptr;  ///< The module's own JITDylib.
};

/// One LLJIT for the host CPU with all its features, at CodeGenOptLevel::Aggressive. A module is
/// optimized (optimize_module) and compiled to an object on the thread that adds it, so compiles
/// from several threads run concurrently, and an error LLVM reports while it compiles (a fatal
/// error, or an error diagnostic) is a CompileError thrown to that thread: LLVM would otherwise
/// abort or exit the user's process.
class JitEngine {
 public:
  /// Throws CompileError when LLVM cannot set up a JIT for the host.
  static std::shared_ptr<JitEngine> create();
  ~JitEngine();

  /// Sets the host's triple and data layout on a module about to be filled.
  void configure(llvm::Module& m) const;
  /// Optimizes and compiles `tsm` and returns the address of its function `entry`. Thread-safe.
  /// With `object`, also stores there the relocatable object code the module compiled to.
  /// Throws CompileError with LLVM's message.
  JitModule add(llvm::orc::ThreadSafeModule tsm, const std::string& entry,
                std::string* object = nullptr);
  /// Links `object` (what add() stored) into a JITDylib of its own, which sees the main one's
  /// symbols (kiln_parallel_for, libm, the vector math libraries), and returns the address of
  /// `entry`: the same object loaded twice, or one whose names a compiled module also uses, never
  /// clashes. Thread-safe. Throws CompileError with LLVM's message.
  JitModule load(std::string_view object, const std::string& entry);
  /// Frees the code of `code` (no call may still be inside it).
  llvm::Error remove(const JitModule& code);
  /// Modules added or loaded and not yet removed, by every engine of the process.
  static int64_t live_modules();
  /// A fresh TargetMachine for the host (one per thread: they are not thread-safe).
  std::unique_ptr<llvm::TargetMachine> make_target_machine() const;

  const Target& target() const { return target_; }
  const std::string& cpu() const { return cpu_; }
  const std::string& features() const { return features_; }
  /// libmvec and SLEEF, or nullptr when the process can load neither.
  const VectorLibrary* vector_library() const { return veclib_ ? &*veclib_ : nullptr; }

 private:
  JitEngine(llvm::orc::JITTargetMachineBuilder jtmb, Target target);
  void setup_symbols();

  llvm::orc::JITTargetMachineBuilder jtmb_;
  Target target_;
  std::string cpu_, features_;
  std::optional<VectorLibrary> veclib_;
  std::atomic<uint64_t> next_dylib_{0};
  std::unique_ptr<llvm::orc::LLJIT> jit_;  // last: destroyed first, while the rest still lives
};

}  // namespace kiln::llvm_backend

// The LLVM ORC CPU backend: compiles loop IR to machine code in this process.
//
//   auto compiler = LLVMCompiler::create();
//   std::unique_ptr<Kernel> k = compiler->compile(lowered);   // from any thread
//   run_kernel(*k, {&a, &b, &out});
//
// No LLVM type appears here: LLVM is linked statically and hidden inside kiln_llvm.
#pragma once

#include <memory>
#include <string>

#include "core/ir/stmt.h"
#include "core/ir/target.h"
#include "core/runtime/kernel_compiler.h"

namespace kiln {

/// Owns one ORC LLJIT for the host CPU. Kernels share ownership of the JIT, so a kernel stays
/// callable even after the compiler that made it is destroyed.
///
/// How loop IR becomes code (what a schedule can rely on):
/// - Serial loops are plain loops; Unrolled loops are replicated in full.
/// - Parallel loops run their body through kiln_parallel_for (the current ThreadPool).
/// - A Vectorized loop whose body is straight-line (Stores, Seqs, nested Unrolled loops, Ifs
///   whose condition does not use the loop variable) and has at most 64 iterations becomes
///   explicit vector code of that width: accesses with unit stride in the loop variable are
///   vector loads/stores, stride 0 scalar loads, others gathers/scatters. Like TVM's vectorize,
///   this assumes the iterations are independent; a tensor both read and written in the loop must
///   be accessed at the same indices everywhere, and a store whose index does not use the loop
///   variable must not store a value that does (a reduction). Any other Vectorized loop is a
///   scalar loop that LLVM's loop vectorizer is forced to vectorize.
/// - An Unrolled loop of two iterations inside an explicit vector loop whose body is
///   `acc = acc + f32(x) * f32(y)`, x and y bf16 loads and acc not depending on the pair, becomes
///   AVX512-BF16 dot products (vdpbf16ps: both products of a lane's pair in one instruction)
///   where the CPU has them, and two FMAs where it does not.
/// - f16 and bf16 values compute in f32 and are rounded when cast or stored.
class LLVMCompiler : public KernelCompiler {
 public:
  /// Sets up the JIT for the host CPU. Throws CompileError when LLVM cannot.
  static std::unique_ptr<LLVMCompiler> create();
  ~LLVMCompiler() override;

  /// Compiles `f` into a kernel. Thread-safe. Throws CompileError naming what the CPU backend
  /// cannot compile (a GPU loop, shared memory, a reduction left in the loop IR), or carrying
  /// LLVM's message and the printed loop IR when LLVM fails.
  std::unique_ptr<Kernel> compile(const LoweredFunc& f) const override;
  /// An ELF relocatable object for this CPU, whose entry symbol is unique in this process.
  /// Thread-safe. Throws as compile() does.
  ObjectCode compile_object(const LoweredFunc& f) const override;
  /// Links `code` into a JITDylib of its own in this process's JIT (see KernelCompiler).
  std::unique_ptr<Kernel> load_object(const ObjectCode& code, const LoweredFunc& f) const override;
  /// One code generation for both: the object is what the kernel runs.
  std::pair<std::unique_ptr<Kernel>, ObjectCode> compile_with_object(
      const LoweredFunc& f) const override;

  /// The optimized LLVM IR of `f` as text, for golden tests and debugging. Thread-safe.
  std::string llvm_ir(const LoweredFunc& f) const;

  /// Kernels whose machine code is in this process's JIT now (compiled or loaded, not yet
  /// freed), by every compiler.
  static int64_t live_kernels();

  /// The CPU kernels are compiled for.
  const Target& target() const override;
  std::string_view name() const override { return "llvm"; }

 private:
  struct Impl;
  explicit LLVMCompiler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln

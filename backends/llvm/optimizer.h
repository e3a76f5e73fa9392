// The middle end: LLVM's O3 pipeline tuned for kernels. Private to backends/llvm.
#pragma once

namespace llvm {
class Module;
class TargetMachine;
}  // namespace llvm

namespace kiln::llvm_backend {

class VectorLibrary;

/// Runs the O3 pipeline over `m` with loop and SLP vectorization and full unrolling on, the cost
/// model of `tm`, and vector math from `veclib` (may be null). Not thread-safe for one `tm`.
void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const VectorLibrary* veclib);

}  // namespace kiln::llvm_backend

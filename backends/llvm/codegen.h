// Loop IR → LLVM IR. Private to backends/llvm.
#pragma once

#include <string>

#include "core/ir/stmt.h"

namespace llvm {
class Module;
}

namespace kiln::llvm_backend {

class VectorLibrary;

/// The machine the code is generated for.
struct CodegenTarget {
  std::string cpu;       ///< LLVM's name, e.g. "znver5".
  std::string features;  ///< LLVM's feature string, e.g. "+avx512f,+fma,...".
  int vector_bits = 256;
  const VectorLibrary* veclib = nullptr;  ///< libmvec and SLEEF, or null: a scalar call per lane.
  /// A kernel whose parameters together exceed this many bytes writes its outputs with
  /// non-temporal (streaming) stores where it can: its data cannot stay in the last-level cache
  /// for a consumer anyway, and the stores then skip the read-for-ownership. 0: never.
  int64_t streaming_bytes = 0;
};

/// Emits `f` into `m` (already configured for the target) as `void entry(void** args)`, with
/// args[i] the data pointer of f.params[i]; the rest of the module is internal. Throws
/// CompileError when `f` holds something a CPU cannot run (GPU loops, shared memory, a Reduce).
void generate_kernel(const LoweredFunc& f, const std::string& entry, const CodegenTarget& target,
                     llvm::Module& m);

}  // namespace kiln::llvm_backend

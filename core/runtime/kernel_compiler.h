// What every backend offers: loop IR in, runnable kernel out. core/tune measures candidates
// through this interface, so it needs no backend of its own.
#pragma once

#include <memory>

#include "core/ir/target.h"
#include "core/runtime/kernel.h"

namespace kiln {

class KernelCompiler {
 public:
  virtual ~KernelCompiler() = default;
  /// Compiles `f`. Thread-safe. Throws CompileError when the backend cannot.
  virtual std::unique_ptr<Kernel> compile(const LoweredFunc& f) const = 0;
  /// The machine the kernels are compiled for.
  virtual const Target& target() const = 0;
};

}  // namespace kiln

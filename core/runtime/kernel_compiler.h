// What every backend offers: loop IR in, runnable kernel out. core/tune measures candidates
// through this interface, so it needs no backend of its own.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "core/ir/target.h"
#include "core/runtime/kernel.h"
#include "core/support/error.h"

namespace kiln {

/// A kernel's relocatable machine code, loadable by the same backend in another process on the
/// same machine (the measuring worker) or later (the compiled-code cache).
struct ObjectCode {
  std::string bytes;  ///< The object file as the backend wrote it (ELF for the LLVM backend).
  std::string entry;  ///< The symbol of the kernel's entry point in `bytes`.
};

class KernelCompiler {
 public:
  virtual ~KernelCompiler() = default;
  /// Compiles `f`. Thread-safe. Throws CompileError when the backend cannot.
  virtual std::unique_ptr<Kernel> compile(const LoweredFunc& f) const = 0;
  /// The machine the kernels are compiled for.
  virtual const Target& target() const = 0;
  /// The backend's name, for messages ("llvm").
  virtual std::string_view name() const { return "unnamed"; }

  /// Compiles `f` to object code instead of to a kernel in this process. Thread-safe. Throws
  /// CompileError as compile() does, or when the backend cannot emit object code.
  virtual ObjectCode compile_object(const LoweredFunc& f) const {
    throw CompileError(str_cat("backend ", name(), " cannot emit object code"));
  }
  /// The kernel of `code`, which compile_object made from a function with `f`'s parameters (in
  /// any process of this machine). Thread-safe; the same code may be loaded any number of times.
  /// Throws CompileError when the code does not load.
  virtual std::unique_ptr<Kernel> load_object(const ObjectCode& code, const LoweredFunc& f) const {
    throw CompileError(str_cat("backend ", name(), " cannot load object code"));
  }
  /// compile() and compile_object() of `f` at once; a backend that can, generates code once.
  virtual std::pair<std::unique_ptr<Kernel>, ObjectCode> compile_with_object(
      const LoweredFunc& f) const {
    ObjectCode code = compile_object(f);
    return {compile(f), std::move(code)};
  }
};

}  // namespace kiln

// Compiled kernels kept on disk, so a process that starts with a warm cache compiles nothing it
// compiled before: the object code of each lowered function, keyed by the function's printed form
// and by what makes machine code valid (CPU, ISA features, compiler version). A file whose key
// text differs, or that does not parse, is a miss, never a wrong kernel; deleting the folder only
// costs compile time.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "core/runtime/kernel_compiler.h"

namespace kiln {

class KernelObjectCache {
 public:
  /// Objects live in `dir` (created on the first store); `target` names the machine code's
  /// validity: CPU, features and compiler version, by name.
  KernelObjectCache(std::string dir, std::string target);

  /// The kernel of `f`: loaded from the cache when it holds `f`'s object for this target, else
  /// compiled with `compiler` and stored (written aside and renamed: readers never see half a
  /// file). Throws what compiling throws; a cache that cannot be written is skipped silently
  /// after the first failure (counted in write_failures()).
  std::unique_ptr<Kernel> compile(const KernelCompiler& compiler, const LoweredFunc& f);

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  int64_t write_failures() const { return write_failures_; }

 private:
  std::string dir_, target_;
  std::atomic<int64_t> hits_{0}, misses_{0}, write_failures_{0};
};

}  // namespace kiln

// What a tuning record's measurements depend on besides the workload: the machine and the
// compiler. A record is served only on a target with an equal fingerprint; on another it may
// still train the cost model (marked as from another target).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/ir/target.h"

namespace kiln {

struct TargetFingerprint {
  std::string kind;       ///< "cpu" or "cuda".
  std::string cpu_model;  ///< /proc/cpuinfo's vendor, family, model and name; the GPU's name.
  std::string cpu;        ///< The compiler's name for it ("znver4"); compute capability on CUDA.
  std::string features;   ///< Sorted ISA features the compiler may use ("+avx512f,...").
  std::string caches;     ///< "l1=32768,l2=1048576,l3=33554432".
  int threads = 1;        ///< Threads the kernels were measured with.
  std::string compiler;   ///< "llvm 19.1.7", "nvrtc 13.0".

  bool operator==(const TargetFingerprint&) const = default;
  /// "kind=cpu;cpu_model=...;cpu=znver4;features=...;caches=...;threads=2;compiler=llvm 19.1.7":
  /// every field by name, the form the tuning cache stores.
  std::string to_text() const;
  /// Parses to_text(); throws Error naming the missing or unknown field.
  static TargetFingerprint from_text(const std::string& text);
  /// (field, "this value → other value") for every field that differs: why a record of `other`
  /// is not served here.
  std::vector<std::pair<std::string, std::string>> differences(
      const TargetFingerprint& other) const;
  /// The widest vector extension ("cpu avx512f", "cpu avx2") or the GPU's architecture ("cuda
  /// sm_90"): what decides which register tiles and vector widths are fast.
  std::string vector_isa() const;
};

/// The fingerprint of `target` (as a backend detected it) compiled by `compiler`, measured with
/// `threads` threads.
TargetFingerprint fingerprint_of(const Target& target, const std::string& compiler, int threads);

}  // namespace kiln

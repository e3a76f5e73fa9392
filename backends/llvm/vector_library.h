// glibc's libmvec: SIMD variants of the math functions kernels call (expf → _ZGVeN16v_expf).
// Private to backends/llvm. Used twice: the loop vectorizer learns the variants through
// TargetLibraryInfo, and explicit vector code calls them directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace llvm {
class TargetLibraryInfoImpl;
}

namespace kiln::llvm_backend {

/// One SIMD variant of a scalar function.
struct VectorVariant {
  std::string scalar_name;  ///< "expf", or the intrinsic "llvm.exp.f32".
  std::string vector_name;  ///< "_ZGVeN16v_expf".
  std::string abi_prefix;   ///< "_ZGV_LLVM_N16v": how LLVM's vectorizers name the variant.
  int lanes;
  int arity;
};

/// The libmvec variants usable on a CPU with vectors of `vector_bits`.
class VectorLibrary {
 public:
  /// Loads libmvec.so.1 into the process (once); std::nullopt when it is not there, in which case
  /// vector math falls back to one scalar call per lane.
  static std::optional<VectorLibrary> load(int vector_bits);

  /// Tells the vectorizers about every variant (together with LLVM's own LIBMVEC_X86 preset,
  /// which lacks the AVX-512 variants and erf/tanh/log1p/expm1).
  void register_with(llvm::TargetLibraryInfoImpl& tlii) const;

  /// The widest variant of the libm function `scalar_name` ("erff") whose lane count divides
  /// `lanes`; nullptr when there is none.
  const VectorVariant* widest_for(std::string_view scalar_name, int lanes) const;

 private:
  std::vector<VectorVariant> variants_;
};

}  // namespace kiln::llvm_backend

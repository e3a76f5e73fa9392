// The SIMD math libraries kernels call: glibc's libmvec (expf → _ZGVeN16v_expf) and SLEEF for
// what libmvec lacks (lgammaf → Sleef_lgammaf8_u10, the function eager PyTorch itself calls).
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
  std::string scalar_name;  ///< "expf", "Sleef_lgammaf_u10", or the intrinsic "llvm.exp.f32".
  std::string vector_name;  ///< "_ZGVeN16v_expf".
  std::string abi_prefix;   ///< "_ZGV_LLVM_N16v": how LLVM's vectorizers name the variant.
  int lanes;
  int arity;
};

/// The variants usable on a CPU with vectors of `vector_bits`, from the libraries found.
class VectorLibrary {
 public:
  /// Loads libmvec.so.1 and libsleef.so.3 into the process (once each); std::nullopt when
  /// neither is there, in which case vector math falls back to one scalar call per lane.
  static std::optional<VectorLibrary> load(int vector_bits);

  /// Tells the vectorizers about every variant (together with LLVM's own LIBMVEC_X86 preset,
  /// which lacks the AVX-512 variants and erf/tanh/log1p/expm1).
  void register_with(llvm::TargetLibraryInfoImpl& tlii) const;

  /// The scalar function a kernel calls for the libm function `libm_name` ("lgammaf"): SLEEF's
  /// scalar version where SLEEF serves the function's vectors, so that a loop's vector body and
  /// its scalar tail compute alike; else `libm_name` itself.
  std::string scalar_symbol(std::string_view libm_name) const;

  /// The widest variant of the scalar function `scalar_name` (as scalar_symbol names it) whose
  /// lane count divides `lanes`; nullptr when there is none.
  const VectorVariant* widest_for(std::string_view scalar_name, int lanes) const;

  /// The shared libraries loaded ("libmvec.so.1", "libsleef.so.3"): the JIT resolves their
  /// symbols, and an object file compiled against them is valid only where they are.
  const std::vector<std::string>& sonames() const { return sonames_; }

 private:
  std::vector<VectorVariant> variants_;
  std::vector<std::string> sonames_;
  bool libmvec_ = false;
};

}  // namespace kiln::llvm_backend

#include "backends/llvm/vector_library.h"

#include <string>

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

namespace kiln::llvm_backend {

namespace {

struct MathFunction {
  const char* name;       // the f64 libm name; the f32 one appends 'f'
  const char* intrinsic;  // the LLVM intrinsic with the same meaning, or nullptr
  int arity;
};

// The functions Kiln's kernels call that glibc 2.35+ vectorizes.
constexpr MathFunction kFunctions[] = {
    {"exp", "exp", 1},     {"exp2", "exp2", 1},   {"log", "log", 1},     {"sin", "sin", 1},
    {"cos", "cos", 1},     {"pow", "pow", 2},     {"tanh", nullptr, 1},  {"erf", nullptr, 1},
    {"log1p", nullptr, 1}, {"expm1", nullptr, 1}, {"asin", nullptr, 1},  {"acos", nullptr, 1},
    {"atan", nullptr, 1},  {"sinh", nullptr, 1},  {"cosh", nullptr, 1},  {"tan", nullptr, 1},
    {"asinh", nullptr, 1}, {"acosh", nullptr, 1}, {"atanh", nullptr, 1}, {"log2", "log2", 1},
    {"log10", "log10", 1}, {"erfc", nullptr, 1},  {"atan2", nullptr, 2}, {"hypot", nullptr, 2},
};

// x86 vector function ABI ISA letters: b = SSE (128-bit), d = AVX2 (256), e = AVX-512 (512).
struct Isa {
  char letter;
  int bits;
};
constexpr Isa kIsas[] = {{'b', 128}, {'d', 256}, {'e', 512}};

}  // namespace

std::optional<VectorLibrary> VectorLibrary::load(int vector_bits) {
  // Once per process: the library stays loaded, and the JIT finds its symbols by dlsym.
  static const bool loaded = !llvm::sys::DynamicLibrary::LoadLibraryPermanently("libmvec.so.1");
  if (!loaded) return std::nullopt;
  VectorLibrary lib;
  for (const MathFunction& fn : kFunctions) {
    for (const Isa& isa : kIsas) {
      if (isa.bits > vector_bits) continue;
      for (int elem_bits : {32, 64}) {
        int lanes = isa.bits / elem_bits;
        std::string scalar = std::string(fn.name) + (elem_bits == 32 ? "f" : "");
        std::string vector = "_ZGV" + std::string(1, isa.letter) + "N" + std::to_string(lanes) +
                             std::string(fn.arity, 'v') + "_" + scalar;
        std::string prefix = "_ZGV_LLVM_N" + std::to_string(lanes) + std::string(fn.arity, 'v');
        lib.variants_.push_back({scalar, vector, prefix, lanes, fn.arity});
        if (fn.intrinsic)
          lib.variants_.push_back(
              {"llvm." + std::string(fn.intrinsic) + (elem_bits == 32 ? ".f32" : ".f64"), vector,
               prefix, lanes, fn.arity});
      }
    }
  }
  return lib;
}

void VectorLibrary::register_with(llvm::TargetLibraryInfoImpl& tlii) const {
  tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86,
                                          llvm::Triple(llvm::sys::getProcessTriple()));
  std::vector<llvm::VecDesc> descs;
  // NOTE: VecDesc keeps StringRefs into variants_, so this library must outlive `tlii`.
  for (const VectorVariant& v : variants_)
    descs.emplace_back(v.scalar_name, v.vector_name, llvm::ElementCount::getFixed(v.lanes),
                       /*Masked=*/false, v.abi_prefix);
  tlii.addVectorizableFunctions(descs);
}

const VectorVariant* VectorLibrary::widest_for(std::string_view scalar_name, int lanes) const {
  const VectorVariant* best = nullptr;
  for (const VectorVariant& v : variants_)
    if (v.scalar_name == scalar_name && lanes % v.lanes == 0 && (!best || v.lanes > best->lanes))
      best = &v;
  return best;
}

}  // namespace kiln::llvm_backend

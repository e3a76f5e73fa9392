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
constexpr MathFunction kLibmvecFunctions[] = {
    {"exp", "exp", 1},     {"exp2", "exp2", 1},   {"log", "log", 1},     {"sin", "sin", 1},
    {"cos", "cos", 1},     {"pow", "pow", 2},     {"tanh", nullptr, 1},  {"erf", nullptr, 1},
    {"log1p", nullptr, 1}, {"expm1", nullptr, 1}, {"asin", nullptr, 1},  {"acos", nullptr, 1},
    {"atan", nullptr, 1},  {"sinh", nullptr, 1},  {"cosh", nullptr, 1},  {"tan", nullptr, 1},
    {"asinh", nullptr, 1}, {"acosh", nullptr, 1}, {"atanh", nullptr, 1}, {"log2", "log2", 1},
    {"log10", "log10", 1}, {"erfc", nullptr, 1},  {"atan2", nullptr, 2}, {"hypot", nullptr, 2},
};

// The functions Kiln's kernels call through SLEEF instead, with SLEEF's accuracy suffix (u10:
// within 1.0 ulp, u35: within 3.5), on machines whose vectors are at least `min_vector_bits`
// wide. lgamma, which libmvec lacks: eager PyTorch's float lgamma is SLEEF's, so calling it gives
// eager's bits (99.96% of a random sample bit for bit, against glibc's 68%) at twice glibc's
// speed per lane before vectorization. With AVX-512, libmvec's 16-lane versions are the slower:
// exp2 and log10 took 1.1-1.5x SLEEF's u10 time, sin and cos 1.4-1.9x, and SLEEF's u35 sin and
// cos (within 3.5 ulp, as libmvec's are within 4, and what TorchInductor's vector code calls)
// take half its u10 time (benchmarks/elementwise_math.py, Zen 5, 2 threads). With AVX2
// libmvec's are the faster (0.84-0.9x SLEEF's time, Zen 3), as are its expm1, log1p and atanh.
struct SleefFunction {
  const char* name;
  const char* accuracy;
  int arity;
  int min_vector_bits;
};
constexpr SleefFunction kSleefFunctions[] = {{"lgamma", "u10", 1, 0},
                                             {"sin", "u35", 1, 512},
                                             {"cos", "u35", 1, 512},
                                             {"exp2", "u10", 1, 512},
                                             {"log10", "u10", 1, 512}};

// x86 vector function ABI ISA letters: b = SSE (128-bit), d = AVX2 (256), e = AVX-512 (512).
struct Isa {
  char letter;
  int bits;
};
constexpr Isa kIsas[] = {{'b', 128}, {'d', 256}, {'e', 512}};

std::string abi_prefix(int lanes, int arity) {
  return "_ZGV_LLVM_N" + std::to_string(lanes) + std::string(arity, 'v');
}

/// Loads `soname` into the process once; whether it is there.
bool load_once(const char* soname) {
  return !llvm::sys::DynamicLibrary::LoadLibraryPermanently(soname);
}

}  // namespace

std::optional<VectorLibrary> VectorLibrary::load(int vector_bits) {
  // Once per process: the libraries stay loaded, and the JIT finds their symbols by dlsym.
  static const bool libmvec = load_once("libmvec.so.1");
  static const bool sleef = load_once("libsleef.so.3");
  if (!libmvec && !sleef) return std::nullopt;
  VectorLibrary lib;
  lib.libmvec_ = libmvec;
  for (const Isa& isa : kIsas) {
    if (isa.bits > vector_bits) continue;
    for (int elem_bits : {32, 64}) {
      int lanes = isa.bits / elem_bits;
      const char* suffix = elem_bits == 32 ? "f" : "";
      for (const MathFunction& fn : kLibmvecFunctions) {
        if (!libmvec) break;
        std::string scalar = std::string(fn.name) + suffix;
        std::string vector = "_ZGV" + std::string(1, isa.letter) + "N" + std::to_string(lanes) +
                             std::string(fn.arity, 'v') + "_" + scalar;
        lib.variants_.push_back({scalar, vector, abi_prefix(lanes, fn.arity), lanes, fn.arity});
        if (fn.intrinsic)
          lib.variants_.push_back(
              {"llvm." + std::string(fn.intrinsic) + (elem_bits == 32 ? ".f32" : ".f64"), vector,
               abi_prefix(lanes, fn.arity), lanes, fn.arity});
      }
      for (const SleefFunction& fn : kSleefFunctions) {
        if (!sleef) break;
        if (vector_bits < fn.min_vector_bits) continue;
        // Sleef_lgammaf8_u10 dispatches to the best code for the running CPU at its first call.
        std::string type = elem_bits == 32 ? "f" : "d";
        lib.variants_.push_back(
            {"Sleef_" + std::string(fn.name) + suffix + "_" + fn.accuracy,
             "Sleef_" + std::string(fn.name) + type + std::to_string(lanes) + "_" + fn.accuracy,
             abi_prefix(lanes, fn.arity), lanes, fn.arity});
      }
    }
  }
  if (libmvec) lib.sonames_.push_back("libmvec.so.1");
  if (sleef) lib.sonames_.push_back("libsleef.so.3");
  return lib;
}

void VectorLibrary::register_with(llvm::TargetLibraryInfoImpl& tlii) const {
  if (libmvec_)
    tlii.addVectorizableFunctionsFromVecLib(llvm::TargetLibraryInfoImpl::LIBMVEC_X86,
                                            llvm::Triple(llvm::sys::getProcessTriple()));
  std::vector<llvm::VecDesc> descs;
  // NOTE: VecDesc keeps StringRefs into variants_, so this library must outlive `tlii`.
  for (const VectorVariant& v : variants_)
    descs.emplace_back(v.scalar_name, v.vector_name, llvm::ElementCount::getFixed(v.lanes),
                       /*Masked=*/false, v.abi_prefix);
  tlii.addVectorizableFunctions(descs);
}

std::string VectorLibrary::scalar_symbol(std::string_view libm_name) const {
  for (const SleefFunction& fn : kSleefFunctions) {
    std::string name = fn.name;
    if (libm_name != name && libm_name != name + "f") continue;
    std::string sleef = "Sleef_" + std::string(libm_name) + "_" + fn.accuracy;
    for (const VectorVariant& v : variants_)
      if (v.scalar_name == sleef) return sleef;
  }
  return std::string(libm_name);
}

const VectorVariant* VectorLibrary::widest_for(std::string_view scalar_name, int lanes) const {
  const VectorVariant* best = nullptr;
  for (const VectorVariant& v : variants_)
    if (v.scalar_name == scalar_name && lanes % v.lanes == 0 && (!best || v.lanes > best->lanes))
      best = &v;
  return best;
}

}  // namespace kiln::llvm_backend

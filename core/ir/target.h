// What a schedule needs to know about the machine it schedules for. Detection lives in the
// backends (backends/llvm/host_target.h); this is only the description.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace kiln {

/// Whether LLVM's comma-separated feature string ("+avx512f,-amx-tile,...") enables `name`
/// ("avx512bf16"): the whole name, not a prefix of a longer one.
inline bool has_cpu_feature(std::string_view features, std::string_view name) {
  for (size_t at = 0; at < features.size();) {
    size_t end = features.find(',', at);
    if (end == std::string_view::npos) end = features.size();
    std::string_view f = features.substr(at, end - at);
    if (f.size() == name.size() + 1 && f[0] == '+' && f.substr(1) == name) return true;
    at = end + 1;
  }
  return false;
}

enum class TargetKind : uint8_t { CPU, CUDA };

struct Target {
  TargetKind kind = TargetKind::CPU;
  std::string cpu;        ///< e.g. "znver5"; the GPU name for CUDA.
  std::string features;   ///< e.g. "+avx512f,+fma,..."; the compute capability for CUDA.
  int vector_bits = 256;  ///< Widest native vector register.
  int num_threads = 1;    ///< Threads kernels may use.
  int cache_line_bytes = 64;
  int l1_bytes = 32 * 1024;
  int l2_bytes = 1024 * 1024;
  int64_t l3_bytes = 16 * 1024 * 1024;  ///< Last-level cache, shared by the cores.
  /// The shared libraries a CPU kernel's machine code may call ("libmvec.so.1,libsleef.so.3"):
  /// object code is valid only where they all are.
  std::string math_libraries;

  /// Lanes of a native vector of elements of `bytes` bytes.
  int vector_lanes(int bytes) const { return vector_bits / 8 / bytes; }
  /// Architectural vector registers: x86-64 has 32 with AVX-512, 16 before it.
  int vector_registers() const { return vector_bits >= 512 ? 32 : 16; }
  /// Whether masked vector loads and stores cost about what plain ones do: AVX-512's mask
  /// registers. AVX2's masked moves cost several plain ones (a load ~4x, a store ~2.5x, measured
  /// on Zen 3), so schedules there avoid vectors that are only partly used.
  bool cheap_vector_masks() const { return vector_bits >= 512; }
  /// Whether the CPU sums pairs of bf16 products into f32 lanes in one instruction
  /// (AVX512-BF16's vdpbf16ps), at twice the f32 FMA's rate.
  bool bf16_dot_pairs() const {
    return kind == TargetKind::CPU && has_cpu_feature(features, "avx512bf16");
  }
  /// Whether the CPU sums quads of int8 products (unsigned bytes times signed bytes) into int32
  /// lanes in one instruction (AVX512-VNNI's vpdpbusd): 64 products per instruction.
  bool int8_dot_quads() const {
    return kind == TargetKind::CPU && has_cpu_feature(features, "avx512vnni");
  }
};

}  // namespace kiln

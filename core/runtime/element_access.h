// Reading and writing single elements of a typed buffer. HostTensor and the interpreter share these
// so that both convert values exactly alike; integers travel as int64 (never through a double,
// which would lose i64 values above 2^53) and floats as double.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "core/ir/dtype.h"
#include "core/runtime/half.h"

namespace kiln {

/// Rounds a double to the nearest value of float dtype `t` (ties to even; overflow gives inf).
double round_float(double v, DType t);

/// Truncates toward zero and wraps modulo 2^64 (NaN and infinities give 0: C leaves them
/// undefined).
int64_t wrap_to_int64(double v);

/// The value an integer or bool element of dtype `t` holds: i8, i16 and i32 wrap modulo 2^8,
/// 2^16 and 2^32; bool is != 0.
inline int64_t wrap_int(int64_t v, DType t) {
  if (t == DType::I8) return static_cast<int8_t>(v);
  if (t == DType::I16) return static_cast<int16_t>(v);
  if (t == DType::I32) return static_cast<int32_t>(v);
  if (t == DType::Bool) return v != 0;
  return v;
}

/// Element `i` of a float buffer of dtype `t`.
inline double load_float(const std::byte* base, DType t, int64_t i) {
  const std::byte* p = base + i * dtype_bytes(t);
  uint16_t half;
  switch (t) {
    case DType::F16: std::memcpy(&half, p, 2); return f16_bits_to_f32(half);
    case DType::BF16: std::memcpy(&half, p, 2); return bf16_bits_to_f32(half);
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    default: {
      double d;
      std::memcpy(&d, p, 8);
      return d;
    }
  }
}

/// Element `i` of an integer or bool buffer of dtype `t`.
inline int64_t load_int(const std::byte* base, DType t, int64_t i) {
  const std::byte* p = base + i * dtype_bytes(t);
  switch (t) {
    case DType::Bool: return static_cast<uint8_t>(*p) != 0;
    case DType::I8: return static_cast<int8_t>(*p);
    case DType::I16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case DType::I32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

/// Stores `v`, rounded to float dtype `t`, as element `i`.
inline void store_float(std::byte* base, DType t, int64_t i, double v) {
  std::byte* p = base + i * dtype_bytes(t);
  // f16/bf16: rounding from double first keeps this a single rounding; the f32 step is then exact.
  float f = static_cast<float>(round_float(v, t));
  uint16_t half;
  switch (t) {
    case DType::F16:
      half = f32_to_f16_bits(f);
      std::memcpy(p, &half, 2);
      return;
    case DType::BF16:
      half = f32_to_bf16_bits(f);
      std::memcpy(p, &half, 2);
      return;
    case DType::F32: std::memcpy(p, &f, 4); return;
    default: std::memcpy(p, &v, 8); return;
  }
}

/// Stores `v`, wrapped to integer or bool dtype `t`, as element `i`.
inline void store_int(std::byte* base, DType t, int64_t i, int64_t v) {
  std::byte* p = base + i * dtype_bytes(t);
  v = wrap_int(v, t);
  switch (t) {
    case DType::Bool:
    case DType::I8: *p = static_cast<std::byte>(v); return;
    case DType::I16: {
      int16_t w = static_cast<int16_t>(v);
      std::memcpy(p, &w, 2);
      return;
    }
    case DType::I32: {
      int32_t w = static_cast<int32_t>(v);
      std::memcpy(p, &w, 4);
      return;
    }
    default: std::memcpy(p, &v, 8); return;
  }
}

}  // namespace kiln

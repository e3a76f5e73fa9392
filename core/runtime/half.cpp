#include "core/runtime/half.h"

#include <bit>

namespace kiln {

uint16_t f32_to_f16_bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) {
    if (abs == 0x7f800000u) return sign | 0x7c00u;
    // NOTE: the top payload bits survive and the quiet bit is set, so no NaN becomes infinity.
    return static_cast<uint16_t>(sign | 0x7e00u | ((abs >> 13) & 0x3ffu));
  }
  int exponent = static_cast<int>(abs >> 23) - 127;
  if (exponent > 15) return sign | 0x7c00u;
  if (abs < 0x00800000u) return sign;  // f32 subnormals are far below half of f16's smallest step.
  uint32_t mantissa = (abs & 0x7fffffu) | 0x800000u;  // 24 significant bits.
  // Normal results keep 11 bits (shift 13); subnormal results keep fewer, down to none.
  int shift = exponent >= -14 ? 13 : -exponent - 1;
  if (shift > 24) return sign;
  uint32_t kept = mantissa >> shift;
  uint32_t rest = mantissa & ((1u << shift) - 1);
  uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (kept & 1u))) ++kept;
  // A carry out of the mantissa moves into the exponent field by plain addition (and from the
  // largest finite value into infinity), which is exactly the rounding a carry means.
  uint32_t bits = exponent >= -14 ? (static_cast<uint32_t>(exponent + 14) << 10) + kept : kept;
  return static_cast<uint16_t>(sign | bits);
}

float f16_bits_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    // Subnormal: mantissa * 2^-24, exact in f32.
    float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

uint16_t f32_to_bf16_bits(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  // Adding 0x7fff plus the lowest kept bit rounds to nearest even; a carry reaches the exponent
  // (and turns the largest finite values into infinity) as it should.
  uint32_t rounding = 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

float bf16_bits_to_f32(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

}  // namespace kiln

#include "core/runtime/half.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/runtime/host_tensor.h"

namespace kiln {
namespace {

float bits_to_float(uint32_t b) {
  return std::bit_cast<float>(b);
}
bool f16_is_nan(uint16_t h) {
  return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
}

TEST(Half, F16KnownBitPatterns) {
  EXPECT_EQ(f32_to_f16_bits(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16_bits(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16_bits(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16_bits(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16_bits(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16_bits(0.1f), 0x2e66);
  EXPECT_EQ(f16_bits_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_bits_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_bits_to_f32(0x3555), 0.333251953125f);
}

TEST(Half, F16RoundsTiesToEven) {
  // Steps of f16 near 1 are 2^-10; 2^-11 is exactly half a step.
  EXPECT_EQ(f32_to_f16_bits(1.0f + 0x1p-11f), 0x3c00);             // Tie: down to even.
  EXPECT_EQ(f32_to_f16_bits(1.0f + 3 * 0x1p-11f), 0x3c02);         // Tie: up to even.
  EXPECT_EQ(f32_to_f16_bits(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);  // Above the tie: up.
  EXPECT_EQ(f32_to_f16_bits(1.0f + 0x1p-11f - 0x1p-20f), 0x3c00);  // Below the tie: down.
  // A carry out of the mantissa moves into the exponent.
  EXPECT_EQ(f32_to_f16_bits(2.0f - 0x1p-12f), 0x4000);
}

TEST(Half, F16OverflowInfinityAndNaN) {
  EXPECT_EQ(f32_to_f16_bits(65519.0f), 0x7bff);  // Below the midpoint to 2^16: stays finite.
  EXPECT_EQ(f32_to_f16_bits(65520.0f), 0x7c00);  // The midpoint rounds to even: infinity.
  EXPECT_EQ(f32_to_f16_bits(1e10f), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(-1e10f), 0xfc00);
  EXPECT_EQ(f32_to_f16_bits(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16_bits(-std::numeric_limits<float>::infinity()), 0xfc00);
  EXPECT_TRUE(f16_is_nan(f32_to_f16_bits(std::numeric_limits<float>::quiet_NaN())));
  // A NaN whose payload sits only in bits f16 drops must not turn into infinity.
  EXPECT_TRUE(f16_is_nan(f32_to_f16_bits(bits_to_float(0x7f800001))));
  EXPECT_TRUE(std::isnan(f16_bits_to_f32(0x7e00)));
  EXPECT_EQ(f16_bits_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
}

TEST(Half, F16Subnormals) {
  EXPECT_EQ(f32_to_f16_bits(0x1p-24f), 0x0001);  // Smallest subnormal.
  EXPECT_EQ(f32_to_f16_bits(0x1p-25f), 0x0000);  // Half of it: tie to even (zero).
  EXPECT_EQ(f32_to_f16_bits(0x1p-25f + 0x1p-35f), 0x0001);
  EXPECT_EQ(f32_to_f16_bits(3 * 0x1p-25f), 0x0002);  // 1.5 steps: tie to even (2).
  EXPECT_EQ(f32_to_f16_bits(-0x1p-24f), 0x8001);
  EXPECT_EQ(f32_to_f16_bits(1023 * 0x1p-24f), 0x03ff);      // Largest subnormal.
  EXPECT_EQ(f32_to_f16_bits(0x1p-14f), 0x0400);             // Smallest normal.
  EXPECT_EQ(f32_to_f16_bits(0x1p-14f - 0x1p-26f), 0x0400);  // Rounds up out of the subnormals.
  EXPECT_EQ(f32_to_f16_bits(1e-30f), 0x0000);
  EXPECT_EQ(f32_to_f16_bits(bits_to_float(0x00000001)), 0x0000);  // An f32 subnormal.
  EXPECT_EQ(f16_bits_to_f32(0x0001), 0x1p-24f);
  EXPECT_EQ(f16_bits_to_f32(0x83ff), -1023 * 0x1p-24f);
}

TEST(Half, F16EveryBitPatternRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = f16_bits_to_f32(static_cast<uint16_t>(h));
    if (f16_is_nan(static_cast<uint16_t>(h))) {
      ASSERT_TRUE(std::isnan(f)) << std::hex << h;
      ASSERT_TRUE(f16_is_nan(f32_to_f16_bits(f))) << std::hex << h;
    } else {
      ASSERT_EQ(f32_to_f16_bits(f), h) << std::hex << h;
    }
  }
}

#ifdef __FLT16_MAX__
// The compiler's own _Float16 conversion is an independent oracle for rounding.
TEST(Half, F16MatchesCompilerConversion) {
  uint32_t x = 12345;
  for (int i = 0; i < 2000000; ++i) {
    x = x * 1664525u + 1013904223u;
    float f = bits_to_float(x);
    if (std::isnan(f)) continue;
    _Float16 h = static_cast<_Float16>(f);
    uint16_t expected;
    std::memcpy(&expected, &h, 2);
    ASSERT_EQ(f32_to_f16_bits(f), expected) << std::hex << x;
  }
}
#endif

TEST(Half, F16AgreesWithRoundToDtype) {
  // Two independent roundings: bit manipulation here, scaling in round_to_dtype.
  uint32_t x = 777;
  for (int i = 0; i < 200000; ++i) {
    x = x * 1664525u + 1013904223u;
    // Magnitudes 2^-30 .. 2^30: f16's subnormals, normals and overflow.
    float mantissa = 1.0f + static_cast<float>(x & 0x7fffffu) * 0x1p-23f;
    float f = std::ldexp(x >> 31 ? -mantissa : mantissa, static_cast<int>((x >> 23) % 61) - 30);
    ASSERT_EQ(static_cast<double>(f16_bits_to_f32(f32_to_f16_bits(f))),
              round_to_dtype(f, DType::F16))
        << f;
    ASSERT_EQ(static_cast<double>(bf16_bits_to_f32(f32_to_bf16_bits(f))),
              round_to_dtype(f, DType::BF16))
        << f;
  }
}

TEST(Half, BF16KnownBitPatternsAndTies) {
  EXPECT_EQ(f32_to_bf16_bits(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16_bits(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x3f808000)), 0x3f80);  // Tie: down to even.
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x3f818000)), 0x3f82);  // Tie: up to even.
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x3f808001)), 0x3f81);
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x3f807fff)), 0x3f80);
  EXPECT_EQ(f32_to_bf16_bits(std::numeric_limits<float>::max()), 0x7f80);  // Rounds to inf.
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x7f7f7fff)), 0x7f7f);
  EXPECT_EQ(f32_to_bf16_bits(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16_bits(bits_to_float(0x00018000)), 0x0002);  // Subnormal tie: up to even.
  uint16_t nan = f32_to_bf16_bits(bits_to_float(0x7f800001));      // Payload only in dropped bits.
  EXPECT_TRUE(std::isnan(bf16_bits_to_f32(nan)));
  EXPECT_EQ(bf16_bits_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_bits_to_f32(0x0001), bits_to_float(0x00010000));
}

TEST(Half, BF16EveryBitPatternRoundTrips) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = bf16_bits_to_f32(static_cast<uint16_t>(b));
    if (std::isnan(f))
      ASSERT_TRUE(std::isnan(bf16_bits_to_f32(f32_to_bf16_bits(f))));
    else
      ASSERT_EQ(f32_to_bf16_bits(f), b) << std::hex << b;
  }
}

}  // namespace
}  // namespace kiln

#include "core/runtime/host_tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "core/support/error.h"

namespace kiln {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(HostTensor, ZerosIsRowMajorAlignedAndZero) {
  HostTensor t = HostTensor::zeros({3, 5, 7}, DType::F32);
  EXPECT_EQ(t.strides, (std::vector<int64_t>{35, 7, 1}));
  EXPECT_EQ(t.numel(), 105);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  for (int64_t i = 0; i < t.numel(); ++i) ASSERT_EQ(t.get_flat(i), 0.0);
  HostTensor empty = HostTensor::zeros({0, 4}, DType::I64);
  EXPECT_EQ(empty.numel(), 0);
  EXPECT_NE(empty.data(), nullptr);
}

TEST(HostTensor, RandomIsReproducibleAndInRange) {
  HostTensor a = HostTensor::random({1000}, DType::F32, 7, -2, 3);
  HostTensor b = HostTensor::random({1000}, DType::F32, 7, -2, 3);
  HostTensor c = HostTensor::random({1000}, DType::F32, 8, -2, 3);
  EXPECT_EQ(max_relative_error(a, b, 0, 0), 0);
  EXPECT_GT(max_relative_error(a, c, 0, 0), 0);
  double lo = 10, hi = -10;
  for (int64_t i = 0; i < 1000; ++i)
    lo = std::min(lo, a.get_flat(i)), hi = std::max(hi, a.get_flat(i));
  EXPECT_GE(lo, -2);
  EXPECT_LT(hi, 3);
  EXPECT_LT(lo, -1.9);  // Spread over the whole range.
  EXPECT_GT(hi, 2.9);

  HostTensor ints = HostTensor::random({1000}, DType::I32, 1, 0, 10);
  std::vector<int> seen(10);
  for (int64_t i = 0; i < 1000; ++i) {
    double v = ints.get_flat(i);
    ASSERT_TRUE(v >= 0 && v < 10 && v == std::floor(v)) << v;
    ++seen[static_cast<int>(v)];
  }
  for (int count : seen) EXPECT_GT(count, 50);
  HostTensor bools = HostTensor::random({1000}, DType::Bool, 1);
  int ones = 0;
  for (int64_t i = 0; i < 1000; ++i) ones += bools.get_flat(i) == 1;
  EXPECT_GT(ones, 400);
  EXPECT_LT(ones, 600);
}

TEST(HostTensor, RandomWithTransposedStrides) {
  // A 3x4 view of a 4x3 row-major buffer.
  HostTensor t = HostTensor::random({3, 4}, DType::F64, 3, -1, 1, {1, 3});
  EXPECT_EQ(t.storage_elements, 12);
  auto* raw = static_cast<const double*>(t.data());
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      EXPECT_EQ(t.get({i, j}), raw[i + 3 * j]);
      EXPECT_EQ(t.get_flat(i * 4 + j), raw[i + 3 * j]);
    }
}

TEST(HostTensor, RandomWithBroadcastStrideSharesData) {
  HostTensor t = HostTensor::random({4, 5}, DType::F32, 3, -1, 1, {0, 1});
  EXPECT_EQ(t.storage_elements, 5);
  for (int64_t i = 1; i < 4; ++i)
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(t.get({i, j}), t.get({0, j}));
  t.set({2, 3}, 0.5);
  EXPECT_EQ(t.get({0, 3}), 0.5);
}

TEST(HostTensor, SetRoundsToTheDtype) {
  HostTensor h = HostTensor::zeros({2}, DType::F16);
  h.set({0}, 0.1);
  EXPECT_EQ(h.get({0}), 0.0999755859375);
  h.set_flat(1, 1e6);
  EXPECT_EQ(h.get_flat(1), kInf);
  HostTensor i = HostTensor::zeros({2}, DType::I32);
  i.set({0}, 2147483648.0);
  EXPECT_EQ(i.get({0}), -2147483648.0);
  i.set({1}, -2.7);
  EXPECT_EQ(i.get({1}), -2);
  HostTensor b = HostTensor::zeros({1}, DType::Bool);
  b.set({0}, 2.5);
  EXPECT_EQ(b.get({0}), 1);
  HostTensor l = HostTensor::zeros({1}, DType::I64);
  l.set({0}, 0x1p62);
  EXPECT_EQ(l.get({0}), 0x1p62);
}

TEST(HostTensor, OutOfBoundsAccessThrows) {
  HostTensor t = HostTensor::zeros({2, 3}, DType::F32);
  EXPECT_THROW(t.get({2, 0}), Error);
  EXPECT_THROW(t.get({0, -1}), Error);
  EXPECT_THROW(t.get({0}), Error);
  EXPECT_THROW(t.set_flat(6, 1), Error);
}

TEST(RoundToDtype, FloatsIntsAndBools) {
  EXPECT_EQ(round_to_dtype(65519, DType::F16), 65504);
  EXPECT_EQ(round_to_dtype(65520, DType::F16), kInf);
  EXPECT_EQ(round_to_dtype(-65520, DType::F16), -kInf);
  EXPECT_EQ(round_to_dtype(0x1p-25, DType::F16), 0);
  EXPECT_EQ(round_to_dtype(1 + 0x1p-8, DType::BF16), 1);
  EXPECT_EQ(round_to_dtype(1 + 3 * 0x1p-8, DType::BF16), 1 + 0x1p-6);
  EXPECT_EQ(round_to_dtype(1 + 0x1p-24, DType::F32), 1);
  EXPECT_EQ(round_to_dtype(1 + 0x1p-24, DType::F64), 1 + 0x1p-24);
  EXPECT_TRUE(std::isnan(round_to_dtype(kNaN, DType::F16)));
  EXPECT_EQ(round_to_dtype(1e39, DType::F32), kInf);
  EXPECT_EQ(round_to_dtype(4294967297.0, DType::I32), 1);
  EXPECT_EQ(round_to_dtype(-1.9, DType::I64), -1);
  EXPECT_EQ(round_to_dtype(0x1p63, DType::I64), -0x1p63);  // Wraps modulo 2^64.
  EXPECT_EQ(round_to_dtype(-3, DType::Bool), 1);
  EXPECT_EQ(round_to_dtype(0, DType::Bool), 0);
}

TEST(MaxRelativeError, FollowsAssertClose) {
  HostTensor a = HostTensor::zeros({5}, DType::F64), b = HostTensor::zeros({5}, DType::F64);
  double values[] = {1, kNaN, kInf, -kInf, 100};
  for (int i = 0; i < 5; ++i) a.set_flat(i, values[i]), b.set_flat(i, values[i]);
  EXPECT_EQ(max_relative_error(a, b, 1e-5, 1e-5), 0);
  a.set_flat(4, 100 + 3e-3);  // |diff| = 3e-3 against atol + rtol * 100 = 1e-3.
  EXPECT_NEAR(max_relative_error(a, b, 0, 1e-5), 3, 1e-9);
  a.set_flat(1, 0);
  EXPECT_EQ(max_relative_error(a, b, 1, 1), kInf);  // A NaN must match a NaN.
  a.set_flat(1, kNaN);
  a.set_flat(2, -kInf);
  EXPECT_EQ(max_relative_error(a, b, 1, 1), kInf);  // Infinities must match in sign.
  HostTensor i = HostTensor::zeros({5}, DType::I64), j = HostTensor::zeros({5}, DType::I64);
  EXPECT_EQ(max_relative_error(i, j, 0, 0), 0);
  j.set_flat(3, 1);
  EXPECT_EQ(max_relative_error(i, j, 0, 0), kInf);  // Exact comparison: any difference fails.
  EXPECT_THROW(max_relative_error(a, HostTensor::zeros({4}, DType::F64), 1, 1), Error);
}

TEST(MaxRelativeError, DefaultTolerancesAreTorchs) {
  double atol, rtol;
  default_tolerance(DType::F32, &atol, &rtol);
  EXPECT_EQ(atol, 1e-5);
  EXPECT_EQ(rtol, 1.3e-6);
  default_tolerance(DType::BF16, &atol, &rtol);
  EXPECT_EQ(rtol, 1.6e-2);
  default_tolerance(DType::F16, &atol, &rtol);
  EXPECT_EQ(rtol, 1e-3);
  default_tolerance(DType::F64, &atol, &rtol);
  EXPECT_EQ(atol, 1e-7);
  default_tolerance(DType::I32, &atol, &rtol);
  EXPECT_EQ(atol + rtol, 0);
}

}  // namespace
}  // namespace kiln

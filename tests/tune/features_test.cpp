#include "core/tune/features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/tune/space.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::avx512;

std::vector<float> features_of(const ScheduleSpace& space, const KnobConfig& config) {
  return FeatureExtractor().extract(lower(space.apply(config), "f"));
}

float slot(const std::vector<float>& f, const std::string& name) {
  const auto& names = FeatureExtractor::names();
  auto it = std::find(names.begin(), names.end(), name);
  EXPECT_NE(it, names.end()) << name;
  return it == names.end() ? NAN : f[it - names.begin()];
}

TEST(Features, HaveTheDocumentedLengthAndUniqueNames) {
  EXPECT_EQ(FeatureExtractor::length(), 3 * 100 + 16);
  const auto& names = FeatureExtractor::names();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), names.size());
  EXPECT_EQ(names.front(), "s0.count");
  EXPECT_EQ(names.back(), "global.gpu");
}

TEST(Features, AreFiniteWithTheFixedLengthOverRandomPoints) {
  std::mt19937_64 rng(7);
  for (Tensor t : {tune_test::matmul(96, 64, 48), tune_test::conv3x3_relu(8, 16, 14),
                   tune_test::softmax(16, 200)}) {
    ScheduleSpace space({t}, avx512());
    for (int i = 0; i < 20; ++i) {
      std::vector<float> f = features_of(space, space.random_config(rng));
      ASSERT_EQ(static_cast<int>(f.size()), FeatureExtractor::length());
      for (size_t j = 0; j < f.size(); ++j)
        ASSERT_TRUE(std::isfinite(f[j])) << FeatureExtractor::names()[j];
    }
  }
}

TEST(Features, EmptyFunctionIsAllZeros) {
  std::vector<float> f = FeatureExtractor().extract(LoweredFunc{});
  EXPECT_EQ(f, std::vector<float>(FeatureExtractor::length(), 0.0f));
}

// The default matmul: an 8x32 register tile, rows unrolled, columns vectorized, k serial.
TEST(Features, DescribeTheDefaultMatmulKernel) {
  ScheduleSpace space({tune_test::matmul(128, 128, 128)}, avx512());
  std::vector<float> f = features_of(space, space.default_config());
  // The hot statement is the accumulation: 128^3 executions of one fma.
  EXPECT_FLOAT_EQ(slot(f, "s0.count"), std::log2(1.0 + 128.0 * 128 * 128));
  EXPECT_EQ(slot(f, "s0.arith.fma"), 1.0f);
  EXPECT_EQ(slot(f, "s0.arith.fmul"), 0.0f);
  EXPECT_EQ(slot(f, "s0.loop0.vectorized"), 1.0f);
  EXPECT_EQ(slot(f, "s0.loop1.unrolled"), 1.0f);
  EXPECT_FLOAT_EQ(slot(f, "s0.loop0.log_extent"), std::log2(33.0f));
  EXPECT_EQ(slot(f, "s0.vectorized.level"), 1.0f);
  EXPECT_GT(slot(f, "s0.parallel.level"), 2.0f);
  // acc0 is the store into the local accumulator, contiguous in the vector loop.
  EXPECT_EQ(slot(f, "s0.acc0.local"), 1.0f);
  EXPECT_EQ(slot(f, "s0.acc0.stride_vector"), 1.0f);  // log2(1 + 1)
  // The A and B tiles (largest footprints): B is contiguous in the vector loop, A is reused
  // across it (stride 0), and both are parameters.
  float s1 = slot(f, "s0.acc1.stride_vector"), s2 = slot(f, "s0.acc2.stride_vector");
  EXPECT_EQ(std::min(s1, s2), 0.0f);
  EXPECT_EQ(std::max(s1, s2), 1.0f);
  EXPECT_EQ(slot(f, "s0.acc1.param") + slot(f, "s0.acc2.param"), 2.0f);
  EXPECT_FLOAT_EQ(slot(f, "global.vector_width"), std::log2(33.0f));
  EXPECT_GT(slot(f, "global.parallel"), 0.0f);
  EXPECT_EQ(slot(f, "global.unroll"), std::log2(9.0f));
  EXPECT_EQ(slot(f, "global.gpu"), 0.0f);
  EXPECT_FLOAT_EQ(slot(f, "global.local_bytes"), std::log2(1.0 + 8 * 32 * 4));
}

TEST(Features, SoftmaxCountsTheTranscendental) {
  ScheduleSpace space({tune_test::softmax(16, 256)}, avx512());
  std::vector<float> f = features_of(space, space.default_config());
  float exps = 0;
  for (int s = 0; s < 3; ++s) exps += slot(f, str_cat("s", s, ".arith.transcendental"));
  EXPECT_EQ(exps, 1.0f);  // the one exp among the three hottest statements
}

TEST(Features, DifferBetweenSchedulesOfOneWorkload) {
  ScheduleSpace space({tune_test::matmul(128, 128, 128)}, avx512());
  KnobConfig base = space.default_config();
  std::vector<float> f0 = features_of(space, base);
  // Every single-knob change of the default gives a different kernel and different features.
  for (const KnobConfig& n : space.neighbors(base)) {
    LoweredFunc a = lower(space.apply(n), "f"), b = lower(space.apply(base), "f");
    if (structural_equal(a.body, b.body)) continue;  // a knob without effect here
    EXPECT_NE(FeatureExtractor().extract(a), f0) << n;
  }
}

TEST(Features, EqualForStructurallyEqualPrograms) {
  ScheduleSpace a({tune_test::matmul(64, 96, 32, "x_")}, avx512());
  ScheduleSpace b({tune_test::matmul(64, 96, 32, "y_")}, avx512());
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10; ++i) {
    KnobConfig c = a.random_config(rng);
    EXPECT_EQ(features_of(a, c), features_of(b, c)) << c;
  }
}

}  // namespace
}  // namespace kiln

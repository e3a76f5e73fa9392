// The whole printed loop IR of representative kernels, compared with files under
// tests/schedule/golden/: a change to any lowering pass that changes what a kernel looks like
// shows here as a diff, not as a substring that happens to survive. When the change is meant,
// rewrite the files with
//   KILN_UPDATE_GOLDEN=1 build/tests/test_schedule --gtest_filter='LoweringGolden.*'
// and review the diff with git.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"
#include "tests/schedule/sample_schedules.h"
#include "tests/support/golden.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::avx512;

std::string printed(const LoweredFunc& f) {
  std::ostringstream os;
  os << f;
  return os.str();
}

/// Compares `f` printed with golden/<name>.txt (tests/support/golden.h).
void expect_golden(const std::string& name, const LoweredFunc& f) {
  testing::expect_golden_file(std::filesystem::path(KILN_GOLDEN_DIR) / (name + ".txt"), printed(f));
}

TEST(LoweringGolden, UnscheduledMatmul) {
  expect_golden("matmul_unscheduled", lower(Schedule({tune_test::matmul(4, 5, 3)}), "mm"));
}

TEST(LoweringGolden, DefaultMatmulRegisterTiled) {
  expect_golden("matmul_default",
                lower(default_schedule({tune_test::matmul(128, 128, 64)}, avx512()), "mm"));
}

TEST(LoweringGolden, DefaultMatmulWithTails) {
  // No size divides a tile: guards and vector tails.
  expect_golden("matmul_tails",
                lower(default_schedule({tune_test::matmul(33, 17, 9)}, avx512()), "mm"));
}

TEST(LoweringGolden, DefaultBf16MatmulSumsProductsInPairs) {
  // The pair loop innermost, inside the vector columns; the tile's accumulators outside it.
  expect_golden("matmul_bf16_pairs", lower(default_schedule({tune_test::matmul_bf16(16, 32, 20)},
                                                            tune_test::avx512_bf16()),
                                           "mm"));
}

TEST(LoweringGolden, DefaultConvolutionWithEpilogue) {
  expect_golden("conv_relu",
                lower(default_schedule({tune_test::conv3x3_relu(16, 32, 14)}, avx512()), "conv"));
}

TEST(LoweringGolden, DefaultSoftmax) {
  expect_golden("softmax",
                lower(default_schedule({tune_test::softmax(64, 100)}, avx512()), "softmax"));
}

TEST(LoweringGolden, ArgMaxAccumulatesValueAndIndex) {
  Tensor x = placeholder("x", {6, 50}, DType::F32);
  IterVar r = reduce_axis(50, "r");
  Tensor arg = compute("argmax", {6}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, x(i[0], r.var), {r});
  });
  expect_golden("argmax", lower(default_schedule({arg}, avx512()), "argmax"));
}

TEST(LoweringGolden, PoolingWindowsVectorizeAcrossOutputs) {
  // A 3x3 max pool of stride 2: each lane of a vector of adjacent outputs runs its own window.
  Tensor x = placeholder("x", {2, 33, 33}, DType::F32);
  IterVar r0 = reduce_axis(3, "r0"), r1 = reduce_axis(3, "r1");
  Tensor pool = compute("pool", {2, 16, 16}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, x(i[0], i[1] * 2 + r0.var, i[2] * 2 + r1.var), {r0, r1});
  });
  expect_golden("max_pool_window", lower(default_schedule({pool}, avx512()), "max_pool"));
}

TEST(LoweringGolden, StageComputedAtALoopOverAPartialRegion) {
  expect_golden("compute_at_region",
                lower(sample_schedules::compute_at_partial_region(), "region"));
}

TEST(LoweringGolden, IntermediatesOfRootStagesAreAllocated) {
  // Two root stages before the output: each is a whole global buffer, the first outermost.
  Tensor a = placeholder("a", {8, 6}, DType::F32);
  Tensor b = compute("b", {8, 6},
                     [&](const std::vector<Var>& i) { return unary(UnaryOp::Exp, a(i[0], i[1])); });
  Tensor c = compute("c", {8, 6}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) * 2.0f; });
  Tensor d = compute("d", {8, 6},
                     [&](const std::vector<Var>& i) { return b(i[0], i[1]) + c(i[0], 5 - i[1]); });
  expect_golden("root_intermediates", lower(Schedule({d}), "pipeline"));
}

TEST(LoweringGolden, DefaultScanAlongTheLastAxis) {
  // The recurrence is a serial loop from the first element, which its init writes.
  expect_golden("cumsum_last_axis",
                lower(default_schedule({tune_test::cumsum(64, 100, 1)}, avx512()), "cumsum"));
}

TEST(LoweringGolden, DefaultScatterAdd) {
  // The init fills the output (fused, vectorized), then the updates run in order; the index
  // values are checked before the kernel runs (value_check.h), not in it.
  expect_golden("scatter_add",
                lower(default_schedule({tune_test::scatter_add(6, 40, 9)}, avx512()), "scatter"));
}

TEST(LoweringGolden, RFactorWithVectorTail) {
  expect_golden("rfactor_tail", lower(sample_schedules::rfactor_with_tail(), "rfactor"));
}

}  // namespace
}  // namespace kiln

// The op classes (core/templates/op_class.h): one ranking that both the template and the tuning
// cache's workload description follow.
#include "core/templates/op_class.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/templates/default_schedule.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

/// cumsum along the rows of x * (the sum of its row): a reduction that a scan reads.
Tensor scan_of_a_reduction(int64_t rows, int64_t cols) {
  Tensor x = placeholder("x", {rows, cols}, DType::F32);
  IterVar r = reduce_axis(cols, "k");
  Tensor sum = compute("sum", {rows, 1}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], r.var), {r});
  });
  return scan(
      "c", {rows, cols}, 1, [&](const std::vector<Var>& i) { return x(i[0], i[1]) * sum(i[0], 0); },
      [&](const std::vector<Var>& i, const Expr& prev) {
        return prev + x(i[0], i[1]) * sum(i[0], 0);
      });
}

/// The stage of `s` that computes the tensor named `tensor` (stage names are canonical: "s3").
const Stage& stage_of(const Schedule& s, const std::string& tensor) {
  for (const Stage& stage : s.stages())
    if (stage.tensor->name == tensor) return stage;
  throw std::runtime_error("no stage computes " + tensor);
}

TEST(OpClass, EachWorkloadHasTheClassOfItsHighestRankedStage) {
  EXPECT_EQ(op_class_of({tune_test::matmul(8, 16, 4)}), "contraction");
  // The ReLU epilogue is the output; the convolution inside still makes it a contraction.
  EXPECT_EQ(op_class_of({tune_test::conv3x3_relu(4, 8, 6)}), "contraction");
  EXPECT_EQ(op_class_of({tune_test::softmax(4, 32)}), "reduction");
  EXPECT_EQ(op_class_of({tune_test::cumsum(4, 6, 1)}), "scan");
  EXPECT_EQ(op_class_of({tune_test::scatter_add(5, 4, 3)}), "scatter");
  Tensor x = placeholder("x", {4, 6}, DType::F32);
  Tensor relu = compute("relu", {4, 6}, [&](const std::vector<Var>& i) {
    return max(x(i[0], i[1]), make_const(DType::F32, 0));
  });
  EXPECT_EQ(op_class_of({relu}), "injective");
}

TEST(OpClass, AScanOutranksAReductionInTheTemplateAndInTheCache) {
  Tensor c = scan_of_a_reduction(4, 32);
  EXPECT_EQ(op_class_of({c}), "scan");
  // The template schedules it as it names it: the scan and the reduction each a root of its
  // own, the sum not computed in the scan's rows (as in a reduction group's template).
  Schedule s = default_schedule({c}, tune_test::avx512());
  EXPECT_EQ(stage_of(s, "c").attach, AttachKind::Root);
  EXPECT_EQ(stage_of(s, "sum").attach, AttachKind::Root);
}

TEST(OpClass, StageClassesAreRankedScanScatterContractionReductionInjective) {
  Schedule s({scan_of_a_reduction(4, 32)});
  EXPECT_EQ(stage_class(stage_of(s, "c")), OpClass::Scan);
  EXPECT_EQ(stage_class(stage_of(s, "sum")), OpClass::Reduction);
  EXPECT_EQ(group_class(s), OpClass::Scan);
  EXPECT_EQ(op_class_name(OpClass::Injective), "injective");
}

}  // namespace
}  // namespace kiln

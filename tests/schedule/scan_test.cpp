// Scans (recurrences along one axis, tensor.h): what makes them structurally distinct, the
// schedule primitives that would break their order, and the default template's loop nest.
#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/structural.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::cumsum;

TEST(Scan, IsStructurallyItsAxisAndItsBody) {
  EXPECT_TRUE(structural_equal({cumsum(4, 6, 1, "a")}, {cumsum(4, 6, 1, "b")}));
  EXPECT_FALSE(structural_equal({cumsum(4, 6, 1)}, {cumsum(4, 6, 0)}));
  // The same body as a plain compute (reading a placeholder of its own shape) is no scan.
  Tensor x = placeholder("x", {4, 6}, DType::F32), p = placeholder("p", {4, 6}, DType::F32);
  Tensor plain = compute("c", {4, 6}, [&](const std::vector<Var>& i) {
    return select(i[1] == int64_t{0}, x(i[0], i[1]) + 0.0,
                  p(i[0], i[1] - int64_t{1}) + x(i[0], i[1]));
  });
  EXPECT_FALSE(structural_equal({plain}, {cumsum(4, 6, 1)}));
}

TEST(Scan, ItsStateIsNoKernelInput) {
  Tensor c = cumsum(4, 6, 1);
  ASSERT_EQ(placeholders_of({c}).size(), 1u);
  EXPECT_EQ(placeholders_of({c})[0]->name, "cx");
  EXPECT_THROW(scan(
                   "bad", {3}, 1, [](const std::vector<Var>&) { return Expr(1.0); },
                   [](const std::vector<Var>&, const Expr& prev) { return prev; }),
               IRError);
  EXPECT_THROW(scan(
                   "bad", {3}, 0, [](const std::vector<Var>&) { return Expr(1.0); },
                   [](const std::vector<Var>&, const Expr&) { return Expr(int64_t{1}); }),
               IRError);
}

TEST(Scan, TheScheduleKeepsItsAxisInOrder) {
  Tensor c = cumsum(64, 48, 1);
  Tensor y = compute("y", {64, 48}, [&](const std::vector<Var>& i) { return c(i[0], i[1]) * 2.0; });
  Schedule s({y});
  const std::string scan_stage = s.stages()[0].name, axis = "i1";
  EXPECT_THROW(s.parallel(scan_stage, axis), ScheduleError);
  EXPECT_THROW(s.vectorize(scan_stage, axis), ScheduleError);
  EXPECT_THROW(s.split(scan_stage, axis, 4), ScheduleError);
  EXPECT_THROW(s.fuse(scan_stage, "i0", axis), ScheduleError);
  EXPECT_THROW(s.compute_inline(scan_stage), ScheduleError);
  s.unroll(scan_stage, axis);  // order kept
  s.parallel(scan_stage, "i0");
  s.reorder(scan_stage, {axis, "i0"});
  EXPECT_NO_THROW(lower(s, "c"));
}

TEST(Scan, ComputedAtAnotherLoopItsRegionHoldsTheWholeAxis) {
  Tensor c = cumsum(16, 48, 1);
  Tensor y = compute("y", {16, 48}, [&](const std::vector<Var>& i) { return c(i[0], i[1]) * 2.0; });
  Schedule rows({y});
  rows.compute_at(rows.stages()[0].name, rows.stages()[1].name, "i0");  // a row each
  std::ostringstream os;
  os << lower(rows, "rows");
  EXPECT_NE(os.str().find("allocate c.local: f32[1, 48]"), std::string::npos) << os.str();
  Schedule elements({y});
  elements.compute_at(elements.stages()[0].name, elements.stages()[1].name, "i1");
  EXPECT_THROW(lower(elements, "elements"), ScheduleError);  // one element of the scan axis
}

TEST(Scan, NothingIsComputedInsideItsScanLoopAndItsStateIsNoOperand) {
  Tensor x = placeholder("x", {16, 48}, DType::F32);
  Tensor e = compute("e", {16, 48}, [&](const std::vector<Var>& i) { return x(i[0], i[1]) * 3.0; });
  Tensor c = scan(
      "c", {16, 48}, 1, [&](const std::vector<Var>& i) { return e(i[0], i[1]); },
      [&](const std::vector<Var>& i, const Expr& prev) { return prev + e(i[0], i[1]); });
  Schedule s({c});
  const std::string producer = s.stages()[0].name, scan_stage = s.stages()[1].name;
  ASSERT_EQ(s.operands(scan_stage).size(), 1u);
  EXPECT_EQ(s.operands(scan_stage)[0]->name, "e");
  s.compute_at(producer, scan_stage, "i1");
  EXPECT_THROW(lower(s, "inside"), ScheduleError);
  Schedule outside({c});
  outside.compute_at(producer, scan_stage, "i0");  // a row of e, then the row's scan
  EXPECT_NO_THROW(lower(outside, "outside"));
}

TEST(Scan, TheDefaultTemplateRunsTheLanesAfterTheAxisAsVectors) {
  // Along the leading axis: the 4096 columns are vector lanes, in parallel chunks.
  LoweredFunc f = lower(default_schedule({cumsum(1000, 4096, 0)}, tune_test::avx512()), "c");
  std::ostringstream os;
  os << f;
  std::string ir = os.str();
  EXPECT_NE(ir.find("vectorized"), std::string::npos) << ir;
  EXPECT_NE(ir.find("parallel"), std::string::npos) << ir;
  // The first row peeled off; the rest read the row before from the output itself.
  EXPECT_NE(ir.find("c[(c.i0 + 1), "), std::string::npos) << ir;
  EXPECT_NE(ir.find("= (c[c.i0, "), std::string::npos) << "reads its own storage\n" << ir;
  EXPECT_EQ(ir.find("select"), std::string::npos) << "no select per element\n" << ir;
  EXPECT_EQ(ir.find("c.prev"), std::string::npos) << ir;
}

}  // namespace
}  // namespace kiln

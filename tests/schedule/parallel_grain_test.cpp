// Parallel loops over too little work are lowered serial, whatever the schedule asked.
#include "core/schedule/parallel_grain.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/ir/functor.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::avx512;
using tune_test::matmul;

int parallel_loops(const Stmt& s) {
  struct Count : StmtVisitor {
    int n = 0;
    void visit_for(const ForNode* f) override {
      n += f->for_kind == ForKind::Parallel;
      StmtVisitor::visit_for(f);
    }
  } count;
  count.visit(s);
  return count.n;
}

TEST(ParallelGrain, WorkCountsVectorLanesOnceAndBothBranches) {
  Var i("i"), j("j");
  Tensor out = placeholder("out", {10, 8}, DType::F32);
  Stmt store = StoreNode::make(out, {i, j}, make_const(DType::F32, 1.0));
  Stmt vector = ForNode::make(j, 8, ForKind::Vectorized, store);
  EXPECT_EQ(work_of(ForNode::make(i, 10, ForKind::Serial, vector)), 10);
  Stmt branches =
      IfThenElseNode::make(i < make_const(DType::I64, 5), store, SeqNode::make({store, store}));
  EXPECT_EQ(work_of(ForNode::make(i, 10, ForKind::Unrolled, branches)), 30);
  EXPECT_EQ(work_of(ForNode::make(i, int64_t{1} << 40, ForKind::Serial,
                                  ForNode::make(j, int64_t{1} << 40, ForKind::Serial, store))),
            std::numeric_limits<int64_t>::max());
}

TEST(ParallelGrain, ASmallMatmulRunsSeriallyAndALargeOneInParallel) {
  Schedule small = default_schedule({matmul(16, 96, 64)}, avx512());
  Schedule large = default_schedule({matmul(256, 256, 256)}, avx512());
  EXPECT_EQ(parallel_loops(lower(small, "small").body), 0);
  EXPECT_EQ(parallel_loops(lower(large, "large").body), 1);
  // The schedule still says parallel: only the lowering decides by the work.
  EXPECT_NE(small.trace().to_text().find("parallel"), std::string::npos);
}

TEST(ParallelGrain, TheThresholdIsOnTheLoopNestsWork) {
  Var i("i"), j("j");
  Tensor out = placeholder("out", {kMinParallelWork, 1}, DType::F32);
  Stmt store = StoreNode::make(out, {i, make_const(DType::I64, 0)}, make_const(DType::F32, 1.0));
  Stmt at = ForNode::make(i, kMinParallelWork, ForKind::Parallel, store);
  Stmt below = ForNode::make(i, kMinParallelWork - 1, ForKind::Parallel, store);
  EXPECT_EQ(parallel_loops(serialize_small_parallel_loops(at)), 1);
  EXPECT_EQ(parallel_loops(serialize_small_parallel_loops(below)), 0);
}

}  // namespace
}  // namespace kiln

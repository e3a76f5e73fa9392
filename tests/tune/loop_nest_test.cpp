#include "core/tune/loop_nest.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(LocalStride, IsExactForAffineIndices) {
  Var i("i"), j("j");
  Expr index = i * 8 + j;
  auto si = local_stride(index, i.get()), sj = local_stride(index, j.get());
  ASSERT_TRUE(si && sj);
  EXPECT_EQ(si->step, 8);
  EXPECT_EQ(sj->step, 1);
  EXPECT_TRUE(si->exact && sj->exact);
  EXPECT_EQ(local_stride(Expr(5), i.get())->step, 0);
}

// A fused loop v over (rows, cols/32 tiles): rows advance by floormod, tiles by floordiv.
TEST(LocalStride, StepsBetweenWrapAroundsThroughFloorDivAndMod) {
  Var v("v");
  auto rows = local_stride(floormod(v, 16) * 1024, v.get());
  auto tiles = local_stride(floordiv(v, 16) * 32, v.get());
  ASSERT_TRUE(rows && tiles);
  EXPECT_EQ(rows->step, 1024);
  EXPECT_EQ(tiles->step, 2);
  EXPECT_FALSE(rows->exact || tiles->exact);
}

TEST(LocalStride, IsUnknownForProductsOfVariables) {
  Var i("i"), j("j");
  EXPECT_FALSE(local_stride(i * j, i.get()).has_value());
  EXPECT_FALSE(local_stride(floordiv(j, i), j.get()).has_value());
}

TEST(LoopNest, CountsTheStatementsLoopsAndOperations) {
  Tensor A = placeholder("A", {4, 8}, DType::F32), B = placeholder("B", {4, 8}, DType::F32);
  Var i("i"), j("j");
  Stmt store = StoreNode::make(B, {i, j}, unary(UnaryOp::Exp, A(i, j) * 2.0 + A(i, j)));
  Stmt body =
      ForNode::make(i, 4, ForKind::Parallel, ForNode::make(j, 8, ForKind::Vectorized, store));
  LoopNest nest = analyze_loop_nest(body);
  ASSERT_EQ(nest.statements.size(), 1u);
  const StatementInfo& s = nest.statements[0];
  EXPECT_EQ(s.count, 32);
  EXPECT_EQ(nest.loops, 2);
  EXPECT_EQ(s.arith[static_cast<int>(ArithOp::Fma)], 1);
  EXPECT_EQ(s.arith[static_cast<int>(ArithOp::FMul)], 0);
  EXPECT_EQ(s.arith[static_cast<int>(ArithOp::Transcendental)], 1);
  EXPECT_EQ(s.accesses.size(), 2u);  // the store and one distinct load of A
}

}  // namespace
}  // namespace kiln

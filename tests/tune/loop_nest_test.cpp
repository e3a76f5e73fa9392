#include "core/tune/loop_nest.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

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

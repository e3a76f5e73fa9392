#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/ir/stmt.h"

namespace kiln {
namespace {

std::string text(const auto& x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

TEST(Printer, ComputeDefinitionGolden) {
  Tensor a = placeholder("A", {8, 4}, DType::F32, {1, 8});
  IterVar k = reduce_axis(4, "k");
  Tensor s = compute("S", {8}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, unary(UnaryOp::Exp, a(i[0], k.var)) * 0.5, {k});
  });
  EXPECT_EQ(text(s),
            "placeholder A: f32[8, 4] strides [1, 8]\n"
            "compute S: f32[8] (S.ax0:8) = max((exp(A[S.ax0, k]) * 0.5f), axes=[k:4])\n");
}

TEST(Printer, LoopIRGolden) {
  Tensor a = placeholder("A", {16}, DType::F32);
  Var i("i");
  Stmt s = ForNode::make(i, 16, ForKind::Vectorized,
                         IfThenElseNode::make(i < int64_t{10}, StoreNode::make(a, {i}, Expr(1.5))));
  EXPECT_EQ(text(s), "for i in 0..16 vectorized {\n  if (i < 10) {\n    A[i] = 1.5f\n  }\n}\n");
}

TEST(Simplify, FoldsAndCancels) {
  Var x("x"), y("y");
  EXPECT_EQ(text(simplify(x * 1 + 0)), "x");
  EXPECT_EQ(text(simplify((x + 3) - x)), "3");
  EXPECT_EQ(text(simplify(x * 4 + y - x * 4 + Expr(2) * 3)), "(y + 6)");
  EXPECT_EQ(text(simplify(floordiv(Expr(-7), Expr(2)))), "-4");
  EXPECT_EQ(text(simplify(floormod(Expr(-7), Expr(2)))), "1");
  EXPECT_EQ(text(simplify(select(Expr(3) < 4, x, y))), "x");
}

TEST(Simplify, RemovesUnitLoopsAndConstantIfs) {
  Tensor a = placeholder("A", {4}, DType::F32);
  Var i("i"), j("j");
  Stmt s = ForNode::make(
      i, 1, ForKind::Serial,
      ForNode::make(j, 4, ForKind::Serial,
                    IfThenElseNode::make(Expr(1) < 2, StoreNode::make(a, {i + j}, Expr(0.0)))));
  EXPECT_EQ(text(simplify(s)), "for j in 0..4 {\n  A[j] = 0f\n}\n");
}

// Indexing through views composes floordiv and floormod of flat indices; the variables' extents
// fold them back, and only where the remainder provably stays below the divisor.
TEST(Simplify, FloorDivAndModWithinExtents) {
  Var b("b"), r("r"), j("j");
  VarExtents extents = {{b.get(), 16}, {r.get(), 16}, {j.get(), 128}};
  Expr flat = b * 2048 + r * 128 + j;
  EXPECT_EQ(text(simplify(floordiv(flat, Expr(2048)), extents)), "b");
  EXPECT_EQ(text(simplify(floormod(floordiv(flat, Expr(128)), Expr(16)), extents)), "r");
  EXPECT_EQ(text(simplify(floormod(flat, Expr(128)), extents)), "j");
  EXPECT_EQ(text(simplify(floordiv(flat + 4096, Expr(2048)), extents)), "(b + 2)");
  // Multiples of the divisor come out whatever the rest; j + 1 reaches 128, so its floordiv stays.
  EXPECT_EQ(text(simplify(floordiv(b * 128 + j + 1, Expr(128)), extents)),
            "(b + floordiv((j + 1), 128))");
  EXPECT_EQ(text(simplify(floormod(flat, Expr(128)))), "floormod(j, 128)");
  EXPECT_EQ(text(simplify(floordiv(b * 128 + 3, Expr(128)))), "b");
  EXPECT_EQ(text(simplify(floormod(b * 128 - 3, Expr(128)))), "125");
  // A rest split by a common factor: rows of 32 in a flat index of 128 columns.
  Var o("o"), i("i");
  VarExtents split = {{o.get(), 512}, {i.get(), 32}};
  EXPECT_EQ(text(simplify(floordiv(o * 32 + i, Expr(128)), split)), "floordiv(o, 4)");
  EXPECT_EQ(text(simplify(floormod(o * 32 + i, Expr(128)), split)), "(i + (floormod(o, 4) * 32))");
  // A negative term takes the rest below 0: its floordiv stays.
  EXPECT_EQ(text(simplify(floordiv(r * 128 - j, Expr(128)), extents)), "(r + floordiv(-j, 128))");
}

TEST(Simplify, LoopsBoundTheirVariables) {
  Tensor a = placeholder("A", {64}, DType::F32);
  Var i("i"), j("j");
  Stmt s = ForNode::make(
      i, 4, ForKind::Serial,
      ForNode::make(
          j, 16, ForKind::Serial,
          StoreNode::make(a, {floormod(i * 16 + j, Expr(16)) + floordiv(i * 16 + j, Expr(16)) * 16},
                          Expr(0.0))));
  EXPECT_EQ(text(simplify(s)),
            "for i in 0..4 {\n  for j in 0..16 {\n    A[(j + (i * 16))] = 0f\n  }\n}\n");
}

TEST(Mutator, UnchangedReturnsSameNode) {
  Var x("x"), y("y");
  Expr e = x + y * 2;
  EXPECT_TRUE(substitute(e, {{Var("z").get(), Expr(1)}}).same_as(e));
  EXPECT_FALSE(substitute(e, {{x.get(), Expr(1)}}).same_as(e));
}

}  // namespace
}  // namespace kiln

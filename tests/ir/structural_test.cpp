#include "core/ir/structural.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/tensor.h"
#include "core/support/error.h"

namespace kiln {
namespace {

Tensor matmul(const std::string& a, const std::string& b, const std::string& k, int64_t n) {
  Tensor A = placeholder(a, {n, n}, DType::F32);
  Tensor B = placeholder(b, {n, n}, DType::F32);
  IterVar kk = reduce_axis(n, k);
  return compute("C" + a, {n, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, A(i[0], kk.var) * B(kk.var, i[1]), {kk});
  });
}

TEST(Structural, RenamedProgramsHashEqual) {
  Tensor x = matmul("A", "B", "k", 64), y = matmul("P", "Q", "r", 64);
  EXPECT_TRUE(structural_equal({x}, {y}));
  EXPECT_EQ(structural_hash({x}), structural_hash({y}));
}

TEST(Structural, DifferentProgramsDiffer) {
  Tensor x = matmul("A", "B", "k", 64), y = matmul("A", "B", "k", 65);
  EXPECT_FALSE(structural_equal({x}, {y}));
  EXPECT_NE(structural_hash({x}), structural_hash({y}));
  // Transposed access: same shapes, different program.
  Tensor A = placeholder("A", {64, 64}, DType::F32), B = placeholder("B", {64, 64}, DType::F32);
  IterVar k = reduce_axis(64, "k");
  Tensor z = compute("C", {64, 64}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, A(k.var, i[0]) * B(k.var, i[1]), {k});
  });
  EXPECT_NE(structural_hash({x}), structural_hash({z}));
}

TEST(Structural, StridesAndDtypeAreKeyed) {
  Tensor a = placeholder("A", {4, 4}, DType::F32), b = placeholder("A", {4, 4}, DType::F32, {1, 4});
  Tensor c = placeholder("A", {4, 4}, DType::F64);
  auto id = [](Tensor t) {
    return compute("out", t->shape, [&](const std::vector<Var>& i) { return t(i[0], i[1]); });
  };
  EXPECT_NE(structural_hash({id(a)}), structural_hash({id(b)}));
  EXPECT_NE(structural_hash({id(a)}), structural_hash({id(c)}));
  EXPECT_EQ(structural_hash({id(a)}), structural_hash({id(placeholder("Z", {4, 4}, DType::F32))}));
}

TEST(Structural, ExprVariablesMatchByPosition) {
  Var x("x"), y("y"), a("a"), b("b");
  EXPECT_TRUE(structural_equal(x + y * 2, a + b * 2));
  EXPECT_FALSE(structural_equal(x + y, a + a));
  EXPECT_FALSE(structural_equal(x + 1, x + 2));
}

}  // namespace
}  // namespace kiln

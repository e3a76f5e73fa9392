#include <gtest/gtest.h>

#include "core/ir/simplify.h"

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

// affine_coefficient is local_stride's exact case: a wrap-around step is not a coefficient.
TEST(AffineCoefficient, IsTheExactStrideOnly) {
  Var i("i"), j("j");
  EXPECT_EQ(affine_coefficient(i * 8 + j * 2 - i, i.get()), 7);
  EXPECT_EQ(affine_coefficient(cast(DType::I64, j) * 3, j.get()), 3);
  EXPECT_EQ(affine_coefficient(Expr(5), i.get()), 0);
  EXPECT_FALSE(affine_coefficient(floormod(i, 16) * 4, i.get()).has_value());
  EXPECT_FALSE(affine_coefficient(i * j, i.get()).has_value());
}

}  // namespace
}  // namespace kiln

// bf16 products summed in pairs (codegen_dot_pairs.cpp): a pair loop inside an explicit vector
// loop gives the loop's sums whether or not the CPU has AVX512-BF16, and becomes its dot
// products where it does, for each way an operand lays its pairs out.
#include <cmath>

#include "llvm_test_util.h"

namespace kiln::testing {
namespace {

constexpr int64_t kM = 3, kN = 64, kK = 10;

enum class BLayout { RowMajor, PairsInnermost };

// C[M, N] (zeroed by the caller) += sum over k of f32(A[m, k]) * f32(B(k, n)), as
//   for m { for jo { for k2 { for j in 0..width vectorized { for p in 0..2 unrolled {
//     C[m, jo * width + j] = C[m, jo * width + j] + f32(A[m, 2 k2 + p]) * f32(B(2 k2 + p, n))
//   } } } } }
// with B row-major [K, N] (each half of a pair a vector of its own row) or [K / 2, N, 2] (the
// pairs of a column adjacent), and A's pair one 32-bit element every lane shares.
LoweredFunc pair_loop(int64_t width, BLayout layout) {
  Tensor a = placeholder("A", {kM, kK}, DType::BF16);
  Tensor b = layout == BLayout::RowMajor ? placeholder("B", {kK, kN}, DType::BF16)
                                         : placeholder("B", {kK / 2, kN, 2}, DType::BF16);
  Tensor c = placeholder("C", {kM, kN}, DType::F32);
  Var m("m"), jo("jo"), k2("k2"), j("j"), p("p");
  Expr n = jo * width + j, k = k2 * 2 + p;
  Expr b_at = layout == BLayout::RowMajor ? b(k, n) : b(k2, n, p);
  Expr step = c(m, n) + cast(DType::F32, a(m, k)) * cast(DType::F32, b_at);
  Stmt body = ForNode::make(p, 2, ForKind::Unrolled, StoreNode::make(c, {m, n}, step));
  body = ForNode::make(j, width, ForKind::Vectorized, body);
  body = ForNode::make(k2, kK / 2, ForKind::Serial, body);
  body = ForNode::make(jo, kN / width, ForKind::Serial, body);
  body = ForNode::make(m, kM, ForKind::Serial, body);
  return LoweredFunc{"pairs", {a, b, c}, 2, body, {}};
}

TEST(LlvmDotPairs, SumTheLoopsProductsForEveryWidthAndLayout) {
  for (BLayout layout : {BLayout::RowMajor, BLayout::PairsInnermost})
    for (int64_t width : {4, 8, 16, 32}) {
      LoweredFunc f = pair_loop(width, layout);
      HostTensor a = HostTensor::random({kM, kK}, DType::BF16, 1);
      HostTensor b = HostTensor::random(f.params[1]->shape, DType::BF16, 2);
      HostTensor c = run(*compiler().compile(f), {a, b});
      double worst = 0;
      for (int64_t i = 0; i < kM; ++i)
        for (int64_t col = 0; col < kN; ++col) {
          double want = 0;
          for (int64_t q = 0; q < kK; ++q)
            want += a.get({i, q}) *
                    (layout == BLayout::RowMajor ? b.get({q, col}) : b.get({q / 2, col, q % 2}));
          worst = std::max(worst, std::abs(c.get({i, col}) - want));
        }
      // bf16 products are exact in f32: only the f32 sums round.
      EXPECT_LT(worst, 1e-5) << "width " << width << ", layout " << static_cast<int>(layout);
    }
}

TEST(LlvmDotPairs, AreAvx512Bf16DotProductsWhereTheCpuHasThem) {
  if (!compiler().target().bf16_dot_pairs())
    GTEST_SKIP() << "this CPU has no AVX512-BF16 (" << compiler().target().cpu << ")";
  const std::pair<int64_t, const char*> forms[] = {
      {4, "dpbf16ps.128"}, {8, "dpbf16ps.256"}, {16, "dpbf16ps.512"}, {32, "dpbf16ps.512"}};
  for (auto [width, instruction] : forms)
    for (BLayout layout : {BLayout::RowMajor, BLayout::PairsInnermost}) {
      std::string ir = compiler().llvm_ir(pair_loop(width, layout));
      EXPECT_NE(ir.find(instruction), std::string::npos) << "width " << width << "\n" << ir;
      // Neither operand is gathered, and no product is left to an FMA.
      EXPECT_EQ(ir.find("gather"), std::string::npos) << ir;
      EXPECT_EQ(ir.find("fmuladd"), std::string::npos) << ir;
    }
}

TEST(LlvmDotPairs, AProductOfOtherDtypesStaysAnFma) {
  // f32 x bf16: not a pair of bf16 products, whatever the CPU.
  Tensor a = placeholder("A", {kM, kK}, DType::F32);
  Tensor b = placeholder("B", {kK, kN}, DType::BF16);
  Tensor c = placeholder("C", {kM, kN}, DType::F32);
  Var m("m"), k2("k2"), j("j"), p("p");
  Expr k = k2 * 2 + p;
  Expr step = c(m, j) + a(m, k) * cast(DType::F32, b(k, j));
  Stmt body = ForNode::make(p, 2, ForKind::Unrolled, StoreNode::make(c, {m, j}, step));
  body = ForNode::make(j, 16, ForKind::Vectorized, body);
  body = ForNode::make(k2, kK / 2, ForKind::Serial, body);
  body = ForNode::make(m, kM, ForKind::Serial, body);
  std::string ir = compiler().llvm_ir(LoweredFunc{"mixed", {a, b, c}, 2, body, {}});
  EXPECT_EQ(ir.find("dpbf16ps"), std::string::npos) << ir;
}

}  // namespace
}  // namespace kiln::testing

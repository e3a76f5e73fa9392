// int8 products summed in quads (codegen_dot_quads.cpp): a quad loop of i32(x) * (i32(y) + 128)
// inside an explicit vector loop gives the loop's exact int32 sums whether or not the CPU has
// AVX512-VNNI, and becomes its dot products where it does, for each way an operand lays its
// quads out, over the whole int8 range (the sign flip that makes y + 128 unsigned included).
#include "llvm_test_util.h"

namespace kiln::testing {
namespace {

constexpr int64_t kM = 3, kN = 64, kK = 12;

enum class Layout { RowMajor, QuadsInnermost, ATransposed };

// C[M, N] (zeroed by the caller) += sum over k of i32(A(m, k)) * (i32(B(k, n)) + 128), as
//   for m { for jo { for k4 { for j in 0..width vectorized { for q in 0..4 unrolled {
//     C[m, n] = C[m, n] + i32(A(m, 4 k4 + q)) * (i32(B(4 k4 + q, n)) + 128)
//   } } } } }
// with B row-major [K, N] (each element of a quad a vector of its own row) or [K / 4, N, 4] (a
// column's quad adjacent), and A [M, K] (a quad one 32-bit element every lane shares) or
// [K, M] (its four bytes a row apart).
LoweredFunc quad_loop(int64_t width, Layout layout) {
  bool a_transposed = layout == Layout::ATransposed;
  Tensor a = placeholder("A", a_transposed ? std::vector<int64_t>{kK, kM} : std::vector{kM, kK},
                         DType::I8);
  Tensor b = layout == Layout::QuadsInnermost ? placeholder("B", {kK / 4, kN, 4}, DType::I8)
                                              : placeholder("B", {kK, kN}, DType::I8);
  Tensor c = placeholder("C", {kM, kN}, DType::I32);
  Var m("m"), jo("jo"), k4("k4"), j("j"), q("q");
  Expr n = jo * width + j, k = k4 * 4 + q;
  Expr a_at = a_transposed ? a(k, m) : a(m, k);
  Expr b_at = layout == Layout::QuadsInnermost ? b(k4, n, q) : b(k, n);
  Expr step =
      c(m, n) + cast(DType::I32, a_at) * (cast(DType::I32, b_at) + make_const(DType::I32, 128));
  Stmt body = ForNode::make(q, 4, ForKind::Unrolled, StoreNode::make(c, {m, n}, step));
  body = ForNode::make(j, width, ForKind::Vectorized, body);
  body = ForNode::make(k4, kK / 4, ForKind::Serial, body);
  body = ForNode::make(jo, kN / width, ForKind::Serial, body);
  body = ForNode::make(m, kM, ForKind::Serial, body);
  return LoweredFunc{"quads", {a, b, c}, 2, body, {}};
}

constexpr Layout kLayouts[] = {Layout::RowMajor, Layout::QuadsInnermost, Layout::ATransposed};

TEST(LlvmDotQuads, SumTheLoopsProductsExactlyForEveryWidthAndLayout) {
  for (Layout layout : kLayouts)
    for (int64_t width : {4, 8, 16, 32}) {
      LoweredFunc f = quad_loop(width, layout);
      HostTensor a = HostTensor::random(f.params[0]->shape, DType::I8, 1, -128, 128);
      HostTensor b = HostTensor::random(f.params[1]->shape, DType::I8, 2, -128, 128);
      HostTensor c = run(*compiler().compile(f), {a, b});
      int64_t wrong = 0;
      for (int64_t i = 0; i < kM; ++i)
        for (int64_t col = 0; col < kN; ++col) {
          double want = 0;
          for (int64_t r = 0; r < kK; ++r) {
            double x = layout == Layout::ATransposed ? a.get({r, i}) : a.get({i, r});
            double y =
                layout == Layout::QuadsInnermost ? b.get({r / 4, col, r % 4}) : b.get({r, col});
            want += x * (y + 128);
          }
          wrong += c.get({i, col}) != want;
        }
      EXPECT_EQ(wrong, 0) << "width " << width << ", layout " << static_cast<int>(layout);
    }
}

TEST(LlvmDotQuads, AreAvx512VnniDotProductsWhereTheCpuHasThem) {
  if (!compiler().target().int8_dot_quads())
    GTEST_SKIP() << "this CPU has no AVX512-VNNI (" << compiler().target().cpu << ")";
  const std::pair<int64_t, const char*> forms[] = {
      {4, "vpdpbusd.128"}, {8, "vpdpbusd.256"}, {16, "vpdpbusd.512"}, {32, "vpdpbusd.512"}};
  for (auto [width, instruction] : forms)
    for (Layout layout : kLayouts) {
      std::string ir = compiler().llvm_ir(quad_loop(width, layout));
      EXPECT_NE(ir.find(instruction), std::string::npos) << "width " << width << "\n" << ir;
      EXPECT_EQ(ir.find("gather"), std::string::npos) << ir;
    }
}

TEST(LlvmDotQuads, AProductWithoutAnUnsignedFactorStaysIntegerArithmetic) {
  // i32(x) * i32(y): both factors signed, which vpdpbusd does not take.
  Tensor a = placeholder("A", {kM, kK}, DType::I8);
  Tensor b = placeholder("B", {kK, kN}, DType::I8);
  Tensor c = placeholder("C", {kM, kN}, DType::I32);
  Var m("m"), k4("k4"), j("j"), q("q");
  Expr k = k4 * 4 + q;
  Expr step = c(m, j) + cast(DType::I32, a(m, k)) * cast(DType::I32, b(k, j));
  Stmt body = ForNode::make(q, 4, ForKind::Unrolled, StoreNode::make(c, {m, j}, step));
  body = ForNode::make(j, 16, ForKind::Vectorized, body);
  body = ForNode::make(k4, kK / 4, ForKind::Serial, body);
  body = ForNode::make(m, kM, ForKind::Serial, body);
  std::string ir = compiler().llvm_ir(LoweredFunc{"signed", {a, b, c}, 2, body, {}});
  EXPECT_EQ(ir.find("vpdpbusd"), std::string::npos) << ir;
}

}  // namespace
}  // namespace kiln::testing

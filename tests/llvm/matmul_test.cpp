// The register-tiled matmul micro-kernel, golden checks of the optimized IR, and the compile
// times and speeds the team's targets are about (printed, not asserted).
#include <algorithm>
#include <regex>

#include "llvm_test_util.h"

namespace kiln::testing {
namespace {

constexpr int64_t kTileM = 8, kTileN = 32;

// C[M, N] = A[M, K] * B[K, N], 8x32 tiles of C accumulated in a local buffer:
//   for io, jo { allocate acc[8, 32] { acc = 0; for k { acc += A[.., k] * B[k, ..] }; C = acc } }
LoweredFunc tiled_matmul(int64_t m, int64_t n, int64_t k, ForKind outer = ForKind::Serial) {
  Tensor a = placeholder("A", {m, k}, DType::F32);
  Tensor b = placeholder("B", {k, n}, DType::F32);
  Tensor zero =
      compute("C", {m, n}, [](const std::vector<Var>&) { return make_const(DType::F32, 0); });
  Tensor acc = compute("acc", {kTileM, kTileN},
                       [](const std::vector<Var>&) { return make_const(DType::F32, 0); });
  Var io("io"), jo("jo"), kk("k"), ii("ii"), ji("ji");
  Expr row = io * kTileM + ii, col = jo * kTileN + ji;
  auto tile = [&](Stmt s) {
    return ForNode::make(ii, kTileM, ForKind::Unrolled,
                         ForNode::make(ji, kTileN, ForKind::Vectorized, s));
  };
  Stmt init = tile(StoreNode::make(acc, {ii, ji}, make_const(DType::F32, 0)));
  Stmt update = ForNode::make(
      kk, k, ForKind::Serial,
      tile(StoreNode::make(acc, {ii, ji}, acc.load({ii, ji}) + a(row, kk) * b(kk, col))));
  Stmt write = tile(StoreNode::make(zero, {row, col}, acc.load({ii, ji})));
  Stmt body = AllocateNode::make(acc, MemoryScope::Local, SeqNode::make({init, update, write}));
  body = ForNode::make(io, m / kTileM, outer, ForNode::make(jo, n / kTileN, ForKind::Serial, body));
  return LoweredFunc{"matmul", {a, b, zero}, 2, body, {}};
}

TEST(LlvmMatmul, RegisterTiledMicroKernelMatchesNaive) {
  for (ForKind outer : {ForKind::Serial, ForKind::Parallel}) {
    std::unique_ptr<Kernel> k = compiler().compile(tiled_matmul(64, 64, 64, outer));
    HostTensor a = HostTensor::random({64, 64}, DType::F32, 1);
    HostTensor b = HostTensor::random({64, 64}, DType::F32, 2);
    HostTensor c = run(*k, {a, b});
    double worst = 0;
    for (int64_t i = 0; i < 64; ++i)
      for (int64_t j = 0; j < 64; ++j) {
        double want = 0;
        for (int64_t q = 0; q < 64; ++q) want += a.get({i, q}) * b.get({q, j});
        worst = std::max(worst, std::abs(c.get({i, j}) - want));
      }
    EXPECT_LT(worst, 1e-4) << outer;
  }
}

TEST(LlvmGolden, MatmulAccumulatesInVectorRegistersWithFma) {
  std::string ir = compiler().llvm_ir(tiled_matmul(64, 64, 64));
  // The accumulators left memory (SROA) and the update is a vector multiply-add.
  EXPECT_EQ(ir.find("alloca"), std::string::npos) << ir;
  EXPECT_TRUE(std::regex_search(ir, std::regex("@llvm\\.(fmuladd|fma)\\.v(16|32)f32"))) << ir;
  EXPECT_NE(ir.find("<32 x float>"), std::string::npos) << ir;
}

Tensor gelu(int64_t n) {
  Tensor x = placeholder("x", {n}, DType::F32);
  return compute("gelu", {n}, [&](const std::vector<Var>& i) {
    Expr v = x(i[0]);
    return v * 0.5 * (unary(UnaryOp::Erf, v * 0.7071067811865476) + 1.0);
  });
}

TEST(LlvmGolden, ErfLoopsAreInlineArithmetic) {
  // Both ways a loop vectorizes: explicitly (32 lanes) and by LLVM's loop vectorizer (4096, at
  // the host's width: 8 lanes with AVX2, 16 with AVX-512). erf (and exp, tanh) are inline
  // rational/polynomial code: no call, vector divisions.
  for (int64_t n : {32, 4096}) {
    Tensor y = gelu(n);
    std::string ir = compiler().llvm_ir(lower_elementwise(y, ForKind::Vectorized));
    EXPECT_FALSE(std::regex_search(ir, std::regex("call[^\\n]*erf"))) << n << "\n" << ir;
    EXPECT_TRUE(std::regex_search(ir, std::regex("fdiv [a-z ]*<(8|16|32) x float>"))) << n << "\n"
                                                                                      << ir;
    HostTensor in = HostTensor::random({n}, DType::F32, 3, -4, 4);
    expect_matches_interpreter(y, {in}, ForKind::Vectorized);
  }
}

TEST(LlvmGolden, LogLoopsCallLibmvec) {
  Tensor x = placeholder("x", {4096}, DType::F32);
  Tensor y = compute("log", {4096},
                     [&](const std::vector<Var>& i) { return unary(UnaryOp::Log, x(i[0])); });
  std::string ir = compiler().llvm_ir(lower_elementwise(y, ForKind::Vectorized));
  EXPECT_TRUE(std::regex_search(ir, std::regex("_ZGV[bde]N(4|8|16)v_logf"))) << ir;
  expect_matches_interpreter(y, {HostTensor::random({4096}, DType::F32, 4, 0.01, 10)},
                             ForKind::Vectorized);
}

}  // namespace
}  // namespace kiln::testing

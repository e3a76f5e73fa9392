// The register-tiled matmul micro-kernel, golden checks of the optimized IR, and the compile
// times and speeds the team's targets are about (printed, not asserted).
#include <algorithm>
#include <chrono>
#include <cstdio>
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
  return LoweredFunc{"matmul", {a, b, zero}, 2, body};
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

TEST(LlvmGolden, ErfLoopsCallLibmvec) {
  // Both ways a loop vectorizes: explicitly (32 lanes) and by LLVM's loop vectorizer (4096).
  for (int64_t n : {32, 4096}) {
    Tensor y = gelu(n);
    std::string ir = compiler().llvm_ir(lower_elementwise(y, ForKind::Vectorized));
    EXPECT_TRUE(std::regex_search(ir, std::regex("_ZGV[bde]N(4|8|16)v_erff"))) << n << "\n" << ir;
    HostTensor in = HostTensor::random({n}, DType::F32, 3, -4, 4);
    expect_matches_interpreter(y, {in}, ForKind::Vectorized);
  }
}

template <typename F>
double median_ms(int reps, F&& f) {
  std::vector<double> ms;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST(LlvmPerformance, PrintsCompileTimesAndSpeeds) {
  Tensor a = placeholder("a", {2048, 4096}, DType::F32);
  Tensor c = compute("axpb", {2048, 4096},
                     [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 2.0 + 1.0; });
  LoweredFunc elementwise = lower_elementwise(c, ForKind::Vectorized);
  LoweredFunc matmul = tiled_matmul(512, 512, 512);
  double compile_elementwise = median_ms(9, [&] { compiler().compile(elementwise); });
  double compile_matmul = median_ms(9, [&] { compiler().compile(matmul); });
  std::printf("[ compile ] elementwise %.1f ms, matmul %.1f ms (median of 9)\n",
              compile_elementwise, compile_matmul);

  std::unique_ptr<Kernel> ek = compiler().compile(elementwise);
  HostTensor in = HostTensor::random({2048, 4096}, DType::F32, 4);
  HostTensor out = HostTensor::zeros({2048, 4096}, DType::F32);
  void* eargs[] = {in.data(), out.data()};
  double ems = median_ms(7, [&] { ek->launch(eargs); });
  std::printf(
      "[ speed   ] elementwise 2048x4096 f32: %.2f ms, %.1f GB/s (read + write, one core)\n", ems,
      2 * 4.0 * 2048 * 4096 / ems / 1e6);

  std::unique_ptr<Kernel> mk = compiler().compile(matmul);
  HostTensor ma = HostTensor::random({512, 512}, DType::F32, 5);
  HostTensor mb = HostTensor::random({512, 512}, DType::F32, 6);
  HostTensor mc = HostTensor::zeros({512, 512}, DType::F32);
  void* margs[] = {ma.data(), mb.data(), mc.data()};
  double mms = median_ms(7, [&] { mk->launch(margs); });
  std::printf("[ speed   ] tiled matmul 512^3 f32: %.2f ms, %.1f GFLOP/s (one core)\n", mms,
              2.0 * 512 * 512 * 512 / mms / 1e6);
  EXPECT_GT(mms, 0);
}

}  // namespace
}  // namespace kiln::testing

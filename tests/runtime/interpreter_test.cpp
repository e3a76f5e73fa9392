// The interpreter on small programs whose results are checked by hand or by a plain loop.
#include "core/reference/interpreter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "core/support/error.h"
#include "tests/support/error_message.h"

namespace kiln {
namespace {

using Axes = const std::vector<Var>&;

HostTensor run(const Tensor& out, const std::vector<HostTensor>& inputs) {
  return interpret({out}, inputs).at(0);
}

TEST(Interpreter, Elementwise) {
  Tensor A = placeholder("A", {3, 4}, DType::F32), B = placeholder("B", {3, 4}, DType::F32);
  Tensor C =
      compute("C", {3, 4}, [&](Axes i) { return max(A(i[0], i[1]) * B(i[0], i[1]) + 1.0, 0.0); });
  HostTensor a = HostTensor::random({3, 4}, DType::F32, 1),
             b = HostTensor::random({3, 4}, DType::F32, 2);
  HostTensor c = run(C, {a, b});
  EXPECT_EQ(c.dtype, DType::F32);
  EXPECT_EQ(c.shape, (std::vector<int64_t>{3, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j)
      EXPECT_EQ(c.get({i, j}),
                round_to_dtype(std::max(a.get({i, j}) * b.get({i, j}) + 1, 0.0), DType::F32));
}

TEST(Interpreter, BroadcastThroughIndexMapsAndStrides) {
  // C[i, j] = A[i, j] + bias[j], with A handed over as a stride-0 (expanded) view.
  Tensor A = placeholder("A", {4, 5}, DType::F64, {0, 1}),
         bias = placeholder("bias", {5}, DType::F64);
  Tensor C = compute("C", {4, 5}, [&](Axes i) { return A(i[0], i[1]) + bias(i[1]); });
  HostTensor a = HostTensor::random({4, 5}, DType::F64, 3, -1, 1, {0, 1});
  HostTensor b = HostTensor::random({5}, DType::F64, 4);
  HostTensor c = run(C, {a, b});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 5; ++j) EXPECT_EQ(c.get({i, j}), a.get({0, j}) + b.get({j}));
}

TEST(Interpreter, TransposedInputIsReadThroughItsStrides) {
  Tensor A = placeholder("A", {3, 2}, DType::I64);
  Tensor T = compute("T", {2, 3}, [&](Axes i) { return A(i[1], i[0]); });
  HostTensor a = HostTensor::random({3, 2}, DType::I64, 5, -100, 100, {1, 3});
  HostTensor t = run(T, {a});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) EXPECT_EQ(t.get({i, j}), a.get({j, i}));
}

Tensor matmul(const Tensor& A, const Tensor& B) {
  int64_t M = A->shape[0], K = A->shape[1], N = B->shape[1];
  IterVar k = reduce_axis(K, "k");
  return compute("C", {M, N}, [&](Axes i) {
    return reduce(ReduceOp::Sum, A(i[0], k.var) * B(k.var, i[1]), {k});
  });
}

TEST(Interpreter, MatmulMatchesNaiveLoop) {
  const int64_t M = 17, K = 23, N = 19;
  Tensor A = placeholder("A", {M, K}, DType::F32), B = placeholder("B", {K, N}, DType::F32);
  HostTensor a = HostTensor::random({M, K}, DType::F32, 1),
             b = HostTensor::random({K, N}, DType::F32, 2);
  HostTensor c = run(matmul(A, B), {a, b});
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double sum = 0;
      for (int64_t k = 0; k < K; ++k) sum += a.get({i, k}) * b.get({k, j});
      ASSERT_EQ(c.get({i, j}), round_to_dtype(sum, DType::F32)) << i << "," << j;
    }
}

// The interpreter is the reference of the large op and JIT cases: a 256^3 matmul (16.7M
// multiply-adds) must evaluate, exactly; its time is printed, not asserted (timing belongs in
// benchmarks, and this test also runs under the sanitizers).
TEST(Interpreter, MatmulOf256Cubed) {
  const int64_t n = 256;
  Tensor A = placeholder("A", {n, n}, DType::F32), B = placeholder("B", {n, n}, DType::F32);
  HostTensor a = HostTensor::random({n, n}, DType::F32, 1),
             b = HostTensor::random({n, n}, DType::F32, 2);
  auto start = std::chrono::steady_clock::now();
  HostTensor c = run(matmul(A, B), {a, b});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("interpreted 256^3 matmul in %.3f s\n", seconds);
  double sum = 0;
  for (int64_t k = 0; k < n; ++k) sum += a.get({100, k}) * b.get({k, 200});
  EXPECT_EQ(c.get({100, 200}), round_to_dtype(sum, DType::F32));
}

TEST(Interpreter, ChainedComputeTensors) {
  // softmax over rows: max, exp-sum and division are three compute tensors.
  const int64_t R = 3, L = 6;
  Tensor X = placeholder("X", {R, L}, DType::F64);
  IterVar j1 = reduce_axis(L, "j"), j2 = reduce_axis(L, "j");
  Tensor mx =
      compute("mx", {R}, [&](Axes i) { return reduce(ReduceOp::Max, X(i[0], j1.var), {j1}); });
  Tensor ex =
      compute("ex", {R, L}, [&](Axes i) { return unary(UnaryOp::Exp, X(i[0], i[1]) - mx(i[0])); });
  Tensor sm =
      compute("sum", {R}, [&](Axes i) { return reduce(ReduceOp::Sum, ex(i[0], j2.var), {j2}); });
  Tensor Y = compute("Y", {R, L}, [&](Axes i) { return ex(i[0], i[1]) / sm(i[0]); });
  HostTensor x = HostTensor::random({R, L}, DType::F64, 9, -3, 3);
  auto results = interpret({Y, mx}, {x});
  ASSERT_EQ(results.size(), 2u);
  for (int64_t r = 0; r < R; ++r) {
    double m = -INFINITY, total = 0;
    for (int64_t l = 0; l < L; ++l) m = std::max(m, x.get({r, l}));
    for (int64_t l = 0; l < L; ++l) total += std::exp(x.get({r, l}) - m);
    EXPECT_EQ(results[1].get({r}), m);
    for (int64_t l = 0; l < L; ++l)
      EXPECT_NEAR(results[0].get({r, l}), std::exp(x.get({r, l}) - m) / total, 1e-15);
  }
}

TEST(Interpreter, SelectGuardsAnOutOfBoundsLoad) {
  // Padding: out[i] = A[i - 1] for 1 <= i <= 4, else 0. The untaken branch would read A[-1], A[4].
  Tensor A = placeholder("A", {4}, DType::F32);
  Tensor P = compute("P", {6}, [&](Axes i) {
    return select(i[0] >= 1 && i[0] <= 4, A(i[0] - 1), make_const(DType::F32, 0));
  });
  HostTensor a = HostTensor::random({4}, DType::F32, 1, 1, 2);
  HostTensor p = run(P, {a});
  EXPECT_EQ(p.get({0}), 0);
  for (int64_t i = 1; i <= 4; ++i) EXPECT_EQ(p.get({i}), a.get({i - 1}));
  EXPECT_EQ(p.get({5}), 0);
}

TEST(Interpreter, OutOfBoundsLoadThrowsNamingTensorAndIndex) {
  Tensor A = placeholder("A", {4, 3}, DType::F32);
  Tensor S = compute("S", {4, 3}, [&](Axes i) { return A(i[0] + 1, i[1]); });
  EXPECT_EQ(testing::error_message([&] { run(S, {HostTensor::zeros({4, 3}, DType::F32)}); }),
            "compute 'S' reads 'A' at index [4, 0], out of bounds of its shape [4, 3]");
}

TEST(Interpreter, InputMismatchNamesThePlaceholder) {
  Tensor A = placeholder("A", {2, 3}, DType::F32), B = placeholder("B", {3}, DType::F32);
  Tensor C = compute("C", {2, 3}, [&](Axes i) { return A(i[0], i[1]) + B(i[1]); });
  HostTensor a = HostTensor::zeros({2, 3}, DType::F32), b = HostTensor::zeros({3}, DType::F32);
  EXPECT_NO_THROW(run(C, {a, b}));
  EXPECT_EQ(testing::error_message([&] { run(C, {a}); }),
            "interpret: expected 2 inputs ('A', 'B'), got 1");
  EXPECT_EQ(testing::error_message([&] { run(C, {a, HostTensor::zeros({4}, DType::F32)}); }),
            "interpret: input 1 for placeholder 'B' is f32[4], expected f32[3]");
  EXPECT_EQ(testing::error_message([&] { run(C, {HostTensor::zeros({2, 3}, DType::F64), b}); }),
            "interpret: input 0 for placeholder 'A' is f64[2, 3], expected f32[2, 3]");
  HostTensor short_storage = HostTensor::zeros({3}, DType::F32);
  short_storage.storage_elements = 2;
  EXPECT_NE(testing::error_message([&] { run(C, {a, short_storage}); }).find("'B' has strides [1]"),
            std::string::npos);
}

TEST(Interpreter, PlaceholderOutputComesBackRowMajor) {
  Tensor A = placeholder("A", {2, 3}, DType::I32, {1, 2});
  HostTensor a = HostTensor::random({2, 3}, DType::I32, 4, -50, 50, {1, 2});
  HostTensor out = run(A, {a});
  EXPECT_EQ(out.strides, (std::vector<int64_t>{3, 1}));
  for (int64_t i = 0; i < 6; ++i) EXPECT_EQ(out.get_flat(i), a.get_flat(i));
}

}  // namespace
}  // namespace kiln

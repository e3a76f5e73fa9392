// Small workloads of the op classes the tuning and lowering tests schedule: contraction,
// convolution, row reduction, scan, scatter. `prefix` (or `name`) renames every tensor and axis,
// for structural-equality checks.
#pragma once

#include <string>

#include "core/ir/target.h"
#include "core/ir/tensor.h"

namespace kiln::tune_test {

inline Tensor matmul(int64_t m, int64_t n, int64_t k, const std::string& prefix = "") {
  Tensor A = placeholder(prefix + "A", {m, k}, DType::F32);
  Tensor B = placeholder(prefix + "B", {k, n}, DType::F32);
  IterVar r = reduce_axis(k, prefix + "k");
  return compute(prefix + "C", {m, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, A(i[0], r.var) * B(r.var, i[1]), {r});
  });
}

/// A bf16 matmul as the op library builds it: the product of bf16 operands in f32, then a cast
/// back to bf16 (its epilogue).
/// x @ W.T as a Linear layer computes it: W [n, k] read through a transposed index map.
inline Tensor linear(int64_t m, int64_t n, int64_t k) {
  Tensor x = placeholder("x", {m, k}, DType::F32), w = placeholder("w", {n, k}, DType::F32);
  IterVar r = reduce_axis(k, "k");
  return compute("y", {m, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], r.var) * w(i[1], r.var), {r});
  });
}

inline Tensor matmul_bf16(int64_t m, int64_t n, int64_t k) {
  Tensor A = placeholder("A", {m, k}, DType::BF16);
  Tensor B = placeholder("B", {k, n}, DType::BF16);
  IterVar r = reduce_axis(k, "k");
  Tensor C = compute("C", {m, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum,
                  cast(DType::F32, A(i[0], r.var)) * cast(DType::F32, B(r.var, i[1])), {r});
  });
  return compute("C.cast", {m, n},
                 [&](const std::vector<Var>& i) { return cast(DType::BF16, C(i[0], i[1])); });
}

/// A 3x3 convolution without padding, channels first, batch 1, with a ReLU epilogue.
inline Tensor conv3x3_relu(int64_t c, int64_t k, int64_t hw) {
  Tensor I = placeholder("I", {c, hw + 2, hw + 2}, DType::F32);
  Tensor W = placeholder("W", {k, c, 3, 3}, DType::F32);
  IterVar rc = reduce_axis(c, "rc"), ry = reduce_axis(3, "ry"), rx = reduce_axis(3, "rx");
  Tensor conv = compute("conv", {k, hw, hw}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum,
                  I(rc.var, i[1] + ry.var, i[2] + rx.var) * W(i[0], rc.var, ry.var, rx.var),
                  {rc, ry, rx});
  });
  return compute("relu", {k, hw, hw}, [&](const std::vector<Var>& i) {
    return max(conv(i[0], i[1], i[2]), make_const(DType::F32, 0));
  });
}

inline Tensor softmax(int64_t rows, int64_t cols) {
  Tensor X = placeholder("X", {rows, cols}, DType::F32);
  IterVar r1 = reduce_axis(cols, "k");
  Tensor mx = compute("max", {rows, 1}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, X(i[0], r1.var), {r1});
  });
  Tensor e = compute("exp", {rows, cols}, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Exp, X(i[0], i[1]) - mx(i[0], 0));
  });
  IterVar r2 = reduce_axis(cols, "k");
  Tensor sum = compute("sum", {rows, 1}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, e(i[0], r2.var), {r2});
  });
  return compute("softmax", {rows, cols},
                 [&](const std::vector<Var>& i) { return e(i[0], i[1]) / sum(i[0], 0); });
}

/// cumsum of a f32 [rows, cols] placeholder along `axis` (a scan).
inline Tensor cumsum(int64_t rows, int64_t cols, int axis, const std::string& name = "c") {
  Tensor x = placeholder(name + "x", {rows, cols}, DType::F32);
  return scan(
      name, {rows, cols}, axis, [&](const std::vector<Var>& i) { return x(i[0], i[1]) + 0.0; },
      [&](const std::vector<Var>& i, const Expr& prev) { return prev + x(i[0], i[1]); });
}

/// scatter_add of a [k, cols] source into a [rows, cols] self along dim 0, at index rows.
inline Tensor scatter_add(int64_t rows, int64_t cols, int64_t k, const std::string& name = "s") {
  Tensor self = placeholder(name + "self", {rows, cols}, DType::F32);
  Tensor index = placeholder(name + "index", {k, cols}, DType::I64);
  Tensor src = placeholder(name + "src", {k, cols}, DType::F32);
  return scatter(
      name, {rows, cols}, [&](const std::vector<Var>& i) { return self(i[0], i[1]); },
      {{{k, cols},
        [&](const std::vector<Var>& u) { return std::vector<Expr>{index(u[0], u[1]), u[1]}; },
        [&](const std::vector<Var>& u, const Expr& old) { return old + src(u[0], u[1]); }}});
}

/// An AVX-512 machine with two threads, like the development machine.
inline Target avx512() {
  Target t;
  t.vector_bits = 512;
  t.num_threads = 2;
  return t;
}

/// The AVX-512 machine with AVX512-BF16's dot products (Zen 4 and 5, Sapphire Rapids).
inline Target avx512_bf16() {
  Target t = avx512();
  t.features = "+avx512bf16,+avx512f,+avx512vl";
  return t;
}

/// An AVX2 machine with two threads (Zen 3): 8 lanes of f32, masked moves that cost several
/// plain ones.
inline Target avx2() {
  Target t;
  t.vector_bits = 256;
  t.num_threads = 2;
  return t;
}

}  // namespace kiln::tune_test

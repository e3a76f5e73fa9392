// The interpreter's arithmetic, op by op, where C, Python and PyTorch disagree or NaN is involved.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/reference/interpreter.h"
#include "core/support/error.h"

namespace kiln {
namespace {

using Axes = const std::vector<Var>&;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A 1-D input tensor holding `values`.
HostTensor vector_of(DType dtype, const std::vector<double>& values) {
  HostTensor t = HostTensor::zeros({static_cast<int64_t>(values.size())}, dtype);
  for (size_t i = 0; i < values.size(); ++i) t.set_flat(static_cast<int64_t>(i), values[i]);
  return t;
}

std::vector<double> values_of(const HostTensor& t) {
  std::vector<double> v;
  for (int64_t i = 0; i < t.numel(); ++i) v.push_back(t.get_flat(i));
  return v;
}

/// f(a[i], b[i]) elementwise over two vectors of `dtype`.
std::vector<double> binary(DType dtype, const std::vector<double>& a, const std::vector<double>& b,
                           const std::function<Expr(Expr, Expr)>& f) {
  int64_t n = static_cast<int64_t>(a.size());
  Tensor A = placeholder("A", {n}, dtype), B = placeholder("B", {n}, dtype);
  Tensor C = compute("C", {n}, [&](Axes i) { return f(A(i[0]), B(i[0])); });
  return values_of(interpret({C}, {vector_of(dtype, a), vector_of(dtype, b)}).at(0));
}

/// f(a[i]) elementwise.
HostTensor unary_map(DType dtype, const std::vector<double>& a,
                     const std::function<Expr(Expr)>& f) {
  int64_t n = static_cast<int64_t>(a.size());
  Tensor A = placeholder("A", {n}, dtype);
  Tensor C = compute("C", {n}, [&](Axes i) { return f(A(i[0])); });
  return interpret({C}, {vector_of(dtype, a)}).at(0);
}

/// reduce(op) over the last axis of a rows x cols tensor.
std::vector<double> reduce_rows(ReduceOp op, DType dtype, int64_t cols,
                                const std::vector<double>& v) {
  int64_t rows = static_cast<int64_t>(v.size()) / cols;
  Tensor A = placeholder("A", {rows, cols}, dtype);
  IterVar k = reduce_axis(cols, "k");
  Tensor R = compute("R", {rows}, [&](Axes i) { return reduce(op, A(i[0], k.var), {k}); });
  HostTensor a = vector_of(dtype, v);
  a.shape = {rows, cols};
  a.strides = {cols, 1};
  return values_of(interpret({R}, {a}).at(0));
}

using V = std::vector<double>;

TEST(InterpreterSemantics, IntegerDivisionAndModulo) {
  V a = {-7, 7, -7, 7, 6}, b = {2, 2, -2, -2, 3};
  for (DType t : {DType::I32, DType::I64}) {
    EXPECT_EQ(binary(t, a, b, [](Expr x, Expr y) { return x / y; }), (V{-3, 3, 3, -3, 2}));
    EXPECT_EQ(binary(t, a, b, floordiv), (V{-4, 3, 3, -4, 2}));
    EXPECT_EQ(binary(t, a, b, floormod), (V{1, 1, -1, -1, 0}));
    EXPECT_EQ(binary(t, a, b, [](Expr x, Expr y) { return x % y; }), (V{-1, 1, -1, 1, 0}));
  }
}

TEST(InterpreterSemantics, FloatDivisionAndModulo) {
  V a = {-7.5, 7.5, -7.5, 7.5}, b = {2, 2, -2, -2};
  EXPECT_EQ(binary(DType::F64, a, b, [](Expr x, Expr y) { return x / y; }),
            (V{-3.75, 3.75, 3.75, -3.75}));
  EXPECT_EQ(binary(DType::F64, a, b, floordiv), (V{-4, 3, 3, -4}));
  EXPECT_EQ(binary(DType::F64, a, b, floormod), (V{0.5, 1.5, -1.5, -0.5}));
  EXPECT_EQ(binary(DType::F64, a, b, [](Expr x, Expr y) { return x % y; }),
            (V{-1.5, 1.5, -1.5, 1.5}));
}

TEST(InterpreterSemantics, IntegerDivisionByZeroThrows) {
  for (auto op : {BinaryOp::Div, BinaryOp::FloorDiv, BinaryOp::FloorMod, BinaryOp::Mod})
    EXPECT_THROW(
        binary(DType::I64, {1}, {0}, [op](Expr x, Expr y) { return BinaryNode::make(op, x, y); }),
        Error);
}

TEST(InterpreterSemantics, I32WrapsAndI64DoesNot) {
  V a = {2147483647, -2147483647 - 1}, b = {1, -1};
  EXPECT_EQ(binary(DType::I32, a, b, [](Expr x, Expr y) { return x + y; }),
            (V{-2147483647.0 - 1, 2147483647}));
  EXPECT_EQ(binary(DType::I64, a, b, [](Expr x, Expr y) { return x + y; }),
            (V{2147483648.0, -2147483649.0}));
  EXPECT_EQ(binary(DType::I32, a, b, [](Expr x, Expr y) { return x * (y + y); }), (V{-2, 0}));
}

TEST(InterpreterSemantics, IntegerPow) {
  V base = {2, 3, -1, 1, 0, -3, 7}, exponent = {10, -1, -3, -5, 0, 3, 0};
  EXPECT_EQ(binary(DType::I64, base, exponent, pow), (V{1024, 0, -1, 1, 1, -27, 1}));
  EXPECT_EQ(binary(DType::F64, {2, 4}, {-1, 0.5}, pow), (V{0.5, 2}));
}

TEST(InterpreterSemantics, RoundIsHalfToEven) {
  V in = {0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, -2.6};
  HostTensor r = unary_map(DType::F64, in, [](Expr x) { return unary(UnaryOp::Round, x); });
  EXPECT_EQ(values_of(r), (V{0, 2, 2, -0.0, -2, 2, -3}));
  EXPECT_TRUE(std::signbit(r.get_flat(3)));
  HostTensor t = unary_map(DType::F64, in, [](Expr x) { return unary(UnaryOp::Trunc, x); });
  EXPECT_EQ(values_of(t), (V{0, 1, 2, 0, -1, 2, -2}));
}

TEST(InterpreterSemantics, MinMaxPropagateNaN) {
  V a = {1, kNaN, 3, kNaN}, b = {2, 5, kNaN, kNaN};
  V mx = binary(DType::F32, a, b, [](Expr x, Expr y) { return max(x, y); });
  V mn = binary(DType::F32, a, b, [](Expr x, Expr y) { return min(x, y); });
  EXPECT_EQ(mx[0], 2);
  EXPECT_EQ(mn[0], 1);
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(std::isnan(mx[i]) && std::isnan(mn[i])) << i;
}

TEST(InterpreterSemantics, MaxAndArgMaxReductionsWithNaN) {
  V rows = {1,  kNaN, 7,  kNaN,  // NaN wins Max; ArgMax is the first NaN.
            3,  9,    9,  2,     // Tie: ArgMax keeps the first 9.
            -1, -5,   -5, -1};   // ArgMin tie keeps the first -5.
  V mx = reduce_rows(ReduceOp::Max, DType::F32, 4, rows);
  EXPECT_TRUE(std::isnan(mx[0]));
  EXPECT_EQ(mx[1], 9);
  EXPECT_EQ(reduce_rows(ReduceOp::ArgMax, DType::F32, 4, rows), (V{1, 1, 0}));
  EXPECT_EQ(reduce_rows(ReduceOp::ArgMin, DType::F32, 4, rows), (V{1, 3, 1}));
  V mn = reduce_rows(ReduceOp::Min, DType::F32, 4, rows);
  EXPECT_TRUE(std::isnan(mn[0]));
  EXPECT_EQ(mn[2], -5);
  // Integers: ties keep the first, too.
  EXPECT_EQ(reduce_rows(ReduceOp::ArgMax, DType::I32, 3, {4, 4, 1, -2, 0, 0}), (V{0, 1}));
  EXPECT_EQ(reduce_rows(ReduceOp::Sum, DType::I64, 3, {4, 4, 1, -2, 0, 0}), (V{9, -2}));
  EXPECT_EQ(reduce_rows(ReduceOp::Prod, DType::F64, 3, {4, 4, 1, -2, 0.5, 3}), (V{16, -3}));
}

TEST(InterpreterSemantics, ArgMaxOverSeveralAxesIsRowMajorFlat) {
  Tensor A = placeholder("A", {2, 3, 4}, DType::F64);
  IterVar j = reduce_axis(3, "j"), k = reduce_axis(4, "k");
  Tensor R = compute(
      "R", {2}, [&](Axes i) { return reduce(ReduceOp::ArgMax, A(i[0], j.var, k.var), {j, k}); });
  HostTensor a = HostTensor::zeros({2, 3, 4}, DType::F64);
  a.set({0, 2, 1}, 5);  // Flat 2*4+1 = 9.
  a.set({1, 1, 3}, 5);  // Flat 1*4+3 = 7.
  a.set({1, 2, 0}, 5);  // A later tie.
  HostTensor r = interpret({R}, {a}).at(0);
  EXPECT_EQ(r.dtype, DType::I64);
  EXPECT_EQ(values_of(r), (V{9, 7}));
}

TEST(InterpreterSemantics, CastsAndComparisons) {
  V in = {-2.7, 2.7, 0, kNaN};
  EXPECT_EQ(values_of(unary_map(DType::F64, {-2.7, 2.7, 0.0},
                                [](Expr x) { return cast(DType::I32, x); })),
            (V{-2, 2, 0}));
  EXPECT_EQ(values_of(unary_map(DType::F64, in, [](Expr x) { return cast(DType::Bool, x); })),
            (V{1, 1, 0, 1}));
  EXPECT_EQ(values_of(unary_map(DType::F64, in, [](Expr x) { return cast(DType::F32, x > 0.0); })),
            (V{0, 1, 0, 0}));
  EXPECT_EQ(values_of(unary_map(DType::F64, in, [](Expr x) { return unary(UnaryOp::IsNan, x); })),
            (V{0, 0, 0, 1}));
  EXPECT_EQ(values_of(unary_map(DType::F64, {0.1}, [](Expr x) { return cast(DType::F16, x); })),
            (V{0.0999755859375}));
  EXPECT_EQ(
      values_of(unary_map(DType::I64, {3000000000.0}, [](Expr x) { return cast(DType::I32, x); })),
      (V{3000000000.0 - 4294967296.0}));
}

TEST(InterpreterSemantics, FloatsAreComputedInDoubleAndRoundedOnStore) {
  // In f32 arithmetic 1e8 + 1 - 1e8 is 0; the reference keeps the 1 until the store.
  HostTensor r = unary_map(DType::F32, {1e8}, [](Expr x) { return x + 1.0 - x; });
  EXPECT_EQ(r.get_flat(0), 1);
  // An f16 result is rounded to f16 once, at the store.
  HostTensor h = unary_map(DType::F16, {1000}, [](Expr x) { return x * 70.0; });
  EXPECT_EQ(h.get_flat(0), INFINITY);
  HostTensor third = unary_map(DType::F16, {1}, [](Expr x) { return x / 3.0; });
  EXPECT_EQ(third.get_flat(0), 0.333251953125);
}

}  // namespace
}  // namespace kiln

// The vocabulary of the op-case table (op_cases.cpp and op_cases_*.cpp): short argument
// makers, input specs, tolerances per dtype, and Table, which the per-family functions fill.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/support/error.h"
#include "op_cases.h"

namespace kiln::op_case_table {

using Args = std::vector<OpArg>;
using P = const std::vector<Tensor>&;
constexpr DType f16 = DType::F16, bf16 = DType::BF16, f32 = DType::F32, f64 = DType::F64,
                i8 = DType::I8, i16 = DType::I16, i32 = DType::I32, i64 = DType::I64,
                b8 = DType::Bool;

inline OpArg I(int64_t v) {
  return v;
}
inline OpArg F(double v) {
  return v;
}
inline OpArg B(bool v) {
  return v;
}
inline OpArg L(std::vector<int64_t> v) {
  return v;
}
inline OpArg S(std::string v) {
  return v;
}
inline OpArg D(DType t) {
  return t;
}
inline const OpArg None = NoneArg{};

inline InputSpec in(std::vector<int64_t> shape, DType t = f32, double lo = -1, double hi = 1) {
  return {std::move(shape), t, {}, lo, hi};
}
inline InputSpec strided(std::vector<int64_t> shape, std::vector<int64_t> strides, DType t = f32,
                         double lo = -1, double hi = 1) {
  return {std::move(shape), t, std::move(strides), lo, hi};
}

/// Tolerances for results of `t`: the interpreter works in double and PyTorch in f32, so f32
/// allows a few ulps; 16-bit results may differ by one rounding step.
inline std::pair<double, double> tol(DType t) {
  switch (t) {
    case DType::F16: return {2e-3, 2e-3};
    case DType::BF16: return {1.6e-2, 1.6e-2};
    case DType::F64: return {1e-10, 1e-10};
    default: return {1e-5, 1e-5};
  }
}

class Table {
 public:
  std::vector<OpCase> cases;

  void add(std::string name, std::string op, std::vector<InputSpec> inputs,
           std::function<Args(P)> args, DType tol_dtype = f32) {
    auto [atol, rtol] = tol(tol_dtype);
    cases.push_back(
        {std::move(name), std::move(op), std::move(inputs), std::move(args), atol, rtol});
  }
  /// op(p[0], p[1], ...) with exactly the inputs as arguments, then `extra`.
  void call(std::string name, std::string op, std::vector<InputSpec> inputs, Args extra = {},
            DType tol_dtype = f32) {
    size_t n = inputs.size();
    add(
        std::move(name), std::move(op), std::move(inputs),
        [n, extra](P p) {
          Args a(p.begin(), p.begin() + n);
          a.insert(a.end(), extra.begin(), extra.end());
          return a;
        },
        tol_dtype);
  }
};

/// The cases of the op families in op_cases_special_and_gradients.cpp.
void special_function_cases(Table& t);
void whole_tensor_reduction_cases(Table& t);
void scan_cases(Table& t);
/// The cases of op_cases_scatter.cpp.
void scatter_cases(Table& t);
void view_copy_cases(Table& t);
void pooling_backward_cases(Table& t);

}  // namespace kiln::op_case_table

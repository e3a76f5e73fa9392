// Elementwise ops of one tensor: math functions, activations, rounding, predicates.
#include <cmath>
#include <limits>

#include "core/ops/elementwise.h"
#include "core/ops/type_promotion.h"

namespace kiln {

namespace {

/// What an op does with integer and bool inputs.
enum class IntInputs {
  kToFloat,  ///< Computes in the default float dtype (exp, sqrt, sigmoid, ...), like PyTorch.
  kKeep,     ///< Keeps the dtype (neg, abs, floor, ...); bool is rejected.
  kReject,   ///< Floats only (gelu, silu).
};

using UnaryFn = std::function<Expr(Expr)>;

/// The dtype of a unary op's result for input `x` (argument 0), checking what the op accepts.
DType unary_result(const OpArgs& a, const Tensor& x, IntInputs ints) {
  DType t = x->dtype;
  if (ints == IntInputs::kToFloat) return float_result(t);
  if (ints == IntInputs::kReject && !is_float(t))
    throw a.error(0, str_cat("must be a floating-point tensor, got ", t));
  require_numeric(a, 0, t);
  return t;
}

/// `extra` names the arguments after `self`, read by fn through the OpArgs.
void add_unary(OpRegistry& r, const std::string& op, IntInputs ints,
               std::function<Expr(const OpArgs&, Expr)> fn,
               std::vector<std::string_view> extra = {}) {
  r.add(op, [=](const std::vector<OpArg>& args) {
    std::vector<std::string_view> names{"self"};
    names.insert(names.end(), extra.begin(), extra.end());
    OpArgs a(op, args, names);
    Tensor x = a.tensor(0);
    DType out = unary_result(a, x, ints);
    return std::vector<Tensor>{elementwise(
        a, {x}, compute_type(out), out, [&](const std::vector<Expr>& v) { return fn(a, v[0]); })};
  });
}

void add_simple(OpRegistry& r, const std::string& op, IntInputs ints, UnaryFn fn) {
  add_unary(r, op, ints, [fn](const OpArgs&, Expr x) { return fn(x); });
}

/// Floor, ceil, round and trunc leave integers as they are.
UnaryFn rounding(UnaryOp op) {
  return [op](Expr x) { return is_float(x.dtype()) ? unary(op, x) : x; };
}

/// round(x, decimals) as eager computes it: half to even at the scaled value, scaling by
/// 10^|decimals| in the compute type (multiplying first for decimals > 0, dividing otherwise).
Expr round_to_decimals(const OpArgs& a, Expr x) {
  int64_t decimals = a.integer(1);
  Expr ten_pow = make_const(x.dtype(), std::pow(10.0, static_cast<double>(std::abs(decimals))));
  if (decimals > 0) return unary(UnaryOp::Round, x * ten_pow) / ten_pow;
  return unary(UnaryOp::Round, x / ten_pow) * ten_pow;
}

/// c[0] * x^n + c[1] * x^(n-1) + ... + c[n], by Horner's rule, in x's dtype.
Expr horner(Expr x, std::initializer_list<double> c) {
  Expr result;
  for (double coefficient : c) {
    Expr k = make_const(x.dtype(), coefficient);
    result = result.defined() ? result * x + k : k;
  }
  return result;
}

/// erfinv in float: Giles's single-precision approximation (M. Giles, "Approximating the erfinv
/// function", GPU Computing Gems Jade, 2012), x times a polynomial in w - 2.5 for
/// w = -log((1 - x)(1 + x)) below 5, else in sqrt(w) - 3; ±1 give ±inf, |x| > 1 NaN (through
/// the log). Within 4 ulp of the exact value (eager, MKL's: 1), and vector code: the scalar
/// rational guess refined by two Newton steps on erf took 50 ns an element, 20x eager's time.
/// Double keeps that algorithm (UnaryOp::Erfinv), as eager does.
Expr erfinv(Expr x) {
  if (x.dtype() != DType::F32) return unary(UnaryOp::Erfinv, x);
  Expr one = make_const(DType::F32, 1.0);
  Expr w = -unary(UnaryOp::Log, (one - x) * (one + x));
  Expr central = horner(w - make_const(DType::F32, 2.5),
                        {2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                         0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941});
  Expr tail = horner(unary(UnaryOp::Sqrt, w) - make_const(DType::F32, 3.0),
                     {-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                      -0.0076224613, 0.00943887047, 1.00167406, 2.83297682});
  Expr infinity = make_const(DType::F32, std::numeric_limits<double>::infinity());
  return select(unary(UnaryOp::Abs, x) == one, BinaryNode::make(BinaryOp::Copysign, infinity, x),
                x * select(w < make_const(DType::F32, 5.0), central, tail));
}

Expr sigmoid(Expr x) {
  return 1.0 / (1.0 + unary(UnaryOp::Exp, -x));
}

/// ELU (and SELU and CELU, which decompose to it): scale * x for x > 0, else
/// scale * alpha * (exp(input_scale * x) - 1), computed with expm1 as eager does.
Expr elu(const OpArgs& a, Expr x) {
  DType t = x.dtype();
  double alpha = a.real(1), scale = a.real(2), input_scale = a.real(3);
  Expr negative = unary(UnaryOp::Expm1, x * make_const(t, input_scale));
  return select(x > 0, x * make_const(t, scale), negative * make_const(t, alpha * scale));
}

Expr gelu(const OpArgs& a, Expr x) {
  std::string mode = a.optional_string(1).value_or("none");
  if (mode == "none") return x * 0.5 * (1.0 + unary(UnaryOp::Erf, x * M_SQRT1_2));
  if (mode == "tanh") {
    Expr inner = std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x);
    return 0.5 * x * (1.0 + unary(UnaryOp::Tanh, inner));
  }
  throw a.error(1, str_cat("is \"", mode, "\", expected \"none\" or \"tanh\""));
}

/// polygamma(n, x), the n-th derivative of digamma, as eager computes it: digamma and trigamma
/// for n = 0 and 1, else (-1)^(n+1) n! zeta(n + 1, x), the factor computed in the compute type.
std::vector<Tensor> lower_polygamma(const std::vector<OpArg>& args) {
  OpArgs a("aten.polygamma.default", args, {"n", "self"});
  int64_t n = a.integer(0);
  if (n < 0) throw a.error(0, str_cat("is ", n, "; polygamma needs n >= 0"));
  Tensor x = a.tensor(1);
  DType out = float_result(x->dtype);
  DType t = compute_type(out);
  double factor = t == DType::F64 ? std::exp(std::lgamma(static_cast<double>(n) + 1.0))
                                  : std::exp(std::lgamma(static_cast<float>(n) + 1.0f));
  if (n % 2 == 0) factor = -factor;
  return {elementwise(a, {x}, t, out, [&](const std::vector<Expr>& v) {
    if (n == 0) return unary(UnaryOp::Digamma, v[0]);
    if (n == 1) return unary(UnaryOp::Trigamma, v[0]);
    Expr order = make_const(t, static_cast<double>(n + 1));
    return make_const(t, factor) * BinaryNode::make(BinaryOp::Zeta, order, v[0]);
  })};
}

}  // namespace

void register_unary_ops(OpRegistry& r) {
  using enum IntInputs;
  for (auto [name, op] : std::initializer_list<std::pair<const char*, UnaryOp>>{
           {"exp", UnaryOp::Exp},         {"exp2", UnaryOp::Exp2},
           {"log", UnaryOp::Log},         {"log1p", UnaryOp::Log1p},
           {"expm1", UnaryOp::Expm1},     {"sqrt", UnaryOp::Sqrt},
           {"rsqrt", UnaryOp::Rsqrt},     {"sin", UnaryOp::Sin},
           {"cos", UnaryOp::Cos},         {"tanh", UnaryOp::Tanh},
           {"erf", UnaryOp::Erf},         {"erfc", UnaryOp::Erfc},
           {"asin", UnaryOp::Asin},       {"acos", UnaryOp::Acos},
           {"atan", UnaryOp::Atan},       {"sinh", UnaryOp::Sinh},
           {"cosh", UnaryOp::Cosh},       {"tan", UnaryOp::Tan},
           {"asinh", UnaryOp::Asinh},     {"acosh", UnaryOp::Acosh},
           {"atanh", UnaryOp::Atanh},     {"log2", UnaryOp::Log2},
           {"log10", UnaryOp::Log10},     {"lgamma", UnaryOp::Lgamma},
           {"digamma", UnaryOp::Digamma}, {"i0", UnaryOp::I0},
           {"special_i0e", UnaryOp::I0e}, {"special_i1", UnaryOp::I1},
           {"special_i1e", UnaryOp::I1e}, {"special_ndtri", UnaryOp::Ndtri}}) {
    UnaryOp u = op;
    add_simple(r, str_cat("aten.", name, ".default"), kToFloat,
               [u](Expr x) { return unary(u, x); });
  }
  r.add("aten.polygamma.default", lower_polygamma);
  add_simple(r, "aten.sigmoid.default", kToFloat, sigmoid);
  add_simple(r, "aten.erfinv.default", kToFloat, erfinv);
  add_simple(r, "aten.reciprocal.default", kToFloat, [](Expr x) { return 1.0 / x; });
  add_simple(r, "aten.neg.default", kKeep, [](Expr x) { return -x; });
  add_simple(r, "aten.abs.default", kKeep, [](Expr x) { return unary(UnaryOp::Abs, x); });
  // max() propagates NaN, as relu does.
  add_simple(r, "aten.relu.default", kKeep,
             [](Expr x) { return max(x, make_const(x.dtype(), 0)); });
  add_simple(r, "aten.sign.default", kKeep,
             [](Expr x) { return cast(x.dtype(), x > 0) - cast(x.dtype(), x < 0); });
  add_simple(r, "aten.floor.default", kKeep, rounding(UnaryOp::Floor));
  add_simple(r, "aten.ceil.default", kKeep, rounding(UnaryOp::Ceil));
  add_simple(r, "aten.round.default", kKeep, rounding(UnaryOp::Round));
  add_simple(r, "aten.trunc.default", kKeep, rounding(UnaryOp::Trunc));
  add_unary(r, "aten.round.decimals", kReject, round_to_decimals, {"decimals"});
  add_simple(r, "aten.silu.default", kReject, [](Expr x) { return x * sigmoid(x); });
  add_unary(r, "aten.gelu.default", kReject, gelu, {"approximate"});
  add_unary(r, "aten.leaky_relu.default", kReject,
            [](const OpArgs& a, Expr x) { return select(x > 0, x, x * a.real(1)); },
            {"negative_slope"});
  add_unary(r, "aten.elu.default", kReject, elu, {"alpha", "scale", "input_scale"});
  add_unary(r, "aten.hardtanh.default", kKeep,
            [](const OpArgs& a, Expr x) {
              return min(max(x, make_const(x.dtype(), a.real(1))),
                         make_const(x.dtype(), a.real(2)));
            },
            {"min_val", "max_val"});

  // Predicates: bool results from any input dtype.
  auto predicate = [&r](const std::string& op, UnaryFn fn) {
    r.add(op, [op, fn](const std::vector<OpArg>& args) {
      OpArgs a(op, args, {"self"});
      Tensor x = a.tensor(0);
      return std::vector<Tensor>{elementwise(a, {x}, compute_type(x->dtype), DType::Bool,
                                             [&](const std::vector<Expr>& v) { return fn(v[0]); })};
    });
  };
  predicate("aten.isnan.default", [](Expr x) {
    return is_float(x.dtype()) ? unary(UnaryOp::IsNan, x) : make_const(DType::Bool, 0);
  });
  predicate("aten.logical_not.default", [](Expr x) { return !cast(DType::Bool, x); });
  auto infinity = [](Expr x, double sign) { return x == make_const(x.dtype(), sign * INFINITY); };
  auto never = [](Expr) { return make_const(DType::Bool, 0); };
  predicate("aten.isinf.default", [=](Expr x) {
    return is_float(x.dtype()) ? infinity(unary(UnaryOp::Abs, x), 1) : never(x);
  });
  predicate("aten.isposinf.default",
            [=](Expr x) { return is_float(x.dtype()) ? infinity(x, 1) : never(x); });
  predicate("aten.isneginf.default",
            [=](Expr x) { return is_float(x.dtype()) ? infinity(x, -1) : never(x); });
  // The sign bit itself: true for -0.0 and for a NaN with its sign bit set, as in eager.
  predicate("aten.signbit.default", [](Expr x) {
    DType t = x.dtype();
    if (t == DType::Bool) return make_const(DType::Bool, 0);
    if (!is_float(t)) return x < make_const(t, 0);
    return BinaryNode::make(BinaryOp::Copysign, make_const(t, 1), x) < make_const(t, 0);
  });

  r.add("aten.bitwise_not.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.bitwise_not.default", args, {"self"});
    Tensor x = a.tensor(0);
    if (is_float(x->dtype))
      throw a.error(0, str_cat("must be a bool or integer tensor, got ", x->dtype));
    return std::vector<Tensor>{
        elementwise(a, {x}, x->dtype, x->dtype, [](const std::vector<Expr>& v) {
          // Two's complement: ~x == -x - 1.
          return v[0].dtype() == DType::Bool ? !v[0] : -v[0] - 1;
        })};
  });
}

}  // namespace kiln

#include "core/reference/scalar_ops.h"

#include <cmath>
#include <limits>

#include "core/ir/special_math.h"
#include "core/support/error.h"

namespace kiln {

namespace {

// Wrapping int64 arithmetic: signed overflow is undefined in C++, unsigned wraps.
int64_t wrap_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(uint64_t(a) + uint64_t(b));
}
int64_t wrap_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(uint64_t(a) - uint64_t(b));
}
int64_t wrap_mul(int64_t a, int64_t b) {
  return static_cast<int64_t>(uint64_t(a) * uint64_t(b));
}

// C semantics; INT64_MIN / -1 wraps instead of trapping.
int64_t c_div(int64_t a, int64_t b) {
  return b == -1 ? wrap_sub(0, a) : a / b;
}
int64_t c_mod(int64_t a, int64_t b) {
  return b == -1 ? 0 : a % b;
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t r = c_mod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? c_div(a, b) - 1 : c_div(a, b);
}

int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = c_mod(a, b);
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

/// Like torch: a negative exponent gives 0, except for bases 1 and -1 whose powers stay +-1.
int64_t int_pow(int64_t base, int64_t exponent) {
  if (exponent < 0) return base == 1 ? 1 : base == -1 ? (exponent & 1 ? -1 : 1) : 0;
  int64_t result = 1;
  for (; exponent; exponent >>= 1) {
    if (exponent & 1) result = wrap_mul(result, base);
    base = wrap_mul(base, base);
  }
  return result;
}

/// Python's a // b on floats, the way c10::div_floor_floating computes it.
double float_floor_div(double a, double b) {
  if (b == 0) return a / b;
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
  if (div == 0) return std::copysign(0.0, a / b);
  double floor_div = std::floor(div);
  return div - floor_div > 0.5 ? floor_div + 1 : floor_div;
}

/// Python's a % b on floats: the sign of the divisor.
double float_floor_mod(double a, double b) {
  double mod = std::fmod(a, b);
  return mod != 0 && (b < 0) != (mod < 0) ? mod + b : mod;
}

double nan_min(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return b < a ? b : a;
}

double nan_max(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<double>::quiet_NaN();
  return b > a ? b : a;
}

}  // namespace

bool divides(BinaryOp op) {
  return op == BinaryOp::Div || op == BinaryOp::FloorDiv || op == BinaryOp::FloorMod ||
         op == BinaryOp::Mod;
}

FloatBinaryFn float_binary(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return [](double a, double b) { return a + b; };
    case BinaryOp::Sub: return [](double a, double b) { return a - b; };
    case BinaryOp::Mul: return [](double a, double b) { return a * b; };
    case BinaryOp::Div: return [](double a, double b) { return a / b; };
    case BinaryOp::FloorDiv: return float_floor_div;
    case BinaryOp::FloorMod: return float_floor_mod;
    case BinaryOp::Mod: return [](double a, double b) { return std::fmod(a, b); };
    case BinaryOp::Min: return nan_min;
    case BinaryOp::Max: return nan_max;
    case BinaryOp::Pow: return [](double a, double b) { return std::pow(a, b); };
    case BinaryOp::Atan2: return [](double a, double b) { return std::atan2(a, b); };
    case BinaryOp::Hypot: return [](double a, double b) { return std::hypot(a, b); };
    case BinaryOp::Copysign: return [](double a, double b) { return std::copysign(a, b); };
    case BinaryOp::Zeta: return kiln_zeta;
    default: KILN_CHECK(false, "no float arithmetic for ", op);
  }
}

FloatCompareFn float_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::Eq: return [](double a, double b) -> int64_t { return a == b; };
    case BinaryOp::Ne: return [](double a, double b) -> int64_t { return a != b; };
    case BinaryOp::Lt: return [](double a, double b) -> int64_t { return a < b; };
    case BinaryOp::Le: return [](double a, double b) -> int64_t { return a <= b; };
    case BinaryOp::Gt: return [](double a, double b) -> int64_t { return a > b; };
    case BinaryOp::Ge: return [](double a, double b) -> int64_t { return a >= b; };
    default: KILN_CHECK(false, "not a comparison: ", op);
  }
}

IntBinaryFn int_binary(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return wrap_add;
    case BinaryOp::Sub: return wrap_sub;
    case BinaryOp::Mul: return wrap_mul;
    case BinaryOp::Div: return c_div;
    case BinaryOp::FloorDiv: return floor_div;
    case BinaryOp::FloorMod: return floor_mod;
    case BinaryOp::Mod: return c_mod;
    case BinaryOp::Min: return [](int64_t a, int64_t b) { return b < a ? b : a; };
    case BinaryOp::Max: return [](int64_t a, int64_t b) { return b > a ? b : a; };
    case BinaryOp::Pow: return int_pow;
    case BinaryOp::Eq: return [](int64_t a, int64_t b) -> int64_t { return a == b; };
    case BinaryOp::Ne: return [](int64_t a, int64_t b) -> int64_t { return a != b; };
    case BinaryOp::Lt: return [](int64_t a, int64_t b) -> int64_t { return a < b; };
    case BinaryOp::Le: return [](int64_t a, int64_t b) -> int64_t { return a <= b; };
    case BinaryOp::Gt: return [](int64_t a, int64_t b) -> int64_t { return a > b; };
    case BinaryOp::Ge: return [](int64_t a, int64_t b) -> int64_t { return a >= b; };
    // Bitwise; bools are 0 or 1, so on them the same as logical.
    case BinaryOp::And: return [](int64_t a, int64_t b) -> int64_t { return a & b; };
    case BinaryOp::Or: return [](int64_t a, int64_t b) -> int64_t { return a | b; };
    case BinaryOp::Xor: return [](int64_t a, int64_t b) -> int64_t { return a ^ b; };
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::Copysign:
    case BinaryOp::Zeta: break;  // floats only
  }
  KILN_CHECK(false, "unknown binary op");
}

FloatUnaryFn float_unary(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return [](double a) { return -a; };
    case UnaryOp::Abs: return [](double a) { return std::fabs(a); };
    case UnaryOp::Exp: return [](double a) { return std::exp(a); };
    case UnaryOp::Exp2: return [](double a) { return std::exp2(a); };
    case UnaryOp::Log: return [](double a) { return std::log(a); };
    case UnaryOp::Log1p: return [](double a) { return std::log1p(a); };
    case UnaryOp::Expm1: return [](double a) { return std::expm1(a); };
    case UnaryOp::Sqrt: return [](double a) { return std::sqrt(a); };
    case UnaryOp::Rsqrt: return [](double a) { return 1 / std::sqrt(a); };
    case UnaryOp::Sin: return [](double a) { return std::sin(a); };
    case UnaryOp::Cos: return [](double a) { return std::cos(a); };
    case UnaryOp::Tanh: return [](double a) { return std::tanh(a); };
    case UnaryOp::Erf: return [](double a) { return std::erf(a); };
    case UnaryOp::Floor: return [](double a) { return std::floor(a); };
    case UnaryOp::Ceil: return [](double a) { return std::ceil(a); };
    // nearbyint rounds in the default mode, to nearest with ties to even, as torch.round does.
    case UnaryOp::Round: return [](double a) { return std::nearbyint(a); };
    case UnaryOp::Trunc: return [](double a) { return std::trunc(a); };
    case UnaryOp::Asin: return [](double a) { return std::asin(a); };
    case UnaryOp::Acos: return [](double a) { return std::acos(a); };
    case UnaryOp::Atan: return [](double a) { return std::atan(a); };
    case UnaryOp::Sinh: return [](double a) { return std::sinh(a); };
    case UnaryOp::Cosh: return [](double a) { return std::cosh(a); };
    case UnaryOp::Tan: return [](double a) { return std::tan(a); };
    case UnaryOp::Asinh: return [](double a) { return std::asinh(a); };
    case UnaryOp::Acosh: return [](double a) { return std::acosh(a); };
    case UnaryOp::Atanh: return [](double a) { return std::atanh(a); };
    case UnaryOp::Log2: return [](double a) { return std::log2(a); };
    case UnaryOp::Log10: return [](double a) { return std::log10(a); };
    case UnaryOp::Erfc: return [](double a) { return std::erfc(a); };
    case UnaryOp::Lgamma: return [](double a) { return std::lgamma(a); };
    case UnaryOp::Digamma: return kiln_digamma;
    case UnaryOp::Trigamma: return kiln_trigamma;
    case UnaryOp::Erfinv: return kiln_erfinv;
    case UnaryOp::I0: return kiln_i0;
    case UnaryOp::I0e: return kiln_i0e;
    case UnaryOp::I1: return kiln_i1;
    case UnaryOp::I1e: return kiln_i1e;
    case UnaryOp::Ndtri: return kiln_ndtri;
    default: KILN_CHECK(false, "no float result for ", op);
  }
}

IntUnaryFn int_unary(UnaryOp op) {
  switch (op) {
    case UnaryOp::Neg: return [](int64_t a) { return wrap_sub(0, a); };
    case UnaryOp::Not: return [](int64_t a) -> int64_t { return !a; };
    case UnaryOp::Abs: return [](int64_t a) { return a < 0 ? wrap_sub(0, a) : a; };
    // Integers are already whole: rounding leaves them alone.
    case UnaryOp::Floor:
    case UnaryOp::Ceil:
    case UnaryOp::Round:
    case UnaryOp::Trunc: return [](int64_t a) { return a; };
    case UnaryOp::IsNan: return [](int64_t) -> int64_t { return 0; };
    default: KILN_CHECK(false, "no integer version of ", op);
  }
}

}  // namespace kiln

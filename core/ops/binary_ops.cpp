// Elementwise ops of two or three operands (tensors or Python scalars) with PyTorch's broadcasting
// and type promotion: arithmetic, comparisons, logical ops, min/max, clamp, where, masked_fill.
#include <cmath>

#include "core/ops/elementwise.h"
#include "core/ops/type_promotion.h"

namespace kiln {

namespace {

/// How a binary op derives its result dtype from the promoted operand dtype.
enum class Result {
  kPromoted,      ///< add, mul, pow, minimum, ...
  kFloat,         ///< true division: integers give the default float dtype.
  kBool,          ///< comparisons: computed in the promoted type, bool result.
  kRoundingMode,  ///< div with argument 2 a rounding mode: kFloat for None, else kPromoted.
  kBitwise,       ///< bitwise_and, ...: the promoted dtype, bool or integer; floats rejected.
};

/// fn gets the operands in the compute type and the OpArgs (for extra arguments like alpha).
using BinaryFn = std::function<Expr(const OpArgs&, Expr, Expr)>;

/// One operand of a binary op: a tensor argument, or a Scalar made a constant of the compute type.
struct Operand {
  std::optional<Tensor> tensor;
  Scalar scalar;
  PromotionOperand promotion() const { return tensor ? operand_of(*tensor) : operand_of(scalar); }
};

/// A Tensor argument may hold a Python number, a wrapped scalar: ATen graphs write 1 - x as
/// aten.sub.Tensor(1, x), which promotes and computes as a Scalar operand does.
Operand read_operand(const OpArgs& a, int i, bool is_tensor) {
  if (is_tensor && !a.is_number(i)) return {a.tensor(i), {}};
  return {std::nullopt, a.scalar(i)};
}

/// x ** c for a float tensor and a number c, as ATen's CPU kernel (pow_tensor_scalar) computes
/// it where it special-cases c (read as a double, as ATen reads it: 2^24 + 1 is odd, though
/// float rounds it to 2^24): 0.5 and -0.5 give sqrt and 1 / sqrt (so pow(-0.0, 0.5) is -0.0 and
/// pow(-inf, 0.5) NaN, as in eager, where C's pow gives +0.0 and +inf); 2, 3, -1 and -2 give
/// x * x, (x * x) * x, 1 / x and 1 / (x * x). ATen's float16 kernel special-cases nothing, so
/// float16 inputs take pow. The other integers up to kMaxMultiplied multiply by squaring, as
/// Inductor does (eager calls a vector pow: within 4 ulp of it). Other integers take pow of |x|
/// with the sign put back for odd powers, which is C's pow exactly but keeps the vector pow on
/// its fast path (a negative lane sends it to a scalar fallback: pow(x, 3.0) ran 40x slower than
/// eager). Every other exponent is pow.
Expr scalar_power(Expr x, Expr c, DType input) {
  const FloatImmNode* imm = c.as<FloatImmNode>();
  if (!imm || !is_float(x.dtype()) || input == DType::F16) return pow(x, c);
  double e = imm->value;
  Expr one = make_const(x.dtype(), 1.0);
  if (e == 0.5) return unary(UnaryOp::Sqrt, x);
  if (e == -0.5) return one / unary(UnaryOp::Sqrt, x);
  if (e == -1) return one / x;
  if (e == -2) return one / (x * x);
  if (e != std::floor(e) || std::isinf(e)) return pow(x, c);
  constexpr double kMaxMultiplied = 8;
  if (e >= 2 && e <= kMaxMultiplied) {
    Expr result, square = x;
    for (auto n = static_cast<int64_t>(e);; square = square * square) {
      if (n & 1) result = result.defined() ? result * square : square;
      if ((n >>= 1) == 0) return result;
    }
  }
  Expr magnitude = pow(unary(UnaryOp::Abs, x), c);
  return std::fmod(e, 2) == 0 ? magnitude : BinaryNode::make(BinaryOp::Copysign, magnitude, x);
}

/// Registers op(self, other, extra...) where self/other are tensors or scalars as `tensor_self`
/// and `tensor_other` say.
void add_binary(OpRegistry& r, const std::string& op, std::vector<std::string_view> names,
                bool tensor_self, bool tensor_other, Result declared, BinaryFn fn) {
  r.add(op, [=](const std::vector<OpArg>& args) {
    OpArgs a(op, args, names);
    Operand x = read_operand(a, 0, tensor_self), y = read_operand(a, 1, tensor_other);
    DType promoted = result_type({x.promotion(), y.promotion()});
    Result rule = declared;
    if (rule == Result::kRoundingMode)
      rule = a.optional_string(2) ? Result::kPromoted : Result::kFloat;
    DType out = rule == Result::kFloat  ? float_result(promoted)
                : rule == Result::kBool ? DType::Bool
                                        : promoted;
    DType ct = compute_type(rule == Result::kFloat ? out : promoted);
    if (rule != Result::kBool && rule != Result::kBitwise && ct == DType::Bool)
      throw a.error("is not supported on bool operands");
    if (rule == Result::kBitwise && is_float(promoted))
      throw a.error(str_cat("is not defined on floating-point operands (", promoted, ")"));
    std::vector<Tensor> inputs;
    for (auto* o : {&x, &y})
      if (o->tensor) inputs.push_back(*o->tensor);
    if (inputs.empty()) throw a.error("has two numbers for operands, no tensor");
    return std::vector<Tensor>{elementwise(a, inputs, ct, out, [&](const std::vector<Expr>& v) {
      size_t next = 0;
      Expr ex = x.tensor ? v[next++] : make_const(ct, x.scalar.value);
      Expr ey = y.tensor ? v[next++] : make_const(ct, y.scalar.value);
      return fn(a, ex, ey);
    })};
  });
}

/// Registers the Tensor and Scalar overloads of an op (`<name>.Tensor`, `<name>.Scalar`).
void add_tensor_and_scalar(OpRegistry& r, const std::string& name,
                           std::vector<std::string_view> names, Result rule, BinaryFn fn) {
  add_binary(r, str_cat("aten.", name, ".Tensor"), names, true, true, rule, fn);
  add_binary(r, str_cat("aten.", name, ".Scalar"), names, true, false, rule, fn);
}

/// alpha * y, leaving y alone for the common alpha == 1.
Expr scaled(const OpArgs& a, Expr y) {
  double alpha = a.scalar(2).value;
  return alpha == 1 ? y : y * make_const(y.dtype(), alpha);
}

/// c10::div_floor_floating: floor division that agrees with Python on the sign of the remainder
/// and rounds the quotient computed from fmod, not floor(a / b), exactly as PyTorch does.
Expr floor_divide(Expr x, Expr y) {
  if (!is_float(x.dtype())) return floordiv(x, y);
  Expr mod = x % y;
  Expr div = (x - mod) / y;
  div = select(mod != 0 && ((y < 0) != (mod < 0)), div - 1, div);
  Expr fl = unary(UnaryOp::Floor, div);
  fl = select(div - fl > 0.5, fl + 1, fl);
  return select(y == 0, x / y, fl);
}

Expr divide(const OpArgs& a, Expr x, Expr y) {
  std::optional<std::string> mode = a.optional_string(2);
  if (!mode) return x / y;  // Operands are already in the float result type.
  // Eager raises on an integer division by zero: a zero scalar leaves the op to ATen, a tensor
  // divisor is a value check (integer_divisor_check).
  const auto* zero = y.as<IntImmNode>();
  if (!is_float(y.dtype()) && zero && zero->value == 0)
    throw a.error(1, "is 0: an integer division by zero, which raises (left to ATen)");
  if (*mode == "trunc") return is_float(x.dtype()) ? unary(UnaryOp::Trunc, x / y) : x / y;
  if (*mode == "floor") return floor_divide(x, y);
  throw a.error(2, str_cat("is \"", *mode, "\", expected \"trunc\", \"floor\" or None"));
}

/// div.Tensor_mode's divisor when the division is an integer one: no value may be 0.
std::vector<ValueCheck> integer_divisor_check(const std::vector<OpArg>& args) {
  OpArgs a("aten.div.Tensor_mode", args, {"self", "other", "rounding_mode"});
  if (!a.optional_string(2)) return {};
  DType promoted = result_type({operand_of(a.tensor(0)), operand_of(a.tensor(1))});
  if (is_float(promoted)) return {};
  return {{ValueCheck::Rule::NonZero, 1}};
}

/// A modulus (fmod, remainder) of integers raises on a zero divisor in eager: a zero scalar
/// leaves the op to ATen, a tensor divisor is a value check (modulus_divisor_check).
Expr modulus(const OpArgs& a, BinaryOp op, Expr x, Expr y) {
  const auto* zero = y.as<IntImmNode>();
  if (!is_float(y.dtype()) && zero && zero->value == 0)
    throw a.error(1, "is 0: an integer modulus by zero, which raises (left to ATen)");
  return BinaryNode::make(op, x, y);
}

/// The divisor tensor of an integer fmod.Tensor or remainder.Tensor: no value may be 0.
OpChecks modulus_divisor_check(std::string op) {
  return [op](const std::vector<OpArg>& args) -> std::vector<ValueCheck> {
    OpArgs a(op, args, {"self", "other"});
    DType promoted = result_type({operand_of(a.tensor(0)), operand_of(a.tensor(1))});
    if (is_float(promoted)) return {};
    return {{ValueCheck::Rule::NonZero, 1}};
  };
}

/// An op of C's math library on two floats (hypot): integer operands are rejected, as in eager.
BinaryFn float_function(BinaryOp op) {
  return [op](const OpArgs& a, Expr x, Expr y) {
    if (!is_float(x.dtype()))
      throw a.error(str_cat("is not implemented for ", x.dtype(), " operands"));
    return BinaryNode::make(op, x, y);
  };
}

Expr compare(BinaryOp op, Expr x, Expr y) {
  return BinaryNode::make(op, x, y);
}

void register_arithmetic(OpRegistry& r) {
  using R = Result;
  add_tensor_and_scalar(r, "add", {"self", "other", "alpha"}, R::kPromoted,
                        [](const OpArgs& a, Expr x, Expr y) { return x + scaled(a, y); });
  add_tensor_and_scalar(r, "sub", {"self", "other", "alpha"}, R::kPromoted,
                        [](const OpArgs& a, Expr x, Expr y) { return x - scaled(a, y); });
  add_tensor_and_scalar(r, "mul", {"self", "other"}, R::kPromoted,
                        [](const OpArgs&, Expr x, Expr y) { return x * y; });
  add_tensor_and_scalar(r, "div", {"self", "other"}, R::kFloat,
                        [](const OpArgs&, Expr x, Expr y) { return x / y; });
  add_binary(r, "aten.div.Tensor_mode", {"self", "other", "rounding_mode"}, true, true,
             R::kRoundingMode, divide);
  add_binary(r, "aten.div.Scalar_mode", {"self", "other", "rounding_mode"}, true, false,
             R::kRoundingMode, divide);
  r.add_checks("aten.div.Tensor_mode", integer_divisor_check);
  add_binary(r, "aten.pow.Tensor_Tensor", {"self", "exponent"}, true, true, R::kPromoted,
             [](const OpArgs&, Expr x, Expr y) { return pow(x, y); });
  add_binary(
      r, "aten.pow.Tensor_Scalar", {"self", "exponent"}, true, false, R::kPromoted,
      [](const OpArgs& a, Expr x, Expr y) { return scalar_power(x, y, a.tensor(0)->dtype); });
  add_binary(r, "aten.pow.Scalar", {"self", "exponent"}, false, true, R::kPromoted,
             [](const OpArgs&, Expr x, Expr y) { return pow(x, y); });
  add_binary(r, "aten.minimum.default", {"self", "other"}, true, true, R::kPromoted,
             [](const OpArgs&, Expr x, Expr y) { return min(x, y); });
  add_binary(r, "aten.maximum.default", {"self", "other"}, true, true, R::kPromoted,
             [](const OpArgs&, Expr x, Expr y) { return max(x, y); });
  for (auto [name, op] : {std::pair{"fmod", BinaryOp::Mod}, {"remainder", BinaryOp::FloorMod}}) {
    BinaryOp m = op;
    add_tensor_and_scalar(r, name, {"self", "other"}, R::kPromoted,
                          [m](const OpArgs& a, Expr x, Expr y) { return modulus(a, m, x, y); });
    std::string tensor_op = str_cat("aten.", name, ".Tensor");
    r.add_checks(tensor_op, modulus_divisor_check(tensor_op));
  }
  add_binary(r, "aten.atan2.default", {"self", "other"}, true, true, R::kFloat,
             [](const OpArgs&, Expr x, Expr y) { return BinaryNode::make(BinaryOp::Atan2, x, y); });
  add_binary(r, "aten.hypot.default", {"self", "other"}, true, true, R::kPromoted,
             float_function(BinaryOp::Hypot));
  add_binary(r, "aten.special_zeta.default", {"self", "other"}, true, true, R::kFloat,
             float_function(BinaryOp::Zeta));
  // fmin/fmax: a NaN operand gives the other operand (NaN only when both are); on a tie (0.0
  // and -0.0) the first, as eager.
  for (auto [name, is_max] : {std::pair{"aten.fmin.default", false}, {"aten.fmax.default", true}}) {
    bool take_max = is_max;
    add_binary(r, name, {"self", "other"}, true, true, R::kPromoted,
               [take_max](const OpArgs&, Expr x, Expr y) {
                 Expr extreme = select(take_max ? y > x : y < x, y, x);
                 return is_float(x.dtype()) ? select(unary(UnaryOp::IsNan, x), y, extreme)
                                            : extreme;
               });
  }
  add_tensor_and_scalar(
      r, "copysign", {"self", "other"}, R::kFloat,
      [](const OpArgs&, Expr x, Expr y) { return BinaryNode::make(BinaryOp::Copysign, x, y); });
}

void register_comparisons(OpRegistry& r) {
  for (auto [name, op] :
       std::initializer_list<std::pair<const char*, BinaryOp>>{{"eq", BinaryOp::Eq},
                                                               {"ne", BinaryOp::Ne},
                                                               {"lt", BinaryOp::Lt},
                                                               {"le", BinaryOp::Le},
                                                               {"gt", BinaryOp::Gt},
                                                               {"ge", BinaryOp::Ge}}) {
    BinaryOp b = op;
    add_tensor_and_scalar(r, name, {"self", "other"}, Result::kBool,
                          [b](const OpArgs&, Expr x, Expr y) { return compare(b, x, y); });
  }
  for (auto [name, op] :
       std::initializer_list<std::pair<const char*, BinaryOp>>{{"logical_and", BinaryOp::And},
                                                               {"logical_or", BinaryOp::Or},
                                                               {"logical_xor", BinaryOp::Xor}}) {
    BinaryOp b = op;
    add_binary(r, str_cat("aten.", name, ".default"), {"self", "other"}, true, true, Result::kBool,
               [b](const OpArgs&, Expr x, Expr y) {
                 return BinaryNode::make(b, cast(DType::Bool, x), cast(DType::Bool, y));
               });
  }
  // Bitwise on integers, logical on bool (an attention mask's a & b).
  for (auto [name, op] : {std::pair{"bitwise_and", BinaryOp::And},
                          {"bitwise_or", BinaryOp::Or},
                          {"bitwise_xor", BinaryOp::Xor}}) {
    BinaryOp b = op;
    add_tensor_and_scalar(r, name, {"self", "other"}, Result::kBitwise,
                          [b](const OpArgs&, Expr x, Expr y) { return BinaryNode::make(b, x, y); });
  }
}

/// x clamped to the bounds that are given; NaN propagates through max/min, as in PyTorch.
Expr clamp_between(Expr x, std::optional<Expr> lo, std::optional<Expr> hi) {
  if (lo) x = max(x, *lo);
  if (hi) x = min(x, *hi);
  return x;
}

void register_selection(OpRegistry& r) {
  r.add("aten.clamp.default", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.clamp.default", args, {"self", "min", "max"});
    Tensor x = a.tensor(0);
    std::optional<Scalar> lo = a.optional_scalar(1), hi = a.optional_scalar(2);
    if (!lo && !hi) throw a.error("at least one of 'min' and 'max' must not be None");
    std::vector<PromotionOperand> ops{operand_of(x)};
    for (auto& s : {lo, hi})
      if (s) ops.push_back(operand_of(*s));
    DType out = result_type(ops);
    require_numeric(a, 0, out);
    DType ct = compute_type(out);
    auto bound = [&](const std::optional<Scalar>& s) -> std::optional<Expr> {
      if (!s) return std::nullopt;
      return make_const(ct, s->value);
    };
    return std::vector<Tensor>{elementwise(a, {x}, ct, out, [&](const std::vector<Expr>& v) {
      return clamp_between(v[0], bound(lo), bound(hi));
    })};
  });
  r.add("aten.clamp.Tensor", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.clamp.Tensor", args, {"self", "min", "max"});
    Tensor x = a.tensor(0);
    std::optional<Tensor> lo = a.optional_tensor(1), hi = a.optional_tensor(2);
    if (!lo && !hi) throw a.error("at least one of 'min' and 'max' must not be None");
    std::vector<Tensor> inputs{x};
    std::vector<PromotionOperand> ops{operand_of(x)};
    for (auto& t : {lo, hi})
      if (t) inputs.push_back(*t), ops.push_back(operand_of(*t));
    DType out = result_type(ops);
    require_numeric(a, 0, out);
    return std::vector<Tensor>{
        elementwise(a, inputs, compute_type(out), out, [&](const std::vector<Expr>& v) {
          size_t next = 1;
          std::optional<Expr> elo, ehi;
          if (lo) elo = v[next++];
          if (hi) ehi = v[next++];
          return clamp_between(v[0], elo, ehi);
        })};
  });
  r.add("aten.where.self", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.where.self", args, {"condition", "self", "other"});
    Tensor c = a.tensor(0), x = a.tensor(1), y = a.tensor(2);
    if (c->dtype != DType::Bool) throw a.error(0, str_cat("must be a bool tensor, got ", c->dtype));
    DType out = result_type({operand_of(x), operand_of(y)});
    return std::vector<Tensor>{elementwise(a, {c, x, y}, [out](const std::vector<Expr>& v) {
      return select(v[0], cast(out, v[1]), cast(out, v[2]));
    })};
  });
  r.add("aten.masked_fill.Scalar", [](const std::vector<OpArg>& args) {
    OpArgs a("aten.masked_fill.Scalar", args, {"self", "mask", "value"});
    Tensor x = a.tensor(0), m = a.tensor(1);
    if (m->dtype != DType::Bool) throw a.error(1, str_cat("must be a bool tensor, got ", m->dtype));
    double value = a.scalar(2).value;
    DType t = x->dtype;
    return std::vector<Tensor>{elementwise(a, {x, m}, [&](const std::vector<Expr>& v) {
      return select(v[1], make_const(t, value), v[0]);
    })};
  });
}

}  // namespace

void register_binary_ops(OpRegistry& r) {
  register_arithmetic(r);
  register_comparisons(r);
  register_selection(r);
}

}  // namespace kiln

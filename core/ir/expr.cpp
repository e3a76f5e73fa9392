#include "core/ir/expr.h"

#include <cmath>
#include <iterator>
#include <limits>

#include "core/ir/tensor.h"
#include "core/support/error.h"

namespace kiln {

Expr::Expr(int value) : Expr(IntImmNode::make(DType::I64, value)) {}
Expr::Expr(int64_t value) : Expr(IntImmNode::make(DType::I64, value)) {}
Expr::Expr(double value) : Expr(FloatImmNode::make(DType::F32, value)) {}

Var::Var(std::string name, DType dtype)
    : Expr(std::make_shared<const VarNode>(std::move(name), dtype)) {}

Expr IntImmNode::make(DType dtype, int64_t value) {
  if (is_float(dtype)) throw IRError(str_cat("IntImm of float dtype ", dtype));
  if (dtype == DType::Bool) value = value != 0;
  if (is_int(dtype) && (value < int_min(dtype) || value > int_max(dtype)))
    throw IRError(str_cat("constant ", value, " does not fit ", dtype));
  return Expr(std::make_shared<const IntImmNode>(dtype, value));
}

Expr FloatImmNode::make(DType dtype, double value) {
  if (!is_float(dtype)) throw IRError(str_cat("FloatImm of non-float dtype ", dtype));
  return Expr(std::make_shared<const FloatImmNode>(dtype, value));
}

static bool is_comparison(BinaryOp op) {
  return op >= BinaryOp::Eq && op <= BinaryOp::Ge;
}
static bool is_logical(BinaryOp op) {
  return op >= BinaryOp::And && op <= BinaryOp::Xor;
}

bool is_float_only(BinaryOp op) {
  return op >= BinaryOp::Atan2 && op <= BinaryOp::Zeta;
}

bool is_float_only(UnaryOp op) {
  return (op >= UnaryOp::Exp && op <= UnaryOp::Erf) ||
         (op >= UnaryOp::Asin && op <= UnaryOp::Ndtri);
}

Expr BinaryNode::make(BinaryOp op, Expr a, Expr b) {
  if (!a.defined() || !b.defined()) throw IRError(str_cat("undefined operand of ", op));
  if (a.dtype() != b.dtype())
    throw IRError(str_cat("operands of ", op, " differ in dtype: ", a, " is ", a.dtype(), ", ", b,
                          " is ", b.dtype()));
  DType t = a.dtype();
  if (is_logical(op) && is_float(t))
    throw IRError(str_cat(op, " needs bool or integer operands, got ", t));
  if (!is_logical(op) && !is_comparison(op) && t == DType::Bool)
    throw IRError(str_cat(op, " is not defined on bool operands"));
  if ((op == BinaryOp::Pow) && !is_float(t) && !is_int(t)) throw IRError(str_cat("pow on ", t));
  if (is_float_only(op) && !is_float(t))
    throw IRError(str_cat(op, " needs float operands, got ", t));
  return Expr(std::make_shared<const BinaryNode>(is_comparison(op) ? DType::Bool : t, op,
                                                 std::move(a), std::move(b)));
}

Expr UnaryNode::make(UnaryOp op, Expr a) {
  if (!a.defined()) throw IRError(str_cat("undefined operand of ", op));
  DType t = a.dtype();
  if (is_float_only(op) && !is_float(t))
    throw IRError(str_cat(op, " needs a float operand, got ", t));
  if (op == UnaryOp::Not && t != DType::Bool)
    throw IRError(str_cat("not needs a bool operand, got ", t));
  if ((op == UnaryOp::Neg || op == UnaryOp::Abs) && t == DType::Bool)
    throw IRError(str_cat(op, " is not defined on bool"));
  DType result = op == UnaryOp::IsNan ? DType::Bool : t;
  return Expr(std::make_shared<const UnaryNode>(result, op, std::move(a)));
}

Expr SelectNode::make(Expr cond, Expr t, Expr f) {
  if (cond.dtype() != DType::Bool) throw IRError(str_cat("select condition is ", cond.dtype()));
  if (t.dtype() != f.dtype())
    throw IRError(str_cat("select branches differ in dtype: ", t.dtype(), " vs ", f.dtype()));
  DType dt = t.dtype();
  return Expr(std::make_shared<const SelectNode>(dt, std::move(cond), std::move(t), std::move(f)));
}

Expr CastNode::make(DType dtype, Expr value) {
  if (!value.defined()) throw IRError("cast of an undefined expression");
  return Expr(std::make_shared<const CastNode>(dtype, std::move(value)));
}

Expr LoadNode::make(Tensor tensor, std::vector<Expr> indices) {
  if (!tensor.defined()) throw IRError("load from an undefined tensor");
  if (static_cast<int>(indices.size()) != tensor->rank())
    throw IRError(str_cat("tensor '", tensor->name, "' has rank ", tensor->rank(),
                          " but is read with ", indices.size(), " indices"));
  for (auto& i : indices) {
    if (!i.defined() || !is_int(i.dtype()))
      throw IRError(str_cat("index into '", tensor->name, "' is not an integer: ", i));
    if (i.dtype() != DType::I64) i = cast(DType::I64, i);
  }
  DType dt = tensor->dtype;
  return Expr(std::make_shared<const LoadNode>(dt, std::move(tensor), std::move(indices)));
}

Expr ReduceNode::make(ReduceOp op, Expr source, std::vector<IterVar> axes) {
  if (axes.empty()) throw IRError(str_cat(op, " reduction without axes"));
  for (auto& ax : axes)
    if (ax.extent <= 0)
      throw IRError(str_cat("reduce axis '", ax.var.name(), "' has extent ", ax.extent));
  if (source.dtype() == DType::Bool && op != ReduceOp::ArgMax && op != ReduceOp::ArgMin)
    throw IRError(str_cat(op, " reduction over bool"));
  DType dt = op == ReduceOp::ArgMax || op == ReduceOp::ArgMin ? DType::I64 : source.dtype();
  return Expr(std::make_shared<const ReduceNode>(dt, op, std::move(source), std::move(axes)));
}

Expr make_const(DType dtype, double value) {
  if (is_float(dtype)) return FloatImmNode::make(dtype, value);
  return IntImmNode::make(dtype, static_cast<int64_t>(value));
}

Expr cast(DType dtype, Expr value) {
  if (value.dtype() == dtype) return value;
  return CastNode::make(dtype, std::move(value));
}
Expr select(Expr c, Expr t, Expr f) {
  return SelectNode::make(std::move(c), std::move(t), std::move(f));
}
Expr min(Expr a, Expr b) {
  return BinaryNode::make(BinaryOp::Min, std::move(a), std::move(b));
}
Expr max(Expr a, Expr b) {
  return BinaryNode::make(BinaryOp::Max, std::move(a), std::move(b));
}
Expr pow(Expr a, Expr b) {
  return BinaryNode::make(BinaryOp::Pow, std::move(a), std::move(b));
}
Expr floordiv(Expr a, Expr b) {
  return BinaryNode::make(BinaryOp::FloorDiv, std::move(a), std::move(b));
}
Expr floormod(Expr a, Expr b) {
  return BinaryNode::make(BinaryOp::FloorMod, std::move(a), std::move(b));
}
Expr unary(UnaryOp op, Expr a) {
  return UnaryNode::make(op, std::move(a));
}
IterVar reduce_axis(int64_t extent, std::string name) {
  return IterVar{Var(std::move(name)), extent};
}
Expr reduce(ReduceOp op, Expr source, std::vector<IterVar> axes) {
  return ReduceNode::make(op, std::move(source), std::move(axes));
}

#define KILN_BINARY_OPERATOR(OP, KIND)                                   \
  Expr operator OP(Expr a, Expr b) {                                     \
    return BinaryNode::make(BinaryOp::KIND, std::move(a), std::move(b)); \
  }
KILN_BINARY_OPERATOR(+, Add)
KILN_BINARY_OPERATOR(-, Sub)
KILN_BINARY_OPERATOR(*, Mul)
KILN_BINARY_OPERATOR(/, Div)
KILN_BINARY_OPERATOR(%, Mod)
KILN_BINARY_OPERATOR(==, Eq)
KILN_BINARY_OPERATOR(!=, Ne)
KILN_BINARY_OPERATOR(<, Lt)
KILN_BINARY_OPERATOR(<=, Le)
KILN_BINARY_OPERATOR(>, Gt)
KILN_BINARY_OPERATOR(>=, Ge)
KILN_BINARY_OPERATOR(&&, And)
KILN_BINARY_OPERATOR(||, Or)
#undef KILN_BINARY_OPERATOR
Expr operator-(Expr a) {
  return UnaryNode::make(UnaryOp::Neg, std::move(a));
}
Expr operator!(Expr a) {
  return UnaryNode::make(UnaryOp::Not, std::move(a));
}

Expr Tensor::load(std::vector<Expr> indices) const {
  return LoadNode::make(*this, std::move(indices));
}

std::string_view binary_op_name(BinaryOp op) {
  static constexpr std::string_view names[] = {
      "+", "-",  "*", "/",  "floordiv", "floormod", "%", "min",   "max",   "pow",      "==",  "!=",
      "<", "<=", ">", ">=", "&&",       "||",       "^", "atan2", "hypot", "copysign", "zeta"};
  static_assert(std::size(names) == static_cast<size_t>(BinaryOp::Zeta) + 1);
  return names[static_cast<int>(op)];
}

std::string_view unary_op_name(UnaryOp op) {
  static constexpr std::string_view names[] = {
      "neg",     "not",      "abs",    "exp",   "exp2", "log",   "log1p", "expm1",
      "sqrt",    "rsqrt",    "sin",    "cos",   "tanh", "erf",   "floor", "ceil",
      "round",   "trunc",    "isnan",  "asin",  "acos", "atan",  "sinh",  "cosh",
      "tan",     "asinh",    "acosh",  "atanh", "log2", "log10", "erfc",  "lgamma",
      "digamma", "trigamma", "erfinv", "i0",    "i0e",  "i1",    "i1e",   "ndtri"};
  static_assert(std::size(names) == static_cast<size_t>(UnaryOp::Ndtri) + 1);
  return names[static_cast<int>(op)];
}

std::string_view reduce_op_name(ReduceOp op) {
  static constexpr std::string_view names[] = {"sum", "prod", "max", "min", "argmax", "argmin"};
  return names[static_cast<int>(op)];
}

Expr reduce_identity(ReduceOp op, DType dtype) {
  double inf = std::numeric_limits<double>::infinity();
  if (dtype == DType::Bool)
    return IntImmNode::make(dtype,
                            op == ReduceOp::Min || op == ReduceOp::ArgMin || op == ReduceOp::Prod);
  switch (op) {
    case ReduceOp::Sum: return make_const(dtype, 0);
    case ReduceOp::Prod: return make_const(dtype, 1);
    case ReduceOp::Max:
    case ReduceOp::ArgMax:
      if (is_float(dtype)) return make_const(dtype, -inf);
      return IntImmNode::make(dtype, int_min(dtype));
    case ReduceOp::Min:
    case ReduceOp::ArgMin:
      if (is_float(dtype)) return make_const(dtype, inf);
      return IntImmNode::make(dtype, int_max(dtype));
  }
  KILN_CHECK(false, "unknown reduce op");
}

std::ostream& operator<<(std::ostream& os, BinaryOp op) {
  return os << binary_op_name(op);
}
std::ostream& operator<<(std::ostream& os, UnaryOp op) {
  return os << unary_op_name(op);
}
std::ostream& operator<<(std::ostream& os, ReduceOp op) {
  return os << reduce_op_name(op);
}

}  // namespace kiln

// Scalar expressions of the tensor IR: the bodies of compute definitions and of loop IR statements.
//
// Nodes are immutable and shared: an `Expr` is a reference-counted handle to a const node. Each
// node kind is one small struct with public fields, built only through its validating `make()`.
// Variables compare by identity (two `Var`s named "i" are different variables); structural
// equality and hashing (structural.h) treat renamed variables as equal.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "core/ir/dtype.h"

namespace kiln {

struct TensorNode;
/// Handle to a tensor: a placeholder (kernel input) or a compute definition. See tensor.h.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<const TensorNode> node) : node_(std::move(node)) {}
  const TensorNode* get() const { return node_.get(); }
  const TensorNode* operator->() const { return node_.get(); }
  bool defined() const { return node_ != nullptr; }
  bool same_as(const Tensor& other) const { return node_ == other.node_; }
  /// Reads this tensor at the given indices (one i64 expression per dimension).
  template <typename... Idx>
  class Expr operator()(Idx... indices) const;
  class Expr load(std::vector<class Expr> indices) const;

 private:
  std::shared_ptr<const TensorNode> node_;
};

/// The node kinds; the single list that the visitor, mutator, printer and hasher switch over.
enum class ExprKind : uint8_t { IntImm, FloatImm, Var, Binary, Unary, Select, Cast, Load, Reduce };

// clang-format off: the operators in groups, one comment per group
enum class BinaryOp : uint8_t {
  Add, Sub, Mul,
  Div,       ///< True division on floats; C (truncating) division on integers.
  FloorDiv,  ///< Rounds toward negative infinity (Python's //).
  FloorMod,  ///< Result has the sign of the divisor (Python's %).
  Mod,       ///< Result has the sign of the dividend (C's % and fmod).
  Min, Max,  ///< On floats, NaN-propagating like torch.minimum/maximum.
  Pow,
  Eq, Ne, Lt, Le, Gt, Ge,  ///< Comparisons: bool result.
  And, Or, Xor,            ///< Bitwise on integers, logical on bool; never on floats.
  // Appended, so that the structural hashes of workloads made before them stay as they were.
  Atan2, Hypot, Copysign,  ///< Floats only, as C's atan2, hypot, copysign.
  Zeta,                    ///< Floats only: the Hurwitz zeta function (core/ir/special_math.h).
};

enum class UnaryOp : uint8_t {
  Neg, Not, Abs,
  Exp, Exp2, Log, Log1p, Expm1, Sqrt, Rsqrt, Sin, Cos, Tanh, Erf,  ///< Floats only.
  Floor, Ceil, Round, Trunc,  ///< Round is half-to-even, like torch.round.
  IsNan,                      ///< Bool result.
  // Appended (see BinaryOp). Floats only, as C's functions of the same names.
  Asin, Acos, Atan, Sinh, Cosh, Tan, Asinh, Acosh, Atanh, Log2, Log10, Erfc, Lgamma,
  Digamma, Trigamma, Erfinv,  ///< Floats only, by Kiln's own functions (core/ir/special_math.h).
  I0, I0e, I1, I1e, Ndtri,    ///< Floats only, as Digamma.
};
// clang-format on

/// Whether `op` is defined on float operands only (the transcendental functions).
bool is_float_only(UnaryOp op);
bool is_float_only(BinaryOp op);

/// Combiner of a reduction. ArgMax/ArgMin give the flat index (over the reduce axes, row-major)
/// of the first extremum as i64; a NaN counts as the extremum, as in PyTorch.
enum class ReduceOp : uint8_t { Sum, Prod, Max, Min, ArgMax, ArgMin };

struct ExprNode {
  const ExprKind kind;
  const DType dtype;
  virtual ~ExprNode() = default;

 protected:
  ExprNode(ExprKind k, DType t) : kind(k), dtype(t) {}
};

/// Handle to an immutable expression node. Arithmetic operators build Binary/Unary nodes.
class Expr {
 public:
  Expr() = default;
  explicit Expr(std::shared_ptr<const ExprNode> node) : node_(std::move(node)) {}
  Expr(int value);      ///< An i64 constant.
  Expr(int64_t value);  ///< An i64 constant.
  Expr(double value);   ///< An f32 constant.

  const ExprNode* get() const { return node_.get(); }
  const ExprNode* operator->() const { return node_.get(); }
  bool defined() const { return node_ != nullptr; }
  bool same_as(const Expr& other) const { return node_ == other.node_; }
  ExprKind kind() const { return node_->kind; }
  DType dtype() const { return node_->dtype; }
  /// The node as type T when its kind matches, else nullptr.
  template <typename T>
  const T* as() const {
    return node_ && node_->kind == T::kKind ? static_cast<const T*>(node_.get()) : nullptr;
  }

 private:
  std::shared_ptr<const ExprNode> node_;
};

struct VarNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Var;
  std::string name;
  VarNode(std::string n, DType t) : ExprNode(kKind, t), name(std::move(n)) {}
};

/// A variable: a compute axis, a reduction axis or a loop variable. Identity is the node.
class Var : public Expr {
 public:
  Var() = default;
  explicit Var(std::string name, DType dtype = DType::I64);
  const VarNode* get() const { return static_cast<const VarNode*>(Expr::get()); }
  const VarNode* operator->() const { return get(); }
  const std::string& name() const { return get()->name; }
};

/// An axis of a compute definition or reduction: a variable ranging over [0, extent).
struct IterVar {
  Var var;
  int64_t extent;
};

struct IntImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::IntImm;
  int64_t value;
  /// Integer or bool constant; the value must fit the dtype.
  static Expr make(DType dtype, int64_t value);
  IntImmNode(DType t, int64_t v) : ExprNode(kKind, t), value(v) {}
};

struct FloatImmNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::FloatImm;
  double value;
  static Expr make(DType dtype, double value);
  FloatImmNode(DType t, double v) : ExprNode(kKind, t), value(v) {}
};

struct BinaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Binary;
  BinaryOp op;
  Expr a, b;
  /// Operands must share a dtype (IRError otherwise); And/Or/Xor take bools.
  static Expr make(BinaryOp op, Expr a, Expr b);
  BinaryNode(DType t, BinaryOp o, Expr x, Expr y)
      : ExprNode(kKind, t), op(o), a(std::move(x)), b(std::move(y)) {}
};

struct UnaryNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Unary;
  UnaryOp op;
  Expr a;
  static Expr make(UnaryOp op, Expr a);
  UnaryNode(DType t, UnaryOp o, Expr x) : ExprNode(kKind, t), op(o), a(std::move(x)) {}
};

/// Only the value that `cond` picks is evaluated: a load in the other one may be out of bounds
/// (padding reads index -1 under a guard), and every backend must keep it from being read.
struct SelectNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Select;
  Expr cond, true_value, false_value;
  /// `cond` is bool; both values share a dtype.
  static Expr make(Expr cond, Expr true_value, Expr false_value);
  SelectNode(DType t, Expr c, Expr x, Expr y)
      : ExprNode(kKind, t),
        cond(std::move(c)),
        true_value(std::move(x)),
        false_value(std::move(y)) {}
};

struct CastNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Cast;
  Expr value;
  /// Float to int truncates toward zero; anything to bool is `!= 0`.
  static Expr make(DType dtype, Expr value);
  CastNode(DType t, Expr v) : ExprNode(kKind, t), value(std::move(v)) {}
};

struct LoadNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Load;
  Tensor tensor;
  std::vector<Expr> indices;
  /// One integer index per dimension of `tensor`.
  static Expr make(Tensor tensor, std::vector<Expr> indices);
  LoadNode(DType t, Tensor x, std::vector<Expr> idx)
      : ExprNode(kKind, t), tensor(std::move(x)), indices(std::move(idx)) {}
};

/// A reduction over `axes`. Appears only as the whole body of a compute definition.
struct ReduceNode : ExprNode {
  static constexpr ExprKind kKind = ExprKind::Reduce;
  ReduceOp op;
  Expr source;
  std::vector<IterVar> axes;
  static Expr make(ReduceOp op, Expr source, std::vector<IterVar> axes);
  ReduceNode(DType t, ReduceOp o, Expr s, std::vector<IterVar> ax)
      : ExprNode(kKind, t), op(o), source(std::move(s)), axes(std::move(ax)) {}
};

// Constructors that read like math.
Expr make_const(DType dtype, double value);
Expr cast(DType dtype, Expr value);
Expr select(Expr cond, Expr true_value, Expr false_value);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr pow(Expr a, Expr b);
Expr floordiv(Expr a, Expr b);
Expr floormod(Expr a, Expr b);
Expr unary(UnaryOp op, Expr a);
IterVar reduce_axis(int64_t extent, std::string name);
Expr reduce(ReduceOp op, Expr source, std::vector<IterVar> axes);

Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator-(Expr a);
Expr operator!(Expr a);
Expr operator==(Expr a, Expr b);
Expr operator!=(Expr a, Expr b);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);

/// A constant operand takes the dtype of the other operand (so `x * 0.5` works for any float x).
#define KILN_SCALAR_OPERATORS(OP)                 \
  inline Expr operator OP(Expr a, double b) {     \
    return a OP make_const(a.dtype(), b);         \
  }                                               \
  inline Expr operator OP(double a, Expr b) {     \
    return make_const(b.dtype(), a) OP b;         \
  }                                               \
  inline Expr operator OP(Expr a, int b) {        \
    return a OP make_const(a.dtype(), b);         \
  }                                               \
  inline Expr operator OP(int a, Expr b) {        \
    return make_const(b.dtype(), a) OP b;         \
  }                                               \
  inline Expr operator OP(Expr a, int64_t b) {    \
    return a OP make_const(a.dtype(), double(b)); \
  }                                               \
  inline Expr operator OP(int64_t a, Expr b) {    \
    return make_const(b.dtype(), double(a)) OP b; \
  }
KILN_SCALAR_OPERATORS(+)
KILN_SCALAR_OPERATORS(-)
KILN_SCALAR_OPERATORS(*)
KILN_SCALAR_OPERATORS(/)
KILN_SCALAR_OPERATORS(%)
KILN_SCALAR_OPERATORS(==)
KILN_SCALAR_OPERATORS(!=)
KILN_SCALAR_OPERATORS(<)
KILN_SCALAR_OPERATORS(<=)
KILN_SCALAR_OPERATORS(>)
KILN_SCALAR_OPERATORS(>=)
#undef KILN_SCALAR_OPERATORS

template <typename... Idx>
Expr Tensor::operator()(Idx... indices) const {
  return load(std::vector<Expr>{Expr(indices)...});
}

std::string_view binary_op_name(BinaryOp op);
std::string_view unary_op_name(UnaryOp op);
std::string_view reduce_op_name(ReduceOp op);
/// The identity element of a combiner for a dtype (-inf for Max on floats, ...).
Expr reduce_identity(ReduceOp op, DType dtype);

std::ostream& operator<<(std::ostream& os, const Expr& e);
std::ostream& operator<<(std::ostream& os, BinaryOp op);
std::ostream& operator<<(std::ostream& os, UnaryOp op);
std::ostream& operator<<(std::ostream& os, ReduceOp op);

}  // namespace kiln

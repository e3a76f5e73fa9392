#include "core/ir/simplify.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/ir/bound.h"
#include "core/ir/functor.h"
#include "core/support/error.h"

namespace kiln {

std::optional<int64_t> as_const_int(const Expr& e) {
  if (auto* n = e.as<IntImmNode>()) return n->value;
  return std::nullopt;
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

namespace {

std::optional<Expr> fold_int(BinaryOp op, DType t, int64_t a, int64_t b) {
  auto mk = [&](int64_t v) { return IntImmNode::make(t, v); };
  auto mkb = [&](bool v) { return IntImmNode::make(DType::Bool, v); };
  switch (op) {
    case BinaryOp::Add: return mk(a + b);
    case BinaryOp::Sub: return mk(a - b);
    case BinaryOp::Mul: return mk(a * b);
    case BinaryOp::Div: return b ? std::optional(mk(a / b)) : std::nullopt;
    case BinaryOp::Mod: return b ? std::optional(mk(a % b)) : std::nullopt;
    case BinaryOp::FloorDiv: return b ? std::optional(mk(floor_div(a, b))) : std::nullopt;
    case BinaryOp::FloorMod: return b ? std::optional(mk(a - floor_div(a, b) * b)) : std::nullopt;
    case BinaryOp::Min: return mk(std::min(a, b));
    case BinaryOp::Max: return mk(std::max(a, b));
    case BinaryOp::Eq: return mkb(a == b);
    case BinaryOp::Ne: return mkb(a != b);
    case BinaryOp::Lt: return mkb(a < b);
    case BinaryOp::Le: return mkb(a <= b);
    case BinaryOp::Gt: return mkb(a > b);
    case BinaryOp::Ge: return mkb(a >= b);
    // Bitwise; on bool (0 or 1) the same as logical.
    case BinaryOp::And: return mk(a & b);
    case BinaryOp::Or: return mk(a | b);
    case BinaryOp::Xor: return mk(a ^ b);
    case BinaryOp::Pow:
    case BinaryOp::Atan2:
    case BinaryOp::Hypot:
    case BinaryOp::Copysign:
    case BinaryOp::Zeta: return std::nullopt;  // floats only, or not folded
  }
  return std::nullopt;
}

bool same_expr(const Expr& a, const Expr& b) {
  if (a.same_as(b)) return true;
  if (a.kind() != b.kind() || a.dtype() != b.dtype()) return false;
  switch (a.kind()) {
    case ExprKind::IntImm: return a.as<IntImmNode>()->value == b.as<IntImmNode>()->value;
    case ExprKind::FloatImm: return a.as<FloatImmNode>()->value == b.as<FloatImmNode>()->value;
    case ExprKind::Var: return false;
    case ExprKind::Binary: {
      auto *x = a.as<BinaryNode>(), *y = b.as<BinaryNode>();
      return x->op == y->op && same_expr(x->a, y->a) && same_expr(x->b, y->b);
    }
    case ExprKind::Unary: {
      auto *x = a.as<UnaryNode>(), *y = b.as<UnaryNode>();
      return x->op == y->op && same_expr(x->a, y->a);
    }
    case ExprKind::Cast: return same_expr(a.as<CastNode>()->value, b.as<CastNode>()->value);
    case ExprKind::Load: {
      auto *x = a.as<LoadNode>(), *y = b.as<LoadNode>();
      if (!x->tensor.same_as(y->tensor)) return false;
      for (size_t i = 0; i < x->indices.size(); ++i)
        if (!same_expr(x->indices[i], y->indices[i])) return false;
      return true;
    }
    default: return false;
  }
}

/// An integer expression as constant + sum of coefficient * term.
struct LinearForm {
  int64_t constant = 0;
  std::vector<std::pair<Expr, int64_t>> terms;

  /// c*floordiv(x, c)*k + floormod(x, c)*k is x*k: what indexing a fused loop produces.
  void merge_div_mod() {
    for (auto& [mod_term, k] : terms) {
      auto* m = mod_term.as<BinaryNode>();
      if (!m || m->op != BinaryOp::FloorMod || k == 0) continue;
      auto c = as_const_int(m->b);
      if (!c || *c <= 0) continue;
      for (auto& [div_term, kd] : terms) {
        auto* d = div_term.as<BinaryNode>();
        if (!d || d->op != BinaryOp::FloorDiv || kd != k * *c || !same_expr(d->a, m->a) ||
            !same_expr(d->b, m->b))
          continue;
        kd = 0;
        int64_t coeff = k;
        k = 0;
        add(m->a, coeff);
        return merge_div_mod();  // the table changed: start over
      }
    }
  }

  void add(const Expr& term, int64_t coeff) {
    for (auto& [t, c] : terms)
      if (same_expr(t, term)) {
        c += coeff;
        return;
      }
    terms.emplace_back(term, coeff);
  }
};

void linearize(const Expr& e, int64_t scale, LinearForm& form) {
  if (auto c = as_const_int(e)) {
    form.constant += scale * *c;
    return;
  }
  if (auto* b = e.as<BinaryNode>()) {
    if (b->op == BinaryOp::Add || b->op == BinaryOp::Sub) {
      linearize(b->a, scale, form);
      linearize(b->b, b->op == BinaryOp::Add ? scale : -scale, form);
      return;
    }
    if (b->op == BinaryOp::Mul) {
      if (auto c = as_const_int(b->b)) return linearize(b->a, scale * *c, form);
      if (auto c = as_const_int(b->a)) return linearize(b->b, scale * *c, form);
    }
  }
  form.add(e, scale);
}

Expr rebuild(const LinearForm& form, DType t) {
  Expr sum;
  for (auto& [term, c] : form.terms) {
    if (c == 0) continue;
    if (!sum.defined()) {
      sum = c == 1 ? term : c == -1 ? -term : term * IntImmNode::make(t, c);
    } else if (c > 0) {
      sum = sum + (c == 1 ? term : term * IntImmNode::make(t, c));
    } else {
      sum = sum - (c == -1 ? term : term * IntImmNode::make(t, -c));
    }
  }
  if (!sum.defined()) return IntImmNode::make(t, form.constant);
  if (form.constant > 0) return sum + IntImmNode::make(t, form.constant);
  if (form.constant < 0) return sum - IntImmNode::make(t, -form.constant);
  return sum;
}

class Simplifier : public StmtMutator {
 public:
  /// `extents`: variables known to range over [0, extent); loops add theirs while inside.
  explicit Simplifier(VarExtents extents = {}) : extents_(std::move(extents)) {}

 protected:
  Expr mutate_binary(const Expr& e, const BinaryNode* n) override {
    Expr r = ExprMutator::mutate_binary(e, n);
    auto* b = r.as<BinaryNode>();
    if (!b || is_float(b->a.dtype())) return r;
    if (is_int(b->dtype) &&
        (b->op == BinaryOp::Add || b->op == BinaryOp::Sub ||
         (b->op == BinaryOp::Mul && (as_const_int(b->a) || as_const_int(b->b))))) {
      LinearForm form;
      linearize(r, 1, form);
      form.merge_div_mod();
      return rebuild(form, b->dtype);
    }
    auto ca = as_const_int(b->a), cb = as_const_int(b->b);
    if (ca && cb) {
      if (auto folded = fold_int(b->op, b->a.dtype(), *ca, *cb)) return *folded;
      return r;
    }
    switch (b->op) {
      case BinaryOp::Add:
        if (ca == 0) return b->b;
        if (cb == 0) return b->a;
        break;
      case BinaryOp::Sub:
        if (cb == 0) return b->a;
        break;
      case BinaryOp::Mul:
        if (ca == 1) return b->b;
        if (cb == 1) return b->a;
        if (ca == 0 || cb == 0) return IntImmNode::make(b->dtype, 0);
        break;
      case BinaryOp::Div:
        if (cb == 1) return b->a;
        break;
      case BinaryOp::FloorDiv:
        if (cb == 1) return b->a;
        if (cb > 1)
          if (auto q = divide_affine(b, *cb)) return *q;
        break;
      case BinaryOp::Mod:
        if (cb == 1) return IntImmNode::make(b->dtype, 0);
        break;
      case BinaryOp::FloorMod:
        if (cb == 1) return IntImmNode::make(b->dtype, 0);
        if (cb > 1)
          if (auto r = divide_affine(b, *cb)) return *r;
        break;
      case BinaryOp::And:  // on bool only: true && x is x; an integer mask is no identity
        if (b->dtype != DType::Bool) break;
        if (ca) return *ca ? b->b : b->a;
        if (cb) return *cb ? b->a : b->b;
        break;
      case BinaryOp::Or:
        if (b->dtype != DType::Bool) break;
        if (ca) return *ca ? b->a : b->b;
        if (cb) return *cb ? b->b : b->a;
        break;
      default: break;
    }
    return r;
  }

  Expr mutate_select(const Expr& e, const SelectNode* n) override {
    Expr r = ExprMutator::mutate_select(e, n);
    auto* s = r.as<SelectNode>();
    if (!s) return r;
    if (auto c = as_const_int(s->cond)) return *c ? s->true_value : s->false_value;
    return r;
  }

  Expr mutate_cast(const Expr& e, const CastNode* n) override {
    Expr r = ExprMutator::mutate_cast(e, n);
    auto* c = r.as<CastNode>();
    if (!c) return r;
    if (auto v = as_const_int(c->value); v && !is_float(c->dtype))
      return IntImmNode::make(c->dtype, *v);
    return r;
  }

  // A loop of one iteration is its body at 0; GPU-bound loops keep their binding.
  Stmt mutate_for(const Stmt& s, const ForNode* n) override {
    if (n->extent == 1 && n->for_kind != ForKind::GpuBlock && n->for_kind != ForKind::GpuThread)
      return mutate(substitute(n->body, {{n->var.get(), IntImmNode::make(n->var.dtype(), 0)}}));
    extents_[n->var.get()] = n->extent;
    Stmt r = StmtMutator::mutate_for(s, n);
    extents_.erase(n->var.get());
    return r;
  }

  Stmt mutate_if(const Stmt& s, const IfThenElseNode* n) override {
    Stmt r = StmtMutator::mutate_if(s, n);
    auto* i = r.as<IfThenElseNode>();
    if (!i) return r;
    if (auto c = as_const_int(i->cond)) {
      if (*c) return i->then_case;
      return i->else_case.defined() ? i->else_case : SeqNode::make({});
    }
    return r;
  }

 private:
  /// floordiv(x, d) or floormod(x, d) (`b`, d > 1) of an affine x, with x's multiples of d
  /// taken out (floordiv(d * q + s, d) is q + floordiv(s, d)) and the rest s simplified by
  /// the extents where they bound it (divide_rest); nullopt when neither changes anything.
  std::optional<Expr> divide_affine(const BinaryNode* b, int64_t d) {
    LinearForm x, quotient, rest;  // x = d * quotient + rest
    linearize(b->a, 1, x);
    quotient.constant = floor_div(x.constant, d);
    rest.constant = x.constant - quotient.constant * d;
    for (auto& [term, c] : x.terms) {
      if (c % d == 0)
        quotient.add(term, c / d);
      else
        rest.add(term, c);
    }
    bool div = b->op == BinaryOp::FloorDiv;
    std::optional<Expr> of_rest = divide_rest(rest, d, div, b->dtype);
    bool took_multiples = quotient.constant != 0 || !quotient.terms.empty();
    if (!of_rest && !took_multiples) return std::nullopt;
    Expr s = rebuild(rest, b->dtype);
    Expr r = of_rest ? *of_rest
             : div   ? floordiv(s, IntImmNode::make(b->dtype, d))
                     : floormod(s, IntImmNode::make(b->dtype, d));
    if (!div) return r;
    linearize(r, 1, quotient);
    return rebuild(quotient, b->dtype);
  }

  /// floordiv(s, d) or floormod(s, d) (0 <= s's constant < d) where s is a constant or the
  /// extents bound it: 0 and s when s stays in [0, d); else, for a g dividing d that splits s
  /// into g * h + l with l in [0, g), floordiv(h, d / g) and g * floormod(h, d / g) + l (what a
  /// flat index split by a reshape into rows of 128 and columns of 32 becomes). nullopt when
  /// the extents show neither.
  std::optional<Expr> divide_rest(const LinearForm& rest, int64_t d, bool div, DType t) {
    // The constant rest is in [0, d) already.
    if (rest.terms.empty()) return IntImmNode::make(t, div ? 0 : rest.constant);
    if (extents_.empty()) return std::nullopt;
    Expr s = rebuild(rest, t);
    auto within = [&](const Expr& e, int64_t limit) {
      auto bounds = const_bounds(e, extents_);
      return bounds && bounds->first >= 0 && bounds->second < limit;
    };
    if (within(s, d)) return div ? IntImmNode::make(t, 0) : s;
    std::vector<int64_t> factors;  // of d, shared with a coefficient; largest first
    for (auto& [term, c] : rest.terms)
      if (int64_t g = std::gcd(c, d); g > 1 && g < d) factors.push_back(g);
    std::sort(factors.begin(), factors.end(), std::greater<>());
    for (int64_t g : factors) {
      LinearForm high, low;
      low.constant = rest.constant;
      for (auto& [term, c] : rest.terms) {
        if (c % g == 0)
          high.add(term, c / g);
        else
          low.add(term, c);
      }
      Expr l = rebuild(low, t);
      if (!within(l, g)) continue;
      Expr h = rebuild(high, t), divisor = IntImmNode::make(t, d / g);
      if (div) return mutate(floordiv(h, divisor));
      linearize(mutate(floormod(h, divisor)), g, low);
      return rebuild(low, t);
    }
    return std::nullopt;
  }

  VarExtents extents_;
};

}  // namespace

Expr simplify(const Expr& e) {
  return Simplifier().mutate(e);
}

Expr simplify(const Expr& e, const VarExtents& extents) {
  return Simplifier(extents).mutate(e);
}

Expr flat_index(const Tensor& tensor, const std::vector<Expr>& indices) {
  Expr flat = Expr(int64_t{0});
  for (size_t d = 0; d < indices.size(); ++d)
    if (tensor->strides[d] != 0) flat = flat + cast(DType::I64, indices[d]) * tensor->strides[d];
  return simplify(flat);
}

bool identical(const Expr& a, const Expr& b) {
  return same_expr(a, b);
}

std::optional<Stride> local_stride(const Expr& e, const VarNode* v) {
  if (!uses_var(e, v)) return Stride{0, true};
  if (e.get() == v) return Stride{1, true};
  if (const CastNode* c = e.as<CastNode>()) {
    if (is_int(c->dtype) && is_int(c->value.dtype())) return local_stride(c->value, v);
    return std::nullopt;
  }
  const BinaryNode* n = e.as<BinaryNode>();
  if (!n) return std::nullopt;
  auto a = local_stride(n->a, v), b = local_stride(n->b, v);
  if (!a || !b) return std::nullopt;
  bool exact = a->exact && b->exact;
  auto divisor = as_const_int(n->b);
  switch (n->op) {
    case BinaryOp::Add: return Stride{a->step + b->step, exact};
    case BinaryOp::Sub: return Stride{a->step - b->step, exact};
    case BinaryOp::Mul: {
      auto k = as_const_int(a->step == 0 ? n->a : n->b);
      if (!k || (a->step != 0 && b->step != 0)) return std::nullopt;
      return Stride{static_cast<double>(*k) * (a->step + b->step), exact};
    }
    case BinaryOp::FloorDiv:
    case BinaryOp::Div:
      if (!divisor || *divisor <= 0 || b->step != 0) return std::nullopt;
      return Stride{a->step / static_cast<double>(*divisor), false};
    case BinaryOp::FloorMod:
    case BinaryOp::Mod:
      if (!divisor || *divisor <= 0 || b->step != 0) return std::nullopt;
      return Stride{std::abs(a->step) < static_cast<double>(*divisor) ? a->step : 0, false};
    default: return std::nullopt;
  }
}

std::optional<int64_t> affine_coefficient(const Expr& e, const VarNode* v) {
  std::optional<Stride> s = local_stride(e, v);
  if (!s || !s->exact) return std::nullopt;
  return static_cast<int64_t>(s->step);
}

Stmt simplify(const Stmt& s) {
  return Simplifier().mutate(s);
}

}  // namespace kiln

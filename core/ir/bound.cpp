#include "core/ir/bound.h"

#include "core/ir/functor.h"
#include "core/ir/simplify.h"

namespace kiln {

namespace {

bool depends_on(const Expr& e, const VarExtents& vars) {
  struct Finder : ExprVisitor {
    const VarExtents* vars;
    bool found = false;
    void visit_leaf(const Expr& x) override {
      if (auto* v = x.as<VarNode>()) found |= vars->count(v) > 0;
    }
  } f;
  f.vars = &vars;
  f.visit(e);
  return f.found;
}

std::optional<IndexRange> range_impl(const Expr& e, const VarExtents& varying) {
  if (!depends_on(e, varying)) return IndexRange{e, 1};
  if (auto* v = e.as<VarNode>()) return IndexRange{Expr(int64_t{0}), varying.at(v)};
  if (auto* c = e.as<CastNode>()) {
    if (is_int(c->dtype) && is_int(c->value.dtype())) return range_impl(c->value, varying);
    return std::nullopt;
  }
  auto* b = e.as<BinaryNode>();
  if (!b) return std::nullopt;
  auto ra = range_impl(b->a, varying);
  auto rb = range_impl(b->b, varying);
  if (!ra || !rb) return std::nullopt;
  switch (b->op) {
    case BinaryOp::Add: return IndexRange{ra->min + rb->min, ra->extent + rb->extent - 1};
    case BinaryOp::Sub:
      return IndexRange{ra->min - (rb->min + (rb->extent - 1)), ra->extent + rb->extent - 1};
    case BinaryOp::Mul: {
      // One side must be a constant for the range to stay an interval of known width.
      auto ca = as_const_int(simplify(b->a)), cb = as_const_int(simplify(b->b));
      const IndexRange* r = cb ? &*ra : ca ? &*rb : nullptr;
      std::optional<int64_t> c = cb ? cb : ca;
      if (!r || !c) return std::nullopt;
      if (*c >= 0) return IndexRange{r->min * *c, (r->extent - 1) * *c + 1};
      return IndexRange{(r->min + (r->extent - 1)) * *c, (r->extent - 1) * -*c + 1};
    }
    case BinaryOp::FloorDiv: {
      auto c = as_const_int(simplify(b->b));
      if (!c || *c <= 0 || rb->extent != 1) return std::nullopt;
      if (auto m = as_const_int(simplify(ra->min))) {
        int64_t lo = floor_div(*m, *c), hi = floor_div(*m + ra->extent - 1, *c);
        return IndexRange{Expr(lo), hi - lo + 1};
      }
      // floor((m + x) / c) for x in [0, n) spans at most (n - 1) / c + 2 values.
      return IndexRange{floordiv(ra->min, b->b), (ra->extent - 1) / *c + 2};
    }
    case BinaryOp::FloorMod: {
      auto c = as_const_int(simplify(b->b));
      if (!c || *c <= 0 || rb->extent != 1) return std::nullopt;
      return IndexRange{Expr(int64_t{0}), *c};
    }
    case BinaryOp::Min:
    case BinaryOp::Max: {
      // Both bounds move monotonically; the union of the two ranges contains the result.
      auto d = as_const_int(simplify(ra->min - rb->min));
      if (!d) return std::nullopt;
      int64_t lo = std::min<int64_t>(0, *d), hi = std::max(rb->extent, *d + ra->extent);
      return IndexRange{rb->min + lo, hi - lo};
    }
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<IndexRange> range_over(const Expr& e, const VarExtents& varying) {
  auto r = range_impl(e, varying);
  if (r) r->min = simplify(r->min);
  return r;
}

std::optional<std::pair<int64_t, int64_t>> const_bounds(const Expr& e, const VarExtents& extents) {
  auto r = range_over(e, extents);
  if (!r) return std::nullopt;
  auto lo = as_const_int(r->min);
  if (!lo) return std::nullopt;
  return std::pair{*lo, *lo + r->extent - 1};
}

}  // namespace kiln

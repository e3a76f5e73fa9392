#include "core/ir/functor.h"

#include "core/support/error.h"

namespace kiln {

void ExprVisitor::visit(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm:
    case ExprKind::Var: return visit_leaf(e);
    case ExprKind::Binary: return visit_binary(e.as<BinaryNode>());
    case ExprKind::Unary: return visit_unary(e.as<UnaryNode>());
    case ExprKind::Select: return visit_select(e.as<SelectNode>());
    case ExprKind::Cast: return visit_cast(e.as<CastNode>());
    case ExprKind::Load: return visit_load(e.as<LoadNode>());
    case ExprKind::Reduce: return visit_reduce(e.as<ReduceNode>());
  }
}
void ExprVisitor::visit_binary(const BinaryNode* n) {
  visit(n->a), visit(n->b);
}
void ExprVisitor::visit_unary(const UnaryNode* n) {
  visit(n->a);
}
void ExprVisitor::visit_select(const SelectNode* n) {
  visit(n->cond), visit(n->true_value), visit(n->false_value);
}
void ExprVisitor::visit_cast(const CastNode* n) {
  visit(n->value);
}
void ExprVisitor::visit_load(const LoadNode* n) {
  for (auto& i : n->indices) visit(i);
}
void ExprVisitor::visit_reduce(const ReduceNode* n) {
  visit(n->source);
}

Expr ExprMutator::mutate(const Expr& e) {
  switch (e.kind()) {
    case ExprKind::IntImm:
    case ExprKind::FloatImm: return e;
    case ExprKind::Var: return mutate_var(e);
    case ExprKind::Binary: return mutate_binary(e, e.as<BinaryNode>());
    case ExprKind::Unary: return mutate_unary(e, e.as<UnaryNode>());
    case ExprKind::Select: return mutate_select(e, e.as<SelectNode>());
    case ExprKind::Cast: return mutate_cast(e, e.as<CastNode>());
    case ExprKind::Load: return mutate_load(e, e.as<LoadNode>());
    case ExprKind::Reduce: return mutate_reduce(e, e.as<ReduceNode>());
  }
  KILN_CHECK(false, "unknown expr kind");
}

bool ExprMutator::mutate_all(std::vector<Expr>& exprs) {
  bool changed = false;
  for (auto& x : exprs) {
    Expr y = mutate(x);
    changed |= !y.same_as(x);
    x = std::move(y);
  }
  return changed;
}

Expr ExprMutator::mutate_binary(const Expr& e, const BinaryNode* n) {
  Expr a = mutate(n->a), b = mutate(n->b);
  if (a.same_as(n->a) && b.same_as(n->b)) return e;
  return BinaryNode::make(n->op, a, b);
}
Expr ExprMutator::mutate_unary(const Expr& e, const UnaryNode* n) {
  Expr a = mutate(n->a);
  return a.same_as(n->a) ? e : UnaryNode::make(n->op, a);
}
Expr ExprMutator::mutate_select(const Expr& e, const SelectNode* n) {
  Expr c = mutate(n->cond), t = mutate(n->true_value), f = mutate(n->false_value);
  if (c.same_as(n->cond) && t.same_as(n->true_value) && f.same_as(n->false_value)) return e;
  return SelectNode::make(c, t, f);
}
Expr ExprMutator::mutate_cast(const Expr& e, const CastNode* n) {
  Expr v = mutate(n->value);
  return v.same_as(n->value) ? e : CastNode::make(n->dtype, v);
}
Expr ExprMutator::mutate_load(const Expr& e, const LoadNode* n) {
  std::vector<Expr> idx = n->indices;
  return mutate_all(idx) ? LoadNode::make(n->tensor, idx) : e;
}
Expr ExprMutator::mutate_reduce(const Expr& e, const ReduceNode* n) {
  Expr s = mutate(n->source);
  return s.same_as(n->source) ? e : ReduceNode::make(n->op, s, n->axes);
}

void StmtVisitor::visit(const Stmt& s) {
  switch (s.kind()) {
    case StmtKind::For: return visit_for(s.as<ForNode>());
    case StmtKind::Store: return visit_store(s.as<StoreNode>());
    case StmtKind::Allocate: return visit_allocate(s.as<AllocateNode>());
    case StmtKind::Seq: return visit_seq(s.as<SeqNode>());
    case StmtKind::IfThenElse: return visit_if(s.as<IfThenElseNode>());
  }
}
void StmtVisitor::visit_for(const ForNode* n) {
  visit(n->body);
}
void StmtVisitor::visit_store(const StoreNode* n) {
  for (auto& i : n->indices) visit(i);
  visit(n->value);
}
void StmtVisitor::visit_allocate(const AllocateNode* n) {
  visit(n->body);
}
void StmtVisitor::visit_seq(const SeqNode* n) {
  for (auto& s : n->stmts) visit(s);
}
void StmtVisitor::visit_if(const IfThenElseNode* n) {
  visit(n->cond);
  visit(n->then_case);
  if (n->else_case.defined()) visit(n->else_case);
}

Stmt StmtMutator::mutate(const Stmt& s) {
  switch (s.kind()) {
    case StmtKind::For: return mutate_for(s, s.as<ForNode>());
    case StmtKind::Store: return mutate_store(s, s.as<StoreNode>());
    case StmtKind::Allocate: return mutate_allocate(s, s.as<AllocateNode>());
    case StmtKind::Seq: return mutate_seq(s, s.as<SeqNode>());
    case StmtKind::IfThenElse: return mutate_if(s, s.as<IfThenElseNode>());
  }
  KILN_CHECK(false, "unknown stmt kind");
}
Stmt StmtMutator::mutate_for(const Stmt& s, const ForNode* n) {
  Stmt body = mutate(n->body);
  return body.same_as(n->body)
             ? s
             : ForNode::make(n->var, n->extent, n->for_kind, body, n->thread_axis);
}
Stmt StmtMutator::mutate_store(const Stmt& s, const StoreNode* n) {
  std::vector<Expr> idx = n->indices;
  bool changed = mutate_all(idx);
  Expr v = mutate(n->value);
  if (!changed && v.same_as(n->value)) return s;
  return StoreNode::make(n->tensor, idx, v);
}
Stmt StmtMutator::mutate_allocate(const Stmt& s, const AllocateNode* n) {
  Stmt body = mutate(n->body);
  return body.same_as(n->body) ? s : AllocateNode::make(n->tensor, n->scope, body);
}
Stmt StmtMutator::mutate_seq(const Stmt& s, const SeqNode* n) {
  std::vector<Stmt> stmts;
  bool changed = false;
  for (auto& x : n->stmts) {
    stmts.push_back(mutate(x));
    changed |= !stmts.back().same_as(x);
  }
  return changed ? SeqNode::make(stmts) : s;
}
Stmt StmtMutator::mutate_if(const Stmt& s, const IfThenElseNode* n) {
  Expr c = mutate(n->cond);
  Stmt t = mutate(n->then_case);
  Stmt e = n->else_case.defined() ? mutate(n->else_case) : Stmt();
  if (c.same_as(n->cond) && t.same_as(n->then_case) && e.same_as(n->else_case)) return s;
  return IfThenElseNode::make(c, t, e);
}

namespace {
class Substituter : public StmtMutator {
 public:
  explicit Substituter(const VarMap& m) : map_(m) {}

 protected:
  Expr mutate_var(const Expr& e) override {
    auto it = map_.find(static_cast<const VarNode*>(e.get()));
    return it == map_.end() ? e : it->second;
  }

 private:
  const VarMap& map_;
};

class VarUseFinder : public ExprVisitor {
 public:
  explicit VarUseFinder(const VarNode* v) : var_(v) {}
  bool found = false;

 protected:
  void visit_leaf(const Expr& e) override { found |= e.get() == var_; }

 private:
  const VarNode* var_;
};
}  // namespace

Expr substitute(const Expr& e, const VarMap& vmap) {
  return vmap.empty() ? e : Substituter(vmap).mutate(e);
}
Stmt substitute(const Stmt& s, const VarMap& vmap) {
  return vmap.empty() ? s : Substituter(vmap).mutate(s);
}

bool uses_var(const Expr& e, const VarNode* v) {
  VarUseFinder f(v);
  f.visit(e);
  return f.found;
}

namespace {

/// The loads in `e` of tensor `only` (null: of every tensor), in pre-order.
std::vector<const LoadNode*> collect_loads(const Expr& e, const TensorNode* only) {
  struct Collector : ExprVisitor {
    const TensorNode* only;
    std::vector<const LoadNode*> loads;
    void visit_load(const LoadNode* n) override {
      if (!only || n->tensor.get() == only) loads.push_back(n);
      ExprVisitor::visit_load(n);
    }
  } c;
  c.only = only;
  c.visit(e);
  return c.loads;
}

}  // namespace

std::vector<const LoadNode*> loads_in(const Expr& e) {
  return collect_loads(e, nullptr);
}

std::vector<const LoadNode*> loads_in(const Expr& e, const TensorNode* t) {
  KILN_CHECK(t != nullptr, "loads_in: no tensor given");
  return collect_loads(e, t);
}

bool reads(const Expr& e, const TensorNode* t) {
  return !loads_in(e, t).empty();
}

}  // namespace kiln

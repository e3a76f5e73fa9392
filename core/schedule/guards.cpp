#include "core/schedule/guards.h"

#include "core/ir/functor.h"
#include "core/ir/simplify.h"

namespace kiln {

Expr conjunction(const std::vector<Expr>& conds) {
  Expr all;
  for (auto& c : conds) all = all.defined() ? (all && c) : c;
  return all;
}

Stmt guarded(const std::vector<Expr>& conds, Stmt s) {
  Expr c = conjunction(conds);
  return c.defined() ? IfThenElseNode::make(c, std::move(s)) : s;
}

Expr loads_guarded_by(const Expr& e, const Expr& cond, const VarNode* var) {
  struct Guard : ExprMutator {
    Expr cond;
    const VarNode* var;
    Expr mutate_load(const Expr& e, const LoadNode* n) override {
      Expr load = ExprMutator::mutate_load(e, n);
      bool varies = false;
      for (const Expr& i : n->indices) varies |= uses_var(i, var);
      return varies ? select(cond, load, make_const(load.dtype(), 0)) : load;
    }
  } g;
  g.cond = cond;
  g.var = var;
  return g.mutate(e);
}

}  // namespace kiln

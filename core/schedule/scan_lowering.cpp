#include "core/schedule/scan_lowering.h"

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/ir/tensor.h"

namespace kiln {

namespace {

class ReadOwnStorage : public ExprMutator {
 public:
  ReadOwnStorage(const TensorNode* state, Tensor storage) : state_(state), storage_(storage) {}

 protected:
  Expr mutate_load(const Expr& e, const LoadNode* n) override {
    Expr loaded = ExprMutator::mutate_load(e, n);
    auto* load = loaded.as<LoadNode>();
    if (load->tensor.get() != state_) return loaded;
    return LoadNode::make(storage_, load->indices);
  }

 private:
  const TensorNode* state_;
  Tensor storage_;
};

class PeelFirstIteration : public StmtMutator {
 public:
  explicit PeelFirstIteration(const VarNode* var) : var_(var) {}

 protected:
  Stmt mutate_for(const Stmt& s, const ForNode* n) override {
    if (n->var.get() != var_) return StmtMutator::mutate_for(s, n);
    Stmt first = substitute(n->body, VarMap{{var_, Expr(int64_t{0})}});
    if (n->extent == 1) return first;
    Var rest(n->var.name());
    drop_first_ = true;
    Stmt body = mutate(n->body);
    drop_first_ = false;
    body = substitute(body, VarMap{{var_, rest + int64_t{1}}});
    return SeqNode::make(
        {first, ForNode::make(rest, n->extent - 1, n->for_kind, body, n->thread_axis)});
  }

  Expr mutate_select(const Expr& e, const SelectNode* n) override {
    auto* eq = n->cond.as<BinaryNode>();
    if (drop_first_ && eq && eq->op == BinaryOp::Eq && eq->a.get() == var_ &&
        as_const_int(eq->b) == 0)
      return mutate(n->false_value);
    return StmtMutator::mutate_select(e, n);
  }

 private:
  const VarNode* var_;
  bool drop_first_ = false;
};

}  // namespace

Expr read_own_storage(const Expr& body, const Tensor& t) {
  return ReadOwnStorage(t->state.get(), t).mutate(body);
}

Stmt peel_first_iteration(const Stmt& nest, const VarNode* var) {
  return PeelFirstIteration(var).mutate(nest);
}

}  // namespace kiln

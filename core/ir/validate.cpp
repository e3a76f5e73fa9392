#include "core/ir/validate.h"

#include <unordered_set>

#include "core/ir/functor.h"
#include "core/support/error.h"

namespace kiln {

namespace {

class BodyChecker : public ExprVisitor {
 public:
  BodyChecker(const TensorNode* t, std::unordered_set<const VarNode*> bound)
      : tensor_(t), bound_(std::move(bound)) {}

 protected:
  void visit_leaf(const Expr& e) override {
    auto* v = e.as<VarNode>();
    if (v && !bound_.count(v))
      throw IRError(str_cat("compute '", tensor_->name, "' uses variable '", v->name,
                            "', which is neither one of its axes nor a reduce axis"));
  }
  void visit_reduce(const ReduceNode*) override {
    throw IRError(str_cat("compute '", tensor_->name,
                          "' has a reduction inside an expression; a reduction must be the whole "
                          "body (split it into its own compute)"));
  }
  void visit_load(const LoadNode* n) override {
    auto& x = *n->tensor.get();
    for (size_t d = 0; d < n->indices.size(); ++d) {
      auto* c = n->indices[d].as<IntImmNode>();
      if (c && (c->value < 0 || c->value >= x.shape[d]))
        throw IRError(str_cat("compute '", tensor_->name, "' reads '", x.name,
                              "' at constant index ", c->value, " of dimension ", d, " with size ",
                              x.shape[d]));
    }
    ExprVisitor::visit_load(n);
  }

 private:
  const TensorNode* tensor_;
  std::unordered_set<const VarNode*> bound_;
};

void validate_compute(const TensorNode* t) {
  if (t->axes.size() != t->shape.size())
    throw IRError(
        str_cat("compute '", t->name, "' has ", t->axes.size(), " axes for rank ", t->rank()));
  std::unordered_set<const VarNode*> bound;
  for (auto& ax : t->axes) bound.insert(ax.var.get());
  Expr body = t->body;
  if (auto* r = body.as<ReduceNode>()) {
    for (auto& ax : r->axes)
      if (!bound.insert(ax.var.get()).second)
        throw IRError(
            str_cat("compute '", t->name, "' binds variable '", ax.var.name(), "' twice"));
    body = r->source;
  }
  BodyChecker(t, std::move(bound)).visit(body);
  // A scatter's update sees its own domain's variables only.
  for (const ScatterUpdate& update : t->updates) {
    std::unordered_set<const VarNode*> point;
    for (auto& ax : update.axes) point.insert(ax.var.get());
    BodyChecker checker(t, std::move(point));
    for (const Expr& index : update.target) checker.visit(index);
    checker.visit(update.value);
  }
}

}  // namespace

void validate(const std::vector<Tensor>& outputs) {
  for (auto& t : topo_order(outputs))
    if (t->kind == TensorKind::Compute) validate_compute(t.get());
}

}  // namespace kiln

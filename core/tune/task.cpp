#include "core/tune/task.h"

#include "core/ir/functor.h"
#include "core/ir/structural.h"

namespace kiln {

namespace {

/// Arithmetic nodes of an expression (loads, casts and index arithmetic excluded).
class OpCounter : public ExprVisitor {
 public:
  double ops = 0;

 protected:
  void visit_binary(const BinaryNode* n) override {
    if (is_float(n->a.dtype())) ops += 1;
    ExprVisitor::visit_binary(n);
  }
  void visit_unary(const UnaryNode* n) override {
    if (is_float(n->a.dtype())) ops += 1;
    ExprVisitor::visit_unary(n);
  }
  void visit_load(const LoadNode*) override {}  // index arithmetic is not work
};

}  // namespace

uint64_t TuningTask::key() const {
  return structural_hash(outputs);
}

double TuningTask::flops() const {
  double total = 0;
  for (auto& t : topo_order(outputs)) {
    if (t->kind != TensorKind::Compute) continue;
    OpCounter counter;
    double per_point = 0, repeat = 1;
    if (auto* r = t->body.as<ReduceNode>()) {
      counter.visit(r->source);
      for (auto& ax : r->axes) repeat *= static_cast<double>(ax.extent);
      per_point = counter.ops + 1;  // the combine
    } else {
      counter.visit(t->body);
      per_point = counter.ops;
    }
    total += static_cast<double>(t->numel()) * per_point * repeat;
  }
  return total;
}

double TuningTask::bytes() const {
  double total = 0;
  for (auto& t : placeholders_of(outputs))
    total += static_cast<double>(t->numel()) * dtype_bytes(t->dtype);
  for (auto& t : outputs) total += static_cast<double>(t->numel()) * dtype_bytes(t->dtype);
  return total;
}

}  // namespace kiln

#include "core/tune/loop_nest.h"

#include <algorithm>
#include <cmath>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"

namespace kiln {

namespace {

// Counts the operations of a stored value; loads are leaves (their indices are addressing).
class ArithmeticCounter : public ExprVisitor {
 public:
  std::array<double, kArithOps> counts{};
  std::vector<const LoadNode*> loads;

 protected:
  void add(ArithOp op) { ++counts[static_cast<int>(op)]; }
  void visit_binary(const BinaryNode* n) override {
    bool f = is_float(n->a.dtype());
    switch (n->op) {
      case BinaryOp::Add:
      case BinaryOp::Sub: {
        bool fused = f && (is_mul(n->a) || is_mul(n->b));
        add(!f ? ArithOp::IOps : fused ? ArithOp::Fma : ArithOp::FAdd);
        // The product of an fma is part of it, not a separate multiply.
        if (fused) return visit_fma_operands(n);
        break;
      }
      case BinaryOp::Mul: add(f ? ArithOp::FMul : ArithOp::IOps); break;
      case BinaryOp::Div:
      case BinaryOp::FloorDiv:
      case BinaryOp::FloorMod:
      case BinaryOp::Mod: add(f ? ArithOp::FDiv : ArithOp::IDiv); break;
      case BinaryOp::Pow:
      case BinaryOp::Atan2:
      case BinaryOp::Hypot:
      case BinaryOp::Zeta: add(ArithOp::Transcendental); break;
      default: add(f ? ArithOp::FCmp : ArithOp::IOps); break;
    }
    ExprVisitor::visit_binary(n);
  }
  void visit_unary(const UnaryNode* n) override {
    switch (n->op) {
      case UnaryOp::Neg:
      case UnaryOp::Abs: add(is_float(n->dtype) ? ArithOp::FAdd : ArithOp::IOps); break;
      case UnaryOp::Not:
      case UnaryOp::IsNan:
      case UnaryOp::Floor:
      case UnaryOp::Ceil:
      case UnaryOp::Round:
      case UnaryOp::Trunc: add(ArithOp::FCmp); break;
      default: add(ArithOp::Transcendental); break;
    }
    ExprVisitor::visit_unary(n);
  }
  void visit_select(const SelectNode* n) override {
    add(ArithOp::Select);
    ExprVisitor::visit_select(n);
  }
  void visit_cast(const CastNode* n) override {
    add(ArithOp::Cast);
    ExprVisitor::visit_cast(n);
  }
  void visit_load(const LoadNode* n) override { loads.push_back(n); }

 private:
  static bool is_mul(const Expr& e) {
    const BinaryNode* b = e.as<BinaryNode>();
    return b && b->op == BinaryOp::Mul;
  }
  void visit_fma_operands(const BinaryNode* n) {
    for (const Expr* side : {&n->a, &n->b}) {
      const BinaryNode* m = side->as<BinaryNode>();
      if (m && m->op == BinaryOp::Mul) {
        visit(m->a), visit(m->b);
      } else {
        visit(*side);
      }
    }
  }
};

// Collects every Store with its loop context, and the allocations, in program order.
class StatementCollector : public StmtVisitor {
 public:
  LoopNest nest;

 protected:
  void visit_for(const ForNode* n) override {
    ++nest.loops;
    stack_.push_back(n);
    visit(n->body);
    stack_.pop_back();
  }
  void visit_if(const IfThenElseNode* n) override {
    ++nest.guards, ++open_guards_;
    visit(n->then_case);
    if (n->else_case.defined()) visit(n->else_case);
    --open_guards_;
  }
  void visit_allocate(const AllocateNode* n) override {
    nest.allocations.push_back(n);
    nest.scopes[n->tensor.get()] = n->scope;
    visit(n->body);
  }
  void visit_store(const StoreNode* n) override {
    StatementInfo s;
    s.loops = stack_;
    s.guards = open_guards_;
    for (const ForNode* l : stack_) s.count *= static_cast<double>(l->extent);
    ArithmeticCounter counter;
    counter.visit(n->value);
    s.arith = counter.counts;
    s.accesses.push_back({n->tensor, flat_index(n->tensor, n->indices)});
    for (const LoadNode* l : counter.loads) {
      Access a{l->tensor, flat_index(l->tensor, l->indices)};
      bool seen = std::any_of(s.accesses.begin() + 1, s.accesses.end(), [&](const Access& b) {
        return b.tensor.same_as(a.tensor) && identical(b.index, a.index);
      });
      if (!seen) s.accesses.push_back(std::move(a));
    }
    nest.statements.push_back(std::move(s));
  }

 private:
  std::vector<const ForNode*> stack_;
  int open_guards_ = 0;
};

}  // namespace

LoopNest analyze_loop_nest(const Stmt& body) {
  StatementCollector c;
  if (body.defined()) c.visit(body);
  return std::move(c.nest);
}

}  // namespace kiln

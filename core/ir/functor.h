// Visitors and mutators over Expr and Stmt, one virtual per node kind (the list in ExprKind and
// StmtKind). A mutator that changes nothing returns the very node it was given.
#pragma once

#include <unordered_map>

#include "core/ir/stmt.h"

namespace kiln {

/// Walks every sub-expression; override a visit_* to look at one kind, calling the base to recurse.
class ExprVisitor {
 public:
  virtual ~ExprVisitor() = default;
  virtual void visit(const Expr& e);

 protected:
  virtual void visit_leaf(const Expr&) {}  // IntImm, FloatImm, Var
  virtual void visit_binary(const BinaryNode* n);
  virtual void visit_unary(const UnaryNode* n);
  virtual void visit_select(const SelectNode* n);
  virtual void visit_cast(const CastNode* n);
  virtual void visit_load(const LoadNode* n);
  virtual void visit_reduce(const ReduceNode* n);
};

/// Rebuilds an expression bottom-up; unchanged subtrees keep their identity.
class ExprMutator {
 public:
  virtual ~ExprMutator() = default;
  virtual Expr mutate(const Expr& e);

 protected:
  virtual Expr mutate_var(const Expr& e) { return e; }
  virtual Expr mutate_binary(const Expr& e, const BinaryNode* n);
  virtual Expr mutate_unary(const Expr& e, const UnaryNode* n);
  virtual Expr mutate_select(const Expr& e, const SelectNode* n);
  virtual Expr mutate_cast(const Expr& e, const CastNode* n);
  virtual Expr mutate_load(const Expr& e, const LoadNode* n);
  virtual Expr mutate_reduce(const Expr& e, const ReduceNode* n);
  /// Mutates each element; returns true when any changed.
  bool mutate_all(std::vector<Expr>& exprs);
};

/// Walks every statement and every expression inside them.
class StmtVisitor : public ExprVisitor {
 public:
  using ExprVisitor::visit;
  virtual void visit(const Stmt& s);

 protected:
  virtual void visit_for(const ForNode* n);
  virtual void visit_store(const StoreNode* n);
  virtual void visit_allocate(const AllocateNode* n);
  virtual void visit_seq(const SeqNode* n);
  virtual void visit_if(const IfThenElseNode* n);
};

/// Rebuilds statements bottom-up, mutating the expressions inside them too.
class StmtMutator : public ExprMutator {
 public:
  using ExprMutator::mutate;
  virtual Stmt mutate(const Stmt& s);

 protected:
  virtual Stmt mutate_for(const Stmt& s, const ForNode* n);
  virtual Stmt mutate_store(const Stmt& s, const StoreNode* n);
  virtual Stmt mutate_allocate(const Stmt& s, const AllocateNode* n);
  virtual Stmt mutate_seq(const Stmt& s, const SeqNode* n);
  virtual Stmt mutate_if(const Stmt& s, const IfThenElseNode* n);
};

using VarMap = std::unordered_map<const VarNode*, Expr>;

/// Replaces variables by expressions.
Expr substitute(const Expr& e, const VarMap& vmap);
Stmt substitute(const Stmt& s, const VarMap& vmap);

/// True when `v` occurs in `e`.
bool uses_var(const Expr& e, const VarNode* v);

/// Every load in `e`, in pre-order (a load before the loads inside its indices).
std::vector<const LoadNode*> loads_in(const Expr& e);
/// The loads of tensor `t` in `e`, in pre-order.
std::vector<const LoadNode*> loads_in(const Expr& e, const TensorNode* t);
/// True when `e` loads from tensor `t`.
bool reads(const Expr& e, const TensorNode* t);

}  // namespace kiln

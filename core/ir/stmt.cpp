#include "core/ir/stmt.h"

#include "core/support/error.h"

namespace kiln {

Stmt ForNode::make(Var var, int64_t extent, ForKind kind, Stmt body, int thread_axis) {
  if (extent < 0) throw IRError(str_cat("loop '", var.name(), "' has negative extent ", extent));
  if (!body.defined()) throw IRError(str_cat("loop '", var.name(), "' has no body"));
  if (thread_axis < 0 || thread_axis > 2)
    throw IRError(str_cat("loop '", var.name(), "' bound to thread axis ", thread_axis));
  return Stmt(
      std::make_shared<const ForNode>(std::move(var), extent, kind, thread_axis, std::move(body)));
}

Stmt StoreNode::make(Tensor tensor, std::vector<Expr> indices, Expr value) {
  if (static_cast<int>(indices.size()) != tensor->rank())
    throw IRError(str_cat("store into '", tensor->name, "' of rank ", tensor->rank(), " with ",
                          indices.size(), " indices"));
  if (value.dtype() != tensor->dtype)
    throw IRError(str_cat("store of a ", value.dtype(), " value into '", tensor->name, "' of ",
                          tensor->dtype));
  for (auto& i : indices)
    if (!is_int(i.dtype()))
      throw IRError(str_cat("store index into '", tensor->name, "' is ", i.dtype()));
  return Stmt(
      std::make_shared<const StoreNode>(std::move(tensor), std::move(indices), std::move(value)));
}

Stmt AllocateNode::make(Tensor tensor, MemoryScope scope, Stmt body) {
  if (!body.defined()) throw IRError(str_cat("allocation of '", tensor->name, "' has no body"));
  return Stmt(std::make_shared<const AllocateNode>(std::move(tensor), scope, std::move(body)));
}

Stmt SeqNode::make(std::vector<Stmt> stmts) {
  std::vector<Stmt> flat;
  for (auto& s : stmts) {
    if (!s.defined()) continue;
    if (auto* seq = s.as<SeqNode>())
      flat.insert(flat.end(), seq->stmts.begin(), seq->stmts.end());
    else
      flat.push_back(s);
  }
  if (flat.size() == 1) return flat[0];
  return Stmt(std::make_shared<const SeqNode>(std::move(flat)));
}

Stmt IfThenElseNode::make(Expr cond, Stmt then_case, Stmt else_case) {
  if (cond.dtype() != DType::Bool) throw IRError(str_cat("if condition is ", cond.dtype()));
  if (!then_case.defined()) throw IRError("if without a then branch");
  return Stmt(std::make_shared<const IfThenElseNode>(std::move(cond), std::move(then_case),
                                                     std::move(else_case)));
}

std::string_view for_kind_name(ForKind k) {
  static constexpr std::string_view names[] = {"serial",   "parallel",  "vectorized",
                                               "unrolled", "gpu_block", "gpu_thread"};
  return names[static_cast<int>(k)];
}

}  // namespace kiln

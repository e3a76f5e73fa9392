#include "backends/llvm/hoist_prepared.h"

#include <algorithm>
#include <map>
#include <set>

#include "core/ir/functor.h"

namespace kiln::llvm_backend {

namespace {

/// What a statement reads and writes: the tensors it loads and stores, those it allocates.
struct Access : StmtVisitor {
  std::set<const TensorNode*> loaded, stored, allocated;
  void visit_load(const LoadNode* n) override {
    loaded.insert(n->tensor.get());
    StmtVisitor::visit_load(n);
  }
  void visit_store(const StoreNode* n) override {
    stored.insert(n->tensor.get());
    StmtVisitor::visit_store(n);
  }
  void visit_allocate(const AllocateNode* n) override {
    allocated.insert(n->tensor.get());
    StmtVisitor::visit_allocate(n);
  }
};

/// A top-level statement of the body: what it touches, and whether it only copies inputs into
/// one buffer (`fills`: that buffer, else null) reading `inputs`.
struct TopStatement {
  Stmt stmt;
  std::set<const TensorNode*> stored;
  const TensorNode* fills = nullptr;
  std::vector<int> inputs;
};

TopStatement describe(const Stmt& s, const LoweredFunc& f,
                      const std::set<const TensorNode*>& heap) {
  Access a;
  a.visit(s);
  TopStatement top;
  top.stmt = s;
  top.stored = a.stored;
  std::vector<const TensorNode*> outside;  // stored tensors it does not allocate itself
  for (const TensorNode* t : a.stored)
    if (!a.allocated.count(t)) outside.push_back(t);
  if (outside.size() != 1 || !heap.count(outside[0])) return top;
  for (const TensorNode* t : a.loaded) {
    if (a.allocated.count(t) || t == outside[0]) continue;
    auto it = std::find_if(f.params.begin(), f.params.begin() + f.num_inputs,
                           [&](const Tensor& p) { return p.get() == t; });
    if (it == f.params.begin() + f.num_inputs) return top;  // reads something else
    top.inputs.push_back(static_cast<int>(it - f.params.begin()));
  }
  std::sort(top.inputs.begin(), top.inputs.end());
  top.fills = outside[0];
  return top;
}

}  // namespace

LoweredFunc hoist_prepared_buffers(LoweredFunc f, int64_t slack_elements) {
  if (!f.prepared.empty()) return f;
  // The allocations wrapped around the whole body, outermost first, and the body inside them.
  std::vector<const AllocateNode*> spine;
  Stmt inner = f.body;
  while (const auto* a = inner.as<AllocateNode>()) {
    if (a->scope != MemoryScope::Global) break;
    spine.push_back(a);
    inner = a->body;
  }
  if (spine.empty()) return f;
  std::set<const TensorNode*> heap;
  for (const AllocateNode* a : spine) heap.insert(a->tensor.get());
  const auto* seq = inner.as<SeqNode>();
  std::vector<Stmt> stmts = seq ? seq->stmts : std::vector<Stmt>{inner};

  std::vector<TopStatement> tops;
  for (const Stmt& s : stmts) tops.push_back(describe(s, f, heap));
  // A buffer qualifies when every statement that stores to it is one of its fills.
  std::map<const TensorNode*, bool> qualifies;
  for (const TopStatement& top : tops) {
    if (top.fills) qualifies.emplace(top.fills, true);
  }
  for (const TopStatement& top : tops) {
    if (top.fills) continue;
    for (const TensorNode* t : top.stored)
      if (qualifies.count(t)) qualifies[t] = false;
  }
  std::vector<const AllocateNode*> kept;
  for (const AllocateNode* a : spine) {
    auto it = qualifies.find(a->tensor.get());
    if (it == qualifies.end() || !it->second) {
      kept.push_back(a);
      continue;
    }
    std::set<int> inputs;
    for (const TopStatement& top : tops)
      if (top.fills == a->tensor.get()) inputs.insert(top.inputs.begin(), top.inputs.end());
    int64_t bytes = (a->tensor->numel() + slack_elements) * dtype_bytes(a->tensor->dtype);
    f.prepared.push_back({a->tensor, {inputs.begin(), inputs.end()}, bytes});
  }
  if (f.prepared.empty()) return f;

  auto count = static_cast<int64_t>(f.prepared.size());
  f.prepare_flags = placeholder(f.name + ".prepare", {count}, DType::I32);
  for (TopStatement& top : tops) {
    auto it = std::find_if(f.prepared.begin(), f.prepared.end(),
                           [&](const PreparedBuffer& b) { return b.buffer.get() == top.fills; });
    if (it == f.prepared.end()) continue;
    Expr flag =
        f.prepare_flags(make_const(DType::I64, static_cast<double>(it - f.prepared.begin())));
    top.stmt = IfThenElseNode::make(flag != make_const(DType::I32, 0), top.stmt);
  }
  std::vector<Stmt> body;
  for (const TopStatement& top : tops) body.push_back(top.stmt);
  Stmt rebuilt = SeqNode::make(std::move(body));
  for (auto a = kept.rbegin(); a != kept.rend(); ++a)
    rebuilt = AllocateNode::make((*a)->tensor, (*a)->scope, rebuilt);
  f.body = rebuilt;
  return f;
}

}  // namespace kiln::llvm_backend

#include "core/schedule/lowering_passes.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/parallel_grain.h"
#include "core/support/log.h"

namespace kiln {

namespace {

/// The tensors a statement stores to, in order of first store, and those it allocates.
struct StorageUse : StmtVisitor {
  std::vector<Tensor> stored;
  std::set<const TensorNode*> allocated;
  void visit_store(const StoreNode* n) override {
    bool seen = std::any_of(stored.begin(), stored.end(),
                            [&](const Tensor& t) { return t.get() == n->tensor.get(); });
    if (!seen) stored.push_back(n->tensor);
    StmtVisitor::visit_store(n);
  }
  void visit_allocate(const AllocateNode* n) override {
    allocated.insert(n->tensor.get());
    StmtVisitor::visit_allocate(n);
  }
};

void log_function(const LoweredFunc& f, const std::string& after) {
  if (!log_enabled(LogLevel::Debug)) return;
  std::ostringstream os;
  os << "lowering " << f.name << ", after " << after << ":\n" << f;
  log_message(LogLevel::Debug, os.str());
}

}  // namespace

LoweredFunc allocate_intermediates(LoweredFunc f) {
  StorageUse use;
  use.visit(f.body);
  std::vector<Tensor> intermediates;
  for (const Tensor& t : use.stored) {
    bool param = std::any_of(f.params.begin(), f.params.end(),
                             [&](const Tensor& p) { return p.get() == t.get(); });
    if (!param && !use.allocated.count(t.get())) intermediates.push_back(t);
  }
  for (auto it = intermediates.rbegin(); it != intermediates.rend(); ++it)
    f.body = AllocateNode::make(*it, MemoryScope::Global, f.body);
  return f;
}

LoweredFunc read_broadcast_dims_at_zero(LoweredFunc f) {
  struct AtZero : StmtMutator {
    std::set<const TensorNode*> params;
    Expr mutate_load(const Expr& e, const LoadNode* n) override {
      Expr loaded = StmtMutator::mutate_load(e, n);
      auto* load = loaded.as<LoadNode>();
      if (!params.count(load->tensor.get())) return loaded;
      std::vector<Expr> indices = load->indices;
      bool changed = false;
      for (size_t d = 0; d < indices.size(); ++d) {
        if (load->tensor->strides[d] != 0 || as_const_int(indices[d]) == 0) continue;
        indices[d] = Expr(int64_t{0});
        changed = true;
      }
      return changed ? LoadNode::make(load->tensor, indices) : loaded;
    }
  } at_zero;
  for (const Tensor& p : f.params)
    if (p->kind == TensorKind::Placeholder) at_zero.params.insert(p.get());
  f.body = at_zero.mutate(f.body);
  return f;
}

LoweredFunc simplify_body(LoweredFunc f) {
  f.body = simplify(f.body);
  return f;
}

LoweredFunc serialize_small_parallel(LoweredFunc f) {
  f.body = serialize_small_parallel_loops(f.body);
  return f;
}

const std::vector<LoweringPass>& lowering_passes() {
  static const std::vector<LoweringPass> passes{
      {"localize region buffers", localize_region_buffers},
      {"allocate intermediates", allocate_intermediates},
      {"read broadcast dimensions at 0", read_broadcast_dims_at_zero},
      {"simplify", simplify_body},
      {"serialize small parallel loops", serialize_small_parallel},
  };
  return passes;
}

LoweredFunc run_lowering_passes(LoweredFunc f, const std::vector<LoweringPass>& passes,
                                const std::string& built_by) {
  log_function(f, built_by);
  for (const LoweringPass& pass : passes) {
    f = pass.run(std::move(f));
    log_function(f, pass.name);
  }
  return f;
}

}  // namespace kiln

#include "core/schedule/parallel_grain.h"

#include <limits>

#include "core/ir/functor.h"
#include "core/support/error.h"

namespace kiln {

namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t saturating_product(int64_t a, int64_t b) {
  return a != 0 && b > kMax / a ? kMax : a * b;
}

int64_t saturating_sum(int64_t a, int64_t b) {
  return a > kMax - b ? kMax : a + b;
}

class SmallParallelLoops : public StmtMutator {
 protected:
  Stmt mutate_for(const Stmt& s, const ForNode* n) override {
    if (n->for_kind != ForKind::Parallel || work_of(s) >= kMinParallelWork)
      return StmtMutator::mutate_for(s, n);
    return ForNode::make(n->var, n->extent, ForKind::Serial, mutate(n->body), n->thread_axis);
  }
};

}  // namespace

int64_t work_of(const Stmt& s) {
  if (!s.defined()) return 0;
  switch (s.kind()) {
    case StmtKind::For: {
      const ForNode* n = s.as<ForNode>();
      int64_t body = work_of(n->body);
      return n->for_kind == ForKind::Vectorized ? body : saturating_product(n->extent, body);
    }
    case StmtKind::Store: return 1;
    case StmtKind::Allocate: return work_of(s.as<AllocateNode>()->body);
    case StmtKind::Seq: {
      int64_t sum = 0;
      for (const Stmt& x : s.as<SeqNode>()->stmts) sum = saturating_sum(sum, work_of(x));
      return sum;
    }
    case StmtKind::IfThenElse: {
      const IfThenElseNode* n = s.as<IfThenElseNode>();
      return saturating_sum(work_of(n->then_case), work_of(n->else_case));
    }
  }
  throw InternalError(str_cat(__FILE__, ": unknown statement kind"));
}

Stmt serialize_small_parallel_loops(const Stmt& body) {
  return SmallParallelLoops().mutate(body);
}

}  // namespace kiln

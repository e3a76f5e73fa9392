#include <unordered_map>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/lowerer.h"
#include "core/support/error.h"

namespace kiln::lowering_detail {

namespace {

/// A region buffer's dimension order for stage `p`: its spatial axes in the order its loops
/// run them (the innermost loop's axis contiguous, so a vectorized axis reads whole vectors),
/// when its loops are its root axes reordered; empty otherwise.
std::vector<int> loop_order_storage(const Stage& p) {
  if (!p.relations.empty()) return {};
  std::vector<int> order;
  for (int leaf : p.leaves)
    if (leaf < p.num_spatial) order.push_back(leaf);
  return order;
}

}  // namespace

Stmt Lowerer::realize_attached(StageFrame& fr, int l, const std::function<Stmt()>& inner) {
  std::vector<const Stage*> attached;
  for (auto& s : sch_.stages())
    if (s.attach == AttachKind::At && s.attach_stage == fr.stage->name && s.attach_loop == l)
      attached.push_back(&s);
  if (attached.empty()) return inner();

  // Variables that change inside loop l: the target's inner leaves and the attached stages'
  // own region and reduce variables.
  VarExtents varying;
  int pos = fr.stage->leaf_position(l);
  for (size_t p = pos + 1; p < fr.stage->leaves.size(); ++p) {
    int leaf = fr.stage->leaves[p];
    varying[fr.vars[leaf].get()] = fr.extents[leaf];
  }
  std::vector<Expr> readers{fr.body};
  std::unordered_map<const Stage*, Realization> regions;
  for (auto it = attached.rbegin(); it != attached.rend(); ++it) {
    const Stage& p = **it;
    Realization r = infer_region(p, fr, readers, varying);
    // This stage's own body, over its region, reads the stages before it.
    VarMap vmap;
    for (int d = 0; d < p.num_spatial; ++d) {
      Var v(str_cat(p.tensor->name, ".r", d));
      varying[v.get()] = r.extents[d];
      vmap[p.root_vars[d].get()] = r.mins[d] + v;
    }
    for (size_t d = p.num_spatial; d < p.root_vars.size(); ++d)
      varying[p.root_vars[d].get()] = p.root_extents[d];
    readers.push_back(substitute(p.body, vmap));
    regions[&p] = r;
  }

  std::vector<Stmt> stmts;
  std::vector<std::pair<Tensor, MemoryScope>> buffers;
  for (const Stage* p : attached) {
    Realization r = regions[p];
    if (!p->is_output) {
      r.order = loop_order_storage(*p);
      std::vector<int64_t> extents;
      for (size_t k = 0; k < r.extents.size(); ++k)
        extents.push_back(r.extents[r.order.empty() ? k : r.order[k]]);
      r.storage = placeholder(p->tensor->name + ".local", extents, p->tensor->dtype);
      r.local = true;
      bool small = r.storage->numel() * dtype_bytes(p->tensor->dtype) <= kMaxLocalBytes;
      buffers.emplace_back(r.storage, small ? MemoryScope::Local : MemoryScope::Global);
      regions_.push_back({r.storage, p->tensor, r.mins, r.order});
    }
    stmts.push_back(lower_stage(*p, r));
  }
  stmts.push_back(inner());
  Stmt body = SeqNode::make(stmts);
  for (auto it = buffers.rbegin(); it != buffers.rend(); ++it)
    body = AllocateNode::make(it->first, it->second, body);
  return body;
}

Realization Lowerer::infer_region(const Stage& p, const StageFrame& target,
                                  const std::vector<Expr>& readers, const VarExtents& varying) {
  Realization r;
  r.storage = p.tensor;
  bool unread = true;
  for (auto& body : readers) unread &= !reads(body, p.tensor.get());
  for (int d = 0; d < p.num_spatial; ++d) {
    int64_t size = p.root_extents[d];
    std::optional<IndexRange> acc;
    bool full = false;
    if (unread && d < target.stage->num_spatial && target.stage->root_extents[d] == size) {
      Expr value = target.values[d];
      if (!target.where.mins.empty()) value = target.where.mins[d] + value;
      acc = range_over(value, varying);
    }
    for (auto& body : readers) {
      for (auto* load : loads_in(body, p.tensor.get())) {
        auto range = range_over(load->indices[d], varying);
        if (!range) {
          full = true;
          continue;
        }
        if (!acc) {
          acc = range;
          continue;
        }
        auto delta = as_const_int(simplify(range->min - acc->min));
        if (!delta) {
          full = true;
          continue;
        }
        int64_t lo = std::min<int64_t>(0, *delta);
        int64_t hi = std::max(acc->extent, *delta + range->extent);
        acc = IndexRange{simplify(acc->min + lo), hi - lo};
      }
    }
    if (!acc || full || acc->extent >= size) {
      r.mins.push_back(Expr(int64_t{0}));
      r.extents.push_back(size);
    } else {
      r.mins.push_back(acc->min);
      r.extents.push_back(acc->extent);
    }
  }
  return r;
}

}  // namespace kiln::lowering_detail

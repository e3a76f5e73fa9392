#include "core/schedule/lower.h"

#include "core/ir/functor.h"
#include "core/schedule/guards.h"
#include "core/schedule/lowerer.h"
#include "core/schedule/lowering_passes.h"
#include "core/schedule/scan_scatter_lowering.h"
#include "core/support/error.h"

namespace kiln {

namespace lowering_detail {

LoweredFunc Lowerer::build_loop_nests(const std::string& name) {
  LoweredFunc f;
  f.name = name;
  f.params = placeholders_of(sch_.outputs());
  f.num_inputs = static_cast<int>(f.params.size());
  for (auto& t : sch_.outputs()) f.params.push_back(t);
  check_attachments();

  std::vector<Stmt> nests;
  for (auto& st : sch_.stages()) {
    if (st.attach != AttachKind::Root) continue;
    Realization where;
    where.extents = {st.root_extents.begin(), st.root_extents.begin() + st.num_spatial};
    where.storage = st.tensor;
    nests.push_back(lower_stage(st, where));
  }
  f.body = SeqNode::make(nests);
  f.regions = std::move(regions_);
  return f;
}

void Lowerer::check_attachments() {
  for (auto& p : sch_.stages()) {
    if (p.attach != AttachKind::At) continue;
    for (auto& r : sch_.stages()) {
      if (&r == &p || r.attach == AttachKind::Inline || !reads(r.body, p.tensor.get())) continue;
      bool same_scope = r.name == p.attach_stage ||
                        (r.attach == AttachKind::At && r.attach_stage == p.attach_stage &&
                         r.attach_loop == p.attach_loop);
      if (!same_scope)
        throw ScheduleError(str_cat("stage ", p.name, " (", p.tensor->name, ") is computed at ",
                                    p.attach_stage, " but also read by stage ", r.name,
                                    " outside that loop"));
    }
    // Peeling a scan's first iteration copies the loops inside its scan loop, which a region
    // computed there would have to follow.
    const Stage& target = sch_.stage(p.attach_stage);
    if (target.is_scan() &&
        target.leaf_position(p.attach_loop) >= target.leaf_position(target.tensor->scan_axis))
      throw ScheduleError(str_cat("stage ", p.name, " (", p.tensor->name,
                                  ") is computed inside the scan loop of stage ", target.name, " (",
                                  target.tensor->name, "): compute it outside that loop"));
  }
}

std::vector<Expr> Lowerer::storage_index(const StageFrame& fr) const {
  std::vector<Expr> idx;
  for (int d = 0; d < fr.stage->num_spatial; ++d) {
    Expr v = fr.values[d];
    if (!fr.where.local && !fr.where.mins.empty()) v = fr.where.mins[d] + v;
    idx.push_back(v);
  }
  return fr.where.in_storage_order(std::move(idx));
}

Stmt Lowerer::nest(StageFrame& fr, const std::vector<int>& seq, size_t k, bool attach,
                   const std::function<Stmt()>& innermost) {
  if (k == seq.size()) return innermost();
  int l = seq[k];
  const StageLoop& loop = fr.stage->loops[l];
  loop_extents_[fr.vars[l].get()] = fr.extents[l];
  Stmt body = attach
                  ? realize_attached(fr, l, [&] { return nest(fr, seq, k + 1, attach, innermost); })
                  : nest(fr, seq, k + 1, attach, innermost);
  loop_extents_.erase(fr.vars[l].get());
  return ForNode::make(fr.vars[l], fr.extents[l], loop.kind, body, loop.thread_axis);
}

Stmt Lowerer::lower_stage(const Stage& st, const Realization& where) {
  StageFrame fr = make_frame(st, where);
  auto* red = fr.body.as<ReduceNode>();
  if (!red) {
    Stmt stores = nest(fr, st.leaves, 0, true, [&] {
      return guarded(fr.spatial_guards, StoreNode::make(where.storage, storage_index(fr), fr.body));
    });
    if (st.is_scatter()) {
      KILN_CHECK(!where.local && where.mins.empty(), "a scatter is computed at its own root");
      bool parallel = false;
      for (int leaf : st.leaves) parallel |= st.loops[leaf].kind == ForKind::Parallel;
      return SeqNode::make({stores, lower_scatter_updates(st.tensor, parallel)});
    }
    if (!st.is_scan()) return stores;
    return peel_first_iteration(stores, fr.vars[st.tensor->scan_axis].get());
  }
  return lower_reduction(fr, *red);
}

}  // namespace lowering_detail

LoweredFunc lower(const Schedule& schedule, const std::string& name) {
  return run_lowering_passes(lowering_detail::Lowerer(schedule).build_loop_nests(name),
                             lowering_passes(), "building the loop nests");
}

}  // namespace kiln

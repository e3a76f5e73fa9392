#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/lowerer.h"
#include "core/schedule/scan_scatter_lowering.h"
#include "core/support/error.h"

namespace kiln::lowering_detail {

StageFrame Lowerer::make_frame(const Stage& st, const Realization& where) {
  StageFrame fr;
  fr.stage = &st;
  fr.where = where;
  size_t n = st.loops.size();
  fr.extents.assign(n, 0);
  for (int d = 0; d < static_cast<int>(st.root_vars.size()); ++d)
    fr.extents[d] = d < st.num_spatial ? where.extents[d] : st.root_extents[d];
  for (auto& rel : st.relations) {
    if (rel.kind == LoopRelation::Kind::Split) {
      fr.extents[rel.b] = (fr.extents[rel.a] + rel.factor - 1) / rel.factor;
      fr.extents[rel.c] = rel.factor;
    } else {
      fr.extents[rel.c] = fr.extents[rel.a] * fr.extents[rel.b];
    }
  }
  fr.vars.resize(n);
  fr.values.resize(n);
  for (int l : st.leaves) {
    fr.vars[l] = Var(str_cat(st.tensor->name, ".", st.loops[l].name));
    fr.values[l] = fr.vars[l];
  }
  for (auto it = st.relations.rbegin(); it != st.relations.rend(); ++it) {
    if (it->kind == LoopRelation::Kind::Split) {
      fr.values[it->a] = fr.values[it->b] * it->factor + fr.values[it->c];
      if (fr.extents[it->a] % it->factor != 0)
        (st.loops[it->a].reduce ? fr.reduce_guards : fr.spatial_guards)
            .push_back(fr.values[it->a] < fr.extents[it->a]);
    } else {
      int64_t inner = fr.extents[it->b];
      fr.values[it->a] = floordiv(fr.values[it->c], Expr(inner));
      fr.values[it->b] = floormod(fr.values[it->c], Expr(inner));
    }
  }
  VarMap vmap;
  for (int d = 0; d < static_cast<int>(st.root_vars.size()); ++d) {
    Expr v = fr.values[d];
    if (d < st.num_spatial && !where.mins.empty()) v = where.mins[d] + v;
    vmap[st.root_vars[d].get()] = simplify(v);
  }
  fr.body = substitute(st.body, vmap);
  if (st.is_scan()) {
    // The scan axis is one serial loop (Schedule keeps it so): the element one step back was
    // stored by an earlier iteration, if the region holds the whole axis from its start.
    int axis = st.tensor->scan_axis;
    auto start =
        where.mins.empty() ? std::optional<int64_t>(0) : as_const_int(simplify(where.mins[axis]));
    if (start != 0 || where.extents[axis] != st.root_extents[axis])
      throw ScheduleError(str_cat("stage ", st.name, " (", st.tensor->name,
                                  ") is a scan computed over part of its scan axis ",
                                  st.loops[axis].name, ": its region must hold the whole axis"));
    fr.body = read_own_storage(fr.body, st.tensor);
  }
  // A region that may reach past its tensor is guarded, unless the bounds prove it inside.
  if (!where.mins.empty()) {
    VarExtents all = loop_extents_;
    for (int l : st.leaves) all[fr.vars[l].get()] = fr.extents[l];
    for (int d = 0; d < st.num_spatial; ++d) {
      Expr idx = simplify(where.mins[d] + fr.values[d]);
      auto b = const_bounds(idx, all);
      if (!b || b->first < 0) fr.spatial_guards.push_back(idx >= int64_t{0});
      if (!b || b->second >= st.root_extents[d])
        fr.spatial_guards.push_back(idx < st.root_extents[d]);
    }
  }
  return fr;
}

}  // namespace kiln::lowering_detail

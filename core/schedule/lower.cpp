#include "core/schedule/lower.h"

#include <functional>
#include <unordered_map>

#include "core/ir/bound.h"
#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/guards.h"
#include "core/schedule/lowering_passes.h"
#include "core/schedule/scan_scatter_lowering.h"
#include "core/support/error.h"

namespace kiln {

namespace {

/// Local buffers larger than this live on the heap rather than the stack.
constexpr int64_t kMaxLocalBytes = 64 * 1024;

/// Where and over which region a stage is realized.
struct Realization {
  std::vector<int64_t> extents;  ///< Of the spatial root axes.
  std::vector<Expr> mins;        ///< Offset of the region per spatial axis.
  Tensor storage;                ///< The buffer written.
  bool local = false;            ///< Storage indexed relative to `mins` (a region buffer).
  /// A region buffer's dimension k holds spatial axis order[k] (empty: the axes' own order).
  std::vector<int> order;

  /// `idx` (one per spatial axis) in the storage's dimension order.
  std::vector<Expr> in_storage_order(std::vector<Expr> idx) const {
    if (order.empty()) return idx;
    std::vector<Expr> permuted;
    for (int d : order) permuted.push_back(idx[d]);
    return permuted;
  }
};

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

/// Everything known about a stage while its nest is built.
struct StageFrame {
  const Stage* stage;
  std::vector<int64_t> extents;  ///< Per loop.
  std::vector<Var> vars;         ///< Per loop.
  std::vector<Expr> values;      ///< Per loop, in terms of the leaf variables.
  std::vector<Expr> spatial_guards, reduce_guards;
  Expr body;  ///< With root variables replaced by their global values.
  Realization where;
};

Expr combine(ReduceOp op, const Expr& acc, const Expr& v) {
  switch (op) {
    case ReduceOp::Sum: return acc + v;
    case ReduceOp::Prod: return acc * v;
    case ReduceOp::Max: return max(acc, v);
    case ReduceOp::Min: return min(acc, v);
    default: KILN_CHECK(false, "arg reductions are combined separately");
  }
}

class Lowerer {
 public:
  explicit Lowerer(const Schedule& s) : sch_(s) {}

  /// The loop nests of the root stages in order, each attached stage realized inside its
  /// target's loop; intermediate results not yet allocated and region buffers not yet read
  /// (the passes do both).
  LoweredFunc build_loop_nests(const std::string& name) {
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

 private:
  // A stage computed at a loop may be read only by its target and the stages computed at the
  // same loop: bound inference looks at those readers only, and a reader elsewhere would run
  // before the stage (or read a region buffer that no longer exists).
  void check_attachments() {
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
                                    ") is computed inside the scan loop of stage ", target.name,
                                    " (", target.tensor->name, "): compute it outside that loop"));
    }
  }

  StageFrame make_frame(const Stage& st, const Realization& where) {
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

  /// Index into the stage's storage for its spatial root values.
  std::vector<Expr> storage_index(const StageFrame& fr) const {
    std::vector<Expr> idx;
    for (int d = 0; d < fr.stage->num_spatial; ++d) {
      Expr v = fr.values[d];
      if (!fr.where.local && !fr.where.mins.empty()) v = fr.where.mins[d] + v;
      idx.push_back(v);
    }
    return fr.where.in_storage_order(std::move(idx));
  }

  /// Builds loops over `seq` (loop ids of `fr`) around innermost(); realizes attached stages.
  Stmt nest(StageFrame& fr, const std::vector<int>& seq, size_t k, bool attach,
            const std::function<Stmt()>& innermost) {
    if (k == seq.size()) return innermost();
    int l = seq[k];
    const StageLoop& loop = fr.stage->loops[l];
    loop_extents_[fr.vars[l].get()] = fr.extents[l];
    Stmt body =
        attach ? realize_attached(fr, l, [&] { return nest(fr, seq, k + 1, attach, innermost); })
               : nest(fr, seq, k + 1, attach, innermost);
    loop_extents_.erase(fr.vars[l].get());
    return ForNode::make(fr.vars[l], fr.extents[l], loop.kind, body, loop.thread_axis);
  }

  Stmt lower_stage(const Stage& st, const Realization& where) {
    StageFrame fr = make_frame(st, where);
    auto* red = fr.body.as<ReduceNode>();
    if (!red) {
      Stmt stores = nest(fr, st.leaves, 0, true, [&] {
        return guarded(fr.spatial_guards,
                       StoreNode::make(where.storage, storage_index(fr), fr.body));
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

  // Accumulates in a local tile over the spatial loops inside the innermost run of reduce loops,
  // so that the accumulators can live in registers.
  Stmt lower_reduction(StageFrame& fr, const ReduceNode& red) {
    const Stage& st = *fr.stage;
    const auto& leaves = st.leaves;
    int n = static_cast<int>(leaves.size());
    auto is_reduce = [&](int pos) { return st.loops[leaves[pos]].reduce; };
    int first = 0;
    while (first < n && !is_reduce(first)) ++first;
    int last = n - 1;
    while (!is_reduce(last)) --last;
    int run = last;  // start of the innermost contiguous run of reduce loops
    while (run > first && is_reduce(run - 1)) --run;
    bool through_output = run != first;  // partial results pass through the stage's storage
    bool arg = red.op == ReduceOp::ArgMax || red.op == ReduceOp::ArgMin;
    if (through_output && arg)
      throw ScheduleError(str_cat("stage ", st.name, " (", st.tensor->name, "): an ", red.op,
                                  " cannot have spatial loops between its reduce loops"));

    std::vector<int> outer(leaves.begin(), leaves.begin() + run), tile,
        inner(leaves.begin() + run, leaves.end());
    std::vector<int64_t> tile_shape;
    std::vector<Expr> tile_idx;
    for (int pos = last + 1; pos < n; ++pos) {
      tile.push_back(leaves[pos]);
      tile_shape.push_back(fr.extents[leaves[pos]]);
      tile_idx.push_back(fr.vars[leaves[pos]]);
    }
    DType vt = red.source.dtype();
    std::string acc_name = st.tensor->name + ".acc";
    Tensor acc = placeholder(acc_name, tile_shape, vt);
    Tensor acc_idx = arg ? placeholder(acc_name + ".idx", tile_shape, DType::I64) : Tensor();
    Tensor out = fr.where.storage;
    Expr identity = reduce_identity(red.op, vt);

    auto over_tile = [&](std::function<Stmt()> body) {
      return nest(fr, tile, 0, false, [&] { return guarded(fr.spatial_guards, body()); });
    };
    auto tile_nest = [&]() -> Stmt {
      Stmt init = over_tile([&] {
        if (arg)
          return SeqNode::make({StoreNode::make(acc, tile_idx, identity),
                                StoreNode::make(acc_idx, tile_idx, Expr(int64_t{-1}))});
        Expr start = through_output ? LoadNode::make(out, storage_index(fr)) : identity;
        return StoreNode::make(acc, tile_idx, start);
      });
      Stmt update = nest(fr, inner, 0, true, [&] {
        std::vector<Expr> conds = fr.reduce_guards;
        Expr v = red.source;
        // A tile element outside the stage (a vector's tail lanes) is never written out: it
        // may accumulate anything, so a vector lane's guard only keeps its loads in bounds
        // (masked loads) instead of masking each update (a blend per vector FMA).
        const VarNode* lane = arg ? nullptr : vector_var(fr);
        std::vector<Expr> lane_guards;
        for (const Expr& g : fr.spatial_guards)
          (lane && uses_var(g, lane) ? lane_guards : conds).push_back(g);
        if (!lane_guards.empty()) v = loads_guarded_by(v, conjunction(lane_guards), lane);
        Expr cur = acc.load(tile_idx);
        if (!arg) return guarded(conds, StoreNode::make(acc, tile_idx, combine(red.op, cur, v)));
        Expr better = red.op == ReduceOp::ArgMax ? v > cur : v < cur;
        if (is_float(vt))
          better = better || (unary(UnaryOp::IsNan, v) && !unary(UnaryOp::IsNan, cur));
        // Decided once, before either accumulator changes.
        Tensor take = placeholder(acc_name + ".take", {}, DType::Bool);
        Expr taken = take.load({});
        Stmt update_both = SeqNode::make(
            {StoreNode::make(take, {}, acc_idx.load(tile_idx) < int64_t{0} || better),
             StoreNode::make(acc_idx, tile_idx,
                             select(taken, flat_reduce_index(fr, red), acc_idx.load(tile_idx))),
             StoreNode::make(acc, tile_idx, select(taken, v, cur))});
        return guarded(conds, AllocateNode::make(take, MemoryScope::Local, update_both));
      });
      Stmt write = over_tile([&] {
        Expr result = arg ? acc_idx.load(tile_idx) : acc.load(tile_idx);
        return StoreNode::make(out, storage_index(fr), result);
      });
      Stmt body = SeqNode::make({init, update, write});
      if (arg) body = AllocateNode::make(acc_idx, MemoryScope::Local, body);
      return AllocateNode::make(acc, MemoryScope::Local, body);
    };

    if (!through_output) return nest(fr, outer, 0, true, tile_nest);
    // Initialize the storage before the first reduce loop, then accumulate tile by tile.
    std::vector<int> head(leaves.begin(), leaves.begin() + first), init_loops,
        mid(leaves.begin() + first, leaves.begin() + run);
    for (int pos = first; pos < n; ++pos)
      if (!is_reduce(pos)) init_loops.push_back(leaves[pos]);
    return nest(fr, head, 0, true, [&] {
      Stmt init = nest(fr, init_loops, 0, false, [&] {
        return guarded(fr.spatial_guards, StoreNode::make(out, storage_index(fr), identity));
      });
      return SeqNode::make({init, nest(fr, mid, 0, true, tile_nest)});
    });
  }

  /// The variable of `fr`'s vectorized loop (differs between a vector's lanes), if it has one.
  static const VarNode* vector_var(const StageFrame& fr) {
    for (int leaf : fr.stage->leaves)
      if (fr.stage->loops[leaf].kind == ForKind::Vectorized) return fr.vars[leaf].get();
    return nullptr;
  }

  Expr flat_reduce_index(const StageFrame& fr, const ReduceNode& red) const {
    Expr flat = Expr(int64_t{0});
    for (size_t d = 0; d < red.axes.size(); ++d)
      flat = flat * red.axes[d].extent + fr.values[fr.stage->num_spatial + d];
    return simplify(flat);
  }

  /// Realizes the stages computed at loop `l` of `fr`'s stage, then builds `inner` with their
  /// region buffers in scope.
  Stmt realize_attached(StageFrame& fr, int l, const std::function<Stmt()>& inner) {
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

  /// The region of `p` that `readers` load while `varying` ranges: per dimension the union of
  /// every load's index range, or the whole dimension when a range is unknown or irregular.
  /// A stage nobody inside the loop reads (a secondary output) follows the target's axes: the
  /// rows the target is at, where the shapes agree.
  Realization infer_region(const Stage& p, const StageFrame& target,
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

  const Schedule& sch_;
  VarExtents loop_extents_;
  std::vector<RegionBuffer> regions_;
};

}  // namespace

LoweredFunc lower(const Schedule& schedule, const std::string& name) {
  return run_lowering_passes(Lowerer(schedule).build_loop_nests(name), lowering_passes(),
                             "building the loop nests");
}

}  // namespace kiln

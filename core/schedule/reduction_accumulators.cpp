#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/guards.h"
#include "core/schedule/lowerer.h"
#include "core/support/error.h"

namespace kiln::lowering_detail {

namespace {

Expr combine(ReduceOp op, const Expr& acc, const Expr& v) {
  switch (op) {
    case ReduceOp::Sum: return acc + v;
    case ReduceOp::Prod: return acc * v;
    case ReduceOp::Max: return max(acc, v);
    case ReduceOp::Min: return min(acc, v);
    default: KILN_CHECK(false, "arg reductions are combined separately");
  }
}

}  // namespace

Stmt Lowerer::lower_reduction(StageFrame& fr, const ReduceNode& red) {
  const Stage& st = *fr.stage;
  const auto& leaves = st.leaves;
  int n = static_cast<int>(leaves.size());
  auto is_reduce = [&](int pos) { return st.loops[leaves[pos]].reduce; };
  int first = 0;
  while (first < n && !is_reduce(first)) ++first;
  bool arg = red.op == ReduceOp::ArgMax || red.op == ReduceOp::ArgMin;
  // Innermost unrolled reduce loops after other reduce loops (a bf16 contraction's pairs,
  // inside its tile's vector columns) belong to each element's update: the tile's accumulators
  // stay outside them, as they would be without them.
  int end = n;
  while (!arg && end > first && is_reduce(end - 1) &&
         st.loops[leaves[end - 1]].kind == ForKind::Unrolled)
    --end;
  bool reduce_before = false;
  for (int pos = first; pos < end; ++pos) reduce_before |= is_reduce(pos);
  if (!reduce_before) end = n;
  int last = end - 1;
  while (!is_reduce(last)) --last;
  int run = last;  // start of the innermost contiguous run of reduce loops
  while (run > first && is_reduce(run - 1)) --run;
  bool through_output = run != first;  // partial results pass through the stage's storage
  if (through_output && arg)
    throw ScheduleError(str_cat("stage ", st.name, " (", st.tensor->name, "): an ", red.op,
                                " cannot have spatial loops between its reduce loops"));

  std::vector<int> outer(leaves.begin(), leaves.begin() + run), tile,
      inner(leaves.begin() + run, leaves.end());
  std::vector<int64_t> tile_shape;
  std::vector<Expr> tile_idx;
  for (int pos = last + 1; pos < end; ++pos) {
    tile.push_back(leaves[pos]);
    tile_shape.push_back(fr.extents[leaves[pos]]);
    tile_idx.push_back(fr.vars[leaves[pos]]);
  }
  // 16-bit floats accumulate in f32, as PyTorch's reductions do: a sum keeps its precision,
  // and no step rounds to 16 bits (a scalar bf16 max rounded per step, which kept LLVM from
  // vectorizing the chain: a softmax's row maxima took 9x the whole f32 softmax).
  DType stored = red.source.dtype(), vt = compute_type(stored);
  auto in_acc = [&](const Expr& e) { return vt == stored ? e : cast(vt, e); };
  auto in_storage = [&](const Expr& e) { return vt == stored ? e : cast(stored, e); };
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
      Expr start = through_output ? in_acc(LoadNode::make(out, storage_index(fr))) : identity;
      return StoreNode::make(acc, tile_idx, start);
    });
    Stmt update = nest(fr, inner, 0, true, [&] {
      std::vector<Expr> conds = fr.reduce_guards;
      Expr v = in_acc(red.source);
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
      Expr result = arg ? acc_idx.load(tile_idx) : in_storage(acc.load(tile_idx));
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
      return guarded(fr.spatial_guards,
                     StoreNode::make(out, storage_index(fr), in_storage(identity)));
    });
    return SeqNode::make({init, nest(fr, mid, 0, true, tile_nest)});
  });
}

const VarNode* Lowerer::vector_var(const StageFrame& fr) {
  for (int leaf : fr.stage->leaves)
    if (fr.stage->loops[leaf].kind == ForKind::Vectorized) return fr.vars[leaf].get();
  return nullptr;
}

Expr Lowerer::flat_reduce_index(const StageFrame& fr, const ReduceNode& red) const {
  Expr flat = Expr(int64_t{0});
  for (size_t d = 0; d < red.axes.size(); ++d)
    flat = flat * red.axes[d].extent + fr.values[fr.stage->num_spatial + d];
  return simplify(flat);
}

}  // namespace kiln::lowering_detail

// The Lowerer, which builds lower()'s loop nests from a schedule (lower.h), as a class whose
// members four files share, one job each: lower.cpp (the nests of the root stages, in order),
// stage_frame.cpp (a stage's loop variables, the values of its root axes in terms of them, and
// the guards its splits and regions need), reduction_accumulators.cpp (a reduction accumulated
// in a local tile) and realize_attached.cpp (the stages computed at a loop, realized there over
// the region that loop reads). Private to core/schedule.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ir/bound.h"
#include "core/ir/stmt.h"
#include "core/schedule/schedule.h"

namespace kiln::lowering_detail {

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

class Lowerer {
 public:
  explicit Lowerer(const Schedule& s) : sch_(s) {}

  /// The loop nests of the root stages in order, each attached stage realized inside its
  /// target's loop; intermediate results not yet allocated and region buffers not yet read
  /// (the passes do both).
  LoweredFunc build_loop_nests(const std::string& name);

 private:
  /// A stage computed at a loop may be read only by its target and the stages computed at the
  /// same loop: bound inference looks at those readers only, and a reader elsewhere would run
  /// before the stage (or read a region buffer that no longer exists).
  void check_attachments();

  /// The frame of `st` realized at `where` (stage_frame.cpp): its loops' extents and
  /// variables, its root axes' values, its body in those terms, and the guards a split that
  /// does not divide or a region that may leave the tensor needs.
  StageFrame make_frame(const Stage& st, const Realization& where);

  /// Index into the stage's storage for its spatial root values.
  std::vector<Expr> storage_index(const StageFrame& fr) const;

  /// Builds loops over `seq` (loop ids of `fr`) around innermost(); realizes attached stages.
  Stmt nest(StageFrame& fr, const std::vector<int>& seq, size_t k, bool attach,
            const std::function<Stmt()>& innermost);

  /// The loop nest of `st` realized at `where`: its stores, a scatter's updates after them, a
  /// scan's first iteration peeled; a reduction through lower_reduction.
  Stmt lower_stage(const Stage& st, const Realization& where);

  /// Accumulates in a local tile over the spatial loops inside the innermost run of reduce loops,
  /// so that the accumulators can live in registers.
  Stmt lower_reduction(StageFrame& fr, const ReduceNode& red);

  /// The variable of `fr`'s vectorized loop (differs between a vector's lanes), if it has one.
  static const VarNode* vector_var(const StageFrame& fr);

  /// An arg reduction's index: the reduce axes' values, flattened row-major.
  Expr flat_reduce_index(const StageFrame& fr, const ReduceNode& red) const;

  /// Realizes the stages computed at loop `l` of `fr`'s stage, then builds `inner` with their
  /// region buffers in scope.
  Stmt realize_attached(StageFrame& fr, int l, const std::function<Stmt()>& inner);

  /// The region of `p` that `readers` load while `varying` ranges: per dimension the union of
  /// every load's index range, or the whole dimension when a range is unknown or irregular.
  /// A stage nobody inside the loop reads (a secondary output) follows the target's axes: the
  /// rows the target is at, where the shapes agree.
  Realization infer_region(const Stage& p, const StageFrame& target,
                           const std::vector<Expr>& readers, const VarExtents& varying);

  const Schedule& sch_;
  VarExtents loop_extents_;  ///< Of the loops around the nest being built.
  std::vector<RegionBuffer> regions_;
};

}  // namespace kiln::lowering_detail

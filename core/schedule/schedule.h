// A schedule: how the compute definitions of a program become loops. Each compute tensor is a
// Stage with a loop nest that starts as its axes (then reduce axes) and is rewritten by the
// primitives below. Every primitive checks its preconditions (ScheduleError naming the stage and
// loop at fault) and is recorded in a Trace that replays on any structurally equal program.
//
// Stages are named canonically "s<k>" by topological position, loops "i<d>" (axis d) and "r<d>"
// (reduce axis d), with ".o"/".i" for split parts and "a*b" for fused loops, so traces do not
// depend on the names that tensors happen to have.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/ir/stmt.h"
#include "core/schedule/trace.h"

namespace kiln {

/// One loop of a stage, as created by the axes, splits and fuses.
struct StageLoop {
  std::string name;
  bool reduce = false;
  ForKind kind = ForKind::Serial;
  int thread_axis = 0;
};

/// How a loop was derived: parent = outer * factor + inner (split), or fused = outer * |inner| +
/// inner.
struct LoopRelation {
  enum class Kind : uint8_t { Split, Fuse } kind;
  int a, b, c;     ///< Split: parent, outer, inner. Fuse: outer, inner, fused.
  int64_t factor;  ///< Split only.
};

enum class AttachKind : uint8_t { Root, Inline, At };

struct Stage {
  std::string name;            ///< Canonical: "s3", or "s3.rf" for a stage made by rfactor.
  Tensor tensor;               ///< The tensor whose storage this stage writes.
  Expr body;                   ///< The value at root_vars; changes with compute_inline, rfactor.
  std::vector<Var> root_vars;  ///< Spatial axes, then reduce axes (when body is a Reduce).
  std::vector<int64_t> root_extents;
  int num_spatial = 0;
  bool is_output = false;
  std::vector<StageLoop> loops;  ///< Every loop ever made; 0..root_vars.size()-1 are the roots.
  std::vector<LoopRelation> relations;
  std::vector<int> leaves;  ///< Current loop nest, outermost first.
  AttachKind attach = AttachKind::Root;
  std::string attach_stage;  ///< With At: the consumer stage and its loop.
  int attach_loop = -1;

  bool is_reduction() const { return body.kind() == ExprKind::Reduce; }
  /// A scan's stage (tensor.h): its scan axis's loop stays one serial loop, the stage is never
  /// inlined, and computed at another stage's loop its region must hold the whole scan axis.
  bool is_scan() const { return tensor->is_scan(); }
  /// A scatter's stage (tensor.h): its loops compute the init; its updates run after them, in
  /// lowering's own loops. Never inlined, never computed at a loop or with stages inside it.
  bool is_scatter() const { return tensor->is_scatter(); }
  /// Whether `loop` is the scan axis of a scan's stage.
  bool is_scan_loop(int loop) const { return is_scan() && loop == tensor->scan_axis; }
  /// The loop named `name`, or ScheduleError listing the current loops.
  int loop(const std::string& name) const;
  int leaf_position(int loop) const;  ///< Position in leaves, or -1.
};

class Schedule {
 public:
  /// One stage per compute tensor reachable from `outputs`; placeholders get no stage.
  explicit Schedule(std::vector<Tensor> outputs);

  const std::vector<Tensor>& outputs() const { return outputs_; }
  const std::vector<Stage>& stages() const { return stages_; }
  const Stage& stage(const std::string& name) const { return stages_[stage_index(name)]; }
  int stage_index(const std::string& name) const;
  const Trace& trace() const { return trace_; }

  /// Splits a loop into outer (extent ceil(n / factor)) and inner (extent factor). Returns their
  /// names.
  std::pair<std::string, std::string> split(const std::string& stage, const std::string& loop,
                                            int64_t factor);
  /// Fuses two adjacent leaf loops (outer immediately before inner) into one.
  std::string fuse(const std::string& stage, const std::string& outer, const std::string& inner);
  /// Puts the named leaf loops in the given order, at the positions they occupy together.
  void reorder(const std::string& stage, const std::vector<std::string>& order);
  void parallel(const std::string& stage, const std::string& loop);
  void vectorize(const std::string& stage, const std::string& loop);
  void unroll(const std::string& stage, const std::string& loop);
  /// Binds a loop to a GPU block or thread index (axis 0..2 = x..z).
  void bind(const std::string& stage, const std::string& loop, ForKind kind, int axis);
  /// Substitutes an injective, non-output stage into every stage that reads it.
  void compute_inline(const std::string& stage);
  /// Computes `stage` inside `target`'s loop `loop`, over the region of it that the loop's body
  /// reads (bound inference). A non-output stage then lives in a local buffer of that region.
  void compute_at(const std::string& stage, const std::string& target, const std::string& loop);
  /// Splits reduce axis `loop` (a root reduce axis) by `factor` and moves the inner part into a
  /// new stage "<stage>.rf" with one more spatial axis: partial results per inner index, which
  /// `stage` then reduces. Lets a reduction keep `factor` independent accumulators (vector lanes).
  /// Returns the new stage's name.
  std::string rfactor(const std::string& stage, const std::string& loop, int64_t factor);
  /// Copies the `operand`-th distinct tensor that `stage` reads (in the order its body first
  /// loads them) into a new stage "<stage>.cache<operand>" that `stage` then reads instead. The
  /// copy's dimension d is the source's dimension layout[d] (empty: the source's own order):
  /// packing, e.g. the weight of a Linear layer transposed so that its columns are contiguous.
  /// The new stage is a root that runs before `stage`. Returns its name.
  ///
  /// With `panel` > 0 the copy's last dimension (the source's layout.back(), which `layout` must
  /// then name) is cut into panels of `panel` elements, outermost: a source dimension of C
  /// becomes [ceil(C / panel), ..., panel] (zeros past C), so that a register tile `panel`
  /// columns wide reads one contiguous run per panel, not a line per reduction step.
  ///
  /// With `as` a wider float dtype than the source's (f32 for a bf16 weight), the copy converts
  /// its elements once, and `stage` reads them converted: a contraction that broadcasts each
  /// element of a 16-bit operand to many lanes no longer converts it at every read.
  ///
  /// With `group` > 0 (and panels), the copy's second-to-last dimension (the source's
  /// layout[rank - 2], a contraction's reduce axis, which it must divide) is cut into groups
  /// of `group` elements, innermost: [..., K, panel] becomes [..., K / group, panel, group], so
  /// that the `group` elements one dot-product instruction sums per lane (AVX512-VNNI's quads)
  /// are adjacent.
  std::string cache_read(const std::string& stage, int64_t operand,
                         std::vector<int64_t> layout = {}, int64_t panel = 0,
                         std::optional<DType> as = std::nullopt, int64_t group = 0);
  /// The distinct tensors `stage` reads, numbered as cache_read numbers its operands.
  std::vector<Tensor> operands(const std::string& stage) const;

  /// Applies one recorded instruction (used by Trace replay).
  void apply(const Instruction& inst);

 private:
  Stage& mut(const std::string& name) { return stages_[stage_index(name)]; }
  void set_kind(const std::string& stage, const std::string& loop, ForKind kind, int axis,
                InstKind inst);

  std::vector<Tensor> outputs_;
  std::vector<Stage> stages_;
  Trace trace_;
};

/// Replays `trace` on a fresh schedule of `outputs`; ScheduleError if an instruction does not
/// apply.
Schedule replay(const std::vector<Tensor>& outputs, const Trace& trace);

}  // namespace kiln

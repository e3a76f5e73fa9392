#include "core/schedule/schedule.h"

#include <algorithm>
#include <set>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"

namespace kiln {

namespace {

Stage make_stage(std::string name, const Tensor& t, bool is_output) {
  Stage s;
  s.name = std::move(name);
  s.tensor = t;
  s.body = t->body;
  s.is_output = is_output;
  for (int d = 0; d < t->rank(); ++d) {
    s.root_vars.push_back(t->axes[d].var);
    s.root_extents.push_back(t->axes[d].extent);
    s.loops.push_back({str_cat("i", d)});
  }
  s.num_spatial = t->rank();
  if (auto* r = s.body.as<ReduceNode>()) {
    for (size_t d = 0; d < r->axes.size(); ++d) {
      s.root_vars.push_back(r->axes[d].var);
      s.root_extents.push_back(r->axes[d].extent);
      s.loops.push_back({str_cat("r", d), true});
    }
  }
  for (size_t l = 0; l < s.loops.size(); ++l) s.leaves.push_back(static_cast<int>(l));
  return s;
}

// Replaces loads of `producer` by its body at the loaded indices.
class Inliner : public ExprMutator {
 public:
  explicit Inliner(const Stage& p) : p_(p) {}

 protected:
  Expr mutate_load(const Expr& e, const LoadNode* n) override {
    Expr r = ExprMutator::mutate_load(e, n);
    auto* load = r.as<LoadNode>();
    if (!load || load->tensor.get() != p_.tensor.get()) return r;
    VarMap vmap;
    for (int d = 0; d < p_.num_spatial; ++d) vmap[p_.root_vars[d].get()] = load->indices[d];
    return substitute(p_.body, vmap);
  }
  Expr mutate_reduce(const Expr& e, const ReduceNode* n) override {
    Expr s = mutate(n->source);
    return s.same_as(n->source) ? e : ReduceNode::make(n->op, s, n->axes);
  }

 private:
  const Stage& p_;
};

/// Rewrites loads of `from` into loads of `to`, a copy whose dimension d is `from`'s dimension
/// layout[d].
class LoadRedirect : public ExprMutator {
 public:
  LoadRedirect(const Tensor& from, const Tensor& to, std::vector<int64_t> layout, int64_t panel,
               int64_t group)
      : from_(from), to_(to), layout_(std::move(layout)), panel_(panel), group_(group) {}

 protected:
  // A copy in another dtype: a conversion of the source's load to the copy's dtype is the
  // copy's load itself; any other use of it converts the copy's element back (exactly: it came
  // from the source's dtype).
  Expr mutate_cast(const Expr& e, const CastNode* n) override {
    Expr r = ExprMutator::mutate_cast(e, n);
    auto* outer = r.as<CastNode>();
    auto* back = outer ? outer->value.as<CastNode>() : nullptr;
    auto* load = back ? back->value.as<LoadNode>() : nullptr;
    if (load && load->tensor.same_as(to_) && outer->dtype == to_->dtype) return back->value;
    return r;
  }
  Expr mutate_load(const Expr& e, const LoadNode* n) override {
    Expr r = ExprMutator::mutate_load(e, n);
    auto* load = r.as<LoadNode>();
    if (!load || !load->tensor.same_as(from_)) return r;
    if (to_->dtype != from_->dtype) return cast(from_->dtype, redirected(load));
    return redirected(load);
  }
  Expr redirected(const LoadNode* load) {
    std::vector<Expr> indices;
    for (int64_t d : layout_) indices.push_back(load->indices[d]);
    if (panel_ > 0) {
      Expr column = indices.back();
      Expr width = make_const(column.dtype(), static_cast<double>(panel_));
      indices.back() = floormod(column, width);
      indices.insert(indices.begin(), floordiv(column, width));
    }
    if (group_ > 0) {
      Expr& k = indices[indices.size() - 2];
      Expr size = make_const(k.dtype(), static_cast<double>(group_));
      indices.push_back(floormod(k, size));
      k = floordiv(k, size);
    }
    return LoadNode::make(to_, indices);
  }
  Expr mutate_reduce(const Expr& e, const ReduceNode* n) override {
    Expr s = mutate(n->source);
    return s.same_as(n->source) ? e : ReduceNode::make(n->op, s, n->axes);
  }

 private:
  Tensor from_, to_;
  std::vector<int64_t> layout_;
  int64_t panel_, group_;
};

/// The distinct tensors stage `s`'s body loads, in the order it first loads them (pre-order); a
/// scan's own earlier elements (its state) are no operand.
std::vector<Tensor> loaded_tensors(const Stage& s) {
  std::vector<Tensor> found;
  for (const LoadNode* load : loads_in(s.body))
    if (!load->tensor.same_as(s.tensor->state) &&
        std::none_of(found.begin(), found.end(),
                     [&](const Tensor& t) { return t.same_as(load->tensor); }))
      found.push_back(load->tensor);
  return found;
}

}  // namespace

int Stage::loop(const std::string& loop_name) const {
  for (size_t l = 0; l < loops.size(); ++l)
    if (loops[l].name == loop_name) return static_cast<int>(l);
  std::string names;
  for (int l : leaves) names += " " + loops[l].name;
  throw ScheduleError(str_cat("stage ", name, " (", tensor->name, ") has no loop '", loop_name,
                              "'; its loops are:", names));
}

int Stage::leaf_position(int l) const {
  auto it = std::find(leaves.begin(), leaves.end(), l);
  return it == leaves.end() ? -1 : static_cast<int>(it - leaves.begin());
}

Schedule::Schedule(std::vector<Tensor> outputs) : outputs_(std::move(outputs)) {
  std::set<const TensorNode*> out_set;
  for (auto& t : outputs_) {
    if (t->kind != TensorKind::Compute)
      throw ScheduleError(str_cat("output '", t->name, "' is a placeholder, not a computation"));
    out_set.insert(t.get());
  }
  for (auto& t : topo_order(outputs_))
    if (t->kind == TensorKind::Compute)
      stages_.push_back(make_stage(str_cat("s", stages_.size()), t, out_set.count(t.get()) > 0));
}

int Schedule::stage_index(const std::string& name) const {
  for (size_t i = 0; i < stages_.size(); ++i)
    if (stages_[i].name == name) return static_cast<int>(i);
  throw ScheduleError(str_cat("no stage named '", name, "'"));
}

static int require_leaf(const Stage& s, const std::string& loop, const char* primitive) {
  int l = s.loop(loop);
  if (s.leaf_position(l) < 0)
    throw ScheduleError(
        str_cat(primitive, ": loop '", loop, "' of stage ", s.name, " was already split or fused"));
  return l;
}

static void require_not_scan_loop(const Stage& s, int l, std::string_view primitive) {
  if (s.is_scan_loop(l))
    throw ScheduleError(str_cat(primitive, ": loop '", s.loops[l].name, "' of stage ", s.name,
                                " is the scan axis of ", s.tensor->name,
                                ", which runs in order as one serial loop"));
}

std::pair<std::string, std::string> Schedule::split(const std::string& stage,
                                                    const std::string& loop_ref, int64_t factor) {
  const std::string loop = loop_ref;  // the caller's name may live in the loop table we grow
  Stage& s = mut(stage);
  int parent = require_leaf(s, loop, "split");
  require_not_scan_loop(s, parent, "split");
  if (factor < 1)
    throw ScheduleError(
        str_cat("split: factor ", factor, " for loop '", loop, "' of stage ", stage));
  bool reduce = s.loops[parent].reduce;
  int outer = static_cast<int>(s.loops.size()), inner = outer + 1;
  s.loops.push_back({loop + ".o", reduce});
  s.loops.push_back({loop + ".i", reduce});
  s.relations.push_back({LoopRelation::Kind::Split, parent, outer, inner, factor});
  auto pos = s.leaves.begin() + s.leaf_position(parent);
  *pos = inner;
  s.leaves.insert(pos, outer);
  trace_.insts.push_back({InstKind::Split, {stage, loop}, {factor}});
  return {s.loops[outer].name, s.loops[inner].name};
}

std::string Schedule::fuse(const std::string& stage, const std::string& outer_ref,
                           const std::string& inner_ref) {
  const std::string outer_name = outer_ref, inner_name = inner_ref;  // see split
  Stage& s = mut(stage);
  int outer = require_leaf(s, outer_name, "fuse"), inner = require_leaf(s, inner_name, "fuse");
  require_not_scan_loop(s, outer, "fuse");
  require_not_scan_loop(s, inner, "fuse");
  int po = s.leaf_position(outer), pi = s.leaf_position(inner);
  if (pi != po + 1)
    throw ScheduleError(str_cat("fuse: loops '", outer_name, "' and '", inner_name, "' of stage ",
                                stage, " are not adjacent (outer then inner)"));
  if (s.loops[outer].reduce != s.loops[inner].reduce)
    throw ScheduleError(str_cat("fuse: stage ", stage, " cannot fuse spatial and reduce loops '",
                                outer_name, "' and '", inner_name, "'"));
  int fused = static_cast<int>(s.loops.size());
  s.loops.push_back({outer_name + "*" + inner_name, s.loops[outer].reduce});
  s.relations.push_back({LoopRelation::Kind::Fuse, outer, inner, fused, 0});
  s.leaves.erase(s.leaves.begin() + pi);
  s.leaves[po] = fused;
  trace_.insts.push_back({InstKind::Fuse, {stage, outer_name, inner_name}, {}});
  return s.loops[fused].name;
}

void Schedule::reorder(const std::string& stage, const std::vector<std::string>& order_ref) {
  const std::vector<std::string> order = order_ref;  // see split
  Stage& s = mut(stage);
  std::vector<int> positions, loops;
  for (auto& name : order) {
    int l = require_leaf(s, name, "reorder");
    if (std::find(loops.begin(), loops.end(), l) != loops.end())
      throw ScheduleError(str_cat("reorder: loop '", name, "' of stage ", stage, " named twice"));
    loops.push_back(l);
    positions.push_back(s.leaf_position(l));
  }
  std::sort(positions.begin(), positions.end());
  for (size_t k = 0; k < loops.size(); ++k) s.leaves[positions[k]] = loops[k];
  std::vector<std::string> names{stage};
  names.insert(names.end(), order.begin(), order.end());
  trace_.insts.push_back({InstKind::Reorder, names, {}});
}

void Schedule::set_kind(const std::string& stage, const std::string& loop, ForKind kind, int axis,
                        InstKind inst) {
  Stage& s = mut(stage);
  int l = require_leaf(s, loop, std::string(inst_kind_name(inst)).c_str());
  if (kind != ForKind::Serial && kind != ForKind::Unrolled)
    require_not_scan_loop(s, l, inst_kind_name(inst));
  if (s.loops[l].reduce && kind == ForKind::Parallel)
    throw ScheduleError(str_cat("parallel: loop '", loop, "' of stage ", stage,
                                " is a reduction loop; running it in parallel would race"));
  if (s.loops[l].reduce && (kind == ForKind::GpuBlock || kind == ForKind::GpuThread))
    throw ScheduleError(
        str_cat("bind: loop '", loop, "' of stage ", stage, " is a reduction loop"));
  if (axis < 0 || axis > 2)
    throw ScheduleError(
        str_cat("bind: thread axis ", axis, " for loop '", loop, "' (0..2 allowed)"));
  s.loops[l].kind = kind;
  s.loops[l].thread_axis = axis;
  if (inst == InstKind::Bind)
    trace_.insts.push_back({inst, {stage, loop}, {static_cast<int64_t>(kind), axis}});
  else
    trace_.insts.push_back({inst, {stage, loop}, {}});
}

void Schedule::parallel(const std::string& stage, const std::string& loop) {
  set_kind(stage, loop, ForKind::Parallel, 0, InstKind::Parallel);
}
void Schedule::vectorize(const std::string& stage, const std::string& loop) {
  set_kind(stage, loop, ForKind::Vectorized, 0, InstKind::Vectorize);
}
void Schedule::unroll(const std::string& stage, const std::string& loop) {
  set_kind(stage, loop, ForKind::Unrolled, 0, InstKind::Unroll);
}
void Schedule::bind(const std::string& stage, const std::string& loop, ForKind kind, int axis) {
  if (kind != ForKind::GpuBlock && kind != ForKind::GpuThread)
    throw ScheduleError(str_cat("bind: loop '", loop, "' of stage ", stage, " to ", kind,
                                ", which is not a GPU block or thread kind"));
  set_kind(stage, loop, kind, axis, InstKind::Bind);
}

void Schedule::compute_inline(const std::string& stage) {
  int idx = stage_index(stage);
  Stage& s = stages_[idx];
  if (s.is_output)
    throw ScheduleError(
        str_cat("compute_inline: stage ", stage, " (", s.tensor->name, ") is an output"));
  if (s.is_reduction())
    throw ScheduleError(
        str_cat("compute_inline: stage ", stage, " (", s.tensor->name, ") is a reduction"));
  if (s.is_scan())
    throw ScheduleError(str_cat("compute_inline: stage ", stage, " (", s.tensor->name,
                                ") is a scan, which reads its own storage"));
  if (s.is_scatter())
    throw ScheduleError(str_cat("compute_inline: stage ", stage, " (", s.tensor->name,
                                ") is a scatter, which writes at computed indices"));
  for (auto& other : stages_)
    if (updates_read(other.tensor, s.tensor.get()))
      throw ScheduleError(str_cat("compute_inline: stage ", stage, " (", s.tensor->name,
                                  ") is read by the updates of scatter stage ", other.name));
  if (s.attach != AttachKind::Root)
    throw ScheduleError(
        str_cat("compute_inline: stage ", stage, " is already inlined or attached"));
  for (auto& other : stages_)
    if (&other != &s && other.attach == AttachKind::At && other.attach_stage == stage)
      throw ScheduleError(str_cat("compute_inline: stage ", other.name, " is computed at ", stage));
  Inliner inliner(s);
  for (auto& other : stages_) {
    if (&other == &s) continue;
    Expr inlined = inliner.mutate(other.body);
    if (inlined.same_as(other.body)) continue;  // it does not read `s`
    // The inlined indices compose (a view of a permute of a view): bounded by the consumer's
    // axes, their floordiv and floormod chains fold back to plain indices.
    VarExtents extents;
    for (size_t d = 0; d < other.root_vars.size(); ++d)
      extents[other.root_vars[d].get()] = other.root_extents[d];
    other.body = simplify(inlined, extents);
  }
  s.attach = AttachKind::Inline;
  trace_.insts.push_back({InstKind::ComputeInline, {stage}, {}});
}

void Schedule::compute_at(const std::string& stage, const std::string& target,
                          const std::string& loop) {
  int si = stage_index(stage), ti = stage_index(target);
  Stage& s = stages_[si];
  const Stage& t = stages_[ti];
  if (si == ti)
    throw ScheduleError(str_cat("compute_at: stage ", stage, " cannot be computed inside itself"));
  for (auto& t_in : topo_order({s.tensor}))
    if (t_in.same_as(t.tensor))
      throw ScheduleError(str_cat("compute_at: stage ", stage, " reads ", target,
                                  ", so it cannot be computed inside it"));
  for (const Stage* scatter : {static_cast<const Stage*>(&s), &t})
    if (scatter->is_scatter())
      throw ScheduleError(str_cat("compute_at: stage ", scatter->name, " (", scatter->tensor->name,
                                  ") is a scatter, whose updates run after "
                                  "its loops: it is computed at its own root"));
  if (s.attach == AttachKind::Inline || t.attach == AttachKind::Inline)
    throw ScheduleError(str_cat("compute_at: stage ",
                                s.attach == AttachKind::Inline ? stage : target, " is inlined"));
  int l = require_leaf(t, loop, "compute_at");
  s.attach = AttachKind::At;
  s.attach_stage = target;
  s.attach_loop = l;
  trace_.insts.push_back({InstKind::ComputeAt, {stage, target, loop}, {}});
}

std::string Schedule::rfactor(const std::string& stage_ref, const std::string& loop_ref,
                              int64_t factor) {
  const std::string stage = stage_ref, loop = loop_ref;  // see split
  int idx = stage_index(stage);
  Stage& s = stages_[idx];
  auto* r = s.body.as<ReduceNode>();
  if (!r) throw ScheduleError(str_cat("rfactor: stage ", stage, " is not a reduction"));
  if (r->op == ReduceOp::ArgMax || r->op == ReduceOp::ArgMin)
    throw ScheduleError(
        str_cat("rfactor: stage ", stage, " is an ", r->op, ", which keeps an index"));
  if (!s.relations.empty() || s.attach != AttachKind::Root)
    throw ScheduleError(str_cat("rfactor: stage ", stage,
                                " must be rfactored before it is split, fused or attached"));
  int l = s.loop(loop);
  if (!s.loops[l].reduce || l >= static_cast<int>(s.root_vars.size()))
    throw ScheduleError(
        str_cat("rfactor: loop '", loop, "' of stage ", stage, " is not a reduce axis"));
  if (factor < 1) throw ScheduleError(str_cat("rfactor: factor ", factor, " for stage ", stage));
  int rd = l - s.num_spatial;
  const IterVar& axis = r->axes[rd];
  int64_t extent = axis.extent;

  std::vector<int64_t> rf_shape(s.root_extents.begin(), s.root_extents.begin() + s.num_spatial);
  rf_shape.push_back(factor);
  std::vector<Var> spatial(s.root_vars.begin(), s.root_vars.begin() + s.num_spatial);
  std::string rf_name = stage + ".rf";
  Tensor rf = compute(s.tensor->name + ".rf", rf_shape, [&](const std::vector<Var>& ax) {
    IterVar outer = reduce_axis((extent + factor - 1) / factor, axis.var.name() + ".o");
    VarMap vmap;
    for (int d = 0; d < s.num_spatial; ++d) vmap[spatial[d].get()] = ax[d];
    Expr k = outer.var * factor + ax.back();
    vmap[axis.var.get()] = k;
    Expr src = substitute(r->source, vmap);
    if (extent % factor != 0) src = select(k < extent, src, reduce_identity(r->op, src.dtype()));
    std::vector<IterVar> axes = r->axes;
    axes[rd] = outer;
    return reduce(r->op, src, axes);
  });
  IterVar lane = reduce_axis(factor, axis.var.name() + ".lane");
  std::vector<Expr> idx_exprs(spatial.begin(), spatial.end());
  idx_exprs.push_back(lane.var);
  Expr new_body = reduce(r->op, rf.load(idx_exprs), {lane});

  Stage rf_stage = make_stage(rf_name, rf, false);
  s.body = new_body;
  s.root_vars.resize(s.num_spatial);
  s.root_extents.resize(s.num_spatial);
  s.loops.resize(s.num_spatial);
  s.root_vars.push_back(lane.var);
  s.root_extents.push_back(factor);
  s.loops.push_back({"r0", true});
  s.leaves.clear();
  for (size_t k = 0; k < s.loops.size(); ++k) s.leaves.push_back(static_cast<int>(k));
  stages_.insert(stages_.begin() + idx, std::move(rf_stage));
  trace_.insts.push_back({InstKind::RFactor, {stage, loop}, {factor}});
  return rf_name;
}

std::vector<Tensor> Schedule::operands(const std::string& stage) const {
  return loaded_tensors(this->stage(stage));
}

std::string Schedule::cache_read(const std::string& stage_ref, int64_t operand,
                                 std::vector<int64_t> layout, int64_t panel,
                                 std::optional<DType> as, int64_t group) {
  const std::string stage = stage_ref;  // see split
  int idx = stage_index(stage);
  Stage& s = stages_[idx];
  if (s.attach == AttachKind::Inline)
    throw ScheduleError(str_cat("cache_read: stage ", stage, " was inlined"));
  std::vector<Tensor> read = loaded_tensors(s);
  if (operand < 0 || operand >= static_cast<int64_t>(read.size()))
    throw ScheduleError(str_cat("cache_read: stage ", stage, " reads ", read.size(),
                                " tensors, it has no operand ", operand));
  const Tensor source = read[operand];
  int64_t rank = source->rank();
  if (layout.empty())
    for (int64_t d = 0; d < rank; ++d) layout.push_back(d);
  std::vector<int64_t> sorted = layout;
  std::sort(sorted.begin(), sorted.end());
  bool permutation = static_cast<int64_t>(sorted.size()) == rank;
  for (int64_t d = 0; permutation && d < rank; ++d) permutation = sorted[d] == d;
  if (!permutation) {
    std::string text;
    for (int64_t d : layout) text += str_cat(text.empty() ? "" : " ", d);
    throw ScheduleError(str_cat("cache_read: layout [", text, "] of ", source->name,
                                " is not a permutation of its ", rank, " dimensions"));
  }
  if (panel < 0 || (panel > 0 && rank == 0))
    throw ScheduleError(str_cat("cache_read: panels of ", panel, " elements of ", source->name));
  if (group < 0 ||
      (group > 0 && (panel == 0 || rank < 2 || source->shape[layout[rank - 2]] % group != 0)))
    throw ScheduleError(str_cat("cache_read: groups of ", group, " elements of ", source->name,
                                " need panels and a second-to-last dimension they divide"));
  DType dtype = as.value_or(source->dtype);
  // Only widening between floats: every element converts back exactly.
  bool widens = dtype == source->dtype || (is_float(source->dtype) && is_float(dtype) &&
                                           dtype_bytes(dtype) > dtype_bytes(source->dtype));
  if (!widens)
    throw ScheduleError(str_cat("cache_read: a copy of ", source->name, " (", source->dtype,
                                ") cannot convert to ", dtype, "; only to a wider float"));
  auto converted = [&](Expr v) { return dtype == source->dtype ? v : cast(dtype, v); };
  std::vector<int64_t> shape;
  for (int64_t d : layout) shape.push_back(source->shape[d]);
  int64_t columns = rank ? shape.back() : 1;
  if (panel > 0) {
    shape.back() = panel;
    shape.insert(shape.begin(), (columns + panel - 1) / panel);
  }
  if (group > 0) {
    shape[shape.size() - 2] /= group;
    shape.push_back(group);
  }
  Tensor cache = compute(source->name + ".cache", shape, [&](const std::vector<Var>& i) {
    std::vector<Expr> at(rank);
    int first = panel > 0 ? 1 : 0;  // the copy's dimension of layout[0]
    for (int64_t d = 0; d < rank; ++d) at[layout[d]] = i[first + d];
    if (group > 0) at[layout[rank - 2]] = i[first + rank - 2] * group + i.back();
    if (panel == 0) return converted(source.load(at));
    Expr column = i[0] * panel + i[first + rank - 1];
    at[layout.back()] = column;
    if (columns % panel == 0) return converted(source.load(at));
    // The last panel's columns past the source hold zeros; its loads stay in bounds.
    at[layout.back()] = min(column, make_const(column.dtype(), static_cast<double>(columns - 1)));
    return select(column < columns, converted(source.load(at)), make_const(dtype, 0));
  });
  s.body = LoadRedirect(source, cache, layout, panel, group).mutate(s.body);
  std::string name = str_cat(stage, ".cache", operand);
  stages_.insert(stages_.begin() + idx, make_stage(name, cache, false));
  std::vector<int64_t> values{operand};
  values.insert(values.end(), layout.begin(), layout.end());
  if (panel > 0) values.push_back(panel);
  if (group > 0) values.push_back(group);
  std::vector<std::string> names{stage};
  if (dtype != source->dtype) names.emplace_back(dtype_name(dtype));
  trace_.insts.push_back({InstKind::CacheRead, names, values});
  return name;
}

}  // namespace kiln

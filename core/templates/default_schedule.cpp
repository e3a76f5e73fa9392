#include "core/templates/default_schedule.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"
#include "core/templates/op_class.h"
#include "core/templates/template_internals.h"

namespace kiln {

namespace schedule_detail {

/// A tile size for a loop of `extent`: the whole loop when it fits in `preferred`, else the
/// largest divisor of `extent` in [minimum, preferred] (no tail guard), else `preferred`.
int64_t pick_tile(int64_t extent, int64_t preferred, int64_t minimum) {
  if (extent <= preferred) return extent;
  for (int64_t d = preferred; d >= minimum; --d)
    if (extent % d == 0) return d;
  return preferred;
}

/// A Sum of a product: matmul, batched matmul, convolution.
bool is_contraction(const Stage& s) {
  auto* r = s.body.as<ReduceNode>();
  if (!r || r->op != ReduceOp::Sum || s.num_spatial < 2) return false;
  Expr src = r->source;
  while (auto* c = src.as<CastNode>()) src = c->value;
  auto* m = src.as<BinaryNode>();
  return m && m->op == BinaryOp::Mul && loads_in(m->a).size() >= 1 && loads_in(m->b).size() >= 1;
}

/// True when the innermost index of the reduction's first load is a reduce variable, i.e. the
/// reduction runs along contiguous memory, except in a small window that slides along the
/// outputs' innermost axis (a pooling's x[2 * j + r]): its vectors run across the outputs, each
/// lane its own window, not along the window's few elements.
bool reduces_innermost(const Stage& s) {
  constexpr int64_t kSmallWindow = 16;
  auto* r = s.body.as<ReduceNode>();
  for (auto* load : loads_in(r->source)) {
    if (load->indices.empty()) continue;
    const Expr& last = load->indices.back();
    int64_t window = 1;
    bool reduces = false;
    for (auto& ax : r->axes) {
      if (!uses_var(last, ax.var.get())) continue;
      reduces = true;
      window *= ax.extent;
    }
    bool arg = r->op == ReduceOp::ArgMax || r->op == ReduceOp::ArgMin;
    bool slides = s.num_spatial > 0 && uses_var(last, s.root_vars[s.num_spatial - 1].get());
    return reduces && (arg || !slides || window > kSmallWindow);
  }
  return true;
}

/// Candidate values for a tile of a loop of `extent`: those of `sizes` that fit, plus `extent`
/// itself when it is smaller than the largest (a whole loop is always a valid tile).
std::vector<int64_t> tile_values(int64_t extent, std::vector<int64_t> sizes) {
  std::vector<int64_t> values;
  for (int64_t v : sizes)
    if (v <= extent) values.push_back(v);
  if (values.empty() || (extent < sizes.back() && values.back() != extent))
    values.push_back(extent);
  return values;
}

/// Power-of-two vector tiles from half a native vector to four (at most 64 lanes).
std::vector<int64_t> vector_tiles(int vl) {
  std::vector<int64_t> tiles;
  for (int64_t t = std::max(1, vl / 2); t <= std::min(4 * vl, 64); t *= 2) tiles.push_back(t);
  return tiles;
}

int64_t preferred_vector_tile(int64_t extent, int vl, bool cheap_masks) {
  if (extent % (2 * vl) == 0) return 2 * vl;
  if (extent % vl == 0) return vl;
  if (!cheap_masks && vl > 2 && extent % (vl / 2) == 0) return vl / 2;
  int64_t cover = std::max(1, vl / 2);
  while (cover < extent && cover < 4 * vl) cover *= 2;
  return extent <= 4 * vl ? cover : 2 * vl;
}

Schedule DefaultScheduler::run() {
  ask_convolution_layouts();
  inline_injective();
  OpClass group = group_class(sch_);
  if (group == OpClass::Scan || group == OpClass::Scatter) {
    schedule_scans();
    return std::move(sch_);
  }
  std::string main = main_stage().name;
  schedule_by_class(main);
  attach_the_rest(main);
  return std::move(sch_);
}

int64_t DefaultScheduler::knob(const std::string& stage, const std::string& what,
                               std::vector<int64_t> values, int64_t preferred) {
  if (std::find(values.begin(), values.end(), preferred) == values.end()) {
    values.push_back(preferred);
    std::sort(values.begin(), values.end());
  }
  return knobs_.choose(stage + "." + what, std::move(values), preferred);
}

void DefaultScheduler::inline_injective() {
  std::vector<std::string> names;
  for (auto& s : sch_.stages())
    if (!s.is_output && !s.is_reduction() && !s.is_scan() && !s.is_scatter() &&
        !read_by_updates(s) && !worth_materializing(s) && !convolution_input(s))
      names.push_back(s.name);
  for (auto& n : names) sch_.compute_inline(n);
}

bool DefaultScheduler::read_by_updates(const Stage& s) const {
  return std::any_of(sch_.stages().begin(), sch_.stages().end(),
                     [&](const Stage& r) { return updates_read(r.tensor, s.tensor.get()); });
}

bool DefaultScheduler::worth_materializing(const Stage& s) const {
  if (computes(s.body) && invariant_in_readers(s)) return true;
  if (!has_transcendental(s.body)) return false;
  int readers = 0;
  bool reduction_reads = false;
  for (auto& r : sch_.stages()) {
    if (!reads(r.body, s.tensor.get())) continue;
    ++readers;
    reduction_reads |= r.is_reduction();
  }
  return readers >= 2 && reduction_reads;
}

bool DefaultScheduler::invariant_in_readers(const Stage& s) const {
  // Inlined, a reader computes s again per element of its own: a stage per channel read per
  // pixel (batch norm's scale) ran its square root and division per pixel, 1.6 ms of a 1x1
  // convolution's 2.7 (16 to 96 channels at 112x112, Zen 3).
  return std::any_of(sch_.stages().begin(), sch_.stages().end(), [&](const Stage& r) {
    return reads(r.body, s.tensor.get()) &&
           r.tensor->numel() >= kInvariantReuse * s.tensor->numel();
  });
}

const Stage& DefaultScheduler::main_stage() const {
  bool row_reduction = false;
  for (auto& s : sch_.stages()) row_reduction |= s.is_reduction() && !is_contraction(s);
  const Stage* best = nullptr;
  for (bool allow_derived : {false, true}) {
    for (auto& s : sch_.stages())
      if (s.is_output && (allow_derived || !row_reduction || !reads_an_output(s)) &&
          (!best || s.tensor->numel() >= best->tensor->numel()))
        best = &s;
    if (best) break;
  }
  KILN_CHECK(best, "a schedule without outputs");
  return *best;
}

bool DefaultScheduler::reads_an_output(const Stage& s) const {
  for (auto& o : sch_.stages())
    if (o.is_output && o.name != s.name && o.tensor->numel() == s.tensor->numel() &&
        reads(s.body, o.tensor.get()))
      return true;
  return false;
}

std::vector<std::string> DefaultScheduler::others(const std::string& main) const {
  std::vector<std::string> result;
  for (auto& s : sch_.stages())
    if (s.name != main && s.attach == AttachKind::Root) result.push_back(s.name);
  return result;
}

std::string DefaultScheduler::fuse_all(const std::string& stage, std::vector<std::string> loops) {
  std::string fused = loops.at(0);
  for (size_t k = 1; k < loops.size(); ++k) fused = sch_.fuse(stage, fused, loops[k]);
  return fused;
}

int DefaultScheduler::shared_leading_axes(const Stage& main) const {
  int k = main.num_spatial;
  bool any = false;
  for (auto& name : others(main.name)) {
    const Stage& p = sch_.stage(name);
    for (auto* load : loads_in(main.body)) {
      if (load->tensor.get() != p.tensor.get()) continue;
      any = true;
      int d = 0;
      while (d < k && d < static_cast<int>(load->indices.size()) &&
             load->indices[d].get() == main.root_vars[d].get())
        ++d;
      k = std::min(k, d);
    }
  }
  return any ? k : 0;
}

void DefaultScheduler::schedule_injective(const std::string& name) {
  const Stage& s = sch_.stage(name);
  int n = s.num_spatial;
  if (n == 0) return;
  if (auto c = contraction_producer(s)) return schedule_contraction(name, *c);
  // The innermost axis stays a vector loop even when every axis is shared (a copy of another
  // output): stages placed in a row are then computed for a row, not for one element.
  int rows = std::min(shared_leading_axes(s), std::max(n - 1, 1));
  std::vector<std::string> axes;
  for (int d = 0; d < n; ++d) axes.push_back(s.loops[d].name);
  if (rows == 0) {
    // Keep enough inner elements contiguous for the vectorizer, parallelize the rest.
    int split_at = n - 1;
    int64_t inner = s.root_extents[n - 1];
    while (split_at > 0 && inner < 256 && fuses_linearly(s, split_at - 1))
      inner *= s.root_extents[--split_at];
    std::string in = fuse_all(name, {axes.begin() + split_at, axes.end()});
    if (split_at > 0) {
      std::string out = fuse_all(name, {axes.begin(), axes.begin() + split_at});
      sch_.parallel(name, out);
    } else if (inner > 4096) {
      std::vector<int64_t> chunks;
      for (int64_t c : {1024, 2048, 4096, 8192, 16384})
        if (inner % c == 0) chunks.push_back(c);
      int64_t chunk = knob(name, "parallel_chunk", chunks, pick_tile(inner, 4096, 1024));
      auto [o, i] = sch_.split(name, in, chunk);
      sch_.parallel(name, o);
      in = i;
      inner = chunk;
    }
    vectorize_inner(name, in, inner, s.tensor->dtype);
    row_loop_.clear();
    return;
  }
  std::string row = fuse_all(name, {axes.begin(), axes.begin() + rows});
  sch_.parallel(name, row);
  row_loop_ = row;
  row_axes_ = rows;
  if (rows == n) return;
  // The vector loop: the innermost axes that fuse linearly; those outside it stay loops.
  int first = n - 1;
  while (first > rows && fuses_linearly(s, first - 1)) --first;
  int64_t inner = 1;
  for (int d = first; d < n; ++d) inner *= s.root_extents[d];
  vectorize_inner(name, fuse_all(name, {axes.begin() + first, axes.end()}), inner, s.tensor->dtype);
}

namespace {

/// Whether a body stays affine in the variable of two adjacent loops fused: each load reads
/// them along one line (the outer's stride is the inner's times its extent) and nothing else
/// uses them.
class FusesLinearly : public ExprVisitor {
 public:
  FusesLinearly(const VarNode* outer, const VarNode* inner, int64_t inner_extent)
      : outer_(outer), inner_(inner), inner_extent_(inner_extent) {}
  bool ok = true;

 protected:
  void visit_leaf(const Expr& e) override { ok &= e.get() != outer_ && e.get() != inner_; }
  void visit_load(const LoadNode* n) override {
    Expr flat = flat_index(n->tensor, n->indices);
    std::optional<int64_t> a = affine_coefficient(flat, outer_),
                           b = affine_coefficient(flat, inner_);
    ok &= a && b && *a == *b * inner_extent_;
  }

 private:
  const VarNode *outer_, *inner_;
  int64_t inner_extent_;
};

}  // namespace

bool DefaultScheduler::fuses_linearly(const Stage& s, int d) const {
  // A loop of one iteration fuses with anything.
  if (s.root_extents[d] == 1 || s.root_extents[d + 1] == 1) return true;
  FusesLinearly check(s.root_vars[d].get(), s.root_vars[d + 1].get(), s.root_extents[d + 1]);
  check.visit(s.body);
  return check.ok;
}

void DefaultScheduler::vectorize_inner(const std::string& name, const std::string& loop,
                                       int64_t extent, DType t) {
  int vl = lanes(compute_type(t));
  // 0: one long loop for LLVM's vectorizer; else explicit vectors of that many lanes.
  std::vector<int64_t> widths{0};
  int64_t preferred = 0;
  for (int64_t width : {int64_t{vl}, int64_t{2} * vl, int64_t{4} * vl}) {
    if (width > 64 || extent <= width || extent % width != 0) continue;
    widths.push_back(width);
    preferred = width;
  }
  int64_t width = knob(name, "vector_width", widths, preferred);
  if (width == 0) return sch_.vectorize(name, loop);
  auto [o, i] = sch_.split(name, loop, width);
  sch_.vectorize(name, i);
}

void DefaultScheduler::schedule_reduction(const std::string& name) {
  // A reduction to a scalar has no columns to vectorize across: it is one row.
  if (sch_.stage(name).num_spatial == 0 || reduces_innermost(sch_.stage(name))) {
    std::string rf = vectorize_row_reduction(name);
    const Stage& s = sch_.stage(name);  // rfactor added a stage: look it up again
    std::vector<std::string> axes;
    for (int d = 0; d < s.num_spatial; ++d) axes.push_back(s.loops[d].name);
    if (axes.empty()) {
      row_loop_.clear();
      return;
    }
    std::string row = fuse_all(name, axes);
    sch_.parallel(name, row);
    if (!rf.empty()) sch_.compute_at(rf, name, row);
    row_loop_ = row;
    row_axes_ = s.num_spatial;
    return;
  }
  // Column reduction: a vector of adjacent outputs accumulates at once.
  const Stage& s = sch_.stage(name);
  int n = s.num_spatial;
  int vl = lanes(compute_type(s.tensor->dtype));  // 16-bit floats compute in f32
  int64_t cols = s.root_extents[n - 1];
  int64_t tile =
      knob(name, "tile_j", vector_tiles(vl),
           std::min<int64_t>(preferred_vector_tile(cols, vl, target_.cheap_vector_masks()), vl));
  auto [jo, ji] = sch_.split(name, s.loops[n - 1].name, tile);
  std::vector<std::string> outer;
  for (int d = 0; d < n - 1; ++d) outer.push_back(sch_.stage(name).loops[d].name);
  outer.push_back(jo);
  const Stage& cur = sch_.stage(name);
  std::vector<std::string> order = outer;
  for (size_t d = cur.num_spatial; d < cur.root_vars.size(); ++d)
    order.push_back(cur.loops[d].name);
  order.push_back(ji);
  sch_.reorder(name, order);
  std::string par = fuse_all(name, outer);
  sch_.parallel(name, par);
  sch_.vectorize(name, ji);
  row_loop_ = par;
}

std::string DefaultScheduler::vectorize_row_reduction(const std::string& name) {
  const Stage& s = sch_.stage(name);
  auto* r = s.body.as<ReduceNode>();
  if (r->op == ReduceOp::ArgMax || r->op == ReduceOp::ArgMin || !s.relations.empty()) return "";
  int last = static_cast<int>(s.root_vars.size()) - 1;
  int64_t extent = s.root_extents[last];
  int vl = lanes(compute_type(r->source.dtype()));  // 16-bit floats compute in f32
  if (extent < 2 * vl) return "";
  // Partial accumulators: 0 (none), one native vector (with a tail where it does not divide
  // the row: a global average pool's 49 or 196 pixels), or up to four to hide the add latency.
  std::vector<int64_t> factors{0, vl};
  for (int64_t f : {int64_t{2} * vl, int64_t{4} * vl})
    if (extent % f == 0) factors.push_back(f);
  int64_t preferred = extent % (4 * vl) == 0 && !has_transcendental(r->source) ? 4 * vl : vl;
  int64_t factor = knob(name, "rfactor", factors, preferred);
  if (factor == 0) return "";
  std::string rf = sch_.rfactor(name, s.loops[last].name, factor);
  const Stage& f = sch_.stage(rf);
  std::vector<std::string> order;
  for (int d = 0; d < f.num_spatial - 1; ++d) order.push_back(f.loops[d].name);
  for (size_t d = f.num_spatial; d < f.root_vars.size(); ++d) order.push_back(f.loops[d].name);
  std::string lane = f.loops[f.num_spatial - 1].name;
  order.push_back(lane);
  sch_.reorder(rf, order);
  sch_.vectorize(rf, lane);
  return rf;
}

bool DefaultScheduler::computes(const Expr& e) {
  // Arithmetic, not only reads (a view, a broadcast) and conversions.
  struct Finder : ExprVisitor {
    bool found = false;
    void visit_unary(const UnaryNode*) override { found = true; }
    void visit_binary(const BinaryNode*) override { found = true; }
    void visit_select(const SelectNode*) override { found = true; }
  } f;
  f.visit(e);
  return f.found;
}

bool DefaultScheduler::has_transcendental(const Expr& e) {
  struct Finder : ExprVisitor {
    bool found = false;
    void visit_unary(const UnaryNode* n) override {
      found |= is_float_only(n->op);
      ExprVisitor::visit_unary(n);
    }
    void visit_binary(const BinaryNode* n) override {
      found |= n->op == BinaryOp::Pow || n->op == BinaryOp::Atan2 || n->op == BinaryOp::Hypot ||
               n->op == BinaryOp::Zeta;
      ExprVisitor::visit_binary(n);
    }
  } f;
  f.visit(e);
  return f.found;
}

void DefaultScheduler::attach_the_rest(const std::string& main) {
  auto rest = others(main);
  for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
    const std::string& name = *it;
    if (sch_.stage(name).attach != AttachKind::Root || own_roots_.count(name)) continue;
    // Computed once, beforehand, not per row of main.
    bool invariant = !sch_.stage(name).is_reduction() && invariant_in_readers(sch_.stage(name));
    if (row_loop_.empty() || invariant || !reads_in_scope(name, main)) {
      schedule_root(name);
      continue;
    }
    std::string rf;
    if (sch_.stage(name).is_reduction() && reduces_innermost(sch_.stage(name)))
      rf = vectorize_row_reduction(name);
    if (!rf.empty()) sch_.compute_at(rf, main, row_loop_);
    if (!sch_.stage(name).is_reduction()) vectorize_row(name);
    sch_.compute_at(name, main, row_loop_);
  }
}

void DefaultScheduler::vectorize_row(const std::string& name) {
  const Stage& s = sch_.stage(name);
  if (s.num_spatial <= row_axes_) return;
  std::vector<std::string> axes;
  int64_t extent = 1;
  for (int d = row_axes_; d < s.num_spatial; ++d) {
    axes.push_back(s.loops[d].name);
    extent *= s.root_extents[d];
  }
  vectorize_inner(name, fuse_all(name, axes), extent, s.tensor->dtype);
}

bool DefaultScheduler::reads_in_scope(const std::string& name, const std::string& main) const {
  // Every reader must run inside main's row loop too (main itself, or a stage already placed
  // there: readers come later in topological order, so they were decided first); a reader
  // outside it would run before the stage exists.
  const TensorNode* t = sch_.stage(name).tensor.get();
  bool read = false;
  for (auto& s : sch_.stages()) {
    if (s.attach == AttachKind::Inline || !reads(s.body, t)) continue;
    read = true;
    if (s.name != main && !(s.attach == AttachKind::At && s.attach_stage == main)) return false;
  }
  if (read) return true;
  // Outputs nobody reads (secondary results like layer_norm's mean) share main's rows when
  // their leading axes are main's.
  const Stage& m = sch_.stage(main);
  const Stage& p = sch_.stage(name);
  return p.is_output && p.num_spatial >= 1 && m.num_spatial >= 1 &&
         p.root_extents[0] == m.root_extents[0] && reads_same_inputs(p, m);
}

bool DefaultScheduler::reads_same_inputs(const Stage& a, const Stage& b) {
  for (auto* la : loads_in(a.body))
    for (auto* lb : loads_in(b.body))
      if (la->tensor.get() == lb->tensor.get()) return true;
  return false;
}

void DefaultScheduler::schedule_root(const std::string& name) {
  std::string saved = row_loop_;
  schedule_by_class(name);
  row_loop_ = saved;
}

void DefaultScheduler::schedule_by_class(const std::string& name) {
  switch (stage_class(sch_.stage(name))) {
    case OpClass::Scan: schedule_scan(name); break;
    case OpClass::Contraction: schedule_contraction(name, {}); break;
    case OpClass::Reduction: schedule_reduction(name); break;
    case OpClass::Scatter:  // the scatter lowering applies the updates after the copy
    case OpClass::Injective: schedule_injective(name); break;
  }
}

}  // namespace schedule_detail

Schedule template_schedule(const std::vector<Tensor>& outputs, const Target& target,
                           KnobChooser& knobs) {
  return schedule_detail::DefaultScheduler(outputs, target, knobs).run();
}

Schedule default_schedule(const std::vector<Tensor>& outputs, const Target& target) {
  KnobChooser defaults;
  return template_schedule(outputs, target, defaults);
}

}  // namespace kiln

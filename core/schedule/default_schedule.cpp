#include "core/schedule/default_schedule.h"

#include <algorithm>
#include <map>
#include <set>
#include <optional>

#include "core/ir/error.h"
#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/schedule/packing.h"

namespace kiln {

namespace {

/// A tile size for a loop of `extent`: the whole loop when it fits in `preferred`, else the
/// largest divisor of `extent` in [minimum, preferred] (no tail guard), else `preferred`.
int64_t pick_tile(int64_t extent, int64_t preferred, int64_t minimum) {
  if (extent <= preferred) return extent;
  for (int64_t d = preferred; d >= minimum; --d)
    if (extent % d == 0) return d;
  return preferred;
}

bool reads_tensor(const Expr& e, const TensorNode* t) {
  for (auto* l : loads_in(e))
    if (l->tensor.get() == t) return true;
  return false;
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
/// reduction runs along contiguous memory.
bool reduces_innermost(const Stage& s) {
  auto* r = s.body.as<ReduceNode>();
  for (auto* load : loads_in(r->source)) {
    if (load->indices.empty()) continue;
    const Expr& last = load->indices.back();
    for (auto& ax : r->axes)
      if (uses_var(last, ax.var.get())) return true;
    return false;
  }
  return true;
}

/// Candidate values for a tile of a loop of `extent`: those of `sizes` that fit, plus `extent`
/// itself when it is smaller than the largest (a whole loop is always a valid tile).
std::vector<int64_t> tile_values(int64_t extent, std::vector<int64_t> sizes) {
  std::vector<int64_t> values;
  for (int64_t v : sizes)
    if (v <= extent) values.push_back(v);
  if (values.empty() || (extent < sizes.back() && values.back() != extent)) values.push_back(extent);
  return values;
}

/// Power-of-two vector tiles from half a native vector to four (at most 64 lanes).
std::vector<int64_t> vector_tiles(int vl) {
  std::vector<int64_t> tiles;
  for (int64_t t = std::max(1, vl / 2); t <= std::min(4 * vl, 64); t *= 2) tiles.push_back(t);
  return tiles;
}

/// The vector tile for a loop of `extent`: two native vectors when they divide it, else one,
/// else the smallest power of two that covers a short loop (its tail masked), else two.
int64_t preferred_vector_tile(int64_t extent, int vl) {
  if (extent % (2 * vl) == 0) return 2 * vl;
  if (extent % vl == 0) return vl;
  int64_t cover = std::max(1, vl / 2);
  while (cover < extent && cover < 4 * vl) cover *= 2;
  return extent <= 4 * vl ? cover : 2 * vl;
}

class DefaultScheduler {
 public:
  DefaultScheduler(const std::vector<Tensor>& outputs, const Target& target, KnobChooser& knobs)
      : sch_(outputs), target_(target), knobs_(knobs) {}

  Schedule run() {
    ask_convolution_layouts();
    inline_injective();
    const Stage& main = main_stage();
    std::string main_name = main.name;
    if (is_contraction(main)) {
      schedule_contraction(main_name, {});
    } else if (main.is_reduction()) {
      schedule_reduction(main_name);
    } else {
      schedule_injective(main_name);
    }
    attach_the_rest(main_name);
    return std::move(sch_);
  }

 private:
  int lanes(DType t) const { return std::max(1, target_.vector_lanes(dtype_bytes(t))); }

  /// Asks for a decision of `stage`; the heuristic's `preferred` value is always a candidate.
  int64_t knob(const std::string& stage, const std::string& what, std::vector<int64_t> values,
               int64_t preferred) {
    if (std::find(values.begin(), values.end(), preferred) == values.end()) {
      values.push_back(preferred);
      std::sort(values.begin(), values.end());
    }
    return knobs_.choose(stage + "." + what, std::move(values), preferred);
  }

  /// Whether `s` is a 2-D convolution (N, O, H, W) x (C, KH, KW).
  static bool is_convolution(const Stage& s) {
    return is_contraction(s) && s.num_spatial == 4 && s.root_vars.size() == 7;
  }

  /// Asks each convolution where its vector lanes go: along the output's width (0), or across
  /// output channels (1), where every input element is a broadcast whatever the stride. The
  /// latter reads a materialized padded input (else each broadcast tests the bounds) and a
  /// weight packed with output channels innermost.
  void ask_convolution_layouts() {
    for (auto& s : sch_.stages()) {
      if (!is_convolution(s)) continue;
      int64_t stride = 1;  // of the input's width axis along the output's width
      for (auto* load : loads_in(s.body))
        if (auto c = affine_coefficient(load->indices.back(), s.root_vars[3].get()); c && *c > 1)
          stride = *c;
      // Grouped convolutions read input channels that follow the output channel: gathers.
      bool grouped = !column_packing(sch_, s.name, 1);
      // Packing the weight costs a pass over it per call, repaid over enough output pixels
      // (measured here, 3x3, batch 1: at 7x7 76 GFLOP/s along the width, 50 packed; at 14x14
      // 66 along the width, 80-93 packed).
      int64_t pixels = s.root_extents[0] * s.root_extents[2] * s.root_extents[3];
      channel_lanes_[s.name] =
          knob(s.name, "channel_lanes", grouped ? std::vector<int64_t>{0} : std::vector<int64_t>{0, 1},
               !grouped && (stride > 1 || pixels >= 128) ? 1 : 0);
    }
  }

  /// Inlines injective stages, except expensive ones that a reduction and another stage both
  /// read (softmax's exponentials): those are computed once per row instead of twice; and the
  /// inputs of convolutions with channels in lanes (their padding), computed once beforehand.
  void inline_injective() {
    std::vector<std::string> names;
    for (auto& s : sch_.stages())
      if (!s.is_output && !s.is_reduction() && !worth_materializing(s) && !convolution_input(s))
        names.push_back(s.name);
    for (auto& n : names) sch_.compute_inline(n);
  }

  /// Whether `s` is the input (not the weight: read without the output channel) of a
  /// convolution with channels in lanes.
  bool convolution_input(const Stage& s) const {
    if (s.is_reduction()) return false;
    for (auto& [name, lanes] : channel_lanes_) {
      const Stage& conv = sch_.stage(name);
      if (!lanes) continue;
      for (const LoadNode* load : loads_in(conv.body))
        if (load->tensor.get() == s.tensor.get() &&
            std::none_of(load->indices.begin(), load->indices.end(),
                         [&](const Expr& i) { return uses_var(i, conv.root_vars[1].get()); }))
          return true;
    }
    return false;
  }

  bool worth_materializing(const Stage& s) const {
    if (!has_transcendental(s.body)) return false;
    int readers = 0;
    bool reduction_reads = false;
    for (auto& r : sch_.stages()) {
      if (!reads_tensor(r.body, s.tensor.get())) continue;
      ++readers;
      reduction_reads |= r.is_reduction();
    }
    return readers >= 2 && reduction_reads;
  }

  /// The largest output (the last of equals). With a row reduction, one that reads another
  /// output of its size (a copy of layer_norm's result, say) is no candidate while another is:
  /// its rows would be single elements, and the reduction would be computed again for each.
  const Stage& main_stage() const {
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

  /// Whether `s` reads another output of its size (it is a copy or an elementwise function of it).
  bool reads_an_output(const Stage& s) const {
    for (auto& o : sch_.stages())
      if (o.is_output && o.name != s.name && o.tensor->numel() == s.tensor->numel() &&
          reads_tensor(s.body, o.tensor.get()))
        return true;
    return false;
  }

  /// Stages other than `main` still needing a place: reductions and secondary outputs.
  std::vector<std::string> others(const std::string& main) const {
    std::vector<std::string> result;
    for (auto& s : sch_.stages())
      if (s.name != main && s.attach == AttachKind::Root) result.push_back(s.name);
    return result;
  }

  /// Fuses `loops` (adjacent leaves, outermost first) into one and returns its name.
  std::string fuse_all(const std::string& stage, std::vector<std::string> loops) {
    std::string fused = loops.at(0);
    for (size_t k = 1; k < loops.size(); ++k) fused = sch_.fuse(stage, fused, loops[k]);
    return fused;
  }

  /// How many leading axes of `main` every other stage is indexed by, directly (the loads of
  /// it in main's body use main's axis variables there): those axes become the row loop.
  int shared_leading_axes(const Stage& main) const {
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

  /// Injective main: outer axes fused into a parallel row loop, the rest fused and vectorized.
  void schedule_injective(const std::string& name) {
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
      while (split_at > 0 && inner < 256) inner *= s.root_extents[--split_at];
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
    int64_t inner = 1;
    for (int d = rows; d < n; ++d) inner *= s.root_extents[d];
    vectorize_inner(name, fuse_all(name, {axes.begin() + rows, axes.end()}), inner, s.tensor->dtype);
  }

  /// Vectorizes a contiguous innermost loop: in chunks of up to four native vectors (explicit
  /// vector code, streaming stores for big outputs) when they divide it, else as one long loop
  /// for LLVM's vectorizer, which handles the remainder.
  void vectorize_inner(const std::string& name, const std::string& loop, int64_t extent, DType t) {
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

  /// The contraction stage an injective stage is the epilogue of: read at exactly its own axes.
  std::optional<std::string> contraction_producer(const Stage& s) const {
    for (auto& name : others(s.name)) {
      const Stage& p = sch_.stage(name);
      if (!is_contraction(p) || p.num_spatial != s.num_spatial) continue;
      for (auto* load : loads_in(s.body)) {
        if (load->tensor.get() != p.tensor.get()) continue;
        bool identity = true;
        for (int d = 0; d < s.num_spatial; ++d)
          identity &= load->indices[d].get() == s.root_vars[d].get();
        if (identity) return name;
      }
    }
    return std::nullopt;
  }

  /// Register tile over (rows i, vector columns j); `producer` names the contraction when
  /// `name` is its epilogue, computed tile by tile inside it.
  void schedule_contraction(const std::string& name, std::optional<std::string> producer) {
    const Stage& s = sch_.stage(name);
    int n = s.num_spatial;
    int vl = lanes(s.tensor->dtype == DType::F64 ? DType::F64 : DType::F32);
    const std::string contraction = producer ? *producer : name;
    if (is_convolution(sch_.stage(contraction))) return schedule_convolution(name, producer, vl);
    int i_axis = n - 2, j_axis = n - 1;
    std::optional<std::vector<ColumnPacking>> packing = column_packing(sch_, contraction, j_axis);
    if (!packing || packing->empty())
      return schedule_register_tiles(name, producer, i_axis, j_axis,
                                     register_tile_knobs(name, producer, i_axis, j_axis, vl));
    // Pack the operand read with strided columns (x @ W.T) into contiguous columns, a copy of
    // K x N per call that the register-tiled kernel repays over enough rows; or take dot
    // products along k, copying nothing but summing each output's lanes at its end. Measured
    // here (AVX-512): packing costs ~0.5 ns per element of W, the lane sums ~6 ns per output,
    // and dot products run at 2/3 of the register tile's rate. Both ways' knobs are asked
    // whichever is taken: the space stays a product.
    // Dot products need k to be a whole number of vectors, read contiguously.
    int64_t m = s.root_extents[i_axis], k = sch_.stage(contraction).root_extents.back();
    bool dot_fits = k % vl == 0 && reads_contiguous_along_k(sch_, contraction);
    int64_t pack = knob(name, "pack_columns", dot_fits ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{1},
                        !dot_fits || m * (k + 640) > 110 * k ? 1 : 0);
    std::optional<DotKnobs> dot;
    if (dot_fits) dot = dot_knobs(name, i_axis, j_axis);
    RegisterTileKnobs tiles = register_tile_knobs(name, producer, i_axis, j_axis, vl);
    if (!pack) return schedule_dot_contraction(name, producer, i_axis, j_axis, vl, *dot);
    // Adds stages, scheduled already: `s` is stale from here.
    for (std::string& p : pack_operands(sch_, contraction, *packing, vl)) own_roots_.insert(std::move(p));
    schedule_register_tiles(name, producer, i_axis, j_axis, tiles);
  }

  /// The register tile's knobs (see register_tile_knobs).
  struct RegisterTileKnobs {
    int64_t ti, tj;              ///< Register tile: unrolled rows, vector lanes.
    int64_t block_i, block_j;    ///< Cache block: register tiles per block along i and j.
    int64_t tile_order;          ///< Block loops beside the other spatial loops (see below).
    int64_t rows_inner;          ///< Inside a block: 1 row tiles inner, 0 row tiles outer.
    int64_t parallel_depth;      ///< Leading spatial loops fused into the parallel loop.
    int64_t tk, k_outermost;     ///< Block of the outer reduce axis (its extent: none); its
                                 ///< loop outermost, or just inside the other block loops.
    int64_t unroll_k;
  };

  /// A stage computed whole before its reader (a convolution's padded input), without knobs:
  /// its rows in parallel, each row one loop for LLVM's vectorizer.
  void schedule_rows(const std::string& name) {
    const Stage& s = sch_.stage(name);
    int n = s.num_spatial;
    std::string row = s.loops[n - 1].name;
    std::vector<std::string> outer;
    for (int d = 0; d < n - 1; ++d) outer.push_back(s.loops[d].name);
    if (!outer.empty()) sch_.parallel(name, fuse_all(name, outer));
    sch_.vectorize(name, row);
  }

  /// Convolution (N, O, H, W), register-tiled either way ask_convolution_layouts offers: rows
  /// over output channels with vectors along W, or rows along W with output channels in lanes.
  void schedule_convolution(const std::string& name, std::optional<std::string> producer, int vl) {
    const std::string conv = producer ? *producer : name;
    // Both layouts' knobs are asked whichever is taken: the space stays a product.
    RegisterTileKnobs along_width = register_tile_knobs(name, producer, 1, 3, vl, "");
    RegisterTileKnobs across_channels = register_tile_knobs(name, producer, 3, 1, vl, "channel_");
    if (!channel_lanes_.at(conv)) return schedule_register_tiles(name, producer, 1, 3, along_width);
    std::vector<std::string> inputs;  // the padded input: computed whole, beforehand
    for (auto& s : sch_.stages())
      if (s.attach == AttachKind::Root && !s.is_output && convolution_input(s)) inputs.push_back(s.name);
    for (const std::string& input : inputs) {
      schedule_rows(input);
      own_roots_.insert(input);
    }
    auto packing = column_packing(sch_, conv, 1);
    KILN_CHECK(packing, "a convolution's weight cannot be packed with output channels innermost");
    for (std::string& p : pack_operands(sch_, conv, *packing, vl)) own_roots_.insert(std::move(p));
    schedule_register_tiles(name, producer, 3, 1, across_channels);
  }

  /// Asks the register tile's knobs of `name` (a contraction, or the epilogue it is computed in).
  RegisterTileKnobs register_tile_knobs(const std::string& name,
                                        std::optional<std::string> producer, int i_axis,
                                        int j_axis, int vl, const std::string& prefix = "") {
    const Stage& s = sch_.stage(name);
    auto ask = [&](const std::string& what, std::vector<int64_t> values, int64_t preferred) {
      return knob(name, prefix + what, std::move(values), preferred);
    };
    int64_t m = s.root_extents[i_axis], n_j = s.root_extents[j_axis];
    RegisterTileKnobs k{};
    k.unroll_k = 1;
    // Register tile: rows unrolled, columns a power-of-two number of lanes (a tail past the end
    // is masked); the knobs span what fits the vector registers.
    k.tj = ask("tile_j", vector_tiles(vl), preferred_vector_tile(n_j, vl));
    // The candidates may not depend on other knobs' choices (the space is a product): both
    // heuristic row tiles are always among them, the preference follows the column tile.
    std::vector<int64_t> rows = tile_values(m, {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16});
    for (int64_t r : {pick_tile(m, 8, 4), pick_tile(m, 4, 4)})
      if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
    std::sort(rows.begin(), rows.end());
    k.ti = ask("tile_i", rows, pick_tile(m, k.tj > 2 * vl ? 4 : 8, 4));
    // Cache blocks of register tiles (1: none), a second level of tiling along i and j.
    k.block_i = ask("block_i", {1, 2, 4, 8, 16, 32}, 1);
    k.block_j = ask("block_j", {1, 2, 4, 8, 16, 32}, 1);
    // Where the block loops go beside the other spatial loops (batch, a convolution's rows):
    // 0: inside them, column blocks outer (a panel of B stays in cache); 1: inside them, row
    // blocks outer; 2: column blocks outside them, row blocks inside (a convolution's weight
    // panel stays in cache across its rows).
    std::vector<int64_t> orders{0, 1};
    if (s.num_spatial > 2) orders.push_back(2);
    k.tile_order = ask("tile_order", orders, 0);
    k.rows_inner = ask("rows_inner", {0, 1}, 0);
    k.parallel_depth = ask("parallel_depth", {1, 2, 3, 4}, 4);
    // Cache blocking along the outer reduce axis (matmul's k, a convolution's input channels);
    // unrolling of the inner one, by the factors that divide it.
    const Stage& c = sch_.stage(producer ? *producer : name);
    int64_t k_outer = c.root_extents[c.num_spatial], k_inner = c.root_extents.back();
    k.tk = k_outer;  // no k blocks
    // A contraction computed inside its epilogue's tile keeps its reduce loops whole.
    if (producer) return k;
    std::vector<int64_t> k_blocks;
    for (int64_t b : {32, 64, 128, 256, 512, 1024})
      if (b < k_outer) k_blocks.push_back(b);
    k_blocks.push_back(k_outer);
    k.tk = ask("tile_k", k_blocks, k_outer);
    if (k_blocks.size() > 1) k.k_outermost = ask("k_outermost", {0, 1}, 0);
    std::vector<int64_t> unrolls;
    for (int64_t u : {1, 2, 4, 8})
      if (k_inner % u == 0) unrolls.push_back(u);
    k.unroll_k = ask("unroll_k", unrolls, 1);
    return k;
  }

  /// Register tile over (rows i, vector columns j) of a contraction whose columns are
  /// contiguous, in cache blocks of tiles:
  ///   [block loops and other spatial loops, per tile_order; the k block's loop among them]
  ///     [tile loops within the block, per rows_inner]
  ///       [reduce loops] [tile rows, unrolled] [tile columns, vectorized]
  void schedule_register_tiles(const std::string& name, std::optional<std::string> producer,
                               int i_axis, int j_axis, const RegisterTileKnobs& k) {
    const Stage& s = sch_.stage(name);
    int n = s.num_spatial;
    const Stage& c = sch_.stage(producer ? *producer : name);

    auto [io, ii] = sch_.split(name, s.loops[i_axis].name, k.ti);
    auto [jo, ji] = sch_.split(name, sch_.stage(name).loops[j_axis].name, k.tj);
    auto [ib, it] = split_unless_one(name, io, k.block_i);
    auto [jb, jt] = split_unless_one(name, jo, k.block_j);
    std::vector<std::string> outer;
    for (int d = 0; d < n; ++d)
      if (d != i_axis && d != j_axis) outer.push_back(sch_.stage(name).loops[d].name);
    std::vector<std::string> blocks;  // the spatial loops outside the tiles, outermost first
    if (k.tile_order == 2) blocks.push_back(jb);
    blocks.insert(blocks.end(), outer.begin(), outer.end());
    if (k.tile_order == 0) blocks.push_back(jb);
    blocks.push_back(ib);
    if (k.tile_order == 1) blocks.push_back(jb);
    std::vector<std::string> tiles = k.rows_inner ? std::vector{jt, it} : std::vector{it, jt};
    std::erase(tiles, std::string());
    std::vector<std::string> spatial = blocks;  // outside the reduction, outermost first
    spatial.insert(spatial.end(), tiles.begin(), tiles.end());
    std::vector<std::string> reduce;
    for (size_t d = s.num_spatial; d < sch_.stage(name).root_vars.size(); ++d)
      reduce.push_back(sch_.stage(name).loops[d].name);
    // The loops that may run in parallel: the spatial loops not separated by a k block loop.
    size_t run_begin = 0, run_end = spatial.size();
    std::vector<std::string> order = spatial;
    std::optional<size_t> k_block_at;
    if (k.tk < c.root_extents[c.num_spatial]) {
      // Cache blocking: a block of the outer reduce axis of the panels inside its loop is
      // reused there.
      auto [ko, ki] = sch_.split(name, reduce.front(), k.tk);
      reduce.front() = ki;
      k_block_at = k.k_outermost ? 0 : blocks.size() - 1;
      order.insert(order.begin() + *k_block_at, ko);
      if (*k_block_at == 0) run_begin = 1, run_end = order.size();
      else run_end = *k_block_at;
    }
    std::string k_unrolled;
    if (k.unroll_k > 1) {
      auto [kb, ku] = sch_.split(name, reduce.back(), k.unroll_k);
      reduce.back() = kb;
      reduce.push_back(ku);
      k_unrolled = ku;
    }
    order.insert(order.end(), reduce.begin(), reduce.end());
    order.push_back(ii);
    order.push_back(ji);
    sch_.reorder(name, order);
    // The first parallel_depth loops of that run are fused into the parallel loop.
    size_t depth = std::min<size_t>(k.parallel_depth, run_end - run_begin);
    std::string par = fuse_all(name, {order.begin() + run_begin, order.begin() + run_begin + depth});
    sch_.parallel(name, par);
    auto loop_at = [&](size_t pos) { return pos >= run_begin && pos < run_begin + depth ? par : order[pos]; };
    // Where the contraction's tile is computed for its epilogue: the innermost spatial loop.
    std::string tile_loop = loop_at(order.size() - reduce.size() - 3);
    // Where main's row stages are computed: the innermost spatial loop outside any k block
    // loop (inside it they would be computed again per k block); none when k blocks are
    // outermost.
    row_loop_ = !k_block_at ? tile_loop : *k_block_at == 0 ? "" : loop_at(*k_block_at - 1);
    sch_.unroll(name, ii);
    if (!k_unrolled.empty()) sch_.unroll(name, k_unrolled);
    sch_.vectorize(name, ji);
    if (!producer) return;
    // The contraction accumulates the tile the epilogue is at.
    // Reduce loops outermost, the tile's rows then its vector columns innermost.
    std::vector<std::string> corder;
    for (size_t d = c.num_spatial; d < c.root_vars.size(); ++d) corder.push_back(c.loops[d].name);
    for (int d = 0; d < c.num_spatial; ++d)
      if (d != i_axis && d != j_axis) corder.push_back(c.loops[d].name);
    corder.push_back(c.loops[i_axis].name);
    corder.push_back(c.loops[j_axis].name);
    sch_.reorder(*producer, corder);
    sch_.unroll(*producer, c.loops[i_axis].name);
    sch_.vectorize(*producer, c.loops[j_axis].name);
    sch_.compute_at(*producer, name, tile_loop);
  }

  /// Splits `loop` of `stage` by `factor` into (outer, inner); with factor 1, (loop, ""): the
  /// loop stays whole and there is no inner part.
  std::pair<std::string, std::string> split_unless_one(const std::string& stage,
                                                       const std::string& loop, int64_t factor) {
    if (factor == 1) return {loop, ""};
    return sch_.split(stage, loop, factor);
  }

  /// The dot-product tile's knobs (see dot_knobs).
  struct DotKnobs {
    int64_t ti, tj;
  };

  DotKnobs dot_knobs(const std::string& name, int i_axis, int j_axis) {
    const Stage& s = sch_.stage(name);
    int64_t ti = knob(name, "dot_tile_i", tile_values(s.root_extents[i_axis], {1, 2, 4, 8}),
                      pick_tile(s.root_extents[i_axis], 4, 1));
    int64_t tj = knob(name, "dot_tile_j", tile_values(s.root_extents[j_axis], {1, 2, 4, 8}),
                      pick_tile(s.root_extents[j_axis], 4, 1));
    return {ti, tj};
  }

  /// Dot products along k: the reduce axis is split into vector lanes (rfactor) and a tile of
  /// rows x columns keeps one vector accumulator per output; the lanes are summed at the end.
  void schedule_dot_contraction(const std::string& name, std::optional<std::string> producer,
                                int i_axis, int j_axis, int vl, DotKnobs knobs) {
    std::string c = producer ? *producer : name;
    std::string rf = sch_.rfactor(c, sch_.stage(c).loops.back().name, vl);
    const Stage& s = sch_.stage(name);
    auto [ti, tj] = knobs;
    auto [io, ii] = sch_.split(name, s.loops[i_axis].name, ti);
    auto [jo, ji] = sch_.split(name, sch_.stage(name).loops[j_axis].name, tj);
    std::vector<std::string> outer;
    for (int d = 0; d < s.num_spatial; ++d)
      if (d != i_axis && d != j_axis) outer.push_back(sch_.stage(name).loops[d].name);
    outer.push_back(jo);
    outer.push_back(io);
    std::vector<std::string> order = outer;
    order.push_back(ii);
    order.push_back(ji);
    sch_.reorder(name, order);
    std::string par = fuse_all(name, outer);
    sch_.parallel(name, par);
    row_loop_ = par;
    // The partial sums: reduce loops outside, the tile's rows and columns unrolled, lanes vectorized.
    const Stage& f = sch_.stage(rf);
    std::vector<std::string> rf_order;
    for (size_t d = f.num_spatial; d < f.root_vars.size(); ++d) rf_order.push_back(f.loops[d].name);
    for (int d = 0; d < f.num_spatial; ++d) rf_order.push_back(f.loops[d].name);
    sch_.reorder(rf, rf_order);
    sch_.unroll(rf, f.loops[i_axis].name);
    sch_.unroll(rf, f.loops[j_axis].name);
    sch_.vectorize(rf, f.loops[f.num_spatial - 1].name);
    sch_.compute_at(rf, name, par);
    // The sum over the lanes: a horizontal vector reduction per output (LLVM loop vectorizer).
    sch_.vectorize(c, sch_.stage(c).loops.back().name);
    if (producer) sch_.compute_at(*producer, name, par);
  }

  /// Reduction main (or a reduction computed per row inside main).
  void schedule_reduction(const std::string& name) {
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
    int vl = lanes(s.tensor->dtype);
    int64_t cols = s.root_extents[n - 1];
    int64_t tile = knob(name, "tile_j", vector_tiles(vl), std::min<int64_t>(preferred_vector_tile(cols, vl), vl));
    auto [jo, ji] = sch_.split(name, s.loops[n - 1].name, tile);
    std::vector<std::string> outer;
    for (int d = 0; d < n - 1; ++d) outer.push_back(sch_.stage(name).loops[d].name);
    outer.push_back(jo);
    const Stage& cur = sch_.stage(name);
    std::vector<std::string> order = outer;
    for (size_t d = cur.num_spatial; d < cur.root_vars.size(); ++d) order.push_back(cur.loops[d].name);
    order.push_back(ji);
    sch_.reorder(name, order);
    std::string par = fuse_all(name, outer);
    sch_.parallel(name, par);
    sch_.vectorize(name, ji);
    row_loop_ = par;
  }

  /// Splits a long innermost reduction into vector-wide partial sums (a ".rf" stage with its
  /// lane loop vectorized). Returns the new stage's name, or "" when the row is too short.
  std::string vectorize_row_reduction(const std::string& name) {
    const Stage& s = sch_.stage(name);
    auto* r = s.body.as<ReduceNode>();
    if (r->op == ReduceOp::ArgMax || r->op == ReduceOp::ArgMin || !s.relations.empty()) return "";
    int last = static_cast<int>(s.root_vars.size()) - 1;
    int64_t extent = s.root_extents[last];
    int vl = lanes(r->source.dtype());
    if (extent < 4 * vl) return "";
    // Partial accumulators: 0 (none), one native vector, or up to four to hide the add latency.
    std::vector<int64_t> factors{0};
    for (int64_t f : {int64_t{vl}, int64_t{2} * vl, int64_t{4} * vl})
      if (extent % f == 0) factors.push_back(f);
    int64_t preferred = extent % (4 * vl) == 0 && !has_transcendental(r->source) ? 4 * vl
                        : extent % vl == 0                                      ? vl
                                                                                : 0;
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

  static bool has_transcendental(const Expr& e) {
    struct Finder : ExprVisitor {
      bool found = false;
      void visit_unary(const UnaryNode* n) override {
        found |= n->op >= UnaryOp::Exp && n->op <= UnaryOp::Erf;
        ExprVisitor::visit_unary(n);
      }
      void visit_binary(const BinaryNode* n) override {
        found |= n->op == BinaryOp::Pow;
        ExprVisitor::visit_binary(n);
      }
    } f;
    f.visit(e);
    return f.found;
  }

  /// Places every remaining root stage inside main's row loop (when main has one), each
  /// reduction vectorized along its row; otherwise leaves it a root with its own schedule.
  void attach_the_rest(const std::string& main) {
    auto rest = others(main);
    for (auto it = rest.rbegin(); it != rest.rend(); ++it) {
      const std::string& name = *it;
      if (sch_.stage(name).attach != AttachKind::Root || own_roots_.count(name)) continue;
      if (row_loop_.empty() || !reads_in_scope(name, main)) {
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

  /// An injective stage computed per row of main: vectorized along the rest of its axes.
  void vectorize_row(const std::string& name) {
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

  /// True when `name` is read by main or by a stage that will be computed inside main.
  bool reads_in_scope(const std::string& name, const std::string& main) const {
    // Every reader must run inside main's row loop too (main itself, or a stage already placed
    // there: readers come later in topological order, so they were decided first); a reader
    // outside it would run before the stage exists.
    const TensorNode* t = sch_.stage(name).tensor.get();
    bool read = false;
    for (auto& s : sch_.stages()) {
      if (s.attach == AttachKind::Inline || !reads_tensor(s.body, t)) continue;
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

  static bool reads_same_inputs(const Stage& a, const Stage& b) {
    for (auto* la : loads_in(a.body))
      for (auto* lb : loads_in(b.body))
        if (la->tensor.get() == lb->tensor.get()) return true;
    return false;
  }

  /// A stage that stays a root of its own: scheduled by its class, without attachments.
  void schedule_root(const std::string& name) {
    std::string saved = row_loop_;
    const Stage& s = sch_.stage(name);
    if (is_contraction(s))
      schedule_contraction(name, {});
    else if (s.is_reduction())
      schedule_reduction(name);
    else
      schedule_injective(name);
    row_loop_ = saved;
  }

  Schedule sch_;
  const Target& target_;
  KnobChooser& knobs_;
  std::string row_loop_;  ///< Main's loop that per-row stages are computed at.
  std::set<std::string> own_roots_;  ///< Roots scheduled already (packed operands, conv inputs).
  std::map<std::string, int64_t> channel_lanes_;  ///< Per convolution (ask_convolution_layouts).
  int row_axes_ = 0;      ///< How many of main's leading axes that loop covers.
};

}  // namespace

Schedule template_schedule(const std::vector<Tensor>& outputs, const Target& target,
                           KnobChooser& knobs) {
  return DefaultScheduler(outputs, target, knobs).run();
}

Schedule default_schedule(const std::vector<Tensor>& outputs, const Target& target) {
  KnobChooser defaults;
  return template_schedule(outputs, target, defaults);
}

}  // namespace kiln

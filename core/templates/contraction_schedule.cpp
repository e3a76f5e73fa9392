// The default template's contractions: matmuls and convolutions as register tiles in cache
// blocks, operands packed where their columns are strided, dot products where packing does not
// pay, and the convolution's choice of vector lanes (see template_internals.h).
#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"
#include "core/templates/packing.h"
#include "core/templates/template_internals.h"

namespace kiln::schedule_detail {

bool DefaultScheduler::is_convolution(const Stage& s) {
  return is_contraction(s) && s.num_spatial == 4 && s.root_vars.size() == 7;
}

void DefaultScheduler::ask_convolution_layouts() {
  for (auto& s : sch_.stages()) {
    if (!is_convolution(s)) continue;
    const LoadNode* input = convolution_input_load(s);
    int64_t stride = 1;  // of the input's width axis along the output's width
    if (auto c = affine_coefficient(input->indices.back(), s.root_vars[3].get()); c && *c > 1)
      stride = *c;
    // Input channels that follow the output channel (a grouped convolution): packing the
    // weight alone does not put output channels in lanes.
    bool grouped = uses_var(input->indices[1], s.root_vars[1].get());
    bool packable = column_packing(sch_, s.name, 1).has_value();
    if (grouped) {
      // Output channels per group: how many rows over channels read the same input.
      int64_t per_group = s.root_extents[1] * s.root_extents[4] / input->tensor->shape[1];
      int64_t width = s.root_extents[3];
      std::vector<int64_t> layouts{0, 2};
      if (packable) layouts.insert(layouts.begin() + 1, 1);
      // Channels in lanes for short rows only where masks are not cheap: packing the input
      // channels innermost and storing channels as scattered elements cost more than idle
      // lanes (Zen 5, one thread, default against the other layout: depthwise 3x3 at 14x14
      // over 480 channels 28 -> 79 GFLOP/s along the height, 5x5 at 7x7 over 1152 26 -> 53).
      bool lanes_pay = packable && s.root_extents[3] < 32 && !target_.cheap_vector_masks();
      // Rows over channels share each input vector across a group's output channels; along
      // the height, long rows of stride 1 share each weight and read the input once per row
      // instead (Zen 5, one thread, 3x3, 8 channels per group: 56x56 0.40 -> 0.21 ms, 28x28
      // 0.15 -> 0.11; at 14x14 and 7x7, and at stride 2, over channels held or won).
      bool long_rows = stride == 1 && s.root_extents[3] >= 28 && target_.cheap_vector_masks();
      int64_t preferred = per_group >= 4 && !long_rows ? 0 : lanes_pay ? 1 : 2;
      auto layout =
          static_cast<ConvolutionLayout>(knob(s.name, "grouped_layout", layouts, preferred));
      // Depthwise, the padded input copied whole beforehand is a pass through memory as long
      // as the convolution's own; per tile of rows it is L1-sized, each row copied once at
      // stride 2 and (rows + 2) / rows times at stride 1 (Zen 5, one thread, default layouts:
      // 3x3 stride 2 at 112x112 over 96 channels 0.193 -> 0.159 ms, stride 1 at 56x56 0.120
      // -> 0.105, at 112x112 0.073 -> 0.084; with 8 channels per group, each tile of output
      // channels copied its group's rows again: 0.20 -> 0.27 ms at 56x56).
      bool pad_in_tiles =
          knob(s.name, "pad_in_tiles", {0, 1}, per_group == 1 && (stride > 1 || width <= 56));
      convolution_plans_[s.name] = {layout, true, stride, pad_in_tiles};
      continue;
    }
    // Packing the weight costs a pass over it per call, repaid over enough output pixels, or
    // at once where the width leaves partial vectors: along it most lanes idle (7 of 16 at
    // 7x7), and where masks are not cheap each input read pays a masked load. With panels,
    // at 7x7 on one thread: Zen 5 (AVX-512) 1x1 convolutions 1152->192 and 320->1280 ran 87
    // and 93 GFLOP/s along the width, 192 and 176 packed, a 3x3 one of 512 channels 185
    // packed; Zen 3 (AVX2) that 3x3 one 8.5 along the width, 25 packed.
    // With channels in lanes each output vector is stored as scattered elements (the output
    // is NCHW), which a short reduction does not repay: over whole vectors along the width,
    // 1x1 convolutions of 16, 24 and 32 channels ran 42, 38 and 36 GFLOP/s along it, 22, 25
    // and 26 with channels in lanes (Zen 3, 112x112 and 56x56); of 64 channels, channels in
    // lanes won. Strided, along the width lost even so (3x3 of 3 channels: 9 against 24).
    int64_t pixels = s.root_extents[0] * s.root_extents[2] * s.root_extents[3];
    int64_t width = s.root_extents[3];
    int64_t reduction = s.root_extents[4] * s.root_extents[5] * s.root_extents[6];
    bool whole_vectors = width % lanes(s.tensor->dtype) == 0;
    bool partial_vectors = pixels < 128 && !whole_vectors;
    bool short_reduction = stride == 1 && whole_vectors && reduction < 64;
    bool in_lanes = knob(
        s.name, "channel_lanes", packable ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{0},
        packable && !short_reduction && (stride > 1 || pixels >= 128 || partial_vectors) ? 1 : 0);
    convolution_plans_[s.name] = {
        in_lanes ? ConvolutionLayout::ChannelsInLanes : ConvolutionLayout::RowsOverChannels, false,
        stride};
  }
}

const LoadNode* DefaultScheduler::convolution_input_load(const Stage& conv) {
  for (const LoadNode* load : loads_in(conv.body))
    if (std::any_of(load->indices.begin(), load->indices.end(),
                    [&](const Expr& i) { return uses_var(i, conv.root_vars[2].get()); }))
      return load;
  throw InternalError(str_cat("convolution ", conv.name, " reads no input along its height"));
}

bool DefaultScheduler::convolution_input(const Stage& s) const {
  if (s.is_reduction()) return false;
  for (auto& [name, plan] : convolution_plans_)
    if (plan.layout != ConvolutionLayout::RowsOverChannels &&
        convolution_input_load(sch_.stage(name))->tensor.get() == s.tensor.get())
      return true;
  return false;
}

std::optional<std::string> DefaultScheduler::contraction_producer(const Stage& s) const {
  // Read at s's own point: each index is s's axis variable, or 0 along an axis of extent 1 (a
  // broadcast read of a batch of one).
  auto own_point = [&](const LoadNode* load) {
    for (int d = 0; d < s.num_spatial; ++d) {
      const Expr& i = load->indices[d];
      auto* constant = i.as<IntImmNode>();
      if (i.get() != s.root_vars[d].get() &&
          !(constant && constant->value == 0 && s.root_extents[d] == 1))
        return false;
    }
    return true;
  };
  for (auto& name : others(s.name)) {
    const Stage& p = sch_.stage(name);
    if (!is_contraction(p) || p.num_spatial != s.num_spatial) continue;
    for (auto* load : loads_in(s.body))
      if (load->tensor.get() == p.tensor.get() && own_point(load)) return name;
  }
  return std::nullopt;
}

void DefaultScheduler::schedule_contraction(const std::string& name,
                                            std::optional<std::string> producer) {
  const Stage& s = sch_.stage(name);
  int n = s.num_spatial;
  int vl = lanes(s.tensor->dtype == DType::F64 ? DType::F64 : DType::F32);
  const std::string contraction = producer ? *producer : name;
  if (is_convolution(sch_.stage(contraction))) return schedule_convolution(name, producer, vl);
  int i_axis = n - 2, j_axis = n - 1;
  std::optional<std::vector<ColumnPacking>> packing = column_packing(sch_, contraction, j_axis);
  if (!packing || packing->empty()) {
    RegisterTileKnobs tiles = register_tile_knobs(name, producer, i_axis, j_axis, vl);
    // Contiguous columns in wide rows: copied into panels of the tile's width when B outgrows
    // the core's L2 (a tile's steps through it then miss per reduction step) and enough rows of
    // A repay the copy. Measured on one thread: matmul 1024^3 173 -> 253 GFLOP/s on Zen 5
    // (AVX-512, 1 MiB L2), 512^3 33 -> 46 on Zen 3 (AVX2, 512 KiB); 512^3 on Zen 5, B inside
    // L2, lost 3% packed.
    std::vector<ColumnPacking> panels;
    if (packing) panels = panel_packing(sch_, contraction, j_axis, kPanelRowStride);
    if (!panels.empty()) {
      DType b = sch_.operands(contraction)[panels[0].operand]->dtype;
      int64_t b_bytes =
          sch_.stage(contraction).root_extents.back() * s.root_extents[j_axis] * dtype_bytes(b);
      // int8 quads read four rows of B per step: panels keep each quad adjacent (Zen 5, one
      // thread, _int_mm 1024^3 with the copy in every call: 192 GOP/s unpacked, 350 packed).
      bool quads = tiles.dot_pairs && tiles.dot_group == 4;
      bool repays =
          s.root_extents[i_axis] >= kPanelMinRows && (b_bytes > target_.l2_bytes || quads);
      if (knob(name, "pack_panels", {0, 1}, repays ? 1 : 0))
        for (std::string& p :
             pack_operands(sch_, contraction, panels, vl, tiles.tj, widened(tiles), quads ? 4 : 0))
          own_roots_.insert(std::move(p));
    }
    // Adds stages: `s` is stale from here.
    if (!tiles.dot_pairs) widen_broadcast_operands(contraction, j_axis);
    return schedule_register_tiles(name, producer, i_axis, j_axis, tiles);
  }
  // Pack the operand read with strided columns (x @ W.T) into contiguous columns, a copy of
  // K x N per call that the register-tiled kernel repays over enough rows; or take dot
  // products along k, copying nothing but summing each output's lanes at its end. Measured
  // here (AVX-512): packing costs ~0.5 ns per element of W, the lane sums ~6 ns per output,
  // and dot products run at 2/3 of the register tile's rate. Both ways' knobs are asked
  // whichever is taken: the space stays a product.
  // Dot products need k to be a whole number of vectors, read contiguously.
  int64_t m = s.root_extents[i_axis], k = sch_.stage(contraction).root_extents.back();
  bool dot_fits = k % vl == 0 && reads_contiguous_along_k(sch_, contraction);
  int64_t pack =
      knob(name, "pack_columns", dot_fits ? std::vector<int64_t>{0, 1} : std::vector<int64_t>{1},
           !dot_fits || m * (k + 640) > 110 * k ? 1 : 0);
  std::optional<DotKnobs> dot;
  if (dot_fits) dot = dot_knobs(name, i_axis, j_axis);
  RegisterTileKnobs tiles = register_tile_knobs(name, producer, i_axis, j_axis, vl);
  if (!pack) return schedule_dot_contraction(name, producer, i_axis, j_axis, vl, *dot);
  // Adds stages, scheduled already: `s` is stale from here.
  if (!tiles.dot_pairs) widen_broadcast_operands(contraction, j_axis);
  for (std::string& p : pack_operands(sch_, contraction, *packing, vl, tiles.tj, widened(tiles)))
    own_roots_.insert(std::move(p));
  schedule_register_tiles(name, producer, i_axis, j_axis, tiles);
}

void DefaultScheduler::schedule_rows(const std::string& name) {
  const Stage& s = sch_.stage(name);
  int n = s.num_spatial;
  std::string row = s.loops[n - 1].name;
  std::vector<std::string> outer;
  for (int d = 0; d < n - 1; ++d) outer.push_back(s.loops[d].name);
  if (!outer.empty()) sch_.parallel(name, fuse_all(name, outer));
  sch_.vectorize(name, row);
}

void DefaultScheduler::schedule_convolution(const std::string& name,
                                            std::optional<std::string> producer, int vl) {
  const std::string conv = producer ? *producer : name;
  const ConvolutionPlan plan = convolution_plans_.at(conv);
  ConvolutionLayout layout = plan.layout;
  // Every layout's knobs open to the convolution are asked whichever is taken: the space stays
  // a product.
  RegisterTileKnobs along_width = register_tile_knobs(name, producer, 1, 3, vl, "");
  // With channels in lanes, a weight larger than the input it meets (deep channels at few
  // pixels) stays put: its panel loop outermost, so each thread packs and reads only its
  // share instead of every row tile streaming the whole weight past every thread.
  const Stage& c = sch_.stage(conv);
  int64_t weight_per_input_channel = c.root_extents[1] * c.root_extents[5] * c.root_extents[6];
  int64_t pixels = c.root_extents[0] * c.root_extents[2] * c.root_extents[3];
  RegisterTileKnobs across_channels = register_tile_knobs(
      name, producer, 3, 1, vl, "channel_", weight_per_input_channel > pixels ? 2 : 0);
  std::optional<RegisterTileKnobs> along_height;
  if (plan.grouped) along_height = register_tile_knobs(name, producer, 2, 3, vl, "height_");
  // Along the width each weight is broadcast; with channels in lanes each input pixel is, read
  // from the padded input, widened after it.
  const RegisterTileKnobs& taken = layout == ConvolutionLayout::RowsOverChannels  ? along_width
                                   : layout == ConvolutionLayout::ChannelsInLanes ? across_channels
                                                                                  : *along_height;
  if (layout != ConvolutionLayout::ChannelsInLanes && !taken.dot_pairs)
    widen_broadcast_operands(conv, 3);
  if (layout == ConvolutionLayout::RowsOverChannels)
    return schedule_register_tiles(name, producer, 1, 3, along_width);
  std::vector<std::string> inputs;  // the padded input
  for (auto& s : sch_.stages())
    if (s.attach == AttachKind::Root && !s.is_output && convolution_input(s))
      inputs.push_back(s.name);
  bool pad_in_tiles = layout == ConvolutionLayout::RowsAlongHeight && plan.pad_in_tiles;
  for (const std::string& input : inputs) {  // whole beforehand, or per tile (pad_in_tiles)
    if (pad_in_tiles) {
      const Stage& in = sch_.stage(input);
      sch_.vectorize(input, in.loops[in.num_spatial - 1].name);
    } else {
      schedule_rows(input);
    }
    own_roots_.insert(input);
  }
  if (layout == ConvolutionLayout::RowsAlongHeight) {
    schedule_register_tiles(name, producer, 2, 3, *along_height);
    if (!pad_in_tiles) return;
    const Stage& tiled = sch_.stage(name);
    for (int leaf : tiled.leaves)
      if (tiled.loops[leaf].kind == ForKind::Parallel)
        for (const std::string& input : inputs)
          sch_.compute_at(input, name, tiled.loops[leaf].name);
    return;
  }
  if (!taken.dot_pairs) widen_broadcast_operands(conv, 1);
  auto packing = column_packing(sch_, conv, 1);
  KILN_CHECK(packing, "a convolution's weight cannot be packed with output channels innermost");
  for (std::string& p :
       pack_operands(sch_, conv, *packing, vl, across_channels.tj, widened(across_channels)))
    own_roots_.insert(std::move(p));
  schedule_register_tiles(name, producer, 3, 1, across_channels);
}

DefaultScheduler::RegisterTileKnobs DefaultScheduler::register_tile_knobs(
    const std::string& name, std::optional<std::string> producer, int i_axis, int j_axis, int vl,
    const std::string& prefix, int64_t preferred_order) {
  const Stage& s = sch_.stage(name);
  auto ask = [&](const std::string& what, std::vector<int64_t> values, int64_t preferred) {
    return knob(name, prefix + what, std::move(values), preferred);
  };
  int64_t m = s.root_extents[i_axis], n_j = s.root_extents[j_axis];
  RegisterTileKnobs k{};
  k.unroll_k = 1;
  // Register tile: rows unrolled, columns a power-of-two number of lanes (a tail past the end
  // is masked); the knobs span what fits the vector registers.
  k.tj =
      ask("tile_j", vector_tiles(vl), preferred_vector_tile(n_j, vl, target_.cheap_vector_masks()));
  // The candidates may not depend on other knobs' choices (the space is a product): both
  // heuristic row tiles are always among them, the preference follows the column tile.
  std::vector<int64_t> rows = tile_values(m, {1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16});
  for (int64_t r : {pick_tile(m, 8, 4), pick_tile(m, 4, 4), pick_tile(m, 2, 2)})
    if (std::find(rows.begin(), rows.end(), r) == rows.end()) rows.push_back(r);
  std::sort(rows.begin(), rows.end());
  // The tile's accumulators (rows x vectors per row) take at most half the vector registers,
  // the rest holding the operands' vectors and broadcasts: 8 rows of 2 vectors with AVX-512's
  // 32 registers, 4 rows with AVX2's 16 (8 rows there spilled: a 3x3 convolution of 64
  // channels at 56x56 ran 44 GFLOP/s, 140 with 4 rows).
  int64_t vectors = std::max<int64_t>(1, k.tj / vl);
  int64_t row_budget = std::clamp<int64_t>(target_.vector_registers() / 2 / vectors, 2, 8);
  k.ti = ask("tile_i", rows, pick_tile(m, row_budget, std::min<int64_t>(4, row_budget)));
  // Cache blocks of register tiles (1: none), a second level of tiling along i and j.
  k.block_i = ask("block_i", {1, 2, 4, 8, 16, 32}, 1);
  k.block_j = ask("block_j", {1, 2, 4, 8, 16, 32}, 1);
  // Where the block loops go beside the other spatial loops (batch, a convolution's rows):
  // 0: inside them, column blocks outer (a panel of B stays in cache); 1: inside them, row
  // blocks outer; 2: column blocks outside them, row blocks inside (a convolution's weight
  // panel stays in cache across its rows).
  std::vector<int64_t> orders{0, 1};
  if (s.num_spatial > 2) orders.push_back(2);
  k.tile_order = ask("tile_order", orders, preferred_order);
  const Stage& c = sch_.stage(producer ? *producer : name);
  // bf16 products in pairs, one AVX512-BF16 dot product per vector and pair. Zen 5, one
  // thread, through torch.compile: matmul 1024^3 in bf16 took 13.9 ms as f32 FMAs (f32 itself
  // 11.0), 5.3 ms in pairs (f32 10.7). int8 products in quads likewise (AVX512-VNNI), four to
  // each int32 lane.
  k.dot_group = is_convolution(c) && pairs_cost_more(c, j_axis) ? 0 : dot_group(c);
  // Row tiles inner for int8 quads, as the tuner's best _int_mm 1024^3 had them.
  k.rows_inner = ask("rows_inner", {0, 1}, k.dot_group == 4 ? 1 : 0);
  k.parallel_depth = ask("parallel_depth", {1, 2, 3, 4}, 4);
  // Cache blocking along the outer reduce axis (matmul's k, a convolution's input channels);
  // unrolling of the inner one, by the factors that divide it.
  int64_t k_outer = c.root_extents[c.num_spatial], k_inner = c.root_extents.back();
  k.tk = k_outer;  // no k blocks
  bool pairable = k.dot_group > 0;
  k.dot_pairs = pairable ? ask("dot_pairs", {0, 1}, 1) : 0;
  // A contraction computed inside its epilogue's tile keeps its reduce loops whole.
  if (producer) return k;
  std::vector<int64_t> k_blocks;
  for (int64_t b : {32, 64, 128, 256, 512, 1024})
    if (b < k_outer) k_blocks.push_back(b);
  k_blocks.push_back(k_outer);
  k.tk = ask("tile_k", k_blocks, k_outer);
  if (k_blocks.size() > 1) k.k_outermost = ask("k_outermost", {0, 1}, 0);
  std::vector<int64_t> unrolls;
  // Unrolled pairs, where they apply, whichever dot_pairs says: the space stays a product.
  int64_t unrollable =
      pairable && c.root_vars.size() == c.num_spatial + 1u ? k_inner / k.dot_group : k_inner;
  for (int64_t u : {1, 2, 4, 8})
    if (unrollable % u == 0) unrolls.push_back(u);
  k.unroll_k = ask("unroll_k", unrolls, 1);
  return k;
}

void DefaultScheduler::schedule_register_tiles(const std::string& name,
                                               std::optional<std::string> producer, int i_axis,
                                               int j_axis, const RegisterTileKnobs& k) {
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
    if (*k_block_at == 0)
      run_begin = 1, run_end = order.size();
    else
      run_end = *k_block_at;
  }
  std::string pair = k.dot_pairs && !producer ? split_pairs(name, reduce.front(), k.dot_group) : "";
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
  std::vector<std::string> with_pair = order;
  if (!pair.empty()) with_pair.push_back(pair);
  sch_.reorder(name, with_pair);
  // The first parallel_depth loops of that run are fused into the parallel loop.
  size_t depth = std::min<size_t>(k.parallel_depth, run_end - run_begin);
  std::string par = fuse_all(name, {order.begin() + run_begin, order.begin() + run_begin + depth});
  sch_.parallel(name, par);
  auto loop_at = [&](size_t pos) {
    return pos >= run_begin && pos < run_begin + depth ? par : order[pos];
  };
  // Where the contraction's tile is computed for its epilogue: the innermost spatial loop.
  std::string tile_loop = loop_at(order.size() - reduce.size() - 3);
  // Where main's row stages are computed: the innermost spatial loop outside any k block
  // loop (inside it they would be computed again per k block); none when k blocks are
  // outermost. With int8 quads (64 products per instruction) a row stage recomputed per
  // column tile (_int_mm's row sums of A) cost 10-25% of the product: computed once instead
  // (Zen 5, one thread, 1024^3 with prepared weights: 3.2 -> 2.4-2.9 ms).
  row_loop_ = !k_block_at && k.dot_pairs && k.dot_group == 4 ? ""
              : !k_block_at                                  ? tile_loop
              : *k_block_at == 0                             ? ""
                                                             : loop_at(*k_block_at - 1);
  sch_.unroll(name, ii);
  if (!k_unrolled.empty()) sch_.unroll(name, k_unrolled);
  if (!pair.empty()) sch_.unroll(name, pair);
  sch_.vectorize(name, ji);
  if (!producer) return;
  // The contraction accumulates the tile the epilogue is at.
  // Reduce loops outermost, the tile's rows then its vector columns innermost.
  std::vector<std::string> corder;
  for (size_t d = c.num_spatial; d < c.root_vars.size(); ++d) corder.push_back(c.loops[d].name);
  if (k.dot_pairs) pair = split_pairs(*producer, corder.front(), k.dot_group);
  for (int d = 0; d < c.num_spatial; ++d)
    if (d != i_axis && d != j_axis) corder.push_back(c.loops[d].name);
  corder.push_back(c.loops[i_axis].name);
  // A convolution reading its input with a stride along the tile's columns splits them by the
  // tile's width, so that a region narrower than the tile (the tile's tail, or a row shorter
  // than it) is still the tile's vectors behind a guard: in a vector of the region's odd width
  // the strided loads were a gather per lane (a grouped 3x3 stride-2 convolution to 56 wide
  // with batch norm and ReLU, 2 threads: 2.25 ms, 0.27 so). Unit-stride loads of an odd width
  // stay whole vectors without guards.
  std::string lanes = c.loops[j_axis].name;
  auto plan = convolution_plans_.find(*producer);
  if (plan != convolution_plans_.end() && plan->second.stride > 1 &&
      plan->second.layout != ConvolutionLayout::ChannelsInLanes) {
    auto [cj, cj_lanes] = sch_.split(*producer, lanes, k.tj);
    corder.push_back(cj);
    lanes = cj_lanes;
  }
  corder.push_back(lanes);
  if (!pair.empty()) corder.push_back(pair);
  sch_.reorder(*producer, corder);
  sch_.unroll(*producer, c.loops[i_axis].name);
  if (!pair.empty()) sch_.unroll(*producer, pair);
  sch_.vectorize(*producer, lanes);
  sch_.compute_at(*producer, name, tile_loop);
}

std::pair<std::string, std::string> DefaultScheduler::split_unless_one(const std::string& stage,
                                                                       const std::string& loop,
                                                                       int64_t factor) {
  if (factor == 1) return {loop, ""};
  return sch_.split(stage, loop, factor);
}

DefaultScheduler::DotKnobs DefaultScheduler::dot_knobs(const std::string& name, int i_axis,
                                                       int j_axis) {
  const Stage& s = sch_.stage(name);
  int64_t ti = knob(name, "dot_tile_i", tile_values(s.root_extents[i_axis], {1, 2, 4, 8}),
                    pick_tile(s.root_extents[i_axis], 4, 1));
  int64_t tj = knob(name, "dot_tile_j", tile_values(s.root_extents[j_axis], {1, 2, 4, 8}),
                    pick_tile(s.root_extents[j_axis], 4, 1));
  return {ti, tj};
}

void DefaultScheduler::schedule_dot_contraction(const std::string& name,
                                                std::optional<std::string> producer, int i_axis,
                                                int j_axis, int vl, DotKnobs knobs) {
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

}  // namespace kiln::schedule_detail

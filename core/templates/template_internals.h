// The default schedule template (default_schedule.h) as a class whose members two files share:
// default_schedule.cpp (inlining, injective stages, reductions, placing the remaining stages)
// and contraction_schedule.cpp (matmuls and convolutions: register tiles in cache blocks,
// packing, dot products). Private to core/templates.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/ir/target.h"
#include "core/schedule/schedule.h"
#include "core/templates/knobs.h"

namespace kiln::schedule_detail {

/// A tile size for a loop of `extent`: the whole loop when it fits in `preferred`, else the
/// largest divisor of `extent` in [minimum, preferred] (no tail guard), else `preferred`.
int64_t pick_tile(int64_t extent, int64_t preferred, int64_t minimum);

/// A Sum of a product: matmul, batched matmul, convolution.
bool is_contraction(const Stage& s);

/// True when the innermost index of the reduction's first load is a reduce variable, i.e. the
/// reduction runs along contiguous memory.
bool reduces_innermost(const Stage& s);

/// Candidate values for a tile of a loop of `extent`: those of `sizes` that fit, plus `extent`
/// itself when it is smaller than the largest (a whole loop is always a valid tile).
std::vector<int64_t> tile_values(int64_t extent, std::vector<int64_t> sizes);

/// Power-of-two vector tiles from half a native vector to four (at most 64 lanes).
std::vector<int64_t> vector_tiles(int vl);

/// The vector tile for a loop of `extent`: two native vectors when they divide it, else one,
/// else (where masks cost several plain loads) half a vector when that divides it, else the
/// smallest power of two that covers a short loop (its tail masked), else two. On Zen 3 (AVX2)
/// a grouped 3x3 convolution of stride 2 to 28x28 ran 2.3 GFLOP/s in masked tiles of 32
/// lanes, 16.8 in tiles of 4.
int64_t preferred_vector_tile(int64_t extent, int vl, bool cheap_masks);

class DefaultScheduler {
 public:
  DefaultScheduler(const std::vector<Tensor>& outputs, const Target& target, KnobChooser& knobs)
      : sch_(outputs), target_(target), knobs_(knobs) {}

  Schedule run();

 private:
  int lanes(DType t) const { return std::max(1, target_.vector_lanes(dtype_bytes(t))); }

  /// Asks for a decision of `stage`; the heuristic's `preferred` value is always a candidate.
  int64_t knob(const std::string& stage, const std::string& what, std::vector<int64_t> values,
               int64_t preferred);

  /// Whether `s` is a 2-D convolution (N, O, H, W) x (C, KH, KW).
  static bool is_convolution(const Stage& s);

  /// Where a convolution's register tile lies (ask_convolution_layouts).
  /// (Numbered as a grouped convolution's knob "grouped_layout" stores them.)
  enum class ConvolutionLayout {
    RowsOverChannels = 0,  ///< Rows over output channels, vectors along the output's width.
    ChannelsInLanes = 1,   ///< Rows along the width, output channels in vector lanes.
    RowsAlongHeight = 2,   ///< Rows along the output's height, vectors along its width.
  };

  /// Asks each convolution where its register tile lies. A dense one: rows over output channels
  /// with vectors along the width, or output channels in lanes, where every input element is a
  /// broadcast whatever the stride. A grouped one (its input channels follow the output channel):
  /// rows over output channels; rows along the height, which share each weight, one broadcast
  /// per tap for the whole tile (a depthwise convolution's rows over channels share nothing);
  /// or, depthwise, channels in lanes with the input packed channels innermost too (no tails
  /// where the width is short). The layouts other than the first read a materialized padded
  /// input (else each load tests the bounds); channels in lanes read a weight packed with output
  /// channels innermost.
  void ask_convolution_layouts();

  /// The load of a convolution's input (not its weight): the one indexed by the output's height.
  static const LoadNode* convolution_input_load(const Stage& conv);

  /// Inlines injective stages, except expensive ones that a reduction and another stage both
  /// read (softmax's exponentials): those are computed once per row instead of twice; and the
  /// inputs of convolutions whose layout reads them materialized (their padding), computed once
  /// beforehand.
  void inline_injective();

  /// Whether `s` is the input of a convolution whose layout reads it materialized.
  bool convolution_input(const Stage& s) const;

  /// Whether an injective stage stays materialized rather than inlined into its readers: it
  /// computes (see computes) and is invariant_in_readers, or it computes transcendentals that
  /// reductions read more than once.
  bool worth_materializing(const Stage& s) const;
  /// Whether `e` does arithmetic: more than loads, constants and conversions.
  static bool computes(const Expr& e);
  /// Whether a reader of `s` has kInvariantReuse times its elements or more: inlined there, s
  /// would be computed again per element of the reader (a per-channel scale read per pixel).
  bool invariant_in_readers(const Stage& s) const;
  static constexpr int64_t kInvariantReuse = 8;
  /// When a contraction packs an operand with contiguous columns into panels (panel_packing):
  /// rows at least this many elements apart, at least this many rows of the other operand, and
  /// more bytes than the target's L2.
  static constexpr int64_t kPanelRowStride = 256;
  static constexpr int64_t kPanelMinRows = 64;
  /// Whether a scatter's updates read `s` (which then stays materialized: updates are not
  /// rewritten by compute_inline).
  bool read_by_updates(const Stage& s) const;

  /// The largest output (the last of equals). With a row reduction, one that reads another
  /// output of its size (a copy of layer_norm's result, say) is no candidate while another is:
  /// its rows would be single elements, and the reduction would be computed again for each.
  const Stage& main_stage() const;

  /// Whether `s` reads another output of its size (it is a copy or an elementwise function of it).
  bool reads_an_output(const Stage& s) const;

  /// Stages other than `main` still needing a place: reductions and secondary outputs.
  std::vector<std::string> others(const std::string& main) const;

  /// Fuses `loops` (adjacent leaves, outermost first) into one and returns its name.
  std::string fuse_all(const std::string& stage, std::vector<std::string> loops);

  /// How many leading axes of `main` every other stage is indexed by, directly (the loads of
  /// it in main's body use main's axis variables there): those axes become the row loop.
  int shared_leading_axes(const Stage& main) const;

  /// Whether fusing axes `d` and `d + 1` of `s` keeps every load's index affine in the fused
  /// loop (a padding's or a slice's rows would take a division per lane, and a gather).
  bool fuses_linearly(const Stage& s, int d) const;

  /// Injective main: outer axes fused into a parallel row loop, the rest fused and vectorized
  /// as far as they fuse linearly.
  void schedule_injective(const std::string& name);

  /// Vectorizes a contiguous innermost loop: in chunks of up to four native vectors (explicit
  /// vector code, streaming stores for big outputs) when they divide it, else as one long loop
  /// for LLVM's vectorizer, which handles the remainder.
  void vectorize_inner(const std::string& name, const std::string& loop, int64_t extent, DType t);

  /// The contraction stage an injective stage is the epilogue of: read at its own point (its axis
  /// variables, or 0 along an axis of extent 1).
  std::optional<std::string> contraction_producer(const Stage& s) const;

  /// Register tile over (rows i, vector columns j); `producer` names the contraction when
  /// `name` is its epilogue, computed tile by tile inside it.
  void schedule_contraction(const std::string& name, std::optional<std::string> producer);

  /// The register tile's knobs (see register_tile_knobs).
  struct RegisterTileKnobs {
    int64_t ti, tj;            ///< Register tile: unrolled rows, vector lanes.
    int64_t block_i, block_j;  ///< Cache block: register tiles per block along i and j.
    int64_t tile_order;        ///< Block loops beside the other spatial loops (see below).
    int64_t rows_inner;        ///< Inside a block: 1 row tiles inner, 0 row tiles outer.
    int64_t parallel_depth;    ///< Leading spatial loops fused into the parallel loop.
    int64_t tk, k_outermost;   ///< Block of the outer reduce axis (its extent: none); its
                               ///< loop outermost, or just inside the other block loops.
    int64_t unroll_k;
    /// 1: the outer reduce axis split into groups of products that one dot-product instruction
    /// sums per vector (the group loop innermost, inside the tile's vector columns): pairs of
    /// bf16 products (AVX512-BF16), quads of int8 ones (AVX512-VNNI). The knob keeps its first
    /// name, "dot_pairs", which stored configurations use.
    int64_t dot_pairs;
    int64_t dot_group;  ///< Products per group: 2 (bf16), 4 (int8); 0 where none applies.
  };

  /// The products one dot-product instruction sums for `contraction` along its outer reduce
  /// axis (a matmul's k, a convolution's input channels): 2 where it multiplies bf16 operands
  /// into f32 on a CPU with bf16 dot products, 4 where it multiplies int8 operands into int32 on
  /// one with int8 dot products; 0 where neither applies or the axis is not a multiple.
  int64_t dot_group(const Stage& contraction) const;
  /// Whether bf16 pairs would cost convolution `conv`, its vectors along `lane_axis`, more
  /// than they save (see operand_dtypes.cpp).
  bool pairs_cost_more(const Stage& conv, int lane_axis) const;
  /// The dtype a contraction's packed copies widen 16-bit float operands to: f32, unless its
  /// tiles sum bf16 products in pairs (which read bf16).
  static std::optional<DType> widened(const RegisterTileKnobs& tiles) {
    return tiles.dot_pairs ? std::nullopt : std::optional<DType>(DType::F32);
  }
  /// Copies each 16-bit float operand of contraction `c` that every lane of a vector along axis
  /// `lane_axis` reads alike (broadcast: a matmul's A, a convolution's weight along the width)
  /// into f32 beforehand, where the tile broadcasts each element often enough to repay the copy:
  /// a broadcast bf16 element costs a load, a shift and a broadcast each time, an f32 one folds
  /// into its FMA.
  void widen_broadcast_operands(const std::string& c, int lane_axis);
  /// Splits `k_loop` of `stage` by `group`: `k_loop` becomes the loop over groups, the group
  /// loop's name is returned.
  std::string split_pairs(const std::string& stage, std::string& k_loop, int64_t group);

  /// A stage computed whole before its reader (a convolution's padded input), without knobs:
  /// its rows in parallel, each row one loop for LLVM's vectorizer.
  void schedule_rows(const std::string& name);

  /// Convolution (N, O, H, W), register-tiled in the layout ask_convolution_layouts chose.
  void schedule_convolution(const std::string& name, std::optional<std::string> producer, int vl);

  /// Asks the register tile's knobs of `name` (a contraction, or the epilogue it is computed in);
  /// `preferred_order` is tile_order's default.
  RegisterTileKnobs register_tile_knobs(const std::string& name,
                                        std::optional<std::string> producer, int i_axis, int j_axis,
                                        int vl, const std::string& prefix = "",
                                        int64_t preferred_order = 0);

  /// Register tile over (rows i, vector columns j) of a contraction whose columns are
  /// contiguous, in cache blocks of tiles:
  ///   [block loops and other spatial loops, per tile_order; the k block's loop among them]
  ///     [tile loops within the block, per rows_inner]
  ///       [reduce loops] [tile rows, unrolled] [tile columns, vectorized]
  void schedule_register_tiles(const std::string& name, std::optional<std::string> producer,
                               int i_axis, int j_axis, const RegisterTileKnobs& k);

  /// Splits `loop` of `stage` by `factor` into (outer, inner); with factor 1, (loop, ""): the
  /// loop stays whole and there is no inner part.
  std::pair<std::string, std::string> split_unless_one(const std::string& stage,
                                                       const std::string& loop, int64_t factor);

  /// The dot-product tile's knobs (see dot_knobs).
  struct DotKnobs {
    int64_t ti, tj;
  };

  DotKnobs dot_knobs(const std::string& name, int i_axis, int j_axis);

  /// Dot products along k: the reduce axis is split into vector lanes (rfactor) and a tile of
  /// rows x columns keeps one vector accumulator per output; the lanes are summed at the end.
  void schedule_dot_contraction(const std::string& name, std::optional<std::string> producer,
                                int i_axis, int j_axis, int vl, DotKnobs knobs);

  /// Reduction main (or a reduction computed per row inside main).
  void schedule_reduction(const std::string& name);

  /// Splits a long innermost reduction into vector-wide partial sums (a ".rf" stage with its
  /// lane loop vectorized). Returns the new stage's name, or "" when the row is too short.
  std::string vectorize_row_reduction(const std::string& name);

  static bool has_transcendental(const Expr& e);

  /// Places every remaining root stage inside main's row loop (when main has one), each
  /// reduction vectorized along its row; otherwise leaves it a root with its own schedule.
  void attach_the_rest(const std::string& main);

  /// An injective stage computed per row of main: vectorized along the rest of its axes.
  void vectorize_row(const std::string& name);

  /// True when `name` is read by main or by a stage that will be computed inside main.
  bool reads_in_scope(const std::string& name, const std::string& main) const;

  static bool reads_same_inputs(const Stage& a, const Stage& b);

  /// A program with scans: every stage a root of its own (scan_schedule.cpp).
  void schedule_scans();
  /// A scan stage: its scan axis serial, the axes before it parallel, those after it vectorized.
  void schedule_scan(const std::string& name);
  /// The stage that alone reads non-output scan `scan`, each element at its own point (the cast
  /// of a scan accumulated in a wider type), when the scan has axes before its scan axis.
  std::optional<std::string> row_reader(const std::string& scan) const;
  /// `reader` with its leading axes (before the scan axis) one parallel row loop, and `scan`
  /// computed at that loop over whole rows.
  void schedule_scan_in_rows(const std::string& scan, const std::string& reader);
  /// How many rows of `scan` one scan loop carries along together (a knob; 1 but along the last
  /// axis, where each row is a dependency chain).
  int64_t interleaved_rows(const std::string& scan, bool along_last_axis);

  /// A stage that stays a root of its own: scheduled by its class, without attachments.
  void schedule_root(const std::string& name);
  /// Schedules `name` with its class's template (op_class.h); the main stage's row loop stays
  /// for the stages attach_the_rest places in it.
  void schedule_by_class(const std::string& name);

  Schedule sch_;
  const Target& target_;
  KnobChooser& knobs_;
  std::string row_loop_;             ///< Main's loop that per-row stages are computed at.
  std::set<std::string> own_roots_;  ///< Roots scheduled already (packed operands, conv inputs).
  struct ConvolutionPlan {
    ConvolutionLayout layout;
    bool grouped;        ///< Its input channels follow the output channel.
    int64_t stride = 1;  ///< Of its input's width along its output's width.
    /// Along the height: the padded input computed per parallel tile of rows (a region that
    /// stays in L1), not whole beforehand.
    bool pad_in_tiles = false;
  };
  std::map<std::string, ConvolutionPlan> convolution_plans_;  ///< ask_convolution_layouts.
  int row_axes_ = 0;  ///< How many of main's leading axes that loop covers.
};

}  // namespace kiln::schedule_detail

// Packing for contractions that read an operand with strided columns (x @ W.T of a Linear
// layer, a convolution's weight with output channels in vector lanes): the operand is copied
// into a layout whose innermost dimension is the column axis (Schedule::cache_read) before the
// register-tiled loops read it. Private to core/templates (the default template uses it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/schedule/schedule.h"

namespace kiln {

/// An operand to copy (numbered as Schedule::operands) and the copy's layout.
struct ColumnPacking {
  int64_t operand;
  std::vector<int64_t> layout;
};

/// How contraction stage `c` must pack its operands so that it reads every one contiguously
/// (or not at all) along its column axis `j_axis`: empty when it does already; nullopt when a
/// read is strided along the columns in a way no layout fixes (a strided convolution's input).
std::optional<std::vector<ColumnPacking>> column_packing(const Schedule& s, const std::string& c,
                                                         int j_axis);

/// The operands that contraction stage `c` reads contiguously along its column axis `j_axis`
/// but `min_row_stride` elements or more apart along its innermost reduce axis (B of A @ B with
/// wide rows): a register tile steps a line, and soon a page, per reduction step through them.
/// Each packs into panels (pack_operands) in its own dimension order.
std::vector<ColumnPacking> panel_packing(const Schedule& s, const std::string& c, int j_axis,
                                         int64_t min_row_stride);

/// Whether stage `c` reads every operand contiguously along its innermost reduce axis.
bool reads_contiguous_along_k(const Schedule& s, const std::string& c);

/// Packs each of `packing` into a copy (cache_read) made as a transposition in tiles `block`
/// columns wide (the tile's source lines stay in L1), in parallel over tile rows; with `panel`
/// > 0, in panels that many columns wide (see Schedule::cache_read): a register tile of `panel`
/// columns then streams its operand from one contiguous run. Returns the new stages, scheduled.
/// With `as` (f32), 16-bit float operands are widened in the same copy (Schedule::cache_read);
/// with `group` > 0 (and panels), each panel keeps the `group` elements a dot-product
/// instruction sums per lane adjacent (Schedule::cache_read).
std::vector<std::string> pack_operands(Schedule& s, const std::string& c,
                                       const std::vector<ColumnPacking>& packing, int64_t block,
                                       int64_t panel = 0, std::optional<DType> as = std::nullopt,
                                       int64_t group = 0);

}  // namespace kiln

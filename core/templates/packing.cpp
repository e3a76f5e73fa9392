#include "core/templates/packing.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"
#include "core/support/error.h"

namespace kiln {

namespace {

int64_t operand_number(const Schedule& s, const std::string& c, const Tensor& t) {
  std::vector<Tensor> operands = s.operands(c);
  auto it =
      std::find_if(operands.begin(), operands.end(), [&](const Tensor& o) { return o.same_as(t); });
  return it - operands.begin();
}

/// The layout that makes `load`'s column index `j` its innermost dimension, when one dimension
/// is indexed by j with unit stride and no other uses it.
std::optional<std::vector<int64_t>> columns_innermost(const LoadNode* load, const VarNode* j) {
  std::optional<int64_t> column;
  for (size_t d = 0; d < load->indices.size(); ++d) {
    if (!uses_var(load->indices[d], j)) continue;
    if (column || affine_coefficient(load->indices[d], j) != 1) return std::nullopt;
    column = static_cast<int64_t>(d);
  }
  if (!column) return std::nullopt;
  std::vector<int64_t> layout;
  for (int64_t d = 0; d < static_cast<int64_t>(load->indices.size()); ++d)
    if (d != *column) layout.push_back(d);
  layout.push_back(*column);
  return layout;
}

}  // namespace

std::optional<std::vector<ColumnPacking>> column_packing(const Schedule& s, const std::string& c,
                                                         int j_axis) {
  const Stage& st = s.stage(c);
  auto* r = st.body.as<ReduceNode>();
  if (!r) return std::vector<ColumnPacking>{};
  const VarNode* j = st.root_vars[j_axis].get();
  std::vector<ColumnPacking> packing;
  for (const LoadNode* load : loads_in(r->source)) {
    auto cj = affine_coefficient(flat_index(load->tensor, load->indices), j);
    if (cj == 0 || cj == 1) continue;
    auto layout = columns_innermost(load, j);
    if (!layout) return std::nullopt;
    int64_t operand = operand_number(s, c, load->tensor);
    if (std::none_of(packing.begin(), packing.end(), [&](auto& p) { return p.operand == operand; }))
      packing.push_back({operand, *layout});
  }
  return packing;
}

std::vector<ColumnPacking> panel_packing(const Schedule& s, const std::string& c, int j_axis,
                                         int64_t min_row_stride) {
  const Stage& st = s.stage(c);
  auto* r = st.body.as<ReduceNode>();
  if (!r) return {};
  const VarNode* j = st.root_vars[j_axis].get();
  const VarNode* k = st.root_vars.back().get();
  std::vector<ColumnPacking> packing;
  for (const LoadNode* load : loads_in(r->source)) {
    Expr flat = flat_index(load->tensor, load->indices);
    std::optional<int64_t> along_k = affine_coefficient(flat, k);
    if (affine_coefficient(flat, j) != 1 || !along_k || *along_k < min_row_stride) continue;
    auto layout = columns_innermost(load, j);
    int64_t operand = operand_number(s, c, load->tensor);
    if (layout &&
        std::none_of(packing.begin(), packing.end(), [&](auto& p) { return p.operand == operand; }))
      packing.push_back({operand, *layout});
  }
  return packing;
}

bool reads_contiguous_along_k(const Schedule& s, const std::string& c) {
  const Stage& st = s.stage(c);
  auto* r = st.body.as<ReduceNode>();
  const VarNode* k = st.root_vars.back().get();
  for (const LoadNode* load : loads_in(r->source))
    if (affine_coefficient(flat_index(load->tensor, load->indices), k) != 1) return false;
  return true;
}

namespace {

/// A copy whose reads and writes run along different axes: its leading dimensions fused into
/// rows (a convolution weight's channels and kernel window: its source lines are contiguous),
/// split into tiles `block` columns wide, parallel over row tiles. Tiles are `block` rows
/// square when they fit the copy exactly (the CPU backend transposes those in registers),
/// else 4 rows: measured on a 512x4608 weight, gathers copy 4 rows a tile at 0.5 ns per
/// element, 16 rows at 1.7. A copy in panels keeps its panel dimension an outer loop of its
/// own (fused into the rows it would break the source lines' contiguity).
void transpose_in_blocks(Schedule& s, const std::string& name, int64_t block, bool panels) {
  const Stage& p = s.stage(name);
  int n = p.num_spatial;
  int first = panels ? 1 : 0;
  KILN_CHECK(n >= first + 2, "a transposed copy needs two dimensions, ", name, " has ", n);
  std::string column = p.loops[n - 1].name;
  std::string row = p.loops[first].name;
  for (int d = first + 1; d < n - 1; ++d) row = s.fuse(name, row, s.stage(name).loops[d].name);
  // Whole block x block squares are transposed in registers by the CPU backend; with a tail, 4
  // rows a tile copy fastest (gathers).
  int64_t rows = 1;
  for (int d = first; d < n - 1; ++d) rows *= p.root_extents[d];
  bool squares = rows % block == 0 && p.root_extents[n - 1] % block == 0;
  auto [ro, ri] = s.split(name, row, squares ? block : 4);
  auto [co, ci] = s.split(name, column, block);
  std::vector<std::string> order{ro, co, ri, ci};
  if (panels) order.insert(order.begin(), s.stage(name).loops[0].name);
  s.reorder(name, order);
  s.parallel(name, panels ? s.fuse(name, order[0], ro) : ro);
  s.vectorize(name, ci);
}

/// A copy in panels with groups ([P, ..., K / group, panel, group], see Schedule::cache_read):
/// parallel over its leading loops, each group row (a panel's `group` source rows) one vector
/// loop over the panel's columns and the group's elements.
void copy_in_groups(Schedule& s, const std::string& name) {
  const Stage& p = s.stage(name);
  int n = p.num_spatial;
  std::vector<std::string> loops;
  for (int d = 0; d < n; ++d) loops.push_back(p.loops[d].name);
  std::string rows = loops[0];
  for (int d = 1; d < n - 2; ++d) rows = s.fuse(name, rows, loops[d]);
  std::string row = s.fuse(name, loops[n - 2], loops[n - 1]);  // a panel column's group
  s.parallel(name, rows);
  s.vectorize(name, row);
}

}  // namespace

std::vector<std::string> pack_operands(Schedule& s, const std::string& c,
                                       const std::vector<ColumnPacking>& packing, int64_t block,
                                       int64_t panel, std::optional<DType> as, int64_t group) {
  std::vector<std::string> packed;
  // The copy takes its source's place among the operands: the numbers of the others stay.
  for (const ColumnPacking& p : packing) {
    DType dtype = s.operands(c)[p.operand]->dtype;
    bool widens = as && compute_type(dtype) != dtype;  // a 16-bit float
    packed.push_back(
        s.cache_read(c, p.operand, p.layout, panel, widens ? as : std::nullopt, group));
    if (group > 0)
      copy_in_groups(s, packed.back());
    else
      transpose_in_blocks(s, packed.back(), block, panel > 0);
  }
  return packed;
}

}  // namespace kiln

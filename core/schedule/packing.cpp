#include "core/schedule/packing.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"

namespace kiln {

namespace {

int64_t operand_number(const Schedule& s, const std::string& c, const Tensor& t) {
  std::vector<Tensor> operands = s.operands(c);
  auto it = std::find_if(operands.begin(), operands.end(), [&](const Tensor& o) { return o.same_as(t); });
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

bool reads_contiguous_along_k(const Schedule& s, const std::string& c) {
  const Stage& st = s.stage(c);
  auto* r = st.body.as<ReduceNode>();
  const VarNode* k = st.root_vars.back().get();
  for (const LoadNode* load : loads_in(r->source))
    if (affine_coefficient(flat_index(load->tensor, load->indices), k) != 1) return false;
  return true;
}

namespace {

/// A copy whose reads and writes run along different axes: its last two dimensions split into
/// `block`-square tiles, parallel over the leading dimensions and the row blocks.
void transpose_in_blocks(Schedule& s, const std::string& name, int64_t block) {
  const Stage& p = s.stage(name);
  int n = p.num_spatial;
  std::vector<std::string> outer;
  for (int d = 0; d < n - 2; ++d) outer.push_back(p.loops[d].name);
  std::string row = p.loops[n - 2].name, column = p.loops[n - 1].name;
  auto [ro, ri] = s.split(name, row, block);
  auto [co, ci] = s.split(name, column, block);
  outer.push_back(ro);
  std::vector<std::string> order = outer;
  for (const std::string& l : {co, ri, ci}) order.push_back(l);
  s.reorder(name, order);
  std::string rows = outer[0];
  for (size_t k = 1; k < outer.size(); ++k) rows = s.fuse(name, rows, outer[k]);
  s.parallel(name, rows);
  s.vectorize(name, ci);
}

}  // namespace

std::vector<std::string> pack_operands(Schedule& s, const std::string& c,
                                       const std::vector<ColumnPacking>& packing, int64_t block) {
  std::vector<std::string> packed;
  // The copy takes its source's place among the operands: the numbers of the others stay.
  for (const ColumnPacking& p : packing) {
    packed.push_back(s.cache_read(c, p.operand, p.layout));
    transpose_in_blocks(s, packed.back(), block);
  }
  return packed;
}

}  // namespace kiln

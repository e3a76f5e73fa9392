#include "core/schedule/packing.h"

#include <algorithm>

#include "core/ir/functor.h"
#include "core/ir/simplify.h"

namespace kiln {

std::vector<int64_t> strided_column_operands(const Schedule& s, const std::string& c, int j_axis) {
  const Stage& st = s.stage(c);
  auto* r = st.body.as<ReduceNode>();
  if (!r) return {};
  const VarNode* j = st.root_vars[j_axis].get();
  const VarNode* k = st.root_vars.back().get();
  std::vector<Tensor> operands = s.operands(c);
  std::vector<int64_t> strided;
  for (const LoadNode* load : loads_in(r->source)) {
    Expr flat = flat_index(load->tensor, load->indices);
    if (affine_coefficient(flat, k) != 1) return {};
    auto cj = affine_coefficient(flat, j);
    if (!cj || *cj == 0 || *cj == 1 || load->tensor->rank() < 2) continue;
    auto it = std::find_if(operands.begin(), operands.end(),
                           [&](const Tensor& t) { return t.same_as(load->tensor); });
    int64_t operand = it - operands.begin();
    if (std::find(strided.begin(), strided.end(), operand) == strided.end())
      strided.push_back(operand);
  }
  return strided;
}

namespace {

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
                                       const std::vector<int64_t>& operands, int64_t block) {
  std::vector<std::string> packed;
  // The copy takes its source's place among the operands: the numbers of the others stay.
  for (int64_t operand : operands) {
    packed.push_back(s.cache_read(c, operand));
    transpose_in_blocks(s, packed.back(), block);
  }
  return packed;
}

}  // namespace kiln

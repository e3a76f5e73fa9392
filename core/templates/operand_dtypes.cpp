// The 16-bit float operands of the default template's contractions: bf16 products summed in
// pairs by AVX512-BF16's dot products, and operands a tile broadcasts widened to f32 once
// beforehand (docs/architecture.md, "bf16 dot products" and "Widened 16-bit operands").
#include <algorithm>

#include "core/ir/functor.h"
#include "core/templates/packing.h"
#include "core/templates/template_internals.h"

namespace kiln::schedule_detail {

int64_t DefaultScheduler::dot_group(const Stage& c) const {
  std::vector<const LoadNode*> loads = loads_in(c.body);
  auto all_loads = [&](DType t) {
    return !loads.empty() && std::all_of(loads.begin(), loads.end(),
                                         [t](const LoadNode* l) { return l->tensor->dtype == t; });
  };
  int64_t group = 0;
  if (target_.bf16_dot_pairs() && c.tensor->dtype == DType::F32 && all_loads(DType::BF16))
    group = 2;
  if (target_.int8_dot_quads() && c.tensor->dtype == DType::I32 && all_loads(DType::I8)) group = 4;
  // The outer reduce axis is grouped: a matmul's k, a convolution's input channels.
  return group && c.root_extents[c.num_spatial] % group == 0 ? group : 0;
}

bool DefaultScheduler::pairs_cost_more(const Stage& conv, int lane_axis) const {
  // A grouped convolution's pairs, and a 1x1 one's with channels in lanes (input pixels
  // broadcast, each pair two loads a plane apart), cost more than they save.
  bool grouped = uses_var(convolution_input_load(conv)->indices[1], conv.root_vars[1].get());
  bool one_by_one = conv.root_extents[5] * conv.root_extents[6] == 1;
  return grouped || (lane_axis == 1 && one_by_one);
}

void DefaultScheduler::widen_broadcast_operands(const std::string& c, int lane_axis) {
  std::vector<Tensor> operands = sch_.operands(c);
  for (size_t k = 0; k < operands.size(); ++k) {
    DType dtype = operands[k]->dtype;
    if (compute_type(dtype) == dtype) continue;  // not a 16-bit float
    const Stage& s = sch_.stage(c);
    std::vector<const LoadNode*> loads = loads_in(s.body, operands[k].get());
    auto follows = [&](int d) {
      for (const LoadNode* load : loads)
        for (const Expr& i : load->indices)
          if (uses_var(i, s.root_vars[d].get())) return true;
      return false;
    };
    if (follows(lane_axis)) continue;  // a vector operand, not a broadcast one
    // Broadcasts per element: the tile's vectors along the lane axis times the spatial extents
    // the operand does not follow. At 4 or more the copy (about one conversion per element) pays.
    int64_t broadcasts = (s.root_extents[lane_axis] + lanes(DType::F32) - 1) / lanes(DType::F32);
    for (int d = 0; d < s.num_spatial; ++d)
      if (d != lane_axis && !follows(d)) broadcasts *= s.root_extents[d];
    if (broadcasts < 4) continue;
    std::string copy = sch_.cache_read(c, static_cast<int64_t>(k), {}, 0, DType::F32);
    schedule_rows(copy);
    own_roots_.insert(copy);
  }
}

std::string DefaultScheduler::split_pairs(const std::string& stage, std::string& k_loop,
                                          int64_t group) {
  auto [pairs, pair] = sch_.split(stage, k_loop, group);
  k_loop = pairs;
  return pair;
}

}  // namespace kiln::schedule_detail

#include "core/templates/op_class.h"

#include <algorithm>

#include "core/templates/template_internals.h"

namespace kiln {

OpClass stage_class(const Stage& s) {
  if (s.is_scan()) return OpClass::Scan;
  if (s.is_scatter()) return OpClass::Scatter;
  if (schedule_detail::is_contraction(s)) return OpClass::Contraction;
  if (s.is_reduction()) return OpClass::Reduction;
  return OpClass::Injective;
}

OpClass group_class(const Schedule& s) {
  OpClass first = OpClass::Injective;
  for (const Stage& stage : s.stages()) first = std::min(first, stage_class(stage));
  return first;
}

std::string_view op_class_name(OpClass c) {
  switch (c) {
    case OpClass::Scan: return "scan";
    case OpClass::Scatter: return "scatter";
    case OpClass::Contraction: return "contraction";
    case OpClass::Reduction: return "reduction";
    case OpClass::Injective: return "injective";
  }
  return "injective";
}

std::string_view op_class_of(const std::vector<Tensor>& outputs) {
  return op_class_name(group_class(Schedule(outputs)));
}

}  // namespace kiln

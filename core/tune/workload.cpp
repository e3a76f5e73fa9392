#include "core/tune/workload.h"

#include <sstream>

#include "core/ir/hash128.h"
#include "core/ir/structural.h"
#include "core/schedule/schedule.h"
#include "core/support/error.h"
#include "core/templates/op_class.h"
#include "core/tune/task.h"

namespace kiln {

std::string WorkloadKey::hex() const {
  return Hash128{hi, lo}.hex();
}

WorkloadKey WorkloadKey::from_hex(const std::string& text) {
  auto half = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = at; i < at + 16; ++i) {
      char c = text[i];
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) throw Error(str_cat("workload key '", text, "' is not 32 hex digits"));
      v = v << 4 | static_cast<uint64_t>(digit);
    }
    return v;
  };
  if (text.size() != 32) throw Error(str_cat("workload key '", text, "' is not 32 hex digits"));
  return {half(0), half(16)};
}

Workload describe_workload(const std::vector<Tensor>& outputs) {
  std::vector<uint64_t> tokens = structural_tokens(outputs);
  Workload w;
  Hash128 h = hash128(tokens);
  w.key = {h.hi, h.lo};
  std::ostringstream canonical;
  for (size_t i = 0; i < tokens.size(); ++i) canonical << (i ? " " : "") << std::hex << tokens[i];
  w.canonical = canonical.str();
  std::ostringstream description;
  for (const Tensor& t : topo_order(outputs)) description << t << "\n";
  w.description = description.str();
  w.op_class = std::string(op_class_of(outputs));
  w.flops = TuningTask{"", outputs}.flops();
  return w;
}

}  // namespace kiln

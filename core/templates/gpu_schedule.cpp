#include "core/templates/gpu_schedule.h"

#include <string>

#include "core/support/error.h"
#include "core/templates/op_class.h"

namespace kiln {

Schedule gpu_schedule(const std::vector<Tensor>& outputs) {
  Schedule sch(outputs);
  std::vector<std::string> inlined, roots;
  for (const Stage& s : sch.stages()) {
    OpClass c = stage_class(s);
    if (c == OpClass::Scan || c == OpClass::Scatter)
      throw ScheduleError(str_cat("stage ", s.name, " (", s.tensor->name, ") is a ",
                                  op_class_name(c), ", which has no GPU schedule yet"));
    (c == OpClass::Injective && !s.is_output ? inlined : roots).push_back(s.name);
  }
  for (const std::string& name : inlined) sch.compute_inline(name);
  for (const std::string& name : roots) {
    const Stage& s = sch.stage(name);
    if (s.num_spatial == 0) continue;  // a scalar: one thread of one block (lowering's default)
    std::string fused = s.loops[0].name;
    for (int d = 1; d < s.num_spatial; ++d) fused = sch.fuse(name, fused, s.loops[d].name);
    auto [block, thread] = sch.split(name, fused, kGpuThreadsPerBlock);
    sch.bind(name, block, ForKind::GpuBlock, 0);
    sch.bind(name, thread, ForKind::GpuThread, 0);
  }
  return sch;
}

}  // namespace kiln

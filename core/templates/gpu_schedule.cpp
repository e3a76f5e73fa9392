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
    if (c == OpClass::Scatter)
      throw ScheduleError(str_cat("stage ", s.name, " (", s.tensor->name, ") is a ",
                                  op_class_name(c), ", which has no GPU schedule yet"));
    (c == OpClass::Injective && !s.is_output ? inlined : roots).push_back(s.name);
  }
  for (const std::string& name : inlined) sch.compute_inline(name);
  for (const std::string& name : roots) {
    const Stage& s = sch.stage(name);
    // A scan's scan axis stays one serial loop, innermost: each thread carries one row.
    std::vector<std::string> spatial, order;
    for (int d = 0; d < s.num_spatial; ++d)
      (s.is_scan_loop(d) ? order : spatial).push_back(s.loops[d].name);
    if (!order.empty()) {
      order.insert(order.begin(), spatial.begin(), spatial.end());
      sch.reorder(name, order);
    }
    if (spatial.empty()) continue;  // a scalar or a 1-D scan: one thread of one block
    std::string fused = spatial[0];
    for (size_t d = 1; d < spatial.size(); ++d) fused = sch.fuse(name, fused, spatial[d]);
    auto [block, thread] = sch.split(name, fused, kGpuThreadsPerBlock);
    sch.bind(name, block, ForKind::GpuBlock, 0);
    sch.bind(name, thread, ForKind::GpuThread, 0);
  }
  return sch;
}

}  // namespace kiln

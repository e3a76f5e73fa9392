// A trace replayed: each instruction applied to a schedule as the primitive it records.
#include "core/schedule/schedule.h"
#include "core/support/error.h"

namespace kiln {

void Schedule::apply(const Instruction& inst) {
  auto need = [&](size_t names, size_t values) {
    if (inst.names.size() != names || inst.values.size() != values)
      throw ScheduleError(str_cat("instruction '", inst, "' has the wrong number of operands"));
  };
  const auto& n = inst.names;
  switch (inst.kind) {
    case InstKind::Split:
      need(2, 1);
      split(n[0], n[1], inst.values[0]);
      return;
    case InstKind::Fuse:
      need(3, 0);
      fuse(n[0], n[1], n[2]);
      return;
    case InstKind::Reorder:
      if (n.size() < 2) throw ScheduleError(str_cat("instruction '", inst, "' names no loops"));
      reorder(n[0], std::vector<std::string>(n.begin() + 1, n.end()));
      return;
    case InstKind::Parallel:
      need(2, 0);
      parallel(n[0], n[1]);
      return;
    case InstKind::Vectorize:
      need(2, 0);
      vectorize(n[0], n[1]);
      return;
    case InstKind::Unroll:
      need(2, 0);
      unroll(n[0], n[1]);
      return;
    case InstKind::Bind:
      need(2, 2);
      bind(n[0], n[1], static_cast<ForKind>(inst.values[0]), static_cast<int>(inst.values[1]));
      return;
    case InstKind::ComputeInline:
      need(1, 0);
      compute_inline(n[0]);
      return;
    case InstKind::ComputeAt:
      need(3, 0);
      compute_at(n[0], n[1], n[2]);
      return;
    case InstKind::RFactor:
      need(2, 1);
      rfactor(n[0], n[1], inst.values[0]);
      return;
    case InstKind::CacheRead:
      if (n.empty() || n.size() > 2 || inst.values.empty())
        throw ScheduleError(str_cat("instruction '", inst, "' has the wrong number of operands"));
      {
        // The layout names every dimension of the operand when the copy has panels; the panel
        // width follows it, then the group size where it has groups.
        std::vector<int64_t> layout(inst.values.begin() + 1, inst.values.end());
        std::vector<Tensor> read = operands(n[0]);
        int64_t panel = 0, group = 0;
        int64_t rank = inst.values[0] >= 0 && inst.values[0] < static_cast<int64_t>(read.size())
                           ? read[inst.values[0]]->rank()
                           : -1;
        if (rank >= 0 && static_cast<int64_t>(layout.size()) == rank + 2) {
          group = layout.back();
          layout.pop_back();
        }
        if (rank >= 0 && static_cast<int64_t>(layout.size()) == rank + 1) {
          panel = layout.back();
          layout.pop_back();
        }
        std::optional<DType> as;
        if (n.size() == 2) as = dtype_from_name(n[1]);
        cache_read(n[0], inst.values[0], layout, panel, as, group);
        return;
      }
  }
}

Schedule replay(const std::vector<Tensor>& outputs, const Trace& trace) {
  Schedule s(outputs);
  for (auto& inst : trace.insts) s.apply(inst);
  return s;
}

}  // namespace kiln

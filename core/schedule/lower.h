// Lowering: a Schedule becomes loop IR (a LoweredFunc) that every backend consumes.
#pragma once

#include <string>

#include "core/ir/stmt.h"
#include "core/schedule/schedule.h"

namespace kiln {

/// Lowers `schedule` to one function: builds the loop nests, then runs lowering_passes() over
/// them (lowering_passes.h; KILN_LOG=debug prints the function after each step; the golden
/// tests in tests/schedule/golden hold whole results). Takes the schedule's stages as they are
/// (inlined stages already substituted); gives one loop nest per root stage in topological order,
/// each attached stage realized inside its target's loop over the region that loop reads,
/// reductions accumulated in local buffers (registers after the backend's SROA), guards only where
/// a split does not divide or a region may leave its tensor, and parallel loops over too little
/// work made serial (parallel_grain.h). Parameters: the placeholders
/// (placeholders_of(outputs)), then the outputs. Throws ScheduleError when an attachment cannot
/// be honoured (e.g. a stage read outside the loop it is computed at).
LoweredFunc lower(const Schedule& schedule, const std::string& name);

}  // namespace kiln

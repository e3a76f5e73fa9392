// The schedule a workload runs with before any tuning: never blocks on search, already decent.
#pragma once

#include <string>
#include <vector>

#include "core/ir/target.h"
#include "core/schedule/schedule.h"
#include "core/templates/knobs.h"

namespace kiln {

/// Schedules `outputs` by op class (op_class.h):
///  - injective producers are inlined into their consumers;
///  - contractions (matmul, convolution) get a register tile (rows unrolled, columns one or two
///    vectors wide) accumulated in registers, with the epilogue computed on the tile;
///  - row reductions (softmax, layer_norm, sums over the innermost axis) are computed per row
///    inside the consumer's row loop, with vector-wide partial accumulators (rfactor);
///  - column reductions accumulate a vector of outputs at once;
///  - injective outputs fuse their outer axes into one parallel loop and vectorize the inner;
///  - scans keep their scan axis one serial loop, parallel and vector loops around it.
/// Outer loops run in parallel on `target.num_threads` threads, where they have enough work
/// (lowering makes the others serial, parallel_grain.h). Every open decision (tile
/// sizes, loop order, vector width, partial accumulators, ...) is a knob asked of `knobs`, so the
/// same template spans the tuning space; its preferred values are the default schedule.
Schedule template_schedule(const std::vector<Tensor>& outputs, const Target& target,
                           KnobChooser& knobs);

/// template_schedule with every knob at its preferred value.
Schedule default_schedule(const std::vector<Tensor>& outputs, const Target& target);

}  // namespace kiln

// The classes of stage the default template schedules each its own way, and the one order in
// which they claim a group: the template (default_schedule.cpp) dispatches on it and the tuning
// cache describes workloads by it, so the two cannot disagree.
#pragma once

#include <string_view>
#include <vector>

#include "core/schedule/schedule.h"

namespace kiln {

/// In rank order: the first class that any stage of a group has is the group's class.
enum class OpClass {
  Scan,         ///< cumsum, cumprod, logcumsumexp, cummax: a serial loop along the scan axis.
  Scatter,      ///< scatter, index_put: the destination copied, then the updates applied.
  Contraction,  ///< A sum of products: matmul, batched matmul, convolution.
  Reduction,    ///< Any other reduction: sums, norms, softmax's max and sum.
  Injective,    ///< Everything else: each output element from its own inputs.
};

/// The class of one stage.
OpClass stage_class(const Stage& s);

/// The class of a group: the first in rank order that one of its stages has. A scan or a
/// scatter anywhere makes every stage a root of its own (they lower to loops of their own);
/// otherwise the main stage's class picks its template and the other stages join its rows.
OpClass group_class(const Schedule& s);

/// "scan", "scatter", "contraction", "reduction", "injective" (as the tuning cache stores it).
std::string_view op_class_name(OpClass c);

/// The name of the class of the group computing `outputs`.
std::string_view op_class_of(const std::vector<Tensor>& outputs);

}  // namespace kiln

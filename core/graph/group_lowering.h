// The compute definitions of one fusion group. Private to core/graph.
#pragma once

#include <vector>

#include "core/graph/graph.h"

namespace kiln {

/// Builds the FusionGroup of `nodes` (sorted node indices of `g`): `group_of` gives each node's
/// group number (-1 for nodes outside every group), so that inputs made by another group get
/// row-major placeholders (the layout contract in graph.h) and the outputs are the values read
/// outside the group or marked graph outputs. Each node is lowered through `ops` in order on
/// the tensors of its arguments.
FusionGroup lower_group(const Graph& g, const std::vector<int>& nodes,
                        const std::vector<int>& group_of, const OpRegistry& ops);

}  // namespace kiln

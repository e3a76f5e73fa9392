// The fusion step of partition: which supported nodes share a kernel. Private to core/graph.
#pragma once

#include <vector>

#include "core/graph/node_class.h"

namespace kiln {

/// Greedy fusion in node order (the rules are listed at partition in graph.h). Returns a group
/// number per node, -1 for fallback nodes; numbers are dense and ordered by each group's first
/// node.
std::vector<int> fuse_nodes(const Graph& g, const std::vector<NodeInfo>& info);

}  // namespace kiln

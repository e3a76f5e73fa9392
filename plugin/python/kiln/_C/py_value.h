// kiln._C.Value: a value of a graph named in an argument list (the Graph API's node arguments,
// the GraphExecutor's operator arguments).
#pragma once

#include "core/graph/graph.h"

namespace kiln {

/// A tensor argument of a node: Value(id).
struct PyValue {
  ValueId id;
};

}  // namespace kiln

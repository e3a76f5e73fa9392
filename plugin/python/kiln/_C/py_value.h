// kiln._C.Value: a value of a graph named in an argument list (the Graph API's node arguments,
// the GraphExecutor's operator arguments).
#pragma once

namespace kiln {

/// A tensor argument of a node: Value(id), id a ValueId of the Graph API or a value of a
/// GraphExecutor (both ints).
struct PyValue {
  int id;
};

}  // namespace kiln

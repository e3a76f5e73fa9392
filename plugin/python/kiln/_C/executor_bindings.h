// The binding of plugin/torch/graph_executor.h: kiln._C.GraphExecutor.
#pragma once

#include <pybind11/pybind11.h>

namespace kiln {

void bind_executor(pybind11::module_& m);

}  // namespace kiln

// The reference interpreter: evaluates compute definitions point by point, in double precision
// for floats (rounding every stored element to its dtype), obviously correct and slow. The ground
// truth that every kernel is tested against.
#pragma once

#include <vector>

#include "core/ir/tensor.h"
#include "core/runtime/host_tensor.h"

namespace kiln {

/// Evaluates `outputs`. `inputs` bind placeholders_of(outputs) in order; throws Error when their
/// number, dtypes or shapes do not match. Returns one row-major tensor per output.
std::vector<HostTensor> interpret(const std::vector<Tensor>& outputs,
                                  const std::vector<HostTensor>& inputs);

}  // namespace kiln

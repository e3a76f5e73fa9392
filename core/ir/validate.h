// Checks that a tensor program is well formed, with an IRError naming the tensor at fault.
#pragma once

#include <vector>

#include "core/ir/tensor.h"

namespace kiln {

/// Every variable in a body is one of its axes or reduce axes; a Reduce appears only as a whole
/// body; loads have one integer index per dimension; constant indices are in bounds.
void validate(const std::vector<Tensor>& outputs);

}  // namespace kiln

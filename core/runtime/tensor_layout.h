// Layout facts shared by the runtime's checks: how far strides reach, and how layouts print in
// error messages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/ir/dtype.h"

namespace kiln {

struct HostTensor;

/// Elements a strided view spans from element 0: 1 + sum((shape[d]-1) * strides[d]); 0 when the
/// view is empty. Strides must be non-negative.
int64_t storage_span(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides);

/// True when every element of `t` lies inside its storage (so reading it cannot leave the buffer).
bool fits_storage(const HostTensor& t);

/// "[64, 32]".
std::string dims_string(const std::vector<int64_t>& dims);
/// "f32[64, 32] strides [32, 1]".
std::string layout_string(DType dtype, const std::vector<int64_t>& shape,
                          const std::vector<int64_t>& strides);

}  // namespace kiln

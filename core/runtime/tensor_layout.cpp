#include "core/runtime/tensor_layout.h"

#include "core/runtime/host_tensor.h"
#include "core/support/error.h"

namespace kiln {

int64_t storage_span(const std::vector<int64_t>& shape, const std::vector<int64_t>& strides) {
  int64_t span = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0) return 0;
    span += (shape[d] - 1) * strides[d];
  }
  return span;
}

bool fits_storage(const HostTensor& t) {
  if (t.strides.size() != t.shape.size()) return false;
  for (int64_t s : t.strides)
    if (s < 0) return false;
  int64_t span = storage_span(t.shape, t.strides);
  return span == 0 || (t.storage && t.offset >= 0 && t.offset + span <= t.storage_elements);
}

std::string dims_string(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t d = 0; d < dims.size(); ++d) s += (d ? ", " : "") + std::to_string(dims[d]);
  return s + "]";
}

std::string layout_string(DType dtype, const std::vector<int64_t>& shape,
                          const std::vector<int64_t>& strides) {
  return str_cat(dtype, dims_string(shape), " strides ", dims_string(strides));
}

}  // namespace kiln

#include "core/ops/window.h"

namespace kiln {

std::array<int64_t, 2> int_pair(const OpArgs& a, int i, std::array<int64_t, 2> fallback) {
  std::vector<int64_t> v = a.ints(i);
  if (v.empty()) return fallback;
  if (v.size() == 1) return {v[0], v[0]};
  if (v.size() != 2) throw a.error(i, str_cat("has ", v.size(), " values, expected 2"));
  return {v[0], v[1]};
}

int64_t window_output_size(int64_t size, int64_t extent, int64_t stride, int64_t pad,
                           bool ceil_mode) {
  int64_t span = size + 2 * pad - extent;
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= size + pad) --out;
  return out;
}

}  // namespace kiln

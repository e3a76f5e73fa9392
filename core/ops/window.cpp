#include "core/ops/window.h"

namespace kiln {

std::array<int64_t, 2> int_pair(const OpArgs& a, int i, std::array<int64_t, 2> fallback) {
  std::vector<int64_t> v = int_tuple(a, i, 2, {fallback[0], fallback[1]});
  return {v[0], v[1]};
}

std::vector<int64_t> int_tuple(const OpArgs& a, int i, size_t n, std::vector<int64_t> fallback) {
  std::vector<int64_t> v = a.ints(i);
  if (v.empty()) return fallback;
  if (v.size() == 1) return std::vector<int64_t>(n, v[0]);
  if (v.size() != n) throw a.error(i, str_cat("has ", v.size(), " values, expected ", n));
  return v;
}

int64_t window_output_size(int64_t size, int64_t extent, int64_t stride, int64_t pad,
                           bool ceil_mode) {
  int64_t span = size + 2 * pad - extent;
  int64_t out = (span + (ceil_mode ? stride - 1 : 0)) / stride + 1;
  if (ceil_mode && (out - 1) * stride >= size + pad) --out;
  return out;
}

}  // namespace kiln

// Window geometry shared by convolution and pooling: the per-dimension int-list arguments and the
// output size of a sliding window.
#pragma once

#include <array>
#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// An int[2] argument; one value means both dims; `fallback` is used for an empty list.
std::array<int64_t, 2> int_pair(const OpArgs& a, int i, std::array<int64_t, 2> fallback = {0, 0});

/// An int[n] argument; one value means every dim; `fallback` (n values) is used for an empty list.
std::vector<int64_t> int_tuple(const OpArgs& a, int i, size_t n, std::vector<int64_t> fallback);

/// Output size of a window of `extent` (= dilation * (kernel - 1) + 1) sliding with `stride` over
/// `size` padded by `pad` on both sides. With `ceil_mode`, a last partial window counts if it
/// starts inside the input or left padding, as in PyTorch's pooling.
int64_t window_output_size(int64_t size, int64_t extent, int64_t stride, int64_t pad,
                           bool ceil_mode);

}  // namespace kiln

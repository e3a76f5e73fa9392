// Checks shared by the contraction and convolution ops.
#pragma once

#include "core/ops/op_args.h"

namespace kiln {

/// The dtype two operands (arguments i and j) of a contraction share; they must agree, like in
/// ATen, and not be bool.
DType contraction_dtype(const OpArgs& a, int i, const Tensor& x, int j, const Tensor& y);

/// Requires argument `i` to have rank `rank`, naming the expected layout (e.g. "[M, K]").
void require_rank(const OpArgs& a, int i, const Tensor& t, int rank, std::string_view layout);

}  // namespace kiln

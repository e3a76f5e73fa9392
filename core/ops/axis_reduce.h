// Reductions over some dimensions of a tensor, the building block of the reduction and
// normalization ops: which dims, the result shape, and the compute whose whole body is the Reduce.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// The dims argument `i` of a reduction normalized, sorted and without repeats; None or an empty
/// list means every dim, as in PyTorch's sum/mean/amax.
std::vector<int64_t> reduction_dims(const OpArgs& a, int i,
                                    const std::optional<std::vector<int64_t>>& dims, int64_t rank);

/// The shape after reducing `dims` of `shape`: removed, or kept as size 1 with `keepdim`.
std::vector<int64_t> reduced_shape(const std::vector<int64_t>& shape,
                                   const std::vector<int64_t>& dims, bool keepdim);

/// The index into a reduced tensor (shape reduced_shape(..., keepdim)) of the point `full_index`
/// of the unreduced tensor.
std::vector<Expr> reduced_index(const std::vector<Expr>& full_index,
                                const std::vector<int64_t>& dims, bool keepdim);

/// A compute `name` of shape reduced_shape(shape, dims, keepdim) whose body is
/// reduce(op, source(index), axes of `dims`); `source` gets the full index into `shape`, with
/// reduce variables in the reduced dims. Every reduced dim must be non-empty. With no dims the
/// body is the source itself (0 for ArgMax/ArgMin): a rank-0 tensor reduces to itself.
Tensor reduce_over(const OpArgs& a, const std::string& name, const std::vector<int64_t>& shape,
                   const std::vector<int64_t>& dims, bool keepdim, ReduceOp op,
                   const std::function<Expr(const std::vector<Expr>& index)>& source);

/// The number of elements `dims` of `shape` cover.
int64_t reduced_count(const std::vector<int64_t>& shape, const std::vector<int64_t>& dims);

/// The mean of `x` over `dims` computed in `acc` (a sum, then a divide), shaped with `keepdim`;
/// the divide is the compute named `name`.
Tensor mean_of(const OpArgs& a, const std::string& name, const Tensor& x,
               const std::vector<int64_t>& dims, bool keepdim, DType acc);

/// The sum over `dims` of (x - mean)^2 in mean's dtype, where `mean` is shaped as
/// reduced_shape(x, dims, keepdim): the second pass of a two-pass variance.
Tensor squared_deviations(const OpArgs& a, const std::string& name, const Tensor& x,
                          const Tensor& mean, const std::vector<int64_t>& dims, bool keepdim);

/// `t` cast to `dtype` elementwise as a compute named `name`; `t` itself when it has that dtype.
Tensor cast_tensor(const std::string& name, const Tensor& t, DType dtype);

}  // namespace kiln

// Kiln's types as PyTorch's: dtypes both ways, a kernel buffer seen as an at::Tensor, and
// whether a tensor has a kernel parameter's layout.
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <vector>

#include "core/graph/graph.h"
#include "core/ir/stmt.h"

namespace kiln {

at::ScalarType torch_dtype(DType t);

/// The Kiln dtype of a torch dtype, or nothing for one Kiln does not have (complex, uint8, ...).
std::optional<DType> kiln_dtype(at::ScalarType t);

/// The CPU tensor of type `type` whose element 0 is at `data` (not owned: it lives as long as
/// the caller's buffer).
at::Tensor tensor_over(void* data, const TensorType& type);

/// The CPU tensor type of kernel parameter `p`.
TensorType param_type(const Tensor& p);

/// The types of `f`'s input parameters.
std::vector<TensorType> input_types(const LoweredFunc& f);

/// A new uninitialized CPU tensor of type `type`.
at::Tensor empty_tensor(const TensorType& type);

/// True when `t` is a CPU tensor laid out exactly as `type` says. A dimension of size 1 is only
/// ever indexed at 0, so its stride is free (PyTorch gives such dimensions arbitrary strides).
bool laid_out_as(const at::Tensor& t, const TensorType& type);

}  // namespace kiln

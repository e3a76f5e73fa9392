#include "plugin/torch/torch_types.h"

#include <ATen/ATen.h>

#include "core/ir/error.h"

namespace kiln {

at::ScalarType torch_dtype(DType t) {
  switch (t) {
    case DType::Bool:
      return at::kBool;
    case DType::I32:
      return at::kInt;
    case DType::I64:
      return at::kLong;
    case DType::F16:
      return at::kHalf;
    case DType::BF16:
      return at::kBFloat16;
    case DType::F32:
      return at::kFloat;
    case DType::F64:
      return at::kDouble;
  }
  throw InternalError(str_cat("unknown dtype ", static_cast<int>(t)));
}

std::optional<DType> kiln_dtype(at::ScalarType t) {
  for (DType d :
       {DType::Bool, DType::I32, DType::I64, DType::F16, DType::BF16, DType::F32, DType::F64})
    if (torch_dtype(d) == t) return d;
  return std::nullopt;
}

at::Tensor tensor_over(void* data, const TensorType& type) {
  return at::from_blob(data, type.shape, type.strides,
                       at::TensorOptions().dtype(torch_dtype(type.dtype)));
}

at::Tensor empty_tensor(const TensorType& type) {
  return at::empty_strided(type.shape, type.strides,
                           at::TensorOptions().dtype(torch_dtype(type.dtype)));
}

}  // namespace kiln

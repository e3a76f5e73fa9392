#include "plugin/torch/torch_types.h"

#include <ATen/ATen.h>
#include <ATen/EmptyTensor.h>

#include <utility>

#include "core/support/error.h"

namespace kiln {

namespace {

constexpr std::pair<DType, at::ScalarType> kDTypes[] = {
    {DType::Bool, at::kBool},  {DType::I32, at::kInt},       {DType::I64, at::kLong},
    {DType::F16, at::kHalf},   {DType::BF16, at::kBFloat16}, {DType::F32, at::kFloat},
    {DType::F64, at::kDouble}, {DType::I8, at::kChar},       {DType::I16, at::kShort}};

}  // namespace

at::ScalarType torch_dtype(DType t) {
  for (auto [dtype, scalar] : kDTypes)
    if (dtype == t) return scalar;
  throw InternalError(str_cat("unknown dtype ", static_cast<int>(t)));
}

std::optional<DType> kiln_dtype(at::ScalarType t) {
  for (auto [dtype, scalar] : kDTypes)
    if (scalar == t) return dtype;
  return std::nullopt;
}

at::Tensor tensor_over(void* data, const TensorType& type) {
  return at::from_blob(data, type.shape, type.strides,
                       at::TensorOptions().dtype(torch_dtype(type.dtype)));
}

at::Tensor empty_tensor(const TensorType& type) {
  // CPU memory straight from the allocator: at::empty_strided would go through the dispatcher,
  // a few hundred nanoseconds per kernel output.
  return at::detail::empty_strided_cpu(type.shape, type.strides, torch_dtype(type.dtype));
}

TensorType param_type(const Tensor& p) {
  return {p->dtype, p->shape, p->strides, "cpu"};
}

std::vector<TensorType> input_types(const LoweredFunc& f) {
  std::vector<TensorType> types;
  for (int i = 0; i < f.num_inputs; ++i) types.push_back(param_type(f.params[i]));
  return types;
}

bool laid_out_as(const at::Tensor& t, const TensorType& type) {
  if (!t.device().is_cpu() || kiln_dtype(t.scalar_type()) != type.dtype ||
      t.sizes() != at::IntArrayRef(type.shape))
    return false;
  for (size_t d = 0; d < type.shape.size(); ++d)
    if (type.shape[d] != 1 && t.stride(d) != type.strides[d]) return false;
  return true;
}

}  // namespace kiln

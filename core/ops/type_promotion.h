// PyTorch's result-type rules for operands of mixed dtypes, including its special standing of
// Python scalars and zero-dimensional tensors: they raise the result only to a higher category
// (bool < integer < float), never within one (f16 tensor + 2.5 -> f16; i32 tensor + 2.5 -> f32).
#pragma once

#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// One operand as promotion sees it.
struct PromotionOperand {
  DType dtype;
  enum Kind { kTensor, kZeroDimTensor, kScalar } kind;
};

PromotionOperand operand_of(const Tensor& t);
PromotionOperand operand_of(const Scalar& s);

/// torch.result_type over the operands (at least one).
DType result_type(const std::vector<PromotionOperand>& operands);

/// The float dtype an op that always gives floats (div, sqrt, mean, ...) yields for `t`:
/// t itself when float, else the default dtype f32.
DType float_result(DType t);

}  // namespace kiln

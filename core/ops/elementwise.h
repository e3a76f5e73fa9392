// The shared builder of elementwise ops, and the registration functions of the elementwise
// sub-families (each in its own file), which register_elementwise_ops calls.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/ops/op_args.h"

namespace kiln {

/// The short name of an op for naming its compute tensors: "aten.add.Tensor" -> "add".
std::string short_name(const std::string& op);

/// A compute named after the op over the broadcast shape of `inputs`: each input is read at the
/// broadcast index and cast to `operand_dtype`, and fn's result is cast to `out_dtype`. Ops on
/// f16/bf16 pass an f32 operand type so that the value is rounded to 16 bits once, at the end.
Tensor elementwise(const OpArgs& a, const std::vector<Tensor>& inputs, DType operand_dtype,
                   DType out_dtype, const std::function<Expr(const std::vector<Expr>&)>& fn);

/// The same with the inputs loaded in their own dtypes and fn's result taken as it is.
Tensor elementwise(const OpArgs& a, const std::vector<Tensor>& inputs,
                   const std::function<Expr(const std::vector<Expr>&)>& fn);

/// Throws OpError when argument `i`, a tensor of dtype `t`, is bool: arithmetic ops are not
/// defined on bool here.
void require_numeric(const OpArgs& a, int i, DType t);

void register_unary_ops(OpRegistry& r);
void register_binary_ops(OpRegistry& r);
void register_conversion_ops(OpRegistry& r);

}  // namespace kiln

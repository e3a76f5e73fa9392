// Compiles the scalar expressions of a compute body into trees of closures for the interpreter.
// Variables are resolved to slots, tensors to buffers and ops to specialized code once, before the
// first evaluation, so that evaluating a point allocates nothing and never looks anything up.
//
// Semantics are those documented in core/ir/expr.h: floats in double precision (rounded only where
// a Cast or a store says so), integers in int64 wrapped to i32 where the dtype is i32, bools as
// 0/1.
#pragma once

#include <cstdint>
#include <functional>
#include <unordered_map>

#include "core/ir/tensor.h"
#include "core/runtime/host_tensor.h"

namespace kiln {

/// A compiled float expression: its value, given the values of the variables by slot.
using FloatCode = std::function<double(const int64_t* slots)>;
/// A compiled integer or bool expression: its value wrapped to its dtype (bools 0 or 1).
using IntCode = std::function<int64_t(const int64_t* slots)>;

/// What compiled code refers to. The tensors and buffers must outlive the code.
struct ExprScope {
  const TensorNode* consumer = nullptr;           ///< Named in run-time errors.
  std::unordered_map<const VarNode*, int> slots;  ///< Every variable the code may read.
  std::unordered_map<const TensorNode*, const HostTensor*> buffers;  ///< Every tensor it may load.
};

/// Compiles an expression of float dtype. Reduce nodes are not expressions here (the interpreter
/// runs them). The code throws Error on a load out of bounds, naming the tensors and the index.
FloatCode compile_float(const Expr& e, const ExprScope& scope);
/// Compiles an expression of integer or bool dtype; also throws Error on integer division by zero.
IntCode compile_int(const Expr& e, const ExprScope& scope);

}  // namespace kiln

// The arithmetic of the reference interpreter, one function per op and value kind, as documented in
// core/ir/expr.h: floats in double, integers in int64 with two's-complement wrap-around (the caller
// wraps results to i32 where the dtype says so), bools as 0/1.
#pragma once

#include <cstdint>

#include "core/ir/expr.h"

namespace kiln {

using FloatBinaryFn = double (*)(double, double);
using IntBinaryFn = int64_t (*)(int64_t, int64_t);
using FloatCompareFn = int64_t (*)(double, double);
using FloatUnaryFn = double (*)(double);
using IntUnaryFn = int64_t (*)(int64_t);

/// True for the integer ops that divide by their second operand (Div, FloorDiv, FloorMod, Mod);
/// their functions below must not be called with a zero divisor.
bool divides(BinaryOp op);

/// Arithmetic op (Add .. Pow) on floats.
FloatBinaryFn float_binary(BinaryOp op);
/// Comparison (Eq .. Ge) of floats, giving 0 or 1.
FloatCompareFn float_comparison(BinaryOp op);
/// Any op but a float-only one on int64 values (arithmetic, comparison, logical on 0/1).
IntBinaryFn int_binary(BinaryOp op);
/// Unary op with a float result on a float operand (all but Not and IsNan).
FloatUnaryFn float_unary(UnaryOp op);
/// Unary op on an integer or bool operand (Neg, Not, Abs, Floor, Ceil, Round, Trunc, IsNan).
IntUnaryFn int_unary(UnaryOp op);

}  // namespace kiln

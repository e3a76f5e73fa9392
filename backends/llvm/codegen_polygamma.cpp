// digamma and trigamma (polygamma of orders 0 and 1) for f32 as inline arithmetic, so that they
// vectorize: a call per lane to the scalar functions (core/ir/special_math.cpp) ran at 0.8-0.9x
// eager. The scalar functions' branches become selects (both sides of the reflection are computed)
// and their recurrence loops run their largest trip count with a mask per lane; every operation
// is the scalar function's, in its order (LLVM may still contract a multiply and an add into one
// FMA, and log, sin and tan are libmvec's), so each lane follows the scalar function's steps.
#include <limits>
#include <numbers>

#include "backends/llvm/codegen_impl.h"
#include "core/ir/special_coefficients.h"

namespace kiln::llvm_backend {

llvm::Value* KernelCodegen::polynomial_f32(llvm::Value* x, std::span<const float> c) {
  auto k = [&](float v) { return llvm::ConstantFP::get(x->getType(), v); };
  llvm::Value* acc = k(c[0]);
  for (size_t i = 1; i < c.size(); ++i) acc = b_.CreateFAdd(b_.CreateFMul(acc, x), k(c[i]));
  return acc;
}

llvm::Value* KernelCodegen::digamma_f32(llvm::Value* x) {
  auto k = [&](float v) { return llvm::ConstantFP::get(x->getType(), v); };
  auto trunc = [&](llvm::Value* v) {
    return b_.CreateIntrinsic(llvm::Intrinsic::trunc, {v->getType()}, {v});
  };
  // Below zero, digamma(1 - x) - pi / tan(pi r), r the fractional part, the quotient in double;
  // NaN at the poles (the negative integers).
  llvm::Value* negative = b_.CreateFCmpOLT(x, k(0.0f));
  llvm::Value* xd = b_.CreateFPExt(x, like(b_.getDoubleTy(), x));
  llvm::Value* pi = llvm::ConstantFP::get(xd->getType(), std::numbers::pi);
  llvm::Value* tan =
      call_libm("tan", DType::F64, {b_.CreateFMul(pi, b_.CreateFSub(xd, trunc(xd)))});
  llvm::Value* reflection = b_.CreateFPTrunc(b_.CreateFDiv(pi, tan), x->getType());
  llvm::Value* v = b_.CreateSelect(negative, b_.CreateFSub(k(1.0f), x), x);
  // The recurrence up to 10: at most 10 steps, from just above 0.
  llvm::Value* result = k(0.0f);
  for (int step = 0; step < 10; ++step) {
    llvm::Value* below = b_.CreateFCmpOLT(v, k(10.0f));
    result = b_.CreateSelect(below, b_.CreateFSub(result, b_.CreateFDiv(k(1.0f), v)), result);
    v = b_.CreateSelect(below, b_.CreateFAdd(v, k(1.0f)), v);
  }
  llvm::Value* z = b_.CreateFDiv(k(1.0f), b_.CreateFMul(v, v));
  llvm::Value* y = b_.CreateSelect(
      b_.CreateFCmpOLT(v, k(1.0e17f)),
      b_.CreateFMul(z, polynomial_f32(z, special::kDigammaAsymptotic<float>)), k(0.0f));
  llvm::Value* series =
      b_.CreateFSub(b_.CreateFSub(b_.CreateFAdd(result, call_libm("log", DType::F32, {v})),
                                  b_.CreateFDiv(k(0.5f), v)),
                    y);
  llvm::Value* out =
      b_.CreateSelect(b_.CreateFCmpOEQ(v, k(10.0f)),
                      b_.CreateFAdd(result, k(static_cast<float>(special::kDigammaAt10))), series);
  out = b_.CreateSelect(negative, b_.CreateFSub(out, reflection), out);
  out = b_.CreateSelect(b_.CreateAnd(negative, b_.CreateFCmpOEQ(x, trunc(x))),
                        k(std::numeric_limits<float>::quiet_NaN()), out);
  // ±0: the pole's infinity, of the sign opposite to zero's.
  llvm::Value* pole =
      b_.CreateIntrinsic(llvm::Intrinsic::copysign, {x->getType()},
                         {k(std::numeric_limits<float>::infinity()), b_.CreateFNeg(x)});
  return b_.CreateSelect(b_.CreateFCmpOEQ(x, k(0.0f)), pole, out);
}

llvm::Value* KernelCodegen::trigamma_f32(llvm::Value* x) {
  auto k = [&](float v) { return llvm::ConstantFP::get(x->getType(), v); };
  constexpr float pi = std::numbers::pi_v<float>;
  // Below 1/2, the reflection: -pi^2 / sin(pi x)^2, then trigamma(1 - x) with the sign flipped.
  llvm::Value* reflect = b_.CreateFCmpOLT(x, k(0.5f));
  llvm::Value* sine = call_libm("sin", DType::F32, {b_.CreateFMul(k(pi), x)});
  llvm::Value* reflection = b_.CreateFDiv(k(pi * pi), b_.CreateFMul(sine, sine));
  llvm::Value* result = b_.CreateSelect(reflect, b_.CreateFSub(k(0.0f), reflection), k(0.0f));
  llvm::Value* v = b_.CreateSelect(reflect, b_.CreateFSub(k(1.0f), x), x);
  for (int step = 0; step < 6; ++step) {
    result = b_.CreateFAdd(result, b_.CreateFDiv(k(1.0f), b_.CreateFMul(v, v)));
    v = b_.CreateFAdd(v, k(1.0f));
  }
  llvm::Value* ixx = b_.CreateFDiv(k(1.0f), b_.CreateFMul(v, v));
  // 1 + 1 / (2 v) + ixx (1/6 - ixx (1/30 - ixx / 42)), over v.
  llvm::Value* inner = b_.CreateFSub(
      k(1.0f / 6),
      b_.CreateFMul(ixx, b_.CreateFSub(k(1.0f / 30), b_.CreateFMul(ixx, k(1.0f / 42)))));
  llvm::Value* tail =
      b_.CreateFAdd(b_.CreateFAdd(k(1.0f), b_.CreateFDiv(k(1.0f), b_.CreateFMul(k(2.0f), v))),
                    b_.CreateFMul(ixx, inner));
  result = b_.CreateFAdd(result, b_.CreateFDiv(tail, v));
  return b_.CreateFMul(b_.CreateSelect(reflect, k(-1.0f), k(1.0f)), result);
}

}  // namespace kiln::llvm_backend

// The modified Bessel functions i0, i0e, i1 and i1e for f32 as inline arithmetic, so that they
// vectorize: a call per lane to the scalar functions (core/ir/bessel_math.cpp) was 5-7x slower
// than eager. Each lane evaluates both Chebyshev series, on [0, 8] and on (8, inf) in 1/x, and
// keeps the one for its interval; the series, their coefficients (core/ir/bessel_coefficients.h)
// and the order of each product and quotient are the scalar functions', which are eager's (LLVM
// may still contract a multiply and an add into one FMA; the exponential is Kiln's).
#include <span>

#include "backends/llvm/codegen_impl.h"
#include "core/ir/bessel_coefficients.h"

namespace kiln::llvm_backend {

namespace {

/// The last `terms` coefficients of `table`, in float.
template <typename T, size_t N>
std::vector<float> last_terms(const T (&table)[N], size_t terms = N) {
  std::vector<float> out;
  for (size_t i = N - terms; i < N; ++i) out.push_back(static_cast<float>(table[i]));
  return out;
}

}  // namespace

llvm::Value* KernelCodegen::chebyshev_f32(llvm::Value* y, std::span<const float> c) {
  // Clenshaw's recurrence as Cephes's chbevl writes it: b0 = y * b1 - b2 + c[i].
  auto k = [&](float v) { return llvm::ConstantFP::get(y->getType(), v); };
  llvm::Value *b0 = k(c[0]), *b1 = k(0.0f), *b2 = k(0.0f);
  for (size_t i = 1; i < c.size(); ++i) {
    b2 = b1;
    b1 = b0;
    b0 = b_.CreateFAdd(b_.CreateFSub(b_.CreateFMul(y, b1), b2), k(c[i]));
  }
  return b_.CreateFMul(k(0.5f), b_.CreateFSub(b0, b2));
}

llvm::Value* KernelCodegen::bessel_f32(UnaryOp op, llvm::Value* x) {
  using namespace kiln::bessel;
  auto k = [&](float v) { return llvm::ConstantFP::get(x->getType(), v); };
  auto intrinsic = [&](llvm::Intrinsic::ID id, llvm::Value* v) {
    return b_.CreateIntrinsic(id, {v->getType()}, {v});
  };
  bool order1 = op == UnaryOp::I1 || op == UnaryOp::I1e;
  bool scaled = op == UnaryOp::I0e || op == UnaryOp::I1e;
  static const std::vector<float> i0_near = last_terms(kI0eNear<double>),
                                  i0_far = last_terms(kI0eFar<double>),
                                  i1_near = last_terms(kI1eNear, kI1eNearFloatTerms),
                                  i1_far = last_terms(kI1eFar, kI1eFarFloatTerms);
  llvm::Value* a = intrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value* near_y = b_.CreateFSub(b_.CreateFDiv(a, k(2.0f)), k(2.0f));
  llvm::Value* far_y = b_.CreateFSub(b_.CreateFDiv(k(32.0f), a), k(2.0f));
  llvm::Value* near = chebyshev_f32(near_y, order1 ? i1_near : i0_near);
  llvm::Value* far = chebyshev_f32(far_y, order1 ? i1_far : i0_far);
  llvm::Value* root = intrinsic(llvm::Intrinsic::sqrt, a);
  if (scaled) {
    if (order1) near = b_.CreateFMul(near, a);
    far = b_.CreateFDiv(far, root);
  } else {
    llvm::Value* e = exp_f32(a);
    near = order1 ? b_.CreateFMul(b_.CreateFMul(e, a), near) : b_.CreateFMul(e, near);
    far = b_.CreateFDiv(b_.CreateFMul(e, far), root);
  }
  llvm::Value* out = b_.CreateSelect(b_.CreateFCmpOLE(a, k(8.0f)), near, far);
  if (!order1) return out;
  // i1 and i1e are odd.
  return b_.CreateSelect(b_.CreateFCmpOLT(x, k(0.0f)), b_.CreateFNeg(out), out);
}

}  // namespace kiln::llvm_backend

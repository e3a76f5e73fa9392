// exp, erf, tanh and atanh for f32 as inline arithmetic: no call, so no vector registers spilled
// around one, and the same code serves scalar loops, LLVM's vectorizer and explicit vector loops.
// exp: Cephes' minimax polynomial after a two-constant Cody-Waite reduction (within 1 ulp).
// erf and tanh: the odd/even rational approximations of Eigen's and XLA's fast float paths
// (within 8 ulp or 4e-7 absolute), without any exp. Divisions in them may use the hardware
// reciprocal estimate with one Newton step (see new_function). atanh: glibc's reduction to log1p
// (within 2 ulp of the exact value on a dense sample), 1.3-1.6x Inductor where libmvec's atanhf
// ran at 0.9x.
#include <cmath>

#include "backends/llvm/codegen_impl.h"
#include "llvm/Analysis/VectorUtils.h"
#include "llvm/IR/IntrinsicsX86.h"

namespace kiln::llvm_backend {

namespace {

llvm::Value* splat_like(llvm::IRBuilder<>& b, llvm::Value* shape_of, float v) {
  return llvm::ConstantFP::get(shape_of->getType(), v);
}

/// c0 + x * (c1 + x * (c2 + ...)), evaluated with FMAs from the highest coefficient.
llvm::Value* horner(llvm::IRBuilder<>& b, llvm::Value* x,
                    std::initializer_list<float> high_to_low) {
  llvm::Value* acc = nullptr;
  for (float c : high_to_low) {
    llvm::Value* k = splat_like(b, x, c);
    acc = acc ? b.CreateIntrinsic(llvm::Intrinsic::fma, {x->getType()}, {acc, x, k}) : k;
  }
  return acc;
}

}  // namespace

llvm::Value* KernelCodegen::exp_f32(llvm::Value* x) {
  auto fma = [&](llvm::Value* a, llvm::Value* b, llvm::Value* c) {
    return b_.CreateIntrinsic(llvm::Intrinsic::fma, {a->getType()}, {a, b, c});
  };
  auto k = [&](float v) { return splat_like(b_, x, v); };
  // Beyond these the result is inf or 0. The clamps are written so that a NaN x passes through
  // (x > max is false for NaN), which x86 does in one vminps/vmaxps each.
  const float kMax = 89.0f, kMin = -104.0f;
  llvm::Value* xc = b_.CreateSelect(b_.CreateFCmpOGT(x, k(kMax)), k(kMax), x);
  xc = b_.CreateSelect(b_.CreateFCmpOLT(xc, k(kMin)), k(kMin), xc);
  llvm::Value* n = b_.CreateIntrinsic(llvm::Intrinsic::roundeven, {x->getType()},
                                      {b_.CreateFMul(xc, k(1.44269504088896341f))});
  llvm::Value* r = fma(n, k(-0.693359375f), xc);
  r = fma(n, k(2.12194440e-4f), r);
  llvm::Value* p = horner(b_, r,
                          {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                           1.6666665459e-1f, 5.0000001201e-1f});
  llvm::Value* y = fma(b_.CreateFMul(p, r), r, b_.CreateFAdd(r, k(1.0f)));
  if (llvm::Value* scaled = scale_by_pow2_avx512(y, n)) return scaled;
  // y * 2^n in two steps, so that n = 128 overflows to inf and n down to -150 rounds into the
  // subnormals, as exp does at its extremes (the clamp bounds n to that range).
  llvm::Type* int_type = like(b_.getInt32Ty(), x);
  llvm::Value* ni = b_.CreateFPToSI(n, int_type);
  llvm::Value* half = b_.CreateAShr(ni, llvm::ConstantInt::get(int_type, 1));
  auto pow2 = [&](llvm::Value* e) {
    llvm::Value* bits = b_.CreateShl(b_.CreateAdd(e, llvm::ConstantInt::get(int_type, 127)),
                                     llvm::ConstantInt::get(int_type, 23));
    return b_.CreateBitCast(bits, x->getType());
  };
  llvm::Value* result = b_.CreateFMul(b_.CreateFMul(y, pow2(half)), pow2(b_.CreateSub(ni, half)));
  // fptosi of a NaN n is poison: the NaN must be chosen explicitly here.
  return b_.CreateSelect(b_.CreateFCmpUNO(x, x), x, result);
}

llvm::Value* KernelCodegen::scale_by_pow2_avx512(llvm::Value* y, llvm::Value* n) {
  auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(y->getType());
  if (!vt || vt->getNumElements() % 16 != 0 || !has_cpu_feature(target_.features, "avx512f"))
    return nullptr;
  // vscalefps: y * 2^floor(n) with IEEE overflow, underflow and NaN, in one instruction.
  std::vector<llvm::Value*> parts;
  for (unsigned start = 0; start < vt->getNumElements(); start += 16) {
    auto lanes = llvm::createSequentialMask(start, 16, 0);
    llvm::Value* ys = b_.CreateShuffleVector(y, lanes);
    parts.push_back(b_.CreateIntrinsic(
        llvm::Intrinsic::x86_avx512_mask_scalef_ps_512, {},
        {ys, b_.CreateShuffleVector(n, lanes), llvm::PoisonValue::get(ys->getType()),
         b_.getInt16(0xFFFF), b_.getInt32(4 /* current rounding mode */)}));
  }
  return parts.size() == 1 ? parts[0] : llvm::concatenateVectors(b_, parts);
}

/// x * P(x^2) / Q(x^2) for x clamped to [-limit, limit]; NaN stays NaN.
llvm::Value* KernelCodegen::odd_rational_f32(llvm::Value* x, float limit,
                                             std::initializer_list<float> p_high_to_low,
                                             std::initializer_list<float> q_high_to_low) {
  auto k = [&](float v) { return splat_like(b_, x, v); };
  llvm::Value* xc = b_.CreateIntrinsic(
      llvm::Intrinsic::maxnum, {x->getType()},
      {b_.CreateIntrinsic(llvm::Intrinsic::minnum, {x->getType()}, {x, k(limit)}), k(-limit)});
  llvm::Value* x2 = b_.CreateFMul(xc, xc);
  llvm::Value* p = b_.CreateFMul(xc, horner(b_, x2, p_high_to_low));
  llvm::Value* q = horner(b_, x2, q_high_to_low);
  llvm::Value* ratio = b_.CreateFDiv(p, q);
  llvm::cast<llvm::Instruction>(ratio)->setHasAllowReciprocal(true);
  return b_.CreateSelect(b_.CreateFCmpUNO(x, x), x, ratio);
}

llvm::Value* KernelCodegen::erf_f32(llvm::Value* x) {
  // Beyond |x| = 4, erf is +-1 in f32.
  return odd_rational_f32(x, 4.0f,
                          {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f,
                           -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f,
                           -1.60960333262415e-02f},
                          {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
                           -7.37332916720468e-03f, -1.42647390514189e-02f});
}

llvm::Value* KernelCodegen::tanh_f32(llvm::Value* x) {
  // Beyond |x| = 7.9053, tanh is +-1 in f32; below 4e-4 it is x (and keeps the sign of zero).
  llvm::Value* r = odd_rational_f32(
      x, 7.90531110763549805f,
      {-2.76076847742355e-16f, 2.00018790482477e-13f, -8.60467152213735e-11f, 5.12229709037114e-08f,
       1.48572235717979e-05f, 6.37261928875436e-04f, 4.89352455891786e-03f},
      {1.19825839466702e-06f, 1.18534705686654e-04f, 2.26843463243900e-03f, 4.89352518554385e-03f});
  llvm::Value* tiny = b_.CreateFCmpOLT(
      b_.CreateIntrinsic(llvm::Intrinsic::fabs, {x->getType()}, {x}), splat_like(b_, x, 0.0004f));
  return b_.CreateSelect(tiny, x, r);
}

llvm::Value* KernelCodegen::atanh_f32(llvm::Value* x) {
  // glibc's reduction to log1p (libmvec's, vectorized) for a = |x|: 1/2 log1p(2a + 2a^2 / (1 - a))
  // below 1/2, where 2a / (1 - a) would lose a's low bits, and 1/2 log1p(2a / (1 - a)) from 1/2;
  // the sign of x is put back last, so -0.0 stays -0.0. 1 gives inf (2 / 0) and |x| > 1 NaN
  // (log1p of a number below -1), as atanh does. One division serves both: with q = 2a / (1 - a),
  // 2a^2 / (1 - a) is q * a, a correction small beside 2a, so q's rounding barely reaches it.
  auto k = [&](float v) { return splat_like(b_, x, v); };
  llvm::Value* a = b_.CreateIntrinsic(llvm::Intrinsic::fabs, {x->getType()}, {x});
  llvm::Value* twice = b_.CreateFAdd(a, a);
  llvm::Value* q = b_.CreateFDiv(twice, b_.CreateFSub(k(1.0f), a));
  llvm::Value* small = b_.CreateIntrinsic(llvm::Intrinsic::fmuladd, {x->getType()}, {q, a, twice});
  llvm::Value* arg = b_.CreateSelect(b_.CreateFCmpOLT(a, k(0.5f)), small, q);
  llvm::Value* r = b_.CreateFMul(k(0.5f), call_libm("log1p", DType::F32, {arg}));
  return b_.CreateIntrinsic(llvm::Intrinsic::copysign, {x->getType()}, {r, x});
}

}  // namespace kiln::llvm_backend

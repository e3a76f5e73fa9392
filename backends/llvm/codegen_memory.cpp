// How each dtype lives in registers and in memory, and loads and stores of tensor elements.
#include <algorithm>

#include "backends/llvm/codegen_impl.h"
#include "core/ir/simplify.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/IR/PatternMatch.h"

namespace kiln::llvm_backend {

llvm::Type* KernelCodegen::reg_type(DType t) {
  switch (t) {
    case DType::Bool: return b_.getInt1Ty();
    case DType::I8: return b_.getInt8Ty();
    case DType::I16: return b_.getInt16Ty();
    case DType::I32: return b_.getInt32Ty();
    case DType::I64: return b_.getInt64Ty();
    case DType::F16:
    case DType::BF16:
    case DType::F32: return b_.getFloatTy();
    case DType::F64: return b_.getDoubleTy();
  }
  throw InternalError(str_cat(__FILE__, ": ", "unknown dtype"));
}

llvm::Type* KernelCodegen::mem_type(DType t) {
  switch (t) {
    case DType::Bool: return b_.getInt8Ty();
    case DType::F16: return b_.getHalfTy();
    case DType::BF16: return b_.getInt16Ty();  // converted by integer ops: no libcalls
    default: return reg_type(t);
  }
}

llvm::Type* KernelCodegen::like(llvm::Type* scalar, llvm::Value* shape_of) {
  if (auto* vt = llvm::dyn_cast<llvm::VectorType>(shape_of->getType()))
    return llvm::VectorType::get(scalar, vt->getElementCount());
  return scalar;
}

llvm::Value* KernelCodegen::constant(DType t, double value) {
  if (t == DType::F16 || t == DType::BF16) {
    // Rounded once to the 16-bit format, then held exactly as a float.
    llvm::APFloat f(value);
    bool lost;
    f.convert(t == DType::F16 ? llvm::APFloat::IEEEhalf() : llvm::APFloat::BFloat(),
              llvm::APFloat::rmNearestTiesToEven, &lost);
    f.convert(llvm::APFloat::IEEEsingle(), llvm::APFloat::rmNearestTiesToEven, &lost);
    return llvm::ConstantFP::get(b_.getFloatTy(), f);
  }
  if (is_float(t)) return llvm::ConstantFP::get(reg_type(t), value);
  return llvm::ConstantInt::get(reg_type(t), static_cast<int64_t>(value), /*IsSigned=*/true);
}

llvm::Value* KernelCodegen::to_memory(llvm::Value* v, DType t) {
  switch (t) {
    case DType::Bool: return b_.CreateZExt(v, like(b_.getInt8Ty(), v));
    case DType::F16: return b_.CreateFPTrunc(v, like(b_.getHalfTy(), v));  // F16C: vcvtps2ph
    case DType::BF16: {
      // A value that is a bf16 already (copied, padded, selected) keeps its bits: a copy is
      // exact, as eager's, and costs no rounding.
      if (llvm::Value* bits = exact_bf16_bits(v)) return bits;
      // Round to nearest even on the bits; a NaN stays a (quiet) NaN instead of rounding to inf.
      llvm::Type* i32 = like(b_.getInt32Ty(), v);
      llvm::Value* bits = b_.CreateBitCast(v, i32);
      llvm::Value* lsb = b_.CreateAnd(b_.CreateLShr(bits, 16), llvm::ConstantInt::get(i32, 1));
      llvm::Value* bias = b_.CreateAdd(lsb, llvm::ConstantInt::get(i32, 0x7fff));
      llvm::Value* rounded = b_.CreateLShr(b_.CreateAdd(bits, bias), 16);
      llvm::Value* quiet = b_.CreateOr(b_.CreateLShr(bits, 16), llvm::ConstantInt::get(i32, 0x40));
      llvm::Value* is_nan = b_.CreateFCmpUNO(v, v);
      return b_.CreateTrunc(b_.CreateSelect(is_nan, quiet, rounded), like(b_.getInt16Ty(), v));
    }
    default: return v;
  }
}

namespace {

// The bf16 bits of `v` where they exist already, without emitting anything: from_memory's
// widening of a bf16 (its bits shifted up), or a float constant (or a splat of one) that bf16
// holds exactly. Null otherwise.
llvm::Value* existing_bf16_bits(llvm::Value* v) {
  namespace pm = llvm::PatternMatch;
  llvm::Value* bits = nullptr;
  if (pm::match(v, pm::m_BitCast(pm::m_Shl(pm::m_ZExt(pm::m_Value(bits)), pm::m_SpecificInt(16)))))
    return bits->getType()->getScalarType()->isIntegerTy(16) ? bits : nullptr;
  auto* constant = llvm::dyn_cast<llvm::Constant>(v);
  if (!constant || !constant->getType()->getScalarType()->isFloatTy()) return nullptr;
  auto* fp = llvm::dyn_cast<llvm::ConstantFP>(constant);
  if (!fp && constant->getType()->isVectorTy())
    fp = llvm::dyn_cast_or_null<llvm::ConstantFP>(constant->getSplatValue());
  if (!fp) return nullptr;
  auto word = static_cast<uint32_t>(fp->getValueAPF().bitcastToAPInt().getZExtValue());
  if ((word & 0xffff) != 0) return nullptr;
  llvm::Type* i16 = llvm::Type::getInt16Ty(v->getContext());
  if (auto* vt = llvm::dyn_cast<llvm::VectorType>(v->getType()))
    return llvm::ConstantVector::getSplat(vt->getElementCount(),
                                          llvm::ConstantInt::get(i16, word >> 16));
  return llvm::ConstantInt::get(i16, word >> 16);
}

}  // namespace

llvm::Value* KernelCodegen::exact_bf16_bits(llvm::Value* v) {
  if (llvm::Value* bits = existing_bf16_bits(v)) return bits;
  if (auto* select = llvm::dyn_cast<llvm::SelectInst>(v)) {
    llvm::Value* a = exact_bf16_bits(select->getTrueValue());
    llvm::Value* b = a ? exact_bf16_bits(select->getFalseValue()) : nullptr;
    return b ? b_.CreateSelect(select->getCondition(), a, b) : nullptr;
  }
  // A guarded load's merge (a padding's interior and its zeros): a phi of the bits beside it.
  if (auto* phi = llvm::dyn_cast<llvm::PHINode>(v)) {
    std::vector<llvm::Value*> incoming;
    for (llvm::Value* in : phi->incoming_values()) {
      incoming.push_back(existing_bf16_bits(in));
      if (!incoming.back()) return nullptr;
    }
    llvm::IRBuilder<> at(phi);
    llvm::PHINode* bits = at.CreatePHI(incoming[0]->getType(), phi->getNumIncomingValues());
    for (unsigned i = 0; i < phi->getNumIncomingValues(); ++i)
      bits->addIncoming(incoming[i], phi->getIncomingBlock(i));
    return bits;
  }
  return nullptr;
}

llvm::Value* KernelCodegen::from_memory(llvm::Value* v, DType t) {
  switch (t) {
    case DType::Bool: return b_.CreateICmpNE(v, llvm::Constant::getNullValue(v->getType()));
    case DType::F16: return b_.CreateFPExt(v, like(b_.getFloatTy(), v));
    case DType::BF16: {
      llvm::Value* bits = b_.CreateShl(b_.CreateZExt(v, like(b_.getInt32Ty(), v)), 16);
      return b_.CreateBitCast(bits, like(b_.getFloatTy(), v));
    }
    default: return v;
  }
}

llvm::Value* KernelCodegen::round_to(llvm::Value* v, DType t) {
  if (t != DType::F16 && t != DType::BF16) return v;
  return from_memory(to_memory(v, t), t);
}

llvm::Value* KernelCodegen::buffer(const Tensor& t) {
  auto it = scope_.buffers.find(t.get());
  if (it == scope_.buffers.end())
    fail(str_cat("tensor '", t->name, "' is neither a parameter nor allocated"));
  return it->second;
}

bool KernelCodegen::is_private_buffer(const Tensor& t) {
  // A stack buffer of the function being emitted (a parallel loop's body is a function of its
  // own, called once per chunk) is seen by one thread only. Heap scratch and buffers passed in
  // are shared: another thread may write next to a vector's dead lanes at the same time.
  auto* alloca = llvm::dyn_cast<llvm::AllocaInst>(buffer(t));
  return alloca && alloca->getFunction() == scope_.fn;
}

llvm::Value* KernelCodegen::flat_index(const Tensor& t, const std::vector<Expr>& indices) {
  return emit(kiln::flat_index(t, indices));
}

llvm::Value* KernelCodegen::emit_load(const LoadNode* n) {
  const Tensor& t = n->tensor;
  for (const Expr& i : n->indices)
    if (is_vector(i)) return vector_load(n);
  auto load = [&]() -> llvm::Value* {
    llvm::Value* ptr =
        b_.CreateInBoundsGEP(mem_type(t->dtype), buffer(t), flat_index(t, n->indices));
    llvm::LoadInst* v = b_.CreateLoad(mem_type(t->dtype), ptr, t->name);
    v->setAlignment(llvm::Align(dtype_bytes(t->dtype)));
    return from_memory(v, t->dtype);
  };
  if (vec_.mask) return guard_by_mask(reg_type(t->dtype), load);
  return load();
}

namespace {

/// `acc[i] = acc[i] op v` for a float `acc`: one step of a reduction, whose order of combining
/// is unspecified.
const BinaryNode* as_reduction_step(const StoreNode* n) {
  const auto* step = n->value.as<BinaryNode>();
  if (!step || !is_float(n->tensor->dtype)) return nullptr;
  const auto* acc = step->a.as<LoadNode>();
  if (!acc || !acc->tensor.same_as(n->tensor) || acc->indices.size() != n->indices.size())
    return nullptr;
  for (size_t d = 0; d < acc->indices.size(); ++d)
    if (!identical(acc->indices[d], n->indices[d])) return nullptr;
  return step;
}

}  // namespace

// A chain of scalar reduction steps (the combine of rfactor partials, say) is otherwise a serial
// dependence chain: reassociable adds and multiplies, and llvm.maximum/minimum, let LLVM's
// vectorizers combine it as a tree of vector operations instead.
llvm::Value* KernelCodegen::emit_stored_value(const StoreNode* n) {
  const BinaryNode* step = as_reduction_step(n);
  if (!step || as_float_mul(step->b)) return emit(n->value);  // a*b + acc stays one FMA
  llvm::Value* acc = emit(step->a);
  llvm::Value* v = emit(step->b);
  unify(acc, v);  // a vector of accumulators may take a value the vector's lanes share
  llvm::IRBuilderBase::FastMathFlagGuard keep_flags(b_);
  llvm::FastMathFlags reassociable = b_.getFastMathFlags();
  reassociable.setAllowReassoc();
  reassociable.setNoSignedZeros();
  b_.setFastMathFlags(reassociable);
  switch (step->op) {
    case BinaryOp::Add: return b_.CreateFAdd(acc, v);
    case BinaryOp::Mul: return b_.CreateFMul(acc, v);
    case BinaryOp::Max:
      if (!acc->getType()->isVectorTy()) return call_intrinsic(llvm::Intrinsic::maximum, {acc, v});
      break;
    case BinaryOp::Min:
      if (!acc->getType()->isVectorTy()) return call_intrinsic(llvm::Intrinsic::minimum, {acc, v});
      break;
    default: break;
  }
  return emit_arith(step->op, step->a.dtype(), acc, v);
}

void KernelCodegen::emit_store(const StoreNode* n) {
  const Tensor& t = n->tensor;
  llvm::Value* value = emit_stored_value(n);
  for (const Expr& i : n->indices)
    if (is_vector(i)) return vector_store(n, value);
  KILN_CHECK(!value->getType()->isVectorTy(), "store of a vector to one element of ", t->name);
  llvm::Value* ptr = b_.CreateInBoundsGEP(mem_type(t->dtype), buffer(t), flat_index(t, n->indices));
  b_.CreateStore(to_memory(value, t->dtype), ptr)->setAlignment(llvm::Align(dtype_bytes(t->dtype)));
}

llvm::Value* KernelCodegen::guard_by_mask(llvm::Type* type,
                                          const std::function<llvm::Value*()>& load) {
  llvm::BasicBlock* before = b_.GetInsertBlock();
  auto* load_bb = llvm::BasicBlock::Create(ctx_, "masked.load", scope_.fn);
  auto* merge = llvm::BasicBlock::Create(ctx_, "masked.merge", scope_.fn);
  b_.CreateCondBr(b_.CreateOrReduce(vec_.mask), load_bb, merge);
  b_.SetInsertPoint(load_bb);
  llvm::Value* v = load();
  llvm::BasicBlock* load_end = b_.GetInsertBlock();
  b_.CreateBr(merge);
  b_.SetInsertPoint(merge);
  llvm::PHINode* phi = b_.CreatePHI(type, 2);
  phi->addIncoming(v, load_end);
  phi->addIncoming(llvm::Constant::getNullValue(type), before);
  return phi;
}

}  // namespace kiln::llvm_backend

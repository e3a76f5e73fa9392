// Math that is more than one instruction: intrinsics, libm and vector-library calls, integer pow.
#include "backends/llvm/codegen_impl.h"
#include "backends/llvm/vector_library.h"
#include "llvm/Analysis/VectorUtils.h"

namespace kiln::llvm_backend {

namespace {

// libm functions LLVM knows as intrinsics; the vectorizer maps those through TargetLibraryInfo.
llvm::Intrinsic::ID intrinsic_for(const std::string& name) {
  if (name == "exp") return llvm::Intrinsic::exp;
  if (name == "exp2") return llvm::Intrinsic::exp2;
  if (name == "log") return llvm::Intrinsic::log;
  if (name == "sin") return llvm::Intrinsic::sin;
  if (name == "cos") return llvm::Intrinsic::cos;
  if (name == "pow") return llvm::Intrinsic::pow;
  return llvm::Intrinsic::not_intrinsic;
}

// A math function that touches no memory (errno is not Kiln's concern), so that it can be
// vectorized, hoisted and removed when unused.
llvm::FunctionCallee declare_pure(llvm::Module& m, const std::string& name,
                                  llvm::FunctionType* type) {
  llvm::FunctionCallee callee = m.getOrInsertFunction(name, type);
  auto* fn = llvm::cast<llvm::Function>(callee.getCallee());
  fn->setDoesNotAccessMemory();
  fn->setDoesNotThrow();
  fn->setWillReturn();
  return callee;
}

}  // namespace

llvm::Value* KernelCodegen::call_intrinsic(llvm::Intrinsic::ID id, std::vector<llvm::Value*> args) {
  return b_.CreateIntrinsic(id, {args[0]->getType()}, args);
}

llvm::Value* KernelCodegen::call_libm(const std::string& name, DType t,
                                      std::vector<llvm::Value*> args) {
  std::string libm_name = name + (t == DType::F64 ? "" : "f");
  std::string scalar_name = target_.veclib ? target_.veclib->scalar_symbol(libm_name) : libm_name;
  bool vector = false;
  for (llvm::Value* a : args) vector |= a->getType()->isVectorTy();
  if (!vector) {
    if (llvm::Intrinsic::ID id = intrinsic_for(name)) return call_intrinsic(id, args);
    std::vector<llvm::Type*> types(args.size(), args[0]->getType());
    auto* type = llvm::FunctionType::get(args[0]->getType(), types, false);
    return b_.CreateCall(declare_pure(module_, scalar_name, type), args);
  }
  for (auto& a : args) a = widen(a);  // pow(vector, scalar): both vectors
  auto* vt = llvm::cast<llvm::FixedVectorType>(args[0]->getType());
  int lanes = static_cast<int>(vt->getNumElements());
  const VectorVariant* variant =
      target_.veclib ? target_.veclib->widest_for(scalar_name, lanes) : nullptr;
  std::vector<llvm::Value*> parts;
  if (variant) {
    // Explicit vector code calls libmvec itself: the backend would split a vector llvm.exp into
    // one scalar call per lane.
    auto* part_type = llvm::FixedVectorType::get(vt->getElementType(), variant->lanes);
    std::vector<llvm::Type*> types(args.size(), part_type);
    llvm::FunctionCallee fn = declare_pure(module_, variant->vector_name,
                                           llvm::FunctionType::get(part_type, types, false));
    for (int start = 0; start < lanes; start += variant->lanes) {
      std::vector<llvm::Value*> part_args;
      for (llvm::Value* a : args)
        part_args.push_back(
            b_.CreateShuffleVector(a, llvm::createSequentialMask(start, variant->lanes, 0)));
      parts.push_back(b_.CreateCall(fn, part_args));
    }
    return llvm::concatenateVectors(b_, parts);
  }
  // No vector variant: one scalar call per lane.
  llvm::Value* result = llvm::PoisonValue::get(vt);
  for (int i = 0; i < lanes; ++i) {
    std::vector<llvm::Value*> lane_args;
    for (llvm::Value* a : args) lane_args.push_back(b_.CreateExtractElement(a, i));
    VectorLoop saved = vec_;
    vec_ = {};  // the lane values are scalars
    llvm::Value* r = call_libm(name, t, lane_args);
    vec_ = saved;
    result = b_.CreateInsertElement(result, r, i);
  }
  return result;
}

llvm::Value* KernelCodegen::int_pow(llvm::Value* base, llvm::Value* exponent) {
  if (auto* vt = llvm::dyn_cast<llvm::FixedVectorType>(base->getType())) {
    llvm::Value* result = llvm::PoisonValue::get(vt);
    for (unsigned i = 0; i < vt->getNumElements(); ++i)
      result = b_.CreateInsertElement(
          result, int_pow(b_.CreateExtractElement(base, i), b_.CreateExtractElement(exponent, i)),
          i);
    return result;
  }
  llvm::Type* type = base->getType();
  std::string name = str_cat("kiln.ipow.i", type->getIntegerBitWidth());
  llvm::Function* fn = module_.getFunction(name);
  if (!fn) {
    fn = new_function(name, llvm::FunctionType::get(type, {type, type}, false), true);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx_, "entry", fn));
    auto* negative = llvm::BasicBlock::Create(ctx_, "negative", fn);
    auto* loop = llvm::BasicBlock::Create(ctx_, "loop", fn);
    auto* step = llvm::BasicBlock::Create(ctx_, "step", fn);
    auto* done = llvm::BasicBlock::Create(ctx_, "done", fn);
    llvm::Value *x = fn->getArg(0), *e = fn->getArg(1);
    auto c = [&](int64_t v) { return llvm::ConstantInt::get(type, v, true); };
    b.CreateCondBr(b.CreateICmpSLT(e, c(0)), negative, loop);
    // x ** -n truncated toward zero, as the interpreter's double pow then cast gives: 1 for
    // x = 1, ±1 for x = -1, 0 otherwise.
    b.SetInsertPoint(negative);
    llvm::Value* odd = b.CreateTrunc(e, b.getInt1Ty());
    llvm::Value* minus_one = b.CreateSelect(odd, c(-1), c(1));
    b.CreateRet(b.CreateSelect(b.CreateICmpEQ(x, c(1)), c(1),
                               b.CreateSelect(b.CreateICmpEQ(x, c(-1)), minus_one, c(0))));
    // Exponentiation by squaring.
    b.SetInsertPoint(loop);
    llvm::PHINode* acc = b.CreatePHI(type, 2);
    llvm::PHINode* sq = b.CreatePHI(type, 2);
    llvm::PHINode* rest = b.CreatePHI(type, 2);
    acc->addIncoming(c(1), &fn->getEntryBlock());
    sq->addIncoming(x, &fn->getEntryBlock());
    rest->addIncoming(e, &fn->getEntryBlock());
    b.CreateCondBr(b.CreateICmpEQ(rest, c(0)), done, step);
    b.SetInsertPoint(step);
    llvm::Value* bit = b.CreateTrunc(rest, b.getInt1Ty());
    acc->addIncoming(b.CreateSelect(bit, b.CreateMul(acc, sq), acc), step);
    sq->addIncoming(b.CreateMul(sq, sq), step);
    rest->addIncoming(b.CreateLShr(rest, c(1)), step);
    b.CreateBr(loop);
    b.SetInsertPoint(done);
    b.CreateRet(acc);
  }
  return b_.CreateCall(fn, {base, exponent});
}

}  // namespace kiln::llvm_backend

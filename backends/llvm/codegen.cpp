#include "backends/llvm/codegen.h"

#include "backends/llvm/codegen_impl.h"
#include "core/support/error.h"
#include "llvm/IR/IntrinsicsX86.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Triple.h"

namespace kiln::llvm_backend {

void generate_kernel(const LoweredFunc& f, const std::string& entry, const CodegenTarget& target,
                     llvm::Module& m) {
  KernelCodegen(f, target, m).emit_entry(entry);
  std::string problems;
  llvm::raw_string_ostream os(problems);
  KILN_CHECK(!llvm::verifyModule(m, &os), "invalid LLVM IR for kernel ", f.name, ": ", problems);
}

KernelCodegen::KernelCodegen(const LoweredFunc& f, const CodegenTarget& target, llvm::Module& m)
    : func_(f), target_(target), module_(m), ctx_(m.getContext()), b_(m.getContext()) {
  // FMA contraction is the only fast-math liberty: NaN, inf and signed zeros keep their meaning.
  llvm::FastMathFlags fmf;
  fmf.setAllowContract(true);
  b_.setFastMathFlags(fmf);
  int64_t bytes = 0;
  for (const Tensor& t : f.params) bytes += t->numel() * dtype_bytes(t->dtype);
  if (target.streaming_bytes > 0 && bytes > target.streaming_bytes)
    for (size_t i = f.num_inputs; i < f.params.size(); ++i) streamed_.insert(f.params[i].get());
}

void KernelCodegen::fail(const std::string& what) const {
  throw CompileError(str_cat("LLVM backend, kernel '", func_.name, "': ", what));
}

llvm::Function* KernelCodegen::new_function(const std::string& name, llvm::FunctionType* type,
                                            bool internal) {
  auto linkage = internal ? llvm::Function::InternalLinkage : llvm::Function::ExternalLinkage;
  llvm::Function* fn = llvm::Function::Create(type, linkage, name, module_);
  fn->addFnAttr("target-cpu", target_.cpu);
  fn->addFnAttr("target-features", target_.features);
  // Divisions marked `arcp` (only those of the inline math) may use the hardware reciprocal
  // estimate refined by one Newton step: about 1 ulp, and several times the throughput.
  fn->addFnAttr("reciprocal-estimates", "divf:1,vec-divf:1");
  // Some CPUs' tuning prefers 256-bit vectors; kernels are hot loops that want the full width.
  fn->addFnAttr("prefer-vector-width", std::to_string(target_.vector_bits));
  fn->addFnAttr("min-legal-vector-width", std::to_string(target_.vector_bits));
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  return fn;
}

void KernelCodegen::emit_entry(const std::string& name) {
  entry_name_ = name;
  std::vector<const TensorNode*> params;
  for (const Tensor& t : func_.params) params.push_back(t.get());
  for (const PreparedBuffer& b : func_.prepared) params.push_back(b.buffer.get());
  if (!func_.prepared.empty()) params.push_back(func_.prepare_flags.get());
  // The body takes the buffers as noalias parameters (outputs never alias inputs, except an
  // output written over an input of its shape element by element, each element read before it
  // is written: an in-place epilogue, see AtenServedKernel); once inlined into the entry, that
  // knowledge stays as scoped alias metadata.
  llvm::Function* body =
      emit_closure(name + ".body", params, {}, 0, [&](auto) { emit(func_.body); });
  auto* ptr = llvm::PointerType::getUnqual(ctx_);
  llvm::Function* fn =
      new_function(name, llvm::FunctionType::get(b_.getVoidTy(), {ptr}, false), /*internal=*/false);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  auto load_pointer = [&](llvm::Value* array, size_t i, const std::string& what) {
    return b_.CreateLoad(ptr, b_.CreateConstInBoundsGEP1_64(ptr, array, i), what);
  };
  std::vector<llvm::Value*> args;
  for (size_t i = 0; i < func_.params.size(); ++i)
    args.push_back(load_pointer(fn->getArg(0), i, params[i]->name));
  if (func_.prepared.empty()) {
    b_.CreateCall(body, args);
    return return_void();
  }
  // After the parameters, a pointer to the prepared block [flags, buffer 0, buffer 1, ...]
  // (Kernel::launch_keeping), or null: the kernel then takes and fills every buffer itself.
  llvm::Value* block = load_pointer(fn->getArg(0), func_.params.size(), "prepared");
  auto* own = llvm::BasicBlock::Create(ctx_, "own_buffers", fn);
  auto* given = llvm::BasicBlock::Create(ctx_, "given_buffers", fn);
  b_.CreateCondBr(b_.CreateIsNull(block), own, given);

  b_.SetInsertPoint(given);
  std::vector<llvm::Value*> with_given = args;
  for (size_t k = 0; k < func_.prepared.size(); ++k)
    with_given.push_back(load_pointer(block, k + 1, func_.prepared[k].buffer->name));
  with_given.push_back(load_pointer(block, 0, "flags"));
  b_.CreateCall(body, with_given);
  return_void();

  b_.SetInsertPoint(own);
  auto* i32 = b_.getInt32Ty();
  auto count = static_cast<uint64_t>(func_.prepared.size());
  llvm::AllocaInst* flags = b_.CreateAlloca(llvm::ArrayType::get(i32, count), nullptr, "flags");
  for (uint64_t k = 0; k < count; ++k)
    b_.CreateStore(b_.getInt32(1),
                   b_.CreateConstInBoundsGEP2_64(flags->getAllocatedType(), flags, 0, k));
  std::vector<llvm::Value*> with_own = args, buffers;
  for (const PreparedBuffer& b : func_.prepared) {
    buffers.push_back(scratch_alloc(static_cast<uint64_t>(b.bytes), b.buffer->name));
    with_own.push_back(buffers.back());
  }
  with_own.push_back(flags);
  b_.CreateCall(body, with_own);
  for (auto b = buffers.rbegin(); b != buffers.rend(); ++b) scratch_free(*b);
  return_void();
}

llvm::Value* KernelCodegen::scratch_alloc(uint64_t bytes, const std::string& name) {
  auto* ptr_type = llvm::PointerType::getUnqual(ctx_);
  llvm::FunctionCallee alloc = module_.getOrInsertFunction(
      "kiln_scratch_alloc", llvm::FunctionType::get(ptr_type, {b_.getInt64Ty()}, false));
  // Like malloc's, its blocks alias nothing else the kernel sees.
  llvm::cast<llvm::Function>(alloc.getCallee())->addRetAttr(llvm::Attribute::NoAlias);
  return b_.CreateCall(alloc, {b_.getInt64(bytes)}, name);
}

void KernelCodegen::scratch_free(llvm::Value* buffer) {
  auto* ptr_type = llvm::PointerType::getUnqual(ctx_);
  llvm::FunctionCallee release = module_.getOrInsertFunction(
      "kiln_scratch_free", llvm::FunctionType::get(b_.getVoidTy(), {ptr_type}, false));
  b_.CreateCall(release, {buffer});
}

void KernelCodegen::return_void() {
  // Streaming stores are weakly ordered: fence them before the caller (or the thread pool's
  // join) can publish the results.
  if (!streamed_.empty() && llvm::Triple(module_.getTargetTriple()).isX86())
    b_.CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
  b_.CreateRetVoid();
}

llvm::Function* KernelCodegen::emit_closure(
    const std::string& name, const std::vector<const TensorNode*>& bufs,
    const std::vector<const VarNode*>& vars, int extra,
    const std::function<void(std::vector<llvm::Value*>)>& body) {
  std::vector<llvm::Type*> types(bufs.size(), llvm::PointerType::getUnqual(ctx_));
  types.insert(types.end(), vars.size() + extra, b_.getInt64Ty());
  llvm::Function* fn =
      new_function(name, llvm::FunctionType::get(b_.getVoidTy(), types, false), true);
  fn->addFnAttr(llvm::Attribute::AlwaysInline);
  Scope inner;
  inner.fn = fn;
  for (size_t i = 0; i < bufs.size(); ++i) {
    llvm::Argument* arg = fn->getArg(i);
    arg->setName(bufs[i]->name);
    arg->addAttr(llvm::Attribute::NoAlias);
    arg->addAttr(
        llvm::Attribute::get(ctx_, llvm::Attribute::Alignment, dtype_bytes(bufs[i]->dtype)));
    inner.buffers[bufs[i]] = arg;
  }
  for (size_t i = 0; i < vars.size(); ++i) {
    llvm::Argument* arg = fn->getArg(bufs.size() + i);
    arg->setName(vars[i]->name);
    inner.vars[vars[i]] = arg;
  }
  std::vector<llvm::Value*> extras;
  for (int i = 0; i < extra; ++i) extras.push_back(fn->getArg(bufs.size() + vars.size() + i));

  llvm::IRBuilderBase::InsertPointGuard guard(b_);
  std::swap(scope_, inner);
  b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
  body(extras);
  b_.CreateRetVoid();
  std::swap(scope_, inner);
  return fn;
}

llvm::AllocaInst* KernelCodegen::entry_alloca(llvm::Type* type, uint64_t align,
                                              const std::string& name) {
  llvm::BasicBlock& entry = scope_.fn->getEntryBlock();
  llvm::IRBuilder<> eb(&entry, entry.begin());
  llvm::AllocaInst* a = eb.CreateAlloca(type, nullptr, name);
  a->setAlignment(llvm::Align(align));
  return a;
}

void KernelCodegen::emit(const Stmt& s) {
  switch (s.kind()) {
    case StmtKind::For: return emit_for(s.as<ForNode>());
    case StmtKind::Store: return emit_store(s.as<StoreNode>());
    case StmtKind::Allocate: return emit_allocate(s.as<AllocateNode>());
    case StmtKind::Seq:
      for (const Stmt& x : s.as<SeqNode>()->stmts) emit(x);
      return;
    case StmtKind::IfThenElse: return emit_if(s.as<IfThenElseNode>());
  }
  throw InternalError(str_cat(__FILE__, ": ", "unknown statement kind"));
}

void KernelCodegen::emit_for(const ForNode* n) {
  if (n->extent == 0) return;
  loop_extents_[n->var.get()] = n->extent;
  emit_loop_of_kind(n);
  loop_extents_.erase(n->var.get());
}

void KernelCodegen::emit_loop_of_kind(const ForNode* n) {
  switch (n->for_kind) {
    case ForKind::Serial:
      if (emit_transposing_copy(n)) return;
      return emit_loop(n, b_.getInt64(0), b_.getInt64(n->extent), {});
    case ForKind::Unrolled:
      if (emit_transposing_copy(n) || emit_dot_pairs(n) || emit_dot_quads(n)) return;
      for (int64_t i = 0; i < n->extent; ++i) {
        scope_.vars[n->var.get()] = b_.getInt64(i);
        emit(n->body);
      }
      scope_.vars.erase(n->var.get());
      return;
    case ForKind::Parallel: return emit_parallel(n);
    case ForKind::Vectorized:
      if (vectorizes_explicitly(n)) return emit_explicit_vector(n);
      return emit_forced_vectorized_loop(n);
    case ForKind::GpuBlock:
    case ForKind::GpuThread:
      fail(str_cat("GPU loop '", n->var.name(), "' (", n->for_kind, ") on the CPU backend"));
  }
  throw InternalError(str_cat(__FILE__, ": ", "unknown loop kind"));
}

void KernelCodegen::emit_loop(const ForNode* n, llvm::Value* begin, llvm::Value* end,
                              const std::vector<llvm::Metadata*>& loop_md) {
  llvm::Function* fn = scope_.fn;
  llvm::BasicBlock* pre = b_.GetInsertBlock();
  auto* body = llvm::BasicBlock::Create(ctx_, n->var.name() + ".body", fn);
  auto* exit = llvm::BasicBlock::Create(ctx_, n->var.name() + ".exit", fn);
  // Rotated form (guard, then a do-while), which is what LLVM's loop passes expect.
  b_.CreateCondBr(b_.CreateICmpSLT(begin, end), body, exit);
  b_.SetInsertPoint(body);
  llvm::PHINode* iv = b_.CreatePHI(b_.getInt64Ty(), 2, n->var.name());
  iv->addIncoming(begin, pre);
  scope_.vars[n->var.get()] = iv;
  emit(n->body);
  scope_.vars.erase(n->var.get());
  llvm::Value* next = b_.CreateAdd(iv, b_.getInt64(1), n->var.name() + ".next", true, true);
  llvm::BranchInst* back = b_.CreateCondBr(b_.CreateICmpSLT(next, end), body, exit);
  iv->addIncoming(next, b_.GetInsertBlock());
  if (!loop_md.empty()) {
    std::vector<llvm::Metadata*> ops{nullptr};
    ops.insert(ops.end(), loop_md.begin(), loop_md.end());
    llvm::MDNode* md = llvm::MDNode::getDistinct(ctx_, ops);
    md->replaceOperandWith(0, md);  // a loop ID refers to itself
    back->setMetadata(llvm::LLVMContext::MD_loop, md);
  }
  b_.SetInsertPoint(exit);
}

void KernelCodegen::emit_if(const IfThenElseNode* n) {
  llvm::Value* cond = emit(n->cond);
  if (cond->getType()->isVectorTy()) {
    // Lanes disagree: both branches run, each under the mask of its lanes (masked loads and
    // stores), as a split with a tail does in its last vector.
    llvm::Value* outer = vec_.mask;
    if (!outer && !n->else_case.defined()) return emit_lane_guard(cond, n->then_case);
    llvm::Value* all = outer ? outer : llvm::Constant::getAllOnesValue(cond->getType());
    vec_.mask = b_.CreateAnd(all, cond);
    emit(n->then_case);
    if (n->else_case.defined()) {
      vec_.mask = b_.CreateAnd(all, b_.CreateNot(cond));
      emit(n->else_case);
    }
    vec_.mask = outer;
    return;
  }
  auto* then_bb = llvm::BasicBlock::Create(ctx_, "then", scope_.fn);
  auto* merge = llvm::BasicBlock::Create(ctx_, "endif", scope_.fn);
  auto* else_bb =
      n->else_case.defined() ? llvm::BasicBlock::Create(ctx_, "else", scope_.fn) : merge;
  b_.CreateCondBr(cond, then_bb, else_bb);
  b_.SetInsertPoint(then_bb);
  emit(n->then_case);
  b_.CreateBr(merge);
  if (n->else_case.defined()) {
    b_.SetInsertPoint(else_bb);
    emit(n->else_case);
    b_.CreateBr(merge);
  }
  b_.SetInsertPoint(merge);
}

void KernelCodegen::emit_lane_guard(llvm::Value* cond, const Stmt& body) {
  // Where every lane holds (a tail guard's full vectors), the body runs unmasked; else under the
  // mask. Masks are slow on AMD (Zen 3, a streaming copy: a masked store 1.25 ns per element, a
  // plain one 0.5).
  auto* full = llvm::BasicBlock::Create(ctx_, "all_lanes", scope_.fn);
  auto* some = llvm::BasicBlock::Create(ctx_, "some_lanes", scope_.fn);
  auto* merge = llvm::BasicBlock::Create(ctx_, "lanes_done", scope_.fn);
  b_.CreateCondBr(lanes_all(cond, true), full, some);
  b_.SetInsertPoint(full);
  emit(body);
  b_.CreateBr(merge);
  b_.SetInsertPoint(some);
  vec_.mask = cond;
  emit(body);
  vec_.mask = nullptr;
  b_.CreateBr(merge);
  b_.SetInsertPoint(merge);
}

llvm::Value* KernelCodegen::lanes_all(llvm::Value* cond, bool value) {
  auto* type = llvm::cast<llvm::FixedVectorType>(cond->getType());
  llvm::Value* bits = b_.CreateBitCast(cond, b_.getIntNTy(type->getNumElements()));
  return b_.CreateICmpEQ(bits, value ? llvm::Constant::getAllOnesValue(bits->getType())
                                     : llvm::Constant::getNullValue(bits->getType()));
}

void KernelCodegen::emit_allocate(const AllocateNode* n) {
  const Tensor& t = n->tensor;
  if (n->scope == MemoryScope::Shared)
    fail(str_cat("shared-memory allocation of '", t->name, "' is GPU-only"));
  // NOTE: every buffer has kVectorSlack elements past its end: a masked vector store to a
  // thread's own buffer is a blend of whole vectors (vector_store), whose dead lanes may reach
  // that far.
  uint64_t elements = static_cast<uint64_t>(t->numel()) + kVectorSlack;
  if (n->scope == MemoryScope::Local) {
    // In the entry block, so that SROA and mem2reg can turn small buffers into registers.
    llvm::Type* type = llvm::ArrayType::get(mem_type(t->dtype), elements);
    scope_.buffers[t.get()] = entry_alloca(type, 64, t->name);
    emit(n->body);
    scope_.buffers.erase(t.get());
    return;
  }
  // Global scope: too big for the stack, on the heap for the duration of the body, from the
  // thread's scratch blocks (core/runtime/scratch.h), which stay mapped from call to call.
  llvm::Value* buffer = scratch_alloc(elements * dtype_bytes(t->dtype), t->name);
  scope_.buffers[t.get()] = buffer;
  emit(n->body);
  scope_.buffers.erase(t.get());
  scratch_free(buffer);
}

}  // namespace kiln::llvm_backend

// Vectorized loops: explicit vector code where the body allows it, else a scalar loop that
// LLVM's loop vectorizer is forced to vectorize.
#include <map>

#include "backends/llvm/codegen_impl.h"

namespace kiln::llvm_backend {

namespace {

bool same_indices(const std::vector<Expr>& a, const std::vector<Expr>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!identical(a[i], b[i])) return false;
  return true;
}

// The flat-index coefficient of `v` in an access of `t`.
std::optional<int64_t> access_coefficient(const Tensor& t, const std::vector<Expr>& indices,
                                          const VarNode* v) {
  return affine_coefficient(kiln::flat_index(t, indices), v);
}

// Checks the rules of the explicit path (llvm_compiler.h) over a vectorized loop's body.
class ExplicitVectorCheck : public StmtVisitor {
 public:
  explicit ExplicitVectorCheck(const VarNode* v) : var_(v) {}
  bool ok = true;

  bool accesses_agree() const {
    for (const auto& [tensor, stored] : stores_) {
      auto it = loads_.find(tensor);
      for (const auto* idx : stored)
        if (!same_indices(*idx, *stored[0])) return false;
      if (it == loads_.end()) continue;
      for (const auto* idx : it->second)
        if (!same_indices(*idx, *stored[0])) return false;
    }
    return true;
  }

 protected:
  void visit_for(const ForNode* n) override {
    if (n->for_kind != ForKind::Unrolled) ok = false;
    StmtVisitor::visit_for(n);
  }
  void visit_allocate(const AllocateNode*) override { ok = false; }
  // An If on a lane-dependent condition becomes a mask over its branches (see emit_if).
  void visit_store(const StoreNode* n) override {
    bool index_uses = false;
    for (const Expr& i : n->indices) index_uses |= uses_var(i, var_);
    if (!index_uses && uses_var(n->value, var_)) ok = false;  // lanes would race: a reduction
    stores_[n->tensor.get()].push_back(&n->indices);
    StmtVisitor::visit_store(n);
  }
  void visit_load(const LoadNode* n) override {
    loads_[n->tensor.get()].push_back(&n->indices);
    StmtVisitor::visit_load(n);
  }

 private:
  const VarNode* var_;
  std::map<const TensorNode*, std::vector<const std::vector<Expr>*>> stores_, loads_;
};

}  // namespace

bool KernelCodegen::vectorizes_explicitly(const ForNode* n) const {
  // Powers of two only: LLVM legalizes other widths (<28 x float>) into shuffles and spills.
  bool power_of_two = (n->extent & (n->extent - 1)) == 0;
  if (n->extent < 2 || n->extent > 64 || !power_of_two || vec_.var) return false;
  ExplicitVectorCheck check(n->var.get());
  check.visit(n->body);
  return check.ok && check.accesses_agree();
}

void KernelCodegen::emit_explicit_vector(const ForNode* n) {
  int width = static_cast<int>(n->extent);
  // The loop variable is the vector <0, 1, ..., width-1>; all of the loop is one iteration.
  std::vector<llvm::Constant*> lanes;
  for (int i = 0; i < width; ++i) lanes.push_back(b_.getInt64(i));
  vec_ = {n->var.get(), width, nullptr};
  scope_.vars[n->var.get()] = llvm::ConstantVector::get(lanes);
  emit(n->body);
  scope_.vars.erase(n->var.get());
  vec_ = {};
}

bool KernelCodegen::emit_transposing_copy(const ForNode* rows) {
  // for r in 0..W { for c in 0..W vectorized { dst[.., c] = src[.., r] } }, W a power of two,
  // dst contiguous along c and src along r: W vector loads along r, a W x W transposition in
  // registers, W vector stores along c. A gather per row otherwise (16 lines per vector). The
  // copy may widen 16-bit floats to f32 (dst = f32(src)): converted after the transposition.
  int64_t w = rows->extent;
  auto* cols = rows->body.as<ForNode>();
  if (vec_.var || w < 2 || w > 16 || (w & (w - 1)) != 0 || !cols ||
      cols->for_kind != ForKind::Vectorized || cols->extent != w)
    return false;
  auto* store = cols->body.as<StoreNode>();
  if (!store) return false;
  auto* widening = store->value.as<CastNode>();
  auto* load = (widening ? widening->value : store->value).as<LoadNode>();
  if (!load) return false;
  DType from = load->tensor->dtype, to = store->tensor->dtype;
  bool widens = widening && (from == DType::BF16 || from == DType::F16) && to == DType::F32 &&
                widening->dtype == DType::F32;
  if (!(widens || (!widening && mem_type(from) == mem_type(to))) ||
      (dtype_bytes(from) != 4 && dtype_bytes(from) != 2))
    return false;
  const VarNode *r = rows->var.get(), *c = cols->var.get();
  if (access_coefficient(store->tensor, store->indices, c) != 1 ||
      access_coefficient(load->tensor, load->indices, r) != 1 ||
      !access_coefficient(store->tensor, store->indices, r) ||
      !access_coefficient(load->tensor, load->indices, c))
    return false;
  auto* vector = llvm::FixedVectorType::get(mem_type(from), static_cast<unsigned>(w));
  auto address = [&](const Tensor& t, const std::vector<Expr>& indices, int64_t rv, int64_t cv) {
    scope_.vars[r] = b_.getInt64(rv);
    scope_.vars[c] = b_.getInt64(cv);
    return b_.CreateInBoundsGEP(mem_type(t->dtype), buffer(t), flat_index(t, indices));
  };
  // v[j] holds src(r = 0..W-1, c = j): the matrix with rows j and lanes i.
  std::vector<llvm::Value*> v;
  for (int64_t j = 0; j < w; ++j)
    v.push_back(b_.CreateAlignedLoad(vector, address(load->tensor, load->indices, 0, j),
                                     llvm::Align(dtype_bytes(from))));
  // Each round swaps bit k of the vector number with bit k of the lane: after every bit,
  // element (j, i) is at (i, j).
  for (int64_t bit = 1; bit < w; bit <<= 1) {
    for (int64_t j = 0; j < w; ++j) {
      if (j & bit) continue;
      std::vector<int> low, high;
      for (int64_t i = 0; i < w; ++i) {
        low.push_back(static_cast<int>((i & bit) ? w + (i ^ bit) : i));
        high.push_back(static_cast<int>((i & bit) ? w + i : (i ^ bit)));
      }
      llvm::Value* a = v[j];
      v[j] = b_.CreateShuffleVector(a, v[j | bit], low);
      v[j | bit] = b_.CreateShuffleVector(a, v[j | bit], high);
    }
  }
  for (int64_t i = 0; i < w; ++i)
    b_.CreateAlignedStore(widens ? from_memory(v[i], from) : v[i],
                          address(store->tensor, store->indices, i, 0),
                          llvm::Align(dtype_bytes(to)));
  scope_.vars.erase(r);
  scope_.vars.erase(c);
  return true;
}

void KernelCodegen::emit_forced_vectorized_loop(const ForNode* n) {
  // As wide as the widest stored element allows in one register.
  struct Widest : StmtVisitor {
    int bytes = 1;
    void visit_store(const StoreNode* s) override {
      bytes = std::max(bytes, dtype_bytes(compute_type(s->tensor->dtype)));
      StmtVisitor::visit_store(s);
    }
  } widest;
  widest.visit(n->body);
  int lanes = std::max(2, target_.vector_bits / 8 / widest.bytes);
  auto flag = [&](const char* name, llvm::Constant* value) -> llvm::Metadata* {
    return llvm::MDNode::get(
        ctx_, {llvm::MDString::get(ctx_, name), llvm::ConstantAsMetadata::get(value)});
  };
  emit_loop(n, b_.getInt64(0), b_.getInt64(n->extent),
            {flag("llvm.loop.vectorize.enable", b_.getTrue()),
             flag("llvm.loop.vectorize.width", b_.getInt32(lanes))});
}

llvm::Value* KernelCodegen::widen(llvm::Value* v) {
  if (!vec_.var || v->getType()->isVectorTy()) return v;
  return b_.CreateVectorSplat(vec_.width, v);
}

void KernelCodegen::unify(llvm::Value*& a, llvm::Value*& b) {
  if (a->getType()->isVectorTy() != b->getType()->isVectorTy()) {
    a = widen(a);
    b = widen(b);
  }
}

llvm::Value* KernelCodegen::vector_load(const LoadNode* n) {
  const Tensor& t = n->tensor;
  llvm::Type* elem = mem_type(t->dtype);
  auto* type = llvm::FixedVectorType::get(elem, vec_.width);
  llvm::Align align(dtype_bytes(t->dtype));
  std::optional<int64_t> stride = access_coefficient(t, n->indices, vec_.var);
  // A small constant stride (a strided convolution's or pooling's input) loads the span its lanes
  // cover, `stride` times as wide, and keeps every stride-th element instead of gathering them
  // lane by lane.
  constexpr int64_t kMaxSpanStride = 4;
  if (stride && (*stride == 1 || (*stride > 1 && *stride <= kMaxSpanStride))) {
    // One load at lane 0's address.
    llvm::Value* lanes = scope_.vars[vec_.var];
    scope_.vars[vec_.var] = b_.getInt64(0);
    VectorLoop saved = vec_;
    vec_.var = nullptr;  // the index of lane 0 is a scalar
    llvm::Value* ptr = b_.CreateInBoundsGEP(elem, buffer(t), flat_index(t, n->indices));
    vec_ = saved;
    scope_.vars[vec_.var] = lanes;
    llvm::Value* v;
    if (*stride == 1 && !vec_.mask) {
      auto* load = b_.CreateLoad(type, ptr, t->name);
      load->setAlignment(align);
      v = load;
    } else if (*stride == 1) {
      v = b_.CreateMaskedLoad(type, ptr, align, vec_.mask, llvm::Constant::getNullValue(type));
    } else if (*stride == 2 && !vec_.mask) {
      // Two plain loads, the second ending at the last element taken (masked loads cost
      // about 12 cycles each on AMD's Zen 3, a plain one under 1): lanes 0 .. width - 1 and
      // width - 1 .. 2 * width - 2.
      llvm::Value* low = b_.CreateAlignedLoad(type, ptr, align);
      llvm::Value* high = b_.CreateAlignedLoad(
          type, b_.CreateConstInBoundsGEP1_64(elem, ptr, vec_.width - 1), align);
      std::vector<int> picked(vec_.width);
      for (int i = 0; i < vec_.width; ++i)
        picked[i] = 2 * i < vec_.width ? 2 * i : 2 * i - (vec_.width - 1) + vec_.width;
      v = b_.CreateShuffleVector(low, high, picked);
    } else {
      // Only the elements a live lane takes are read: nothing past the last one (it may end
      // the buffer).
      int span = static_cast<int>(*stride) * vec_.width;
      auto* span_type = llvm::FixedVectorType::get(elem, span);
      std::vector<int> owner(span), picked(vec_.width);
      std::vector<llvm::Constant*> taken(span);
      for (int j = 0; j < span; ++j) {
        owner[j] = j / static_cast<int>(*stride);
        taken[j] = b_.getInt1(j % *stride == 0);
      }
      llvm::Value* mask = llvm::ConstantVector::get(taken);
      if (vec_.mask) mask = b_.CreateAnd(mask, b_.CreateShuffleVector(vec_.mask, owner));
      llvm::Value* wide =
          b_.CreateMaskedLoad(span_type, ptr, align, mask, llvm::Constant::getNullValue(span_type));
      for (int i = 0; i < vec_.width; ++i) picked[i] = i * static_cast<int>(*stride);
      v = b_.CreateShuffleVector(wide, picked);
    }
    return from_memory(v, t->dtype);
  }
  llvm::Value* ptrs = b_.CreateGEP(elem, buffer(t), widen(flat_index(t, n->indices)));
  llvm::Value* mask =
      vec_.mask
          ? vec_.mask
          : llvm::Constant::getAllOnesValue(llvm::FixedVectorType::get(b_.getInt1Ty(), vec_.width));
  return from_memory(
      b_.CreateMaskedGather(type, ptrs, align, mask, llvm::Constant::getNullValue(type)), t->dtype);
}

llvm::Value* KernelCodegen::lane_compare(const BinaryNode* n) {
  if (!vec_.var || n->a.dtype() != DType::I64 || n->op < BinaryOp::Eq || n->op > BinaryOp::Ge)
    return nullptr;
  // a - b = c * lane + rest, with c = +-1. Widened, the lane's index vector is 64-bit: its
  // comparisons took about 60 instructions per 16 lanes where this takes four.
  Expr diff = n->a - n->b;
  std::optional<int64_t> c = affine_coefficient(diff, vec_.var);
  if (!c || (*c != 1 && *c != -1)) return nullptr;
  Expr rest = substitute(diff, VarMap{{vec_.var, Expr(int64_t{0})}});
  if (!loads_in(rest).empty()) return nullptr;
  llvm::Value* r = emit(rest);  // a scalar: rest uses no lane and loads nothing
  // c = 1: lane OP -rest. c = -1: rest OP lane, i.e. lane OP' rest with OP mirrored.
  static constexpr BinaryOp kMirrored[] = {BinaryOp::Eq, BinaryOp::Ne, BinaryOp::Gt,
                                           BinaryOp::Ge, BinaryOp::Lt, BinaryOp::Le};
  BinaryOp op =
      *c == 1 ? n->op : kMirrored[static_cast<int>(n->op) - static_cast<int>(BinaryOp::Eq)];
  llvm::Value* bound = *c == 1 ? b_.CreateNeg(r) : r;
  // Lanes are 0 .. width - 1: a bound clamped to [-1, width] compares them alike.
  bound = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smax, bound, b_.getInt64(-1));
  bound = b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin, bound, b_.getInt64(vec_.width));
  std::vector<llvm::Constant*> numbers;
  for (int i = 0; i < vec_.width; ++i) numbers.push_back(b_.getInt32(i));
  llvm::Value* lanes = llvm::ConstantVector::get(numbers);
  llvm::Value* limit = b_.CreateVectorSplat(vec_.width, b_.CreateTrunc(bound, b_.getInt32Ty()));
  return emit_compare(op, DType::I32, lanes, limit);
}

void KernelCodegen::vector_store(const StoreNode* n, llvm::Value* value) {
  const Tensor& t = n->tensor;
  llvm::Value* memory = to_memory(widen(value), t->dtype);
  llvm::Align align(dtype_bytes(t->dtype));
  if (access_coefficient(t, n->indices, vec_.var) == 1) {
    llvm::Value* lanes = scope_.vars[vec_.var];
    scope_.vars[vec_.var] = b_.getInt64(0);
    VectorLoop saved = vec_;
    vec_.var = nullptr;
    llvm::Value* ptr = b_.CreateInBoundsGEP(memory->getType()->getScalarType(), buffer(t),
                                            flat_index(t, n->indices));
    vec_ = saved;
    scope_.vars[vec_.var] = lanes;
    if (vec_.mask) {
      if (!is_private_buffer(t)) return void(b_.CreateMaskedStore(memory, ptr, align, vec_.mask));
      // A thread's own tile holds every lane (kVectorSlack): blend, so that SROA still keeps it
      // in registers.
      llvm::Value* old = b_.CreateAlignedLoad(memory->getType(), ptr, align);
      memory = b_.CreateSelect(vec_.mask, memory, old);
    } else if (streamed_.count(t.get()) &&
               module_.getDataLayout().getTypeStoreSize(memory->getType()) % 64 == 0) {
      return streaming_store(memory, ptr, align);
    }
    b_.CreateStore(memory, ptr)->setAlignment(align);
    return;
  }
  // Lanes that hit one address store in lane order, so the last lane wins as in the loop.
  llvm::Value* ptrs = b_.CreateGEP(mem_type(t->dtype), buffer(t), widen(flat_index(t, n->indices)));
  if (vec_.mask) return void(b_.CreateMaskedScatter(memory, ptrs, align, vec_.mask));
  b_.CreateMaskedScatter(memory, ptrs, align);
}

void KernelCodegen::streaming_store(llvm::Value* value, llvm::Value* ptr, llvm::Align align) {
  // x86's non-temporal stores need a 64-byte aligned address, which PyTorch usually but not
  // always gives: test it, the branch is well predicted.
  llvm::Value* misaligned = b_.CreateAnd(b_.CreatePtrToInt(ptr, b_.getInt64Ty()), 63);
  auto* nt_bb = llvm::BasicBlock::Create(ctx_, "stream", scope_.fn);
  auto* plain_bb = llvm::BasicBlock::Create(ctx_, "store", scope_.fn);
  auto* merge = llvm::BasicBlock::Create(ctx_, "stored", scope_.fn);
  b_.CreateCondBr(b_.CreateICmpEQ(misaligned, b_.getInt64(0)), nt_bb, plain_bb);
  b_.SetInsertPoint(nt_bb);
  llvm::StoreInst* nt = b_.CreateStore(value, ptr);
  nt->setAlignment(llvm::Align(64));
  nt->setMetadata(llvm::LLVMContext::MD_nontemporal,
                  llvm::MDNode::get(ctx_, llvm::ConstantAsMetadata::get(b_.getInt32(1))));
  b_.CreateBr(merge);
  b_.SetInsertPoint(plain_bb);
  b_.CreateStore(value, ptr)->setAlignment(align);
  b_.CreateBr(merge);
  b_.SetInsertPoint(merge);
}

}  // namespace kiln::llvm_backend

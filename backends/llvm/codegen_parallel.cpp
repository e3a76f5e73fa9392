// Parallel loops: the body is outlined into `void body(void* ctx, i64 begin, i64 end)` and run
// through kiln_parallel_for, with a context struct carrying what the body needs from outside.
#include <algorithm>

#include "backends/llvm/codegen_impl.h"

namespace kiln::llvm_backend {

namespace {

// The variables and tensors a statement refers to, in first-use order.
class UseCollector : public StmtVisitor {
 public:
  std::vector<const VarNode*> vars;
  std::vector<const TensorNode*> tensors;

 protected:
  void visit_leaf(const Expr& e) override {
    if (const VarNode* v = e.as<VarNode>()) add(vars, v);
  }
  void visit_load(const LoadNode* n) override {
    add(tensors, n->tensor.get());
    StmtVisitor::visit_load(n);
  }
  void visit_store(const StoreNode* n) override {
    add(tensors, n->tensor.get());
    StmtVisitor::visit_store(n);
  }

 private:
  template <typename T>
  static void add(std::vector<T>& list, T x) {
    if (std::find(list.begin(), list.end(), x) == list.end()) list.push_back(x);
  }
};

}  // namespace

void KernelCodegen::emit_parallel(const ForNode* n) {
  UseCollector uses;
  uses.visit(n->body);
  // Only what is bound out here is captured; the rest is bound inside the body.
  std::vector<const VarNode*> vars;
  for (const VarNode* v : uses.vars)
    if (scope_.vars.count(v)) vars.push_back(v);
  std::vector<const TensorNode*> bufs;
  for (const TensorNode* t : uses.tensors)
    if (scope_.buffers.count(t)) bufs.push_back(t);

  std::string name = str_cat(entry_name_, ".par", num_closures_++);
  llvm::Function* body =
      emit_closure(name + ".body", bufs, vars, 2,
                   [&](std::vector<llvm::Value*> range) { emit_loop(n, range[0], range[1], {}); });

  // The context: one pointer per buffer, then one i64 per variable.
  auto* ptr = llvm::PointerType::getUnqual(ctx_);
  std::vector<llvm::Type*> fields(bufs.size(), ptr);
  fields.insert(fields.end(), vars.size(), b_.getInt64Ty());
  auto* ctx_type = llvm::StructType::get(ctx_, fields);

  // void name(ptr ctx, i64 begin, i64 end): unpacks the context and calls the body.
  llvm::Function* outlined = new_function(
      name, llvm::FunctionType::get(b_.getVoidTy(), {ptr, b_.getInt64Ty(), b_.getInt64Ty()}, false),
      true);
  {
    llvm::IRBuilderBase::InsertPointGuard guard(b_);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", outlined));
    std::vector<llvm::Value*> args;
    for (size_t i = 0; i < fields.size(); ++i)
      args.push_back(
          b_.CreateLoad(fields[i], b_.CreateStructGEP(ctx_type, outlined->getArg(0), i)));
    args.push_back(outlined->getArg(1));
    args.push_back(outlined->getArg(2));
    b_.CreateCall(body, args);
    return_void();
  }

  llvm::AllocaInst* ctx = entry_alloca(ctx_type, 8, name + ".ctx");
  for (size_t i = 0; i < bufs.size(); ++i)
    b_.CreateStore(scope_.buffers.at(bufs[i]), b_.CreateStructGEP(ctx_type, ctx, i));
  for (size_t i = 0; i < vars.size(); ++i)
    b_.CreateStore(scope_.vars.at(vars[i]), b_.CreateStructGEP(ctx_type, ctx, bufs.size() + i));
  llvm::FunctionCallee parallel_for = module_.getOrInsertFunction(
      "kiln_parallel_for",
      llvm::FunctionType::get(b_.getVoidTy(), {ptr, ptr, b_.getInt64Ty()}, false));
  b_.CreateCall(parallel_for, {outlined, ctx, b_.getInt64(n->extent)});
}

}  // namespace kiln::llvm_backend

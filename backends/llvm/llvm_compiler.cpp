#include "backends/llvm/llvm_compiler.h"

#include <atomic>
#include <cctype>

#include "backends/llvm/codegen.h"
#include "backends/llvm/codegen_impl.h"
#include "backends/llvm/hoist_prepared.h"
#include "backends/llvm/jit_engine.h"
#include "backends/llvm/jit_kernel.h"
#include "backends/llvm/optimizer.h"
#include "core/support/error.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln {

using llvm_backend::JitEngine;

namespace {

/// `f` as every kernel of this backend is compiled: its input-only copies made prepared buffers
/// (hoist_prepared_buffers), which the code generator's reads may overrun by kVectorSlack.
LoweredFunc with_prepared_buffers(const LoweredFunc& f) {
  return llvm_backend::hoist_prepared_buffers(f, llvm_backend::kVectorSlack);
}

}  // namespace

struct LLVMCompiler::Impl {
  std::shared_ptr<JitEngine> engine;
  mutable std::atomic<uint64_t> next_id{0};

  llvm_backend::CodegenTarget codegen_target() const {
    const Target& t = engine->target();
    return {engine->cpu(), engine->features(), t.vector_bits, engine->vector_library(),
            t.l3_bytes / 2};
  }

  // A symbol name unique in the JIT, readable in profiles: kiln_<name>_<n>.
  std::string entry_name(const LoweredFunc& f) const {
    std::string name = "kiln_";
    for (char c : f.name) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name + "_" + std::to_string(next_id++);
  }

  std::unique_ptr<llvm::Module> generate(const LoweredFunc& f, const std::string& entry,
                                         llvm::LLVMContext& ctx) const {
    auto m = std::make_unique<llvm::Module>(entry, ctx);
    engine->configure(*m);
    llvm_backend::generate_kernel(f, entry, codegen_target(), *m);
    return m;
  }

  /// compile(), storing the module's object code in `object` when it is not null.
  std::unique_ptr<Kernel> compile(const LoweredFunc& lowered, std::string* entry_out,
                                  std::string* object) const {
    LoweredFunc f = with_prepared_buffers(lowered);
    std::string entry = entry_name(f);
    // One context per module, so that compiles on several threads share nothing.
    auto ctx = std::make_unique<llvm::LLVMContext>();
    std::unique_ptr<llvm::Module> m = generate(f, entry, *ctx);
    llvm_backend::JitModule code;
    try {
      code = engine->add(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx)), entry, object);
    } catch (const CompileError& e) {
      throw CompileError(str_cat(e.what(), "\nwhile compiling kernel '", f.name, "':\n", f));
    }
    if (entry_out) *entry_out = entry;
    return std::make_unique<llvm_backend::JitKernel>(f, engine, std::move(code));
  }
};

LLVMCompiler::LLVMCompiler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LLVMCompiler::~LLVMCompiler() = default;

std::unique_ptr<LLVMCompiler> LLVMCompiler::create() {
  auto impl = std::make_unique<Impl>();
  impl->engine = JitEngine::create();
  return std::unique_ptr<LLVMCompiler>(new LLVMCompiler(std::move(impl)));
}

std::unique_ptr<Kernel> LLVMCompiler::compile(const LoweredFunc& f) const {
  return impl_->compile(f, nullptr, nullptr);
}

std::pair<std::unique_ptr<Kernel>, ObjectCode> LLVMCompiler::compile_with_object(
    const LoweredFunc& f) const {
  ObjectCode code;
  std::unique_ptr<Kernel> kernel = impl_->compile(f, &code.entry, &code.bytes);
  return {std::move(kernel), std::move(code)};
}

ObjectCode LLVMCompiler::compile_object(const LoweredFunc& f) const {
  // The object comes from the JIT's own compile, so it is exactly the code compile() runs; the
  // kernel linked on the way is freed at once.
  return compile_with_object(f).second;
}

std::unique_ptr<Kernel> LLVMCompiler::load_object(const ObjectCode& code,
                                                  const LoweredFunc& f) const {
  llvm_backend::JitModule module = impl_->engine->load(code.bytes, code.entry);
  return std::make_unique<llvm_backend::JitKernel>(with_prepared_buffers(f), impl_->engine,
                                                   std::move(module));
}

std::string LLVMCompiler::llvm_ir(const LoweredFunc& f) const {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m =
      impl_->generate(with_prepared_buffers(f), impl_->entry_name(f), ctx);
  std::unique_ptr<llvm::TargetMachine> tm = impl_->engine->make_target_machine();
  llvm_backend::optimize_module(*m, *tm, impl_->engine->vector_library());
  std::string text;
  llvm::raw_string_ostream os(text);
  m->print(os, nullptr);
  return text;
}

int64_t LLVMCompiler::live_kernels() {
  return JitEngine::live_modules();
}

const Target& LLVMCompiler::target() const {
  return impl_->engine->target();
}

}  // namespace kiln

#include "backends/llvm/llvm_compiler.h"

#include <atomic>
#include <cctype>

#include "backends/llvm/codegen.h"
#include "backends/llvm/jit_engine.h"
#include "backends/llvm/jit_kernel.h"
#include "backends/llvm/optimizer.h"
#include "core/ir/error.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln {

using llvm_backend::JitEngine;

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
};

LLVMCompiler::LLVMCompiler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LLVMCompiler::~LLVMCompiler() = default;

std::unique_ptr<LLVMCompiler> LLVMCompiler::create() {
  auto impl = std::make_unique<Impl>();
  impl->engine = JitEngine::create();
  return std::unique_ptr<LLVMCompiler>(new LLVMCompiler(std::move(impl)));
}

std::unique_ptr<Kernel> LLVMCompiler::compile(const LoweredFunc& f) const {
  std::string entry = impl_->entry_name(f);
  // One context per module, so that compiles on several threads share nothing.
  auto ctx = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> m = impl_->generate(f, entry, *ctx);
  llvm_backend::JitModule code;
  try {
    code = impl_->engine->add(llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx)), entry);
  } catch (const CompileError& e) {
    throw CompileError(str_cat(e.what(), "\nwhile compiling kernel '", f.name, "':\n", f));
  }
  return std::make_unique<llvm_backend::JitKernel>(f, impl_->engine, std::move(code));
}

std::string LLVMCompiler::llvm_ir(const LoweredFunc& f) const {
  llvm::LLVMContext ctx;
  std::unique_ptr<llvm::Module> m = impl_->generate(f, impl_->entry_name(f), ctx);
  std::unique_ptr<llvm::TargetMachine> tm = impl_->engine->make_target_machine();
  llvm_backend::optimize_module(*m, *tm, impl_->engine->vector_library());
  std::string text;
  llvm::raw_string_ostream os(text);
  m->print(os, nullptr);
  return text;
}

const Target& LLVMCompiler::target() const {
  return impl_->engine->target();
}

}  // namespace kiln

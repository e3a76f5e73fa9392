#include "backends/llvm/jit_engine.h"

#include <mutex>

#include "backends/llvm/host_target.h"
#include "backends/llvm/llvm_error.h"
#include "backends/llvm/optimizer.h"
#include "core/runtime/thread_pool.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/IRTransformLayer.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln::llvm_backend {

namespace {

void initialize_llvm_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

}  // namespace

std::shared_ptr<JitEngine> JitEngine::create() {
  initialize_llvm_once();
  // detectHost takes the host's CPU name and every feature it has.
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  std::shared_ptr<JitEngine> engine(new JitEngine(jtmb, host_target()));
  engine->cpu_ = jtmb.getCPU();
  engine->features_ = jtmb.getFeatures().getString();
  engine->veclib_ = VectorLibrary::load(engine->target_.vector_bits);

  engine->jit_ = check(llvm::orc::LLJITBuilder()
                           .setJITTargetMachineBuilder(std::move(jtmb))
                           .setSupportConcurrentCompilation(true)
                           .create(),
                       "creating the LLJIT");
  JitEngine* self = engine.get();  // the JIT, and with it this transform, dies before *self
  engine->jit_->getIRTransformLayer().setTransform(
      [self](llvm::orc::ThreadSafeModule tsm, const llvm::orc::MaterializationResponsibility&)
          -> llvm::Expected<llvm::orc::ThreadSafeModule> {
        std::unique_ptr<llvm::TargetMachine> tm = self->make_target_machine();
        tsm.withModuleDo([&](llvm::Module& m) { optimize_module(m, *tm, self->vector_library()); });
        return tsm;
      });
  engine->setup_symbols();
  return engine;
}

void JitEngine::setup_symbols() {
  llvm::orc::JITDylib& jd = jit_->getMainJITDylib();
  // By address, so that it resolves even though Kiln's own symbols are hidden.
  llvm::orc::SymbolMap runtime;
  runtime[jit_->mangleAndIntern("kiln_parallel_for")] = {
      llvm::orc::ExecutorAddr::fromPtr(&kiln_parallel_for),
      llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  check(jd.define(llvm::orc::absoluteSymbols(std::move(runtime))), "defining kiln_parallel_for");
  // libm and libc come from the process (LLJIT links its process-symbols dylib by default);
  // libmvec is searched explicitly, as the process may not have linked it.
  if (veclib_) {
    char prefix = jit_->getDataLayout().getGlobalPrefix();
    jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::Load("libmvec.so.1", prefix),
                          "loading libmvec"));
  }
}

void JitEngine::configure(llvm::Module& m) const {
  m.setTargetTriple(jit_->getTargetTriple().str());
  m.setDataLayout(jit_->getDataLayout());
}

JitModule JitEngine::add(llvm::orc::ThreadSafeModule tsm, const std::string& entry) {
  JitModule result;
  result.tracker = jit_->getMainJITDylib().createResourceTracker();
  check(jit_->addIRModule(result.tracker, std::move(tsm)), "adding the module to the JIT");
  // The lookup materializes the module: optimization and code generation happen here.
  auto addr = jit_->lookup(entry);
  if (!addr) {
    llvm::Error removed = result.tracker->remove();
    llvm::consumeError(std::move(removed));  // the compile error below is the one that matters
    check(addr.takeError(), "compiling the module");
  }
  result.entry = addr->toPtr<void*>();
  return result;
}

std::unique_ptr<llvm::TargetMachine> JitEngine::make_target_machine() const {
  llvm::orc::JITTargetMachineBuilder jtmb = jtmb_;  // createTargetMachine is not const
  return check(jtmb.createTargetMachine(), "creating a target machine");
}

}  // namespace kiln::llvm_backend

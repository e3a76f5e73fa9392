#include "backends/llvm/jit_engine.h"

#include <map>
#include <mutex>

#include "backends/llvm/host_target.h"
#include "backends/llvm/llvm_error.h"
#include "backends/llvm/optimizer.h"
#include "core/runtime/thread_pool.h"
#include "llvm/ExecutionEngine/ObjectCache.h"
#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/IRTransformLayer.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/MemoryBuffer.h"
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

/// What LLJIT compiles with by default when compiles may run concurrently, with the object code
/// of every module shown to `cache`.
llvm::orc::LLJITBuilderState::CompileFunctionCreator compiler_showing_objects_to(
    llvm::ObjectCache* cache) {
  return [cache](llvm::orc::JITTargetMachineBuilder jtmb)
             -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
    return std::make_unique<llvm::orc::ConcurrentIRCompiler>(std::move(jtmb), cache);
  };
}

}  // namespace

/// Keeps the object code of the modules add() was asked for, by module identifier: the JIT's
/// compile function hands every object it emits here, and nothing is served back from it.
class ObjectCapture : public llvm::ObjectCache {
 public:
  void expect(const std::string& module) {
    std::lock_guard lock(mutex_);
    wanted_[module].clear();
  }
  /// What was captured for `module` (empty if nothing), and forgets it.
  std::string take(const std::string& module) {
    std::lock_guard lock(mutex_);
    auto node = wanted_.extract(module);
    return node ? std::move(node.mapped()) : std::string();
  }
  void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef object) override {
    std::lock_guard lock(mutex_);
    auto it = wanted_.find(m->getModuleIdentifier());
    if (it != wanted_.end()) it->second.assign(object.getBufferStart(), object.getBufferSize());
  }
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override { return nullptr; }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> wanted_;
};

JitEngine::JitEngine(llvm::orc::JITTargetMachineBuilder jtmb, Target target)
    : jtmb_(std::move(jtmb)),
      target_(std::move(target)),
      objects_(std::make_unique<ObjectCapture>()) {}

JitEngine::~JitEngine() = default;

std::shared_ptr<JitEngine> JitEngine::create() {
  initialize_llvm_once();
  // detectHost takes the host's CPU name and every feature it has.
  auto jtmb = check(llvm::orc::JITTargetMachineBuilder::detectHost(), "detecting the host CPU");
  jtmb.setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  std::shared_ptr<JitEngine> engine(new JitEngine(jtmb, host_target()));
  engine->cpu_ = jtmb.getCPU();
  engine->features_ = jtmb.getFeatures().getString();
  engine->veclib_ = VectorLibrary::load(engine->target_.vector_bits);

  engine->jit_ =
      check(llvm::orc::LLJITBuilder()
                .setJITTargetMachineBuilder(std::move(jtmb))
                .setSupportConcurrentCompilation(true)
                .setCompileFunctionCreator(compiler_showing_objects_to(engine->objects_.get()))
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

JitModule JitEngine::add(llvm::orc::ThreadSafeModule tsm, const std::string& entry,
                         std::string* object) {
  std::string module;
  tsm.withModuleDo([&](llvm::Module& m) { module = m.getModuleIdentifier(); });
  if (object) objects_->expect(module);
  JitModule result;
  result.tracker = jit_->getMainJITDylib().createResourceTracker();
  auto add_and_look_up = [&]() -> llvm::Expected<llvm::orc::ExecutorAddr> {
    if (llvm::Error err = jit_->addIRModule(result.tracker, std::move(tsm))) return err;
    return jit_->lookup(entry);  // materializes the module: optimization and codegen happen here
  };
  llvm::Expected<llvm::orc::ExecutorAddr> addr = add_and_look_up();
  std::string captured = object ? objects_->take(module) : std::string();
  if (!addr) {
    llvm::consumeError(result.tracker->remove());  // the compile error is the one that matters
    check(addr.takeError(), "compiling the module");
  }
  result.entry = addr->toPtr<void*>();
  if (object) {
    if (captured.empty()) {
      check(result.tracker->remove(), "removing a module without object code");
      throw CompileError(str_cat("the JIT emitted no object code for module ", module));
    }
    *object = std::move(captured);
  }
  return result;
}

JitModule JitEngine::load(std::string_view object, const std::string& entry) {
  // A fresh dylib per object: its symbols are looked up there first, so names never clash.
  std::string name = str_cat("kiln_object_", next_dylib_++);
  JitModule result;
  result.dylib = &check(jit_->createJITDylib(name), "creating a JITDylib for an object");
  result.dylib->addToLinkOrder(jit_->getMainJITDylib());
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), name);
  auto add_and_look_up = [&]() -> llvm::Expected<llvm::orc::ExecutorAddr> {
    if (llvm::Error err = jit_->addObjectFile(*result.dylib, std::move(buffer))) return err;
    return jit_->lookup(*result.dylib, entry);  // links the object
  };
  llvm::Expected<llvm::orc::ExecutorAddr> addr = add_and_look_up();
  if (!addr) {
    llvm::consumeError(remove(result));  // the load error is the one that matters
    check(addr.takeError(), str_cat("loading object code with entry ", entry));
  }
  result.entry = addr->toPtr<void*>();
  return result;
}

llvm::Error JitEngine::remove(const JitModule& code) {
  if (code.dylib) return jit_->getExecutionSession().removeJITDylib(*code.dylib);
  return code.tracker->remove();
}

std::unique_ptr<llvm::TargetMachine> JitEngine::make_target_machine() const {
  llvm::orc::JITTargetMachineBuilder jtmb = jtmb_;  // createTargetMachine is not const
  return check(jtmb.createTargetMachine(), "creating a target machine");
}

}  // namespace kiln::llvm_backend

#include "backends/llvm/jit_engine.h"

#include <mutex>

#include "backends/llvm/host_target.h"
#include "backends/llvm/llvm_error.h"
#include "backends/llvm/optimizer.h"
#include "core/ir/special_math.h"
#include "core/runtime/scratch.h"
#include "core/runtime/thread_pool.h"
#include "llvm/ExecutionEngine/Orc/CompileUtils.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"

namespace kiln::llvm_backend {

namespace {

/// LLVM calls this for an error it cannot recover from; without it, LLVM aborts the process.
/// Kiln compiles on the thread that asked (JitEngine::add), so the exception reaches that
/// thread's compile, which fails with it. (The module's LLVM state is leaked, as the unwinding
/// skips LLVM's own destructors.)
void throw_fatal_error(void*, const char* reason, bool) {
  throw CompileError(str_cat("LLVM fatal error: ", reason));
}

void initialize_llvm_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    llvm::install_fatal_error_handler(&throw_fatal_error);
  });
}

std::atomic<int64_t> live{0};

}  // namespace

int64_t JitEngine::live_modules() {
  return live.load();
}

JitEngine::JitEngine(llvm::orc::JITTargetMachineBuilder jtmb, Target target)
    : jtmb_(std::move(jtmb)), target_(std::move(target)) {}

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
  if (engine->veclib_)
    for (const std::string& soname : engine->veclib_->sonames())
      engine->target_.math_libraries +=
          (engine->target_.math_libraries.empty() ? "" : ",") + soname;
  engine->jit_ = check(llvm::orc::LLJITBuilder()
                           .setJITTargetMachineBuilder(std::move(jtmb))
                           .setSupportConcurrentCompilation(true)
                           .create(),
                       "creating the LLJIT");
  engine->setup_symbols();
  return engine;
}

void JitEngine::setup_symbols() {
  llvm::orc::JITDylib& jd = jit_->getMainJITDylib();
  // By address, so that it resolves even though Kiln's own symbols are hidden.
  llvm::orc::SymbolMap runtime;
  for (auto [name, address] :
       {std::pair<const char*, void*>{"kiln_parallel_for",
                                      reinterpret_cast<void*>(&kiln_parallel_for)},
        {"kiln_scratch_alloc", reinterpret_cast<void*>(&kiln_scratch_alloc)},
        {"kiln_scratch_free", reinterpret_cast<void*>(&kiln_scratch_free)}})
    runtime[jit_->mangleAndIntern(name)] = {
        llvm::orc::ExecutorAddr::fromPtr(address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  for (const SpecialFunction& f : special_functions())
    runtime[jit_->mangleAndIntern(f.name)] = {
        llvm::orc::ExecutorAddr::fromPtr(f.address),
        llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable};
  check(jd.define(llvm::orc::absoluteSymbols(std::move(runtime))),
        "defining Kiln's runtime functions");
  // libm and libc come from the process (LLJIT links its process-symbols dylib by default);
  // the vector math libraries are searched explicitly, as the process may not have linked them.
  if (veclib_) {
    char prefix = jit_->getDataLayout().getGlobalPrefix();
    for (const std::string& soname : veclib_->sonames())
      jd.addGenerator(check(llvm::orc::DynamicLibrarySearchGenerator::Load(soname.c_str(), prefix),
                            "loading " + soname));
  }
}

void JitEngine::configure(llvm::Module& m) const {
  m.setTargetTriple(jit_->getTargetTriple().str());
  m.setDataLayout(jit_->getDataLayout());
}

JitModule JitEngine::add(llvm::orc::ThreadSafeModule tsm, const std::string& entry,
                         std::string* object) {
  std::string code;
  tsm.withModuleDo([&](llvm::Module& m) {
    std::unique_ptr<llvm::TargetMachine> tm = make_target_machine();
    optimize_module(m, *tm, vector_library());
    llvm::orc::SimpleCompiler compile(*tm);
    std::unique_ptr<llvm::MemoryBuffer> buffer = check(compile(m), "compiling the module");
    code.assign(buffer->getBufferStart(), buffer->getBufferSize());
  });
  JitModule result = load(code, entry);
  if (object) *object = std::move(code);
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
    // The load error is the one that matters.
    llvm::consumeError(jit_->getExecutionSession().removeJITDylib(*result.dylib));
    check(addr.takeError(), str_cat("loading object code with entry ", entry));
  }
  result.entry = addr->toPtr<void*>();
  ++live;
  return result;
}

llvm::Error JitEngine::remove(const JitModule& code) {
  llvm::Error err = jit_->getExecutionSession().removeJITDylib(*code.dylib);
  if (!err) --live;
  return err;
}

std::unique_ptr<llvm::TargetMachine> JitEngine::make_target_machine() const {
  llvm::orc::JITTargetMachineBuilder jtmb = jtmb_;  // createTargetMachine is not const
  return check(jtmb.createTargetMachine(), "creating a target machine");
}

}  // namespace kiln::llvm_backend

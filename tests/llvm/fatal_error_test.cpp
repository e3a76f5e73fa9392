// An LLVM fatal error ("LLVM ERROR: ...", which would abort the process) and a code generation
// error LLVM reports through its context (which would exit it) become a CompileError for that
// module; the JIT goes on compiling others.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "backends/llvm/jit_engine.h"
#include "core/support/error.h"
#include "llvm/AsmParser/Parser.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"

namespace kiln::llvm_backend {
namespace {

/// `text` (LLVM assembly) as a module ready for `engine`.
llvm::orc::ThreadSafeModule parse(const JitEngine& engine, const std::string& name,
                                  const std::string& text) {
  auto ctx = std::make_unique<llvm::LLVMContext>();
  llvm::SMDiagnostic error;
  std::unique_ptr<llvm::Module> m = llvm::parseAssemblyString(text, error, *ctx);
  EXPECT_TRUE(m) << error.getMessage().str();
  m->setModuleIdentifier(name);
  engine.configure(*m);
  return llvm::orc::ThreadSafeModule(std::move(m), std::move(ctx));
}

/// Adding `text` to a fresh engine throws a CompileError whose message holds `needle`, and the
/// engine compiles a good module afterwards.
void expect_compile_error(const std::string& name, const std::string& text,
                          const std::string& needle) {
  std::shared_ptr<JitEngine> engine = JitEngine::create();
  try {
    engine->add(parse(*engine, name, text), name);
    ADD_FAILURE() << "compiled " << name;
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  const char* good = R"(
define void @good(ptr %args) {
  ret void
})";
  JitModule after = engine->add(parse(*engine, name + "_then_good", good), "good");
  EXPECT_NE(after.entry, nullptr);
}

TEST(LlvmFailures, AFatalErrorInCodeGenerationIsACompileError) {
  // Another target's intrinsic passes the verifier; x86 instruction selection cannot select it.
  expect_compile_error("bad", R"(
declare void @llvm.aarch64.isb(i32)
define void @bad(ptr %args) {
  call void @llvm.aarch64.isb(i32 15)
  ret void
})",
                       "LLVM fatal error: Cannot select");
}

TEST(LlvmFailures, AnErrorLlvmReportsThroughItsContextIsACompileError) {
  // Inline assembly the x86 assembler rejects: reported to the module's context as an error.
  expect_compile_error("bad_asm", R"(
define void @bad_asm(ptr %args) {
  call void asm sideeffect "not_an_instruction %eax", ""()
  ret void
})",
                       "not_an_instruction");
}

}  // namespace
}  // namespace kiln::llvm_backend

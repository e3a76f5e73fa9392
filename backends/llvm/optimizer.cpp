#include "backends/llvm/optimizer.h"

#include "backends/llvm/vector_library.h"
#include "core/support/error.h"
#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DiagnosticHandler.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/DiagnosticPrinter.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

namespace kiln::llvm_backend {

namespace {

/// LLVM reports a loop it could not vectorize as a remark or warning on stderr: a fact about a
/// schedule, not a problem of the user's. Those are dropped; errors fail the compile.
struct QuietDiagnostics : llvm::DiagnosticHandler {
  bool handleDiagnostics(const llvm::DiagnosticInfo& info) override {
    if (info.getSeverity() != llvm::DS_Error) return true;
    std::string text;
    llvm::raw_string_ostream os(text);
    llvm::DiagnosticPrinterRawOStream printer(os);
    info.print(printer);
    throw CompileError("LLVM: " + os.str());
  }
};

}  // namespace

void optimize_module(llvm::Module& m, llvm::TargetMachine& tm, const VectorLibrary* veclib) {
  m.getContext().setDiagnosticHandler(std::make_unique<QuietDiagnostics>());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;

  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = true;
  pto.SLPVectorization = true;  // off by default in PassBuilder
  pto.LoopUnrolling = true;
  pto.LoopInterleaving = true;
  llvm::PassBuilder pb(&tm, pto);

  // Registered before the defaults: the first registration of an analysis wins.
  llvm::TargetLibraryInfoImpl tlii(llvm::Triple(m.getTargetTriple()));
  if (veclib) veclib->register_with(tlii);
  fam.registerPass([&] { return llvm::TargetLibraryAnalysis(tlii); });

  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);

  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(m, mam);
}

}  // namespace kiln::llvm_backend

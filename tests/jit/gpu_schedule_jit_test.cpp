// The GPU schedule over every op case of the library, checked here without a GPU: the loop IR
// gpu_schedule lowers to, its block and thread loops run in turn by one CPU thread, equals the
// interpreter (that is what the loops compute: no thread of gpu_schedule's kernels reads what
// another wrote in the same launch); and the CUDA C written from the same loop IR compiles with
// NVRTC for sm_90 where NVRTC is found. Running the CUDA code itself needs a GPU.
#include <optional>

#include "backends/cuda/cuda_source.h"
#include "backends/cuda/nvrtc.h"
#include "core/ir/functor.h"
#include "core/templates/gpu_schedule.h"
#include "tests/jit/jit_harness.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

/// `f` with its GPU loops serial, for the CPU backend (which refuses GPU loops).
LoweredFunc gpu_loops_serial(LoweredFunc f) {
  struct Serial : StmtMutator {
    Stmt mutate_for(const Stmt& s, const ForNode* n) override {
      bool gpu = n->for_kind == ForKind::GpuBlock || n->for_kind == ForKind::GpuThread;
      Stmt body = mutate(n->body);
      return ForNode::make(n->var, n->extent, gpu ? ForKind::Serial : n->for_kind, body,
                           gpu ? 0 : n->thread_axis);
    }
  } serial;
  f.body = serial.mutate(f.body);
  return f;
}

const cuda::Nvrtc* nvrtc() {
  static const std::optional<cuda::Nvrtc> loaded = cuda::Nvrtc::load();
  return loaded ? &*loaded : nullptr;
}

class GpuScheduleJit : public ::testing::TestWithParam<size_t> {};

TEST_P(GpuScheduleJit, MatchesInterpreterAndCompilesForSm90) {
  const OpCase& c = op_cases()[GetParam()];
  PreparedCase p = prepare_case(c);
  std::optional<Schedule> s;
  try {
    s.emplace(gpu_schedule(p.outputs));
  } catch (const ScheduleError& e) {
    GTEST_SKIP() << e.what();  // scans and scatters have no GPU schedule yet
  }
  LoweredFunc f = lower(*s, "kernel");
  std::string what = c.name + " (" + c.op + ")";
  testing::expect_lowered_matches_interpreter(p.outputs, gpu_loops_serial(f), bind_inputs(p), what,
                                              c.atol, c.rtol);
  std::optional<cuda::CudaModule> m;
  try {
    m.emplace(cuda::cuda_source(f));
  } catch (const CompileError& e) {
    // Only the functions CUDA's math library lacks may stop it.
    EXPECT_NE(std::string(e.what()).find("has no CUDA form yet"), std::string::npos) << e.what();
    return;
  }
  if (nvrtc()) {
    EXPECT_NO_THROW(nvrtc()->compile_cubin(m->source, "sm_90")) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(AllOps, GpuScheduleJit, ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return op_case_test_name(info.param);
                         });

}  // namespace
}  // namespace kiln

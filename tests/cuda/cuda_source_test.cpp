// The CUDA backend without a GPU: the generated CUDA C of each op class the GPU schedule
// reaches, compared whole with tests/cuda/golden/*.cu (rewrite them with
//   KILN_UPDATE_GOLDEN=1 build/tests/test_cuda
// when a change is meant), and NVRTC compiling each to cubins for sm_80 and sm_90. The NVRTC
// tests skip, saying why, where no NVRTC library is found.
#include "backends/cuda/cuda_source.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "backends/cuda/nvrtc.h"
#include "core/schedule/lower.h"
#include "core/templates/gpu_schedule.h"
#include "tests/support/golden.h"
#include "tests/tune/workloads.h"

namespace kiln::cuda {
namespace {

/// y = max(x * 2 + b, 0) in `t`, b broadcast along the rows.
Tensor bias_relu(DType t) {
  Tensor x = placeholder("x", {300, 7}, t), b = placeholder("b", {7}, t);
  return compute("y", {300, 7}, [&](const std::vector<Var>& i) {
    return max(x(i[0], i[1]) * make_const(t, 2) + b(i[1]), make_const(t, 0));
  });
}

/// exp of a double tensor named "int", computed into one named "exp": names C++ or CUDA's math
/// library holds, which the generated code must rename.
Tensor reserved_names() {
  Tensor x = placeholder("int", {10}, DType::F64);
  return compute("exp", {10},
                 [&](const std::vector<Var>& i) { return unary(UnaryOp::Exp, x(i[0])); });
}

/// Python's // and % of x by -3 in f32 and in f64: two outputs, two kernels.
std::vector<Tensor> floor_division() {
  std::vector<Tensor> outs;
  for (DType t : {DType::F32, DType::F64}) {
    Tensor x = placeholder(str_cat("x", dtype_name(t)), {100}, t);
    outs.push_back(compute(str_cat("q", dtype_name(t)), {100}, [&](const std::vector<Var>& i) {
      Expr by = make_const(t, -3);
      return floordiv(x(i[0]), by) + floormod(x(i[0]), by);
    }));
  }
  return outs;
}

struct Case {
  const char* name;
  std::vector<Tensor> (*outputs)();
};

const Case kCases[] = {
    {"bias_relu_f32", [] { return std::vector<Tensor>{bias_relu(DType::F32)}; }},
    {"bias_relu_bf16", [] { return std::vector<Tensor>{bias_relu(DType::BF16)}; }},
    {"softmax", [] { return std::vector<Tensor>{tune_test::softmax(64, 1000)}; }},
    {"matmul", [] { return std::vector<Tensor>{tune_test::matmul(128, 96, 64)}; }},
    {"reserved_names", [] { return std::vector<Tensor>{reserved_names()}; }},
    {"floor_division", floor_division},
    {"cumsum_rows", [] { return std::vector<Tensor>{tune_test::cumsum(300, 100, 1)}; }},
};

CudaModule module_of(const Case& c) {
  return cuda_source(lower(gpu_schedule(c.outputs()), c.name));
}

void expect_golden(const std::string& name, const std::string& text) {
  testing::expect_golden_file(std::filesystem::path(KILN_GOLDEN_DIR) / (name + ".cu"), text);
}

TEST(CudaSource, EachOpClassMatchesItsGoldenFile) {
  // Every module starts with the same helpers (preamble.cu); each golden file holds the kernels.
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string source = module_of(c).source;
    size_t kernels = source.find("\nextern \"C\"");
    ASSERT_NE(kernels, std::string::npos) << source;
    expect_golden("preamble", source.substr(0, kernels + 1));
    expect_golden(c.name, source.substr(kernels + 1));
  }
}

TEST(CudaSource, EveryRootNestIsAKernelLaunchedOverItsElements) {
  // softmax: the row max, the row sum (both intermediates in the workspace), the output.
  CudaModule m = module_of(kCases[2]);
  ASSERT_EQ(m.kernels.size(), 3u);
  EXPECT_EQ(m.workspace.size(), 2u);
  EXPECT_EQ(m.kernels[0].grid[0], 1);  // 64 rows in one block of 256 threads
  EXPECT_EQ(m.kernels[0].block[0], kGpuThreadsPerBlock);
  EXPECT_EQ(m.kernels[2].grid[0], (64 * 1000 + kGpuThreadsPerBlock - 1) / kGpuThreadsPerBlock);
  for (const CudaKernel& k : m.kernels)
    EXPECT_NE(m.source.find("__global__ void __launch_bounds__(256) " + k.name + "("),
              std::string::npos);
}

TEST(CudaSource, WhatHasNoCudaFormIsACompileErrorNamingIt) {
  Tensor x = placeholder("x", {1024}, DType::F32);
  Tensor d = compute("d", {1024},
                     [&](const std::vector<Var>& i) { return unary(UnaryOp::Digamma, x(i[0])); });
  try {
    cuda_source(lower(gpu_schedule({d}), "digamma"));
    FAIL() << "digamma compiled";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("digamma"), std::string::npos) << e.what();
  }
  // A CPU schedule's parallel loop has no GPU meaning.
  Schedule cpu({tune_test::matmul(64, 64, 64)});
  cpu.parallel(cpu.stages()[0].name, cpu.stages()[0].loops[0].name);
  EXPECT_THROW(cuda_source(lower(cpu, "mm")), CompileError);
  EXPECT_THROW(gpu_schedule({tune_test::scatter_add(5, 4, 3)}), ScheduleError);
}

class Nvrtc : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    nvrtc_ = cuda::Nvrtc::load(&why);
    if (!nvrtc_) GTEST_SKIP() << why;
  }
  std::optional<cuda::Nvrtc> nvrtc_;
};

TEST_F(Nvrtc, CompilesEveryGoldenKernelToCubinsForSm80AndSm90) {
  for (const Case& c : kCases)
    for (const char* arch : {"sm_80", "sm_90"}) {
      SCOPED_TRACE(std::string(c.name) + " " + arch);
      std::string cubin = nvrtc_->compile_cubin(module_of(c).source, arch);
      ASSERT_GE(cubin.size(), 4u);
      EXPECT_EQ(cubin.substr(0, 4),
                "\x7f"
                "ELF");
    }
}

TEST_F(Nvrtc, AFailedCompileCarriesTheLogAndTheSource) {
  try {
    nvrtc_->compile_cubin("extern \"C\" __global__ void k() { undeclared_name = 1; }\n", "sm_90",
                          "broken.cu");
    FAIL() << "the broken source compiled";
  } catch (const NvrtcError& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("broken.cu"), std::string::npos) << what;
    EXPECT_NE(what.find("undeclared_name"), std::string::npos) << what;  // in the log
    EXPECT_NE(what.find("1: extern \"C\""), std::string::npos) << what;  // the numbered source
  }
  EXPECT_FALSE(nvrtc_->version().empty());
}

}  // namespace
}  // namespace kiln::cuda

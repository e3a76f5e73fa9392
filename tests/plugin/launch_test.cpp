// The C++ API of libkiln_torch.so, as a program linked with libtorch and no Python uses it.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include "plugin/torch/kiln_torch.h"
#include "plugin/torch/test_hooks.h"
#include "tests/plugin/plugin_graphs.h"

namespace kiln {
namespace {

/// Compile options that serve contractions as `policy` says, everything else by default.
CompileOptions contractions(ContractionPolicy policy) {
  CompileOptions options;
  options.contractions = policy;
  return options;
}

TEST(KilnTorch, CompiledSlotMatchesATen) {
  CompiledGraph plan = compile_graph(add_relu_graph());
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(plan.groups[0].nodes, (std::vector<int>{0, 1}));
  at::Tensor a = at::randn({4, 8}), b = at::randn({4, 8});
  std::vector<at::Tensor> out = launch_slot(plan.groups[0].slot, {a, b});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(at::allclose(out[0], at::relu(a + 2 * b)));

  SlotInfo info = slot_info(plan.groups[0].slot);
  EXPECT_EQ(info.ops, "aten.add.Tensor+aten.relu.default");
  EXPECT_EQ(info.stats.calls, 1u);
  ASSERT_EQ(info.outputs.size(), 1u);
  EXPECT_EQ(info.outputs[0].shape, (std::vector<int64_t>{4, 8}));
}

TEST(KilnTorch, InputOnAnotherDeviceIsANamedError) {
  int64_t slot = compile_graph(add_relu_graph()).groups[0].slot;
  at::Tensor meta = at::empty({4, 8}, at::TensorOptions().device(at::kMeta));
  try {
    launch_slot(slot, {at::randn({4, 8}), meta});
    FAIL() << "a meta tensor was accepted";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("input 1: expected f32[4, 8] strides [8, 1] on cpu, "
                                         "got f32[4, 8] strides [8, 1] on meta"),
              std::string::npos)
        << e.what();
  }
}

TEST(KilnTorch, SwapKeepsResultsAndCountsVersions) {
  int64_t slot = compile_graph(add_relu_graph()).groups[0].slot;
  at::Tensor a = at::randn({4, 8}), b = at::randn({4, 8});
  test_hooks::swap_kernel(slot);
  test_hooks::swap_kernel(slot);
  EXPECT_TRUE(at::equal(launch_slot(slot, {a, b})[0], at::relu(a + 2 * b)));
  EXPECT_EQ(slot_info(slot).stats.version, 2u);
}

// Kiln's parallel loops run on PyTorch's intra-op pool, as wide as torch.set_num_threads says.
TEST(KilnTorch, ParallelLoopsUseTorchsThreads) {
  int before = at::get_num_threads();
  at::set_num_threads(2);
  EXPECT_EQ(doctor().parallel_loop_threads, 2);
  at::set_num_threads(1);
  EXPECT_EQ(doctor().parallel_loop_threads, 1);
  at::set_num_threads(before);
}

TEST(KilnTorch, LibraryPathNamesThisLibrary) {
  EXPECT_NE(library_path().find("libkiln_torch.so"), std::string::npos);
}

/// relu(a @ b + bias) for f32 a[6, 16], b[16, 10], bias[10]; `mm_is_output` also makes a @ b a
/// graph output.
Graph matmul_bias_relu_graph(bool mm_is_output) {
  Graph g;
  ValueId a = g.add_input({DType::F32, {6, 16}, {16, 1}, "cpu"});
  ValueId b = g.add_input({DType::F32, {16, 10}, {10, 1}, "cpu"});
  ValueId bias = g.add_input({DType::F32, {10}, {1}, "cpu"});
  TensorType out{DType::F32, {6, 10}, {10, 1}, "cpu"};
  ValueId mm = g.add_node("aten.mm.default", {ValueRef{a}, ValueRef{b}}, {out})[0];
  ValueId s = g.add_node("aten.add.Tensor", {ValueRef{mm}, ValueRef{bias}, int64_t{1}}, {out})[0];
  ValueId r = g.add_node("aten.relu.default", {ValueRef{s}}, {out})[0];
  if (mm_is_output) g.mark_output(mm);
  g.mark_output(r);
  return g;
}

TEST(KilnTorch, ContractionServedByEitherSideMatchesATen) {
  at::Tensor a = at::randn({6, 16}), b = at::randn({16, 10}), bias = at::randn({10});
  at::Tensor want = at::relu(at::mm(a, b) + bias);
  for (auto [policy, served_by] :
       {std::pair{ContractionPolicy::Kiln, "Kiln kernel"},
        std::pair{ContractionPolicy::Aten, "aten.mm.default + Kiln epilogue in place"},
        std::pair{ContractionPolicy::Fastest, ""}}) {
    SCOPED_TRACE(served_by);
    CompiledGraph plan = compile_graph(matmul_bias_relu_graph(false), contractions(policy));
    ASSERT_EQ(plan.groups.size(), 1u);
    EXPECT_EQ(plan.groups[0].nodes, (std::vector<int>{0, 1, 2}));
    at::Tensor a0 = a.clone(), b0 = b.clone(), bias0 = bias.clone();
    std::vector<at::Tensor> out = launch_slot(plan.groups[0].slot, {a, b, bias});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(at::allclose(out[0], want, 1e-5, 1e-5));
    // ATen's serving writes its epilogue over the matmul's result, never over an input.
    EXPECT_TRUE(at::equal(a, a0) && at::equal(b, b0) && at::equal(bias, bias0));
    std::string got = slot_info(plan.groups[0].slot).served_by;
    if (*served_by)
      EXPECT_EQ(got, served_by);
    else  // the faster of the two, whichever it was here
      EXPECT_TRUE(got == "Kiln kernel" || got == "aten.mm.default + Kiln epilogue in place") << got;
  }
}

TEST(KilnTorch, AtenServedContractionAlsoReturnsItsOwnResult) {
  at::Tensor a = at::randn({6, 16}), b = at::randn({16, 10}), bias = at::randn({10});
  CompiledGraph plan =
      compile_graph(matmul_bias_relu_graph(true), contractions(ContractionPolicy::Aten));
  ASSERT_EQ(plan.groups.size(), 1u);
  // Two outputs: the epilogue cannot write over the matmul's result.
  EXPECT_EQ(slot_info(plan.groups[0].slot).served_by, "aten.mm.default + Kiln epilogue");
  std::vector<at::Tensor> out = launch_slot(plan.groups[0].slot, {a, b, bias});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(at::allclose(out[0], at::mm(a, b), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(out[1], at::relu(at::mm(a, b) + bias), 1e-5, 1e-5));
}

TEST(KilnTorch, LinearLayerWithItsTransposedWeightIsOneSlotEitherWay) {
  Graph g;
  ValueId x = g.add_input({DType::F32, {5, 12}, {12, 1}, "cpu"});
  ValueId w = g.add_input({DType::F32, {7, 12}, {12, 1}, "cpu"});
  ValueId b = g.add_input({DType::F32, {7}, {1}, "cpu"});
  ValueId wt =
      g.add_node("aten.t.default", {ValueRef{w}}, {{DType::F32, {12, 7}, {1, 12}, "cpu"}})[0];
  TensorType out{DType::F32, {5, 7}, {7, 1}, "cpu"};
  ValueId y =
      g.add_node("aten.addmm.default",
                 {ValueRef{b}, ValueRef{x}, ValueRef{wt}, int64_t{1}, int64_t{1}}, {out})[0];
  g.mark_output(g.add_node("aten.gelu.default", {ValueRef{y}, std::string("none")}, {out})[0]);
  at::Tensor xs = at::randn({5, 12}), ws = at::randn({7, 12}), bs = at::randn({7});
  at::Tensor want = at::gelu(at::addmm(bs, xs, ws.t()));
  for (ContractionPolicy policy : {ContractionPolicy::Kiln, ContractionPolicy::Aten}) {
    CompiledGraph plan = compile_graph(g, contractions(policy));
    ASSERT_EQ(plan.groups.size(), 1u);
    EXPECT_EQ(plan.groups[0].nodes, (std::vector<int>{0, 1, 2}));
    EXPECT_TRUE(plan.fallback_nodes.empty());
    at::Tensor got = launch_slot(plan.groups[0].slot, {xs, ws, bs})[0];
    EXPECT_TRUE(at::allclose(got, want, 1e-5, 1e-5)) << static_cast<int>(policy);
    std::string served_by = slot_info(plan.groups[0].slot).served_by;
    if (policy == ContractionPolicy::Aten)
      EXPECT_EQ(served_by.rfind("aten.addmm.default + Kiln epilogue", 0), 0u) << served_by;
    else
      EXPECT_EQ(served_by, "Kiln kernel");
  }
}

TEST(KilnTorch, AtenServedConvolutionWithoutEpilogue) {
  Graph g;
  ValueId x = g.add_input({DType::F32, {2, 3, 9, 9}, {243, 81, 9, 1}, "cpu"});
  ValueId w = g.add_input({DType::F32, {4, 3, 3, 3}, {27, 9, 3, 1}, "cpu"});
  ValueId y = g.add_node(
      "aten.convolution.default",
      {ValueRef{x}, ValueRef{w}, NoneArg{}, std::vector<int64_t>{2, 2}, std::vector<int64_t>{1, 1},
       std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, int64_t{1}},
      {{DType::F32, {2, 4, 5, 5}, {100, 25, 5, 1}, "cpu"}})[0];
  g.mark_output(y);
  CompiledGraph plan = compile_graph(g, contractions(ContractionPolicy::Aten));
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(slot_info(plan.groups[0].slot).served_by, "aten.convolution.default");
  at::Tensor xs = at::randn({2, 3, 9, 9}), ws = at::randn({4, 3, 3, 3});
  at::Tensor got = launch_slot(plan.groups[0].slot, {xs, ws})[0];
  EXPECT_TRUE(at::allclose(got, at::conv2d(xs, ws, {}, 2, 1), 1e-4, 1e-4));
}

}  // namespace
}  // namespace kiln

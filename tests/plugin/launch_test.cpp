// The C++ API of libkiln_torch.so, as a program linked with libtorch and no Python uses it.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "plugin/torch/kiln_torch.h"

namespace kiln {
namespace {

const TensorType kF32x4x8{DType::F32, {4, 8}, {8, 1}, "cpu"};

/// relu(a + 2 * b) over two f32[4, 8] inputs.
Graph add_relu_graph() {
  Graph g;
  ValueId a = g.add_input(kF32x4x8);
  ValueId b = g.add_input(kF32x4x8);
  ValueId s = g.add_node("aten.add.Tensor", {ValueRef{a}, ValueRef{b}, int64_t{2}}, {kF32x4x8})[0];
  ValueId r = g.add_node("aten.relu.default", {ValueRef{s}}, {kF32x4x8})[0];
  g.mark_output(r);
  return g;
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
  swap_kernel_for_test(slot);
  swap_kernel_for_test(slot);
  EXPECT_TRUE(at::equal(launch_slot(slot, {a, b})[0], at::relu(a + 2 * b)));
  EXPECT_EQ(slot_info(slot).stats.version, 2u);
}

TEST(KilnTorch, LibraryPathNamesThisLibrary) {
  EXPECT_NE(library_path().find("libkiln_torch.so"), std::string::npos);
}

}  // namespace
}  // namespace kiln

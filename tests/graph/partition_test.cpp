// partition: which nodes fuse (the fusion rules: epilogues, prologues, reductions, views, layer
// norm, convolution, batch norm), checked by running every partition against the node-by-node
// reference. partition_fallback_test.cpp: what stays ATen and the order steps run in.
#include <gtest/gtest.h>

#include "tests/graph/partition_checks.h"

namespace kiln {
namespace {

using namespace partition_test;

TEST(Partition, MlpFusesEpiloguesIntoMatmuls) {
  Graph g;
  ValueId x = g.add_input(f32({8, 32})), w1 = g.add_input(f32({32, 64}));
  ValueId b1 = g.add_input(f32({64})), w2 = g.add_input(f32({64, 16}));
  ValueId b2 = g.add_input(f32({16}));
  ValueId h = add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{w1}}, f32({8, 64}));
  h = add_op(g, "aten.add.Tensor", {ValueRef{h}, ValueRef{b1}, 1.0}, f32({8, 64}));
  ValueId r = add_op(g, "aten.relu.default", {ValueRef{h}}, f32({8, 64}));
  ValueId y = add_op(g, "aten.mm.default", {ValueRef{r}, ValueRef{w2}}, f32({8, 16}));
  y = add_op(g, "aten.add.Tensor", {ValueRef{y}, ValueRef{b2}, 1.0}, f32({8, 16}));
  g.mark_output(y);

  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}, {3, 4}}));
  EXPECT_EQ(as_set(p.groups[0].inputs), (std::set<ValueId>{x, w1, b1}));
  EXPECT_EQ(p.groups[0].outputs, std::vector<ValueId>{r});
  EXPECT_EQ(as_set(p.groups[1].inputs), (std::set<ValueId>{r, w2, b2}));
  EXPECT_EQ(p.groups[1].outputs, std::vector<ValueId>{y});
  EXPECT_TRUE(p.fallback_nodes.empty());
  EXPECT_TRUE(p.unsupported.empty());
}

// An index made in the graph stays out of the kernel that reads it: the runtime checks a
// kernel's inputs (value_check.h), and eager raises on an index out of range.
TEST(Partition, ACheckedIndexIsAKernelInput) {
  Graph g;
  ValueId x = g.add_input(f32({10, 4}));
  ValueId i = g.add_input({DType::I64, {3}, {}, "cpu"});
  ValueId j =
      add_op(g, "aten.mul.Tensor", {ValueRef{i}, ValueRef{i}}, {DType::I64, {3}, {}, "cpu"});
  ValueId y =
      add_op(g, "aten.index_select.default", {ValueRef{x}, int64_t{0}, ValueRef{j}}, f32({3, 4}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{y}}, f32({3, 4})));

  Partition p = check(g);
  ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}, {1, 2}}));
  EXPECT_TRUE(p.groups[0].checks.empty());
  const FusionGroup& reader = p.groups[1];
  ASSERT_EQ(reader.checks.size(), 1u);
  const InputCheck& c = reader.checks[0];
  EXPECT_EQ(reader.inputs.at(c.input), j);
  EXPECT_EQ(c.op, "aten.index_select.default");
  EXPECT_EQ(c.check.rule, ValueCheck::Rule::Index);
  EXPECT_EQ(c.check.size, 10);
  EXPECT_EQ(c.check.dim, 0);
}

// x[:, i * i] (index.Tensor with a None in its Tensor?[] list): the computed index is checked,
// by its place in the list, and stays out of the kernel that reads it.
TEST(Partition, AnIndexInATensorListIsCheckedByItsPlace) {
  Graph g;
  ValueId x = g.add_input(f32({4, 10}));
  ValueId i = g.add_input({DType::I64, {3}, {}, "cpu"});
  ValueId j =
      add_op(g, "aten.mul.Tensor", {ValueRef{i}, ValueRef{i}}, {DType::I64, {3}, {}, "cpu"});
  ValueId y = add_op(g, "aten.index.Tensor", {ValueRef{x}, std::vector<ValueRef>{{kNoValue}, {j}}},
                     f32({4, 3}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{y}}, f32({4, 3})));

  Partition p = check(g);
  EXPECT_TRUE(p.unsupported.empty()) << p.unsupported.begin()->second;
  ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}, {1, 2}}));
  const FusionGroup& reader = p.groups[1];
  ASSERT_EQ(reader.checks.size(), 1u);
  const InputCheck& c = reader.checks[0];
  EXPECT_EQ(reader.inputs.at(c.input), j);
  EXPECT_EQ(c.check.rule, ValueCheck::Rule::Wrapped);
  EXPECT_EQ(c.check.element, 1);
  EXPECT_EQ(c.check.size, 10);
  EXPECT_EQ(c.check.dim, 1);
}

/// relu(addmm(b, x, w.t())), a Linear layer as AOTAutograd writes it: inputs x, w, b (values 0,
/// 1, 2), then nodes t (value 3), addmm (4), relu (5).
Graph linear_relu_graph() {
  Graph g;
  ValueId x = g.add_input(f32({8, 32})), w = g.add_input(f32({16, 32})), b = g.add_input(f32({16}));
  ValueId wt = add_op(g, "aten.t.default", {ValueRef{w}}, f32({32, 16}, {1, 32}));
  ValueId y = add_op(g, "aten.addmm.default", {ValueRef{b}, ValueRef{x}, ValueRef{wt}, 1.0, 1.0},
                     f32({8, 16}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{y}}, f32({8, 16})));
  return g;
}

TEST(Partition, TransposedWeightIsAFreePrologueOfItsMatmul) {
  Graph g = linear_relu_graph();
  ValueId x = 0, w = 1, b = 2, y = 4;

  Partition p = check(g);
  EXPECT_TRUE(p.fallback_nodes.empty());
  ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_EQ(p.groups[0].contraction, 1);
  EXPECT_EQ(p.groups[0].prologue, std::vector<int>{0});
  // The kernel reads the weight itself, through the transpose's index map.
  EXPECT_EQ(as_set(p.groups[0].inputs), (std::set<ValueId>{x, w, b}));
  // Without its contraction and prologue, the group reads the matmul's result.
  FusionGroup epilogue = lower_epilogue(g, p, 0);
  EXPECT_EQ(epilogue.nodes, std::vector<int>{2});
  EXPECT_EQ(as_set(epilogue.inputs), (std::set<ValueId>{y}));
}

// A permuted, copied and flattened input (nn.MultiheadAttention's batch-first input) is a chain
// of index maps that only the matmul reads: all of it is the matmul's prologue.
TEST(Partition, ChainOfInputViewsIsAFreePrologue) {
  Graph g;
  ValueId x = g.add_input(f32({4, 6, 8})), w = g.add_input(f32({8, 5}));
  ValueId p = add_op(g, "aten.permute.default", {ValueRef{x}, std::vector<int64_t>{1, 0, 2}},
                     f32({6, 4, 8}, {8, 48, 1}));
  ValueId c = add_op(g, "aten.clone.default", {ValueRef{p}, NoneArg{}}, f32({6, 4, 8}));
  ValueId v =
      add_op(g, "aten.view.default", {ValueRef{c}, std::vector<int64_t>{24, 8}}, f32({24, 8}));
  ValueId y = add_op(g, "aten.mm.default", {ValueRef{v}, ValueRef{w}}, f32({24, 5}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{y}}, f32({24, 5})));
  Partition part = check(g);
  ASSERT_EQ(group_nodes(part), (std::vector<std::vector<int>>{{0, 1, 2, 3, 4}}));
  EXPECT_EQ(part.groups[0].prologue, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(as_set(part.groups[0].inputs), (std::set<ValueId>{x, w}));
}

// A view that two matmuls read through further views is no one's prologue: neither matmul
// takes the chain, and the views stay free ATen views.
TEST(Partition, SharedViewIsNoPrologue) {
  Graph g;
  ValueId x = g.add_input(f32({8, 6})), w = g.add_input(f32({6, 5}));
  ValueId a =
      add_op(g, "aten.view.default", {ValueRef{x}, std::vector<int64_t>{6, 8}}, f32({6, 8}));
  ValueId t1 = add_op(g, "aten.t.default", {ValueRef{a}}, f32({8, 6}, {1, 8}));
  ValueId t2 = add_op(g, "aten.t.default", {ValueRef{a}}, f32({8, 6}, {1, 8}));
  ValueId y1 = add_op(g, "aten.mm.default", {ValueRef{t1}, ValueRef{a}}, f32({8, 8}));
  ValueId y2 = add_op(g, "aten.mm.default", {ValueRef{t2}, ValueRef{w}}, f32({8, 5}));
  g.mark_output(y1);
  g.mark_output(y2);
  Partition part = check(g);
  for (const FusionGroup& group : part.groups) EXPECT_TRUE(group.prologue.empty());
  EXPECT_EQ(part.fallback_nodes, (std::vector<int>{0, 1, 2}));
}

TEST(Partition, ViewReadTwiceStaysAnAtenView) {
  Graph g = linear_relu_graph();
  ValueId wt = 3;
  g.mark_output(wt);  // saved for a backward graph, say

  Partition p = check(g);
  EXPECT_EQ(p.fallback_nodes, std::vector<int>{0});
  EXPECT_TRUE(p.unsupported.empty()) << "a view left to ATen is no unsupported op";
  ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{1, 2}}));
  // The kernel reads the view ATen makes, with the strides the graph recorded for it.
  for (auto& ph : placeholders_of(p.groups[0].results))
    if (ph->name == str_cat("v", wt)) {
      EXPECT_EQ(ph->strides, (std::vector<int64_t>{1, 32}));
    }
}

// A permute of an input is free in ATen (a view): it stays ATen. A flip is an index map too, but
// ATen copies it: a kernel of it alone costs no more, so it is compiled.
TEST(Partition, IndexMapsThatAtenCopiesAreCompiledAlone) {
  Graph g;
  ValueId x = g.add_input(f32({4, 6}));
  g.mark_output(add_op(g, "aten.permute.default", {ValueRef{x}, std::vector<int64_t>{1, 0}},
                       f32({6, 4}, {1, 6})));
  g.mark_output(
      add_op(g, "aten.flip.default", {ValueRef{x}, std::vector<int64_t>{0}}, f32({4, 6})));
  Partition p = check(g);
  EXPECT_EQ(p.fallback_nodes, std::vector<int>{0});
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{1}}));
}

TEST(Partition, SoftmaxAbsorbsItsInjectiveProducer) {
  Graph g;
  ValueId x = g.add_input(f32({6, 40}));
  ValueId s = add_op(g, "aten.mul.Scalar", {ValueRef{x}, 0.5}, f32({6, 40}));
  g.mark_output(add_op(g, "aten._softmax.default", {ValueRef{s}, int64_t{1}, false}, f32({6, 40})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1}}));
}

TEST(Partition, LayerNormWithResidualIsOneKernel) {
  Graph g;
  ValueId x = g.add_input(f32({4, 48})), y = g.add_input(f32({4, 48}));
  ValueId w = g.add_input(f32({48})), b = g.add_input(f32({48}));
  ValueId h = add_op(g, "aten.add.Tensor", {ValueRef{x}, ValueRef{y}, 1.0}, f32({4, 48}));
  auto ln = g.add_node("aten.native_layer_norm.default",
                       {ValueRef{h}, std::vector<int64_t>{48}, ValueRef{w}, ValueRef{b}, 1e-5},
                       {f32({4, 48}), f32({4, 1}), f32({4, 1})});
  ValueId out = add_op(g, "aten.add.Tensor", {ValueRef{ln[0]}, ValueRef{h}, 1.0}, f32({4, 48}));
  g.mark_output(out);
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_EQ(p.groups[0].outputs, std::vector<ValueId>{out});
  EXPECT_EQ(as_set(p.groups[0].inputs), (std::set<ValueId>{x, y, w, b}));
}

// A reshape after a row reduction (x.view(-1, C) after a layer norm, as a Linear layer makes
// it) is written as the layer norm's own tensor: same row-major bytes, and the rows stay rows
// for the schedule.
TEST(Partition, ReshapedOutputIsWrittenAsTheTensorItReshapes) {
  Graph g;
  ValueId x = g.add_input(f32({2, 3, 48}));
  ValueId w = g.add_input(f32({48})), b = g.add_input(f32({48}));
  auto ln = g.add_node("aten.native_layer_norm.default",
                       {ValueRef{x}, std::vector<int64_t>{48}, ValueRef{w}, ValueRef{b}, 1e-5},
                       {f32({2, 3, 48}), f32({2, 3, 1}), f32({2, 3, 1})});
  ValueId flat =
      add_op(g, "aten.view.default", {ValueRef{ln[0]}, std::vector<int64_t>{6, 48}}, f32({6, 48}));
  ValueId again = add_op(g, "aten.clone.default", {ValueRef{flat}, NoneArg{}}, f32({6, 48}));
  g.mark_output(again);
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}}));
  ASSERT_EQ(p.groups[0].results.size(), 1u);
  EXPECT_EQ(p.groups[0].results[0]->shape, (std::vector<int64_t>{2, 3, 48}));
}

TEST(Partition, ConvolutionBiasRelu) {
  Graph g;
  ValueId x = g.add_input(f32({1, 3, 10, 10})), w = g.add_input(f32({8, 3, 3, 3}));
  ValueId b = g.add_input(f32({8}));
  std::vector<int64_t> one{1, 1};
  ValueId c = add_op(g, "aten.convolution.default",
                     {ValueRef{x}, ValueRef{w}, ValueRef{b}, one, one, one, false,
                      std::vector<int64_t>{0, 0}, int64_t{1}},
                     f32({1, 8, 10, 10}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{c}}, f32({1, 8, 10, 10})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1}}));
}

// Inference batch norm also returns two empty saved statistics that nothing reads: the node
// still fuses with its convolution and activation.
TEST(Partition, InferenceBatchNormWithEmptyStatisticsFuses) {
  Graph g;
  ValueId x = g.add_input(f32({1, 3, 6, 6})), w = g.add_input(f32({4, 3, 3, 3}));
  ValueId gamma = g.add_input(f32({4})), beta = g.add_input(f32({4}));
  ValueId mean = g.add_input(f32({4})), var = g.add_input(f32({4}));
  std::vector<int64_t> one{1, 1};
  ValueId c = add_op(g, "aten.convolution.default",
                     {ValueRef{x}, ValueRef{w}, NoneArg{}, one, one, one, false,
                      std::vector<int64_t>{0, 0}, int64_t{1}},
                     f32({1, 4, 6, 6}));
  auto bn = g.add_node(
      "aten._native_batch_norm_legit_no_training.default",
      {ValueRef{c}, ValueRef{gamma}, ValueRef{beta}, ValueRef{mean}, ValueRef{var}, 0.1, 1e-5},
      {f32({1, 4, 6, 6}), f32({0}), f32({0})});
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{bn[0]}}, f32({1, 4, 6, 6})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_TRUE(p.fallback_nodes.empty());
}

}  // namespace
}  // namespace kiln

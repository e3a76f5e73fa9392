// partition: which nodes fuse, what stays ATen, and that running the partition (every group
// JIT-compiled) gives what evaluating the graph node by node gives.
#include <gtest/gtest.h>

#include <set>

#include "core/graph/graph.h"
#include "core/graph/node_class.h"
#include "core/ir/error.h"
#include "tests/graph/graph_runner.h"

namespace kiln {
namespace {

using testing::expect_partition_matches;
using testing::HostOp;

TensorType f32(std::vector<int64_t> shape, std::vector<int64_t> strides = {}) {
  return {DType::F32, std::move(shape), std::move(strides), "cpu"};
}

ValueId add_op(Graph& g, std::string op, std::vector<NodeArg> args, TensorType out) {
  return g.add_node(std::move(op), std::move(args), {std::move(out)}).at(0);
}

std::vector<std::vector<int>> group_nodes(const Partition& p) {
  std::vector<std::vector<int>> nodes;
  for (auto& group : p.groups) nodes.push_back(group.nodes);
  return nodes;
}

std::set<ValueId> as_set(const std::vector<ValueId>& v) {
  return {v.begin(), v.end()};
}

/// The made-up op "test.double" (2 * x), which the registry does not know.
const HostOp& doubling() {
  static const HostOp op = [](const Node& node, const std::vector<HostTensor>& in) {
    EXPECT_EQ(node.op, "test.double");
    HostTensor out = HostTensor::zeros(in.at(0).shape, in.at(0).dtype);
    for (int64_t i = 0; i < out.numel(); ++i) out.set_flat(i, 2 * in[0].get_flat(i));
    return std::vector<HostTensor>{out};
  };
  return op;
}

int64_t row_major_tensor_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

/// The invariants every partition keeps (graph.h): each node once, placeholders in input
/// order, results as compute tensors of the outputs' types, steps in dependency order.
void expect_well_formed(const Graph& g, const Partition& p) {
  std::vector<int> seen(g.nodes().size(), 0);
  for (size_t k = 0; k < p.groups.size(); ++k) {
    const FusionGroup& group = p.groups[k];
    ASSERT_FALSE(group.nodes.empty());
    EXPECT_TRUE(std::is_sorted(group.nodes.begin(), group.nodes.end()));
    if (k > 0) {
      EXPECT_LT(p.groups[k - 1].nodes.front(), group.nodes.front());
    }
    for (int n : group.nodes) ++seen[n];
    auto placeholders = placeholders_of(group.results);
    ASSERT_EQ(placeholders.size(), group.inputs.size()) << "group " << k;
    for (size_t i = 0; i < placeholders.size(); ++i) {
      EXPECT_EQ(placeholders[i]->name, str_cat("v", group.inputs[i])) << "group " << k;
      EXPECT_EQ(placeholders[i]->shape, g.values()[group.inputs[i]].shape);
    }
    ASSERT_EQ(group.results.size(), group.outputs.size());
    std::set<const TensorNode*> distinct;
    for (size_t i = 0; i < group.results.size(); ++i) {
      const Tensor& t = group.results[i];
      EXPECT_EQ(t->kind, TensorKind::Compute);
      EXPECT_TRUE(distinct.insert(t.get()).second) << "a result repeats";
      // A reshaped output may be written as the tensor it reshapes: same row-major bytes.
      EXPECT_EQ(t->numel(), row_major_tensor_numel(g.values()[group.outputs[i]].shape));
      EXPECT_EQ(t->dtype, g.values()[group.outputs[i]].dtype);
    }
  }
  for (int n : p.fallback_nodes) ++seen[n];
  for (size_t n = 0; n < seen.size(); ++n) EXPECT_EQ(seen[n], 1) << "node " << n;
  EXPECT_TRUE(std::is_sorted(p.unsupported.begin(), p.unsupported.end()));

  ASSERT_EQ(p.steps.size(), p.groups.size() + p.fallback_nodes.size());
  std::vector<bool> made(g.values().size(), false);
  for (ValueId v : g.inputs()) made[v] = true;
  for (auto& step : p.steps) {
    std::vector<int> nodes = step.kind == PartitionStep::Kind::Group ? p.groups[step.index].nodes
                                                                     : std::vector<int>{step.index};
    std::set<int> inside(nodes.begin(), nodes.end());
    for (int n : nodes)
      for (ValueId v : node_inputs(g.nodes()[n]))
        EXPECT_TRUE(made[v] || inside.count(g.producer(v))) << "node " << n << " runs too early";
    for (int n : nodes)
      for (ValueId v : g.nodes()[n].outputs) made[v] = true;
  }
}

/// Partitions, checks the invariants and runs the partition against the node-by-node reference.
Partition check(const Graph& g, const HostOp& host_op = {},
                const OpRegistry& ops = OpRegistry::global()) {
  Partition p = expect_partition_matches(g, host_op, ops);
  expect_well_formed(g, p);
  return p;
}

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
  ValueId j = add_op(g, "aten.mul.Tensor", {ValueRef{i}, ValueRef{i}}, {DType::I64, {3}, {}, "cpu"});
  ValueId y = add_op(g, "aten.index_select.default", {ValueRef{x}, int64_t{0}, ValueRef{j}}, f32({3, 4}));
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
  ValueId v = add_op(g, "aten.view.default", {ValueRef{c}, std::vector<int64_t>{24, 8}}, f32({24, 8}));
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
  ValueId a = add_op(g, "aten.view.default", {ValueRef{x}, std::vector<int64_t>{6, 8}}, f32({6, 8}));
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
  ValueId flat = add_op(g, "aten.view.default", {ValueRef{ln[0]}, std::vector<int64_t>{6, 48}},
                        f32({6, 48}));
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
  auto bn = g.add_node("aten._native_batch_norm_legit_no_training.default",
                       {ValueRef{c}, ValueRef{gamma}, ValueRef{beta}, ValueRef{mean}, ValueRef{var},
                        0.1, 1e-5},
                       {f32({1, 4, 6, 6}), f32({0}), f32({0})});
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{bn[0]}}, f32({1, 4, 6, 6})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2}}));
  EXPECT_TRUE(p.fallback_nodes.empty());
}

TEST(Partition, UnknownOpSplitsTheGraph) {
  Graph g;
  ValueId x = g.add_input(f32({5, 7}));
  ValueId r = add_op(g, "aten.relu.default", {ValueRef{x}}, f32({5, 7}));
  ValueId d = add_op(g, "test.double", {ValueRef{r}}, f32({5, 7}));
  ValueId a = add_op(g, "aten.add.Scalar", {ValueRef{d}, 1.0, 1.0}, f32({5, 7}));
  g.mark_output(add_op(g, "aten.exp.default", {ValueRef{a}}, f32({5, 7})));
  Partition p = check(g, doubling());
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}, {2, 3}}));
  EXPECT_EQ(p.fallback_nodes, std::vector<int>{1});
  EXPECT_EQ(p.unsupported, std::vector<std::string>{"test.double"});
  EXPECT_EQ(p.groups[1].inputs, std::vector<ValueId>{d});
}

TEST(Partition, UnsupportedNamesAreSortedAndUnique) {
  Graph g;
  ValueId x = g.add_input(f32({3}));
  ValueId a = add_op(g, "test.zeta", {ValueRef{x}}, f32({3}));
  ValueId b = add_op(g, "aten.nonzero.default", {ValueRef{a}}, {DType::I64, {3, 1}, {}, "cpu"});
  ValueId c = add_op(g, "test.zeta", {ValueRef{x}}, f32({3}));
  g.mark_output(b);
  g.mark_output(c);
  Partition p = partition(g);
  expect_well_formed(g, p);
  EXPECT_EQ(p.unsupported, (std::vector<std::string>{"aten.nonzero.default", "test.zeta"}));
  EXPECT_EQ(p.fallback_nodes, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(p.groups.empty());
}

TEST(Partition, NodesOffTheCpuStayAten) {
  Graph g;
  ValueId x = g.add_input(f32({4}));
  ValueId r = add_op(g, "aten.relu.default", {ValueRef{x}}, f32({4}));
  ValueId c = add_op(g, "aten.exp.default", {ValueRef{r}}, {DType::F32, {4}, {1}, "cuda:0"});
  g.mark_output(add_op(g, "aten.neg.default", {ValueRef{c}}, {DType::F32, {4}, {1}, "cuda:0"}));
  Partition p = partition(g);
  expect_well_formed(g, p);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}}));
  EXPECT_EQ(p.fallback_nodes, (std::vector<int>{1, 2}));
  EXPECT_EQ(p.unsupported, (std::vector<std::string>{"aten.exp.default", "aten.neg.default"}));
}

TEST(Partition, OutputTypeMismatchIsAFallbackNotAWrongAnswer) {
  Graph g;
  ValueId x = g.add_input(f32({2, 3}));
  ValueId a = add_op(g, "aten.relu.default", {ValueRef{x}}, {DType::F64, {2, 3}, {}, "cpu"});
  ValueId b = add_op(g, "aten.exp.default", {ValueRef{x}}, f32({3, 2}));
  ValueId c = add_op(g, "aten.neg.default", {ValueRef{x}}, f32({2, 3}));
  auto two = g.add_node("aten.sigmoid.default", {ValueRef{x}}, {f32({2, 3}), f32({2, 3})});
  for (ValueId v : {a, b, c, two[0]}) g.mark_output(v);
  Partition p = partition(g);
  expect_well_formed(g, p);
  EXPECT_EQ(p.fallback_nodes, (std::vector<int>{0, 1, 3}));
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{2}}));
  EXPECT_EQ(p.unsupported, (std::vector<std::string>{"aten.exp.default", "aten.relu.default",
                                                     "aten.sigmoid.default"}));
}

TEST(Partition, InvalidArgumentsAreAFallback) {
  Graph g;
  ValueId x = g.add_input(f32({2, 3})), y = g.add_input(f32({4, 5}));
  g.mark_output(add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{y}}, f32({2, 5})));
  Partition p = partition(g);
  EXPECT_EQ(p.fallback_nodes, std::vector<int>{0});
  EXPECT_EQ(p.unsupported, std::vector<std::string>{"aten.mm.default"});
}

TEST(Partition, NoCycleThroughAFallbackNode) {
  // a -> b (ATen) -> c with a also feeding c: fusing a and c would need b inside the kernel.
  Graph g;
  ValueId x = g.add_input(f32({3, 5}));
  ValueId a = add_op(g, "aten.relu.default", {ValueRef{x}}, f32({3, 5}));
  ValueId b = add_op(g, "test.double", {ValueRef{a}}, f32({3, 5}));
  g.mark_output(add_op(g, "aten.add.Tensor", {ValueRef{a}, ValueRef{b}, 1.0}, f32({3, 5})));
  Partition p = check(g, doubling());
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}, {2}}));
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.steps[1].kind, PartitionStep::Kind::Fallback);
}

TEST(Partition, NoCycleThroughAnotherKernel) {
  // mm -> softmax -> add with mm also feeding add: the add may join softmax but not also mm.
  Graph g;
  ValueId x = g.add_input(f32({8, 12})), w = g.add_input(f32({12, 20}));
  ValueId a = add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{w}}, f32({8, 20}));
  ValueId s = add_op(g, "aten._softmax.default", {ValueRef{a}, int64_t{-1}, false}, f32({8, 20}));
  g.mark_output(add_op(g, "aten.add.Tensor", {ValueRef{a}, ValueRef{s}, 1.0}, f32({8, 20})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0}, {1, 2}}));
}

TEST(Partition, StepsReorderAroundAGroup) {
  // The group {relu, add} needs a fallback node that comes after another fallback node that
  // reads the group: no place of a group node in the graph order works, the steps do.
  Graph g;
  ValueId x = g.add_input(f32({4, 4})), y = g.add_input(f32({4, 4}));
  ValueId a = add_op(g, "aten.relu.default", {ValueRef{x}}, f32({4, 4}));
  ValueId f = add_op(g, "test.double", {ValueRef{a}}, f32({4, 4}));
  ValueId q = add_op(g, "test.double", {ValueRef{y}}, f32({4, 4}));
  ValueId c = add_op(g, "aten.add.Tensor", {ValueRef{a}, ValueRef{q}, 1.0}, f32({4, 4}));
  g.mark_output(f);
  g.mark_output(c);
  Partition p = check(g, doubling());
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 3}}));
  EXPECT_EQ(as_set(p.groups[0].outputs), (std::set<ValueId>{a, c}));
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.steps[0].kind, PartitionStep::Kind::Fallback);
  EXPECT_EQ(p.steps[0].index, 2);
  EXPECT_EQ(p.steps[1].kind, PartitionStep::Kind::Group);
  EXPECT_EQ(p.steps[2].index, 1);
}

TEST(Partition, ReductionOverAStridedInput) {
  Graph g;
  ValueId x = g.add_input(f32({8, 16}, {1, 8}));
  ValueId e = add_op(g, "aten.exp.default", {ValueRef{x}}, f32({8, 16}, {1, 8}));
  g.mark_output(add_op(g, "aten.sum.dim_IntList",
                       {ValueRef{e}, std::vector<int64_t>{1}, false, NoneArg{}}, f32({8})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1}}));
  EXPECT_EQ(placeholders_of(p.groups[0].results).at(0)->strides, (std::vector<int64_t>{1, 8}));
}

TEST(Partition, ViewsInsideAChainFuse) {
  Graph g;
  ValueId x = g.add_input(f32({4, 6})), y = g.add_input(f32({24}));
  ValueId v = add_op(g, "aten.view.default", {ValueRef{x}, std::vector<int64_t>{24}}, f32({24}));
  ValueId a = add_op(g, "aten.add.Tensor", {ValueRef{v}, ValueRef{y}, 1.0}, f32({24}));
  ValueId r =
      add_op(g, "aten.view.default", {ValueRef{a}, std::vector<int64_t>{6, 4}}, f32({6, 4}));
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{r}}, f32({6, 4})));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
  EXPECT_TRUE(p.fallback_nodes.empty());
}

TEST(Partition, DeadNodesStayAtenWithoutComplaint) {
  Graph g;
  ValueId x = g.add_input(f32({3}));
  add_op(g, "aten.relu.default", {ValueRef{x}}, f32({3}));
  g.mark_output(add_op(g, "aten.exp.default", {ValueRef{x}}, f32({3})));
  add_op(g, "test.unknown", {ValueRef{x}}, f32({3}));
  Partition p = partition(g);
  expect_well_formed(g, p);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{1}}));
  EXPECT_EQ(p.fallback_nodes, (std::vector<int>{0, 2}));
  EXPECT_TRUE(p.unsupported.empty());
}

TEST(Partition, KernelsHandEachOtherRowMajorValues) {
  // The graph says t(mm) is a transposed view; the kernel that makes it writes it row-major,
  // so the kernel that reads it must expect row-major.
  Graph g;
  ValueId x = g.add_input(f32({8, 12})), w = g.add_input(f32({12, 10}));
  ValueId a = add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{w}}, f32({8, 10}));
  ValueId t = add_op(g, "aten.t.default", {ValueRef{a}}, f32({10, 8}, {1, 10}));
  g.mark_output(
      add_op(g, "aten._softmax.default", {ValueRef{t}, int64_t{-1}, false}, f32({10, 8})));
  Partition p = check(g);
  ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1}, {2}}));
  EXPECT_EQ(p.groups[1].inputs, std::vector<ValueId>{t});
  EXPECT_EQ(placeholders_of(p.groups[1].results).at(0)->strides, (std::vector<int64_t>{8, 1}));
  EXPECT_EQ(p.groups[0].results.at(0)->strides, (std::vector<int64_t>{8, 1}));
}

TEST(Partition, AttentionBlock) {
  const int64_t s = 16, d = 32, heads = 4, hd = 8;
  Graph g;
  ValueId x = g.add_input(f32({s, d}));
  std::vector<ValueId> w;
  for (int k = 0; k < 4; ++k) w.push_back(g.add_input(f32({d, d})));
  ValueId gamma = g.add_input(f32({d})), beta = g.add_input(f32({d}));
  // q, v as [heads, s, hd]; k transposed as [heads, hd, s].
  auto project = [&](ValueId weight, std::vector<int64_t> perm, std::vector<int64_t> shape) {
    ValueId m = add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{weight}}, f32({s, d}));
    ValueId v = add_op(g, "aten.view.default", {ValueRef{m}, std::vector<int64_t>{s, heads, hd}},
                       f32({s, heads, hd}));
    return add_op(g, "aten.permute.default", {ValueRef{v}, perm}, f32(shape));
  };
  ValueId q = project(w[0], {1, 0, 2}, {heads, s, hd});
  ValueId kt = project(w[1], {1, 2, 0}, {heads, hd, s});
  ValueId v = project(w[2], {1, 0, 2}, {heads, s, hd});
  ValueId scores = add_op(g, "aten.bmm.default", {ValueRef{q}, ValueRef{kt}}, f32({heads, s, s}));
  scores = add_op(g, "aten.mul.Scalar", {ValueRef{scores}, 0.35}, f32({heads, s, s}));
  ValueId probs = add_op(g, "aten._softmax.default", {ValueRef{scores}, int64_t{-1}, false},
                         f32({heads, s, s}));
  ValueId ctx = add_op(g, "aten.bmm.default", {ValueRef{probs}, ValueRef{v}}, f32({heads, s, hd}));
  ctx = add_op(g, "aten.permute.default", {ValueRef{ctx}, std::vector<int64_t>{1, 0, 2}},
               f32({s, heads, hd}));
  ctx = add_op(g, "aten.reshape.default", {ValueRef{ctx}, std::vector<int64_t>{s, d}}, f32({s, d}));
  ValueId o = add_op(g, "aten.mm.default", {ValueRef{ctx}, ValueRef{w[3]}}, f32({s, d}));
  o = add_op(g, "aten.add.Tensor", {ValueRef{o}, ValueRef{x}, 1.0}, f32({s, d}));
  auto ln =
      g.add_node("aten.native_layer_norm.default",
                 {ValueRef{o}, std::vector<int64_t>{d}, ValueRef{gamma}, ValueRef{beta}, 1e-5},
                 {f32({s, d}), f32({s, 1}), f32({s, 1})});
  g.mark_output(ln[0]);
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p),
            (std::vector<std::vector<int>>{
                {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10}, {11}, {12, 13, 14}, {15, 16}, {17}}));
  EXPECT_TRUE(p.fallback_nodes.empty());
}

TEST(Partition, HalfPrecision) {
  Graph g;
  ValueId x = g.add_input({DType::F16, {4, 64}, {}, "cpu"});
  ValueId a = g.add_input({DType::BF16, {8, 16}, {}, "cpu"});
  ValueId b = g.add_input({DType::BF16, {16, 8}, {}, "cpu"});
  ValueId s = add_op(g, "aten.mul.Scalar", {ValueRef{x}, 0.5}, {DType::F16, {4, 64}, {}, "cpu"});
  g.mark_output(add_op(g, "aten._softmax.default", {ValueRef{s}, int64_t{-1}, false},
                       {DType::F16, {4, 64}, {}, "cpu"}));
  ValueId m =
      add_op(g, "aten.mm.default", {ValueRef{a}, ValueRef{b}}, {DType::BF16, {8, 8}, {}, "cpu"});
  g.mark_output(add_op(g, "aten.relu.default", {ValueRef{m}}, {DType::BF16, {8, 8}, {}, "cpu"}));
  Partition p = check(g);
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1}, {2, 3}}));
}

TEST(Partition, LongGraphs) {
  // 1000 linear layers with relu: one group per layer (matmul with its epilogue).
  Graph g;
  ValueId h = g.add_input(f32({4, 8}));
  ValueId w = g.add_input(f32({8, 8}));
  for (int k = 0; k < 1000; ++k) {
    h = add_op(g, "aten.mm.default", {ValueRef{h}, ValueRef{w}}, f32({4, 8}));
    h = add_op(g, "aten.relu.default", {ValueRef{h}}, f32({4, 8}));
  }
  g.mark_output(h);
  Partition p = partition(g);
  expect_well_formed(g, p);
  ASSERT_EQ(p.groups.size(), 1000u);
  EXPECT_EQ(p.groups[999].nodes, (std::vector<int>{1998, 1999}));
}

/// A registry with the elementwise ops and two test ops whose results are not fresh computes:
/// "test.identity" returns its input itself, "test.twice" returns its input twice.
const OpRegistry& registry_with_aliases() {
  static const OpRegistry r = [] {
    OpRegistry r;
    register_elementwise_ops(r);
    r.add("test.identity", [](const std::vector<OpArg>& args) {
      return std::vector<Tensor>{std::get<Tensor>(args.at(0))};
    });
    r.add("test.twice", [](const std::vector<OpArg>& args) {
      Tensor t = std::get<Tensor>(args.at(0));
      return std::vector<Tensor>{t, t};
    });
    return r;
  }();
  return r;
}

TEST(Partition, ResultsAreAlwaysFreshComputes) {
  Graph g;
  ValueId x = g.add_input(f32({3, 4})), z = g.add_input(f32({3, 4}));
  ValueId y = add_op(g, "test.identity", {ValueRef{x}}, f32({3, 4}));
  ValueId s = add_op(g, "aten.add.Tensor", {ValueRef{y}, ValueRef{z}, 1.0}, f32({3, 4}));
  ValueId r = add_op(g, "aten.relu.default", {ValueRef{s}}, f32({3, 4}));
  auto pq = g.add_node("test.twice", {ValueRef{r}}, {f32({3, 4}), f32({3, 4})});
  for (ValueId v : {y, pq[0], pq[1]}) g.mark_output(v);
  Partition p = check(g, {}, registry_with_aliases());
  EXPECT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 1, 2, 3}}));
  EXPECT_EQ(p.groups[0].outputs, (std::vector<ValueId>{y, pq[0], pq[1]}));
}

}  // namespace
}  // namespace kiln

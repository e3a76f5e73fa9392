// partition: what stays ATen (unknown ops, other devices, wrong types, invalid arguments, dead
// nodes), that no cycle forms through a fallback node or another kernel, the order steps run in,
// and larger graphs (attention, half precision, long chains), each run against the node-by-node
// reference.
#include <gtest/gtest.h>

#include "tests/graph/partition_checks.h"

namespace kiln {
namespace {

using namespace partition_test;

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
  EXPECT_EQ(p.unsupported,
            (std::map<std::string, std::string>{{"test.double", "no Kiln lowering"}}));
  EXPECT_EQ(p.groups[1].inputs, std::vector<ValueId>{d});
}

TEST(Partition, UnsupportedOpsAreNamedOnceEach) {
  Graph g;
  ValueId x = g.add_input(f32({3}));
  ValueId a = add_op(g, "test.zeta", {ValueRef{x}}, f32({3}));
  ValueId b = add_op(g, "aten.nonzero.default", {ValueRef{a}}, {DType::I64, {3, 1}, {}, "cpu"});
  ValueId c = add_op(g, "test.zeta", {ValueRef{x}}, f32({3}));
  g.mark_output(b);
  g.mark_output(c);
  Partition p = partition(g);
  expect_well_formed(g, p);
  EXPECT_EQ(unsupported_ops(p), (std::vector<std::string>{"aten.nonzero.default", "test.zeta"}));
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
  EXPECT_EQ(unsupported_ops(p), (std::vector<std::string>{"aten.exp.default", "aten.neg.default"}));
  EXPECT_EQ(p.unsupported.at("aten.exp.default"), "a tensor on cuda:0, not the CPU");
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
  EXPECT_EQ(unsupported_ops(p), (std::vector<std::string>{"aten.exp.default", "aten.relu.default",
                                                          "aten.sigmoid.default"}));
  EXPECT_EQ(p.unsupported.at("aten.relu.default"),
            "Kiln's lowering gives result 0 as f32[2, 3], ATen's op as f64[2, 3]");
  EXPECT_EQ(p.unsupported.at("aten.sigmoid.default"),
            "Kiln's lowering gives 1 results, ATen's op 2");
}

TEST(Partition, InvalidArgumentsAreAFallback) {
  Graph g;
  ValueId x = g.add_input(f32({2, 3})), y = g.add_input(f32({4, 5}));
  g.mark_output(add_op(g, "aten.mm.default", {ValueRef{x}, ValueRef{y}}, f32({2, 5})));
  Partition p = partition(g);
  EXPECT_EQ(p.fallback_nodes, std::vector<int>{0});
  EXPECT_EQ(unsupported_ops(p), std::vector<std::string>{"aten.mm.default"});
  // The lowering's own error, naming the op and what is wrong.
  EXPECT_NE(p.unsupported.at("aten.mm.default").find("aten.mm.default"), std::string::npos);
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

TEST(Partition, ASideEffectRunsAfterWhatCameBeforeIt) {
  // The group {relu, add} waits for q; the side-effecting node s reads only y, so data alone
  // would run it first, before the relu that precedes it in the graph.
  for (bool side_effects : {false, true}) {
    Graph g;
    ValueId x = g.add_input(f32({4, 4})), y = g.add_input(f32({4, 4}));
    ValueId a = add_op(g, "aten.relu.default", {ValueRef{x}}, f32({4, 4}));
    ValueId s = g.add_node("test.double", {ValueRef{y}}, {f32({4, 4})}, side_effects)[0];
    ValueId q = add_op(g, "test.double", {ValueRef{y}}, f32({4, 4}));
    g.mark_output(add_op(g, "aten.add.Tensor", {ValueRef{a}, ValueRef{q}, 1.0}, f32({4, 4})));
    g.mark_output(s);
    Partition p = check(g, doubling());
    ASSERT_EQ(group_nodes(p), (std::vector<std::vector<int>>{{0, 3}}));
    std::vector<std::pair<PartitionStep::Kind, int>> order;
    for (const PartitionStep& step : p.steps) order.emplace_back(step.kind, step.index);
    using enum PartitionStep::Kind;
    if (side_effects)
      EXPECT_EQ(order, (decltype(order){{Fallback, 2}, {Group, 0}, {Fallback, 1}}));
    else
      EXPECT_EQ(order, (decltype(order){{Fallback, 1}, {Fallback, 2}, {Group, 0}}));
  }
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

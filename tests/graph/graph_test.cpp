// The Graph container: ids, producers, and the checks add_input/add_node/mark_output make.
#include "core/graph/graph.h"

#include <gtest/gtest.h>

#include "core/support/error.h"

namespace kiln {
namespace {

TensorType f32(std::vector<int64_t> shape) {
  return {DType::F32, std::move(shape), {}, "cpu"};
}

TEST(Graph, IdsAndProducers) {
  Graph g;
  ValueId x = g.add_input(f32({2, 3}));
  auto outs = g.add_node("aten.relu.default", {ValueRef{x}}, {f32({2, 3})});
  ASSERT_EQ(outs.size(), 1u);
  g.mark_output(outs[0]);
  g.mark_output(outs[0]);
  EXPECT_EQ(x, 0);
  EXPECT_EQ(outs[0], 1);
  EXPECT_EQ(g.producer(x), -1);
  EXPECT_EQ(g.producer(outs[0]), 0);
  EXPECT_EQ(g.outputs(), std::vector<ValueId>{1});
  EXPECT_EQ(g.inputs(), std::vector<ValueId>{0});
  // Empty strides mean row-major.
  EXPECT_EQ(g.values()[x].strides, (std::vector<int64_t>{3, 1}));
}

TEST(Graph, UnknownValueIsAnError) {
  Graph g;
  ValueId x = g.add_input(f32({4}));
  EXPECT_THROW(g.add_node("aten.add.Tensor", {ValueRef{x}, ValueRef{5}, 1.0}, {f32({4})}), IRError);
  EXPECT_THROW(
      g.add_node("aten.cat.default", {std::vector<ValueRef>{{x}, {-2}}, int64_t{0}}, {f32({8})}),
      IRError);
  // kNoValue is a None only inside a list (Tensor?[]).
  EXPECT_THROW(g.add_node("aten.neg.default", {ValueRef{kNoValue}}, {f32({4})}), IRError);
  EXPECT_THROW(g.mark_output(9), IRError);
  // A failed add_node leaves the graph as it was.
  EXPECT_EQ(g.nodes().size(), 0u);
  EXPECT_EQ(g.values().size(), 1u);
}

TEST(Graph, MalformedTypesAreErrors) {
  Graph g;
  EXPECT_THROW(g.add_input({DType::F32, {2, 3}, {1}, "cpu"}), IRError);
  EXPECT_THROW(g.add_input({DType::F32, {2, -3}, {}, "cpu"}), IRError);
  ValueId x = g.add_input(f32({2}));
  EXPECT_THROW(g.add_node("aten.relu.default", {ValueRef{x}}, {{DType::F32, {2}, {-1}, "cpu"}}),
               IRError);
  EXPECT_EQ(g.values().size(), 1u);
}

TEST(Graph, UnknownOpsAreAccepted) {
  // Whether Kiln can run an op is partition's decision, not the graph's.
  Graph g;
  ValueId x = g.add_input(f32({2}));
  auto outs =
      g.add_node("test.no_such_op", {ValueRef{x}, std::string("mode")}, {f32({2}), f32({})});
  EXPECT_EQ(outs, (std::vector<ValueId>{1, 2}));
}

}  // namespace
}  // namespace kiln

// GraphExecutor (plugin/torch/graph_executor.h): a plan of slot launches, ATen operators and
// list items run as one call, as a C++ program uses it.
#include "plugin/torch/graph_executor.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "core/support/error.h"
#include "tests/plugin/plugin_graphs.h"

namespace kiln {
namespace {

c10::OperatorHandle op(const char* name, const char* overload = "") {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
}

ExecutorArg value(int v) {
  ExecutorArg a;
  a.kind = ExecutorArg::Kind::Value;
  a.values = {v};
  return a;
}

ExecutorArg constant(c10::IValue c) {
  ExecutorArg a;
  a.constant = std::move(c);
  return a;
}

TEST(GraphExecutor, RunsSlotsAtenOpsAndItemsInOrder) {
  GraphExecutor ex(2);
  ex.add_launch(compile_graph(add_relu_graph()).groups.at(0).slot, {0, 1}, {2});
  ex.add_aten(op("aten::neg"), {value(2)}, {3});
  ExecutorArg both;
  both.kind = ExecutorArg::Kind::TensorList;
  both.values = {2, 3};
  ex.add_aten(op("aten::stack"), {both, constant(int64_t{0})}, {4});
  ex.add_aten(op("aten::unbind", "int"), {value(4), constant(int64_t{0})}, {5});
  ex.add_item(5, 1, 6);
  ex.set_outputs({6, ExecutorArg::kNone, 2});
  EXPECT_EQ(ex.num_steps(), 5);
  EXPECT_EQ(ex.num_launches(), 1);

  at::Tensor a = at::randn({4, 8}), b = at::randn({4, 8});
  std::vector<c10::IValue> out = ex.run({a, b});
  ASSERT_EQ(out.size(), 3u);
  at::Tensor want = at::relu(a + 2 * b);
  EXPECT_TRUE(at::equal(out[0].toTensor(), -want));
  EXPECT_TRUE(out[1].isNone());
  EXPECT_TRUE(at::equal(out[2].toTensor(), want));
  // A second call runs the same plan afresh.
  EXPECT_TRUE(at::equal(ex.run({b, a})[2].toTensor(), at::relu(b + 2 * a)));
}

TEST(GraphExecutor, AMalformedPlanIsRefusedWhenBuilt) {
  GraphExecutor ex(1);
  EXPECT_THROW(ex.add_aten(op("aten::neg"), {value(7)}, {1}), Error);  // 7 was never written
  EXPECT_THROW(ex.add_aten(op("aten::neg"), {value(0), value(0)}, {1}), Error);  // arity
  EXPECT_THROW(ex.add_aten(op("aten::neg"), {value(0)}, {0}), Error);            // writes an input
  EXPECT_THROW(ex.add_launch(int64_t{1} << 40, {0}, {1}), Error);                // no such slot
  ex.add_aten(op("aten::neg"), {value(0)}, {1});
  EXPECT_THROW(ex.add_aten(op("aten::neg"), {value(0)}, {1}), Error);  // written twice
  EXPECT_THROW(ex.run({at::ones({2})}), Error);                        // before set_outputs
  ex.set_outputs({1});
  EXPECT_THROW(ex.add_item(1, 0, 2), Error);  // after set_outputs
  EXPECT_THROW(ex.run({}), c10::Error);       // one input expected
}

TEST(GraphExecutor, AnOperatorsErrorReachesTheCaller) {
  GraphExecutor ex(2);
  ex.add_aten(op("aten::mm"), {value(0), value(1)}, {2});
  ex.set_outputs({2});
  EXPECT_THROW(ex.run({at::ones({2, 3}), at::ones({2, 3})}), c10::Error);
}

}  // namespace
}  // namespace kiln

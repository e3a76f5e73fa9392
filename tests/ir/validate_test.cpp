// Malformed compute definitions and loop IR fail with named IRErrors, never crashes.
#include <gtest/gtest.h>

#include "core/ir/stmt.h"
#include "core/ir/tensor.h"
#include "core/support/error.h"
#include "tests/support/error_message.h"

namespace kiln {
namespace {

TEST(Validate, FreeVariable) {
  Tensor a = placeholder("a", {4}, DType::F32);
  Var stray("stray");
  std::string msg = testing::error_message<IRError>(
      [&] { compute("bad", {4}, [&](const std::vector<Var>&) { return a(stray); }); });
  EXPECT_NE(msg.find("'bad' uses variable 'stray'"), std::string::npos) << msg;
}

TEST(Validate, NestedReduction) {
  Tensor a = placeholder("a", {4}, DType::F32);
  IterVar k = reduce_axis(4, "k");
  std::string msg = testing::error_message<IRError>([&] {
    compute("bad", {1},
            [&](const std::vector<Var>&) { return reduce(ReduceOp::Sum, a(k.var), {k}) * 2.0; });
  });
  EXPECT_NE(msg.find("reduction inside an expression"), std::string::npos) << msg;
}

TEST(Validate, WrongArityAndIndexType) {
  Tensor a = placeholder("a", {4, 4}, DType::F32);
  EXPECT_NE(testing::error_message<IRError>([&] { a(Expr(1)); }).find("rank 2 but is read with 1"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] { a(Expr(1.0), Expr(1)); }).find("not an integer"),
            std::string::npos);
}

TEST(Validate, ConstantOutOfBounds) {
  Tensor a = placeholder("a", {4}, DType::F32);
  std::string msg = testing::error_message<IRError>(
      [&] { compute("bad", {1}, [&](const std::vector<Var>&) { return a(Expr(4)); }); });
  EXPECT_NE(msg.find("constant index 4"), std::string::npos) << msg;
}

TEST(Validate, DtypeMismatches) {
  Var i("i");
  Expr f = make_const(DType::F32, 1.0), d = make_const(DType::F64, 1.0);
  EXPECT_NE(testing::error_message<IRError>([&] { f + d; }).find("differ in dtype"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] {
              unary(UnaryOp::Exp, i);
            }).find("needs a float operand"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] { select(i, f, f); }).find("select condition"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] { f&& f; }).find("needs bool or integer"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] {
              BinaryNode::make(BinaryOp::Atan2, i, i);
            }).find("needs float operands"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] {
              IntImmNode::make(DType::I32, int64_t{1} << 40);
            }).find("does not fit i32"),
            std::string::npos);
}

TEST(Validate, BadTensorsAndLoops) {
  EXPECT_NE(testing::error_message<IRError>([&] {
              placeholder("p", {2, -1}, DType::F32);
            }).find("negative size"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] {
              placeholder("p", {2, 2}, DType::F32, {1});
            }).find("2 dimensions but 1 strides"),
            std::string::npos);
  Tensor a = placeholder("a", {4}, DType::F32);
  EXPECT_NE(testing::error_message<IRError>([&] {
              StoreNode::make(a, {Expr(0)}, Expr(1));
            }).find("store of a i64 value"),
            std::string::npos);
  Var v("v");
  EXPECT_NE(testing::error_message<IRError>([&] {
              ForNode::make(v, -2, ForKind::Serial, StoreNode::make(a, {v}, Expr(1.0)));
            }).find("negative extent"),
            std::string::npos);
  EXPECT_NE(testing::error_message<IRError>([&] {
              dtype_from_name("f8");
            }).find("unknown dtype name 'f8'"),
            std::string::npos);
}

}  // namespace
}  // namespace kiln

// Every op of the registry: each has a case, each case lowers to valid compute definitions that
// the interpreter runs, the structure the scheduler relies on holds, and bad calls fail with an
// OpError naming the op and the argument.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/ir/validate.h"
#include "core/reference/interpreter.h"
#include "core/support/error.h"
#include "op_cases.h"

namespace kiln {
namespace {

const OpRegistry& ops() {
  return OpRegistry::global();
}

TEST(OpCases, EveryRegisteredOpHasACase) {
  std::set<std::string> covered;
  for (auto& c : op_cases()) covered.insert(c.op);
  for (auto& name : ops().names()) EXPECT_TRUE(covered.count(name)) << name << " has no case";
  std::set<std::string> names;
  for (auto& c : op_cases()) EXPECT_TRUE(names.insert(c.name).second) << "duplicate " << c.name;
}

TEST(OpCases, EveryCaseLowersValidatesAndInterprets) {
  for (auto& c : op_cases()) {
    SCOPED_TRACE(c.name);
    PreparedCase p = prepare_case(c);
    ASSERT_FALSE(p.outputs.empty());
    validate(p.outputs);
    std::vector<HostTensor> out = interpret(p.outputs, bind_inputs(p));
    ASSERT_EQ(out.size(), p.outputs.size());
    for (size_t k = 0; k < out.size(); ++k) {
      EXPECT_EQ(out[k].shape, p.outputs[k]->shape);
      EXPECT_EQ(out[k].dtype, p.outputs[k]->dtype);
      // No case feeds values that legitimately produce inf or NaN.
      for (int64_t i = 0; i < out[k].numel(); ++i)
        ASSERT_TRUE(std::isfinite(out[k].get_flat(i))) << "output " << k << " element " << i;
    }
  }
}

std::vector<Tensor> lower(const std::string& op, std::vector<OpArg> args) {
  return ops().lower(op, args);
}

TEST(TypePromotion, FollowsPyTorch) {
  Tensor h = placeholder("h", {3}, DType::F16), i = placeholder("i", {3}, DType::I32);
  Tensor b = placeholder("b", {3}, DType::Bool), f0 = placeholder("f0", {}, DType::F32);
  EXPECT_EQ(lower("aten.add.Scalar", {h, 2.5, int64_t{1}})[0]->dtype, DType::F16);
  EXPECT_EQ(lower("aten.add.Scalar", {i, 2.5, int64_t{1}})[0]->dtype, DType::F32);
  EXPECT_EQ(lower("aten.add.Scalar", {b, int64_t{1}, int64_t{1}})[0]->dtype, DType::I64);
  EXPECT_EQ(lower("aten.add.Tensor", {h, f0, int64_t{1}})[0]->dtype, DType::F16);
  EXPECT_EQ(lower("aten.add.Tensor", {i, f0, int64_t{1}})[0]->dtype, DType::F32);
  EXPECT_EQ(lower("aten.div.Tensor", {i, i})[0]->dtype, DType::F32);
  EXPECT_EQ(lower("aten.div.Tensor_mode", {i, i, std::string("floor")})[0]->dtype, DType::I32);
  EXPECT_EQ(lower("aten.lt.Scalar", {h, 1.0})[0]->dtype, DType::Bool);
  EXPECT_EQ(lower("aten.exp.default", {i})[0]->dtype, DType::F32);
}

TEST(OpStructure, ContractionIsAPureSumWithSeparateEpilogue) {
  Tensor a = placeholder("a", {4, 8}, DType::F16), w = placeholder("w", {8, 5}, DType::F16);
  Tensor bias = placeholder("bias", {5}, DType::F16);
  Tensor out = lower("aten.addmm.default", {bias, a, w, 1.0, 1.0})[0];
  EXPECT_EQ(out->dtype, DType::F16);
  auto inputs = input_tensors(out);
  ASSERT_EQ(inputs.size(), 2u);
  const Tensor& mm = inputs[0];
  auto* r = mm->body.as<ReduceNode>();
  ASSERT_NE(r, nullptr) << mm;
  EXPECT_EQ(r->op, ReduceOp::Sum);
  EXPECT_EQ(mm->dtype, DType::F32);
  auto* mul = r->source.as<BinaryNode>();
  ASSERT_NE(mul, nullptr);
  EXPECT_EQ(mul->op, BinaryOp::Mul);
}

TEST(OpStructure, LayoutOpsAreIndexMaps) {
  Tensor x = placeholder("x", {6, 35}, DType::F32);
  for (auto [op, args] : std::vector<std::pair<std::string, std::vector<OpArg>>>{
           {"aten.view.default", {x, std::vector<int64_t>{2, 3, 5, 7}}},
           {"aten.permute.default", {x, std::vector<int64_t>{1, 0}}},
           {"aten.slice.Tensor", {x, int64_t{1}, int64_t{2}, NoneArg{}, int64_t{3}}},
           {"aten.split_with_sizes.default", {x, std::vector<int64_t>{2, 4}, int64_t{0}}},
           {"aten.expand.default", {x, std::vector<int64_t>{4, 6, 35}, false}}}) {
    Tensor t = lower(op, args)[0];
    auto* load = t->body.as<LoadNode>();
    ASSERT_NE(load, nullptr) << op << ": " << t;
    EXPECT_TRUE(load->tensor.same_as(x)) << op;
  }
}

TEST(OpSemantics, OutOfRangeIndicesAreClamped) {
  Tensor w = placeholder("w", {3, 2}, DType::F32), idx = placeholder("idx", {2}, DType::I64);
  Tensor out = lower("aten.embedding.default", {w, idx, int64_t{-1}, false, false})[0];
  HostTensor wd = HostTensor::random({3, 2}, DType::F32, 1),
             id = HostTensor::zeros({2}, DType::I64);
  id.set({0}, 100);
  id.set({1}, -5);
  HostTensor r = interpret({out}, {wd, id})[0];
  EXPECT_EQ(r.get({0, 1}), wd.get({2, 1}));  // clamped to the last row
  EXPECT_EQ(r.get({1, 0}), wd.get({0, 0}));  // clamped to the first row
}

/// Expects lower(op, args) to throw an OpError whose message contains each of `parts`.
void expect_op_error(const std::string& op, std::vector<OpArg> args,
                     std::vector<std::string> parts) {
  try {
    lower(op, args);
    ADD_FAILURE() << op << " accepted bad arguments";
  } catch (const OpError& e) {
    for (auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

TEST(OpErrors, NameTheOpAndArgument) {
  Tensor a = placeholder("a", {4, 5}, DType::F32), b = placeholder("b", {3, 4}, DType::F32);
  Tensor x = placeholder("x", {1, 3, 8, 8}, DType::F32),
         w = placeholder("w", {2, 3, 3, 3}, DType::F32);
  expect_op_error("aten.frobnicate.default", {a}, {"aten.frobnicate.default", "not supported"});
  expect_op_error("aten.mm.default", {a, b}, {"aten.mm.default", "'mat2'", "[3, 4]", "[5, N]"});
  expect_op_error("aten.mm.default", {a}, {"aten.mm.default", "takes 2 arguments, got 1"});
  expect_op_error("aten.add.Tensor", {a, b, int64_t{1}}, {"aten.add.Tensor", "broadcast"});
  expect_op_error("aten.add.Tensor", {a, std::string("x"), int64_t{1}}, {"'other'", "Tensor"});
  expect_op_error("aten.add.Tensor", {1.0, 2.0, int64_t{1}}, {"two numbers"});
  expect_op_error("aten.index.Tensor",
                  {a, std::vector<Tensor>{placeholder("mask", {4}, DType::Bool)}},
                  {"'indices'", "boolean mask"});
  expect_op_error("aten.index.Tensor", {a, std::vector<Tensor>{Tensor(), Tensor()}},
                  {"'indices'", "no index tensor"});
  expect_op_error("aten.unfold.default", {a, int64_t{1}, int64_t{6}, int64_t{1}},
                  {"'size'", "[0, 5]"});
  expect_op_error("aten.sum.dim_IntList", {a, std::vector<int64_t>{2}, false, NoneArg{}},
                  {"aten.sum.dim_IntList", "'dim'", "out of range"});
  std::vector<OpArg> conv = {x,
                             w,
                             NoneArg{},
                             std::vector<int64_t>{1, 1},
                             std::vector<int64_t>{0, 0},
                             std::vector<int64_t>{1, 1},
                             true,
                             std::vector<int64_t>{0, 0},
                             int64_t{1}};
  // Transposed, the weight is [C, O / groups, KH, KW]: w [2, 3, 3, 3] does not fit 3 channels.
  expect_op_error("aten.convolution.default", conv,
                  {"'weight'", "expected [3, O / groups, KH, KW]"});
  conv[6] = false;
  conv[8] = int64_t{2};
  expect_op_error("aten.convolution.default", conv, {"'groups'"});
  expect_op_error("aten.view.default", {a, std::vector<int64_t>{3, 7}}, {"'size'", "20 elements"});
  expect_op_error("aten.permute.default", {a, std::vector<int64_t>{0, 0}}, {"'dims'", "repeats"});
  expect_op_error("aten.gelu.default", {a, std::string("fast")}, {"'approximate'"});
  expect_op_error("aten.gather.default", {a, int64_t{0}, a, false}, {"'index'", "i64"});
  expect_op_error("aten.clamp.default", {a, NoneArg{}, NoneArg{}}, {"min", "max"});
  Tensor bools = placeholder("bools", {3}, DType::Bool);
  expect_op_error("aten.sub.Tensor", {bools, bools, int64_t{1}}, {"aten.sub.Tensor", "bool"});
}

TEST(OpErrors, ArangeNamesTheBoundOrPlacementAtFault) {
  auto arange = [](OpArg start, OpArg end, OpArg step, OpArg dtype = NoneArg{},
                   OpArg pin_memory = NoneArg{}) {
    return std::vector<OpArg>{start, end, step, dtype, NoneArg{}, NoneArg{}, pin_memory};
  };
  const std::string op = "aten.arange.start_step";
  expect_op_error(op, arange(int64_t{0}, int64_t{5}, int64_t{0}), {op, "'step'", "nonzero"});
  expect_op_error(op, arange(0.5, 5.0, 0.5, DType::I64), {op, "'step'", "nonzero"});
  expect_op_error(op, arange(0.0, 5.0, -0.5), {op, "'end'", "wrong side of start 0"});
  expect_op_error(op, arange(int64_t{3}, int64_t{-2}, int64_t{1}), {op, "'end'", "wrong side"});
  expect_op_error(op, arange(0.0, INFINITY, 1.0), {op, "'end'", "not finite"});
  expect_op_error(op, arange(int64_t{0}, int64_t{5}, int64_t{1}, DType::Bool), {"'dtype'", "bool"});
  expect_op_error(op, arange(int64_t{0}, int64_t{5}, int64_t{1}, NoneArg{}, true),
                  {op, "'pin_memory'", "must be None"});
  expect_op_error("aten.arange.default", {int64_t{-3}, NoneArg{}, NoneArg{}, NoneArg{}, NoneArg{}},
                  {"aten.arange.default", "'end'", "wrong side"});
}

TEST(OpErrors, SplitNamesTheSizesOrDimAtFault) {
  Tensor a = placeholder("a", {4, 5}, DType::F32), s = placeholder("s", {}, DType::F32);
  using Sizes = std::vector<int64_t>;
  const std::string op = "aten.split_with_sizes.default";
  expect_op_error(op, {a, Sizes{2, 2}, int64_t{1}},
                  {op, "'split_sizes'", "sums to 4", "size 5 of dimension 1"});
  expect_op_error(op, {a, Sizes{6, -1}, int64_t{0}}, {op, "'split_sizes'", "negative"});
  expect_op_error(op, {a, Sizes{4}, int64_t{2}}, {op, "'dim'", "out of range"});
  expect_op_error(op, {s, Sizes{1}, int64_t{0}}, {op, "'self'", "rank-0"});
  expect_op_error("aten.split.Tensor", {a, int64_t{0}, int64_t{0}},
                  {"aten.split.Tensor", "'split_size'", "size 4"});
  expect_op_error("aten.split.Tensor", {a, int64_t{-2}, int64_t{0}}, {"'split_size'"});
}

TEST(OpErrors, ScansNameTheDimOrDtypeAtFault) {
  Tensor a = placeholder("a", {4, 5}, DType::F32), n = placeholder("n", {4, 5}, DType::I64);
  expect_op_error("aten.cumsum.default", {a, int64_t{2}, NoneArg{}},
                  {"aten.cumsum.default", "'dim'", "out of range"});
  expect_op_error("aten.cumprod.default", {a, int64_t{0}, DType::Bool},
                  {"aten.cumprod.default", "'dtype'", "bool"});
  expect_op_error("aten.logcumsumexp.default", {n, int64_t{0}},
                  {"aten.logcumsumexp.default", "'self'", "i64", "floating-point"});
  expect_op_error("aten.cummax.default", {a, int64_t{-3}}, {"aten.cummax.default", "'dim'"});
}

TEST(OpErrors, ScattersNameTheArgumentAtFault) {
  Tensor a = placeholder("a", {4, 5}, DType::F32), i = placeholder("i", {6, 5}, DType::I64);
  Tensor src = placeholder("src", {6, 5}, DType::F32), f = placeholder("f", {6, 5}, DType::F32);
  Tensor wide = placeholder("wide", {6, 7}, DType::I64);
  Tensor s64 = placeholder("s64", {6, 5}, DType::F64), b = placeholder("b", {4, 5}, DType::Bool);
  expect_op_error("aten.scatter_add.default", {a, int64_t{0}, f, src},
                  {"aten.scatter_add.default", "'index'", "i64 or i32"});
  expect_op_error("aten.scatter_add.default", {a, int64_t{0}, wide, src},
                  {"'index'", "[6, 7]", "larger than self's"});
  expect_op_error("aten.scatter_add.default", {a, int64_t{0}, i, s64},
                  {"'src'", "f64", "expected f32"});
  expect_op_error("aten.scatter_reduce.two", {a, int64_t{0}, i, src, std::string("median"), true},
                  {"'reduce'", "'median'", "sum, prod, mean, amax, amin"});
  expect_op_error("aten.scatter_add.default",
                  {b, int64_t{0}, i, placeholder("bs", {6, 5}, DType::Bool)}, {"'self'", "bool"});
  expect_op_error("aten.index_put.default",
                  {a, std::vector<Tensor>{placeholder("k", {3}, DType::I64)},
                   placeholder("v", {3, 4}, DType::F32), false},
                  {"'values'", "[3, 4]", "does not broadcast to [3, 5]"});
  expect_op_error("aten.index_add.default",
                  {a, int64_t{0}, placeholder("k", {3}, DType::I64), src, 1.0},
                  {"'source'", "[6, 5]", "expected [3, 5]"});
  expect_op_error("aten.masked_scatter.default",
                  {a, placeholder("m", {4, 5}, DType::Bool), placeholder("few", {3}, DType::F32)},
                  {"'source'", "fewer than self's"});
}

}  // namespace
}  // namespace kiln

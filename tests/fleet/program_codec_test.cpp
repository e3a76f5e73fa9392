// The program codec: every op case survives the trip through JSON with its workload key, its
// canonical form, its printed text and its interpreted values; special floats keep their bits;
// hostile text fails with an IRError that names what is wrong.
#include "fleet/program_codec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <sstream>

#include "core/reference/interpreter.h"
#include "core/support/error.h"
#include "core/tune/workload.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

std::string printed(const std::vector<Tensor>& outputs) {
  std::ostringstream os;
  for (const Tensor& t : outputs) os << t;
  return os.str();
}

/// Rebuilds `outputs` from their JSON and checks that nothing a workload or a person sees changed.
std::vector<Tensor> expect_round_trip(const std::vector<Tensor>& outputs) {
  std::string text = program_to_json(outputs);
  std::vector<Tensor> again = program_from_json(text);
  EXPECT_EQ(again.size(), outputs.size());
  Workload before = describe_workload(outputs), after = describe_workload(again);
  EXPECT_EQ(after.key, before.key);
  EXPECT_EQ(after.canonical, before.canonical);
  EXPECT_EQ(after.description, before.description);
  EXPECT_EQ(printed(again), printed(outputs));
  // Shared producers are rebuilt once, not once per consumer.
  EXPECT_EQ(topo_order(again).size(), topo_order(outputs).size());
  EXPECT_EQ(program_to_json(again), text);
  return again;
}

bool same_bits(const HostTensor& a, const HostTensor& b) {
  return a.dtype == b.dtype && a.shape == b.shape &&
         std::memcmp(a.data(), b.data(), a.numel() * dtype_bytes(a.dtype)) == 0;
}

class ProgramCodecOpCase : public ::testing::TestWithParam<size_t> {};

TEST_P(ProgramCodecOpCase, RoundTripsAndInterpretsBitIdentically) {
  const OpCase& c = op_cases()[GetParam()];
  PreparedCase p = prepare_case(c);
  std::vector<Tensor> again = expect_round_trip(p.outputs);
  // The rebuilt program reads the same placeholders in the same order.
  std::vector<HostTensor> inputs = bind_inputs(p);
  std::vector<HostTensor> expected = interpret(p.outputs, inputs);
  std::vector<HostTensor> actual = interpret(again, inputs);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t k = 0; k < actual.size(); ++k)
    EXPECT_TRUE(same_bits(actual[k], expected[k])) << c.name << " output " << k;
}

INSTANTIATE_TEST_SUITE_P(ProgramCodec, ProgramCodecOpCase,
                         ::testing::Range<size_t>(0, op_cases().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return op_case_test_name(info.param);
                         });

TEST(ProgramCodec, SpecialFloatsKeepTheirBits) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double values[] = {inf,
                           -inf,
                           nan,
                           -nan,
                           std::bit_cast<double>(uint64_t{0x7ff0000000000123}),  // signalling
                           -0.0,
                           0.0,
                           std::numeric_limits<double>::denorm_min(),
                           2.2250738585072009e-308,  // largest denormal
                           1e308,
                           std::numeric_limits<double>::max(),
                           0.1,
                           1.0 / 3};
  Tensor x = placeholder("x", {2}, DType::F64);
  std::vector<Tensor> outputs;
  for (double v : values)
    for (DType t : {DType::F64, DType::F32})
      outputs.push_back(compute(str_cat("c", outputs.size()), {2}, [&](const std::vector<Var>& i) {
        return cast(t, x(i[0])) + FloatImmNode::make(t, v);
      }));
  std::vector<Tensor> again = expect_round_trip(outputs);
  for (size_t k = 0; k < outputs.size(); ++k) {
    double before = outputs[k]->body.as<BinaryNode>()->b.as<FloatImmNode>()->value;
    double after = again[k]->body.as<BinaryNode>()->b.as<FloatImmNode>()->value;
    EXPECT_EQ(std::bit_cast<uint64_t>(after), std::bit_cast<uint64_t>(before)) << before;
  }
}

TEST(ProgramCodec, IntegersAreExact) {
  Tensor x = placeholder("x", {2}, DType::I64);
  Tensor y = placeholder("y", {2}, DType::I32);
  Tensor b = placeholder("b", {2}, DType::Bool);
  std::vector<Tensor> outputs;
  for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                    int64_t{-1}, int64_t{9007199254740993}})  // 2^53 + 1: no double holds it
    outputs.push_back(compute(str_cat("i", outputs.size()), {2}, [&](const std::vector<Var>& i) {
      return x(i[0]) + IntImmNode::make(DType::I64, v);
    }));
  outputs.push_back(compute("i32", {2}, [&](const std::vector<Var>& i) {
    return y(i[0]) - IntImmNode::make(DType::I32, std::numeric_limits<int32_t>::min());
  }));
  outputs.push_back(compute("bool", {2}, [&](const std::vector<Var>& i) {
    return b(i[0]) && IntImmNode::make(DType::Bool, 1);
  }));
  expect_round_trip(outputs);
}

TEST(ProgramCodec, EveryOperatorDtypeAndReduction) {
  Tensor x = placeholder("x", {3, 4}, DType::F32, {1, 3});
  Tensor b = placeholder("b", {3, 4}, DType::Bool);
  std::vector<Tensor> outputs;
  auto add = [&](const std::function<Expr(const std::vector<Var>&)>& body) {
    outputs.push_back(compute(str_cat("t", outputs.size()), {3, 4}, body));
  };
  for (int op = 0; op <= static_cast<int>(BinaryOp::Zeta); ++op) {
    bool logical = BinaryOp(op) >= BinaryOp::And && BinaryOp(op) <= BinaryOp::Xor;
    Tensor in = logical ? b : x;
    add([&](const std::vector<Var>& i) {
      return BinaryNode::make(BinaryOp(op), in(i[0], i[1]), in(i[1] % 3, i[0]));
    });
  }
  for (int op = 0; op <= static_cast<int>(UnaryOp::Ndtri); ++op) {
    Tensor in = UnaryOp(op) == UnaryOp::Not ? b : x;
    add([&](const std::vector<Var>& i) { return UnaryNode::make(UnaryOp(op), in(i[0], i[1])); });
  }
  for (DType t :
       {DType::Bool, DType::I32, DType::I64, DType::F16, DType::BF16, DType::F32, DType::F64})
    add([&](const std::vector<Var>& i) { return CastNode::make(t, x(i[0], i[1])); });
  for (int op = 0; op <= static_cast<int>(ReduceOp::ArgMin); ++op) {
    IterVar k = reduce_axis(4, "k"), l = reduce_axis(3, "l");
    add([&](const std::vector<Var>& i) {
      return reduce(ReduceOp(op), select(b(l.var, k.var), x(i[0], k.var), x(l.var, i[1])), {k, l});
    });
  }
  expect_round_trip(outputs);
}

TEST(ProgramCodec, SharedReduceAxisStaysShared) {
  // Like max pooling's values and indices: the workload key numbers the shared axis once.
  Tensor x = placeholder("x", {4, 6}, DType::F32);
  IterVar k = reduce_axis(6, "k");
  Tensor m = compute("m", {4}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Max, x(i[0], k.var), {k});
  });
  Tensor a = compute("a", {4}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, x(i[0], k.var), {k});
  });
  std::vector<Tensor> again = expect_round_trip({m, a});
  EXPECT_TRUE(again[0]->body.as<ReduceNode>()->axes[0].var.same_as(
      again[1]->body.as<ReduceNode>()->axes[0].var));
}

TEST(ProgramCodec, SharedProducerIsRebuiltOnce) {
  Tensor x = placeholder("x", {5}, DType::F32);
  Tensor a = compute("a", {5}, [&](const std::vector<Var>& i) { return x(i[0]) * 2.0; });
  Tensor b = compute("b", {5}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0; });
  Tensor c = compute("c", {5}, [&](const std::vector<Var>& i) { return a(i[0]) - x(i[0]); });
  std::vector<Tensor> again = expect_round_trip({b, c, b});
  ASSERT_EQ(again.size(), 3u);
  EXPECT_TRUE(again[0].same_as(again[2]));
  EXPECT_TRUE(input_tensors(again[0])[0].same_as(input_tensors(again[1])[0]));
  EXPECT_TRUE(input_tensors(again[1])[1].same_as(input_tensors(input_tensors(again[1])[0])[0]));
}

// Hostile text. Each variant of a small valid program must fail with an IRError saying what.

const std::string kValid = R"({"format": "kiln-program", "schema_version": 1, "tensors": [
  {"name": "x", "kind": "placeholder", "dtype": "f32", "shape": [3], "strides": [1]},
  {"name": "T_add", "kind": "compute", "dtype": "f32", "shape": [3], "axes": [0],
   "body": {"kind": "Binary", "op": "+",
            "a": {"kind": "Load", "tensor": 0, "indices": [{"kind": "Var", "var": 0}]},
            "b": {"kind": "FloatImm", "dtype": "f32", "value": 1.5}}}],
  "outputs": [1]})";

/// kValid with `from` (which must occur in it) replaced by `to`.
std::string variant(const std::string& from, const std::string& to) {
  std::string text = kValid;
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return at == std::string::npos ? text : text.replace(at, from.size(), to);
}

void expect_rejected(const std::string& text, const std::string& message) {
  try {
    program_from_json(text);
    ADD_FAILURE() << "accepted; expected an IRError with: " << message << "\n"
                  << text.substr(0, 400);
  } catch (const IRError& e) {
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
        << "got: " << e.what() << "\nexpected: " << message;
  }
}

TEST(ProgramCodec, ReadsTheValidProgram) {
  std::vector<Tensor> outputs = program_from_json(kValid);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(printed(outputs),
            "placeholder x: f32[3]\ncompute T_add: f32[3] (T_add.ax0:3) = (x[T_add.ax0] + 1.5f)\n");
}

TEST(ProgramCodec, WritesTheFormatOfTheValidProgram) {
  std::string compact;
  for (char ch : kValid)
    if (ch != ' ' && ch != '\n') compact += ch;
  EXPECT_EQ(program_to_json(program_from_json(kValid)), compact);
}

TEST(ProgramCodec, RejectsWhatIsNotAProgram) {
  expect_rejected("not json {", "program JSON: [json.exception.parse_error");
  expect_rejected("", "parse_error");
  expect_rejected("{}", "not a Kiln program");
  expect_rejected("[1, 2]", "not a Kiln program");
  expect_rejected(variant(R"("schema_version": 1, )", ""), R"(missing field "schema_version")");
  expect_rejected(variant(R"("schema_version": 1)", R"("schema_version": 2)"),
                  "schema version 2 is newer than this Kiln's 1");
  expect_rejected(variant(R"("outputs": [1])", R"("outputs": 1)"),
                  R"(field "outputs": expected an array, got number)");
}

TEST(ProgramCodec, RejectsMalformedTensors) {
  expect_rejected(variant(R"({"name": "x", "kind": "placeholder")",
                          R"(7, {"name": "x", "kind": "placeholder")"),
                  "tensor 0: expected an object, got number");
  expect_rejected(variant(R"("shape": [3], "strides")", R"("shape": "3", "strides")"),
                  R"(tensor 0 ("x"): field "shape": expected an array, got string)");
  expect_rejected(variant(R"("shape": [3], "strides")", R"("shape": [3.5], "strides")"),
                  R"(field "shape": expected an integer, got number)");
  expect_rejected(variant(R"("shape": [3], "strides")", R"("shape": [-3], "strides")"),
                  "negative size -3");
  expect_rejected(variant(R"("strides": [1])", R"("strides": [1, 1])"),
                  "1 dimensions but 2 strides");
  expect_rejected(variant(R"("dtype": "f32", "shape": [3], "strides")",
                          R"("dtype": "f8", "shape": [3], "strides")"),
                  "unknown dtype name 'f8'");
  expect_rejected(variant(R"("kind": "placeholder")", R"("kind": "blob")"),
                  R"(tensor kind "blob" unknown)");
  expect_rejected(variant(R"("name": "x")", R"("name": 5)"),
                  R"(field "name": expected a string, got number)");
  expect_rejected(variant(R"("axes": [0])", R"("axes": [0, 1])"), "1 dimensions but 2 axes");
  expect_rejected(variant(R"("outputs": [1])", R"("outputs": [2])"),
                  "outputs: tensor 2 is not defined before this point");
  expect_rejected(variant(R"("compute", "dtype": "f32")", R"("compute", "dtype": "f64")"),
                  "declared f64 but its definition gives f32");
}

TEST(ProgramCodec, RejectsMalformedExpressions) {
  const std::string in_body = R"(tensor 1 ("T_add"): body: )";
  expect_rejected(variant(R"("kind": "Binary")", R"("kind": "Foo")"),
                  in_body + R"(node kind "Foo" unknown)");
  expect_rejected(variant(R"("op": "+")", R"("op": "plus")"),
                  in_body + R"(unknown operator "plus")");
  expect_rejected(variant(R"("op": "+",)", ""), in_body + R"(missing field "op")");
  expect_rejected(variant(R"("kind": "Var", "var": 0)", R"("kind": "Var", "var": 9)"),
                  in_body + "variable 9 is not bound");
  expect_rejected(variant(R"("kind": "Var", "var": 0)", R"("kind": "Var", "var": "0")"),
                  in_body + R"(field "var": expected an integer, got string)");
  // A cycle or a forward reference: a tensor may load only tensors defined before it.
  expect_rejected(variant(R"("tensor": 0)", R"("tensor": 1)"),
                  in_body + "tensor 1 is not defined before this point");
  expect_rejected(variant(R"("tensor": 0)", R"("tensor": -1)"), "tensor -1 is not defined");
  expect_rejected(variant(R"("value": 1.5)", R"("value": "1.5")"),
                  in_body + R"(field "value": "1.5" is not a float)");
  expect_rejected(variant(R"("value": 1.5)", R"("value": "nan:zz")"), R"("nan:zz" is not a float)");
  expect_rejected(variant(R"("value": 1.5)", R"("value": null)"), "expected a number, got null");
  expect_rejected(
      variant(R"("kind": "FloatImm", "dtype": "f32")", R"("kind": "FloatImm", "dtype": "i32")"),
      in_body + "FloatImm of non-float dtype i32");
  expect_rejected(variant(R"("kind": "FloatImm", "dtype": "f32", "value": 1.5)",
                          R"("kind": "IntImm", "dtype": "i64", "value": 18446744073709551615)"),
                  "18446744073709551615 does not fit 64 bits");
  expect_rejected(variant(R"("kind": "FloatImm", "dtype": "f32", "value": 1.5)",
                          R"("kind": "IntImm", "dtype": "i32", "value": 9999999999)"),
                  "constant 9999999999 does not fit i32");
  expect_rejected(variant(R"("kind": "FloatImm", "dtype": "f32", "value": 1.5)",
                          R"("kind": "IntImm", "dtype": "i64", "value": 1)"),
                  in_body + "operands of + differ in dtype");
  expect_rejected(variant(R"("indices": [{"kind": "Var", "var": 0}])", R"("indices": [])"),
                  "tensor 'x' has rank 1 but is read with 0 indices");
  expect_rejected(
      variant(R"({"kind": "Var", "var": 0})", R"({"kind": "IntImm", "dtype": "i64", "value": 3})"),
      "reads 'x' at constant index 3");
  expect_rejected(variant(R"({"kind": "Var", "var": 0})", R"({"kind": "State"})"),
                  "a State node outside a scan step or a scatter update value");
  // Fields it does not know are left alone.
  EXPECT_NO_THROW(program_from_json(variant(R"("axes": [0])", R"("axes": [0], "note": {"x": 1})")));
}

TEST(ProgramCodec, RejectsMisboundVariables) {
  const std::string reduce =
      R"({"kind": "Reduce", "op": "sum", "axes": [{"var": 1, "name": "k", "extent": 3}],
      "source": {"kind": "Load", "tensor": 0, "indices": [{"kind": "Var", "var": 1}]}})";
  std::string summed =
      variant(R"({"kind": "Load", "tensor": 0, "indices": [{"kind": "Var", "var": 0}]})", reduce);
  // A reduction inside an expression, which the IR refuses.
  expect_rejected(summed, "has a reduction inside an expression");
  std::string renamed = summed;
  renamed.replace(renamed.find(R"("var": 1, "name")"), 8, R"("var": 0)");
  expect_rejected(renamed, "variable 0 is bound again as 'k', was 'T_add.ax0'");
  std::string empty = summed;
  empty.replace(empty.find(R"("extent": 3)"), 11, R"("extent": 0)");
  expect_rejected(empty, "reduce axis 'k' has extent 0");
}

TEST(ProgramCodec, BoundsNesting) {
  auto nested = [](int depth) {
    std::string text;
    for (int d = 0; d < depth; ++d) text += R"({"kind": "Unary", "op": "neg", "a": )";
    text += R"({"kind": "Load", "tensor": 0, "indices": [{"kind": "Var", "var": 0}]})";
    return variant(R"({"kind": "Load", "tensor": 0, "indices": [{"kind": "Var", "var": 0}]})",
                   text + std::string(depth, '}'));
  };
  EXPECT_NO_THROW(program_from_json(nested(900)));
  expect_rejected(nested(1001), "expression nested deeper than 1000 levels");
  expect_rejected(nested(200000), "expression nested deeper than 1000 levels");
  // Nesting that is no program at all never reaches the reader's recursion.
  expect_rejected(std::string(1000000, '[') + std::string(1000000, ']'), "not a Kiln program");
  expect_rejected(variant(R"("name": "x")",
                          R"("name": )" + std::string(1000000, '[') + std::string(1000000, ']')),
                  R"(tensor 0: field "name": expected a string, got array)");
}

}  // namespace
}  // namespace kiln

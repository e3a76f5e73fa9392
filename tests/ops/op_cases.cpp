#include "op_cases.h"

#include <cctype>
#include <climits>
#include <functional>

#include "core/support/error.h"
#include "op_case_table.h"

namespace kiln {

namespace {

using namespace op_case_table;  // NOLINT(google-build-using-namespace)

void unary_cases(Table& t) {
  struct U {
    const char* op;
    double lo, hi;
  };
  for (U u :
       {U{"exp", -3, 3},      {"exp2", -3, 3},     {"log", 0.1, 5},     {"log1p", -0.5, 3},
        {"expm1", -2, 2},     {"sqrt", 0, 4},      {"rsqrt", 0.1, 4},   {"reciprocal", 0.5, 3},
        {"sin", -4, 4},       {"cos", -4, 4},      {"tanh", -3, 3},     {"erf", -2, 2},
        {"sigmoid", -5, 5},   {"neg", -2, 2},      {"abs", -2, 2},      {"relu", -2, 2},
        {"sign", -2, 2},      {"floor", -5, 5},    {"ceil", -5, 5},     {"round", -5, 5},
        {"trunc", -5, 5},     {"silu", -4, 4},     {"isnan", -1, 1},    {"logical_not", -1, 1},
        {"asin", -0.9, 0.9},  {"acos", -0.9, 0.9}, {"atan", -4, 4},     {"sinh", -3, 3},
        {"cosh", -3, 3},      {"tan", -1.2, 1.2},  {"asinh", -4, 4},    {"acosh", 1.1, 5},
        {"atanh", -0.9, 0.9}, {"log2", 0.1, 5},    {"log10", 0.1, 5},   {"erfc", -2, 3},
        {"isinf", -1, 1},     {"isposinf", -1, 1}, {"isneginf", -1, 1}, {"signbit", -2, 2}})
    t.call(str_cat(u.op, "_7x13"), str_cat("aten.", u.op, ".default"),
           {in({7, 13}, f32, u.lo, u.hi)});
  t.call("exp_f16_31", "aten.exp.default", {in({31}, f16, -3, 3)}, {}, f16);
  t.call("exp_f64", "aten.exp.default", {in({3, 5}, f64, -3, 3)}, {}, f64);
  t.call("sigmoid_bf16", "aten.sigmoid.default", {in({4, 7}, bf16, -4, 4)}, {}, bf16);
  t.call("sqrt_int", "aten.sqrt.default", {in({13}, i32, 0, 50)});
  t.call("tanh_transposed", "aten.tanh.default", {strided({5, 7}, {1, 5})});
  t.call("abs_i64", "aten.abs.default", {in({2, 9}, i64, -20, 20)});
  t.call("neg_i32_expanded", "aten.neg.default", {strided({4, 6}, {0, 1}, i32, -9, 9)});
  t.call("relu_strided", "aten.relu.default", {strided({3, 1, 5}, {10, 1, 2})});
  t.call("sign_int", "aten.sign.default", {in({11}, i32, -3, 3)});
  t.call("round_f16", "aten.round.default", {in({17}, f16, -6, 6)}, {}, f16);
  t.call("round_decimals", "aten.round.decimals", {in({5, 7}, f32, -60, 60)}, {I(2)});
  t.call("round_decimals_negative", "aten.round.decimals", {in({5, 7}, f32, -600, 600)}, {I(-1)});
  t.call("floor_int", "aten.floor.default", {in({5}, i64, -9, 9)});
  t.call("gelu_none", "aten.gelu.default", {in({6, 13}, f32, -4, 4)}, {S("none")});
  t.call("gelu_tanh", "aten.gelu.default", {in({6, 13}, f32, -4, 4)}, {S("tanh")});
  t.call("gelu_bf16", "aten.gelu.default", {in({3, 31}, bf16, -4, 4)}, {S("none")}, bf16);
  t.call("leaky_relu", "aten.leaky_relu.default", {in({5, 7}, f32, -2, 2)}, {F(0.1)});
  t.call("hardtanh", "aten.hardtanh.default", {in({5, 7}, f32, -3, 3)}, {F(-1.5), F(0.5)});
  t.call("isnan_int", "aten.isnan.default", {in({4}, i64, 0, 5)});
  t.call("asin_f64", "aten.asin.default", {in({3, 5}, f64, -0.99, 0.99)}, {}, f64);
  t.call("atanh_bf16", "aten.atanh.default", {in({4, 7}, bf16, -0.9, 0.9)}, {}, bf16);
  t.call("log10_int", "aten.log10.default", {in({13}, i32, 1, 1000)});
  t.call("elu", "aten.elu.default", {in({5, 7}, f32, -3, 3)}, {F(1.0), F(1.0), F(1.0)});
  t.call("elu_selu", "aten.elu.default", {in({5, 7}, f32, -3, 3)},
         {F(1.6732632423543772), F(1.0507009873554805), F(1.0)});
  t.call("elu_celu", "aten.elu.default", {in({5, 7}, f32, -3, 3)}, {F(0.5), F(1.0), F(2.0)});
  t.call("signbit_int", "aten.signbit.default", {in({9}, i64, -5, 5)});
  t.call("isinf_int", "aten.isinf.default", {in({4}, i32, -5, 5)});
  t.call("bitwise_not_bool", "aten.bitwise_not.default", {in({3, 5}, b8)});
  t.call("bitwise_not_i64", "aten.bitwise_not.default", {in({7}, i64, -50, 50)});
  t.call("logical_not_bool", "aten.logical_not.default", {in({9}, b8)});
}

void binary_cases(Table& t) {
  t.call("add_broadcast", "aten.add.Tensor", {in({4, 1, 7}), in({13, 1})}, {I(1)});
  t.call("add_alpha", "aten.add.Tensor", {in({5, 7}), in({5, 7})}, {F(2.5)});
  t.call("add_f16_zero_dim_f32", "aten.add.Tensor", {in({3, 7}, f16), in({}, f32)}, {I(1)}, f16);
  t.call("add_i32_i64", "aten.add.Tensor", {in({6}, i32, -100, 100), in({6}, i64, -100, 100)},
         {I(3)});
  t.call("add_bf16", "aten.add.Tensor", {in({2, 13}, bf16), in({13}, bf16)}, {I(1)}, bf16);
  t.call("add_scalar_int_float", "aten.add.Scalar", {in({7}, i64, -5, 5)}, {F(2.5), I(1)});
  t.call("add_scalar_f16", "aten.add.Scalar", {in({7}, f16)}, {F(2.5), I(1)}, f16);
  t.call("add_bool_int_scalar", "aten.add.Scalar", {in({7}, b8)}, {I(1), I(1)});
  t.call("sub_expanded", "aten.sub.Tensor", {strided({5, 7}, {0, 1}), in({5, 7})}, {F(0.5)});
  t.call("sub_scalar", "aten.sub.Scalar", {in({3, 3})}, {F(1.25), I(2)});
  // A number where the schema has a Tensor: a wrapped scalar, as ATen graphs write 2 - x.
  t.add("sub_number_first", "aten.sub.Tensor", {in({4, 5})},
        [](P p) { return Args{I(2), p[0], F(1.5)}; });
  t.call("mul_f32_i64", "aten.mul.Tensor", {in({4, 5}), in({5}, i64, -3, 3)});
  t.call("mul_scalar_f64", "aten.mul.Scalar", {in({4, 5}, f64)}, {F(-3.5)}, f64);
  t.call("div_int_int", "aten.div.Tensor", {in({9}, i64, -20, 20), in({9}, i32, 1, 6)});
  t.call("div_transposed", "aten.div.Tensor", {strided({6, 4}, {1, 6}), in({4}, f32, 0.5, 2)});
  t.call("div_scalar", "aten.div.Scalar", {in({8})}, {F(3.0)});
  t.call("div_trunc", "aten.div.Tensor_mode", {in({13}, f32, -10, 10), in({13}, f32, 0.5, 3)},
         {S("trunc")});
  t.call("div_floor_neg", "aten.div.Tensor_mode", {in({13}, f32, -10, 10), in({13}, f32, -3, -0.5)},
         {S("floor")});
  t.call("div_floor_int", "aten.div.Tensor_mode", {in({13}, i64, -20, 20), in({13}, i64, 1, 5)},
         {S("floor")});
  t.call("div_trunc_int", "aten.div.Tensor_mode", {in({13}, i32, -20, 20), in({13}, i32, 1, 5)},
         {S("trunc")});
  t.call("div_mode_none", "aten.div.Tensor_mode", {in({5}), in({5}, f32, 1, 2)}, {None});
  t.call("div_scalar_floor", "aten.div.Scalar_mode", {in({11}, f32, -9, 9)}, {F(-2.5), S("floor")});
  t.call("pow_tt", "aten.pow.Tensor_Tensor", {in({3, 7}, f32, 0.5, 2), in({7}, f32, -2, 2)});
  t.call("pow_ts", "aten.pow.Tensor_Scalar", {in({3, 7}, f32, 0, 2)}, {F(0.5)});
  t.call("pow_ts_int", "aten.pow.Tensor_Scalar", {in({9}, i64, -4, 4)}, {I(3)});
  t.add("pow_scalar", "aten.pow.Scalar", {in({6}, f32, -2, 2)},
        [](P p) { return Args{F(2.0), p[0]}; });
  t.call("minimum", "aten.minimum.default", {in({4, 1}), in({1, 9})});
  t.call("atan2", "aten.atan2.default", {in({4, 7}, f32, -3, 3), in({7}, f32, -3, 3)});
  t.call("bitwise_and_bool", "aten.bitwise_and.Tensor", {in({4, 7}, b8), in({7}, b8)});
  t.call("bitwise_and_int", "aten.bitwise_and.Tensor",
         {in({9}, i64, -100, 100), in({9}, i32, -100, 100)});
  t.call("bitwise_and_scalar", "aten.bitwise_and.Scalar", {in({9}, i32, -100, 100)}, {I(6)});
  t.call("bitwise_or", "aten.bitwise_or.Tensor", {in({9}, i64, -100, 100), in({9}, i64, -9, 9)});
  t.call("bitwise_or_scalar_bool", "aten.bitwise_or.Scalar", {in({5}, b8)}, {I(0)});
  t.call("bitwise_xor", "aten.bitwise_xor.Tensor", {in({3, 5}, b8), in({3, 5}, b8)});
  t.call("bitwise_xor_scalar", "aten.bitwise_xor.Scalar", {in({9}, i64, -50, 50)}, {I(-3)});
  t.call("atan2_int", "aten.atan2.default", {in({6}, i64, -5, 5), in({6}, i64, -5, 5)});
  t.call("hypot", "aten.hypot.default", {in({3, 7}, f32, -4, 4), in({3, 7}, f32, -4, 4)});
  t.call("copysign", "aten.copysign.Tensor", {in({5, 7}, f32, -3, 3), in({7}, f32, -1, 1)});
  t.call("copysign_scalar", "aten.copysign.Scalar", {in({5, 7}, f32, -3, 3)}, {F(-1.0)});
  t.call("fmod", "aten.fmod.Tensor", {in({4, 9}, f32, -9, 9), in({9}, f32, 0.5, 3)});
  t.call("fmod_int", "aten.fmod.Tensor", {in({9}, i64, -20, 20), in({9}, i64, 1, 6)});
  t.call("fmod_scalar", "aten.fmod.Scalar", {in({4, 9}, f32, -9, 9)}, {F(-1.5)});
  t.call("remainder", "aten.remainder.Tensor", {in({4, 9}, f32, -9, 9), in({9}, f32, -3, -0.5)});
  t.call("remainder_int", "aten.remainder.Tensor", {in({9}, i32, -20, 20), in({9}, i32, -6, -1)});
  t.call("remainder_scalar_int", "aten.remainder.Scalar", {in({9}, i64, -20, 20)}, {I(7)});
  t.call("maximum_int", "aten.maximum.default", {in({7}, i32, -5, 5), in({7}, i32, -5, 5)});
  t.call("clamp_both", "aten.clamp.default", {in({5, 7}, f32, -2, 2)}, {F(-0.5), F(0.75)});
  t.call("clamp_min", "aten.clamp.default", {in({5, 7}, f32, -2, 2)}, {F(0.1), None});
  t.call("clamp_max_int_float", "aten.clamp.default", {in({9}, i32, -5, 5)}, {None, F(2.5)});
  t.call("clamp_tensor", "aten.clamp.Tensor",
         {in({3, 7}), in({7}, f32, -1, 0), in({3, 1}, f32, 0, 1)});
  t.call("where", "aten.where.self", {in({3, 1}, b8), in({3, 5}), in({5}, f16)});
  t.call("masked_fill", "aten.masked_fill.Scalar", {in({4, 7}), in({7}, b8)}, {F(-2.0)});
  t.call("logical_and", "aten.logical_and.default", {in({6}, b8), in({6}, f32, -1, 1)});
  t.call("logical_or", "aten.logical_or.default", {in({2, 6}, b8), in({6}, b8)});
  t.call("logical_xor", "aten.logical_xor.default", {in({6}, i64, 0, 2), in({6}, b8)});
  for (const char* c : {"eq", "ne", "lt", "le", "gt", "ge"}) {
    t.call(str_cat(c, "_tensor"), str_cat("aten.", c, ".Tensor"),
           {in({5, 4}, i64, 0, 3), in({4}, i32, 0, 3)});
    t.call(str_cat(c, "_scalar"), str_cat("aten.", c, ".Scalar"), {in({5, 4}, f32, -1, 1)},
           {F(0.25)});
  }
  t.call("eq_int_float_scalar", "aten.eq.Scalar", {in({8}, i32, 0, 3)}, {F(2.0)});
}

void conversion_cases(Table& t) {
  t.call("to_copy_f16", "aten._to_copy.default", {in({5, 7}, f32, -3, 3)},
         {D(f16), None, None, None, B(false), None}, f16);
  t.call("to_copy_int", "aten._to_copy.default", {in({5, 7}, f32, -10, 10)},
         {D(i32), None, None, None, B(false), None});
  t.call("to_copy_bool", "aten._to_copy.default", {in({9}, f32, -1, 1)},
         {D(b8), None, None, None, B(false), None});
  t.call("to_copy_from_i64", "aten._to_copy.default", {strided({3, 4}, {1, 3}, i64, -9, 9)},
         {D(f32), None, None, None, B(false), None});
  t.call("convert_bf16", "prims.convert_element_type.default", {in({13}, f32, -5, 5)}, {D(bf16)},
         bf16);
  t.call("clone_transposed", "aten.clone.default", {strided({4, 6}, {1, 4})}, {None});
  t.call("alias", "aten.alias.default", {in({2, 3})});
  t.call("lift_fresh_copy", "aten.lift_fresh_copy.default", {in({5})});
  t.call("copy_broadcast", "aten.copy.default", {in({3, 5}), in({5}, f16)}, {B(false)});
  t.call("fill", "aten.fill.Scalar", {in({3, 4}, i64, 0, 5)}, {I(7)});
  t.call("full_like_as_float", "aten.full_like.default", {in({2, 5}, i32, 0, 5)},
         {F(-2.5), D(f32), None, None, None, None});
  t.add("full_float", "aten.full.default", {},
        [](P) { return Args{L({2, 3}), F(1.5), None, None, None, None}; });
  t.add("empty_as_zeros", "aten.empty.memory_format", {},
        [](P) { return Args{L({3, 2}), D(i64), None, None, None, None}; });
  t.add("full_int_dtype", "aten.full.default", {},
        [](P) { return Args{L({4}), I(3), D(f16), None, None, None}; });
  t.add("scalar_tensor", "aten.scalar_tensor.default", {},
        [](P) { return Args{F(-2.25), None, None, None, None}; });
  auto arange = [&t](std::string name, std::string overload, Args bounds, DType tol_dtype = f32) {
    bounds.insert(bounds.end(), {None, None, None});  // layout, device, pin_memory
    t.add(
        std::move(name), "aten.arange." + overload, {}, [bounds](P) { return bounds; }, tol_dtype);
  };
  arange("arange_int", "start_step", {I(-3), I(14), I(4), None});
  arange("arange_float_half_step", "start_step", {F(-1.25), F(3.0), F(0.5), None});
  arange("arange_float_odd_step", "start_step", {F(0.1), I(2), F(0.3), None});
  arange("arange_negative_step", "start_step", {I(10), I(-3), I(-3), None});
  arange("arange_negative_float_step_f64", "start_step", {F(2.5), F(-1.0), F(-0.75), D(f64)}, f64);
  arange("arange_empty", "start_step", {I(4), I(4), I(-1), None});
  arange("arange_i32_truncates_float_bounds", "start_step", {F(0.5), F(7.5), F(1.5), D(i32)});
  arange("arange_start_f16", "start", {I(-2), I(11), D(f16)}, f16);
  arange("arange_end", "default", {I(13), None});
  arange("arange_end_float", "default", {F(6.5), None});
}

void reduction_cases(Table& t) {
  t.call("sum_dim1", "aten.sum.dim_IntList", {in({7, 13, 5})}, {L({1}), B(false), None});
  t.call("sum_all_empty_dims", "aten.sum.dim_IntList", {in({7, 13})}, {L({}), B(false), None});
  t.call("sum_neg_dims_keepdim", "aten.sum.dim_IntList", {in({3, 7, 5})},
         {L({-1, 0}), B(true), None});
  t.call("sum_dtype_f64", "aten.sum.dim_IntList", {in({6, 5})}, {L({0}), B(false), D(f64)}, f64);
  t.call("sum_int", "aten.sum.dim_IntList", {in({4, 9}, i32, -9, 9)}, {L({1}), B(false), None});
  t.call("sum_f16_transposed", "aten.sum.dim_IntList", {strided({8, 31}, {1, 8}, f16)},
         {L({1}), B(false), None}, f16);
  t.call("sum_default", "aten.sum.default", {in({5, 7})}, {None});
  t.call("sum_default_bool", "aten.sum.default", {in({5, 7}, b8)}, {None});
  t.call("mean_dim", "aten.mean.dim", {in({4, 13, 3})}, {L({1}), B(true), None});
  t.call("mean_default", "aten.mean.default", {strided({5, 6}, {1, 5})}, {None});
  t.call("mean_all_bf16", "aten.mean.dim", {in({7, 9}, bf16)}, {None, B(false), None}, bf16);
  t.call("amax", "aten.amax.default", {in({5, 7})}, {L({1}), B(false)});
  t.call("amax_all", "aten.amax.default", {in({5, 7}, i64, -99, 99)}, {L({}), B(true)});
  t.call("amin", "aten.amin.default", {in({5, 1, 7})}, {L({0, 2}), B(false)});
  t.call("prod", "aten.prod.dim_int", {in({4, 7}, f32, 0.5, 1.5)}, {I(1), B(false), None});
  t.call("prod_int", "aten.prod.dim_int", {in({3, 5}, i32, -3, 3)}, {I(-1), B(true), None});
  t.call("var", "aten.var.correction", {in({6, 13})}, {L({1}), None, B(false)});
  t.call("var_all_c0", "aten.var.correction", {in({5, 7})}, {None, I(0), B(true)});
  t.call("var_mean", "aten.var_mean.correction", {in({3, 11, 2})}, {L({1}), F(1.0), B(false)});
  t.call("softmax_last", "aten._softmax.default", {in({7, 31}, f32, -5, 5)}, {I(-1), B(false)});
  t.call("softmax_dim0", "aten._softmax.default", {in({13, 3})}, {I(0), B(false)});
  t.call("softmax_f16", "aten._softmax.default", {in({4, 17}, f16, -4, 4)}, {I(1), B(false)}, f16);
  t.call("log_softmax", "aten._log_softmax.default", {in({5, 31}, f32, -5, 5)}, {I(1), B(false)});
  t.call("log_softmax_transposed", "aten._log_softmax.default", {strided({6, 5}, {1, 6})},
         {I(0), B(false)});
  t.call("argmax_dim", "aten.argmax.default", {in({7, 13})}, {I(1), B(false)});
  t.call("argmax_all_keepdim", "aten.argmax.default", {in({3, 5})}, {None, B(true)});
  t.call("argmax_int_ties", "aten.argmax.default", {in({4, 9}, i64, 0, 3)}, {I(-1), B(true)});
  t.call("max_dim", "aten.max.dim", {in({5, 7})}, {I(0), B(false)});
  t.call("min_dim", "aten.min.dim", {in({5, 7, 3})}, {I(1), B(true)});
  // Integer minima: the identity INT64_MAX must reach the kernel exactly (through a double it
  // became INT64_MIN, the result of every row).
  t.call("min_dim_i64", "aten.min.dim", {in({4, 9}, i64, -99, 99)}, {I(1), B(false)});
  t.call("amin_i64", "aten.amin.default", {in({6, 5}, i64, -99, 99)}, {L({0}), B(false)});
  t.call("amin_i32", "aten.amin.default", {in({6, 5}, i32, -99, 99)}, {L({1}), B(true)});
}

void normalization_cases(Table& t) {
  t.add("layer_norm", "aten.native_layer_norm.default", {in({4, 7, 31}), in({31}), in({31})},
        [](P p) { return Args{p[0], L({31}), p[1], p[2], F(1e-5)}; });
  t.add("layer_norm_2d_no_affine", "aten.native_layer_norm.default", {in({3, 7, 13}, f32, -3, 3)},
        [](P p) { return Args{p[0], L({7, 13}), None, None, F(1e-6)}; });
  t.add(
      "layer_norm_f16", "aten.native_layer_norm.default",
      {in({5, 32}, f16), in({32}, f16), in({32}, f16)},
      [](P p) { return Args{p[0], L({32}), p[1], p[2], F(1e-5)}; }, f16);
  t.add("batch_norm", "aten._native_batch_norm_legit_no_training.default",
        {in({2, 3, 5, 7}), in({3}), in({3}), in({3}), in({3}, f32, 0.5, 2)},
        [](P p) { return Args{p[0], p[1], p[2], p[3], p[4], F(0.1), F(1e-5)}; });
  t.add("batch_norm_no_affine_2d", "aten._native_batch_norm_legit_no_training.default",
        {in({6, 13}), in({13}), in({13}, f32, 0.5, 2)},
        [](P p) { return Args{p[0], None, None, p[1], p[2], F(0.1), F(1e-3)}; });
  t.add("batch_norm_training", "aten._native_batch_norm_legit_functional.default",
        {in({4, 3, 5, 2}), in({3}), in({3}), in({3}), in({3}, f32, 0.5, 2)},
        [](P p) { return Args{p[0], p[1], p[2], p[3], p[4], B(true), F(0.1), F(1e-5)}; });
  t.add("batch_norm_training_1d", "aten._native_batch_norm_legit_functional.default",
        {in({6, 13}), in({13}), in({13}, f32, 0.5, 2)},
        [](P p) { return Args{p[0], None, None, p[1], p[2], B(true), F(0.3), F(1e-3)}; });
  t.add(
      "batch_norm_training_bf16", "aten._native_batch_norm_legit_functional.default",
      {in({4, 3, 6}, bf16), in({3}, bf16), in({3}, bf16), in({3}, bf16), in({3}, bf16, 0.5, 2)},
      [](P p) { return Args{p[0], p[1], p[2], p[3], p[4], B(true), F(0.1), F(1e-5)}; }, bf16);
  t.add("batch_norm_no_stats", "aten._native_batch_norm_legit.no_stats",
        {in({3, 4, 7}), in({4}), in({4})},
        [](P p) { return Args{p[0], p[1], p[2], B(true), F(0.1), F(1e-5)}; });
  t.add("group_norm", "aten.native_group_norm.default", {in({2, 6, 5, 3}), in({6}), in({6})},
        [](P p) { return Args{p[0], p[1], p[2], I(2), I(6), I(15), I(3), F(1e-5)}; });
  t.add("group_norm_no_affine_1d", "aten.native_group_norm.default", {in({3, 4, 9})},
        [](P p) { return Args{p[0], None, None, I(3), I(4), I(9), I(4), F(1e-6)}; });
}

void layout_cases(Table& t) {
  t.call("view_split", "aten.view.default", {in({6, 35})}, {L({2, 3, 5, 7})});
  t.call("view_infer", "aten.view.default", {in({2, 3, 5, 7})}, {L({-1, 35})});
  t.call("unsafe_view", "aten._unsafe_view.default", {in({4, 9})}, {L({36})});
  t.call("reshape_transposed", "aten.reshape.default", {strided({5, 6}, {1, 5})}, {L({3, 10})});
  t.call("permute", "aten.permute.default", {in({2, 3, 5})}, {L({2, 0, 1})});
  t.call("diagonal_above", "aten.diagonal.default", {in({3, 4, 6})}, {I(2), I(1), I(2)});
  t.call("unfold_windows", "aten.unfold.default", {in({3, 11})}, {I(1), I(4), I(3)});
  t.call("unfold_dim0", "aten.unfold.default", {in({7, 2})}, {I(0), I(7), I(1)});
  t.call("slice_scatter_step", "aten.slice_scatter.default", {in({4, 11}), in({4, 3}, f16)},
         {I(1), I(2), I(-2), I(3)});
  t.call("select_scatter", "aten.select_scatter.default", {in({3, 4, 5}), in({3, 5})},
         {I(1), I(-1)});
  t.call("diagonal_scatter", "aten.diagonal_scatter.default", {in({2, 5, 4}), in({2, 3})},
         {I(1), I(1), I(2)});
  t.call("transpose", "aten.transpose.int", {in({2, 3, 5})}, {I(0), I(-1)});
  t.call("t", "aten.t.default", {in({3, 7})});
  t.call("expand", "aten.expand.default", {in({3, 1})}, {L({2, 3, 7}), B(false)});
  t.call("expand_keep", "aten.expand.default", {in({1, 5}, i64, 0, 9)}, {L({4, -1}), B(false)});
  t.call("squeeze_dim", "aten.squeeze.dim", {in({3, 1, 5})}, {I(1)});
  t.call("squeeze_dim_noop", "aten.squeeze.dim", {in({3, 5})}, {I(0)});
  t.call("squeeze_dims", "aten.squeeze.dims", {in({1, 3, 1, 5})}, {L({0, 1, -2})});
  t.call("unsqueeze", "aten.unsqueeze.default", {in({3, 5})}, {I(-1)});
  t.call("slice_step", "aten.slice.Tensor", {in({4, 13})}, {I(1), I(1), I(INT64_MAX), I(2)});
  t.call("slice_negative", "aten.slice.Tensor", {in({11, 3})}, {I(0), I(-5), I(-1), I(1)});
  t.call("slice_clamped", "aten.slice.Tensor", {in({7})}, {I(0), None, I(100), I(3)});
  t.call("select_negative", "aten.select.int", {in({4, 5, 3})}, {I(1), I(-2)});
  t.call("split_with_sizes_zero_chunk", "aten.split_with_sizes.default", {in({3, 13})},
         {L({4, 0, 7, 2}), I(1)});
  t.call("split_with_sizes_transposed", "aten.split_with_sizes.default",
         {strided({7, 5}, {1, 7}, i64, -9, 9)}, {L({2, 3}), I(-1)});
  t.call("split_with_sizes_one", "aten.split_with_sizes.default", {in({5, 2})}, {L({5}), I(-2)});
  t.call("split_last_smaller", "aten.split.Tensor", {in({11, 3})}, {I(4), I(0)});
  t.call("split_qkv", "aten.split.Tensor", {in({2, 5, 24}, f16)}, {I(8), I(2)}, f16);
  t.call("split_larger_than_dim", "aten.split.Tensor", {in({3, 5})}, {I(8), I(-1)});
  t.call("split_empty_dim", "aten.split.Tensor", {in({3, 0})}, {I(2), I(1)});
  t.add("cat", "aten.cat.default", {in({2, 3}), in({2, 5}), in({2, 1})},
        [](P p) { return Args{std::vector<Tensor>{p[0], p[1], p[2]}, I(1)}; });
  t.add("cat_mixed_dtype_dim0", "aten.cat.default", {in({3, 4}, f16), in({2, 4})},
        [](P p) { return Args{std::vector<Tensor>{p[0], p[1]}, I(-2)}; });
  t.call("pad", "aten.constant_pad_nd.default", {in({2, 3, 5})}, {L({1, 2, 0, 3}), F(0.5)});
  t.call("pad_negative", "aten.constant_pad_nd.default", {in({4, 7})}, {L({-1, 2, 1, -2}), I(0)});
  t.call("flip", "aten.flip.default", {in({3, 4, 5})}, {L({0, -1})});
  t.call("flip_strided", "aten.flip.default", {strided({4, 6}, {1, 4})}, {L({1})});
  t.call("roll", "aten.roll.default", {in({4, 7})}, {L({2, -9}), L({0, 1})});
  t.call("roll_flat", "aten.roll.default", {in({3, 5})}, {L({4}), L({})});
  t.call("repeat", "aten.repeat.default", {in({2, 3})}, {L({2, 1, 3})});
  t.call("repeat_ones", "aten.repeat.default", {in({1, 4}, i64, -5, 5)}, {L({3, 1})});
}

void contraction_cases(Table& t) {
  t.call("mm", "aten.mm.default", {in({13, 7}), in({7, 31})});
  t.call("mm_transposed_b", "aten.mm.default", {in({5, 16}), strided({16, 9}, {1, 16})});
  t.call("mm_f16", "aten.mm.default", {in({8, 32}, f16), in({32, 5}, f16)}, {}, f16);
  t.call("bmm", "aten.bmm.default", {in({3, 5, 7}), in({3, 7, 11})});
  t.call("addmm", "aten.addmm.default", {in({31}), in({6, 13}), in({13, 31})}, {F(0.5), F(2.0)});
  t.call("addmm_beta0", "aten.addmm.default", {in({6, 1}), in({6, 4}), in({4, 3})}, {I(0), I(1)});
  t.call("baddbmm", "aten.baddbmm.default", {in({2, 1, 5}), in({2, 3, 7}), in({2, 7, 5})},
         {F(1.0), F(-0.5)});
  // bf16 products summed in pairs where the CPU has AVX512-BF16 (even K), each operand laid
  // out its own way; an odd K keeps FMAs, with A widened to f32 beforehand.
  t.call("mm_bf16", "aten.mm.default", {in({13, 20}, bf16), in({20, 40}, bf16)}, {}, bf16);
  t.call("mm_bf16_odd_k", "aten.mm.default", {in({9, 7}, bf16), in({7, 33}, bf16)}, {}, bf16);
  t.call("mm_bf16_transposed_b", "aten.mm.default",
         {in({5, 32}, bf16), strided({32, 40}, {1, 32}, bf16)}, {}, bf16);
  t.call("bmm_bf16", "aten.bmm.default", {in({3, 5, 8}, bf16), in({3, 8, 35}, bf16)}, {}, bf16);
  // int8 products summed in int32 (VNNI quads where the CPU has them); K not a multiple of 4.
  t.call("int_mm", "aten._int_mm.default",
         {in({17, 40}, i8, -128, 127), in({40, 33}, i8, -128, 127)});
  t.call("int_mm_odd_k", "aten._int_mm.default",
         {in({6, 13}, i8, -128, 127), in({13, 20}, i8, -128, 127)});
  t.call("int_mm_transposed_b", "aten._int_mm.default",
         {in({9, 64}, i8, -128, 127), strided({64, 24}, {1, 64}, i8, -128, 127)});
  // An int8 matmul wraps modulo 2^8, as PyTorch's does.
  t.call("mm_i8", "aten.mm.default", {in({5, 12}, i8, -128, 127), in({12, 7}, i8, -128, 127)});
  t.call("add_i16", "aten.add.Tensor",
         {in({4, 9}, i16, -32768, 32767), in({4, 9}, i16, -32768, 32767)}, {I(1)});
  t.call("addmm_bf16", "aten.addmm.default",
         {in({35}, bf16), in({6, 16}, bf16), in({16, 35}, bf16)}, {F(1.0), F(1.0)}, bf16);
}

void convolution_cases(Table& t) {
  auto conv = [&t](std::string name, std::vector<InputSpec> in, bool bias, Args geometry,
                   DType tol_dtype = f32) {
    t.add(
        std::move(name), "aten.convolution.default", std::move(in),
        [bias, geometry](P p) {
          Args a{p[0], p[1], bias ? OpArg(p[2]) : None};
          a.insert(a.end(), geometry.begin(), geometry.end());
          return a;
        },
        tol_dtype);
  };
  conv("conv_3x3_pad_bias", {in({1, 3, 13, 13}), in({8, 3, 3, 3}), in({8})}, true,
       {L({1, 1}), L({1, 1}), L({1, 1}), B(false), L({0, 0}), I(1)});
  conv("conv_groups_stride_dilation", {in({2, 4, 11, 9}), in({6, 2, 3, 3})}, false,
       {L({2, 1}), L({1, 0}), L({1, 2}), B(false), L({0, 0}), I(2)});
  conv("conv_depthwise", {in({1, 5, 7, 7}), in({5, 1, 3, 3}), in({5})}, true,
       {L({1, 1}), L({1, 1}), L({1, 1}), B(false), L({0, 0}), I(5)});
  conv("conv_1x1_f16", {in({1, 8, 5, 5}, f16), in({4, 8, 1, 1}, f16)}, false,
       {L({1, 1}), L({0, 0}), L({1, 1}), B(false), L({0, 0}), I(1)}, f16);
  // bf16: each weight broadcast along a wide row, or packed with channels in lanes, is widened
  // to f32 once beforehand.
  conv("conv_1x1_wide_bf16", {in({1, 8, 20, 40}, bf16), in({16, 8, 1, 1}, bf16)}, false,
       {L({1, 1}), L({0, 0}), L({1, 1}), B(false), L({0, 0}), I(1)}, bf16);
  conv("conv_3x3_bf16", {in({1, 16, 6, 6}, bf16), in({24, 16, 3, 3}, bf16), in({24}, bf16)}, true,
       {L({1, 1}), L({1, 1}), L({1, 1}), B(false), L({0, 0}), I(1)}, bf16);
  conv("conv_depthwise_bf16", {in({1, 8, 30, 30}, bf16), in({8, 1, 3, 3}, bf16)}, false,
       {L({2, 2}), L({1, 1}), L({1, 1}), B(false), L({0, 0}), I(8)}, bf16);
  // Transposed: weight [C, O / groups, KH, KW]; output_padding below the stride or dilation.
  conv("conv_transposed_stride_bias", {in({2, 3, 5, 6}), in({3, 4, 3, 3}), in({4})}, true,
       {L({2, 2}), L({1, 1}), L({1, 1}), B(true), L({1, 0}), I(1)});
  conv("conv_transposed_groups_dilation", {in({1, 4, 6, 5}), in({4, 3, 2, 3})}, false,
       {L({1, 2}), L({0, 2}), L({2, 1}), B(true), L({1, 1}), I(2)});
  conv("conv_1d_stride_dilation", {in({2, 4, 17}), in({6, 2, 3}), in({6})}, true,
       {L({2}), L({1}), L({2}), B(false), L({0}), I(2)});
  conv("conv_transposed_1d", {in({1, 3, 8}), in({3, 5, 4})}, false,
       {L({2}), L({1}), L({1}), B(true), L({1}), I(1)});
  conv("conv_transposed_padding_cuts", {in({1, 2, 4, 4}), in({2, 2, 3, 3})}, false,
       {L({3, 3}), L({3, 3}), L({1, 1}), B(true), L({2, 0}), I(1)});
}

void pooling_cases(Table& t) {
  t.call("max_pool", "aten.max_pool2d_with_indices.default", {in({2, 3, 13, 13})},
         {L({3, 3}), L({2, 2}), L({1, 1}), L({1, 1}), B(false)});
  t.call("max_pool_ceil", "aten.max_pool2d_with_indices.default", {in({1, 2, 10, 9})},
         {L({2, 2}), L({}), L({0, 0}), L({1, 1}), B(true)});
  t.call("max_pool_dilated_3d", "aten.max_pool2d_with_indices.default", {in({3, 11, 11})},
         {L({3, 2}), L({1, 2}), L({1, 0}), L({2, 1}), B(false)});
  t.call("avg_pool_pad", "aten.avg_pool2d.default", {in({2, 3, 13, 13})},
         {L({3, 3}), L({2, 2}), L({1, 1}), B(false), B(true), None});
  t.call("avg_pool_exclude_pad_ceil", "aten.avg_pool2d.default", {in({1, 2, 10, 9})},
         {L({3, 3}), L({2, 2}), L({1, 1}), B(true), B(false), None});
  t.call("avg_pool_divisor", "aten.avg_pool2d.default", {in({1, 2, 8, 8})},
         {L({2, 2}), L({2, 2}), L({0, 0}), B(false), B(true), I(3)});
  t.call("adaptive_avg_pool_uneven", "aten._adaptive_avg_pool2d.default", {in({1, 3, 13, 11})},
         {L({5, 4})});
  t.call("adaptive_avg_pool_even", "aten._adaptive_avg_pool2d.default", {in({2, 3, 8, 8})},
         {L({4, 4})});
  t.call("adaptive_avg_pool_global", "aten._adaptive_avg_pool2d.default", {in({2, 7, 5, 5})},
         {L({1, 1})});
  t.call("adaptive_max_pool_uneven", "aten.adaptive_max_pool2d.default", {in({2, 3, 13, 11})},
         {L({5, 4})});
  t.call("max_pool3d", "aten.max_pool3d_with_indices.default", {in({1, 2, 7, 9, 8})},
         {L({3, 2, 3}), L({2, 2, 1}), L({1, 0, 1}), L({1, 2, 1}), B(true)});
  t.call("avg_pool3d", "aten.avg_pool3d.default", {in({2, 2, 6, 7, 5})},
         {L({3, 2, 3}), L({2, 2, 2}), L({1, 1, 1}), B(true), B(false), None});
  t.call("adaptive_avg_pool3d", "aten._adaptive_avg_pool3d.default", {in({1, 3, 5, 7, 6})},
         {L({2, 3, 4})});
  t.call("adaptive_max_pool3d", "aten.adaptive_max_pool3d.default", {in({3, 5, 7, 6})},
         {L({3, 2, 4})});
}

void indexing_cases(Table& t) {
  t.call("embedding", "aten.embedding.default", {in({31, 16}), in({4, 7}, i64, 0, 31)},
         {I(-1), B(false), B(false)});
  t.add("index_select", "aten.index_select.default", {in({4, 13}), in({5}, i64, 0, 13)},
        [](P p) { return Args{p[0], I(1), p[1]}; });
  t.add("index_select_i32_dim0", "aten.index_select.default", {in({7, 3}), in({9}, i32, 0, 7)},
        [](P p) { return Args{p[0], I(0), p[1]}; });
  t.add("gather", "aten.gather.default", {in({4, 7}), in({4, 5}, i64, 0, 7)},
        [](P p) { return Args{p[0], I(1), p[1], B(false)}; });
  t.add("gather_dim0", "aten.gather.default", {in({6, 3}), in({2, 3}, i64, 0, 6)},
        [](P p) { return Args{p[0], I(-2), p[1], B(false)}; });
  // Indices in [-size, size): negative ones count from the end.
  t.add("index_adjacent", "aten.index.Tensor",
        {in({3, 7, 5, 4}), in({2, 1}, i64, -7, 7), in({3}, i32, -5, 5)},
        [](P p) { return Args{p[0], std::vector<Tensor>{Tensor(), p[1], p[2]}}; });
  t.add("index_separated", "aten.index.Tensor",
        {in({3, 7, 5}), in({4}, i64, -3, 3), in({2, 4}, i64, 0, 5)},
        [](P p) { return Args{p[0], std::vector<Tensor>{p[1], Tensor(), p[2]}}; });
}

}  // namespace

const std::vector<OpCase>& op_cases() {
  static const std::vector<OpCase> cases = [] {
    op_case_table::Table t;
    unary_cases(t);
    binary_cases(t);
    conversion_cases(t);
    reduction_cases(t);
    normalization_cases(t);
    layout_cases(t);
    contraction_cases(t);
    convolution_cases(t);
    pooling_cases(t);
    indexing_cases(t);
    special_function_cases(t);
    whole_tensor_reduction_cases(t);
    scan_cases(t);
    scatter_cases(t);
    view_copy_cases(t);
    pooling_backward_cases(t);
    return t.cases;
  }();
  return cases;
}

PreparedCase prepare_case(const OpCase& c) {
  PreparedCase p;
  uint64_t seed = std::hash<std::string>{}(c.name);
  for (size_t k = 0; k < c.inputs.size(); ++k) {
    const InputSpec& s = c.inputs[k];
    p.placeholders.push_back(placeholder(str_cat("in", k), s.shape, s.dtype, s.strides));
    p.inputs.push_back(HostTensor::random(s.shape, s.dtype, seed + k, s.lo, s.hi, s.strides));
  }
  p.args = c.args(p.placeholders);
  p.outputs = OpRegistry::global().lower(c.op, p.args);
  return p;
}

std::vector<HostTensor> bind_inputs(const PreparedCase& p) {
  std::vector<HostTensor> bound;
  for (auto& t : placeholders_of(p.outputs))
    for (size_t k = 0; k < p.placeholders.size(); ++k)
      if (p.placeholders[k].same_as(t)) bound.push_back(p.inputs[k]);
  return bound;
}

std::string op_case_test_name(size_t index) {
  std::string n = op_cases()[index].name;
  for (char& ch : n)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
}

}  // namespace kiln

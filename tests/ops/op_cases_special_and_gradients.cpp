// Op cases of the special functions, whole-tensor reductions, functional view copies and pooling
// gradients (the table's other families are in op_cases.cpp).
#include "op_case_table.h"

namespace kiln::op_case_table {

void special_function_cases(Table& t) {
  t.call("lgamma_7x13", "aten.lgamma.default", {in({7, 13}, f32, -4.5, 6)});
  t.call("lgamma_f64", "aten.lgamma.default", {in({3, 5}, f64, 0.1, 30)}, {}, f64);
  t.call("lgamma_int", "aten.lgamma.default", {in({9}, i64, 1, 20)});
  t.call("digamma_7x13", "aten.digamma.default", {in({7, 13}, f32, 0.05, 12)});
  t.call("digamma_negative", "aten.digamma.default", {in({5, 9}, f32, -3.9, -0.1)});
  t.call("digamma_bf16", "aten.digamma.default", {in({4, 7}, bf16, 0.5, 6)}, {}, bf16);
  t.call("erfinv_7x13", "aten.erfinv.default", {in({7, 13}, f32, -0.99, 0.99)});
  t.call("erfinv_f64", "aten.erfinv.default", {in({11}, f64, -0.999, 0.999)}, {}, f64);
  // Both sides of the series' switch at |x| = 8, and both signs (i1 and i1e are odd).
  t.call("i0_7x13", "aten.i0.default", {in({7, 13}, f32, -20, 20)});
  t.call("i0e_f64", "aten.special_i0e.default", {in({17}, f64, -30, 30)}, {}, f64);
  t.call("i1_7x13", "aten.special_i1.default", {in({7, 13}, f32, -20, 20)});
  t.call("ndtri_7x13", "aten.special_ndtri.default", {in({7, 13}, f32, 1e-6, 0.999999)});
  t.call("i1e_7x13", "aten.special_i1e.default", {in({7, 13}, f32, -30, 30)});
  for (int64_t n : {0, 1, 2, 3})
    t.add(str_cat("polygamma_", n), "aten.polygamma.default", {in({5, 9}, f32, 0.2, 6)},
          [n](P p) { return Args{I(n), p[0]}; });
  // Between poles: next to one, float trigamma (as eager computes it) loses digits to the pole.
  t.add("polygamma_1_negative", "aten.polygamma.default", {in({13}, f32, -2.7, -2.3)},
        [](P p) { return Args{I(1), p[0]}; });
  t.call("special_zeta", "aten.special_zeta.default",
         {in({4, 7}, f32, 1.5, 4), in({4, 7}, f32, 0.5, 5)});
  t.call("special_zeta_broadcast_f64", "aten.special_zeta.default",
         {in({3, 1}, f64, 2, 3), in({1, 6}, f64, 0.2, 9)}, {}, f64);
  t.call("fmin", "aten.fmin.default", {in({5, 7}), in({7})});
  t.call("fmax_i64", "aten.fmax.default", {in({9}, i64, -9, 9), in({9}, i64, -9, 9)});
}

void whole_tensor_reduction_cases(Table& t) {
  t.call("any_all", "aten.any.default", {in({5, 7}, f32, -0.01, 0.01)});
  t.call("any_dim_bool", "aten.any.dim", {in({6, 5}, b8)}, {I(1), B(false)});
  t.call("any_dims_i64", "aten.any.dims", {in({3, 4, 5}, i64, 0, 2)}, {L({0, 2}), B(true)});
  t.call("max_all", "aten.max.default", {in({5, 7})});
  t.call("min_all_i64", "aten.min.default", {in({4, 9}, i64, -99, 99)});
  t.call("prod_all", "aten.prod.default", {in({3, 5}, f32, 0.5, 1.5)}, {None});
  t.call("argmin_all", "aten.argmin.default", {in({7, 13})}, {None, B(false)});
  t.call("argmin_dim_ties", "aten.argmin.default", {in({4, 9}, i64, 0, 3)}, {I(1), B(true)});
}

void scan_cases(Table& t) {
  t.call("cumsum_last", "aten.cumsum.default", {in({5, 37})}, {I(1), None});
  t.call("cumsum_leading_axis", "aten.cumsum.default", {in({9, 4, 70})}, {I(0), None});
  t.call("cumsum_middle_transposed", "aten.cumsum.default", {strided({3, 11, 4}, {1, 12, 3})},
         {I(-2), None});
  t.call("cumsum_int_to_i64", "aten.cumsum.default", {in({4, 9}, i32, -9, 9)}, {I(1), None});
  t.call("cumsum_bool", "aten.cumsum.default", {in({13}, b8)}, {I(0), None});
  t.call("cumsum_int_as_f32", "aten.cumsum.default", {in({6, 5}, i64, -9, 9)}, {I(0), D(f32)});
  t.call("cumsum_bf16", "aten.cumsum.default", {in({3, 33}, bf16)}, {I(1), None}, bf16);
  t.call("cumsum_rank0", "aten.cumsum.default", {in({}, f64)}, {I(-1), None}, f64);
  t.call("cumprod", "aten.cumprod.default", {in({4, 21}, f32, 0.5, 1.5)}, {I(1), None});
  t.call("cumprod_f64_leading", "aten.cumprod.default", {in({7, 5}, f64, -2, 2)}, {I(0), None},
         f64);
  t.call("cumprod_i64", "aten.cumprod.default", {in({3, 9}, i64, -3, 3)}, {I(1), None});
  t.call("logcumsumexp", "aten.logcumsumexp.default", {in({5, 40}, f32, -30, 30)}, {I(1)});
  t.call("logcumsumexp_leading_f16", "aten.logcumsumexp.default", {in({9, 6}, f16, -4, 4)}, {I(0)},
         f16);
  t.call("cummax", "aten.cummax.default", {in({6, 17})}, {I(1)});
  t.call("cummax_int_ties", "aten.cummax.default", {in({5, 12}, i64, 0, 3)}, {I(1)});
  t.call("cummin_leading", "aten.cummin.default", {in({11, 3, 4})}, {I(0)});
  t.call("cummin_bool", "aten.cummin.default", {in({2, 9}, b8)}, {I(-1)});
}

void view_copy_cases(Table& t) {
  t.call("view_copy", "aten.view_copy.default", {in({4, 6})}, {L({6, 4})});
  t.call("permute_copy", "aten.permute_copy.default", {in({2, 3, 4})}, {L({2, 0, 1})});
  t.call("expand_copy", "aten.expand_copy.default", {in({1, 6})}, {L({3, 6}), B(false)});
  t.call("select_copy", "aten.select_copy.int", {in({4, 6})}, {I(1), I(-2)});
  t.call("slice_copy", "aten.slice_copy.Tensor", {in({4, 6})}, {I(1), I(1), I(5), I(2)});
  t.call("squeeze_copy_dim", "aten.squeeze_copy.dim", {in({4, 1, 6})}, {I(1)});
  t.call("squeeze_copy_dims", "aten.squeeze_copy.dims", {in({1, 4, 1})}, {L({0, 2})});
  t.call("unsqueeze_copy", "aten.unsqueeze_copy.default", {in({4, 6})}, {I(-1)});
  t.call("t_copy", "aten.t_copy.default", {strided({4, 6}, {1, 4})});
  t.call("transpose_copy", "aten.transpose_copy.int", {in({2, 3, 4})}, {I(0), I(2)});
  t.call("diagonal_copy", "aten.diagonal_copy.default", {in({5, 6})}, {I(1), I(0), I(1)});
  t.call("unfold_copy", "aten.unfold_copy.default", {in({4, 9})}, {I(1), I(3), I(2)});
  t.call("split_copy", "aten.split_copy.Tensor", {in({4, 6})}, {I(4), I(1)});
  t.call("split_with_sizes_copy", "aten.split_with_sizes_copy.default", {in({4, 6})},
         {L({2, 4}), I(1)});
  t.call("alias_copy", "aten.alias_copy.default", {in({3, 5})});
}

void pooling_backward_cases(Table& t) {
  // Indices must name positions inside their window (eager's come from the forward): a window
  // as large as the input takes any.
  t.add("max_pool2d_backward_global", "aten.max_pool2d_with_indices_backward.default",
        {in({2, 3, 1, 1}), in({2, 3, 4, 5}), in({2, 3, 1, 1}, i64, 0, 20)}, [](P p) {
          return Args{p[0], p[1], L({4, 5}), L({4, 5}), L({0, 0}), L({1, 1}), B(false), p[2]};
        });
  t.add("max_pool3d_backward_global", "aten.max_pool3d_with_indices_backward.default",
        {in({1, 2, 1, 1, 1}), in({1, 2, 3, 4, 5}), in({1, 2, 1, 1, 1}, i64, 0, 60)}, [](P p) {
          return Args{p[0],         p[1],         L({3, 4, 5}), L({3, 4, 5}),
                      L({0, 0, 0}), L({1, 1, 1}), B(false),     p[2]};
        });
  t.add("avg_pool2d_backward", "aten.avg_pool2d_backward.default",
        {in({2, 3, 4, 3}), in({2, 3, 7, 6})}, [](P p) {
          return Args{p[0], p[1], L({3, 3}), L({2, 2}), L({1, 1}), B(false), B(true), None};
        });
  t.add("avg_pool2d_backward_exclude_pad", "aten.avg_pool2d_backward.default",
        {in({3, 4, 4}), in({3, 7, 7})}, [](P p) {
          return Args{p[0], p[1], L({3, 3}), L({2, 2}), L({1, 1}), B(true), B(false), None};
        });
  t.add("avg_pool3d_backward_divisor", "aten.avg_pool3d_backward.default",
        {in({1, 2, 3, 3, 4}), in({1, 2, 5, 4, 6})}, [](P p) {
          return Args{p[0],         p[1],     L({2, 2, 2}), L({2, 2, 2}),
                      L({1, 1, 1}), B(false), B(true),      I(5)};
        });
  t.call("adaptive_max_pool2d_backward_global", "aten.adaptive_max_pool2d_backward.default",
         {in({2, 3, 1, 1}), in({2, 3, 4, 5}), in({2, 3, 1, 1}, i64, 0, 20)});
  t.call("adaptive_max_pool3d_backward_global", "aten.adaptive_max_pool3d_backward.default",
         {in({2, 1, 1, 1}), in({2, 3, 2, 4}), in({2, 1, 1, 1}, i64, 0, 24)});
  t.call("adaptive_avg_pool2d_backward", "aten._adaptive_avg_pool2d_backward.default",
         {in({2, 3, 3, 4}), in({2, 3, 7, 5})});
  t.call("adaptive_avg_pool3d_backward_widening", "aten._adaptive_avg_pool3d_backward.default",
         {in({1, 2, 2, 6, 2}), in({1, 2, 5, 4, 3})});
}

}  // namespace kiln::op_case_table

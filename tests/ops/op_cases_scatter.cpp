// The cases of the ops that write at indices read from data (core/ops/scatters.cpp). Random
// indices repeat, so every case also checks what duplicates give: the last write for a copy,
// every value combined, in ATen's order, for a reduction.
#include "op_case_table.h"

namespace kiln::op_case_table {

void scatter_cases(Table& t) {
  t.add("scatter_src", "aten.scatter.src", {in({5, 7}), in({4, 5}, i64, 0, 7), in({4, 6})},
        [](P p) { return Args{p[0], I(1), p[1], p[2]}; });
  t.add("scatter_src_dim0_duplicates", "aten.scatter.src",
        {in({6, 3}), in({8, 3}, i64, 0, 6), in({8, 3})},
        [](P p) { return Args{p[0], I(0), p[1], p[2]}; });
  t.add("scatter_value_i32_index", "aten.scatter.value", {in({4, 6}), in({4, 3}, i32, 0, 6)},
        [](P p) { return Args{p[0], I(-1), p[1], F(2.5)}; });
  t.add("scatter_reduce_multiply", "aten.scatter.reduce",
        {in({5, 4}), in({7, 4}, i64, 0, 5), in({7, 4}, f32, 0.5, 1.5)},
        [](P p) { return Args{p[0], I(0), p[1], p[2], S("multiply")}; });
  t.add("scatter_value_reduce_add", "aten.scatter.value_reduce",
        {in({3, 5}, i64, -9, 9), in({3, 8}, i64, 0, 5)},
        [](P p) { return Args{p[0], I(1), p[1], I(4), S("add")}; });
  t.add("scatter_add", "aten.scatter_add.default",
        {in({5, 4, 3}), in({9, 4, 2}, i64, 0, 5), in({9, 4, 3})},
        [](P p) { return Args{p[0], I(0), p[1], p[2]}; });
  // 37 columns: chunks of 16 lanes with a guarded tail.
  t.add("scatter_add_wide_rows", "aten.scatter_add.default",
        {in({5, 37}), in({7, 37}, i64, 0, 5), in({7, 37})},
        [](P p) { return Args{p[0], I(0), p[1], p[2]}; });
  t.add("scatter_add_transposed_self", "aten.scatter_add.default",
        {strided({6, 5}, {1, 6}), in({6, 9}, i64, 0, 5), in({6, 9})},
        [](P p) { return Args{p[0], I(1), p[1], p[2]}; });
  t.add(
      "scatter_add_bf16", "aten.scatter_add.default",
      {in({4, 6}, bf16), in({4, 12}, i64, 0, 6), in({4, 12}, bf16)},
      [](P p) { return Args{p[0], I(1), p[1], p[2]}; }, bf16);
  t.add("scatter_add_i64", "aten.scatter_add.default",
        {in({3, 5}, i64, -50, 50), in({3, 9}, i64, 0, 5), in({3, 9}, i64, -50, 50)},
        [](P p) { return Args{p[0], I(1), p[1], p[2]}; });
  for (const char* reduce : {"sum", "prod", "mean", "amax", "amin"})
    for (bool include_self : {true, false})
      t.add(str_cat("scatter_reduce_", reduce, include_self ? "" : "_without_self"),
            "aten.scatter_reduce.two",
            {in({6, 4}, f32, 0.5, 1.5), in({9, 4}, i64, 0, 6), in({9, 4}, f32, 0.5, 1.5)},
            [reduce, include_self](P p) {
              return Args{p[0], I(0), p[1], p[2], S(reduce), B(include_self)};
            });
  t.add("scatter_reduce_mean_i64_floors", "aten.scatter_reduce.two",
        {in({5, 3}, i64, -20, 20), in({7, 3}, i64, 0, 5), in({7, 3}, i64, -20, 20)},
        [](P p) { return Args{p[0], I(0), p[1], p[2], S("mean"), B(false)}; });

  t.add("scatter_add_rank0", "aten.scatter_add.default", {in({}), in({}, i64, 0, 1), in({})},
        [](P p) { return Args{p[0], I(-1), p[1], p[2]}; });
  t.add("scatter_reduce_amax_rank0", "aten.scatter_reduce.two", {in({}), in({}, i64, 0, 1), in({})},
        [](P p) { return Args{p[0], I(0), p[1], p[2], S("amax"), B(false)}; });
  t.add("index_add_rank0", "aten.index_add.default", {in({}), in({1}, i64, 0, 1), in({})},
        [](P p) { return Args{p[0], I(0), p[1], p[2], F(2.0)}; });
  // Flat indices, negative ones from the end; the source read in its own row-major order.
  t.add("put", "aten.put.default", {in({4, 5}), in({3, 2}, i64, -20, 20), in({2, 3})},
        [](P p) { return Args{p[0], p[1], p[2], B(false)}; });
  t.add("put_accumulate_rank0_source", "aten.put.default",
        {in({3, 2, 2}), in({7}, i64, -12, 12), in({7})},
        [](P p) { return Args{p[0], p[1], p[2], B(true)}; });
  // The mask broadcast over rows; source larger than self, read in row-major order.
  t.call("masked_scatter", "aten.masked_scatter.default", {in({4, 6}), in({6}, b8), in({5, 7})});
  t.add("masked_scatter_backward", "aten.masked_scatter_backward.default",
        {in({3, 5}), in({3, 5}, b8)}, [](P p) { return Args{p[0], p[1], L({4, 5})}; });
  t.add("index_put", "aten.index_put.default", {in({6, 5}), in({4}, i64, -6, 6), in({4, 5})},
        [](P p) { return Args{p[0], std::vector<Tensor>{p[1]}, p[2], B(false)}; });
  t.add("index_put_accumulate_broadcast", "aten.index_put.default",
        {in({6, 5}), in({9}, i64, -6, 6), in({5})},
        [](P p) { return Args{p[0], std::vector<Tensor>{p[1]}, p[2], B(true)}; });
  t.add("index_put_accumulate_rows", "aten.index_put.default",
        {in({6, 40}), in({9}, i64, 0, 6), in({9, 40})},
        [](P p) { return Args{p[0], std::vector<Tensor>{p[1]}, p[2], B(true)}; });
  t.add("index_put_separated", "aten.index_put.default",
        {in({3, 7, 5}), in({4}, i64, -3, 3), in({2, 4}, i32, 0, 5), in({2, 4, 7})},
        [](P p) { return Args{p[0], std::vector<Tensor>{p[1], Tensor(), p[2]}, p[3], B(true)}; });
  t.add("index_add", "aten.index_add.default", {in({6, 4}), in({9}, i64, 0, 6), in({9, 4})},
        [](P p) { return Args{p[0], I(0), p[1], p[2], F(1.0)}; });
  t.add("index_add_alpha_dim1", "aten.index_add.default",
        {in({3, 5}), in({7}, i32, 0, 5), in({3, 7})},
        [](P p) { return Args{p[0], I(1), p[1], p[2], F(2.5)}; });
  t.add("index_copy", "aten.index_copy.default", {in({4, 8}), in({3}, i64, 0, 8), in({4, 3})},
        [](P p) { return Args{p[0], I(1), p[1], p[2]}; });
  t.add("index_fill_negative", "aten.index_fill.int_Scalar", {in({5, 6}), in({4}, i64, -6, 6)},
        [](P p) { return Args{p[0], I(1), p[1], F(-3.0)}; });
  t.add("index_fill_tensor_value", "aten.index_fill.int_Tensor",
        {in({5, 6}), in({2}, i64, 0, 5), in({})}, [](P p) { return Args{p[0], I(0), p[1], p[2]}; });
  for (const char* reduce : {"prod", "mean", "amax", "amin"})
    t.add(str_cat("index_reduce_", reduce), "aten.index_reduce.default",
          {in({5, 3}, f32, 0.5, 1.5), in({8}, i64, 0, 5), in({8, 3}, f32, 0.5, 1.5)},
          [reduce](P p) { return Args{p[0], I(0), p[1], p[2], S(reduce), B(false)}; });
}

}  // namespace kiln::op_case_table

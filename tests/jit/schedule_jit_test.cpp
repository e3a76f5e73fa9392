// Hand-written schedules through lowering and the LLVM backend, each checked against the
// interpreter: guards of non-dividing splits, reductions accumulated through the output,
// partial compute_at regions, rfactor tails, scratch buffers.
#include <limits>
#include <tuple>

#include "core/ops/op_registry.h"
#include "tests/jit/jit_harness.h"
#include "tests/schedule/sample_schedules.h"

namespace kiln {
namespace {

using testing::expect_matches_interpreter;
using testing::random_inputs;

Tensor matmul(int64_t m, int64_t n, int64_t k) {
  Tensor A = placeholder("A", {m, k}, DType::F32), B = placeholder("B", {k, n}, DType::F32);
  IterVar r = reduce_axis(k, "k");
  return compute("C", {m, n}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, A(i[0], r.var) * B(r.var, i[1]), {r});
  });
}

Target host() {
  return testing::compiler().target();
}

TEST(ScheduleJit, DefaultMatmulPrimeSizes) {
  Tensor c = matmul(13, 17, 19);
  expect_matches_interpreter(default_schedule({c}, host()), random_inputs({c}, 1), "mm 13x17x19",
                             1e-4, 1e-4);
}

TEST(ScheduleJit, DefaultMatmulTiled) {
  Tensor c = matmul(64, 96, 40);
  expect_matches_interpreter(default_schedule({c}, host()), random_inputs({c}, 2), "mm 64x96x40",
                             1e-4, 1e-4);
}

TEST(ScheduleJit, ReductionThroughOutput) {
  // Reduce loops outside a spatial loop: partial sums pass through C.
  Tensor c = matmul(10, 12, 30);
  Schedule s({c});
  auto [io, ii] = s.split("s0", "i0", 4);
  auto [ko, ki] = s.split("s0", "r0", 7);
  s.reorder("s0", {io, ko, "i1", ki, ii});
  s.unroll("s0", ii);
  s.parallel("s0", io);
  expect_matches_interpreter(s, random_inputs({c}, 3), "mm through output", 1e-4, 1e-4);
}

TEST(ScheduleJit, FusedAndVectorizedWithTail) {
  Tensor x = placeholder("x", {7, 11}, DType::F32, {1, 7});  // transposed input
  Tensor y = compute("y", {7, 11}, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Tanh, x(i[0], i[1])) * 3.0;
  });
  Schedule s({y});
  std::string f = s.fuse("s0", "i0", "i1");
  auto [o, in] = s.split("s0", f, 16);
  s.parallel("s0", o);
  s.vectorize("s0", in);
  expect_matches_interpreter(s, random_inputs({y}, 4), "fused tanh");
}

TEST(ScheduleJit, ComputeAtPartialRegion) {
  Schedule s = sample_schedules::compute_at_partial_region();
  expect_matches_interpreter(s, random_inputs(s.outputs(), 5), "compute_at region");
}

TEST(ScheduleJit, RFactorWithTail) {
  Schedule s = sample_schedules::rfactor_with_tail();
  expect_matches_interpreter(s, random_inputs(s.outputs(), 6), "rfactor tail", 1e-5, 1e-5);
}

TEST(ScheduleJit, VectorAccumulatorOfASourceThatIgnoresTheVectorAxis) {
  // y[i, j] = sum_k x[i, k] for every j, vectorized over j: each step adds one scalar to a
  // vector of accumulators (the scalar is broadcast, not added to a vector as is).
  Tensor x = placeholder("x", {4, 9}, DType::F32);
  IterVar r = reduce_axis(9, "r");
  for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min}) {
    Tensor y = compute("y", {4, 16},
                       [&](const std::vector<Var>& i) { return reduce(op, x(i[0], r.var), {r}); });
    Schedule s({y});
    s.reorder("s0", {"i0", "r0", "i1"});
    s.vectorize("s0", "i1");
    expect_matches_interpreter(s, random_inputs({y}, 7), str_cat("broadcast ", op), 1e-5, 1e-5);
  }
}

TEST(ScheduleJit, ArgMaxWithSplitReduction) {
  Tensor x = placeholder("x", {5, 37}, DType::F32);
  IterVar r = reduce_axis(37, "r");
  Tensor a = compute("argmax", {5}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::ArgMax, x(i[0], r.var), {r});
  });
  Schedule s({a});
  auto [ro, ri] = s.split("s0", "r0", 8);
  s.parallel("s0", "i0");
  expect_matches_interpreter(s, random_inputs({a}, 7), "argmax split");
}

TEST(ScheduleJit, ColumnReductionDefault) {
  Tensor x = placeholder("x", {33, 40}, DType::F32);
  IterVar r = reduce_axis(33, "r");
  Tensor s_ = compute("colsum", {40}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(r.var, i[0]), {r});
  });
  expect_matches_interpreter(default_schedule({s_}, host()), random_inputs({s_}, 8), "column sum",
                             1e-5, 1e-5);
}

TEST(ScheduleJit, GlobalScratchForWholeTensorReduction) {
  // out = x - mean(x): the mean is needed whole before any output, so it lives in scratch.
  Tensor x = placeholder("x", {9, 21}, DType::F32);
  IterVar r0 = reduce_axis(9, "r0"), r1 = reduce_axis(21, "r1");
  Tensor total = compute("total", {}, [&](const std::vector<Var>&) {
    return reduce(ReduceOp::Sum, x(r0.var, r1.var), {r0, r1});
  });
  Tensor out = compute("out", {9, 21}, [&](const std::vector<Var>& i) {
    return x(i[0], i[1]) - total.load({}) / 189.0;
  });
  expect_matches_interpreter(default_schedule({out}, host()), random_inputs({out}, 9), "centered",
                             1e-5, 1e-5);
}

}  // namespace
}  // namespace kiln

namespace kiln {
namespace {

std::vector<Tensor> aten(const std::string& name, const std::vector<OpArg>& args) {
  return OpRegistry::global().lower(name, args);
}

// Regressions found by the plugin's training tests: groups with several outputs around a
// reduction, column reductions under views, reductions to a scalar.
TEST(ScheduleJitRegression, ReductionWithSeveralElementwiseOutputs) {
  Tensor x = placeholder("x", {2, 16, 64}, DType::F32),
         mean = placeholder("mean", {2, 16, 1}, DType::F32);
  Tensor rstd = placeholder("rstd", {2, 16, 1}, DType::F32),
         grad = placeholder("grad", {2, 16, 64}, DType::F32);
  Tensor w = placeholder("w", {64}, DType::F32);
  Tensor mul2 =
      aten("aten.mul.Tensor", {aten("aten.sub.Tensor", {x, mean, int64_t{1}})[0], rstd})[0];
  Tensor mul3 = aten("aten.mul.Tensor", {grad, w})[0];
  Tensor sum = aten("aten.sum.dim_IntList", {mul3, std::vector<int64_t>{2}, true, NoneArg{}})[0];
  Tensor mul4 = aten("aten.mul.Tensor", {mul3, mul2})[0];
  Tensor mul5 = aten("aten.mul.Tensor", {grad, mul2})[0];
  std::vector<Tensor> outs{mul2, mul3, sum, mul4, mul5};
  testing::expect_matches_interpreter(default_schedule(outs, host()),
                                      testing::random_inputs(outs, 21),
                                      "layer_norm backward pieces", 1e-4, 1e-4);
}

TEST(ScheduleJitRegression, ColumnSumUnderAView) {
  Tensor t = placeholder("t", {8, 10}, DType::F32);
  Tensor s = aten("aten.sum.dim_IntList", {t, std::vector<int64_t>{0}, true, NoneArg{}})[0];
  Tensor v = aten("aten.view.default", {s, std::vector<int64_t>{-1}})[0];
  Tensor t2 = aten("aten.mul.Tensor", {t, t})[0];
  std::vector<Tensor> outs{v, t2};
  testing::expect_matches_interpreter(default_schedule(outs, host()),
                                      testing::random_inputs(outs, 22), "bias grad", 1e-4, 1e-4);
}

TEST(ScheduleJitRegression, CastThenSumToScalar) {
  Tensor x = placeholder("x", {5, 1}, DType::I64);
  Tensor f = aten("aten._to_copy.default",
                  {x, DType::F32, NoneArg{}, NoneArg{}, NoneArg{}, false, NoneArg{}})[0];
  std::vector<Tensor> outs = aten("aten.sum.default", {f, NoneArg{}});
  testing::expect_matches_interpreter(default_schedule(outs, host()),
                                      testing::random_inputs(outs, 23), "sum of a cast", 1e-5,
                                      1e-5);
}

// Row reductions combine their rfactor partials as a reassociated tree: a NaN or an infinity in
// any lane must still reach the row's result, and softmax must still be NaN on a NaN row.
TEST(ScheduleJitRegression, TreeCombinedReductionsKeepNaNAndInf) {
  const int64_t rows = 4, cols = 1024;
  auto with_specials = [&](std::vector<HostTensor> inputs) {
    inputs[0].set_flat(1 * cols + 613, std::numeric_limits<double>::quiet_NaN());
    inputs[0].set_flat(2 * cols + 77, std::numeric_limits<double>::infinity());
    inputs[0].set_flat(3 * cols + 1000, -std::numeric_limits<double>::infinity());
    return inputs;
  };
  for (const char* name : {"aten.amax.default", "aten.amin.default", "aten.sum.dim_IntList"}) {
    SCOPED_TRACE(name);
    Tensor x = placeholder("x", {rows, cols}, DType::F32);
    std::vector<Tensor> outs = std::string(name) == "aten.sum.dim_IntList"
                                   ? aten(name, {x, std::vector<int64_t>{1}, false, NoneArg{}})
                                   : aten(name, {x, std::vector<int64_t>{1}, false});
    testing::expect_matches_interpreter(default_schedule(outs, host()),
                                        with_specials(testing::random_inputs(outs, 24)), name, 1e-4,
                                        1e-4);
  }
  Tensor x = placeholder("x", {rows, cols}, DType::F32);
  std::vector<Tensor> softmax = aten("aten._softmax.default", {x, int64_t{-1}, false});
  testing::expect_matches_interpreter(default_schedule(softmax, host()),
                                      with_specials(testing::random_inputs(softmax, 25)),
                                      "softmax with NaN and inf rows");
}

// A reduction over 16-bit floats accumulates in f32: 4096 bf16 ones summed in bf16 stop at 256
// (256 + 1 rounds back to 256), in f32 they reach 4096 (a bf16 value), with or without the
// default schedule's partial sums.
TEST(ScheduleJitRegression, SixteenBitReductionsAccumulateInF32) {
  const int64_t cols = 4096;
  Tensor x = placeholder("x", {2, cols}, DType::BF16);
  IterVar r = reduce_axis(cols, "k");
  Tensor sum = compute("sum", {2}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, x(i[0], r.var), {r});
  });
  HostTensor ones = HostTensor::random({2, cols}, DType::BF16, 1, 1, 1);
  for (const Schedule& s : {Schedule({sum}), default_schedule({sum}, host())}) {
    std::vector<HostTensor> got = testing::run_compiled(s, {ones});
    EXPECT_EQ(got[0].get({0}), 4096);
    EXPECT_EQ(got[0].get({1}), 4096);
  }
}

// A copy in panels: the last panel's columns past the source are zeros the tile never stores.
TEST(ScheduleJit, PanelPackedOperandsWithATailPanel) {
  for (int64_t panel : {4, 8, 16}) {
    // x @ w.T as a Linear layer reads it: w [21, 7] with strided columns.
    Tensor x = placeholder("x", {9, 7}, DType::F32), w = placeholder("w", {21, 7}, DType::F32);
    IterVar r = reduce_axis(7, "k");
    Tensor y = compute("y", {9, 21}, [&](const std::vector<Var>& i) {
      return reduce(ReduceOp::Sum, x(i[0], r.var) * w(i[1], r.var), {r});
    });
    Schedule s({y});
    std::string copy = s.cache_read("s0", 1, {1, 0}, panel);
    s.vectorize(copy, s.stage(copy).loops.back().name);
    auto [o, i] = s.split("s0", "i1", panel);
    s.reorder("s0", {"i0", o, "r0", i});
    s.vectorize("s0", i);
    expect_matches_interpreter(s, random_inputs({y}, 32), str_cat("panels of ", panel), 1e-4, 1e-4);
  }
}

// Packed weights of Linear layers (cache_read + register tiles), at sizes that leave tails in
// both transpose blocks and tiles, plain and batched (attention's q @ k.T).
TEST(ScheduleJit, PackedTransposedOperands) {
  for (auto [m, n, k] : {std::tuple{37, 23, 19}, std::tuple{64, 48, 32}, std::tuple{130, 17, 64}}) {
    Tensor x = placeholder("x", {m, k}, DType::F32), w = placeholder("w", {n, k}, DType::F32);
    std::vector<Tensor> y = aten(
        "aten.mm.default", {x, aten("aten.permute.default", {w, std::vector<int64_t>{1, 0}})[0]});
    expect_matches_interpreter(default_schedule(y, host()), random_inputs(y, 30), "linear", 1e-4,
                               1e-4);
  }
  Tensor q = placeholder("q", {3, 40, 16}, DType::F32),
         kt = placeholder("k", {3, 40, 16}, DType::F32);
  std::vector<Tensor> s =
      aten("aten.bmm.default",
           {q, aten("aten.permute.default", {kt, std::vector<int64_t>{0, 2, 1}})[0]});
  expect_matches_interpreter(default_schedule(s, host()), random_inputs(s, 31), "q @ k.T", 1e-4,
                             1e-4);
}

}  // namespace
}  // namespace kiln

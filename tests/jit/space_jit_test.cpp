// Property test of the schedule spaces: random points of each workload's space lower and compile
// to kernels that equal the interpreter. Also the space's own bookkeeping.
#include <algorithm>
#include <random>

#include "core/support/error.h"
#include "core/tune/space.h"
#include "tests/jit/jit_harness.h"
#include "tests/ops/op_cases.h"

namespace kiln {
namespace {

struct Workload {
  std::string name;
  std::function<std::vector<Tensor>()> build;
  double tolerance;
};

std::vector<Tensor> op(const std::string& name, const std::vector<OpArg>& args) {
  return OpRegistry::global().lower(name, args);
}

/// A 2-D convolution of x by w (with a bias of w's output channels when `bias`), stride and
/// padding the same along both axes, in `groups` groups.
std::vector<Tensor> conv2d(std::vector<int64_t> x, std::vector<int64_t> w, bool bias,
                           int64_t stride, int64_t pad, int64_t groups = 1) {
  OpArg b = bias ? OpArg(placeholder("b", {w[0]}, DType::F32)) : OpArg(NoneArg{});
  return op("aten.convolution.default",
            {placeholder("x", x, DType::F32), placeholder("w", w, DType::F32), b,
             std::vector<int64_t>{stride, stride}, std::vector<int64_t>{pad, pad},
             std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, groups});
}

/// Inference batch norm of `x` (per channel: mean, var, weight, bias) then ReLU6.
std::vector<Tensor> batch_norm_relu6(const Tensor& x) {
  auto channel = [&](const char* name) { return placeholder(name, {x->shape[1]}, DType::F32); };
  Tensor y =
      op("aten._native_batch_norm_legit_no_training.default",
         {x, channel("gamma"), channel("beta"), channel("mean"), channel("var"), 0.1, 1e-5})[0];
  return op("aten.hardtanh.default", {y, 0.0, 6.0});
}

std::vector<Workload> workloads() {
  auto f32 = [](std::vector<int64_t> shape) { return placeholder("x", shape, DType::F32); };
  return {
      {"matmul_prime", [=] { return op("aten.mm.default", {f32({37, 29}), f32({29, 50})}); }, 1e-4},
      {"matmul_tiled", [=] { return op("aten.mm.default", {f32({64, 256}), f32({256, 96})}); },
       1e-4},
      {"addmm_gelu",
       [=] {
         Tensor h = op("aten.addmm.default",
                       {f32({48}), f32({20, 33}), f32({33, 48}), int64_t{1}, int64_t{1}})[0];
         return op("aten.gelu.default", {h, std::string("none")});
       },
       1e-4},
      {"linear_transposed_weight",
       [=] {
         // x @ W.T + b with W stored [out, in]: the weight is read transposed (dot products).
         Tensor wt = placeholder("w", {64, 40}, DType::F32, {1, 64});
         return op("aten.addmm.default", {f32({40}), f32({24, 64}), wt, int64_t{1}, int64_t{1}});
       },
       1e-4},
      {"matmul_k_blocks_with_tails",
       // k blocks (32..256) that do not divide 300, tiles that do not divide 37 or 50.
       [=] { return op("aten.mm.default", {f32({37, 300}), f32({300, 50})}); }, 1e-3},
      // B past the L2 (1.2 MB) is packed in panels of the register tile, the last one partial.
      {"matmul_panels", [=] { return op("aten.mm.default", {f32({64, 300}), f32({300, 1000})}); },
       1e-3},
      {"bmm", [=] { return op("aten.bmm.default", {f32({3, 17, 24}), f32({3, 24, 40})}); }, 1e-4},
      {"conv_bias", [] { return conv2d({1, 8, 14, 14}, {16, 8, 3, 3}, true, 1, 1); }, 1e-4},
      // Stride 2 over odd sizes, no bias: output channels in lanes read broadcasts.
      {"conv_strided", [] { return conv2d({1, 6, 15, 13}, {20, 6, 3, 3}, false, 2, 1); }, 1e-4},
      // 16 x 3 x 3 input channels and 32 output channels: the packed weight is whole 16 x 16
      // squares, transposed in registers.
      {"conv_weight_in_squares", [] { return conv2d({1, 16, 9, 9}, {32, 16, 3, 3}, true, 2, 1); },
       1e-4},
      // Many output pixels (packed weight preferred) and a kernel wider than the padding.
      {"conv_7x7_wide", [] { return conv2d({2, 3, 20, 24}, {8, 3, 7, 7}, true, 1, 3); }, 1e-4},
      // Few pixels in partial vectors: output channels in lanes (48: a tail tile), the weight
      // larger than the input, so its panel loop outermost.
      {"conv_pointwise_few_pixels",
       [] { return conv2d({1, 40, 7, 7}, {48, 40, 1, 1}, true, 1, 0); }, 1e-4},
      // Four channels per group in rows 30 wide: rows along the height where masks are cheap.
      {"grouped_long_rows", [] { return conv2d({1, 16, 5, 30}, {16, 4, 3, 3}, false, 1, 1, 4); },
       1e-4},
      // Depthwise: rows along the height, rows over channels, or channels in lanes with the
      // input packed too; odd sizes leave tails everywhere.
      {"depthwise", [] { return conv2d({1, 12, 13, 11}, {12, 1, 3, 3}, true, 1, 1, 12); }, 1e-4},
      {"depthwise_strided", [] { return conv2d({1, 12, 15, 13}, {12, 1, 3, 3}, false, 2, 1, 12); },
       1e-4},
      // Two output channels per group of four input channels.
      {"grouped", [] { return conv2d({1, 8, 9, 10}, {4, 4, 3, 3}, false, 1, 1, 2); }, 1e-4},
      // MobileNet's block at batch 1: the epilogue reads the convolution at 0 along the batch.
      {"depthwise_batch_norm_relu6",
       [] { return batch_norm_relu6(conv2d({1, 16, 10, 10}, {16, 1, 3, 3}, false, 1, 1, 16)[0]); },
       1e-4},
      // A global average pool: 7x7 fuses into one reduce axis of 49, vectors with a tail.
      {"mean_pool_7x7",
       [=] {
         return op("aten.mean.dim",
                   {f32({2, 24, 7, 7}), std::vector<int64_t>{-1, -2}, true, NoneArg{}});
       },
       1e-5},
      {"softmax", [=] { return op("aten._softmax.default", {f32({7, 256}), int64_t{-1}, false}); },
       1e-5},
      {"layer_norm",
       [=] {
         return op("aten.native_layer_norm.default",
                   {f32({9, 128}), std::vector<int64_t>{128}, f32({128}), f32({128}), 1e-5});
       },
       1e-4},
      {"gelu_long", [=] { return op("aten.gelu.default", {f32({3 * 4096}), std::string("tanh")}); },
       1e-5},
      {"column_max_of_negatives",
       [=] {
         // Tail lanes of the column tile read nothing: were a live lane's load masked to 0,
         // the max of these all-negative columns would come out 0.
         Tensor shifted = op("aten.sub.Scalar", {f32({33, 80}), 10.0, int64_t{1}})[0];
         return op("aten.amax.default", {shifted, std::vector<int64_t>{0}, false});
       },
       1e-5},
      {"column_sum",
       [=] {
         return op("aten.sum.dim_IntList",
                   {f32({33, 80}), std::vector<int64_t>{0}, false, NoneArg{}});
       },
       1e-4},
  };
}

class SpaceJit : public ::testing::TestWithParam<size_t> {};

TEST_P(SpaceJit, RandomPointsMatchInterpreter) {
  const Workload w = workloads()[GetParam()];
  std::vector<Tensor> outputs = w.build();
  ScheduleSpace space(outputs, testing::compiler().target());
  ASSERT_FALSE(space.knobs().empty()) << w.name;
  auto inputs = testing::random_inputs(outputs, 11);
  std::mt19937_64 rng(GetParam());
  testing::expect_matches_interpreter(space.apply(space.default_config()), inputs,
                                      w.name + " default", w.tolerance, w.tolerance);
  for (int trial = 0; trial < 6; ++trial) {
    KnobConfig c = space.random_config(rng);
    testing::expect_matches_interpreter(space.apply(c), inputs, w.name + " [" + c.to_text() + "]",
                                        w.tolerance, w.tolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Workloads, SpaceJit, ::testing::Range<size_t>(0, workloads().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           return workloads()[info.param].name;
                         });

TEST(SpaceJit, EveryLayoutOfADepthwiseConvolutionMatchesInterpreter) {
  for (int64_t stride : {1, 2}) {
    std::vector<Tensor> outputs = conv2d({1, 16, 15, 13}, {16, 1, 3, 3}, true, stride, 1, 16);
    ScheduleSpace space(outputs, testing::compiler().target());
    auto inputs = testing::random_inputs(outputs, 5);
    KnobConfig c = space.default_config();
    auto layout = std::find_if(c.values.begin(), c.values.end(), [](const auto& knob) {
      return knob.first.ends_with(".grouped_layout");
    });
    ASSERT_NE(layout, c.values.end()) << c.to_text();
    for (int64_t value : {0, 1, 2}) {
      layout->second = value;
      testing::expect_matches_interpreter(
          space.apply(c), inputs, str_cat("stride ", stride, " [", c.to_text(), "]"), 1e-4, 1e-4);
    }
  }
}

TEST(Space, DefaultConfigIsTheDefaultSchedule) {
  std::vector<Tensor> outs = op("aten.mm.default", {placeholder("a", {64, 64}, DType::F32),
                                                    placeholder("b", {64, 64}, DType::F32)});
  ScheduleSpace space(outs, testing::compiler().target());
  EXPECT_EQ(space.apply(space.default_config()).trace(),
            default_schedule(outs, testing::compiler().target()).trace());
  EXPECT_GT(space.size(), 100);
  for (auto& n : space.neighbors(space.default_config()))
    EXPECT_EQ(n.values.size(), space.default_config().values.size());
}

TEST(Space, IsAProductSpace) {
  // Every point asks the same knobs with the same candidates, whatever the other choices.
  for (auto& w : workloads()) {
    std::vector<Tensor> outs = w.build();
    ScheduleSpace space(outs, testing::compiler().target());
    std::mt19937_64 rng(3);
    for (int trial = 0; trial < 20; ++trial) {
      KnobChooser chooser(space.random_config(rng));
      template_schedule(outs, testing::compiler().target(), chooser);
      ASSERT_EQ(chooser.knobs().size(), space.knobs().size()) << w.name;
      for (size_t k = 0; k < space.knobs().size(); ++k) {
        EXPECT_EQ(chooser.knobs()[k].name, space.knobs()[k].name) << w.name;
        EXPECT_EQ(chooser.knobs()[k].values, space.knobs()[k].values)
            << w.name << " " << space.knobs()[k].name;
      }
    }
  }
}

TEST(Space, NearestTakesAForeignConfigIntoThisSpace) {
  auto mm = [](int64_t m, int64_t n, int64_t k) {
    return op("aten.mm.default",
              {placeholder("a", {m, k}, DType::F32), placeholder("b", {k, n}, DType::F32)});
  };
  ScheduleSpace here(mm(37, 50, 29), testing::compiler().target());
  ScheduleSpace there(mm(256, 256, 256), testing::compiler().target());
  EXPECT_EQ(here.nearest({}), here.default_config());
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    KnobConfig foreign = there.random_config(rng);
    foreign.values["s9.not_a_knob_here"] = 3;
    KnobConfig c = here.nearest(foreign);
    ASSERT_EQ(c.values.size(), here.knobs().size());
    for (const Knob& k : here.knobs()) {
      int64_t v = c.values.at(k.name);
      ASSERT_NE(std::find(k.values.begin(), k.values.end(), v), k.values.end())
          << k.name << "=" << v;
      auto wanted = foreign.values.find(k.name);
      bool available =
          wanted != foreign.values.end() &&
          std::find(k.values.begin(), k.values.end(), wanted->second) != k.values.end();
      if (available) {
        EXPECT_EQ(v, wanted->second) << k.name;  // a value this space has is kept
      }
    }
    EXPECT_NO_THROW(here.apply(c));
  }
}

TEST(Space, BadConfigsFailWithNamedErrors) {
  std::vector<Tensor> outs = op("aten.mm.default", {placeholder("a", {64, 64}, DType::F32),
                                                    placeholder("b", {64, 64}, DType::F32)});
  ScheduleSpace space(outs, testing::compiler().target());
  KnobConfig c = space.default_config();
  c.values[space.knobs()[0].name] = 12345;
  EXPECT_THROW(space.apply(c), ScheduleError);
  EXPECT_THROW(KnobConfig::from_text("s0.tile_i"), ScheduleError);
  EXPECT_THROW(KnobConfig::from_text("s0.tile_i=x"), ScheduleError);
  EXPECT_EQ(KnobConfig::from_text(c.to_text()), c);
}

}  // namespace
}  // namespace kiln

#include "core/schedule/lower.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/ir/structural.h"
#include "core/ops/op_registry.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::avx2;
using tune_test::avx512;
using tune_test::linear;
using tune_test::matmul;
using tune_test::softmax;

TEST(Lower, PlainMatmul) {
  Schedule s({matmul(4, 5, 3)});
  LoweredFunc f = lower(s, "mm");
  std::ostringstream os;
  os << f;
  EXPECT_NE(os.str().find("allocate C.acc: f32[] local"), std::string::npos) << os.str();
  EXPECT_EQ(f.params.size(), 3u);
}

TEST(Lower, DefaultMatmulIsRegisterTiled) {
  // Large enough for its parallel loop to stay parallel (parallel_grain.h).
  LoweredFunc f = lower(default_schedule({matmul(128, 128, 64)}, avx512()), "mm");
  std::ostringstream os;
  os << f;
  std::string ir = os.str();
  EXPECT_NE(ir.find("allocate C.acc: f32[8, 32] local"), std::string::npos) << ir;
  EXPECT_NE(ir.find("unrolled"), std::string::npos) << ir;
  EXPECT_NE(ir.find("vectorized"), std::string::npos) << ir;
  EXPECT_NE(ir.find("parallel"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("if "), std::string::npos) << "divisible tiles need no guards\n" << ir;
}

TEST(Lower, DefaultSoftmaxComputesRowsInPlace) {
  LoweredFunc f = lower(default_schedule({softmax(8, 256)}, avx512()), "softmax");
  std::ostringstream os;
  os << f;
  std::string ir = os.str();
  EXPECT_NE(ir.find("max.local"), std::string::npos) << ir;
  EXPECT_NE(ir.find("sum.rf"), std::string::npos) << ir;
  EXPECT_EQ(ir.find("global"), std::string::npos) << ir;
}

TEST(Schedule, TraceRoundTripsAndReplays) {
  Tensor c = matmul(64, 64, 32);
  Schedule s = default_schedule({c}, avx512());
  std::string text = s.trace().to_text();
  Trace parsed = Trace::from_text(text);
  EXPECT_EQ(parsed, s.trace());
  Schedule again = replay({matmul(64, 64, 32)}, parsed);
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
}

TEST(Schedule, LinearLayerPacksItsWeightAndReplays) {
  Schedule s = default_schedule({linear(64, 48, 32)}, avx512());
  std::string text = s.trace().to_text();
  EXPECT_NE(text.find("cache_read s0 1"), std::string::npos) << text;
  std::ostringstream os;
  os << lower(s, "linear");
  // The packed weight is a buffer of its own, written before the register-tiled loops read it.
  EXPECT_NE(os.str().find("w.cache"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("allocate y.acc"), std::string::npos) << os.str();
  Schedule again = replay({linear(64, 48, 32)}, Trace::from_text(text));
  EXPECT_TRUE(structural_equal(lower(s, "f").body, lower(again, "f").body));
}

// q @ k^T as attention computes it: k^T is a permute of k read through a reshape, so once
// inlined its indices are floordiv/floormod chains of a flat index. Simplified with the
// matmul's extents they are k[b, j, r] again: strided columns, which the template packs.
TEST(Schedule, ATransposeReadThroughAViewIsPacked) {
  const int64_t b = 4, t = 32, d = 16;
  Tensor q = placeholder("q", {b, t, d}, DType::F32);
  Tensor k = placeholder("k", {b, t, d}, DType::F32);
  Tensor kt =
      compute("kt", {b, d, t}, [&](const std::vector<Var>& i) { return k(i[0], i[2], i[1]); });
  Tensor view = compute("view", {b, d, t}, [&](const std::vector<Var>& i) {
    Expr flat = i[0] * (d * t) + i[1] * t + i[2];
    return kt(floordiv(flat, Expr(d * t)), floormod(floordiv(flat, Expr(t)), Expr(d)),
              floormod(flat, Expr(t)));
  });
  IterVar r = reduce_axis(d, "r");
  Tensor scores = compute("scores", {b, t, t}, [&](const std::vector<Var>& i) {
    return reduce(ReduceOp::Sum, q(i[0], i[1], r.var) * view(i[0], r.var, i[2]), {r});
  });
  Schedule s = default_schedule({scores}, avx512());
  std::ostringstream os;
  os << lower(s, "scores");
  EXPECT_NE(s.trace().to_text().find("cache_read"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("k.cache"), std::string::npos) << os.str();
}

TEST(Schedule, BroadcastSixteenBitOperandsAreWidenedOnceWhereTheyRepay) {
  // Without bf16 dot products A's elements are broadcast, 32 times each over 512 columns: A is
  // copied as f32 first. With them A stays bf16 (the pairs read it), and so does an f32 matmul.
  auto trace = [](const Tensor& t, const Target& target) {
    return default_schedule({t}, target).trace().to_text();
  };
  std::string widened = trace(tune_test::matmul_bf16(16, 512, 64), avx512());
  EXPECT_NE(widened.find("cache_read s0 f32 0 "), std::string::npos) << widened;
  EXPECT_EQ(trace(tune_test::matmul_bf16(16, 512, 64), tune_test::avx512_bf16()).find(" f32 "),
            std::string::npos);
  // Two vectors of columns and one row: each element broadcast twice, not worth a copy.
  std::string narrow = trace(tune_test::matmul_bf16(1, 32, 64), avx512());
  EXPECT_EQ(narrow.find("cache_read s0 f32 0 "), std::string::npos) << narrow;
}

TEST(Schedule, StridedConvolutionPutsOutputChannelsInLanes) {
  // [1, 8, 14, 14] * [32, 8, 3, 3], stride 2: the weight is packed with output channels
  // innermost, and the tile computed for the epilogue stores them innermost too (one vector
  // per output pixel instead of a gather).
  std::vector<Tensor> y = OpRegistry::global().lower(
      "aten.convolution.default",
      {placeholder("x", {1, 8, 14, 14}, DType::F32), placeholder("w", {32, 8, 3, 3}, DType::F32),
       placeholder("b", {32}, DType::F32), std::vector<int64_t>{2, 2}, std::vector<int64_t>{1, 1},
       std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, int64_t{1}});
  Schedule s = default_schedule(y, avx512());
  std::ostringstream os;
  os << lower(s, "conv");
  // One panel of 32 output channels (the register tile's width).
  EXPECT_NE(os.str().find("allocate w.cache: f32[1, 8, 3, 3, 32]"), std::string::npos) << os.str();
  EXPECT_NE(os.str().find("allocate convolution.pad: f32[1, 8, 16, 16]"), std::string::npos)
      << os.str();
  EXPECT_NE(os.str().find("allocate convolution.local: f32[1, 1, 7, 32]"), std::string::npos)
      << os.str();
}

/// A 1x1 convolution without bias of a [1, in, size, size] input.
std::vector<Tensor> pointwise(int64_t in, int64_t out, int64_t size) {
  return OpRegistry::global().lower(
      "aten.convolution.default",
      {placeholder("x", {1, in, size, size}, DType::F32),
       placeholder("w", {out, in, 1, 1}, DType::F32), NoneArg{}, std::vector<int64_t>{1, 1},
       std::vector<int64_t>{0, 0}, std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0},
       int64_t{1}});
}

TEST(Schedule, FewPixelsInPartialVectorsPutOutputChannelsInLanes) {
  // 7x7: along the width 7 of 16 lanes would work, AVX-512's cheap masks or not.
  for (const Target& target : {avx512(), avx2()}) {
    std::string text = default_schedule(pointwise(256, 64, 7), target).trace().to_text();
    EXPECT_NE(text.find("cache_read s0 1 1 2 3 0"), std::string::npos) << text;
  }
  // 8x8 on 8 lanes fills whole vectors along the width: no packing.
  std::string whole = default_schedule(pointwise(256, 64, 8), avx2()).trace().to_text();
  EXPECT_EQ(whole.find("cache_read"), std::string::npos) << whole;
}

TEST(Schedule, AWeightLargerThanItsInputKeepsItsPanelLoopOutermost) {
  // 440 -> 440 at 7x7: 194k weights against 22k inputs; each thread takes its own panels.
  std::string deep = default_schedule(pointwise(440, 440, 7), avx512()).trace().to_text();
  EXPECT_NE(deep.find("reorder s0 i1.o i0 i2 i3.o"), std::string::npos) << deep;
  // 64 -> 64 at 28x28: 4k weights against 50k inputs; the row tiles stay outermost.
  std::string wide = default_schedule(pointwise(64, 64, 28), avx512()).trace().to_text();
  EXPECT_NE(wide.find("reorder s0 i0 i2 i1.o i3.o"), std::string::npos) << wide;
}

/// A depthwise convolution of a [1, channels, size, size] input, 3x3, padding 1.
std::vector<Tensor> depthwise(int64_t channels, int64_t size) {
  return OpRegistry::global().lower(
      "aten.convolution.default",
      {placeholder("x", {1, channels, size, size}, DType::F32),
       placeholder("w", {channels, 1, 3, 3}, DType::F32), NoneArg{}, std::vector<int64_t>{1, 1},
       std::vector<int64_t>{1, 1}, std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0},
       channels});
}

std::string lowered_text(const std::vector<Tensor>& outputs, const Target& target = avx512()) {
  std::ostringstream os;
  os << lower(default_schedule(outputs, target), "f");
  return os.str();
}

TEST(Schedule, DepthwiseConvolutionsTileAlongTheHeightOrPutChannelsInLanes) {
  // Wide rows: register tiles of rows along the height share each weight, over a padded input
  // (no bounds tests in the sum) computed per parallel tile of 4 rows: 6 rows of one channel.
  std::string wide = lowered_text(depthwise(16, 56));
  EXPECT_NE(wide.find("allocate convolution.pad.local: f32[1, 1, 6, 58] local"), std::string::npos)
      << wide;
  // At 112x112 (stride 1) the padded input is copied whole beforehand.
  std::string widest = lowered_text(depthwise(16, 112));
  EXPECT_NE(widest.find("allocate convolution.pad: f32[1, 16, 114, 114]"), std::string::npos)
      << widest;
  EXPECT_EQ(wide.find("cache"), std::string::npos) << wide;
  // Short rows where masks are not cheap (AVX2) would pay masked loads and leave lanes idle:
  // channels in lanes, input and weight packed with channels innermost, in panels of the
  // register tile's 16 channels.
  std::string narrow = lowered_text(depthwise(64, 7), avx2());
  EXPECT_NE(narrow.find("allocate convolution.pad.cache: f32[4, 1, 9, 9, 16]"), std::string::npos)
      << narrow;
  EXPECT_NE(narrow.find("allocate w.cache: f32[4, 1, 3, 3, 16]"), std::string::npos) << narrow;
  // With AVX-512's masks, rows along the height even so: packing the input channels innermost
  // and storing channels as scattered elements cost more than idle lanes (Zen 5, 5x5 over
  // 1152 channels at 7x7: 26 GFLOP/s in lanes, 53 along the height).
  std::string masked = lowered_text(depthwise(64, 7));
  EXPECT_NE(masked.find("allocate convolution.pad.local: f32[1, 1, 9, 9] local"), std::string::npos)
      << masked;
  EXPECT_EQ(masked.find("cache"), std::string::npos) << masked;
}

TEST(Schedule, GroupedConvolutionsWithLongRowsTileAlongTheHeight) {
  // 8 channels per group, 3x3, stride 1: a padded input (rows along the height) at 56x56 where
  // masks are cheap; rows over channels at 14x14, and on AVX2.
  auto grouped = [](int64_t size) {
    return OpRegistry::global().lower(
        "aten.convolution.default",
        {placeholder("x", {1, 48, size, size}, DType::F32),
         placeholder("w", {48, 8, 3, 3}, DType::F32), NoneArg{}, std::vector<int64_t>{1, 1},
         std::vector<int64_t>{1, 1}, std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0},
         int64_t{6}});
  };
  std::string wide = lowered_text(grouped(56));
  EXPECT_NE(wide.find("allocate convolution.pad: f32[1, 48, 58, 58]"), std::string::npos) << wide;
  for (const std::string& text : {lowered_text(grouped(14)), lowered_text(grouped(56), avx2())})
    EXPECT_EQ(text.find("convolution.pad"), std::string::npos) << text;
}

TEST(Schedule, ABatchOfOneConvolutionComputesItsEpilogueOnItsTile) {
  // Batch norm reads the convolution at 0 along a batch of one (a broadcast read): still the
  // convolution's epilogue, computed on its register tile, not a pass over a stored result.
  Tensor conv = depthwise(16, 20)[0];
  auto channel = [](const char* name) { return placeholder(name, {16}, DType::F32); };
  std::vector<Tensor> y = OpRegistry::global().lower(
      "aten._native_batch_norm_legit_no_training.default",
      {conv, channel("gamma"), channel("beta"), channel("mean"), channel("var"), 0.1, 1e-5});
  std::string text = lowered_text({y[0]});
  EXPECT_EQ(text.find("allocate convolution: "), std::string::npos) << text;
  EXPECT_NE(text.find("allocate convolution.local"), std::string::npos) << text;
  // Its scale per channel (weight / sqrt(var + eps)) is computed once per channel beforehand,
  // not per pixel in the tile.
  size_t scale = text.find("allocate batch_norm.alpha: f32[16]");
  EXPECT_NE(scale, std::string::npos) << text;
  EXPECT_NE(text.find("sqrt"), std::string::npos) << text;
  EXPECT_EQ(text.find("sqrt", text.find("sqrt") + 1), std::string::npos) << text;
  EXPECT_LT(scale, text.find("allocate convolution.local")) << text;
}

TEST(Schedule, AStridedConvolutionOnItsEpiloguesTileKeepsTheTilesVectors) {
  // 8 channels per group, stride 2 to 56 wide: the tile is 64 lanes. Computed on the batch
  // norm's tile, the convolution's region is 56 wide; its strided loads stay in 64-lane vectors
  // behind a guard (a 56-lane vector of stride-2 loads was a gather per lane).
  std::vector<Tensor> conv = OpRegistry::global().lower(
      "aten.convolution.default",
      {placeholder("x", {1, 48, 112, 112}, DType::F32), placeholder("w", {48, 8, 3, 3}, DType::F32),
       NoneArg{}, std::vector<int64_t>{2, 2}, std::vector<int64_t>{1, 1},
       std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, int64_t{6}});
  auto channel = [](const char* name) { return placeholder(name, {48}, DType::F32); };
  std::vector<Tensor> y = OpRegistry::global().lower(
      "aten._native_batch_norm_legit_no_training.default",
      {conv[0], channel("gamma"), channel("beta"), channel("mean"), channel("var"), 0.1, 1e-5});
  std::string text = lowered_text({y[0]});
  EXPECT_NE(text.find("allocate convolution.local"), std::string::npos) << text;
  EXPECT_EQ(text.find("in 0..56 vectorized"), std::string::npos) << text;
  EXPECT_NE(text.find("for convolution.i3.i in 0..64 vectorized"), std::string::npos) << text;
}

/// The reduce axes of the one reduction among `outputs`' stages.
size_t reduce_axes_of(const std::vector<Tensor>& outputs) {
  Schedule s(outputs);
  for (const Stage& st : s.stages())
    if (st.is_reduction()) return st.root_vars.size() - st.num_spatial;
  return 0;
}

TEST(Schedule, AMeanOverAdjacentDimsIsOneVectorizedRow) {
  auto mean = [](const Tensor& x) {
    return OpRegistry::global().lower("aten.mean.dim",
                                      {x, std::vector<int64_t>{-1, -2}, true, NoneArg{}});
  };
  // 7x7 contiguous pixels: one reduce axis of 49, summed in vector lanes with a tail.
  std::vector<Tensor> pooled = mean(placeholder("x", {2, 24, 7, 7}, DType::F32));
  EXPECT_EQ(reduce_axes_of(pooled), 1u);
  std::string text = default_schedule(pooled, avx512()).trace().to_text();
  EXPECT_NE(text.find("rfactor s0 r0 16"), std::string::npos) << text;
  // Height and width transposed in memory: fused, each pixel's index would take a division, so
  // the two axes stay.
  std::vector<Tensor> transposed =
      mean(placeholder("x", {2, 24, 7, 7}, DType::F32, {1176, 49, 1, 7}));
  EXPECT_EQ(reduce_axes_of(transposed), 2u);
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Schedule, ComputationsInvariantAlongTheirReaderAreMaterializedOnce) {
  // y[i, j] = x[i, j] * exp(s[j]) + t[j]: exp(s) per column is computed once, 64 times, not per
  // element; t read through a broadcast view (no arithmetic) stays inlined.
  Tensor x = placeholder("x", {256, 64}, DType::F32), s = placeholder("s", {64}, DType::F32),
         t = placeholder("t", {64}, DType::F32);
  Tensor scale = compute("scale", {64},
                         [&](const std::vector<Var>& i) { return unary(UnaryOp::Exp, s(i[0])); });
  Tensor shift = compute("shift", {256, 64}, [&](const std::vector<Var>& i) { return t(i[1]); });
  Tensor y = compute("y", {256, 64}, [&](const std::vector<Var>& i) {
    return x(i[0], i[1]) * scale(i[1]) + shift(i[0], i[1]);
  });
  std::string text = lowered_text({y});
  EXPECT_NE(text.find("allocate scale: f32[64]"), std::string::npos) << text;
  EXPECT_EQ(occurrences(text, "exp("), 1u) << text;
  EXPECT_EQ(text.find("allocate shift"), std::string::npos) << text;
  // Read at the same size, the same computation is inlined.
  Tensor same = compute("same", {256, 64}, [&](const std::vector<Var>& i) {
    return unary(UnaryOp::Exp, x(i[0], i[1]));
  });
  Tensor z = compute("z", {256, 64},
                     [&](const std::vector<Var>& i) { return same(i[0], i[1]) + x(i[0], i[1]); });
  EXPECT_EQ(lowered_text({z}).find("allocate same"), std::string::npos) << lowered_text({z});
}

TEST(Schedule, WithoutCheapMasksRegisterTilesTakeHalfVectorsThatDivideTheColumns) {
  // 28 columns: 3.5 vectors of 8 lanes. With AVX2's costly masks, tiles of 4 lanes and no mask;
  // with AVX-512's mask registers, one tile of 32 lanes covering them.
  std::string narrow = default_schedule({matmul(64, 28, 32)}, avx2()).trace().to_text();
  EXPECT_NE(narrow.find("split s0 i1 4\n"), std::string::npos) << narrow;
  std::string wide = default_schedule({matmul(64, 28, 32)}, avx512()).trace().to_text();
  EXPECT_NE(wide.find("split s0 i1 32\n"), std::string::npos) << wide;
}

TEST(Schedule, FewRowsTakeDotProductsInsteadOfPacking) {
  std::string text = default_schedule({linear(2, 48, 256)}, avx512()).trace().to_text();
  EXPECT_EQ(text.find("cache_read"), std::string::npos) << text;
  EXPECT_NE(text.find("rfactor"), std::string::npos) << text;
}

TEST(Schedule, WideRowsOfBArePackedInPanelsOfTheRegisterTile) {
  // B [512, 1024], 2 MiB past a 1 MiB L2: a tile of 32 columns would step 4 KiB per reduction
  // step; packed, it reads one run of 512 x 32 per panel.
  Schedule s = default_schedule({matmul(128, 1024, 512)}, avx512());
  std::string text = s.trace().to_text();
  EXPECT_NE(text.find("cache_read s0 1 0 1 32\n"), std::string::npos) << text;
  EXPECT_EQ(s.stage("s0.cache1").tensor->shape, (std::vector<int64_t>{32, 512, 32}));
  // Too few rows of A to repay the copy, or a B that fits in L2: no copy.
  for (Tensor c : {matmul(16, 1024, 512), matmul(128, 512, 512)}) {
    std::string plain = default_schedule({c}, avx512()).trace().to_text();
    EXPECT_EQ(plain.find("cache_read"), std::string::npos) << plain;
  }
}

TEST(Schedule, Bf16ProductsSumInPairsWhereTheCpuHasDotProducts) {
  using tune_test::avx512_bf16;
  using tune_test::matmul_bf16;
  auto trace = [](const Tensor& t, const Target& target) {
    return default_schedule({t}, target).trace().to_text();
  };
  // The reduction split in two, the pair loop innermost (after the vector columns) and unrolled.
  std::string paired = trace(matmul_bf16(16, 32, 20), avx512_bf16());
  EXPECT_NE(paired.find("split s0 r0 2\n"), std::string::npos) << paired;
  EXPECT_NE(paired.find("r0.i\n"), std::string::npos) << paired;
  EXPECT_NE(paired.find("unroll s0 r0.i\n"), std::string::npos) << paired;
  // Not without the instruction, along an odd reduction, or over f32 operands.
  for (const std::string& plain :
       {trace(matmul_bf16(16, 32, 20), avx512()), trace(matmul_bf16(16, 32, 21), avx512_bf16()),
        trace(matmul(16, 32, 20), avx512_bf16())})
    EXPECT_EQ(plain.find("r0.i"), std::string::npos) << plain;
}

TEST(Schedule, Bf16ConvolutionsPairTheirInputChannelsWherePairsPay) {
  // A bf16 convolution of `in` to `out` channels at 28x28, `kernel` wide, in `groups`.
  auto conv = [](int64_t in, int64_t out, int64_t kernel, int64_t groups) {
    return OpRegistry::global().lower(
        "aten.convolution.default",
        {placeholder("x", {1, in, 28, 28}, DType::BF16),
         placeholder("w", {out, in / groups, kernel, kernel}, DType::BF16), NoneArg{},
         std::vector<int64_t>{1, 1}, std::vector<int64_t>{kernel / 2, kernel / 2},
         std::vector<int64_t>{1, 1}, false, std::vector<int64_t>{0, 0}, groups});
  };
  auto trace = [](const std::vector<Tensor>& y) {
    return default_schedule(y, tune_test::avx512_bf16()).trace().to_text();
  };
  // 3x3 of 64 channels: the input channels split in pairs, innermost and unrolled.
  std::string paired = trace(conv(64, 64, 3, 1));
  EXPECT_NE(paired.find("split s1 r0 2\n"), std::string::npos) << paired;
  EXPECT_NE(paired.find("unroll s1 r0.i\n"), std::string::npos) << paired;
  // Not a 1x1 one with channels in lanes (each input pair two loads a plane apart) nor a
  // grouped one: their weights and inputs are widened to f32 instead.
  for (const std::string& plain : {trace(conv(256, 256, 1, 1)), trace(conv(64, 64, 3, 8))}) {
    EXPECT_EQ(plain.find("r0.i"), std::string::npos) << plain;
    EXPECT_NE(plain.find(" f32 "), std::string::npos) << plain;
  }
}

TEST(ScheduleErrors, NamedErrors) {
  Tensor c = matmul(8, 8, 8);
  Schedule s({c});
  EXPECT_THROW(s.split("s0", "i7", 2), ScheduleError);
  EXPECT_THROW(s.split("s0", "i0", 0), ScheduleError);
  EXPECT_THROW(s.parallel("s0", "r0"), ScheduleError);
  EXPECT_THROW(s.compute_inline("s0"), ScheduleError);
  EXPECT_THROW(s.fuse("s0", "i0", "r0"), ScheduleError);
  EXPECT_THROW(s.stage("s9"), ScheduleError);
  try {
    s.split("s0", "j", 2);
    FAIL();
  } catch (const ScheduleError& e) {
    EXPECT_NE(std::string(e.what()).find("no loop 'j'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Trace::from_text("split s0 i0 x"), ScheduleError);
  EXPECT_THROW(Trace::from_text("teleport s0"), ScheduleError);
  EXPECT_THROW(s.cache_read("s0", 2), ScheduleError);  // A and B only
  EXPECT_THROW(s.cache_read("s0", -1), ScheduleError);
}

}  // namespace
}  // namespace kiln

// Loop kinds, layouts and guarded loads of the LLVM backend.
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <thread>

#include "core/runtime/thread_pool.h"
#include "core/support/error.h"
#include "llvm_test_util.h"

namespace kiln::testing {
namespace {

TEST(LlvmLoops, StridedAndBroadcastInputs) {
  // a is a transposed view, b a row broadcast over the rows (stride 0).
  Tensor a = placeholder("a", {9, 40}, DType::F32, {1, 9});
  Tensor b = placeholder("b", {9, 40}, DType::F32, {0, 1});
  Tensor c = compute("c", {9, 40}, [&](const std::vector<Var>& i) {
    return a(i[0], i[1]) * b(i[0], i[1]) + a(i[0], i[1]);
  });
  std::vector<HostTensor> inputs = {HostTensor::random({9, 40}, DType::F32, 1, -1, 1, {1, 9}),
                                    HostTensor::random({9, 40}, DType::F32, 2, -1, 1, {0, 1})};
  for (ForKind kind : {ForKind::Serial, ForKind::Vectorized, ForKind::Unrolled, ForKind::Parallel})
    expect_matches_interpreter(c, inputs, kind);
}

// A select whose untaken branch reads out of bounds must not read it: x[i-1] at i = 0 is before
// the buffer. The buffer is tiny, so a real read at index -1 from a page start would fault; the
// checks here are that no garbage reaches the result and nothing crashes.
TEST(LlvmLoops, SelectGuardsOutOfBoundsLoad) {
  Tensor x = placeholder("x", {16}, DType::F32);
  Tensor y = compute("y", {16}, [&](const std::vector<Var>& i) {
    return select(i[0] >= 1, x(i[0] - 1), make_const(DType::F32, 0)) +
           select(i[0] < 15, x(i[0] + 1) * 2.0, make_const(DType::F32, 0));
  });
  // x once right after an inaccessible page, once right before one.
  long page = sysconf(_SC_PAGESIZE);
  char* region = static_cast<char*>(
      mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  ASSERT_EQ(mprotect(region, page, PROT_NONE), 0);
  ASSERT_EQ(mprotect(region + 2 * page, page, PROT_NONE), 0);
  float* start = reinterpret_cast<float*>(region + page);
  float* end = reinterpret_cast<float*>(region + 2 * page) - 16;
  for (ForKind kind : {ForKind::Serial, ForKind::Vectorized}) {
    for (float* base : {start, end}) {
      for (int i = 0; i < 16; ++i) base[i] = static_cast<float>(i + 1);
      std::unique_ptr<Kernel> k = compiler().compile(lower_elementwise(y, kind));
      float out[16];
      void* args[] = {base, out};
      k->launch(args);
      for (int i = 0; i < 16; ++i) {
        float want = (i >= 1 ? base[i - 1] : 0) + (i < 15 ? base[i + 1] * 2 : 0);
        EXPECT_EQ(out[i], want) << kind << " i=" << i;
      }
    }
  }
  munmap(region, 3 * page);
}

class CountingPool : public ThreadPool {
 public:
  std::atomic<int> calls{0};
  int num_threads() const override { return 2; }
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn) override {
    ++calls;
    std::thread other([&] { fn(n / 2, n); });
    fn(0, n / 2);
    other.join();
  }
};

TEST(LlvmLoops, ParallelLoopRunsOnTheThreadPool) {
  Tensor a = placeholder("a", {64, 33}, DType::F32);
  Tensor c = compute("c", {64, 33}, [&](const std::vector<Var>& i) {
    return a(i[0], i[1]) * cast(DType::F32, i[0]) + cast(DType::F32, i[1]);
  });
  CountingPool pool;
  set_thread_pool(&pool);
  expect_matches_interpreter(c, {HostTensor::random({64, 33}, DType::F32, 3)}, ForKind::Serial);
  EXPECT_EQ(pool.calls, 0);
  std::unique_ptr<Kernel> k =
      compiler().compile(lower_elementwise(c, ForKind::Vectorized, ForKind::Parallel));
  HostTensor in = HostTensor::random({64, 33}, DType::F32, 3);
  HostTensor got = run(*k, {in});
  set_thread_pool(nullptr);
  EXPECT_EQ(pool.calls, 1);
  EXPECT_LE(max_relative_error(got, interpret({c}, {in})[0], 1e-5, 1e-5), 1.0);
}

// Vectorized loops the explicit path cannot take: too wide (fallback to LLVM's vectorizer), a
// reduction into one element, and a gather with a non-constant stride.
TEST(LlvmLoops, VectorizedFallbacksAndGathers) {
  Tensor a = placeholder("a", {200}, DType::F32);
  Tensor wide =
      compute("wide", {200}, [&](const std::vector<Var>& i) { return a(i[0]) * 3.0 + 1.0; });
  expect_matches_interpreter(wide, {HostTensor::random({200}, DType::F32, 4)}, ForKind::Vectorized);

  Tensor idx = placeholder("idx", {16}, DType::I64);
  Tensor gathered = compute("gathered", {16}, [&](const std::vector<Var>& i) {
    return a(idx(i[0])) + a(i[0] * i[0] / 2);  // data-dependent and quadratic indices
  });
  expect_matches_interpreter(
      gathered,
      {HostTensor::random({200}, DType::F32, 5), HostTensor::random({16}, DType::I64, 6, 0, 199)},
      ForKind::Vectorized);

  // acc[0] += a[j] for j vectorized: the store index does not use j, so lanes would race.
  Tensor out =
      compute("sum", {1}, [&](const std::vector<Var>&) { return make_const(DType::F32, 0); });
  Var j("j");
  Stmt body =
      SeqNode::make({StoreNode::make(out, {Expr(0)}, make_const(DType::F32, 0)),
                     ForNode::make(j, 200, ForKind::Vectorized,
                                   StoreNode::make(out, {Expr(0)}, out.load({Expr(0)}) + a(j)))});
  LoweredFunc f{"sum", {a, out}, 1, body, {}};
  HostTensor in = HostTensor::random({200}, DType::F32, 7);
  HostTensor got = run(*compiler().compile(f), {in});
  double want = 0;
  for (int64_t i = 0; i < 200; ++i) want += in.get_flat(i);
  EXPECT_NEAR(got.get_flat(0), want, 1e-4);
}

TEST(LlvmLoops, UnrolledInsideVectorizedWithIf) {
  // for i unrolled 4 { if (i != 2) { for j vectorized 16 { c[i, j] = a[j, i] } } }: a transposed
  // read (gather), a branch on an unrolled variable, and nested unrolled loops.
  Tensor a = placeholder("a", {16, 4}, DType::F32);
  Tensor c =
      compute("c", {4, 16}, [&](const std::vector<Var>&) { return make_const(DType::F32, 0); });
  Var i("i"), j("j");
  Stmt store = StoreNode::make(c, {i, j}, a(j, i) + cast(DType::F32, i * 10));
  Stmt body =
      ForNode::make(i, 4, ForKind::Unrolled,
                    IfThenElseNode::make(i != 2, ForNode::make(j, 16, ForKind::Vectorized, store)));
  LoweredFunc f{"transpose", {a, c}, 1, body, {}};
  HostTensor in = HostTensor::random({16, 4}, DType::F32, 8);
  HostTensor got = run(*compiler().compile(f), {in});
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t q = 0; q < 16; ++q)
      EXPECT_EQ(got.get({r, q}), r == 2 ? 0.0f : static_cast<float>(in.get({q, r})) + r * 10.0f)
          << r << "," << q;
}

// A masked vector store to heap scratch, which all threads of a parallel loop share, writes its
// live lanes only: a blend (load, select, store of the whole vector) would write the dead lanes
// back over the next row while another thread writes that row.
TEST(LlvmLoops, MaskedStoresToSharedScratchTouchOnlyLiveLanes) {
  Tensor x = placeholder("x", {6, 20}, DType::F32);
  auto zero = [](const std::vector<Var>&) { return make_const(DType::F32, 0); };
  Tensor scratch = compute("scratch", {6, 20}, zero), y = compute("y", {6, 20}, zero);
  Var r("r"), c("c"), r2("r2"), c2("c2");
  Stmt fill = ForNode::make(
      r, 6, ForKind::Parallel,
      ForNode::make(c, 32, ForKind::Vectorized,
                    IfThenElseNode::make(c < 20, StoreNode::make(scratch, {r, c}, x(r, c) * 2.0))));
  Stmt copy = ForNode::make(
      r2, 6, ForKind::Serial,
      ForNode::make(c2, 20, ForKind::Serial, StoreNode::make(y, {r2, c2}, scratch(r2, c2))));
  LoweredFunc f{"masked_scratch",
                {x, y},
                1,
                AllocateNode::make(scratch, MemoryScope::Global, SeqNode::make({fill, copy})),
                {}};
  std::string ir = compiler().llvm_ir(f);
  EXPECT_NE(ir.find("llvm.masked.store"), std::string::npos) << ir;
  HostTensor in = HostTensor::random({6, 20}, DType::F32, 9);
  HostTensor got = run(*compiler().compile(f), {in});
  for (int64_t k = 0; k < 120; ++k) EXPECT_EQ(got.get_flat(k), 2 * in.get_flat(k)) << k;
}

// A select whose sides load only elements inside their tensor is a plain select (both sides
// share their loads); one whose side may read outside (padding: x[c - 1] at c = 0) evaluates
// that side under the mask of its lanes. Both compute right.
TEST(LlvmLoops, SelectsMaskOnlyTheLoadsThatMayLeaveTheirTensor) {
  for (bool shifted : {false, true}) {
    Tensor x = placeholder("x", {4, 16}, DType::F32);
    Tensor y =
        compute("y", {4, 16}, [](const std::vector<Var>&) { return make_const(DType::F32, 0); });
    Var r("r"), c("c");
    Expr inside = select(x(r, c) < 0.0, unary(UnaryOp::Exp, x(r, c)), x(r, c) * 2.0);
    Expr padded = select(c >= int64_t{1}, x(r, c - int64_t{1}), make_const(DType::F32, 0));
    Stmt body = ForNode::make(r, 4, ForKind::Serial,
                              ForNode::make(c, 16, ForKind::Vectorized,
                                            StoreNode::make(y, {r, c}, shifted ? padded : inside)));
    LoweredFunc f{"selects", {x, y}, 1, body, {}};
    std::string ir = compiler().llvm_ir(f);
    EXPECT_EQ(ir.find("llvm.masked.load") != std::string::npos, shifted) << ir;
    HostTensor in = HostTensor::random({4, 16}, DType::F32, 5);
    HostTensor got = run(*compiler().compile(f), {in});
    for (int64_t i = 0; i < 4; ++i)
      for (int64_t j = 0; j < 16; ++j) {
        float v = static_cast<float>(in.get({i, j}));
        float want = shifted ? (j >= 1 ? static_cast<float>(in.get({i, j - 1})) : 0.0f)
                             : (v < 0 ? std::exp(v) : v * 2.0f);
        ASSERT_NEAR(got.get({i, j}), want, 1e-6f * (1 + std::abs(want))) << i << "," << j;
      }
  }
}

// A copy that transposes [32, 48] into [48, 32] in 16 x 16 squares: whole vectors loaded along
// the source's rows, shuffled, stored along the copy's rows (no gathers), of 4-byte and of
// 2-byte elements (a bf16 Linear layer's weight), and widening 16-bit floats to f32 on the way;
// tiles of 8 rows by 16 columns are no squares and keep the gathers. All copy right.
TEST(LlvmLoops, SquareTransposingCopiesShuffleWholeVectors) {
  for (auto [dtype, widen] : {std::pair{DType::F32, false},
                              {DType::BF16, false},
                              {DType::F16, false},
                              {DType::BF16, true},
                              {DType::F16, true}})
    for (int64_t rows : {16, 8}) {
      Tensor src = placeholder("src", {32, 48}, dtype);
      Tensor dst = compute("dst", {48, 32}, [&](const std::vector<Var>& i) {
        return widen ? cast(DType::F32, src(i[1], i[0])) : src(i[1], i[0]);
      });
      Var ro("ro"), co("co"), ri("ri"), ci("ci");
      Expr row = ro * rows + ri, col = co * 16 + ci;
      Stmt copy = ForNode::make(
          ro, 48 / rows, ForKind::Serial,
          ForNode::make(
              co, 2, ForKind::Serial,
              ForNode::make(ri, rows, ForKind::Serial,
                            ForNode::make(ci, 16, ForKind::Vectorized,
                                          StoreNode::make(dst, {row, col},
                                                          widen ? cast(DType::F32, src(col, row))
                                                                : src(col, row))))));
      LoweredFunc f{"transpose", {src, dst}, 1, copy, {}};
      std::string ir = compiler().llvm_ir(f);
      EXPECT_EQ(ir.find("masked.gather") == std::string::npos, rows == 16) << dtype << ir;
      HostTensor in = HostTensor::random({32, 48}, dtype, 4);
      HostTensor got = run(*compiler().compile(f), {in});
      for (int64_t r = 0; r < 48; ++r)
        for (int64_t c = 0; c < 32; ++c)
          ASSERT_EQ(got.get({r, c}), in.get({c, r}))
              << dtype << " " << rows << ": " << r << "," << c;
    }
}

// A bf16 copy that pads (a select of loaded values and a zero) keeps each element's bits, as
// eager's copy does: no rounding code, and a signaling NaN's or a denormal's bits come through
// unchanged. A computed value is still rounded.
TEST(LlvmLoops, Bf16CopiesKeepTheirBitsWithoutRounding) {
  const int64_t n = 32;
  Tensor x = placeholder("x", {n}, DType::BF16);
  Tensor padded = compute("padded", {n + 8}, [&](const std::vector<Var>& i) {
    return select(i[0] < n, x(min(i[0], make_const(DType::I64, n - 1))),
                  make_const(DType::BF16, 0));
  });
  for (ForKind inner : {ForKind::Serial, ForKind::Vectorized}) {
    LoweredFunc f = lower_elementwise(padded, inner);
    std::string ir = compiler().llvm_ir(f);
    EXPECT_EQ(ir.find("32767"), std::string::npos) << ir;  // no rounding bias 0x7fff
    HostTensor in = HostTensor::random({n}, DType::BF16, 7);
    auto* bits = static_cast<uint16_t*>(in.data());
    bits[3] = 0x7f81;  // a signaling NaN
    bits[5] = 0x0001;  // the smallest denormal
    bits[9] = 0xff80;  // -inf
    HostTensor out = run(*compiler().compile(f), {in});
    auto* got = static_cast<const uint16_t*>(out.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[i], bits[i]) << i;
    for (int64_t i = n; i < n + 8; ++i) ASSERT_EQ(got[i], 0) << i;
  }
  Tensor doubled =
      compute("doubled", {n}, [&](const std::vector<Var>& i) { return x(i[0]) * 3.0; });
  EXPECT_NE(compiler().llvm_ir(lower_elementwise(doubled, ForKind::Vectorized)).find("32767"),
            std::string::npos);
}

// Lanes `stride` elements apart (a strided convolution's input): one load of the span they
// cover and a shuffle, no gather; under a mask (a tail) only live lanes' elements are read. The
// source ends at the last element read, so a read past it would take another allocation's.
TEST(LlvmLoops, SmallConstantStridesLoadTheirSpanNotAGather) {
  for (int64_t stride : {2, 3, 4}) {
    for (int64_t live : {16, 11}) {
      int64_t size = stride * (live - 1) + 2;
      Tensor src = placeholder("src", {size}, DType::F32);
      Tensor dst = compute("dst", {16}, [&](const std::vector<Var>& i) {
        return select(i[0] < live, src(i[0] * stride + 1), make_const(DType::F32, -1));
      });
      LoweredFunc f = lower_elementwise(dst, ForKind::Vectorized);
      std::string ir = compiler().llvm_ir(f);
      EXPECT_EQ(ir.find("masked.gather"), std::string::npos) << stride << " " << live << ir;
      // Stride 2 over whole vectors: two plain loads, no masked one.
      if (stride == 2 && live == 16) {
        EXPECT_EQ(ir.find("masked.load"), std::string::npos) << ir;
      }
      HostTensor in = HostTensor::random({size}, DType::F32, 3);
      HostTensor got = run(*compiler().compile(f), {in});
      for (int64_t j = 0; j < 16; ++j)
        ASSERT_EQ(got.get_flat(j), j < live ? in.get_flat(j * stride + 1) : -1.0)
            << "stride " << stride << ", lane " << j;
    }
  }
}

// A split with a tail: its guard compares 32-bit lane numbers with one bound, and whole vectors
// store unmasked (masked stores cost 2.5x on AMD), only the tail's under the mask.
TEST(LlvmLoops, TailGuardsStoreWholeVectorsUnmasked) {
  Tensor src = placeholder("src", {1000}, DType::F32);
  Tensor dst = compute("dst", {1000}, [&](const std::vector<Var>& i) { return src(i[0]) * 2.0; });
  Var o("o"), i("i");
  Expr at = o * 16 + i;
  Stmt body = ForNode::make(
      o, 63, ForKind::Serial,
      ForNode::make(i, 16, ForKind::Vectorized,
                    IfThenElseNode::make(at < int64_t{1000},
                                         StoreNode::make(dst, {at}, src(at) * 2.0), Stmt())));
  LoweredFunc f{"tail", {src, dst}, 1, body, {}};
  std::string ir = compiler().llvm_ir(f);
  EXPECT_NE(ir.find("masked.store"), std::string::npos) << ir;
  EXPECT_NE(ir.find("store <16 x float>"), std::string::npos) << ir;
  EXPECT_NE(ir.find("icmp ugt <16 x i32>"), std::string::npos) << ir;  // LLVM's form of lane < n
  EXPECT_EQ(ir.find("<16 x i64>"), std::string::npos) << ir;           // no 64-bit lane indices
  HostTensor in = HostTensor::random({1000}, DType::F32, 8);
  HostTensor got = run(*compiler().compile(f), {in});
  for (int64_t j = 0; j < 1000; ++j) ASSERT_EQ(got.get_flat(j), in.get_flat(j) * 2) << j;
}

TEST(LlvmLoops, GpuLoopsSharedMemoryAndReductionsAreCompileErrors) {
  Tensor a = placeholder("a", {8}, DType::F32);
  Tensor c = compute("c", {8}, [&](const std::vector<Var>& i) { return a(i[0]); });
  EXPECT_THROW(compiler().compile(lower_elementwise(c, ForKind::GpuThread)), CompileError);
  try {
    compiler().compile(lower_elementwise(c, ForKind::GpuBlock));
    FAIL() << "a GPU loop compiled for the CPU";
  } catch (const CompileError& e) {
    EXPECT_NE(std::string(e.what()).find("GPU loop"), std::string::npos) << e.what();
  }
  LoweredFunc shared{"shared",
                     {a, c},
                     1,
                     AllocateNode::make(c, MemoryScope::Shared, lower_elementwise(c).body),
                     {}};
  EXPECT_THROW(compiler().compile(shared), CompileError);
  Var i("i");
  IterVar k = reduce_axis(8, "k");
  LoweredFunc reduce{
      "reduce",
      {a, c},
      1,
      ForNode::make(i, 8, ForKind::Serial,
                    StoreNode::make(c, {i}, kiln::reduce(ReduceOp::Sum, a(k.var), {k}))),
      {}};
  EXPECT_THROW(compiler().compile(reduce), CompileError);
}

TEST(LlvmJit, DestroyedKernelsLeaveAndOthersStillCompile) {
  Tensor a = placeholder("a", {64}, DType::F32);
  Tensor c = compute("c", {64}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0; });
  HostTensor in = HostTensor::random({64}, DType::F32, 9);
  for (int round = 0; round < 20; ++round) {
    std::unique_ptr<Kernel> k = compiler().compile(lower_elementwise(c, ForKind::Vectorized));
    HostTensor got = run(*k, {in});
    ASSERT_EQ(got.get_flat(5), static_cast<float>(in.get_flat(5) + 1.0f));
  }  // each kernel's code is removed as it goes
  // Kernels keep the JIT alive: one outliving a private compiler still runs.
  std::unique_ptr<Kernel> orphan = LLVMCompiler::create()->compile(lower_elementwise(c));
  EXPECT_EQ(run(*orphan, {in}).get_flat(7), static_cast<float>(in.get_flat(7) + 1.0f));
}

TEST(LlvmJit, CompilesFromFourThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Tensor a = placeholder("a", {100}, DType::F32);
      Tensor c = compute("c", {100}, [&](const std::vector<Var>& i) {
        return unary(UnaryOp::Exp, a(i[0])) * static_cast<double>(t + 1);
      });
      for (int r = 0; r < 3; ++r) {
        std::unique_ptr<Kernel> k = compiler().compile(lower_elementwise(c, ForKind::Vectorized));
        HostTensor in = HostTensor::random({100}, DType::F32, t);
        HostTensor got = run(*k, {in});
        if (max_relative_error(got, interpret({c}, {in})[0], 1e-5, 1e-5) <= 1.0) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good, 12);
}

}  // namespace
}  // namespace kiln::testing

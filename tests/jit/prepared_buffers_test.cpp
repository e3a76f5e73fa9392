// Kernels' prepared buffers (LoweredFunc::prepared): the copies the LLVM backend moves out of a
// kernel because they read its inputs alone, and what a caller keeps of them between calls.
#include "core/runtime/prepared_buffers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/runtime/kernel.h"
#include "core/schedule/lower.h"
#include "core/templates/default_schedule.h"
#include "tests/jit/jit_harness.h"
#include "tests/tune/workloads.h"

namespace kiln {
namespace {

using tune_test::linear;  // x @ w.T: the default schedule packs w, whose columns are strided

std::shared_ptr<const Kernel> compile_linear() {
  Tensor y = linear(64, 256, 128);
  return testing::compiler().compile(
      lower(default_schedule({y}, testing::compiler().target()), "linear"));
}

double max_difference(const HostTensor& a, const HostTensor& b) {
  double most = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    most = std::max(most, std::abs(a.get_flat(i) - b.get_flat(i)));
  return most;
}

/// What the kernel computes from `x` and `w`, every buffer filled for the call.
HostTensor fresh(const Kernel& kernel, const HostTensor& x, const HostTensor& w) {
  HostTensor out = HostTensor::zeros({64, 256}, DType::F32);
  run_kernel(kernel, {&x, &w, &out});
  return out;
}

HostTensor keeping(const Kernel& kernel, const HostTensor& x, const HostTensor& w,
                   PreparedBuffers& kept, const std::vector<bool>& constant) {
  HostTensor out = HostTensor::zeros({64, 256}, DType::F32);
  void* args[] = {x.data(), w.data(), out.data()};
  kernel.launch_keeping(args, kept, constant);
  return out;
}

void add_one(HostTensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i) t.set_flat(i, t.get_flat(i) + 1);
}

TEST(PreparedBuffers, APackedWeightIsPreparedFromTheWeightAlone) {
  std::shared_ptr<const Kernel> kernel = compile_linear();
  const std::vector<PreparedBuffer>& prepared = kernel->func().prepared;
  ASSERT_FALSE(prepared.empty()) << kernel->func();
  EXPECT_TRUE(std::any_of(prepared.begin(), prepared.end(), [](const PreparedBuffer& b) {
    return b.inputs == std::vector<int>{1};
  })) << kernel->func();
}

TEST(PreparedBuffers, KeptBuffersAreFilledOnceAndReadUntilCleared) {
  std::shared_ptr<const Kernel> kernel = compile_linear();
  HostTensor x = HostTensor::random({64, 128}, DType::F32, 1);
  HostTensor w = HostTensor::random({256, 128}, DType::F32, 2);
  PreparedBuffers kept;
  const std::vector<bool> constant = {false, true};
  EXPECT_FALSE(kept.ready(*kernel, constant));

  EXPECT_LE(max_difference(keeping(*kernel, x, w, kept, constant), fresh(*kernel, x, w)), 1e-5);
  EXPECT_EQ(kept.fills(), 1);
  EXPECT_TRUE(kept.ready(*kernel, constant));
  // x is no constant: what is made from it is made again on every call.
  HostTensor x2 = HostTensor::random({64, 128}, DType::F32, 3);
  EXPECT_LE(max_difference(keeping(*kernel, x2, w, kept, constant), fresh(*kernel, x2, w)), 1e-5);
  EXPECT_EQ(kept.fills(), 1);

  // The kept copy of w is read, not made again: a change the caller does not report is unseen.
  HostTensor stale = fresh(*kernel, x2, w);
  add_one(w);
  EXPECT_LE(max_difference(keeping(*kernel, x2, w, kept, constant), stale), 1e-5);
  EXPECT_EQ(kept.fills(), 1);
  kept.clear();
  EXPECT_FALSE(kept.ready(*kernel, constant));
  HostTensor now = keeping(*kernel, x2, w, kept, constant);
  EXPECT_LE(max_difference(now, fresh(*kernel, x2, w)), 1e-5);
  EXPECT_GT(max_difference(now, stale), 1);
  EXPECT_EQ(kept.fills(), 2);
}

TEST(PreparedBuffers, NothingIsKeptFromInputsThatAreNotConstant) {
  std::shared_ptr<const Kernel> kernel = compile_linear();
  HostTensor x = HostTensor::random({64, 128}, DType::F32, 4);
  HostTensor w = HostTensor::random({256, 128}, DType::F32, 5);
  PreparedBuffers kept;
  const std::vector<bool> constant = {false, false};
  keeping(*kernel, x, w, kept, constant);
  add_one(w);
  EXPECT_LE(max_difference(keeping(*kernel, x, w, kept, constant), fresh(*kernel, x, w)), 1e-5);
  EXPECT_EQ(kept.fills(), 0);
}

TEST(PreparedBuffers, AnotherKernelFillsItsOwn) {
  std::shared_ptr<const Kernel> first = compile_linear(), second = compile_linear();
  HostTensor x = HostTensor::random({64, 128}, DType::F32, 6);
  HostTensor w = HostTensor::random({256, 128}, DType::F32, 7);
  PreparedBuffers kept;
  const std::vector<bool> constant = {false, true};
  keeping(*first, x, w, kept, constant);
  EXPECT_FALSE(kept.ready(*second, constant));
  // Even with nothing to keep: a launch of another kernel would take the buffers over.
  EXPECT_FALSE(kept.ready(*second, {false, false}));
  EXPECT_TRUE(kept.ready(*first, {false, false}));
  EXPECT_LE(max_difference(keeping(*second, x, w, kept, constant), fresh(*first, x, w)), 1e-5);
  EXPECT_EQ(kept.fills(), 2);
  EXPECT_EQ(kept.kernel(), second->id());
}

}  // namespace
}  // namespace kiln

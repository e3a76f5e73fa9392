#include "core/runtime/kernel_timing.h"

#include <gtest/gtest.h>

#include <chrono>

namespace kiln {
namespace {

/// Spins 50 µs per call, but every fourth call 2 ms: a kernel that another process keeps
/// interrupting.
class InterruptedKernel final : public Kernel {
 public:
  InterruptedKernel() : Kernel(LoweredFunc{}) {}
  void launch(void* const*) const override {
    auto length =
        ++calls_ % 4 == 0 ? std::chrono::microseconds(2000) : std::chrono::microseconds(50);
    auto until = std::chrono::steady_clock::now() + length;
    while (std::chrono::steady_clock::now() < until) {
    }
  }

 private:
  mutable int calls_ = 0;
};

TEST(KernelTiming, TheFastestSampleIsTheKernelsOwnTimeThoughMostTimeWasInterrupted) {
  InterruptedKernel kernel;
  // Most of the time goes to the interrupted calls: the mean is ~10x the kernel's own time.
  double mean = seconds_per_call(kernel, nullptr, 0.02);
  EXPECT_GT(mean, 300e-6);
  double fastest = fastest_sample_per_call(kernel, nullptr, 0.02, 1e-4);
  EXPECT_GE(fastest, 50e-6);
  EXPECT_LT(fastest, 150e-6);
}

TEST(KernelTiming, WithNoTimeToSpendItStillCallsOnce) {
  InterruptedKernel kernel;
  double fastest = fastest_sample_per_call(kernel, nullptr, 0, 0);
  EXPECT_GE(fastest, 50e-6);
  EXPECT_LT(fastest, 1e-3);
}

}  // namespace
}  // namespace kiln

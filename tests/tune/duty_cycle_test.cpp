#include "core/tune/duty_cycle.h"

#include <gtest/gtest.h>

namespace kiln {
namespace {

/// `calls` kernel calls of `ns_per_call` each.
CallSample calls(uint64_t calls, uint64_t ns_per_call) {
  return {calls * ns_per_call, calls};
}

TEST(DutyCycle, AModelThatIsNotCalledCostsNoPause) {
  DutyCycle duty(0.10);
  EXPECT_EQ(duty.after_work(0.5, {}), 0);
  EXPECT_EQ(duty.duty(), 1);
  EXPECT_EQ(duty.slowdown(), 0);
}

TEST(DutyCycle, PausesAsLongAsItWorkedUntilPausesHaveSeenCalls) {
  DutyCycle duty(0.10);
  EXPECT_DOUBLE_EQ(duty.after_work(0.4, calls(100, 1000)), 0.4);
  duty.after_pause(calls(3, 1000));  // too few calls to believe
  EXPECT_DOUBLE_EQ(duty.after_work(0.4, calls(100, 1000)), 0.4);
}

TEST(DutyCycle, WorksFreelyWhileTheModelDoesNotSlowBeyondTheLimit) {
  DutyCycle duty(0.10);
  duty.after_work(0.2, calls(100, 1050));
  duty.after_pause(calls(100, 1000));
  EXPECT_NEAR(duty.slowdown(), 0.05, 1e-9);
  EXPECT_EQ(duty.duty(), 1);
  EXPECT_EQ(duty.after_work(0.2, calls(100, 1050)), 0);
}

TEST(DutyCycle, KeepsTheMeanSlowdownAtTheLimit) {
  DutyCycle duty(0.10);
  for (int i = 0; i < 10; ++i) {
    duty.after_work(0.2, calls(100, 1400));  // 40% slower while it works
    duty.after_pause(calls(100, 1000));
  }
  EXPECT_NEAR(duty.slowdown(), 0.40, 1e-9);
  EXPECT_NEAR(duty.duty(), 0.25, 1e-9);
  double pause = duty.after_work(0.2, calls(100, 1400));
  EXPECT_NEAR(pause, 0.6, 1e-9);
  EXPECT_NEAR(0.2 / (0.2 + pause) * duty.slowdown(), 0.10, 1e-9);
}

TEST(DutyCycle, ForgetsOldPeriodsAndNeverStopsTheTuner) {
  DutyCycle duty(0.10);
  for (int i = 0; i < 5; ++i) {
    duty.after_work(0.1, calls(50, 100000));  // a thousand times slower
    duty.after_pause(calls(50, 100));
  }
  EXPECT_GT(duty.duty(), 0);  // a floor: tuning still ends
  EXPECT_LT(duty.duty(), 0.1);
  for (int i = 0; i < 40; ++i) {  // the model's cost under the tuner went away
    duty.after_work(0.1, calls(50, 100));
    duty.after_pause(calls(50, 100));
  }
  EXPECT_LT(duty.slowdown(), 0.10);
  EXPECT_EQ(duty.duty(), 1);
}

TEST(DutyCycle, ReMeasuresTheQuietSideAfterSecondsOfWorkWithoutAPause) {
  DutyCycle duty(0.10);
  duty.after_work(0.5, calls(100, 2000));
  duty.after_pause(calls(100, 2000));  // before a swap made the model twice as fast
  for (int i = 0; i < 9; ++i)          // 4.5 s
    EXPECT_EQ(duty.after_work(0.5, calls(100, 1000)), 0);  // reads as no slowdown at all
  // The probe: as long as the work before it (here also long enough for 16 calls).
  EXPECT_DOUBLE_EQ(duty.after_work(0.5, calls(100, 1000)), 0.5);
  for (int i = 0; i < 10; ++i) duty.after_pause(calls(100, 800));  // the truth: 25% slower
  EXPECT_GT(duty.slowdown(), 0.15);
  EXPECT_LT(duty.duty(), 1);
}

TEST(DutyCycle, AProbeLastsLongEnoughToSeeCallsOfASlowModel) {
  DutyCycle duty(0.10);
  duty.after_work(0.5, calls(10, 1000));
  duty.after_pause(calls(10, 1000));
  for (int i = 0; i < 9; ++i) duty.after_work(0.5, calls(10, 1000));
  // 10 calls in 0.5 s: 16 calls take 0.8 s, longer than the work period.
  EXPECT_DOUBLE_EQ(duty.after_work(0.5, calls(10, 1000)), 0.8);
}

TEST(DutyCycle, ASwapForgetsBothSides) {
  DutyCycle duty(0.10);
  for (int i = 0; i < 5; ++i) {
    duty.after_work(0.2, calls(100, 1400));
    duty.after_pause(calls(100, 1000));
  }
  EXPECT_GT(duty.slowdown(), 0.3);
  duty.model_changed();
  EXPECT_EQ(duty.slowdown(), 0);
  EXPECT_DOUBLE_EQ(duty.after_work(0.3, calls(100, 700)), 0.3);  // re-measures from scratch
}

}  // namespace
}  // namespace kiln

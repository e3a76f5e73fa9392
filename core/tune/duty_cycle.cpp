#include "core/tune/duty_cycle.h"

#include <algorithm>

namespace kiln {

namespace {

constexpr double kForget = 0.8;    ///< Weight of what was known before each new sample.
constexpr double kMinDuty = 0.05;  ///< The tuner always progresses, however costly.

}  // namespace

void DutyCycle::add(Decaying& into, CallSample sample) {
  if (sample.calls == 0) return;
  into.ns = into.ns * kForget + static_cast<double>(sample.ns);
  into.calls = into.calls * kForget + static_cast<double>(sample.calls);
}

double DutyCycle::slowdown() const {
  if (loaded_.calls < kMinCalls || quiet_.calls < kMinCalls || quiet_.ns <= 0) return 0;
  double loaded = loaded_.ns / loaded_.calls, quiet = quiet_.ns / quiet_.calls;
  return std::max(0.0, loaded / quiet - 1);
}

double DutyCycle::duty() const {
  double s = slowdown();
  return s <= max_slowdown_ ? 1.0 : std::max(kMinDuty, max_slowdown_ / s);
}

double DutyCycle::after_work(double work_seconds, CallSample during) {
  if (during.calls == 0) return 0;
  add(loaded_, during);
  // Until pauses have seen calls, the tuner works at half speed: the quiet side needs samples.
  if (quiet_.calls < kMinCalls) return work_seconds;
  return work_seconds * (1 / duty() - 1);
}

}  // namespace kiln

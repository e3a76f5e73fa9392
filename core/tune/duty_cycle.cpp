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
  work_since_pause_ += work_seconds;
  // Until pauses have seen calls, the tuner works at half speed: the quiet side needs samples.
  if (quiet_.calls < kMinCalls) return work_seconds;
  double pause = work_seconds * (1 / duty() - 1);
  if (pause > 0 || work_since_pause_ < kProbeAfterSeconds) return pause;
  // A probe: long enough for twice kMinCalls at the rate the model was called while it worked.
  double seconds_per_call = work_seconds / static_cast<double>(during.calls);
  return std::max(std::min(work_seconds, 1.0), 2 * kMinCalls * seconds_per_call);
}

void DutyCycle::after_pause(CallSample during) {
  work_since_pause_ = 0;
  add(quiet_, during);
}

}  // namespace kiln

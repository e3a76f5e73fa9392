// How much of its time the background tuner may work so that the model it shares the machine
// with slows down by at most a set fraction. The tuner runs at idle priority, so it never takes a
// core from the model; what remains is what it leaves behind: caches holding its data instead of
// the model's (a small MLP, whose weights live in the core's L2, ran 19% slower while tuning on
// 2 cores). No constant fits every model and machine, so the cost is measured: the service works
// and pauses in turns, the model's calls in each are timed (whole graph calls as the plugin
// reports them, else the slots' kernel counters), and the pause after each piece of work is set
// so that
//
//     work / (work + pause) * (loaded / quiet - 1) <= max_slowdown,
//
// `loaded` and `quiet` being the mean time per call while the tuner worked and while it paused.
// A model that is not called costs nothing to slow down: no samples, no pauses.
//
// The quiet side must stay current: a tuner that works freely (duty 1) never pauses, and a quiet
// mean measured before a swap made the model faster would read any later slowdown as none. So
// after every few seconds of work without a pause the tuner pauses once to re-measure (a probe),
// and a swap (the model changed) forgets both sides.
#pragma once

#include <cstdint>

namespace kiln {

/// Kernel time and calls of the model's slots over a period.
struct CallSample {
  uint64_t ns = 0;
  uint64_t calls = 0;
};

class DutyCycle {
 public:
  /// `max_slowdown`: the mean slowdown allowed (0.1: calls 10% slower on average).
  explicit DutyCycle(double max_slowdown) : max_slowdown_(max_slowdown) {}

  /// After `work_seconds` of work during which the model's slots ran `during`: how many
  /// seconds to pause. None when the model was not called; as long as the work before the calls
  /// of a pause have been seen.
  double after_work(double work_seconds, CallSample during);
  /// The model's calls during a pause.
  void after_pause(CallSample during);
  /// The model's kernels changed (a swap): what was measured of the old ones is forgotten.
  void model_changed() { loaded_ = quiet_ = {}; }

  /// The slowdown measured so far (loaded / quiet - 1, at least 0); 0 until both are known.
  double slowdown() const;
  /// The share of time the tuner may work, in (0, 1].
  double duty() const;

 private:
  /// Counters that forget: older periods weigh less, so swaps and phases of the model show.
  struct Decaying {
    double ns = 0, calls = 0;
  };
  static void add(Decaying& into, CallSample sample);
  static constexpr double kMinCalls = 8;  ///< Calls either side before a slowdown is believed.
  /// Work without a pause after which the quiet side is re-measured.
  static constexpr double kProbeAfterSeconds = 5;

  double max_slowdown_;
  Decaying loaded_, quiet_;
  double work_since_pause_ = 0;  ///< Seconds.
};

}  // namespace kiln

// Measuring candidates on the real machine, isolated: each candidate runs in a forked child
// process with a timeout, so a candidate that crashes, hangs or computes garbage is a recorded
// failure and never harms the tuning process (which may be the user's PyTorch process).
#pragma once

#include <string>
#include <vector>

#include "core/runtime/host_tensor.h"
#include "core/runtime/kernel_compiler.h"
#include "core/schedule/schedule.h"
#include "core/tune/task.h"

namespace kiln {

enum class MeasureStatus : uint8_t {
  Ok,
  InvalidSchedule,  ///< The schedule does not lower (a ScheduleError).
  CompileError,     ///< The backend refused it.
  Crash,            ///< The child died of a signal.
  Timeout,          ///< The child ran past the timeout and was killed.
  WrongResult,      ///< Outputs differ from the reference.
};

std::string_view measure_status_name(MeasureStatus s);

struct MeasureResult {
  MeasureStatus status = MeasureStatus::Ok;
  double seconds = 0;  ///< Median time per call.
  double spread = 0;   ///< (slowest - fastest) / median of the repeats.
  std::string error;   ///< What went wrong, for failures.

  bool ok() const { return status == MeasureStatus::Ok; }
};

struct MeasureOptions {
  int threads = 1;                   ///< Threads the kernel may use while measured.
  int repeats = 5;                   ///< Timed repeats; the median is reported.
  double min_repeat_seconds = 0.01;  ///< Each repeat calls the kernel until this much time passed.
  double timeout_seconds = 10;       ///< For the whole child: warm-up, check and repeats.
  double atol = 1e-3, rtol = 1e-3;   ///< Against the reference (summation order differs).
};

class Measurer {
 public:
  /// Makes reproducible random inputs and the reference outputs: the task's default schedule,
  /// which the test suite checks against the interpreter.
  Measurer(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions options = {});

  /// Lowers and compiles `candidate` here, then runs, checks and times it in a child process.
  MeasureResult measure(const Schedule& candidate) const;
  /// The same for a function already lowered (its params must match the task's).
  MeasureResult measure(const LoweredFunc& f) const;

  const MeasureOptions& options() const { return options_; }

 private:
  MeasureResult run_isolated(const Kernel& kernel) const;

  const KernelCompiler& compiler_;
  MeasureOptions options_;
  std::vector<HostTensor> inputs_, reference_;
};

}  // namespace kiln

// Measuring candidates on the real machine, isolated: each candidate runs in another process with
// a timeout, so a candidate that crashes, hangs or computes garbage is a recorded failure and never
// harms the tuning process. That process is a kiln-measure-worker (MeasureOptions::worker), which
// is the only safe choice inside a user's PyTorch process: forking a process whose other threads
// may hold locks (torch's, OpenMP's) can deadlock the child. Tools and benchmarks that measure from
// a single-threaded process may fork a child per candidate instead.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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
/// Parses a name printed by measure_status_name; throws Error on an unknown name.
MeasureStatus measure_status_from_name(std::string_view name);

struct MeasureResult {
  MeasureStatus status = MeasureStatus::Ok;
  double seconds = 0;  ///< Time per call: the fastest sample (see check_and_time).
  double spread = 0;   ///< (median repeat's fastest sample - fastest) / fastest.
  std::string error;   ///< What went wrong, for failures.

  bool ok() const { return status == MeasureStatus::Ok; }
};

struct MeasureOptions {
  int threads = 1;                   ///< Threads the kernel may use while measured.
  int repeats = 5;                   ///< Timed repeats; the median is reported.
  double min_repeat_seconds = 0.01;  ///< Each repeat calls the kernel until this much time passed.
  double timeout_seconds = 10;       ///< For one candidate: loading, check and repeats.
  double atol = 1e-3, rtol = 1e-3;   ///< Against the reference (summation order differs).
  /// The kiln-measure-worker executable that runs candidates (and the reference); then no kernel
  /// runs in this process. Empty: a forked child per candidate, which only a single-threaded
  /// process may use (see above).
  std::string worker = {};
};

struct MeasureTask;
class MeasureWorkerPool;

/// Measures candidate kernels of one task against its default schedule. Thread-safe.
class Measurer {
 public:
  /// Lowers the reference: the task's default schedule, which the test suite checks against the
  /// interpreter. Without a worker, also makes the inputs (measurement_inputs) and runs the
  /// reference here; with one, compiles it to object code for the worker, which does that.
  Measurer(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions options = {});

  /// Lowers and compiles `candidate` here, then runs, checks and times it in another process.
  MeasureResult measure(const Schedule& candidate) const;
  /// The same for a function already lowered. Throws Error when its parameters (dtype, shape,
  /// strides) differ from the task's.
  MeasureResult measure(const LoweredFunc& f) const;

  const MeasureOptions& options() const { return options_; }

 private:
  MeasureResult run_forked(const Kernel& kernel) const;

  const KernelCompiler& compiler_;
  MeasureOptions options_;
  std::vector<Tensor> params_;  // the reference's: what every candidate must take
  int num_inputs_ = 0;
  std::vector<HostTensor> inputs_, reference_;  // fork only
  std::shared_ptr<const MeasureTask> task_;     // worker only
  MeasureWorkerPool* workers_ = nullptr;        // worker only; lives as long as the process
};

// What a measuring process (a forked child, kiln-measure-worker) does; the same code in both, so
// that their numbers compare.

/// The inputs of every measurement of a function with `f`'s parameters: input i is random in
/// [-1, 1) from seed i + 1, laid out with the parameter's strides; the same in every process.
std::vector<HostTensor> measurement_inputs(const LoweredFunc& f);
/// Runs `reference` once on `inputs` and returns its outputs (row-major).
std::vector<HostTensor> reference_outputs(const Kernel& reference,
                                          const std::vector<HostTensor>& inputs);
/// Runs `kernel` once on `inputs`, compares its outputs with `reference`, then times it as
/// `options` say, on the current thread pool: its fastest short sample over the repeats (see
/// MeasureResult). An exception is a Crash result.
MeasureResult check_and_time(const Kernel& kernel, const std::vector<HostTensor>& inputs,
                             const std::vector<HostTensor>& reference,
                             const MeasureOptions& options);

}  // namespace kiln

#include "core/tune/measure.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/runtime/kernel_timing.h"
#include "core/runtime/tensor_layout.h"
#include "core/runtime/thread_pool.h"
#include "core/schedule/lower.h"
#include "core/support/error.h"
#include "core/templates/default_schedule.h"
#include "core/tune/measure_protocol.h"
#include "core/tune/measure_worker.h"

namespace kiln {

namespace {

/// What the forked child writes back through its pipe.
struct ChildReport {
  MeasureStatus status;
  double seconds;
  double spread;
  char error[512];
};

std::vector<HostTensor> zeroed_outputs(const LoweredFunc& f) {
  std::vector<HostTensor> outs;
  for (size_t i = f.num_inputs; i < f.params.size(); ++i)
    outs.push_back(HostTensor::zeros(f.params[i]->shape, f.params[i]->dtype));
  return outs;
}

std::vector<void*> pointers(const std::vector<HostTensor>& inputs,
                            const std::vector<HostTensor>& outputs) {
  std::vector<void*> args;
  for (auto& t : inputs) args.push_back(t.data());
  for (auto& t : outputs) args.push_back(t.data());
  return args;
}

/// Runs in the forked child: check and time, report, exit.
[[noreturn]] void child_main(int fd, const Kernel& kernel, const std::vector<HostTensor>& inputs,
                             const std::vector<HostTensor>& reference, const MeasureOptions& opt) {
  // The parent's pool threads do not exist here: give the kernel a pool of its own.
  std::unique_ptr<ThreadPool> pool = make_thread_pool(opt.threads);
  set_thread_pool(pool.get());
  MeasureResult r = check_and_time(kernel, inputs, reference, opt);
  ChildReport report{r.status, r.seconds, r.spread, {}};
  std::strncpy(report.error, r.error.c_str(), sizeof report.error - 1);
  ssize_t written = write(fd, &report, sizeof report);
  _exit(written == sizeof report ? 0 : 3);
}

/// Throws Error unless `f` takes parameters laid out as `params`.
void check_params(const LoweredFunc& f, const std::vector<Tensor>& params, int num_inputs) {
  if (f.params.size() != params.size() || f.num_inputs != num_inputs)
    throw Error(str_cat("measure: '", f.name, "' takes ", f.params.size(), " parameters (",
                        f.num_inputs, " inputs), the task ", params.size(), " (", num_inputs, ")"));
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor &a = f.params[i], &b = params[i];
    if (a->dtype != b->dtype || a->shape != b->shape || a->strides != b->strides)
      throw Error(str_cat("measure: parameter ", i, " of '", f.name, "' is ",
                          layout_string(a->dtype, a->shape, a->strides), ", the task's ",
                          layout_string(b->dtype, b->shape, b->strides)));
  }
}

}  // namespace

std::string_view measure_status_name(MeasureStatus s) {
  static constexpr std::string_view names[] = {"ok",    "invalid schedule", "compile error",
                                               "crash", "timeout",          "wrong result"};
  return names[static_cast<int>(s)];
}

MeasureStatus measure_status_from_name(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(MeasureStatus::WrongResult); ++i)
    if (measure_status_name(static_cast<MeasureStatus>(i)) == name)
      return static_cast<MeasureStatus>(i);
  throw Error(str_cat("unknown measure status '", name, "'"));
}

std::vector<HostTensor> measurement_inputs(const LoweredFunc& f) {
  std::vector<HostTensor> inputs;
  for (int i = 0; i < f.num_inputs; ++i) {
    const Tensor& p = f.params[i];
    inputs.push_back(HostTensor::random(p->shape, p->dtype, i + 1, -1, 1, p->strides));
  }
  return inputs;
}

std::vector<HostTensor> reference_outputs(const Kernel& reference,
                                          const std::vector<HostTensor>& inputs) {
  std::vector<HostTensor> outputs = zeroed_outputs(reference.func());
  std::vector<void*> args = pointers(inputs, outputs);
  reference.launch(args.data());
  return outputs;
}

MeasureResult check_and_time(const Kernel& kernel, const std::vector<HostTensor>& inputs,
                             const std::vector<HostTensor>& reference, const MeasureOptions& opt) {
  try {
    std::vector<HostTensor> outputs = zeroed_outputs(kernel.func());
    std::vector<void*> args = pointers(inputs, outputs);
    kernel.launch(args.data());
    for (size_t i = 0; i < outputs.size(); ++i) {
      double err = max_relative_error(outputs[i], reference[i], opt.atol, opt.rtol);
      if (!(err <= 1))
        return {MeasureStatus::WrongResult, 0, 0,
                str_cat("output ", i, " differs from the reference (", err, " of tolerance)")};
    }
    // The fastest short sample of all repeats: a background tuner measures beside the model it
    // tunes, whose calls preempt the measurement (it runs at idle priority) and only ever add
    // time; a mean or median would rank candidates by how often they were interrupted. The
    // spread, how far the median repeat's fastest sample lies above it, says how disturbed the
    // measurement was.
    constexpr double kSampleSeconds = 2e-4;
    std::vector<double> samples;
    for (int r = 0; r < std::max(1, opt.repeats); ++r)
      samples.push_back(
          fastest_sample_per_call(kernel, args.data(), opt.min_repeat_seconds, kSampleSeconds));
    std::sort(samples.begin(), samples.end());
    double fastest = samples.front();
    return {MeasureStatus::Ok, fastest, (samples[samples.size() / 2] - fastest) / fastest, ""};
  } catch (const std::exception& e) {
    return {MeasureStatus::Crash, 0, 0, str_cat("exception: ", e.what())};
  }
}

Measurer::Measurer(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions options)
    : compiler_(compiler), options_(std::move(options)) {
  LoweredFunc reference =
      lower(default_schedule(task.outputs, compiler.target()), task.name + "_reference");
  params_ = reference.params;
  num_inputs_ = reference.num_inputs;
  if (options_.worker.empty()) {
    inputs_ = measurement_inputs(reference);
    reference_ = reference_outputs(*compiler.compile(reference), inputs_);
  } else {
    task_ = std::make_shared<MeasureTask>(
        MeasureTask::of(reference, compiler.compile_object(reference)));
    workers_ = &MeasureWorkerPool::of(options_.worker);
  }
}

MeasureResult Measurer::measure(const Schedule& candidate) const {
  LoweredFunc f;
  try {
    f = lower(candidate, "candidate");
  } catch (const ScheduleError& e) {
    return {MeasureStatus::InvalidSchedule, 0, 0, e.what()};
  }
  return measure(f);
}

MeasureResult Measurer::measure(const LoweredFunc& f) const {
  check_params(f, params_, num_inputs_);
  std::unique_ptr<Kernel> kernel;
  ObjectCode code;
  try {
    if (workers_)
      code = compiler_.compile_object(f);
    else
      kernel = compiler_.compile(f);
  } catch (const Error& e) {
    return {MeasureStatus::CompileError, 0, 0, e.what()};
  }
  return workers_ ? workers_->measure(*task_, code, options_) : run_forked(*kernel);
}

MeasureResult Measurer::run_forked(const Kernel& kernel) const {
  int fds[2];
  if (pipe(fds) != 0) throw Error(str_cat("measure: pipe failed: ", std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]), close(fds[1]);
    throw Error(str_cat("measure: fork failed: ", std::strerror(errno)));
  }
  if (pid == 0) {
    close(fds[0]);
    child_main(fds[1], kernel, inputs_, reference_, options_);
  }
  close(fds[1]);
  ChildReport report{};
  ssize_t got = 0;
  pollfd p{fds[0], POLLIN, 0};
  int ready = poll(&p, 1, static_cast<int>(options_.timeout_seconds * 1000));
  if (ready > 0) got = read(fds[0], &report, sizeof report);
  close(fds[0]);
  if (ready == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return {MeasureStatus::Timeout, 0, 0, str_cat("killed after ", options_.timeout_seconds, " s")};
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return {MeasureStatus::Crash, 0, 0,
            str_cat("signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")")};
  if (got != static_cast<ssize_t>(sizeof report))
    return {MeasureStatus::Crash, 0, 0,
            str_cat("the measuring process exited with status ", WEXITSTATUS(status))};
  return {report.status, report.seconds, report.spread, report.error};
}

}  // namespace kiln

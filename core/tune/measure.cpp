#include "core/tune/measure.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "core/ir/error.h"
#include "core/runtime/thread_pool.h"
#include "core/schedule/default_schedule.h"
#include "core/schedule/lower.h"

namespace kiln {

namespace {

/// What the child writes back through its pipe.
struct ChildReport {
  MeasureStatus status;
  double seconds;
  double spread;
  char error[512];
};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::vector<HostTensor> fresh_outputs(const LoweredFunc& f) {
  std::vector<HostTensor> outs;
  for (size_t i = f.num_inputs; i < f.params.size(); ++i)
    outs.push_back(HostTensor::zeros(f.params[i]->shape, f.params[i]->dtype));
  return outs;
}

std::vector<void*> pointers(const std::vector<HostTensor>& inputs, const std::vector<HostTensor>& outputs) {
  std::vector<void*> args;
  for (auto& t : inputs) args.push_back(t.data());
  for (auto& t : outputs) args.push_back(t.data());
  return args;
}

/// Runs in the child: check against the reference, then time. Never returns.
[[noreturn]] void child_main(int fd, const Kernel& kernel, const std::vector<HostTensor>& inputs,
                             const std::vector<HostTensor>& reference, const MeasureOptions& opt) {
  ChildReport report{};
  auto finish = [&](MeasureStatus status, const std::string& error) {
    report.status = status;
    std::strncpy(report.error, error.c_str(), sizeof report.error - 1);
    ssize_t written = write(fd, &report, sizeof report);
    _exit(written == sizeof report ? 0 : 3);
  };
  // The parent's pool threads do not exist here: give the kernel a pool of its own.
  std::unique_ptr<ThreadPool> pool = make_thread_pool(opt.threads);
  set_thread_pool(pool.get());
  try {
    std::vector<HostTensor> outputs = fresh_outputs(kernel.func());
    std::vector<void*> args = pointers(inputs, outputs);
    kernel.launch(args.data());
    for (size_t i = 0; i < outputs.size(); ++i) {
      double err = max_relative_error(outputs[i], reference[i], opt.atol, opt.rtol);
      if (!(err <= 1))
        finish(MeasureStatus::WrongResult,
               str_cat("output ", i, " differs from the reference (", err, " of tolerance)"));
    }
    std::vector<double> samples;
    for (int r = 0; r < std::max(1, opt.repeats); ++r) {
      int calls = 0;
      double start = now_seconds(), elapsed = 0;
      do {
        kernel.launch(args.data());
        ++calls;
        elapsed = now_seconds() - start;
      } while (elapsed < opt.min_repeat_seconds);
      samples.push_back(elapsed / calls);
    }
    std::sort(samples.begin(), samples.end());
    report.seconds = samples[samples.size() / 2];
    report.spread = (samples.back() - samples.front()) / report.seconds;
    finish(MeasureStatus::Ok, "");
  } catch (const std::exception& e) {
    finish(MeasureStatus::Crash, str_cat("exception: ", e.what()));
  }
  _exit(4);  // not reached: finish() exits
}

}  // namespace

std::string_view measure_status_name(MeasureStatus s) {
  static constexpr std::string_view names[] = {"ok",    "invalid schedule", "compile error",
                                               "crash", "timeout",          "wrong result"};
  return names[static_cast<int>(s)];
}

Measurer::Measurer(const TuningTask& task, const KernelCompiler& compiler, MeasureOptions options)
    : compiler_(compiler), options_(options) {
  uint64_t seed = 1;
  for (auto& p : placeholders_of(task.outputs))
    inputs_.push_back(HostTensor::random(p->shape, p->dtype, seed++, -1, 1, p->strides));
  LoweredFunc reference = lower(default_schedule(task.outputs, compiler.target()), task.name + "_reference");
  auto kernel = compiler.compile(reference);
  reference_ = fresh_outputs(reference);
  std::vector<void*> args = pointers(inputs_, reference_);
  kernel->launch(args.data());
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
  std::unique_ptr<Kernel> kernel;
  try {
    kernel = compiler_.compile(f);
  } catch (const Error& e) {
    return {MeasureStatus::CompileError, 0, 0, e.what()};
  }
  return run_isolated(*kernel);
}

MeasureResult Measurer::run_isolated(const Kernel& kernel) const {
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
    return {MeasureStatus::Timeout, 0, 0,
            str_cat("killed after ", options_.timeout_seconds, " s")};
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status))
    return {MeasureStatus::Crash, 0, 0, str_cat("signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")")};
  if (got != static_cast<ssize_t>(sizeof report))
    return {MeasureStatus::Crash, 0, 0, str_cat("the measuring process exited with status ", WEXITSTATUS(status))};
  return {report.status, report.seconds, report.spread, report.error};
}

}  // namespace kiln

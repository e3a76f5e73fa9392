// The client side of kiln-measure-worker: starting the worker executable (posix_spawn, never a
// fork of this process), talking to it (measure_protocol.h), and replacing it when it dies.
#pragma once

#include <sys/types.h>

#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/tune/measure.h"
#include "core/tune/measure_protocol.h"

namespace kiln {

/// One running kiln-measure-worker and the socket to it (its stdin and stdout). One measurement
/// at a time. A worker that crashed, hung or broke the protocol is killed and reaped at once, and
/// from then on is not usable(): the owner replaces it.
class MeasureWorker {
 public:
  /// Starts the executable `path` with no fd but the socket, stdin and stdout redirected to it,
  /// and stderr, with no signal blocked or ignored; waits until it says it is ready. Throws
  /// Error when it cannot be started or does not get ready.
  explicit MeasureWorker(const std::string& path);
  /// Closes the socket and kills the process (it holds nothing worth waiting for).
  ~MeasureWorker();
  MeasureWorker(const MeasureWorker&) = delete;
  MeasureWorker& operator=(const MeasureWorker&) = delete;

  /// Measures `candidate`, the object code of a function with `task`'s parameters, sending
  /// `task` first when this worker does not hold it. A crash or timeout of the worker (while it
  /// runs the reference or the candidate) is the result, with the worker killed. nullopt when the
  /// worker was already gone before it read the request: not the candidate's doing.
  std::optional<MeasureResult> measure(const MeasureTask& task, const ObjectCode& candidate,
                                       const MeasureOptions& options);

  bool usable() const { return pid_ > 0; }
  /// The worker's process id; -1 once it is gone.
  pid_t pid() const { return pid_; }

 private:
  /// Sends `request` and reads the Result frame by the deadline; kills the worker on anything
  /// but a well-formed reply. nullopt when the request could not be sent.
  std::optional<MeasureResult> exchange(const std::string& request, double timeout_seconds);
  /// Kills and reaps the worker; how it ended, for an error message.
  std::string kill_and_reap();
  /// Waits for the worker that closed its socket to exit; how it ended.
  std::string reap();

  pid_t pid_ = -1;
  int fd_ = -1;
  std::deque<uint64_t> tasks_;  // what the worker holds, oldest first, as it keeps them
};

/// The workers of one executable, shared by every Measurer in this process: a measurement borrows
/// an idle worker (starting one when none is idle) and gives it back, so sequential measurements
/// reuse one process and concurrent ones do not wait for each other. Thread-safe.
class MeasureWorkerPool {
 public:
  /// The pool of `path`, created on first use and never destroyed: its workers exit when this
  /// process does (their stdin closes), and no static destructor has to race other threads.
  static MeasureWorkerPool& of(const std::string& path);

  /// Measures on a worker, as MeasureWorker::measure; a worker that was gone before the request
  /// is replaced and the request sent again. A worker that ran a candidate with a wrong result is
  /// not reused: the candidate may have written outside its outputs. Throws Error when no worker
  /// can be started.
  MeasureResult measure(const MeasureTask& task, const ObjectCode& candidate,
                        const MeasureOptions& options);

  /// The process ids of the idle workers (for tests).
  std::vector<pid_t> idle_pids() const;

 private:
  explicit MeasureWorkerPool(std::string path) : path_(std::move(path)) {}
  std::unique_ptr<MeasureWorker> borrow();

  std::string path_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<MeasureWorker>> idle_;
};

}  // namespace kiln

#include "core/tune/measure_worker.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>
#include <utility>

#include "core/support/error.h"

extern char** environ;

namespace kiln {

namespace {

/// Starting means exec'ing a large static binary and setting up LLVM: seconds at worst on a
/// loaded machine, and not the candidate's time.
constexpr double kStartupSeconds = 30;

/// An fd >= 3, so that dup2 onto stdin/stdout is a real dup (which drops close-on-exec).
int above_stdio(int fd) {
  if (fd >= 3) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  if (moved < 0) throw Error(str_cat("measure: fcntl failed: ", std::strerror(errno)));
  return moved;
}

std::string exit_description(int status) {
  if (WIFSIGNALED(status))
    return str_cat("signal ", WTERMSIG(status), " (", strsignal(WTERMSIG(status)), ")");
  return str_cat("the measuring worker exited with status ", WEXITSTATUS(status));
}

/// Spawns `path` with stdin and stdout on `child_fd`; returns its pid.
pid_t spawn(const std::string& path, int child_fd) {
  posix_spawn_file_actions_t files;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&files);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_adddup2(&files, child_fd, 0);
  posix_spawn_file_actions_adddup2(&files, child_fd, 1);
  // Every other fd of this process (torch's files, sockets) stays out of the worker.
  posix_spawn_file_actions_addclosefrom_np(&files, 3);
  // The calling thread's mask (a tuning thread may block signals) and ignored signals (Python
  // ignores SIGPIPE) are inherited across exec: reset both.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::string arg0 = path;
  char* argv[] = {arg0.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, path.c_str(), &files, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&files);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    throw Error(str_cat("measure: cannot start the worker '", path, "': ", std::strerror(rc)));
  return pid;
}

}  // namespace

MeasureWorker::MeasureWorker(const std::string& path) {
  int fds[2];
  // A socket rather than pipes: send(MSG_NOSIGNAL) to a dead worker cannot raise SIGPIPE here.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw Error(str_cat("measure: socketpair failed: ", std::strerror(errno)));
  fd_ = above_stdio(fds[0]);
  int child_fd = above_stdio(fds[1]);
  try {
    pid_ = spawn(path, child_fd);
  } catch (...) {
    close(child_fd), close(fd_);
    throw;
  }
  close(child_fd);
  Frame hello;
  std::string problem;
  try {
    IoStatus s = receive_frame(fd_, &hello, steady_seconds() + kStartupSeconds);
    if (s == IoStatus::Done && hello.kind == FrameKind::Hello && hello.payload.empty()) return;
    if (s == IoStatus::Closed) problem = reap();
    if (s == IoStatus::TimedOut) problem = str_cat("no answer in ", kStartupSeconds, " s");
    if (s == IoStatus::Done) problem = "its first frame is no hello";
  } catch (const Error& e) {
    problem = e.what();  // e.g. a program that is no worker printed something
  }
  if (pid_ > 0) kill_and_reap();
  close(fd_);
  throw Error(str_cat("measure: the worker '", path, "' did not get ready: ", problem));
}

MeasureWorker::~MeasureWorker() {
  if (pid_ > 0) kill_and_reap();
  close(fd_);
}

std::optional<MeasureResult> MeasureWorker::measure(const MeasureTask& task,
                                                    const ObjectCode& candidate,
                                                    const MeasureOptions& options) {
  if (std::find(tasks_.begin(), tasks_.end(), task.id) == tasks_.end()) {
    std::optional<MeasureResult> setup =
        exchange(encode_task(task, options), options.timeout_seconds);
    if (!setup) return setup;
    if (!setup->ok()) {
      setup->error = "the reference kernel: " + setup->error;
      return setup;
    }
    tasks_.push_back(task.id);
    if (tasks_.size() > kWorkerTaskCapacity) tasks_.pop_front();
  }
  return exchange(encode_request({task.id, options, candidate}), options.timeout_seconds);
}

std::optional<MeasureResult> MeasureWorker::exchange(const std::string& request,
                                                     double timeout_seconds) {
  double deadline = steady_seconds() + timeout_seconds;
  IoStatus s = send_all(fd_, request, deadline);
  if (s == IoStatus::Closed) {
    reap();
    return std::nullopt;
  }
  Frame reply;
  try {
    if (s == IoStatus::Done) s = receive_frame(fd_, &reply, deadline);
    if (s == IoStatus::Done) {
      if (reply.kind != FrameKind::Result)
        throw MeasureProtocolError(
            "measure protocol: the worker answered with a frame that is no result");
      return decode_result(reply.payload);
    }
  } catch (const MeasureProtocolError& e) {
    // The worker runs generated code; what it sends is the candidate's failure, not a reason to
    // stop tuning.
    kill_and_reap();
    return MeasureResult{MeasureStatus::Crash, 0, 0, e.what()};
  }
  if (s == IoStatus::TimedOut) {
    kill_and_reap();
    return MeasureResult{MeasureStatus::Timeout, 0, 0,
                         str_cat("killed after ", timeout_seconds, " s")};
  }
  return MeasureResult{MeasureStatus::Crash, 0, 0, reap()};
}

std::string MeasureWorker::kill_and_reap() {
  kill(pid_, SIGKILL);
  return reap();
}

std::string MeasureWorker::reap() {
  pid_t pid = std::exchange(pid_, -1);
  int status = 0;
  // A closed socket means the worker is exiting; give it a moment before making sure.
  for (int tries = 0; tries < 1000; ++tries) {
    pid_t got = waitpid(pid, &status, WNOHANG);
    if (got == pid) return exit_description(status);
    if (got < 0 && errno != EINTR) return "the measuring worker died (its exit status is gone)";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  kill(pid, SIGKILL);
  if (waitpid(pid, &status, 0) == pid) return exit_description(status);
  return "the measuring worker died (its exit status is gone)";
}

MeasureWorkerPool& MeasureWorkerPool::of(const std::string& path) {
  static auto* mutex = new std::mutex();
  static auto* pools = new std::map<std::string, std::unique_ptr<MeasureWorkerPool>>();
  std::lock_guard lock(*mutex);
  std::unique_ptr<MeasureWorkerPool>& pool = (*pools)[path];
  if (!pool) pool.reset(new MeasureWorkerPool(path));
  return *pool;
}

std::unique_ptr<MeasureWorker> MeasureWorkerPool::borrow() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      std::unique_ptr<MeasureWorker> worker = std::move(idle_.back());
      idle_.pop_back();
      return worker;
    }
  }
  return std::make_unique<MeasureWorker>(path_);  // outside the lock: starting takes a while
}

MeasureResult MeasureWorkerPool::measure(const MeasureTask& task, const ObjectCode& candidate,
                                         const MeasureOptions& options) {
  std::unique_ptr<MeasureWorker> worker = borrow();
  std::optional<MeasureResult> result = worker->measure(task, candidate, options);
  if (!result) {
    worker = std::make_unique<MeasureWorker>(path_);
    result = worker->measure(task, candidate, options);
    if (!result)
      throw Error(str_cat("measure: the worker '", path_, "' exits before it reads a request"));
  }
  if (worker->usable() && result->status != MeasureStatus::WrongResult) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(worker));
  }
  return *result;
}

std::vector<pid_t> MeasureWorkerPool::idle_pids() const {
  std::lock_guard lock(mutex_);
  std::vector<pid_t> pids;
  for (auto& w : idle_) pids.push_back(w->pid());
  return pids;
}

}  // namespace kiln

#include "plugin/python/kiln/_C/python_log.h"

#include <pybind11/pybind11.h>

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "plugin/torch/kiln_torch.h"

namespace py = pybind11;

namespace kiln {

namespace {

/// A thread that holds the GIL logs at once. Any other thread (the tuning service, compile
/// helpers, a call with the GIL released) queues its message for a delivery thread that takes
/// the GIL to log it: a thread that logs while it holds one of Kiln's locks must never wait for
/// the GIL, which a Python thread waiting for that lock may hold.
class PythonLog {
 public:
  static PythonLog& instance() {
    static PythonLog* log = new PythonLog;  // leaked: threads may log while statics die
    return *log;
  }

  void deliver(LogLevel level, const std::string& message) {
    std::unique_lock lock(mutex_);
    if (closed_ || !Py_IsInitialized()) return to_stderr(level, message);
    if (PyGILState_Check()) {
      lock.unlock();
      deliver_queued();  // first: messages reach the logger in the order they were logged
      return emit(level, message);
    }
    queue_.emplace_back(level, message);
    if (!started_) {
      started_ = true;
      std::thread([this] { run(); }).detach();
    }
    wake_.notify_one();
  }

  /// Logs the queued messages now; needs the GIL. Messages are taken off the queue only under
  /// the GIL, so that they reach the logger in order.
  void deliver_queued() {
    std::deque<Message> queued;
    {
      std::lock_guard lock(mutex_);
      queued = std::exchange(queue_, {});
    }
    for (auto& [level, message] : queued) emit(level, message);
  }

  void close() {
    deliver_queued();
    std::lock_guard lock(mutex_);
    closed_ = true;
  }

 private:
  using Message = std::pair<LogLevel, std::string>;

  void run() {
    for (;;) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return !queue_.empty(); });
        if (closed_) {
          for (auto& [level, message] : std::exchange(queue_, {})) to_stderr(level, message);
          continue;
        }
      }
      py::gil_scoped_acquire gil;
      deliver_queued();
    }
  }

  /// logging.getLogger("kiln").log(level, message); needs the GIL. A handler that raises is
  /// reported as unraisable: logging must not throw into Kiln.
  static void emit(LogLevel level, const std::string& message) {
    static const int kPythonLevels[] = {10, 20, 30, 40};  // logging.DEBUG ... logging.ERROR
    try {
      static py::object* logger =
          new py::object(py::module_::import("logging").attr("getLogger")("kiln"));
      logger->attr("log")(kPythonLevels[static_cast<int>(level)], message);
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("kiln's log");
    }
  }

  static void to_stderr(LogLevel level, const std::string& message) {
    static const char* const kNames[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "[kiln] %s: %s\n", kNames[static_cast<int>(level)], message.c_str());
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Message> queue_;
  bool started_ = false;
  bool closed_ = false;
};

void python_sink(LogLevel level, const std::string& message) {
  PythonLog::instance().deliver(level, message);
}

}  // namespace

void route_log_to_python() {
  route_log(&python_sink);
}

void flush_python_log() {
  PythonLog::instance().deliver_queued();
}

void close_python_log() {
  PythonLog::instance().close();
}

}  // namespace kiln

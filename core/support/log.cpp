#include "core/support/log.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "core/support/error.h"

namespace kiln {

namespace {

constexpr std::array<std::string_view, 4> kLevelNames = {"debug", "info", "warning", "error"};

/// The level named `name`, or -1.
int level_index(std::string_view name) {
  for (size_t i = 0; i < kLevelNames.size(); ++i)
    if (kLevelNames[i] == name) return static_cast<int>(i);
  return -1;
}

/// KILN_LOG when it names a level, else warning. A bad variable must not stop the library from
/// loading; the Python package warns about it once (kiln.log).
int initial_level() {
  const char* env = std::getenv("KILN_LOG");
  int level = env ? level_index(env) : -1;
  return level >= 0 ? level : static_cast<int>(LogLevel::Warning);
}

std::atomic<int>& current_level() {
  static std::atomic<int> level{initial_level()};
  return level;
}

std::atomic<LogSink> sink{nullptr};

}  // namespace

void set_log_threshold(std::string_view level) {
  int index = level_index(level);
  if (index < 0)
    throw Error(str_cat("unknown log level '", level, "' (expected debug, info, warning, error)"));
  current_level().store(index, std::memory_order_relaxed);
}

void set_log_sink(LogSink s) {
  sink.store(s);
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= current_level().load(std::memory_order_relaxed);
}

void log_message(LogLevel level, const std::string& message) {
  if (!log_enabled(level)) return;
  if (LogSink s = sink.load()) return s(level, message);
  // One fprintf per line: stdio locks the stream, so lines from threads do not interleave.
  std::fprintf(stderr, "[kiln] %s: %s\n", kLevelNames[static_cast<int>(level)].data(),
               message.c_str());
}

}  // namespace kiln

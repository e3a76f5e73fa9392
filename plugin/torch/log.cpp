#include "plugin/torch/log.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "core/ir/error.h"
#include "plugin/torch/kiln_torch.h"

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
/// loading, so it is reported once here rather than thrown.
int initial_level() {
  const char* env = std::getenv("KILN_LOG");
  if (!env || !*env) return static_cast<int>(LogLevel::Warning);
  int level = level_index(env);
  if (level >= 0) return level;
  std::fprintf(stderr, "[kiln] warning: KILN_LOG=%s is not one of debug, info, warning, error\n",
               env);
  return static_cast<int>(LogLevel::Warning);
}

std::atomic<int>& current_level() {
  static std::atomic<int> level{initial_level()};
  return level;
}

}  // namespace

void set_log_level(std::string_view level) {
  int index = level_index(level);
  if (index < 0)
    throw Error(str_cat("unknown log level '", level, "' (expected debug, info, warning, error)"));
  current_level().store(index, std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= current_level().load(std::memory_order_relaxed);
}

void log_message(LogLevel level, const std::string& message) {
  if (!log_enabled(level)) return;
  // One fprintf per line: stdio locks the stream, so lines from threads do not interleave.
  std::fprintf(stderr, "[kiln] %s: %s\n", kLevelNames[static_cast<int>(level)].data(),
               message.c_str());
}

}  // namespace kiln

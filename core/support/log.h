// Kiln's diagnostics: one message per event, filtered by a level that starts from the KILN_LOG
// environment variable (debug, info, warning, error; default warning). Messages go to stderr
// until the host installs a sink: the Python package routes them to logging.getLogger("kiln")
// and keeps the level in step with that logger's.
#pragma once

#include <string>
#include <string_view>

namespace kiln {

enum class LogLevel : int { Debug, Info, Warning, Error };

/// Where messages go. Called on the thread that logs, possibly several at once; it must not
/// throw.
using LogSink = void (*)(LogLevel level, const std::string& message);

/// True when messages of `level` are delivered.
bool log_enabled(LogLevel level);
/// Delivers `message` when `level` is enabled: to the sink, else "[kiln] <level>: <message>" on
/// stderr. Thread-safe.
void log_message(LogLevel level, const std::string& message);
/// Sets the level by name (debug, info, warning, error); throws Error for another name.
void set_log_threshold(std::string_view level);
/// Installs `sink` (nullptr: stderr again).
void set_log_sink(LogSink sink);

}  // namespace kiln

// The plugin's log: one line per event on stderr, filtered by a level that starts from the
// KILN_LOG environment variable (debug, info, warning, error; default warning) and that the
// Python package keeps in step with logging.getLogger("kiln") through set_log_level (kiln_torch.h).
#pragma once

#include <string>

namespace kiln {

enum class LogLevel : int { Debug, Info, Warning, Error };

/// True when messages of `level` are printed.
bool log_enabled(LogLevel level);
/// Prints "[kiln] <level>: <message>" when `level` is enabled. Thread-safe.
void log_message(LogLevel level, const std::string& message);

}  // namespace kiln

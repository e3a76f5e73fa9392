// Kiln's C++ messages, delivered to Python's logging.getLogger("kiln").
#pragma once

namespace kiln {

/// Routes the C++ log (core/support/log.h) to the "kiln" logger from now on.
void route_log_to_python();
/// Delivers the messages other threads queued; needs the GIL. A binding that ran C++ work with
/// the GIL released calls it, so that the work's messages are logged when the call returns.
void flush_python_log();
/// At interpreter exit (called with the GIL): delivers what is queued, then sends later messages
/// to stderr, as Python can no longer take them.
void close_python_log();

}  // namespace kiln

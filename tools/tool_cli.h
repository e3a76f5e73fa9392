// What Kiln's command-line tools and benchmarks share: CLI11 parsing with conventional exits, and
// result files written whole or not at all.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace kiln::tools {

/// Parses the command line into `app`'s options. `--help` prints the help and exits 0; a usage
/// error (an unknown option, a missing or malformed value, a number out of range) prints the
/// problem and exits 2.
void parse_or_exit(CLI::App& app, int argc, char** argv);

/// Runs `body` and returns its exit status; an exception becomes "<tool>: <what>" on stderr and
/// exit status 1.
int report_errors(const char* tool, const std::function<int()>& body);

/// Writes `json` to `path` atomically: into a temporary file beside it, then renamed over it, so
/// that a reader never sees half a file and a crash never leaves one. Non-finite numbers become
/// null. Throws Error naming the path when it cannot.
void write_json_file(const std::string& path, const nlohmann::json& json);

}  // namespace kiln::tools

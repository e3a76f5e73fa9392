#include "tools/tool_cli.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/support/error.h"

namespace kiln::tools {

void parse_or_exit(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // app.exit prints the help (for --help) or the problem and a pointer to --help.
    int status = app.exit(e);
    std::exit(status == 0 ? 0 : 2);
  }
}

int report_errors(const char* tool, const std::function<int()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  }
}

void write_json_file(const std::string& path, const nlohmann::json& json) {
  namespace fs = std::filesystem;
  fs::path target(path);
  fs::path temporary = target;
  temporary += str_cat(".tmp.", getpid());
  {
    std::ofstream out(temporary);
    out << json.dump(1) << "\n";
    out.close();
    if (!out) {
      std::error_code ignored;
      fs::remove(temporary, ignored);
      throw Error(str_cat("cannot write ", temporary.string()));
    }
  }
  std::error_code error;
  fs::rename(temporary, target, error);
  if (error) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw Error(str_cat("cannot write ", path, ": ", error.message()));
  }
}

}  // namespace kiln::tools

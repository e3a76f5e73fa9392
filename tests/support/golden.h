// Golden-file comparison for the tests that check whole generated text (printed loop IR, CUDA
// C): a change shows as a diff against the file. Under KILN_UPDATE_GOLDEN=1 the file is
// rewritten instead, to be reviewed with git.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace kiln::testing {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Compares `text` with the file at `path`, or writes it there under KILN_UPDATE_GOLDEN.
inline void expect_golden_file(const std::filesystem::path& path, const std::string& text) {
  if (std::getenv("KILN_UPDATE_GOLDEN")) {
    std::ofstream(path) << text;
    return;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing: run with KILN_UPDATE_GOLDEN=1 to write it";
  EXPECT_EQ(text, read_file(path)) << path.filename() << " changed; if that is meant, rewrite "
                                   << "the golden files with KILN_UPDATE_GOLDEN=1";
}

}  // namespace kiln::testing

// The message of the error a test provokes, so that tests can check it names what is wrong.
#pragma once

#include <string>

#include "core/support/error.h"

namespace kiln::testing {

/// What `fn` throws as an `E`, or "" when it throws none (any other exception propagates).
template <typename E = Error, typename Fn>
std::string error_message(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "";
}

}  // namespace kiln::testing

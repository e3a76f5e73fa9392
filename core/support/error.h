// Kiln's two error channels: typed user errors that name what is wrong, and internal assertions.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace kiln {

/// Base of every error a user of Kiln can cause (bad input, bad schedule, unsupported op).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A malformed compute definition or loop IR: wrong dtypes, arity, free variables.
class IRError : public Error {
 public:
  using Error::Error;
};

/// A schedule primitive applied where its preconditions do not hold; names the stage and loop.
class ScheduleError : public Error {
 public:
  using Error::Error;
};

/// An op the library does not support, or an op called with invalid arguments.
class OpError : public Error {
 public:
  using Error::Error;
};

/// A backend failed to compile or load a kernel; carries the backend's own message.
class CompileError : public Error {
 public:
  using Error::Error;
};

/// A bug in Kiln itself: an invariant that should have held did not.
class InternalError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

/// Concatenates anything printable into a string, for error messages.
template <typename... Args>
std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace kiln

/// Internal assertion: throws InternalError with file, line and context when `cond` is false.
#define KILN_CHECK(cond, ...)                                                                     \
  do {                                                                                            \
    if (!(cond))                                                                                  \
      throw ::kiln::InternalError(                                                                \
          ::kiln::str_cat(__FILE__, ":", __LINE__, ": check failed: " #cond " ", ##__VA_ARGS__)); \
  } while (0)

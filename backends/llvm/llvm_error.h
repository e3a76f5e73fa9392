// LLVM's Error/Expected turned into Kiln's CompileError. Private to backends/llvm.
#pragma once

#include <string>
#include <string_view>

#include "core/support/error.h"
#include "llvm/Support/Error.h"

namespace kiln::llvm_backend {

/// Throws CompileError with `what` and LLVM's message when `err` holds an error.
inline void check(llvm::Error err, std::string_view what) {
  if (err) throw CompileError(str_cat(what, ": ", llvm::toString(std::move(err))));
}

/// The value of `expected`, or a CompileError with `what` and LLVM's message.
template <typename T>
T check(llvm::Expected<T> expected, std::string_view what) {
  if (!expected) throw CompileError(str_cat(what, ": ", llvm::toString(expected.takeError())));
  return std::move(*expected);
}

/// The reference `expected` holds, or a CompileError with `what` and LLVM's message.
template <typename T>
T& check(llvm::Expected<T&> expected, std::string_view what) {
  if (!expected) throw CompileError(str_cat(what, ": ", llvm::toString(expected.takeError())));
  return *expected;
}

}  // namespace kiln::llvm_backend

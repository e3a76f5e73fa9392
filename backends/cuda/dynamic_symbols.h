// Entry points of a library opened with dlopen (NVRTC, the CUDA driver), so that Kiln links
// against neither. Private to backends/cuda.
#pragma once

#include <dlfcn.h>

namespace kiln::cuda {

/// Sets `fn` to `symbol` in `handle`; whether it was there.
template <typename F>
bool bind_symbol(void* handle, const char* symbol, F& fn) {
  fn = reinterpret_cast<F>(dlsym(handle, symbol));
  return fn != nullptr;
}

}  // namespace kiln::cuda

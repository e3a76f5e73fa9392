// NVRTC, loaded at run time: CUDA C → a cubin for one GPU architecture. Kiln builds and runs
// without CUDA; only this asks for libnvrtc, and only when called.
#pragma once

#include <optional>
#include <string>

#include "core/support/error.h"

namespace kiln::cuda {

/// A failed NVRTC compile: the message carries NVRTC's log and the numbered source.
class NvrtcError : public CompileError {
 public:
  using CompileError::CompileError;
};

/// The NVRTC library found on this machine (libnvrtc.so.13, .12 or libnvrtc.so, through the
/// loader's path or $CUDA_HOME/lib64), or std::nullopt with `why` set to what was tried.
class Nvrtc {
 public:
  static std::optional<Nvrtc> load(std::string* why = nullptr);

  /// NVRTC's version, "13.0".
  std::string version() const;

  /// Compiles `source` to a cubin for `arch` ("sm_90"): the cubin's bytes. Throws NvrtcError
  /// with the log and the source when NVRTC rejects it.
  std::string compile_cubin(const std::string& source, const std::string& arch,
                            const std::string& name = "kiln.cu") const;

  struct Api;

 private:
  explicit Nvrtc(const Api* api) : api_(api) {}
  const Api* api_;
};

}  // namespace kiln::cuda

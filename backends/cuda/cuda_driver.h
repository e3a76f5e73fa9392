// The CUDA driver API, loaded at run time (libcuda.so.1): a device's primary context, modules
// from cubins, device memory, launches. What runs Kiln's CUDA kernels outside PyTorch (the GPU
// check, tests/cuda/gpu_check.cpp); the plugin will launch on PyTorch's stream instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backends/cuda/cuda_source.h"
#include "core/support/error.h"

namespace kiln::cuda {

/// A failed driver call: names the call and the driver's message.
class CudaError : public Error {
 public:
  using Error::Error;
};

struct DriverApi;  // the driver's entry points (cuda_driver.cpp)

/// Device memory, freed with the object.
class DeviceBuffer {
 public:
  DeviceBuffer(const DriverApi* api, uint64_t ptr, size_t bytes)
      : api_(api), ptr_(ptr), bytes_(bytes) {}
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer();

  uint64_t ptr() const { return ptr_; }
  size_t bytes() const { return bytes_; }
  void upload(const void* host, size_t bytes);
  void download(void* host, size_t bytes) const;

 private:
  const DriverApi* api_;
  uint64_t ptr_;
  size_t bytes_;
};

/// Device 0 through the driver API, current on the calling thread.
class CudaDevice {
 public:
  /// std::nullopt, with `why` set, where libcuda.so.1 or a device is missing.
  static std::optional<CudaDevice> open(std::string* why = nullptr);

  std::string name() const;
  /// "sm_90" for compute capability 9.0.
  std::string arch() const;

  DeviceBuffer allocate(size_t bytes) const;

  /// Loads `cubin` (compiled from `module.source`) and runs its kernels in order with `args`
  /// (device pointers: the function's parameters, then its workspace), then waits for them.
  void run(const CudaModule& module, const std::string& cubin,
           const std::vector<uint64_t>& args) const;

 private:
  CudaDevice(const DriverApi* api, int device) : api_(api), device_(device) {}
  const DriverApi* api_;
  int device_;
};

}  // namespace kiln::cuda

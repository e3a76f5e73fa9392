#include "backends/cuda/cuda_driver.h"

#include <dlfcn.h>

#include <utility>

#include "backends/cuda/dynamic_symbols.h"

namespace kiln::cuda {

// The driver API's C entry points, declared here so that Kiln needs no CUDA header to build.
using CUresult = int;
using CUdevice = int;
using CUcontext = struct CUctx_st*;
using CUmodule = struct CUmod_st*;
using CUfunction = struct CUfunc_st*;
using CUdeviceptr = unsigned long long;

constexpr int kComputeCapabilityMajor = 75;  // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
constexpr int kComputeCapabilityMinor = 76;

struct DriverApi {
  CUresult (*GetErrorString)(CUresult, const char**);
  CUresult (*Init)(unsigned);
  CUresult (*DeviceGetCount)(int*);
  CUresult (*DeviceGet)(CUdevice*, int);
  CUresult (*DeviceGetName)(char*, int, CUdevice);
  CUresult (*DeviceGetAttribute)(int*, int, CUdevice);
  CUresult (*DevicePrimaryCtxRetain)(CUcontext*, CUdevice);
  CUresult (*CtxSetCurrent)(CUcontext);
  CUresult (*CtxSynchronize)();
  CUresult (*ModuleLoadData)(CUmodule*, const void*);
  CUresult (*ModuleUnload)(CUmodule);
  CUresult (*ModuleGetFunction)(CUfunction*, CUmodule, const char*);
  CUresult (*MemAlloc)(CUdeviceptr*, size_t);
  CUresult (*MemFree)(CUdeviceptr);
  CUresult (*MemcpyHtoD)(CUdeviceptr, const void*, size_t);
  CUresult (*MemcpyDtoH)(void*, CUdeviceptr, size_t);
  CUresult (*LaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                           unsigned, void*, void**, void**);

  /// Throws CudaError naming `call` unless `r` is CUDA_SUCCESS.
  void check(CUresult r, const char* call) const {
    if (r == 0) return;
    const char* message = nullptr;
    GetErrorString(r, &message);
    throw CudaError(str_cat(call, " failed: ", message ? message : "unknown error", " (", r, ")"));
  }
};

namespace {

const DriverApi* open_driver(std::string* why) {
  void* h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    *why = str_cat("libcuda.so.1 was not found (no NVIDIA driver): ", dlerror());
    return nullptr;
  }
  static DriverApi api{};
  bool ok = bind_symbol(h, "cuGetErrorString", api.GetErrorString) &&
            bind_symbol(h, "cuInit", api.Init) &&
            bind_symbol(h, "cuDeviceGetCount", api.DeviceGetCount) &&
            bind_symbol(h, "cuDeviceGet", api.DeviceGet) &&
            bind_symbol(h, "cuDeviceGetName", api.DeviceGetName) &&
            bind_symbol(h, "cuDeviceGetAttribute", api.DeviceGetAttribute) &&
            bind_symbol(h, "cuDevicePrimaryCtxRetain", api.DevicePrimaryCtxRetain) &&
            bind_symbol(h, "cuCtxSetCurrent", api.CtxSetCurrent) &&
            bind_symbol(h, "cuCtxSynchronize", api.CtxSynchronize) &&
            bind_symbol(h, "cuModuleLoadData", api.ModuleLoadData) &&
            bind_symbol(h, "cuModuleUnload", api.ModuleUnload) &&
            bind_symbol(h, "cuModuleGetFunction", api.ModuleGetFunction) &&
            bind_symbol(h, "cuMemAlloc_v2", api.MemAlloc) &&
            bind_symbol(h, "cuMemFree_v2", api.MemFree) &&
            bind_symbol(h, "cuMemcpyHtoD_v2", api.MemcpyHtoD) &&
            bind_symbol(h, "cuMemcpyDtoH_v2", api.MemcpyDtoH) &&
            bind_symbol(h, "cuLaunchKernel", api.LaunchKernel);
  if (!ok) {
    *why = "libcuda.so.1 lacks a driver API entry point Kiln uses";
    return nullptr;
  }
  return &api;
}

/// The driver's entry points, opened once per process (the library stays loaded); nullptr with
/// `why` set where it is missing.
const DriverApi* load_driver(std::string* why) {
  struct Loaded {
    const DriverApi* api;
    std::string why;
  };
  static const Loaded loaded = []() -> Loaded {
    std::string reason;
    const DriverApi* api = open_driver(&reason);
    return {api, reason};
  }();
  if (!loaded.api) *why = loaded.why;
  return loaded.api;
}

}  // namespace

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : api_(other.api_), ptr_(std::exchange(other.ptr_, 0)), bytes_(other.bytes_) {}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) api_->MemFree(ptr_);
}

void DeviceBuffer::upload(const void* host, size_t bytes) {
  KILN_CHECK(bytes <= bytes_, "an upload larger than its buffer");
  api_->check(api_->MemcpyHtoD(ptr_, host, bytes), "cuMemcpyHtoD");
}

void DeviceBuffer::download(void* host, size_t bytes) const {
  KILN_CHECK(bytes <= bytes_, "a download larger than its buffer");
  api_->check(api_->MemcpyDtoH(host, ptr_, bytes), "cuMemcpyDtoH");
}

std::optional<CudaDevice> CudaDevice::open(std::string* why) {
  std::string reason;
  const DriverApi* api = load_driver(&reason);
  int count = 0;
  if (api && (api->Init(0) != 0 || api->DeviceGetCount(&count) != 0 || count == 0)) {
    reason = "the NVIDIA driver reports no usable GPU";
    api = nullptr;
  }
  if (!api) {
    if (why) *why = reason;
    return std::nullopt;
  }
  CUdevice device = 0;
  api->check(api->DeviceGet(&device, 0), "cuDeviceGet");
  CUcontext context = nullptr;
  api->check(api->DevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
  api->check(api->CtxSetCurrent(context), "cuCtxSetCurrent");
  return CudaDevice(api, device);
}

std::string CudaDevice::name() const {
  char name[256] = {};
  api_->check(api_->DeviceGetName(name, sizeof(name), device_), "cuDeviceGetName");
  return name;
}

std::string CudaDevice::arch() const {
  int major = 0, minor = 0;
  api_->check(api_->DeviceGetAttribute(&major, kComputeCapabilityMajor, device_),
              "cuDeviceGetAttribute");
  api_->check(api_->DeviceGetAttribute(&minor, kComputeCapabilityMinor, device_),
              "cuDeviceGetAttribute");
  return str_cat("sm_", major, minor);
}

DeviceBuffer CudaDevice::allocate(size_t bytes) const {
  CUdeviceptr ptr = 0;
  api_->check(api_->MemAlloc(&ptr, bytes ? bytes : 1), "cuMemAlloc");
  return DeviceBuffer(api_, ptr, bytes);
}

void CudaDevice::run(const CudaModule& module, const std::string& cubin,
                     const std::vector<uint64_t>& args) const {
  CUmodule loaded = nullptr;
  api_->check(api_->ModuleLoadData(&loaded, cubin.data()), "cuModuleLoadData");
  struct Unload {
    const DriverApi* api;
    CUmodule m;
    ~Unload() { api->ModuleUnload(m); }
  } unload{api_, loaded};
  std::vector<uint64_t> values = args;
  std::vector<void*> params;
  for (uint64_t& v : values) params.push_back(&v);
  for (const CudaKernel& k : module.kernels) {
    CUfunction fn = nullptr;
    api_->check(api_->ModuleGetFunction(&fn, loaded, k.name.c_str()), "cuModuleGetFunction");
    api_->check(
        api_->LaunchKernel(fn, static_cast<unsigned>(k.grid[0]), static_cast<unsigned>(k.grid[1]),
                           static_cast<unsigned>(k.grid[2]), static_cast<unsigned>(k.block[0]),
                           static_cast<unsigned>(k.block[1]), static_cast<unsigned>(k.block[2]), 0,
                           nullptr, params.data(), nullptr),
        str_cat("cuLaunchKernel(", k.name, ")").c_str());
  }
  api_->check(api_->CtxSynchronize(), "cuCtxSynchronize");
}

}  // namespace kiln::cuda

#include "backends/cuda/nvrtc.h"

#include <dlfcn.h>

#include <cstdlib>
#include <sstream>
#include <vector>

#include "backends/cuda/dynamic_symbols.h"

namespace kiln::cuda {

// NVRTC's C API, declared here so that Kiln needs no CUDA header to build.
using nvrtcResult = int;
using nvrtcProgram = struct _nvrtcProgram*;

struct Nvrtc::Api {
  const char* (*GetErrorString)(nvrtcResult);
  nvrtcResult (*Version)(int*, int*);
  nvrtcResult (*CreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*,
                               const char* const*);
  nvrtcResult (*DestroyProgram)(nvrtcProgram*);
  nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char* const*);
  nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetProgramLog)(nvrtcProgram, char*);
  nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetCUBIN)(nvrtcProgram, char*);
};

namespace {

void* open_library(std::string* tried) {
  std::vector<std::string> names = {"libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"};
  for (const char* home : {std::getenv("CUDA_HOME"), std::getenv("CUDA_PATH")})
    if (home && *home)
      for (const char* lib : {"/lib64/libnvrtc.so", "/lib/libnvrtc.so"})
        names.push_back(std::string(home) + lib);
  names.push_back("/usr/local/cuda/lib64/libnvrtc.so");
  for (const std::string& name : names) {
    if (void* handle = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL)) return handle;
    *tried += (tried->empty() ? "" : ", ") + name;
  }
  return nullptr;
}

std::string numbered(const std::string& source) {
  std::istringstream in(source);
  std::ostringstream out;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) out << n << ": " << line << "\n";
  return out.str();
}

}  // namespace

std::optional<Nvrtc> Nvrtc::load(std::string* why) {
  // Once per process: the library stays loaded, and every caller hears why it is missing.
  struct Loaded {
    std::optional<Api> api;
    std::string why;
  };
  static const Loaded loaded = []() -> Loaded {
    std::string tried;
    void* h = open_library(&tried);
    if (!h) return {std::nullopt, "no NVRTC library found (tried " + tried + ")"};
    Api a{};
    bool ok = bind_symbol(h, "nvrtcGetErrorString", a.GetErrorString) &&
              bind_symbol(h, "nvrtcVersion", a.Version) &&
              bind_symbol(h, "nvrtcCreateProgram", a.CreateProgram) &&
              bind_symbol(h, "nvrtcDestroyProgram", a.DestroyProgram) &&
              bind_symbol(h, "nvrtcCompileProgram", a.CompileProgram) &&
              bind_symbol(h, "nvrtcGetProgramLogSize", a.GetProgramLogSize) &&
              bind_symbol(h, "nvrtcGetProgramLog", a.GetProgramLog) &&
              bind_symbol(h, "nvrtcGetCUBINSize", a.GetCUBINSize) &&
              bind_symbol(h, "nvrtcGetCUBIN", a.GetCUBIN);
    if (!ok)
      return {std::nullopt,
              "the NVRTC library lacks nvrtcGetCUBIN and friends (CUDA 11.1 or later)"};
    return {a, ""};
  }();
  if (!loaded.api) {
    if (why) *why = loaded.why;
    return std::nullopt;
  }
  return Nvrtc(&*loaded.api);
}

std::string Nvrtc::version() const {
  int major = 0, minor = 0;
  api_->Version(&major, &minor);
  return str_cat(major, ".", minor);
}

std::string Nvrtc::compile_cubin(const std::string& source, const std::string& arch,
                                 const std::string& name) const {
  nvrtcProgram program = nullptr;
  if (nvrtcResult r =
          api_->CreateProgram(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr))
    throw NvrtcError(str_cat("NVRTC could not create a program: ", api_->GetErrorString(r)));
  struct Destroy {
    const Api* api;
    nvrtcProgram* p;
    ~Destroy() { api->DestroyProgram(p); }
  } destroy{api_, &program};
  std::string arch_option = "--gpu-architecture=" + arch;
  const char* options[] = {arch_option.c_str(), "--std=c++17", "-default-device"};
  nvrtcResult compiled = api_->CompileProgram(program, 3, options);
  size_t log_size = 0;
  api_->GetProgramLogSize(program, &log_size);
  std::string log(log_size, '\0');
  if (log_size) api_->GetProgramLog(program, log.data());
  while (!log.empty() && log.back() == '\0') log.pop_back();  // the size counts the terminator
  if (compiled)
    throw NvrtcError(str_cat("NVRTC failed to compile ", name, " for ", arch, ": ",
                             api_->GetErrorString(compiled), "\n", log, "\nthe source:\n",
                             numbered(source)));
  size_t size = 0;
  if (nvrtcResult r = api_->GetCUBINSize(program, &size))
    throw NvrtcError(str_cat("NVRTC gave no cubin for ", arch, " (", api_->GetErrorString(r),
                             "; a virtual architecture such as compute_90 gives PTX only)"));
  std::string cubin(size, '\0');
  api_->GetCUBIN(program, cubin.data());
  return cubin;
}

}  // namespace kiln::cuda
